//! X-Ray segment documents built from the synthetic trace: the root span becomes the segment,
//! its descendants nested subsegments.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as Json, json};

use crate::otlp::trace::{ROUTE, SpanModel, SyntheticTrace, Value, hex};

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn attr<'a>(span: &'a SpanModel, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn subsegment(trace: &SyntheticTrace, span: &SpanModel) -> Json {
    let mut doc = Map::new();
    doc.insert("id".into(), hex(&span.span_id).into());
    doc.insert("name".into(), span.name.clone().into());
    doc.insert("start_time".into(), seconds(span.start).into());
    doc.insert("end_time".into(), seconds(span.end).into());
    if let Some(Value::Str(system)) = attr(span, "db.system") {
        doc.insert(
            "name".into(),
            format!("{}@db", attr_str(span, "db.namespace").unwrap_or(system)).into(),
        );
        doc.insert("namespace".into(), "remote".into());
        doc.insert(
            "sql".into(),
            json!({
                "url": format!("postgresql://db:5432/{}", attr_str(span, "db.namespace").unwrap_or("")),
                "database_type": "PostgreSQL",
                "sanitized_query": attr_str(span, "db.query.text").unwrap_or(""),
            }),
        );
    }
    let children: Vec<Json> = trace
        .spans
        .iter()
        .filter(|c| c.parent == Some(span.span_id))
        .map(|c| subsegment(trace, c))
        .collect();
    if !children.is_empty() {
        doc.insert("subsegments".into(), children.into());
    }
    doc.into()
}

fn attr_str<'a>(span: &'a SpanModel, key: &str) -> Option<&'a str> {
    match attr(span, key) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// The segment document of the whole trace, as PutTraceSegments and the daemon take it.
pub fn document(trace: &SyntheticTrace) -> Json {
    let Some(root) = trace.spans.iter().find(|s| s.parent.is_none()) else {
        return Json::Null;
    };
    let status = match attr(root, "http.response.status_code") {
        Some(Value::Int(code)) => *code,
        _ => 200,
    };
    let method = attr_str(root, "http.request.method").unwrap_or("GET");
    let path = attr_str(root, "url.path").unwrap_or(ROUTE);
    let mut doc = json!({
        "name": trace.service_name,
        "id": hex(&root.span_id),
        "trace_id": trace.xray_trace_id(),
        "start_time": seconds(root.start),
        "end_time": seconds(root.end),
        "http": {
            "request": { "method": method, "url": format!("http://localhost:4567{path}"), "user_agent": attr_str(root, "user_agent.original").unwrap_or("") },
            "response": { "status": status },
        },
        "annotations": { "tracectl_test": true, "tracectl_run_id": trace.run_id },
        "metadata": { "tracectl": { "span_name": root.name } },
        "aws": { "xray": { "sdk": "tracectl", "sdk_version": env!("CARGO_PKG_VERSION") } },
    });
    if status >= 500 {
        doc["fault"] = true.into();
    } else if status >= 400 {
        doc["error"] = true.into();
    }
    let children: Vec<Json> = trace
        .spans
        .iter()
        .filter(|c| c.parent == Some(root.span_id))
        .map(|c| subsegment(trace, c))
        .collect();
    if !children.is_empty() {
        doc["subsegments"] = children.into();
    }
    doc
}

/// How many subsegments a document holds, at any depth.
pub fn count_subsegments(doc: &Json) -> usize {
    doc.get("subsegments")
        .and_then(|s| s.as_array())
        .map(|subs| subs.iter().map(|s| 1 + count_subsegments(s)).sum())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::otlp::trace::TraceSpec;

    fn trace() -> SyntheticTrace {
        let spec = TraceSpec {
            service_name: "backend-flask".into(),
            span_name: None,
            attributes: vec![],
            resource_attributes: vec![],
        };
        let mut n = 7u64;
        SyntheticTrace::build(
            &spec,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            &mut || {
                n += 1;
                n * 0x1111
            },
        )
    }

    #[test]
    fn segment_mirrors_the_spans() {
        let t = trace();
        let doc = document(&t);
        assert_eq!(doc["trace_id"], t.xray_trace_id());
        assert_eq!(doc["name"], "backend-flask");
        assert_eq!(doc["id"].as_str().unwrap().len(), 16);
        assert_eq!(doc["http"]["request"]["method"], "GET");
        assert_eq!(doc["http"]["response"]["status"], 200);
        assert_eq!(count_subsegments(&doc), 2);
        let handler = &doc["subsegments"][0];
        assert_eq!(handler["name"], "home_activities");
        let db = &handler["subsegments"][0];
        assert_eq!(db["namespace"], "remote");
        assert_eq!(db["sql"]["database_type"], "PostgreSQL");
        assert!(doc["start_time"].as_f64().unwrap() < doc["end_time"].as_f64().unwrap());
    }

    /// The segments send-test writes are read back by listen's X-Ray receiver as the same tree.
    #[test]
    fn xray_segments_become_span_trees() {
        let t = trace();
        let datagram = crate::xray::daemon::datagram(&document(&t)).unwrap();
        let spans = crate::listen::decode::decode_xray(&datagram).unwrap();
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].trace_id, t.trace_id_hex());
        assert_eq!(spans[0].kind, "server");
        assert_eq!(spans[0].service, "backend-flask");
        assert_eq!(
            spans[1].parent_id.as_deref(),
            Some(spans[0].span_id.as_str())
        );
        assert_eq!(spans[2].kind, "client");
        assert_eq!(spans[2].attributes["db.system"], "PostgreSQL");
        assert_eq!(spans[0].attributes["http.response.status_code"], 200);
    }
}
