//! Showing received spans: an indented tree per trace, or one JSON object per span.

use colored::Colorize;

use super::ReceivedSpan;

/// The attributes worth a glance, in this order.
const KEY_ATTRIBUTES: &[&str] = &[
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

fn short(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 48 {
        format!("{}…", text.chars().take(47).collect::<String>())
    } else {
        text
    }
}

fn line(span: &ReceivedSpan, trace_service: &str) -> String {
    let mut out = String::new();
    if span.service != trace_service {
        out.push_str(&format!("[{}] ", span.service));
    }
    let name = if span.error {
        span.name.red().bold().to_string()
    } else {
        span.name.bold().to_string()
    };
    out.push_str(&format!(
        "{name}  {}  {:.1} ms",
        span.kind.dimmed(),
        span.duration_ms()
    ));
    let has_route = span.attributes.contains_key("http.route");
    let attrs: Vec<String> = KEY_ATTRIBUTES
        .iter()
        .filter(|k| !(has_route && **k == "url.path"))
        .filter_map(|k| span.attributes.get(*k).map(|v| format!("{k}={}", short(v))))
        .take(4)
        .collect();
    if !attrs.is_empty() {
        out.push_str(&format!("  {}", attrs.join(" ").dimmed()));
    }
    if span.error {
        let message = span.status_message.as_deref().unwrap_or("error");
        out.push_str(&format!("  {}", format!("ERROR {message}").red()));
    }
    out
}

/// One trace as an indented tree. Spans whose parent did not arrive are shown as roots.
pub fn tree(spans: &[ReceivedSpan]) -> String {
    let ids: std::collections::HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut roots: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.parent_id.as_deref().is_none_or(|p| !ids.contains(p)))
        .collect();
    roots.sort_by_key(|s| s.start_unix_nano);
    let Some(first) = roots.first() else {
        return String::new();
    };
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(0);
    let errors = spans.iter().filter(|s| s.error).count();
    let mut out = format!(
        "{} {}  trace {}  {} span{}  {:.1} ms{}\n",
        "●".cyan(),
        first.service.bold(),
        first.trace_id,
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        end.saturating_sub(start) as f64 / 1e6,
        if errors > 0 {
            format!("  {}", format!("{errors} error(s)").red())
        } else {
            String::new()
        },
    );
    let service = first.service.clone();
    let count = roots.len();
    for (i, root) in roots.into_iter().enumerate() {
        walk(spans, root, "", i + 1 == count, &service, &mut out, 0);
    }
    out
}

fn walk(
    spans: &[ReceivedSpan],
    span: &ReceivedSpan,
    prefix: &str,
    last: bool,
    service: &str,
    out: &mut String,
    depth: usize,
) {
    out.push_str(&format!(
        "{prefix}{}{}\n",
        if last { "└─ " } else { "├─ " },
        line(span, service)
    ));
    if depth > 100 {
        return;
    }
    let mut children: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|c| {
            c.parent_id.as_deref() == Some(span.span_id.as_str()) && c.span_id != span.span_id
        })
        .collect();
    children.sort_by_key(|c| c.start_unix_nano);
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    let count = children.len();
    for (i, child) in children.into_iter().enumerate() {
        walk(
            spans,
            child,
            &child_prefix,
            i + 1 == count,
            service,
            out,
            depth + 1,
        );
    }
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
    if serde_json::to_writer(&mut *out, &line).is_ok() {
        out.push(b'\n');
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
}
