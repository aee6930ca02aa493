//! The synthetic test trace: one request to the Flask app, as plain data, and its OTLP encoding.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span::SpanKind,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Value {
    /// `true`/`false` and integers keep their type; anything else is a string.
    pub fn parse(text: &str) -> Value {
        match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => text
                .parse()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::Str(text.to_string())),
        }
    }

    fn to_proto(&self) -> AnyValue {
        let value = match self {
            Value::Str(s) => any_value::Value::StringValue(s.clone()),
            Value::Int(i) => any_value::Value::IntValue(*i),
            Value::Bool(b) => any_value::Value::BoolValue(*b),
        };
        AnyValue { value: Some(value) }
    }
}

pub type Attributes = Vec<(String, Value)>;

fn s(key: &str, value: &str) -> (String, Value) {
    (key.to_string(), Value::Str(value.to_string()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpanModel {
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub name: String,
    pub kind: SpanKind,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Attributes,
}

/// What the user can change about the trace.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    pub service_name: String,
    pub span_name: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub resource_attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct SyntheticTrace {
    pub trace_id: [u8; 16],
    pub run_id: String,
    pub service_name: String,
    pub resource: Attributes,
    pub spans: Vec<SpanModel>,
}

pub const ROUTE: &str = "/api/activities/home";
pub const QUERY: &str =
    "SELECT uuid, message, created_at FROM activities ORDER BY created_at DESC LIMIT 20";

pub use crate::listen::hex;

pub fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl SyntheticTrace {
    /// A trace ending at `now`. The first four bytes of the trace id are the epoch seconds of its
    /// start, so the same id is a valid X-Ray trace id.
    pub fn build(spec: &TraceSpec, now: SystemTime, random: &mut impl FnMut() -> u64) -> Self {
        let start = now - Duration::from_millis(120);
        let epoch = start
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        let mut trace_id = [0u8; 16];
        trace_id[..4].copy_from_slice(&epoch.to_be_bytes());
        trace_id[4..12].copy_from_slice(&random().to_be_bytes());
        trace_id[12..].copy_from_slice(&(random() as u32).to_be_bytes());
        let mut span_id = || {
            let id = random().max(1);
            id.to_be_bytes()
        };
        let (root, handler, db) = (span_id(), span_id(), span_id());
        let run_id = format!("{:016x}", random());
        let at = |ms: u64| start + Duration::from_millis(ms);

        let mut root_attributes = vec![
            s("http.request.method", "GET"),
            s("url.path", ROUTE),
            s("url.scheme", "http"),
            s("http.route", ROUTE),
            ("http.response.status_code".to_string(), Value::Int(200)),
            s("server.address", "localhost"),
            ("server.port".to_string(), Value::Int(4567)),
            s(
                "user_agent.original",
                concat!("tracectl/", env!("CARGO_PKG_VERSION")),
            ),
        ];
        for (k, v) in &spec.attributes {
            root_attributes.retain(|(key, _)| key != k);
            root_attributes.push((k.clone(), Value::parse(v)));
        }
        let spans = vec![
            SpanModel {
                span_id: root,
                parent: None,
                name: spec
                    .span_name
                    .clone()
                    .unwrap_or_else(|| format!("GET {ROUTE}")),
                kind: SpanKind::Server,
                start,
                end: at(120),
                attributes: root_attributes,
            },
            SpanModel {
                span_id: handler,
                parent: Some(root),
                name: "home_activities".to_string(),
                kind: SpanKind::Internal,
                start: at(8),
                end: at(104),
                attributes: vec![("app.activities.count".to_string(), Value::Int(20))],
            },
            SpanModel {
                span_id: db,
                parent: Some(handler),
                name: "SELECT cruddur.activities".to_string(),
                kind: SpanKind::Client,
                start: at(15),
                end: at(57),
                attributes: vec![
                    s("db.system", "postgresql"),
                    s("db.system.name", "postgresql"),
                    s("db.namespace", "cruddur"),
                    s("db.operation.name", "SELECT"),
                    s("db.collection.name", "activities"),
                    s("db.query.text", QUERY),
                    s("server.address", "db"),
                    ("server.port".to_string(), Value::Int(5432)),
                ],
            },
        ];
        let mut resource = vec![
            s("service.name", &spec.service_name),
            s("telemetry.sdk.name", "tracectl"),
            s("telemetry.sdk.language", "rust"),
            s("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
        ];
        for (k, v) in &spec.resource_attributes {
            if k != "service.name" {
                resource.push(s(k, v));
            }
        }
        resource.push(("tracectl.test".to_string(), Value::Bool(true)));
        resource.push(s("tracectl.run_id", &run_id));
        SyntheticTrace {
            trace_id,
            run_id,
            service_name: spec.service_name.clone(),
            resource,
            spans,
        }
    }

    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The same id as X-Ray writes it: `1-<8 hex epoch>-<24 hex>`.
    pub fn xray_trace_id(&self) -> String {
        let h = self.trace_id_hex();
        format!("1-{}-{}", &h[..8], &h[8..])
    }

    pub fn start(&self) -> SystemTime {
        self.spans
            .iter()
            .map(|s| s.start)
            .min()
            .unwrap_or(UNIX_EPOCH)
    }

    pub fn end(&self) -> SystemTime {
        self.spans.iter().map(|s| s.end).max().unwrap_or(UNIX_EPOCH)
    }

    pub fn to_request(&self) -> ExportTraceServiceRequest {
        let kv = |attrs: &Attributes| -> Vec<KeyValue> {
            attrs
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(v.to_proto()),
                    ..Default::default()
                })
                .collect()
        };
        let spans = self
            .spans
            .iter()
            .map(|span| Span {
                trace_id: self.trace_id.to_vec(),
                span_id: span.span_id.to_vec(),
                parent_span_id: span.parent.map(|p| p.to_vec()).unwrap_or_default(),
                name: span.name.clone(),
                kind: span.kind as i32,
                start_time_unix_nano: unix_nanos(span.start),
                end_time_unix_nano: unix_nanos(span.end),
                attributes: kv(&span.attributes),
                status: Some(Status::default()),
                ..Default::default()
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: kv(&self.resource),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tracectl".to_string(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    pub fn sample() -> SyntheticTrace {
        let spec = TraceSpec {
            service_name: "backend-flask".into(),
            span_name: None,
            attributes: vec![
                ("deploy".into(), "blue".into()),
                ("http.response.status_code".into(), "503".into()),
            ],
            resource_attributes: vec![("deployment.environment".into(), "ci".into())],
        };
        let mut n = 0u64;
        let mut random = || {
            n += 1;
            0x0101_0101_0101_0101 * n
        };
        SyntheticTrace::build(
            &spec,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            &mut random,
        )
    }

    #[test]
    fn trace_id_starts_with_epoch_seconds() {
        let t = sample();
        let start = t.start().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(&t.trace_id_hex()[..8], format!("{start:08x}"));
        assert_eq!(
            t.xray_trace_id(),
            format!("1-{:08x}-{}", start, &t.trace_id_hex()[8..])
        );
        assert_eq!(t.xray_trace_id().len(), 35);
    }

    #[test]
    fn shape_is_a_realistic_request() {
        let t = sample();
        let [root, handler, db] = &t.spans[..] else {
            panic!()
        };
        assert_eq!(root.kind, SpanKind::Server);
        assert_eq!(root.name, "GET /api/activities/home");
        assert_eq!(handler.parent, Some(root.span_id));
        assert_eq!(db.parent, Some(handler.span_id));
        assert_eq!(db.kind, SpanKind::Client);
        assert!(root.start <= handler.start && handler.end <= root.end);
        assert!(handler.start <= db.start && db.end <= handler.end);
        assert!(
            root.attributes
                .contains(&("http.response.status_code".into(), Value::Int(503)))
        );
        assert!(
            root.attributes
                .contains(&("deploy".into(), Value::Str("blue".into())))
        );
        assert!(
            db.attributes
                .contains(&("db.system".into(), Value::Str("postgresql".into())))
        );
        assert!(
            t.resource
                .contains(&("tracectl.test".into(), Value::Bool(true)))
        );
        assert!(
            t.resource
                .contains(&("deployment.environment".into(), Value::Str("ci".into())))
        );
    }

    #[test]
    fn protobuf_and_json_round_trip() {
        let req = sample().to_request();
        let bytes = req.encode_to_vec();
        assert_eq!(
            ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap(),
            req
        );
        let json = serde_json::to_string(&req).unwrap();
        assert!(json.contains("\"traceId\""), "{json}");
        let back: ExportTraceServiceRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, req);
        let spans = &req.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans.len(), 3);
        assert!(spans[0].parent_span_id.is_empty());
    }
}
