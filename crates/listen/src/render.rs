//! Showing received spans: an indented tree per trace, or one JSON object per span.
//!
//! Everything here reads text that any client on the network chose, so the tree is built in time
//! linear in the spans whatever their ids say (duplicates, cycles, missing parents), and every
//! client-chosen string is escaped before it can reach a terminal.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;

use colored::Colorize;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

use super::{ReceivedSpan, decode};
use crate::hex_into;

/// The attributes worth a glance, in this order.
pub(super) const KEY_ATTRIBUTES: &[&str] = &[
    "http.request.method",
    "http.route",
    "url.path",
    "http.response.status_code",
    "db.system",
    "db.query.text",
    "rpc.method",
    "messaging.system",
    "url.full",
];

/// Attribute values are cut to this many characters in a tree line.
const MAX_VALUE_CHARS: usize = 48;
/// Span, service and status texts are cut to this many characters in a tree line.
const MAX_NAME_CHARS: usize = 200;
/// Deeper spans are drawn at this indentation, so a long parent chain costs linear output.
const MAX_INDENT: usize = 32;

/// Whether a character may not be written to a terminal as it is: C0 and C1 controls, DEL (escape
/// sequences, bells, line tricks) and the invisible formatting characters that reorder or hide
/// text (bidi overrides and isolates, zero-width and soft-hyphen characters, tag characters).
pub(super) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` with every unsafe character written as a visible escape (`\x1b`, `\u{202e}`), cut to
/// `max` characters (an ellipsis marks the cut).
pub fn escape(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    out
}

fn short(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => escape(s, MAX_VALUE_CHARS),
        other => escape(&other.to_string(), MAX_VALUE_CHARS),
    }
}

/// Why a span is not drawn under its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Note {
    None,
    /// It names a parent that did not arrive.
    ParentMissing,
    /// Following its parents leads back to itself.
    Cycle,
    /// Another span of the trace has the same id.
    DuplicateId,
}

fn line(span: &ReceivedSpan, trace_service: &str, note: Note) -> String {
    let mut out = String::new();
    if span.service != trace_service {
        let _ = write!(out, "[{}] ", escape(&span.service, MAX_NAME_CHARS));
    }
    let name = escape(&span.name, MAX_NAME_CHARS);
    let name = if span.error {
        name.red().bold().to_string()
    } else {
        name.bold().to_string()
    };
    let _ = write!(
        out,
        "{name}  {}  {:.1} ms",
        span.kind.dimmed(),
        span.duration_ms()
    );
    let has_route = span.attributes.contains_key("http.route");
    let attrs: Vec<String> = KEY_ATTRIBUTES
        .iter()
        .filter(|k| !(has_route && **k == "url.path"))
        .filter_map(|k| span.attributes.get(*k).map(|v| format!("{k}={}", short(v))))
        .take(4)
        .collect();
    if !attrs.is_empty() {
        let _ = write!(out, "  {}", attrs.join(" ").dimmed());
    }
    if span.error {
        let message = span.status_message.as_deref().unwrap_or("error");
        let message = escape(message, MAX_NAME_CHARS);
        let _ = write!(out, "  {}", format!("ERROR {message}").red());
    }
    let note = match note {
        Note::None => None,
        Note::ParentMissing => Some(format!(
            "(parent {} not received)",
            escape(span.parent_id.as_deref().unwrap_or(""), 32)
        )),
        Note::Cycle => Some("(parent chain loops back here)".to_string()),
        Note::DuplicateId => Some(format!(
            "(span id {} used twice)",
            escape(&span.span_id, 32)
        )),
    };
    if let Some(note) = note {
        let _ = write!(out, "  {}", note.yellow());
    }
    out
}

/// Who hangs under whom in one trace, computed once: the first span with an id owns it, later
/// spans with the same id are leaves marked as duplicates.
pub(super) struct Shape {
    pub(super) children: Vec<Vec<usize>>,
    pub(super) roots: Vec<usize>,
    pub(super) notes: Vec<Note>,
}

impl Shape {
    pub(super) fn of(spans: &[ReceivedSpan]) -> Self {
        let mut owner: HashMap<&str, usize> = HashMap::with_capacity(spans.len());
        let mut notes = vec![Note::None; spans.len()];
        for (i, span) in spans.iter().enumerate() {
            match owner.entry(span.span_id.as_str()) {
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
                Entry::Occupied(_) => notes[i] = Note::DuplicateId,
            }
        }
        let by_start = |a: &usize, b: &usize| {
            spans[*a]
                .start_unix_nano
                .cmp(&spans[*b].start_unix_nano)
                .then(a.cmp(b))
        };
        let mut children = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        for (i, span) in spans.iter().enumerate() {
            match span.parent_id.as_deref().map(|p| owner.get(p)) {
                None => roots.push(i),
                Some(None) => {
                    notes[i] = Note::ParentMissing;
                    roots.push(i);
                }
                Some(Some(&parent)) => children[parent].push(i),
            }
        }
        for list in &mut children {
            list.sort_by(by_start);
        }
        roots.sort_by(by_start);
        let mut shape = Shape {
            children,
            roots,
            notes,
        };
        shape.add_cycle_entries(spans, &owner);
        shape
    }

    /// Spans not reachable from a root hang below a parent cycle. For each such span, climb its
    /// parents until one repeats: that span is in the cycle and becomes a root, marked. Every span
    /// climbed through is then reached from it, so each span is climbed at most once.
    fn add_cycle_entries(&mut self, spans: &[ReceivedSpan], owner: &HashMap<&str, usize>) {
        let mut reached = vec![false; spans.len()];
        let mut stack: Vec<usize> = self.roots.clone();
        let reach = |stack: &mut Vec<usize>, reached: &mut Vec<bool>, children: &[Vec<usize>]| {
            while let Some(i) = stack.pop() {
                if !std::mem::replace(&mut reached[i], true) {
                    stack.extend(children[i].iter().copied().filter(|c| !reached[*c]));
                }
            }
        };
        reach(&mut stack, &mut reached, &self.children);
        let mut climbed = vec![false; spans.len()];
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by_key(|i| (spans[*i].start_unix_nano, *i));
        for start in order {
            if reached[start] {
                continue;
            }
            let mut at = start;
            while !climbed[at] {
                climbed[at] = true;
                // Unreached spans always name a parent that arrived, or they would be roots.
                match spans[at].parent_id.as_deref().and_then(|p| owner.get(p)) {
                    Some(&parent) => at = parent,
                    None => break,
                }
            }
            if reached[at] {
                continue;
            }
            // `at` is on the loop; the loop's earliest span reads best as its entry.
            let parent_of = |i: usize| spans[i].parent_id.as_deref().and_then(|p| owner.get(p));
            let mut member = at;
            while let Some(&next) = parent_of(member) {
                if next == at {
                    break;
                }
                member = next;
                if (spans[member].start_unix_nano, member) < (spans[at].start_unix_nano, at) {
                    at = member;
                }
            }
            self.notes[at] = Note::Cycle;
            self.roots.push(at);
            stack.push(at);
            reach(&mut stack, &mut reached, &self.children);
        }
    }
}

/// One trace as an indented tree: every span exactly once, in time linear in the spans. Spans
/// whose parent did not arrive, whose parents form a loop, or whose id repeats are shown with a
/// note rather than dropped or repeated.
pub fn tree(spans: &[ReceivedSpan]) -> String {
    let Some(first_span) = spans.first() else {
        return String::new();
    };
    let shape = Shape::of(spans);
    let first = shape.roots.first().map_or(first_span, |i| &spans[*i]);
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(0);
    let errors = spans.iter().filter(|s| s.error).count();
    let mut out = format!(
        "{} {}  trace {}  {} span{}  {:.1} ms{}\n",
        "●".cyan(),
        escape(&first.service, MAX_NAME_CHARS).bold(),
        escape(&first.trace_id, 64),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        end.saturating_sub(start) as f64 / 1e6,
        if errors > 0 {
            format!("  {}", format!("{errors} error(s)").red())
        } else {
            String::new()
        },
    );
    let service = first.service.as_str();
    // (span, depth, last among its siblings); `lasts[d]` says whether the ancestor drawn at depth
    // d was the last of its siblings, which decides the rail drawn below it.
    let mut stack: Vec<(usize, usize, bool)> = Vec::with_capacity(spans.len().min(1024));
    let count = shape.roots.len();
    stack.extend(
        shape
            .roots
            .iter()
            .enumerate()
            .rev()
            .map(|(n, i)| (*i, 0, n + 1 == count)),
    );
    let mut drawn = vec![false; spans.len()];
    let mut lasts: Vec<bool> = Vec::new();
    while let Some((i, depth, last)) = stack.pop() {
        if std::mem::replace(&mut drawn[i], true) {
            continue;
        }
        lasts.truncate(depth);
        lasts.push(last);
        let shown = depth.min(MAX_INDENT);
        for ancestor_last in &lasts[..shown] {
            out.push_str(if *ancestor_last { "   " } else { "│  " });
        }
        if depth > MAX_INDENT {
            let _ = write!(out, "┆{depth} ");
        }
        out.push_str(if last { "└─ " } else { "├─ " });
        out.push_str(&line(&spans[i], service, shape.notes[i]));
        out.push('\n');
        let children: Vec<usize> = shape.children[i]
            .iter()
            .copied()
            .filter(|c| !drawn[*c])
            .collect();
        let count = children.len();
        stack.extend(
            children
                .into_iter()
                .enumerate()
                .rev()
                .map(|(n, c)| (c, depth + 1, n + 1 == count)),
        );
    }
    out
}

/// A span as one JSON object: its fields plus `duration_ms`.
#[derive(serde::Serialize)]
struct Line<'a> {
    trace_id: &'a str,
    span_id: &'a str,
    parent_span_id: Option<&'a str>,
    service: &'a str,
    name: &'a str,
    kind: &'a str,
    start_unix_nano: u64,
    end_unix_nano: u64,
    duration_ms: f64,
    error: bool,
    status_message: Option<&'a str>,
    attributes: &'a serde_json::Map<String, serde_json::Value>,
    source: &'a str,
}

/// Append one span as a line of JSON to `out`.
pub fn json_line_into(span: &ReceivedSpan, out: &mut Vec<u8>) {
    let line = Line {
        trace_id: &span.trace_id,
        span_id: &span.span_id,
        parent_span_id: span.parent_id.as_deref(),
        service: &span.service,
        name: &span.name,
        kind: span.kind,
        start_unix_nano: span.start_unix_nano,
        end_unix_nano: span.end_unix_nano,
        duration_ms: span.duration_ms(),
        error: span.error,
        status_message: span.status_message.as_deref(),
        attributes: &span.attributes,
        source: span.source,
    };
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, TerminalSafe);
    if serde::Serialize::serialize(&line, &mut serializer).is_ok() {
        out.push(b'\n');
    }
}

/// Append every span of a request that [`decode::validate`] passed as lines of JSON: the lines
/// [`json_line_into`] writes for the spans [`decode::spans_of`] builds, written straight from the
/// request in one pass over each string (the JSON view's hot path: no span, map or copied string
/// is built on the way). A property test holds the two to the same bytes.
pub fn json_lines_of(request: &ExportTraceServiceRequest, out: &mut Vec<u8>) {
    for resource_spans in &request.resource_spans {
        let service = decode::service_of(resource_spans.resource.as_ref());
        for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
            let start = span.start_time_unix_nano;
            let end = span.end_time_unix_nano.max(start);
            let status = span.status.as_ref();
            out.extend_from_slice(b"{\"trace_id\":\"");
            hex_into(&span.trace_id, out);
            out.extend_from_slice(b"\",\"span_id\":\"");
            hex_into(&span.span_id, out);
            out.extend_from_slice(b"\",\"parent_span_id\":");
            if span.parent_span_id.is_empty() {
                out.extend_from_slice(b"null");
            } else {
                out.push(b'"');
                hex_into(&span.parent_span_id, out);
                out.push(b'"');
            }
            out.extend_from_slice(b",\"service\":");
            json_string(&service, out);
            out.extend_from_slice(b",\"name\":");
            json_string(&span.name, out);
            out.extend_from_slice(b",\"kind\":\"");
            out.extend_from_slice(decode::kind_name(span.kind).as_bytes());
            out.extend_from_slice(b"\",\"start_unix_nano\":");
            out.extend_from_slice(itoa::Buffer::new().format(start).as_bytes());
            out.extend_from_slice(b",\"end_unix_nano\":");
            out.extend_from_slice(itoa::Buffer::new().format(end).as_bytes());
            out.extend_from_slice(b",\"duration_ms\":");
            json_f64((end - start) as f64 / 1e6, out);
            out.extend_from_slice(b",\"error\":");
            let error = status.is_some_and(|s| s.code == 2);
            out.extend_from_slice(if error { b"true" } else { b"false" });
            out.extend_from_slice(b",\"status_message\":");
            match status.map(|s| s.message.as_str()).filter(|m| !m.is_empty()) {
                Some(message) => json_string(message, out),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"attributes\":");
            json_attributes(&span.attributes, out);
            out.extend_from_slice(b",\"source\":\"otlp\"}\n");
        }
    }
}

/// A float as serde_json writes it (non-finite ones as `null`).
fn json_f64(value: f64, out: &mut Vec<u8>) {
    let _ = serde::Serializer::serialize_f64(&mut serde_json::Serializer::new(&mut *out), value);
}

/// `text` as a JSON string, escaped as serde_json escapes it with [`TerminalSafe`]: `\"`, `\\`,
/// the short escapes of C0 controls, `\u00XX` for the other C0 controls, and `\uXXXX` for every
/// other character [`is_unsafe`] names.
fn json_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let (mut from, mut at) = (0, 0);
    while at < bytes.len() {
        let b = bytes[at];
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            at += 1;
            continue;
        }
        out.extend_from_slice(&bytes[from..at]);
        if b < 0x80 {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => unicode_escape(u16::from(b), out),
            }
            at += 1;
        } else {
            let c = text[at..].chars().next().unwrap_or('\u{fffd}');
            let len = c.len_utf8();
            if is_unsafe(c) {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    unicode_escape(*unit, out);
                }
            } else {
                out.extend_from_slice(&bytes[at..at + len]);
            }
            at += len;
        }
        from = at;
    }
    out.extend_from_slice(&bytes[from..]);
    out.push(b'"');
}

fn unicode_escape(unit: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(b"\\u");
    hex_into(&unit.to_be_bytes(), out);
}

/// OTLP attributes as the JSON object a span's attribute map is: keys in order, the last of
/// repeated keys winning.
fn json_attributes(attributes: &[KeyValue], out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    let mut entry = |kv: &KeyValue, out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        json_string(&kv.key, out);
        out.push(b':');
        json_value(kv.value.as_ref(), out);
    };
    if attributes.windows(2).all(|w| w[0].key < w[1].key) {
        for kv in attributes {
            entry(kv, out);
        }
    } else {
        let mut order: Vec<&KeyValue> = attributes.iter().collect();
        // Stable: of equal keys the last given stays last, and is the one written.
        order.sort_by(|a, b| a.key.cmp(&b.key));
        for (i, kv) in order.iter().enumerate() {
            if order.get(i + 1).is_none_or(|next| next.key != kv.key) {
                entry(kv, out);
            }
        }
    }
    out.push(b'}');
}

/// An OTLP value as the JSON value of a received span's attribute.
fn json_value(value: Option<&AnyValue>, out: &mut Vec<u8>) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => json_string(s, out),
        Some(Value::BoolValue(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Some(Value::IntValue(i)) => {
            out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes())
        }
        Some(Value::DoubleValue(d)) => json_f64(*d, out),
        Some(Value::ArrayValue(array)) => {
            out.push(b'[');
            for (i, v) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_value(Some(v), out);
            }
            out.push(b']');
        }
        Some(Value::KvlistValue(list)) => json_attributes(&list.values, out),
        Some(Value::BytesValue(bytes)) => {
            out.push(b'"');
            hex_into(bytes, out);
            out.push(b'"');
        }
        _ => out.extend_from_slice(b"null"),
    }
}

/// serde_json's compact output, except that the characters [`escape`] shows visibly are written
/// as `\uXXXX` escapes too: serde_json escapes only C0 controls, so DEL, C1 controls (a CSI that
/// some terminals obey) and bidi overrides would reach a terminal raw. The JSON value is the same.
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let bytes = fragment.as_bytes();
        let (mut from, mut at) = (0, 0);
        while at < bytes.len() {
            // Printable ASCII is always safe: only the rest is decoded and looked at.
            if (0x20..0x7f).contains(&bytes[at]) {
                at += 1;
                continue;
            }
            let Some(c) = fragment[at..].chars().next() else {
                break;
            };
            if is_unsafe(c) {
                writer.write_all(&bytes[from..at])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                from = at + c.len_utf8();
            }
            at += c.len_utf8();
        }
        writer.write_all(&bytes[from..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, name: &str, start: u64, error: bool) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_id: parent.map(str::to_string),
            service: "api".into(),
            name: name.into(),
            kind: "internal",
            start_unix_nano: start,
            end_unix_nano: start + 2_000_000,
            error,
            status_message: error.then(|| "boom".into()),
            attributes: serde_json::Map::new(),
            source: "otlp",
        }
    }

    #[test]
    fn tree_nests_children_in_start_order() {
        colored::control::set_override(false);
        let mut root = span("a", None, "GET /x", 0, false);
        root.attributes.insert("http.route".into(), "/x".into());
        let spans = vec![
            span("c", Some("a"), "second", 20, true),
            root,
            span("b", Some("a"), "first", 10, false),
            span("d", Some("b"), "deep", 11, false),
        ];
        let text = tree(&spans);
        let expected = "● api  trace t  4 spans  2.0 ms  1 error(s)\n\
                        └─ GET /x  internal  2.0 ms  http.route=/x\n   \
                        ├─ first  internal  2.0 ms\n   \
                        │  └─ deep  internal  2.0 ms\n   \
                        └─ second  internal  2.0 ms  ERROR boom\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn orphans_are_roots_and_json_lines_parse() {
        colored::control::set_override(false);
        let text = tree(&[span("x", Some("missing"), "orphan", 0, false)]);
        assert!(text.contains("└─ orphan"), "{text}");
        let mut line = Vec::new();
        json_line_into(&span("x", None, "n", 0, false), &mut line);
        assert_eq!(line.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["span_id"], "x");
        assert_eq!(v["duration_ms"], 2.0);
        assert_eq!(v["parent_span_id"], serde_json::Value::Null);
    }

    /// The name column of each span line, in order (the tree's drawing stripped).
    fn drawn_names(text: &str) -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| {
                let at = l.find("─ ").expect("a span line") + "─ ".len();
                l[at..].split("  ").next().unwrap_or("").to_string()
            })
            .collect()
    }

    #[test]
    fn duplicate_ids_forming_a_cycle_show_each_span_once() {
        colored::control::set_override(false);
        // The request that made the renderer explode: two ids, each used twice, parents crossing.
        let spans = vec![
            span("1", None, "root", 0, false),
            span("2", Some("1"), "two-a", 1, false),
            span("2", Some("1"), "two-b", 2, false),
            span("1", Some("2"), "one-again", 3, false),
            span("2", Some("2"), "self", 4, false),
        ];
        let text = tree(&spans);
        let mut names = drawn_names(&text);
        names.sort();
        assert_eq!(
            names,
            ["one-again", "root", "self", "two-a", "two-b"],
            "{text}"
        );
        assert!(
            text.contains("two-b  internal  2.0 ms  (span id 2 used twice)"),
            "{text}"
        );
    }

    #[test]
    fn parent_cycles_and_missing_parents_are_shown_marked() {
        colored::control::set_override(false);
        let spans = vec![
            span("c", Some("b"), "c", 30, false),
            span("a", Some("c"), "a", 10, false),
            span("b", Some("a"), "b", 20, false),
            span("d", Some("b"), "below-the-loop", 5, false),
            span("e", Some("gone"), "orphan", 40, false),
            span("f", Some("f"), "own-parent", 50, false),
        ];
        let text = tree(&spans);
        let expected = "● api  trace t  6 spans  2.0 ms\n\
                        ├─ orphan  internal  2.0 ms  (parent gone not received)\n\
                        ├─ a  internal  2.0 ms  (parent chain loops back here)\n\
                        │  └─ b  internal  2.0 ms\n\
                        │     ├─ below-the-loop  internal  2.0 ms\n\
                        │     └─ c  internal  2.0 ms\n\
                        └─ own-parent  internal  2.0 ms  (parent chain loops back here)\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn long_chains_and_wide_fans_cost_linear_output() {
        colored::control::set_override(false);
        let n = 20_000;
        let chain: Vec<ReceivedSpan> = (0..n)
            .map(|i| {
                let parent = (i > 0).then(|| format!("{:x}", i - 1));
                span(&format!("{i:x}"), parent.as_deref(), "x", i, false)
            })
            .collect();
        let text = tree(&chain);
        assert_eq!(text.lines().count(), n as usize + 1);
        // Indentation stops growing: each line stays short however deep the chain goes.
        assert!(
            text.lines().all(|l| l.chars().count() < 160),
            "lines grow with depth"
        );
        let fan: Vec<ReceivedSpan> = std::iter::once(span("root", None, "r", 0, false))
            .chain((0..n).map(|i| span(&format!("{i:x}"), Some("root"), "x", i, false)))
            .collect();
        let started = std::time::Instant::now();
        assert_eq!(tree(&fan).lines().count(), n as usize + 2);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn control_and_bidi_characters_are_escaped_visibly() {
        colored::control::set_override(false);
        assert_eq!(escape("a\u{1b}]0;x\u{7}b", 100), "a\\x1b]0;x\\x07b");
        assert_eq!(
            escape("\u{202e}txt.exe\u{9b}2J\n\u{7f}", 100),
            "\\u{202e}txt.exe\\x9b2J\\x0a\\x7f"
        );
        assert_eq!(escape("héllo ✓ 日本", 100), "héllo ✓ 日本");
        assert_eq!(escape("abcdef", 3), "abc…");
        let mut s = span("a", None, "\u{1b}[2Jwipe\u{7}", 0, true);
        s.service = "svc\u{1b}]0;title\u{7}".into();
        s.status_message = Some("bad\u{1b}[31m".into());
        s.attributes
            .insert("http.route".into(), "/\u{202e}x".into());
        let text = tree(&[s]);
        assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text:?}");
        assert!(text.contains("\\x1b[2Jwipe\\x07"), "{text}");
        assert!(text.contains("svc\\x1b]0;title\\x07"), "{text}");
        assert!(text.contains("ERROR bad\\x1b[31m"), "{text}");
        assert!(text.contains("http.route=/\\u{202e}x"), "{text}");
    }

    #[test]
    fn json_lines_escape_what_a_terminal_would_obey() {
        let mut s = span(
            "a",
            None,
            "csi\u{9b}2J del\u{7f} rlo\u{202e} ls\u{2028} esc\u{1b}",
            0,
            true,
        );
        s.attributes
            .insert("k\u{9b}\u{202e}".into(), "v\u{9b}\u{feff}".into());
        s.service = "é ✓ 日本 \u{1F600}".into();
        let mut line = Vec::new();
        json_line_into(&s, &mut line);
        let text = std::str::from_utf8(&line).unwrap();
        assert!(
            !text.trim_end_matches('\n').chars().any(is_unsafe),
            "{text:?}"
        );
        assert!(
            text.contains(r"csi\u009b2J del\u007f rlo\u202e ls\u2028 esc\u001b"),
            "{text}"
        );
        // The value read back is the one received, and plain text stays plain.
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["name"], s.name);
        assert_eq!(v["service"], "é ✓ 日本 \u{1F600}");
        assert!(text.contains("é ✓ 日本 \u{1F600}"), "{text}");
        assert_eq!(v["attributes"]["k\u{9b}\u{202e}"], "v\u{9b}\u{feff}");
    }

    /// Every character, alone and between others, is escaped as serde_json escapes it with
    /// [`TerminalSafe`] (the view's lines are held to serde_json's bytes).
    #[test]
    fn every_character_is_escaped_as_serde_json_escapes_it() {
        let chars = (0..=0xffff_u32)
            .chain((0x10000..=0x10ffff).step_by(97))
            .chain(0xe0000..=0xe007f);
        for c in chars.filter_map(char::from_u32) {
            for text in [c.to_string(), format!("a{c}\"{c}b\\")] {
                let mut ours = Vec::new();
                json_string(&text, &mut ours);
                let mut theirs = Vec::new();
                let mut serializer =
                    serde_json::Serializer::with_formatter(&mut theirs, TerminalSafe);
                serde::Serialize::serialize(&text, &mut serializer).unwrap();
                assert_eq!(ours, theirs, "U+{:04X}", c as u32);
            }
        }
    }

    /// Characters that hide or reorder text without being controls reach no terminal raw.
    #[test]
    fn invisible_formatting_characters_are_escaped() {
        for c in [
            '\u{00ad}',
            '\u{180e}',
            '\u{206a}',
            '\u{206f}',
            '\u{e0001}',
            '\u{e007f}',
        ] {
            let text = format!("a{c}b");
            assert!(!escape(&text, 100).contains(c), "U+{:04X}", c as u32);
            let mut line = Vec::new();
            json_string(&text, &mut line);
            assert!(
                !String::from_utf8(line).unwrap().contains(c),
                "U+{:04X}",
                c as u32
            );
        }
    }

    proptest::proptest! {
        /// Whatever ids and parents a client sends, each span is drawn exactly once.
        #[test]
        fn every_span_is_drawn_exactly_once(
            links in proptest::collection::vec((0u8..12, proptest::option::of(0u8..14), 0u64..50), 0..60)
        ) {
            colored::control::set_override(false);
            let spans: Vec<ReceivedSpan> = links
                .iter()
                .enumerate()
                .map(|(n, (id, parent, start))| {
                    let parent = parent.map(|p| p.to_string());
                    span(&id.to_string(), parent.as_deref(), &format!("s{n}"), *start, false)
                })
                .collect();
            let text = tree(&spans);
            let mut names = drawn_names(&text);
            names.sort();
            let mut expected: Vec<String> = (0..spans.len()).map(|n| format!("s{n}")).collect();
            expected.sort();
            proptest::prop_assert_eq!(names, expected, "{}", text);
        }

        /// The JSON view's lines written straight from a request are the lines of the spans
        /// built from it, byte for byte, whatever the request holds: repeated and unsorted keys,
        /// nested values, NaN, odd parents, long service names, controls in any text.
        #[test]
        fn request_lines_are_the_lines_of_its_spans(request in arbitrary::request()) {
            let mut direct = Vec::new();
            json_lines_of(&request, &mut direct);
            let mut built = Vec::new();
            for span in decode::spans_of(&request).unwrap() {
                json_line_into(&span, &mut built);
            }
            proptest::prop_assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&built));
        }

        /// Any text is written as JSON that reads back as the same text, with no character a
        /// terminal acts on left raw.
        #[test]
        fn json_text_reads_back_and_hides_nothing(text in "\\PC*|[\\x00-\\x{a0}\\x{2000}-\\x{2070}\\x{fff0}-\\x{ffff}a]{0,40}") {
            let mut out = Vec::new();
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, TerminalSafe);
            serde::Serialize::serialize(&text, &mut serializer).unwrap();
            let written = String::from_utf8(out).unwrap();
            proptest::prop_assert!(!written.chars().any(is_unsafe), "{:?}", written);
            let read: String = serde_json::from_str(&written).unwrap();
            proptest::prop_assert_eq!(read, text);
        }
    }

    /// Export requests of any shape that `decode::validate` passes.
    mod arbitrary {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::common::v1::{
            AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value,
        };
        use opentelemetry_proto::tonic::resource::v1::Resource;
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-c.]{0,3}",
                "\\PC{0,8}",
                "[\\x00-\\x{a0}\\x{202a}-\\x{202e}]{0,6}"
            ]
        }

        fn value() -> impl Strategy<Value = Option<AnyValue>> {
            let leaf = prop_oneof![
                Just(None),
                text().prop_map(Value::StringValue).prop_map(Some),
                any::<bool>().prop_map(Value::BoolValue).prop_map(Some),
                any::<i64>().prop_map(Value::IntValue).prop_map(Some),
                prop_oneof![
                    any::<f64>(),
                    Just(f64::NAN),
                    Just(f64::INFINITY),
                    Just(-0.0)
                ]
                .prop_map(Value::DoubleValue)
                .prop_map(Some),
                proptest::collection::vec(any::<u8>(), 0..6)
                    .prop_map(Value::BytesValue)
                    .prop_map(Some),
                any::<i32>()
                    .prop_map(Value::StringValueStrindex)
                    .prop_map(Some),
            ]
            .prop_map(|value| Some(AnyValue { value }));
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(|values| {
                        let values = values.into_iter().map(|v| v.unwrap_or_default()).collect();
                        Some(AnyValue {
                            value: Some(Value::ArrayValue(ArrayValue { values })),
                        })
                    }),
                    proptest::collection::vec(("[a-c]{0,2}", inner), 0..4).prop_map(|pairs| {
                        let values = pairs
                            .into_iter()
                            .map(|(key, value)| KeyValue {
                                key,
                                value,
                                ..Default::default()
                            })
                            .collect();
                        Some(AnyValue {
                            value: Some(Value::KvlistValue(KeyValueList { values })),
                        })
                    }),
                ]
            })
        }

        fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
            proptest::collection::vec(
                (prop_oneof!["[a-d]", "http\\.[a-z]{1,3}", text()], value()),
                0..7,
            )
            .prop_map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(key, value)| KeyValue {
                        key,
                        value,
                        ..Default::default()
                    })
                    .collect()
            })
        }

        fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(any::<u8>(), len)
                .prop_filter("not all zero", |id| id.iter().any(|b| *b != 0))
        }

        fn span() -> impl Strategy<Value = Span> {
            (
                (
                    id(16),
                    id(8),
                    proptest::collection::vec(any::<u8>(), 0..10),
                    text(),
                    -1i32..7,
                ),
                (
                    any::<u64>(),
                    any::<u64>(),
                    proptest::option::of((0i32..4, text())),
                    attributes(),
                ),
            )
                .prop_map(
                    |(
                        (trace_id, span_id, parent_span_id, name, kind),
                        (start, end, status, attributes),
                    )| Span {
                        trace_id,
                        span_id,
                        parent_span_id,
                        name,
                        kind,
                        start_time_unix_nano: start,
                        end_time_unix_nano: end,
                        status: status.map(|(code, message)| Status { code, message }),
                        attributes,
                        ..Default::default()
                    },
                )
        }

        fn resource() -> impl Strategy<Value = Option<Resource>> {
            let name = prop_oneof![text(), "[é日a]{250,300}"];
            proptest::option::of((proptest::option::of(name), attributes()).prop_map(
                |(name, mut attributes)| {
                    if let Some(name) = name {
                        let value = Some(AnyValue {
                            value: Some(Value::StringValue(name)),
                        });
                        attributes.insert(
                            0,
                            KeyValue {
                                key: "service.name".into(),
                                value,
                                ..Default::default()
                            },
                        );
                    }
                    Resource {
                        attributes,
                        ..Default::default()
                    }
                },
            ))
        }

        pub fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
            let scope = proptest::collection::vec(span(), 0..4).prop_map(|spans| ScopeSpans {
                spans,
                ..Default::default()
            });
            let resource_spans = (resource(), proptest::collection::vec(scope, 0..3)).prop_map(
                |(resource, scope_spans)| ResourceSpans {
                    resource,
                    scope_spans,
                    ..Default::default()
                },
            );
            proptest::collection::vec(resource_spans, 0..3)
                .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
        }
    }
}
