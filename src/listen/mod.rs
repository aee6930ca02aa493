//! The local receiver: OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP in, span trees or JSON lines out.

pub mod check;
pub mod decode;
pub mod grpc;
pub mod render;
pub mod sampling;
pub mod saved;
pub mod server;
pub mod waterfall;
pub mod weigh;

use serde::Serialize;

/// What a map entry costs beside its key's text and its value (a key `String` and tree links).
const MAP_ENTRY: usize = 64;

/// A span as received, from OTLP or from an X-Ray segment, in one shape for display.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceivedSpan {
    pub trace_id: String,
    pub span_id: String,
    #[serde(rename = "parent_span_id")]
    pub parent_id: Option<String>,
    pub service: String,
    pub name: String,
    pub kind: &'static str,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    pub error: bool,
    pub status_message: Option<String>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub source: &'static str,
}

impl ReceivedSpan {
    /// About the bytes this span holds: its struct, its text, its attributes. Linear in its size.
    pub fn weight(&self) -> usize {
        let text = [
            &self.trace_id,
            &self.span_id,
            &self.service,
            &self.name,
            self.parent_id.as_ref().unwrap_or(&String::new()),
            self.status_message.as_ref().unwrap_or(&String::new()),
        ]
        .iter()
        .map(|s| s.len())
        .sum::<usize>();
        let mut attributes = 0usize;
        // By hand rather than recursively: a value may nest as deep as a decoder allows.
        let mut stack: Vec<&serde_json::Value> = Vec::new();
        for (key, value) in &self.attributes {
            attributes += MAP_ENTRY + key.len();
            stack.push(value);
        }
        while let Some(value) = stack.pop() {
            attributes += std::mem::size_of::<serde_json::Value>();
            match value {
                serde_json::Value::String(s) => attributes += s.len(),
                serde_json::Value::Array(items) => stack.extend(items),
                serde_json::Value::Object(map) => {
                    for (key, value) in map {
                        attributes += MAP_ENTRY + key.len();
                        stack.push(value);
                    }
                }
                _ => {}
            }
        }
        std::mem::size_of::<Self>() + text + attributes
    }

    pub fn duration_ms(&self) -> f64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano) as f64 / 1e6
    }
}
