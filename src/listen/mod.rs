//! The local receiver: OTLP/HTTP and X-Ray daemon UDP in, span trees or JSON lines out.

pub mod decode;
pub mod render;
pub mod server;
pub mod weigh;

use serde::Serialize;

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
    pub fn duration_ms(&self) -> f64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano) as f64 / 1e6
    }
}
