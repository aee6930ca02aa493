//! The waterfall: one line per span, indented by depth, with a bar on the trace's time axis.
//!
//! Like the tree, it reads text a network client chose: the span order comes from the same
//! cycle-safe `Shape`, every string is escaped, and every line is cut to the width asked for, so
//! a trace costs output linear in its spans whatever its ids, names or times say.

use std::fmt::Write as _;

use colored::Colorize;

use super::ReceivedSpan;
use super::render::{Note, Shape, escape};

/// Narrower widths are drawn at this width (the terminal wraps the lines): below it the name
/// column and the time axis would both be too short to read.
pub const MIN_WIDTH: usize = 40;
/// Wider widths are drawn at this width, so one line's cost stays bounded.
pub const MAX_WIDTH: usize = 1000;
/// Spans drawn per trace; the rest are counted in a closing note. A waterfall of more lines than
/// this is scrolled past, not read.
pub const MAX_SPANS_DRAWN: usize = 1000;
/// Attributes shown per span on `-v`.
const MAX_ATTRIBUTES: usize = 32;
/// The duration column: the longest text [`duration`] writes.
const DURATION_COLUMNS: usize = 8;
/// Client-chosen texts are escaped and cut to this many characters before they are fitted.
const MAX_TEXT_CHARS: usize = 1000;
/// The service named in the header is cut to this many characters, so the counts stay in view.
const MAX_NAME_CHARS: usize = 40;

/// How to draw: the line width in columns and whether to list attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub width: usize,
    pub verbose: bool,
}

/// Terminal columns a character takes: 2 for the wide East Asian and emoji blocks, 1 otherwise.
/// Errs on the wide side, so a line may end short of the width but never past it: whole blocks
/// count as wide where Unicode's EastAsianWidth.txt marks some of their characters "W" (the
/// emoji-presentation symbols of 2300..27BF and 2B00..2BFF among them).
fn columns_of(c: char) -> usize {
    match c as u32 {
        0x1100..=0x115f
        | 0x2300..=0x23ff
        | 0x25a0..=0x27bf
        | 0x2b00..=0x2bff
        | 0x2e80..=0xa4cf
        | 0xa960..=0xa97f
        | 0xfe10..=0xfe1f
        | 0xfe50..=0xfe6f
        | 0x16fe0..=0x18fff
        | 0x1aff0..=0x1b2ff
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f000..=0x1faff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

/// Terminal columns `text` takes (text without colour codes).
pub fn columns(text: &str) -> usize {
    text.chars().map(columns_of).sum()
}

/// `text` cut to at most `max` columns, an ellipsis marking a cut; and the columns it takes.
fn fit(text: &str, max: usize) -> (String, usize) {
    let total = columns(text);
    if total <= max {
        return (text.to_string(), total);
    }
    if max == 0 {
        return (String::new(), 0);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = columns_of(c);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    (out, used + 1)
}

/// A duration in at most `DURATION_COLUMNS` columns, whatever its size.
pub fn duration(nanos: u64) -> String {
    const US: u64 = 1_000;
    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;
    match nanos {
        n if n < US => format!("{n}ns"),
        n if n < MS => format!("{:.1}µs", n as f64 / US as f64),
        n if n < S => format!("{:.1}ms", n as f64 / MS as f64),
        n if n < 60 * S => format!("{:.2}s", n as f64 / S as f64),
        n if n < 3600 * S => format!("{}m{:02}s", n / (60 * S), n / S % 60),
        n if n < 100 * 3600 * S => format!("{}h{:02}m", n / (3600 * S), n / (60 * S) % 60),
        n => format!("{}h", n / (3600 * S)),
    }
}

/// The columns of the name, the bar and the duration for a line `width` wide.
struct Layout {
    width: usize,
    label: usize,
    bar: usize,
}

impl Layout {
    fn of(width: usize) -> Self {
        let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
        let label = width * 2 / 5;
        // label, a space, the bar, a space, the duration.
        let bar = width - label - 2 - DURATION_COLUMNS;
        Layout { width, label, bar }
    }
}

/// Spans in drawing order (parents before children, siblings by start) with their depth, at
/// most `limit` of them; each span at most once.
fn order(spans: &[ReceivedSpan], shape: &Shape, limit: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(spans.len().min(limit));
    let mut drawn = vec![false; spans.len()];
    let mut stack: Vec<(usize, usize)> = shape.roots.iter().rev().map(|i| (*i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if out.len() == limit {
            break;
        }
        if std::mem::replace(&mut drawn[i], true) {
            continue;
        }
        out.push((i, depth));
        stack.extend(
            shape.children[i]
                .iter()
                .rev()
                .filter(|c| !drawn[**c])
                .map(|c| (*c, depth + 1)),
        );
    }
    out
}

/// The bar's first column and its end (exclusive) on an axis of `columns` from `start` to `end`.
/// Always at least one column, always inside the axis.
fn bar_columns(span: &ReceivedSpan, start: u64, end: u64, columns: usize) -> (usize, usize) {
    let total = u128::from(end - start);
    if total == 0 {
        return (0, 1);
    }
    let cols = columns as u128;
    // Within the axis by construction; saturating all the same, as the times are a client's.
    let span_end = span.end_unix_nano.max(span.start_unix_nano);
    let from = u128::from(span.start_unix_nano.saturating_sub(start)) * cols / total;
    let to = (u128::from(span_end.saturating_sub(start)) * cols).div_ceil(total);
    let from = (from as usize).min(columns - 1);
    let to = (to as usize).clamp(from + 1, columns);
    (from, to)
}

fn note_text(span: &ReceivedSpan, note: Note) -> Option<String> {
    match note {
        Note::None => None,
        Note::ParentMissing => Some(format!(
            " (parent {} not received)",
            escape(span.parent_id.as_deref().unwrap_or(""), 32)
        )),
        Note::Cycle => Some(" (parent chain loops back here)".to_string()),
        Note::DuplicateId => Some(format!(
            " (span id {} used twice)",
            escape(&span.span_id, 32)
        )),
    }
}

/// One span's line: indentation, `[service]` when it is not the trace's, name and note in the
/// name column; the bar; the duration.
fn span_line(
    span: &ReceivedSpan,
    depth: usize,
    note: Note,
    trace_service: &str,
    axis: (u64, u64),
    layout: &Layout,
) -> String {
    // Indentation takes at most half the name column, so a deep chain still shows names.
    let indent = (depth * 2).min(layout.label / 2);
    let mut out = " ".repeat(indent);
    let mut room = layout.label - indent;
    if span.service != trace_service {
        let (service, used) = fit(
            &format!("[{}] ", escape(&span.service, MAX_TEXT_CHARS)),
            room,
        );
        out.push_str(&service);
        room -= used;
    }
    let (name, used) = fit(&escape(&span.name, MAX_TEXT_CHARS), room);
    room -= used;
    out.push_str(&if span.error {
        name.red().bold().to_string()
    } else {
        name
    });
    if let Some(note) = note_text(span, note) {
        let (note, used) = fit(&note, room);
        room -= used;
        out.push_str(&note.yellow().to_string());
    }
    out.push_str(&" ".repeat(room + 1));
    let (from, to) = bar_columns(span, axis.0, axis.1, layout.bar);
    let glyph = if span.end_unix_nano <= span.start_unix_nano {
        "│"
    } else {
        "█"
    };
    let bar = glyph.repeat(to - from);
    out.push_str(&" ".repeat(from));
    out.push_str(&if span.error {
        bar.red().to_string()
    } else {
        bar.cyan().to_string()
    });
    out.push_str(&" ".repeat(layout.bar - to + 1));
    let _ = write!(
        out,
        "{:>width$}",
        duration(span.end_unix_nano.saturating_sub(span.start_unix_nano)),
        width = DURATION_COLUMNS
    );
    out
}

/// `-v`: the status message and attributes of a span, one per line under it, each cut to the width.
fn detail_lines(span: &ReceivedSpan, depth: usize, layout: &Layout, out: &mut String) {
    let indent = (depth * 2).min(layout.label / 2) + 2;
    let room = layout.width - indent;
    let mut emit = |text: String, error: bool| {
        let (text, _) = fit(&text, room);
        let text = if error {
            text.red().to_string()
        } else {
            text.dimmed().to_string()
        };
        let _ = writeln!(out, "{}{text}", " ".repeat(indent));
    };
    if span.error {
        let message = span.status_message.as_deref().unwrap_or("error");
        emit(format!("ERROR {}", escape(message, MAX_TEXT_CHARS)), true);
    }
    for (key, value) in span.attributes.iter().take(MAX_ATTRIBUTES) {
        let value = match value {
            serde_json::Value::String(s) => escape(s, MAX_TEXT_CHARS),
            other => escape(&other.to_string(), MAX_TEXT_CHARS),
        };
        emit(format!("{}={value}", escape(key, MAX_TEXT_CHARS)), false);
    }
    if span.attributes.len() > MAX_ATTRIBUTES {
        emit(
            format!(
                "… {} more attributes",
                span.attributes.len() - MAX_ATTRIBUTES
            ),
            false,
        );
    }
}

/// One trace as a waterfall of at most `style.width` columns per line (never less than
/// [`MIN_WIDTH`]): a header, an axis line, then one line per span in tree order. The time axis
/// runs from the earliest start to the latest end of any span, so a child that started before its
/// parent (clock skew between hosts) is drawn inside it too. Past [`MAX_SPANS_DRAWN`] spans a
/// note says how many were left out.
pub fn waterfall(spans: &[ReceivedSpan], style: Style) -> String {
    let Some(first_span) = spans.first() else {
        return String::new();
    };
    let layout = Layout::of(style.width);
    let shape = Shape::of(spans);
    let first = shape.roots.first().map_or(first_span, |i| &spans[*i]);
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans
        .iter()
        .map(|s| s.end_unix_nano.max(s.start_unix_nano))
        .max()
        .unwrap_or(0);
    let errors = spans.iter().filter(|s| s.error).count();
    // The counts before the trace id: on a narrow line the id is what gets cut.
    let header = format!(
        "{}  {} span{}  {}{}  trace {}",
        escape(&first.service, MAX_NAME_CHARS),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        duration(end - start),
        if errors > 0 {
            format!("  {errors} error(s)")
        } else {
            String::new()
        },
        escape(&first.trace_id, 64),
    );
    // The bullet is East Asian "ambiguous": two columns on some terminals.
    let (header, _) = fit(&header, layout.width - columns("●") - 1);
    let mut out = format!("{} {header}\n", "●".cyan());
    let total = duration(end - start);
    let _ = writeln!(
        out,
        "{}{}",
        " ".repeat(layout.label + 1),
        format!("0{total:>width$}", width = layout.bar - 1).dimmed()
    );
    let drawn = order(spans, &shape, MAX_SPANS_DRAWN);
    for &(i, depth) in &drawn {
        let span = &spans[i];
        out.push_str(&span_line(
            span,
            depth,
            shape.notes[i],
            &first.service,
            (start, end),
            &layout,
        ));
        out.push('\n');
        if style.verbose {
            detail_lines(span, depth, &layout, &mut out);
        }
    }
    if drawn.len() < spans.len() {
        let note = format!(
            "… {} more spans not drawn; --view tree or --format json shows every span",
            spans.len() - drawn.len()
        );
        let (note, _) = fit(&note, layout.width);
        let _ = writeln!(out, "{}", note.yellow());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn span(
        id: &str,
        parent: Option<&str>,
        name: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_id: parent.map(str::to_string),
            service: "api".into(),
            name: name.into(),
            kind: "internal",
            start_unix_nano: start_ms * MS,
            end_unix_nano: end_ms * MS,
            error: false,
            status_message: None,
            attributes: serde_json::Map::new(),
            source: "otlp",
        }
    }

    fn plain(spans: &[ReceivedSpan], width: usize, verbose: bool) -> String {
        colored::control::set_override(false);
        waterfall(spans, Style { width, verbose })
    }

    #[test]
    fn a_small_trace_at_sixty_columns() {
        let mut db = span("c", Some("b"), "SELECT users", 20, 30);
        db.service = "db".into();
        let mut fail = span("d", Some("a"), "render", 50, 100);
        fail.error = true;
        fail.status_message = Some("template missing".into());
        let spans = vec![
            fail,
            span("a", None, "GET /users", 0, 100),
            span("b", Some("a"), "load", 10, 40),
            db,
        ];
        // 60 columns: a name column of 24, a space, a bar of 26 for 100 ms, a space, 8 for the
        // duration. "load" runs 10..40 ms: columns 2.6..10.4 of the bar, drawn 2..11; the query
        // 20..30 ms: 5.2..7.8, drawn 5..8; "render" 50..100 ms: 13..26.
        let expected = "\
● api  4 spans  100.0ms  1 error(s)  trace t
                         0                  100.0ms
GET /users               ██████████████████████████  100.0ms
  load                     █████████                  30.0ms
    [db] SELECT users         ███                     10.0ms
  render                              █████████████   50.0ms
";
        assert_eq!(plain(&spans, 60, false), expected);
        let verbose = plain(&spans, 60, true);
        assert!(
            verbose.contains("render                              █████████████   50.0ms\n    ERROR template missing\n"),
            "{verbose}"
        );
    }

    #[test]
    fn a_child_that_starts_before_its_parent_stretches_the_axis() {
        // Axis 50..200 ms on 14 columns: the parent (100..200) is 4.67..14, drawn 4..14; the
        // child (50..150) 0..9.33, drawn 0..10.
        // The child's host clock runs 50 ms behind: it seems to start before its parent.
        let spans = vec![
            span("a", None, "parent", 100, 200),
            span("b", Some("a"), "skewed", 50, 150),
        ];
        let text = plain(&spans, 40, false);
        let expected = "\
● api  2 spans  150.0ms  trace t
                 0      150.0ms
parent               ██████████  100.0ms
  skewed         ██████████      100.0ms
";
        assert_eq!(text, expected);
    }

    #[test]
    fn zero_length_and_huge_durations_fit_their_columns() {
        let mut instant = span("b", Some("a"), "instant", 0, 0);
        instant.start_unix_nano = 5;
        instant.end_unix_nano = 5;
        let mut forever = span("a", None, "forever", 0, 0);
        forever.end_unix_nano = u64::MAX;
        let text = plain(&[forever, instant], 40, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].ends_with("█ 5124095h"), "{text}");
        // A bar of one column, then 13 empty ones, a space and the duration column.
        assert!(
            lines[3].ends_with(&format!("│{}0ns", " ".repeat(13 + 1 + 5))),
            "{text}"
        );
        assert_eq!(duration(999), "999ns");
        assert_eq!(duration(1_500), "1.5µs");
        assert_eq!(duration(59 * 60 * 1_000_000_000 + 7_000_000_000), "59m07s");
        assert_eq!(duration(3 * 3600 * 1_000_000_000 + 60_000_000_000), "3h01m");
        // A trace of zero length: every bar is the first column.
        let text = plain(
            &[span("a", None, "x", 7, 7), span("b", Some("a"), "y", 7, 7)],
            40,
            false,
        );
        let first = format!("\nx{}│{}0ns\n", " ".repeat(15 + 1), " ".repeat(13 + 1 + 5));
        assert!(text.contains(&first), "{text}");
    }

    #[test]
    fn very_long_traces_stop_at_the_cap_with_a_note() {
        let n = 20_000;
        let spans: Vec<ReceivedSpan> = std::iter::once(span("root", None, "root", 0, n))
            .chain((0..n).map(|i| {
                let parent = if i == 0 {
                    "root".to_string()
                } else {
                    format!("{:x}", i - 1)
                };
                span(&format!("{i:x}"), Some(&parent), "x", i, i + 1)
            }))
            .collect();
        let started = std::time::Instant::now();
        let text = plain(&spans, 80, true);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            2 + MAX_SPANS_DRAWN + 1,
            "header, axis, spans, note"
        );
        assert_eq!(
            lines.last().unwrap(),
            &"… 19001 more spans not drawn; --view tree or --format json shows every span"
        );
    }

    #[test]
    fn a_hundred_thousand_spans_of_any_shape_draw_in_bounded_time_and_lines() {
        let n: u64 = 100_000;
        let timed = |mut s: ReceivedSpan, start: u64, end: u64| {
            s.start_unix_nano = start;
            s.end_unix_nano = end;
            s
        };
        // A chain as deep as the trace, siblings that all share one id, and a ring of parents.
        let chain: Vec<ReceivedSpan> = (0..n)
            .map(|i| {
                let parent = (i > 0).then(|| format!("{:x}", i - 1));
                timed(
                    span(&format!("{i:x}"), parent.as_deref(), "c", 0, 0),
                    i,
                    u64::MAX - i,
                )
            })
            .collect();
        let same_id: Vec<ReceivedSpan> = (0..n)
            .map(|i| timed(span("dup", Some("dup"), "d", 0, 0), u64::MAX - i, i))
            .collect();
        let ring: Vec<ReceivedSpan> = (0..n)
            .map(|i| {
                span(
                    &format!("{i:x}"),
                    Some(&format!("{:x}", (i + 1) % n)),
                    "r",
                    i,
                    i,
                )
            })
            .collect();
        for spans in [chain, same_id, ring] {
            let started = std::time::Instant::now();
            let text = plain(&spans, 120, true);
            let took = started.elapsed();
            assert!(took < std::time::Duration::from_secs(5), "{took:?}");
            let lines: Vec<&str> = text.lines().collect();
            assert!(lines.len() <= 2 + MAX_SPANS_DRAWN + 1, "{}", lines.len());
            assert!(text.len() < 2 * 1024 * 1024, "{}", text.len());
            for line in &lines {
                assert!(columns(line) <= 120, "{line}");
            }
        }
    }

    #[test]
    fn narrow_terminals_get_the_minimum_width_and_wide_text_is_cut() {
        let mut s = span("a", None, &"日本".repeat(40), 0, 10);
        s.attributes.insert("k".into(), "v".repeat(500).into());
        let text = plain(&[s], 10, true);
        for line in text.lines() {
            assert!(columns(line) <= MIN_WIDTH, "{line}");
        }
        // 16 columns of name (seven wide characters and the ellipsis: 15), padding, separator.
        assert!(text.contains("\n日本日本日本日…  █"), "{text}");
        assert_eq!(Layout::of(5000).width, MAX_WIDTH);
    }

    #[test]
    fn wide_symbols_outside_the_cjk_blocks_keep_lines_within_the_width() {
        // East Asian Width "W" per Unicode's EastAsianWidth.txt, outside the CJK blocks: watch,
        // hourglass, high voltage, check mark, star, sparkles, cross mark, Hangul Jamo Extended-A,
        // a vertical form, a small form variant, Tangut, Katakana Supplement.
        const WIDE: &[char] = &[
            '\u{231a}',
            '\u{23f3}',
            '\u{26a1}',
            '\u{2705}',
            '\u{2b50}',
            '\u{2728}',
            '\u{274c}',
            '\u{a960}',
            '\u{fe10}',
            '\u{fe50}',
            '\u{17000}',
            '\u{1b000}',
        ];
        let oracle = |line: &str| -> usize {
            line.chars()
                .map(|c| if WIDE.contains(&c) { 2 } else { 1 })
                .sum()
        };
        for c in WIDE {
            let name: String = std::iter::repeat_n(*c, 100).collect();
            let mut s = span("a", None, &name, 0, 10);
            s.attributes.insert("k".into(), name.clone().into());
            for width in [40, 61, 80] {
                let text = plain(&[s.clone()], width, true);
                for line in text.lines() {
                    assert!(
                        oracle(line) <= width,
                        "U+{:04X} at {width}: {line}",
                        *c as u32
                    );
                }
            }
        }
    }

    #[test]
    fn client_text_is_escaped_in_names_notes_and_attributes() {
        let mut s = span("a", Some("\u{1b}[2J"), "\u{1b}]0;x\u{7}", 0, 10);
        s.service = "\u{202e}svc".into();
        s.attributes.insert("k\u{9b}".into(), "v\u{1b}".into());
        s.error = true;
        s.status_message = Some("m\u{7}".into());
        let text = plain(&[s.clone(), span("b", Some("a"), "c", 0, 1)], 200, true);
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && super::super::render::is_unsafe(c)),
            "{text:?}"
        );
        assert!(
            text.contains("\\x1b]0;x\\x07 (parent \\x1b[2J not received)"),
            "{text}"
        );
        assert!(text.contains("k\\x9b=v\\x1b"), "{text}");
    }

    #[test]
    fn errors_are_red_only_when_colour_is_on() {
        let mut bad = span("b", Some("a"), "bad", 0, 10);
        bad.error = true;
        let spans = [span("a", None, "ok", 0, 10), bad];
        colored::control::set_override(true);
        let text = waterfall(
            &spans,
            Style {
                width: 40,
                verbose: false,
            },
        );
        colored::control::set_override(false);
        // SGR 31 is red: the name (bold too) and the bar of the failed span, nothing of the other.
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[3].contains("\u{1b}[1;31mbad\u{1b}[0m"), "{text:?}");
        assert!(
            lines[3].contains(&format!("\u{1b}[31m{}\u{1b}[0m", "█".repeat(14))),
            "{text:?}"
        );
        assert!(!lines[2].contains("[31m"), "{text:?}");
        let plain = plain(&spans, 40, false);
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
    }

    proptest::proptest! {
        /// Whatever ids, times and width: each span on exactly one line, no line wider than the
        /// width (or the minimum), every bar inside the axis.
        #[test]
        fn every_span_once_within_the_width_and_the_axis(
            links in proptest::collection::vec(
                (0u8..12, proptest::option::of(0u8..14), 0u64..1_000_000_000_000, 0u64..u64::MAX / 4),
                1..60,
            ),
            width in 0usize..300,
            verbose: bool,
            value in "\\PC{0,300}",
        ) {
            let spans: Vec<ReceivedSpan> = links
                .iter()
                .enumerate()
                .map(|(n, (id, parent, start, length))| {
                    let parent = parent.map(|p| p.to_string());
                    let mut s = span(&id.to_string(), parent.as_deref(), &format!("s{n}."), 0, 0);
                    s.start_unix_nano = *start;
                    s.end_unix_nano = start.saturating_add(*length);
                    if n % 3 == 0 {
                        s.attributes.insert("k".into(), value.clone().into());
                        s.error = true;
                        s.status_message = Some(value.clone());
                    }
                    s
                })
                .collect();
            let text = plain(&spans, width, verbose);
            let expected_width = width.clamp(MIN_WIDTH, MAX_WIDTH);
            let label = expected_width * 2 / 5;
            let all: Vec<&str> = text.lines().collect();
            for line in &all {
                proptest::prop_assert!(columns(line) <= expected_width, "{:?}", line);
            }
            // -v adds detail lines under a span: its error message and attributes.
            let detail = |l: &str| {
                let l = l.trim_start();
                l.starts_with("ERROR ") || l.starts_with("k=")
            };
            let lines: Vec<&str> = all[..2]
                .iter()
                .chain(all[2..].iter().filter(|l| !detail(l)))
                .copied()
                .collect();
            proptest::prop_assert_eq!(lines.len(), spans.len() + 2, "{}", text);
            for n in 0..spans.len() {
                let name = format!("s{n}.");
                let count = lines.iter().filter(|l| l.split_whitespace().next() == Some(name.as_str())).count();
                proptest::prop_assert_eq!(count, 1, "{} in {}", name, text);
            }
            for line in &lines {
                proptest::prop_assert!(line.chars().count() <= expected_width, "{:?}", line);
            }
            for line in &lines[2..] {
                let chars: Vec<char> = line.chars().collect();
                let bar: Vec<usize> = (0..chars.len()).filter(|i| matches!(chars[*i], '█' | '│')).collect();
                proptest::prop_assert!(!bar.is_empty(), "{:?}", line);
                proptest::prop_assert!(bar[0] > label, "{:?}", line);
                proptest::prop_assert!(*bar.last().unwrap() < expected_width - DURATION_COLUMNS - 1, "{:?}", line);
                proptest::prop_assert_eq!(bar.last().unwrap() - bar[0] + 1, bar.len(), "one piece: {:?}", line);
            }
        }
    }
}
