//! What a request body will cost in memory once decoded, found by a walk that allocates nothing.
//!
//! A protobuf message with no fields is two bytes on the wire but a few hundred bytes as a Rust
//! struct, and `{}` in OTLP/JSON likewise: a body of 4 MiB of empty spans decodes to hundreds of
//! megabytes. Weighing first lets the receiver refuse such a body before decoding it.

use std::mem::size_of;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

/// Deeper than this the decoders refuse the body themselves (prost stops at 100 levels,
/// serde_json at 128), so the walk stops counting there.
const MAX_DEPTH: usize = 128;

/// The messages of an export request that hold other messages.
#[derive(Clone, Copy)]
enum Msg {
    Request,
    ResourceSpans,
    Resource,
    ScopeSpans,
    Scope,
    Span,
    Event,
    Link,
    Status,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
    EntityRef,
}

/// What a length-delimited field of a message decodes to.
enum Field {
    /// A message of this kind (a struct of its size).
    Message(Msg, usize),
    /// One element of a repeated string field.
    RepeatedString,
    /// Bytes or a string held inline, or a field the decoder skips.
    Plain,
}

fn field(msg: Msg, tag: u64) -> Field {
    use Field::*;
    match (msg, tag) {
        (Msg::Request, 1) => Message(Msg::ResourceSpans, size_of::<ResourceSpans>()),
        (Msg::ResourceSpans, 1) => Message(Msg::Resource, size_of::<Resource>()),
        (Msg::ResourceSpans, 2) => Message(Msg::ScopeSpans, size_of::<ScopeSpans>()),
        (Msg::Resource, 1) | (Msg::Scope, 3) | (Msg::Span, 9) | (Msg::Event, 3) => {
            Message(Msg::KeyValue, size_of::<KeyValue>())
        }
        (Msg::Link, 4) | (Msg::KeyValueList, 1) => Message(Msg::KeyValue, size_of::<KeyValue>()),
        (Msg::Resource, 3) => Message(Msg::EntityRef, size_of::<EntityRef>()),
        (Msg::ScopeSpans, 1) => Message(Msg::Scope, size_of::<InstrumentationScope>()),
        (Msg::ScopeSpans, 2) => Message(Msg::Span, size_of::<Span>()),
        (Msg::Span, 11) => Message(Msg::Event, size_of::<Event>()),
        (Msg::Span, 13) => Message(Msg::Link, size_of::<Link>()),
        (Msg::Span, 15) => Message(Msg::Status, size_of::<Status>()),
        (Msg::KeyValue, 2) | (Msg::ArrayValue, 1) => Message(Msg::AnyValue, size_of::<AnyValue>()),
        (Msg::AnyValue, 5) => Message(Msg::ArrayValue, size_of::<ArrayValue>()),
        (Msg::AnyValue, 6) => Message(Msg::KeyValueList, size_of::<KeyValueList>()),
        (Msg::EntityRef, 3 | 4) => RepeatedString,
        _ => Plain,
    }
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The bytes of structs that decoding `bytes` as `msg` allocates, stopping at the first malformed
/// field (the decoder refuses the body there too, having allocated no more than counted).
fn protobuf_message(bytes: &[u8], msg: Msg, depth: usize) -> usize {
    let mut weight = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        let Some(key) = varint(bytes, &mut at) else {
            break;
        };
        let step = match key & 7 {
            0 => varint(bytes, &mut at).map(|_| 0),
            1 => Some(8),
            5 => Some(4),
            2 => varint(bytes, &mut at).and_then(|n| usize::try_from(n).ok()),
            _ => None,
        };
        let Some(end) = step
            .and_then(|n| at.checked_add(n))
            .filter(|e| *e <= bytes.len())
        else {
            break;
        };
        if key & 7 == 2 {
            weight = weight.saturating_add(match field(msg, key >> 3) {
                Field::Message(inner, size) if depth < MAX_DEPTH => {
                    size.saturating_add(protobuf_message(&bytes[at..end], inner, depth + 1))
                }
                Field::Message(_, size) => size,
                Field::RepeatedString => size_of::<String>(),
                Field::Plain => 0,
            });
        }
        at = end;
    }
    weight
}

/// The bytes of structs that decoding `body` as an OTLP protobuf export request allocates, beside
/// the text and bytes it copies (never more than the body itself).
pub fn protobuf(body: &[u8]) -> usize {
    size_of::<ExportTraceServiceRequest>().saturating_add(protobuf_message(body, Msg::Request, 0))
}

/// The most the struct decoded from a JSON object at this depth can take: depth 1 is the request,
/// 4 a span (or a resource attribute, a scope), deeper ones attributes, values, events, links.
fn json_object_weight(depth: usize) -> usize {
    match depth {
        1 => size_of::<ExportTraceServiceRequest>(),
        2 => size_of::<ResourceSpans>(),
        3 => size_of::<Resource>().max(size_of::<ScopeSpans>()),
        4 => size_of::<Span>()
            .max(size_of::<KeyValue>())
            .max(size_of::<InstrumentationScope>())
            .max(size_of::<EntityRef>()),
        _ => [
            size_of::<KeyValue>(),
            size_of::<AnyValue>(),
            size_of::<Event>(),
            size_of::<Link>(),
            size_of::<Status>(),
            size_of::<ArrayValue>(),
            size_of::<KeyValueList>(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0),
    }
}

/// An upper bound on the bytes of structs that decoding `body` as OTLP/JSON allocates: each
/// object weighs the largest struct it can be at its depth, each string in an array a `String`.
/// A lexer over the bytes, not a parse: strings are skipped with their escapes; malformed JSON is
/// refused by the decoder anyway.
pub fn json(body: &[u8]) -> usize {
    // Open containers: true for an object, false for an array.
    let mut open: Vec<bool> = Vec::new();
    let mut objects = 0usize;
    let mut weight = 0usize;
    let mut at = 0;
    while at < body.len() {
        match body[at] {
            b'"' => {
                if open.last() == Some(&false) {
                    weight = weight.saturating_add(size_of::<String>());
                }
                at += 1;
                while at < body.len() && body[at] != b'"' {
                    at += if body[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => {
                objects += 1;
                if objects <= MAX_DEPTH {
                    weight = weight.saturating_add(json_object_weight(objects));
                }
                open.push(true);
            }
            b'[' => open.push(false),
            b'}' | b']' if open.pop() == Some(true) => objects = objects.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_messages_weigh_their_structs() {
        // 1000 empty ResourceSpans.
        let body = [0x0a, 0x00].repeat(1000);
        assert_eq!(
            protobuf(&body),
            size_of::<ExportTraceServiceRequest>() + 1000 * size_of::<ResourceSpans>()
        );
        let spans = "{},".repeat(999) + "{}";
        let body = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#);
        assert!(json(body.as_bytes()) >= 1000 * size_of::<Span>());
    }

    #[test]
    fn strings_that_look_like_structure_weigh_nothing() {
        let body = br#"{"a":"{{{{[[[\"{{{{"}"#;
        assert_eq!(json(body), size_of::<ExportTraceServiceRequest>());
    }

    #[test]
    fn malformed_protobuf_stops_the_walk_without_panicking() {
        for body in [&[0x0a, 0xff][..], &[0x0a], &[0xff; 11], &[0x0b, 0x00], &[]] {
            let _ = protobuf(body);
        }
    }
}
