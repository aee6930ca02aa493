//! tracectl's local receiver: OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP in, span trees,
//! waterfalls or JSON lines out.
//!
//! A crate of its own so that it is built for speed while the rest of tracectl, which runs once
//! per command, is built for size (the release profile in the top-level Cargo.toml).

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

#[cfg(test)]
mod test_support;

/// Where the receiver writes what it shows.
pub trait LineSink: Send + Sync {
    /// Bytes received from clients (span data), already escaped for where they go.
    fn write_bytes(&self, bytes: &[u8]);
    /// Text the receiver composed (notes, summaries), which the sink may scrub further.
    fn write(&self, text: &str);
    /// The end of a batch.
    fn flush(&self);
}

/// google.rpc.Status, the body of an OTLP error response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// `bytes` in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `bytes` in lower-case hex, appended to `out`.
pub fn hex_into(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
}

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
