//! Saved traces: OTLP/JSON lines, one ExportTraceServiceRequest per line, the layout of the
//! OpenTelemetry Collector's file exporter. Writing them (`listen --save`), reading them back
//! line by line in bounded memory (`show`, `send-test --from`), and giving replayed spans fresh
//! ids and times.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::ReceivedSpan;
use super::decode::{self, OtlpError};

/// The longest line read back. The collector writes one export batch per line, and listen
/// accepts requests of at most `--max-body` (4 MiB by default), whose JSON can be a few times
/// larger; a longer line is refused rather than held.
pub const MAX_LINE: usize = 64 << 20;

/// One request as a line of OTLP/JSON, newline included.
pub fn json_line(request: &ExportTraceServiceRequest) -> Vec<u8> {
    let mut line = serde_json::to_vec(request).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Appends every received request to a file. A write that fails (disk full, file gone) stops
/// saving, once, with a warning; receiving and showing go on.
pub struct Saver {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    warn: Box<dyn Fn(&str) + Send + Sync>,
    saved: AtomicU64,
    unsaved: AtomicU64,
}

impl Saver {
    /// Open `path` for appending (created if missing). Fails when it cannot be written at all: a
    /// folder, no permission, a missing parent folder.
    pub fn open(path: &Path, warn: Box<dyn Fn(&str) + Send + Sync>) -> std::io::Result<Self> {
        if path.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                format!("{} is a folder; --save takes a file", path.display()),
            ));
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(Saver {
            path: path.to_path_buf(),
            file: Mutex::new(Some(file)),
            warn,
            saved: AtomicU64::new(0),
            unsaved: AtomicU64::new(0),
        })
    }

    pub fn save(&self, request: &ExportTraceServiceRequest) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(open) = file.as_mut() else {
            self.unsaved.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // One write per line, so lines from concurrent requests never interleave; a failed write
        // may leave a partial line, which readers skip as a bad line.
        match open.write_all(&json_line(request)) {
            Ok(()) => {
                self.saved.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                *file = None;
                self.unsaved.fetch_add(1, Ordering::Relaxed);
                (self.warn)(&format!(
                    "saving to {} stopped: {e}; traces are still shown, but no more are saved",
                    self.path.display()
                ));
            }
        }
    }

    /// Requests saved, and requests that could not be.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.saved.load(Ordering::Relaxed),
            self.unsaved.load(Ordering::Relaxed),
        )
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    }
}

fn any_value(v: &serde_json::Value) -> AnyValue {
    use serde_json::Value as J;
    let value = match v {
        J::Null => None,
        J::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        J::Number(n) => match n.as_i64() {
            Some(i) => Some(any_value::Value::IntValue(i)),
            None => Some(any_value::Value::DoubleValue(n.as_f64().unwrap_or(0.0))),
        },
        J::String(s) => Some(any_value::Value::StringValue(s.clone())),
        J::Array(items) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(any_value).collect(),
        })),
        J::Object(map) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: key_values(map),
        })),
    };
    AnyValue { value }
}

fn key_values(map: &serde_json::Map<String, serde_json::Value>) -> Vec<KeyValue> {
    map.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(any_value(v)),
            ..Default::default()
        })
        .collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn kind_number(kind: &str) -> i32 {
    match kind {
        "internal" => 1,
        "server" => 2,
        "client" => 3,
        "producer" => 4,
        "consumer" => 5,
        _ => 0,
    }
}

/// Spans that did not arrive as OTLP (X-Ray segments) as an export request, one resource per
/// service, so that they are saved and replayed as the rest.
pub fn request_of(spans: &[ReceivedSpan]) -> ExportTraceServiceRequest {
    let mut by_service: Vec<(String, Vec<Span>)> = Vec::new();
    for span in spans {
        let otlp = Span {
            trace_id: unhex(&span.trace_id),
            span_id: unhex(&span.span_id),
            parent_span_id: span.parent_id.as_deref().map(unhex).unwrap_or_default(),
            name: span.name.clone(),
            kind: kind_number(span.kind),
            start_time_unix_nano: span.start_unix_nano,
            end_time_unix_nano: span.end_unix_nano,
            attributes: key_values(&span.attributes),
            status: Some(Status {
                code: if span.error { 2 } else { 0 },
                message: span.status_message.clone().unwrap_or_default(),
            }),
            ..Default::default()
        };
        match by_service.iter_mut().find(|(s, _)| *s == span.service) {
            Some((_, spans)) => spans.push(otlp),
            None => by_service.push((span.service.clone(), vec![otlp])),
        }
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(string(&service)),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tracectl.xray".into(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

/// What reading one line gave.
pub enum Line {
    Request(ExportTraceServiceRequest),
    /// Blank, or an export of other signals (the file exporter may write logs and metrics too).
    Empty,
    Bad(String),
}

/// Decode one line as an export request, with the receiver's bounds (decoded size, spans per
/// request, valid ids).
pub fn parse_line(line: &[u8]) -> Line {
    // A file saved by a Windows editor may start with a byte-order mark.
    let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Empty;
    }
    match decode::decode_request("application/json", None, line, MAX_LINE) {
        Ok((request, _)) => match decode::spans_of(&request) {
            Ok(spans) if spans.is_empty() => Line::Empty,
            Ok(_) => Line::Request(request),
            Err(OtlpError::BadRequest(why)) => Line::Bad(why),
            Err(_) => Line::Bad("not an OTLP/JSON export request".to_string()),
        },
        Err(OtlpError::BadRequest(why)) => Line::Bad(why),
        Err(OtlpError::TooLarge) => Line::Bad(format!("longer than {} MiB", MAX_LINE >> 20)),
        Err(OtlpError::UnsupportedMediaType) => Line::Bad("unreadable".to_string()),
    }
}

/// Read `reader` line by line, each line at most [`MAX_LINE`] bytes (a longer one is skipped
/// without being held), calling `each(line_number, line)`.
pub fn for_each_line(
    reader: impl BufRead,
    mut each: impl FnMut(usize, Line),
) -> std::io::Result<()> {
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        let n =
            std::io::Read::take(&mut reader, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE {
            // Skip the rest of the line without keeping it.
            loop {
                let chunk = reader.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                match chunk.iter().position(|b| *b == b'\n') {
                    Some(at) => {
                        reader.consume(at + 1);
                        break;
                    }
                    None => {
                        let len = chunk.len();
                        reader.consume(len);
                    }
                }
            }
            each(
                number,
                Line::Bad(format!("longer than {} MiB", MAX_LINE >> 20)),
            );
            continue;
        }
        each(number, parse_line(&buf));
    }
}

/// Give replayed spans fresh ids and times, so they show up as new traces: every trace id and
/// span id is replaced by a random one, the same one wherever it appears (parents and links
/// follow), trace ids keep X-Ray's layout (epoch seconds first); every time moves by the same
/// amount, so that the earliest span starts at `now_nanos`.
pub fn refresh(
    requests: &mut [ExportTraceServiceRequest],
    now_nanos: u64,
    random: &mut impl FnMut() -> u64,
) {
    let spans = || requests.iter().flat_map(decode::spans_in);
    let earliest = spans().map(|s| s.start_time_unix_nano).min().unwrap_or(0);
    let shift = |t: u64| -> u64 {
        if t == 0 {
            0
        } else {
            t.saturating_sub(earliest).saturating_add(now_nanos)
        }
    };
    let epoch = (now_nanos / 1_000_000_000) as u32;
    let mut traces: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut ids: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut new_trace = |old: &[u8], random: &mut dyn FnMut() -> u64| -> Vec<u8> {
        traces
            .entry(old.to_vec())
            .or_insert_with(|| {
                let mut id = epoch.to_be_bytes().to_vec();
                id.extend_from_slice(&random().to_be_bytes()[..4]);
                id.extend_from_slice(&random().max(1).to_be_bytes());
                id
            })
            .clone()
    };
    let mut new_span = |old: &[u8], random: &mut dyn FnMut() -> u64| -> Vec<u8> {
        if old.is_empty() {
            return Vec::new();
        }
        ids.entry(old.to_vec())
            .or_insert_with(|| random().max(1).to_be_bytes().to_vec())
            .clone()
    };
    let random: &mut dyn FnMut() -> u64 = random;
    for request in requests.iter_mut() {
        for resource in &mut request.resource_spans {
            for scope in &mut resource.scope_spans {
                for span in &mut scope.spans {
                    span.trace_id = new_trace(&span.trace_id, random);
                    span.span_id = new_span(&span.span_id, random);
                    span.parent_span_id = new_span(&span.parent_span_id, random);
                    span.start_time_unix_nano = shift(span.start_time_unix_nano);
                    span.end_time_unix_nano = shift(span.end_time_unix_nano);
                    for event in &mut span.events {
                        event.time_unix_nano = shift(event.time_unix_nano);
                    }
                    for link in &mut span.links {
                        link.trace_id = new_trace(&link.trace_id, random);
                        link.span_id = new_span(&link.span_id, random);
                    }
                }
            }
        }
    }
}

/// Spans in `requests`.
pub fn span_count(requests: &[ExportTraceServiceRequest]) -> usize {
    requests.iter().map(decode::span_count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> ExportTraceServiceRequest {
        serde_json::from_str(json).unwrap()
    }

    const TWO: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"root","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":"5000"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"aaa19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b174","name":"child","kind":3,"startTimeUnixNano":"2000","endTimeUnixNano":"3000"},
        {"traceId":"00000000000000000000000000000abc","spanId":"bbb19b7ec3c1b174","parentSpanId":"ccc19b7ec3c1b174","name":"orphan","kind":1,"startTimeUnixNano":"4000","endTimeUnixNano":"4500"}
    ]}]}]}"#;

    #[test]
    fn refreshed_ids_are_new_consistent_and_times_shift_together() {
        let mut requests = vec![request(TWO)];
        let mut n = 0u64;
        let mut random = || {
            n += 1;
            n * 0x1234_5678_9abc
        };
        let now = 1_800_000_000_000_000_000u64;
        refresh(&mut requests, now, &mut random);
        let spans = &requests[0].resource_spans[0].scope_spans[0].spans;
        assert_ne!(
            hex_of(&spans[0].trace_id),
            "5b8efff798038103d269b633813fc60c"
        );
        assert_eq!(spans[0].trace_id, spans[1].trace_id);
        assert_ne!(spans[0].trace_id, spans[2].trace_id);
        assert_eq!(spans[1].parent_span_id, spans[0].span_id);
        assert_ne!(spans[0].span_id, spans[1].span_id);
        // The orphan's missing parent gets a new id too: still an orphan, still consistent.
        assert_eq!(spans[2].parent_span_id.len(), 8);
        assert!(
            spans
                .iter()
                .all(|s| s.span_id.len() == 8 && s.trace_id.len() == 16)
        );
        assert_eq!(spans[0].start_time_unix_nano, now);
        assert_eq!(
            spans[0].end_time_unix_nano - spans[0].start_time_unix_nano,
            4000
        );
        assert_eq!(
            spans[1].start_time_unix_nano - spans[0].start_time_unix_nano,
            1000
        );
        // X-Ray layout: the first four bytes are the epoch seconds.
        let epoch = u32::from_be_bytes(spans[0].trace_id[..4].try_into().unwrap());
        assert_eq!(u64::from(epoch), now / 1_000_000_000);
    }

    fn hex_of(bytes: &[u8]) -> String {
        crate::hex(bytes)
    }

    #[test]
    fn lines_round_trip_and_bad_lines_say_why() {
        let line = json_line(&request(TWO));
        assert!(line.ends_with(b"\n") && !line[..line.len() - 1].contains(&b'\n'));
        let mut text = line.clone();
        text.extend_from_slice(b"\n{\"resourceSpans\": [\n");
        text.extend_from_slice(br#"{"resourceLogs":[]}"#);
        text.extend_from_slice(b"\n");
        text.extend_from_slice(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"trace_id":"5b8e","name":"x"}]}]}]}"#,
        );
        text.extend_from_slice(b"\n");
        text.extend_from_slice(&line[..line.len() / 2]);
        let mut seen = Vec::new();
        for_each_line(&text[..], |n, l| {
            seen.push((
                n,
                match l {
                    Line::Request(r) => format!("ok {}", span_count(&[r])),
                    Line::Empty => "empty".into(),
                    Line::Bad(why) => format!("bad {why}"),
                },
            ))
        })
        .unwrap();
        assert_eq!(seen[0], (1, "ok 3".to_string()));
        assert_eq!(seen[1], (2, "empty".to_string()));
        assert!(seen[2].1.starts_with("bad OTLP/JSON"), "{seen:?}");
        assert_eq!(seen[3], (4, "empty".to_string()));
        assert!(seen[4].1.contains("invalid traceId"), "{seen:?}");
        assert!(seen[5].1.starts_with("bad"), "{seen:?}");
        assert_eq!(seen.len(), 6);
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark_are_read() {
        let line = json_line(&request(TWO));
        let mut text = "\u{feff}".as_bytes().to_vec();
        text.extend_from_slice(&line[..line.len() - 1]);
        text.extend_from_slice(b"\r\n\r\n");
        text.extend_from_slice(&line[..line.len() - 1]);
        let mut spans = 0;
        for_each_line(&text[..], |_, l| match l {
            Line::Request(r) => spans += span_count(&[r]),
            Line::Empty => {}
            Line::Bad(why) => panic!("{why}"),
        })
        .unwrap();
        assert_eq!(spans, 6);
    }

    #[test]
    fn xray_spans_become_a_request_that_decodes_to_the_same_spans() {
        let original = decode::spans_of(&request(TWO)).unwrap();
        let rebuilt = decode::spans_of(&request_of(&original)).unwrap();
        assert_eq!(original, rebuilt);
    }
}
