//! OTLP/gRPC: the `TraceService/Export` call on HTTP/2, framed and answered as the gRPC and OTLP
//! specifications say. The framing is done here rather than by tonic's server so that an
//! undecodable message is INVALID_ARGUMENT and an oversized one RESOURCE_EXHAUSTED (tonic's
//! codec answers INTERNAL and OUT_OF_RANGE, which OTLP clients retry), and so that bodies take
//! their share of the receiver's memory budget as they arrive, as OTLP/HTTP bodies do.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

/// The one method served.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// gRPC status codes used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Ok = 0,
    Cancelled = 1,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    ResourceExhausted = 8,
    Unimplemented = 12,
    Internal = 13,
}

/// A gRPC answer's body: at most one message, then trailers (absent in a trailers-only answer,
/// whose status travels in the headers).
pub struct GrpcBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl Body for GrpcBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// `grpc-message` is percent-encoded (the gRPC HTTP/2 protocol): printable ASCII but `%` as is.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn grpc_headers(response: &mut Response<GrpcBody>) {
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
}

/// A trailers-only answer carrying `code` and `message`.
pub fn status(code: Code, message: &str) -> Response<GrpcBody> {
    let mut response = Response::new(GrpcBody {
        data: None,
        trailers: None,
    });
    grpc_headers(&mut response);
    let headers = response.headers_mut();
    headers.insert("grpc-status", HeaderValue::from(code as i32));
    let short: String = message.chars().take(1000).collect();
    if let Ok(value) = HeaderValue::from_str(&percent_encode(&short)) {
        headers.insert("grpc-message", value);
    }
    if code == Code::Unimplemented {
        headers.insert(
            "grpc-accept-encoding",
            HeaderValue::from_static("gzip,identity"),
        );
    }
    response
}

/// A successful answer: one (uncompressed) message, then `grpc-status: 0`.
pub fn ok(message: &[u8]) -> Response<GrpcBody> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from(Code::Ok as i32));
    let mut response = Response::new(GrpcBody {
        data: Some(Bytes::from(frame(message, false))),
        trailers: Some(trailers),
    });
    grpc_headers(&mut response);
    response
}

/// An HTTP error for a request that is not gRPC at all (wrong content type).
pub fn http_error(status_code: StatusCode) -> Response<GrpcBody> {
    let mut response = Response::new(GrpcBody {
        data: None,
        trailers: None,
    });
    *response.status_mut() = status_code;
    response
}

/// One length-prefixed message: a compressed flag, a big-endian u32 length, the bytes.
pub fn frame(message: &[u8], compressed: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(u8::from(compressed));
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// What a unary request's body holds, or why it is no such body.
#[derive(Debug, PartialEq, Eq)]
pub enum Unframed<'a> {
    /// The one message and whether it is compressed.
    Message {
        compressed: bool,
        bytes: &'a [u8],
    },
    /// The prefix announces more than the limit.
    TooLarge {
        announced: u64,
    },
    Malformed(String),
}

/// The single message of a unary call's body, checked against `max` from its prefix alone.
pub fn unframe(body: &[u8], max: usize) -> Unframed<'_> {
    if body.len() < 5 {
        return Unframed::Malformed(format!(
            "{} bytes where a gRPC message (5-byte prefix, then the message) was expected",
            body.len()
        ));
    }
    let compressed = match body[0] {
        0 => false,
        1 => true,
        other => {
            return Unframed::Malformed(format!(
                "compressed flag {other}: a gRPC message starts with 0 or 1"
            ));
        }
    };
    let announced = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as u64;
    if announced > max as u64 {
        return Unframed::TooLarge { announced };
    }
    let rest = &body[5..];
    let len = announced as usize;
    if rest.len() < len {
        return Unframed::Malformed(format!(
            "the message announces {len} bytes but the stream ended after {}",
            rest.len()
        ));
    }
    if rest.len() > len {
        return Unframed::Malformed(
            "more than one message in a unary call (Export takes one request)".to_string(),
        );
    }
    Unframed::Message {
        compressed,
        bytes: rest,
    }
}

/// The prefix of a body read so far, when it already announces more than `max`: refuse early.
pub fn announces_too_much(head: &[u8], max: usize) -> Option<u64> {
    if head.len() < 5 {
        return None;
    }
    let announced = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as u64;
    (announced > max as u64).then_some(announced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_prefixes_are_named() {
        let framed = frame(b"hello", false);
        assert_eq!(framed, b"\0\0\0\0\x05hello");
        assert_eq!(
            unframe(&framed, 100),
            Unframed::Message {
                compressed: false,
                bytes: b"hello"
            }
        );
        assert_eq!(
            unframe(&frame(b"x", true), 100),
            Unframed::Message {
                compressed: true,
                bytes: b"x"
            }
        );
        assert_eq!(
            unframe(&frame(&[0; 50], false), 10),
            Unframed::TooLarge { announced: 50 }
        );
        assert!(matches!(unframe(b"", 10), Unframed::Malformed(_)));
        assert!(matches!(
            unframe(b"\x02\0\0\0\0", 10),
            Unframed::Malformed(_)
        ));
        assert!(matches!(
            unframe(b"\0\0\0\0\x09abc", 10),
            Unframed::Malformed(m) if m.contains("announces 9")
        ));
        let mut two = frame(b"a", false);
        two.extend(frame(b"b", false));
        assert!(matches!(unframe(&two, 10), Unframed::Malformed(_)));
        assert_eq!(
            announces_too_much(b"\0\xff\xff\xff\xff", 10),
            Some(u32::MAX as u64)
        );
        assert_eq!(announces_too_much(b"\0\0\0", 10), None);
    }

    #[test]
    fn messages_are_percent_encoded() {
        assert_eq!(percent_encode("a b%c\n€"), "a b%25c%0A%E2%82%AC");
        let response = status(Code::InvalidArgument, "bad\r\ninjected: 1");
        assert_eq!(response.headers()["grpc-status"], "3");
        assert_eq!(response.headers()["grpc-message"], "bad%0D%0Ainjected: 1");
    }
}
