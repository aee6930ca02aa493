//! Sending one OTLP/HTTP export: encoding, compression, bounded retries, and reading the answer.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use serde::Serialize;

use super::config::{Compression, Protocol};
use crate::secret::Secret;

/// google.rpc.Status, the body of an OTLP/HTTP error response.
pub use crate::listen::RpcStatus;

/// One prepared POST. Header values are secrets: they never reach output.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, Secret)>,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub gzip: bool,
    /// Over gRPC `body` is the uncompressed protobuf and `gzip` asks for grpc-encoding gzip.
    pub grpc: bool,
}

pub fn encode(request: &ExportTraceServiceRequest, protocol: Protocol) -> Vec<u8> {
    match protocol {
        Protocol::HttpProtobuf | Protocol::Grpc => request.encode_to_vec(),
        Protocol::HttpJson => serde_json::to_vec(request).unwrap_or_default(),
    }
}

pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

impl Request {
    pub fn otlp(
        url: String,
        headers: Vec<(String, Secret)>,
        trace: &ExportTraceServiceRequest,
        protocol: Protocol,
        compression: Compression,
    ) -> Self {
        let body = encode(trace, protocol);
        let gzip = compression == Compression::Gzip;
        let grpc = protocol == Protocol::Grpc;
        Request {
            url,
            headers,
            body: if gzip && !grpc {
                self::gzip(&body)
            } else {
                body
            },
            content_type: protocol.content_type(),
            gzip,
            grpc,
        }
    }
}

/// Why a send failed, in terms a hint can be chosen from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    Http {
        status: u16,
        message: Option<String>,
    },
    Dns {
        message: String,
    },
    Refused {
        message: String,
    },
    Timeout,
    Tls {
        message: String,
    },
    /// A TLS handshake got a plain-HTTP answer: the URL says https:// to an http:// port.
    PlainHttp,
    /// A gRPC status other than OK.
    Grpc {
        code: i32,
        message: Option<String>,
    },
    Connect {
        message: String,
    },
}

impl Failure {
    pub fn summary(&self) -> String {
        match self {
            Failure::Http {
                status,
                message: Some(m),
            } => format!("HTTP {status}: {m}"),
            Failure::Http {
                status,
                message: None,
            } => format!("HTTP {status}"),
            Failure::Dns { message } => format!("DNS lookup failed: {message}"),
            Failure::Refused { message } => format!("connection refused: {message}"),
            Failure::Timeout => "timed out".to_string(),
            Failure::Tls { message } => format!("TLS error: {message}"),
            Failure::PlainHttp => {
                "the endpoint speaks plain HTTP, not TLS (https:// was used)".to_string()
            }
            Failure::Connect { message } => format!("connection failed: {message}"),
            Failure::Grpc { code, message } => {
                let name = super::grpc::code_name(*code);
                match message {
                    Some(m) => format!("gRPC {name}: {m}"),
                    None => format!("gRPC {name}"),
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub status: Option<u16>,
    #[serde(serialize_with = "as_millis")]
    pub latency: Duration,
    pub attempts: u32,
    /// The gRPC status code of the last answer, over gRPC.
    #[serde(skip)]
    pub grpc_code: Option<i32>,
    pub rejected_spans: i64,
    /// A partial-success message: a warning when nothing was rejected.
    pub message: Option<String>,
    pub failure: Option<Failure>,
    /// The server's `Date` header, for clock checks.
    #[serde(skip)]
    pub server_date: Option<SystemTime>,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// The most of an answer's body tracectl reads. Every answer it understands (an OTLP export
/// response, Honeycomb's JSON, an error page worth quoting) is a few KiB; a server that streams
/// without end must not fill the memory.
pub const MAX_ANSWER: usize = 256 * 1024;

/// An answer's body, at most [`MAX_ANSWER`] bytes; `true` when there was more, which is left
/// unread. A body that breaks off is what arrived of it.
pub async fn read_body(response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let cut = read_body_into(response, &mut body).await.unwrap_or(false);
    (body, cut)
}

/// Read an answer's body into `body`, at most [`MAX_ANSWER`] bytes; `Ok(true)` when there was
/// more. An error when the body broke off or the request's timeout fired while it was read: for
/// an answer that must be whole (JSON to parse), that is the failure to report.
pub async fn read_body_into(
    mut response: reqwest::Response,
    body: &mut Vec<u8>,
) -> Result<bool, reqwest::Error> {
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok(true);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(false)
}

/// An answer that is not a success: its status, and what it says. A redirect says where to:
/// tracectl follows none, so that no key or header ever goes to a server the user did not name.
pub fn status_failure(
    status: u16,
    content_type: &str,
    body: &[u8],
    location: Option<&str>,
) -> Failure {
    let message = match location.filter(|_| (300..400).contains(&status)) {
        Some(to) => Some(format!(
            "redirected to {}",
            excerpt(&crate::send::without_userinfo(to), 200)
        )),
        None => error_message(content_type, body),
    };
    Failure::Http { status, message }
}

/// The header `name` of an answer, when it is text.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Exponential backoff from 100 ms, doubling, capped at 5 s, with equal jitter: half the delay is
/// fixed, the other half random (`jitter` in 0..1).
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = Duration::from_millis(100).saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let base = base.min(Duration::from_secs(5));
    base / 2 + base.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
}

/// The message of an error response body: google.rpc.Status, JSON `error`/`message`, or text.
pub fn error_message(content_type: &str, body: &[u8]) -> Option<String> {
    let message = if content_type.starts_with("application/x-protobuf") {
        RpcStatus::decode(body).ok().map(|s| s.message)
    } else if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        ["error", "message", "Message"]
            .iter()
            .find_map(|k| json.get(k).and_then(|v| v.as_str()).map(str::to_string))
    } else {
        Some(String::from_utf8_lossy(body).into_owned())
    }?;
    let message = message.trim().replace(['\n', '\r'], " ");
    if message.is_empty() {
        return None;
    }
    Some(excerpt(&message, 200))
}

/// At most `limit` characters of untrusted text, control characters escaped so that a server's
/// answer cannot drive the user's terminal, `…` when cut.
pub fn excerpt(text: &str, limit: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == limit {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// What came back, for a body tracectl could not read: its content type and a short excerpt.
pub fn describe_body(content_type: &str, body: &[u8]) -> String {
    let kind = if content_type.is_empty() {
        "no content-type".to_string()
    } else {
        format!("content-type {}", excerpt(content_type, 60))
    };
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        format!("{kind}, empty body")
    } else {
        format!("{kind}, body '{}'", excerpt(&text, 80))
    }
}

/// The partial-success block of a 200 answer. JSON is read by hand: OTLP/JSON writes the int64
/// `rejectedSpans` as a string, which the generated types do not accept. An empty body is a
/// full success; a body that is no OTLP response is an error describing what came back.
pub fn partial_success(content_type: &str, body: &[u8]) -> Result<(i64, Option<String>), String> {
    let unreadable = || {
        format!(
            "undecodable response: the 2xx answer is not an OTLP export response ({}); \
             is this endpoint an OTLP receiver, or a proxy or web server in front of one?",
            describe_body(content_type, body)
        )
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((0, None));
    }
    if content_type.starts_with("application/json") {
        let json: serde_json::Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
        if !json.is_object() {
            return Err(unreadable());
        }
        let partial = &json["partialSuccess"];
        let rejected = match &partial["rejectedSpans"] {
            serde_json::Value::Number(n) => n.as_i64().unwrap_or(0),
            serde_json::Value::String(s) => s.parse().unwrap_or(0),
            _ => 0,
        };
        let message = partial["errorMessage"]
            .as_str()
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        return Ok((rejected, message));
    }
    if !(content_type.is_empty() || content_type.starts_with("application/x-protobuf")) {
        return Err(unreadable());
    }
    match ExportTraceServiceResponse::decode(body) {
        Ok(r) => Ok(match r.partial_success {
            Some(p) => (
                p.rejected_spans,
                Some(p.error_message).filter(|m| !m.is_empty()),
            ),
            None => (0, None),
        }),
        Err(_) => Err(unreadable()),
    }
}

/// A failed TLS handshake; a plain-HTTP answer to it gets its own failure and hint.
pub fn tls_failure(message: String) -> Failure {
    let lower = message.to_ascii_lowercase();
    if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
        Failure::PlainHttp
    } else {
        Failure::Tls { message }
    }
}

fn chain(err: &(dyn std::error::Error + 'static)) -> (String, Option<std::io::ErrorKind>) {
    let mut text = String::new();
    let mut kind = None;
    let mut current = Some(err);
    while let Some(e) = current {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&e.to_string());
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            kind.get_or_insert(io.kind());
        }
        current = e.source();
    }
    (text, kind)
}

/// Sort a transport error into the failures a hint can speak to. `None` means a connection reset,
/// which is worth a retry.
pub fn classify(err: &reqwest::Error) -> Option<Failure> {
    if err.is_timeout() {
        return Some(Failure::Timeout);
    }
    let (text, kind) = chain(err);
    let lower = text.to_ascii_lowercase();
    let message = text.rsplit(": ").next().unwrap_or(&text).to_string();
    if kind == Some(std::io::ErrorKind::ConnectionRefused) || lower.contains("connection refused") {
        return Some(Failure::Refused { message });
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        return Some(Failure::Dns { message });
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
    {
        return Some(tls_failure(message));
    }
    if matches!(
        kind,
        Some(
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        )
    ) || lower.contains("connection reset")
        || lower.contains("connection closed before message completed")
    {
        return None;
    }
    Some(Failure::Connect { message })
}

/// POST the request, retrying 429/502/503/504 and connection resets with backoff (honouring
/// Retry-After), all within `timeout`. Never retries other statuses.
pub async fn send(
    client: &reqwest::Client,
    request: &Request,
    timeout: Duration,
    random: &mut impl FnMut() -> f64,
) -> Outcome {
    if request.grpc {
        return super::grpc::send(request, timeout, random).await;
    }
    let started = Instant::now();
    let deadline = started + timeout;
    let mut outcome = Outcome::default();
    loop {
        outcome.attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            outcome.failure.get_or_insert(Failure::Timeout);
            break;
        }
        let mut builder = client
            .post(&request.url)
            .timeout(remaining)
            .header("content-type", request.content_type)
            .body(request.body.clone());
        if request.gzip {
            builder = builder.header("content-encoding", "gzip");
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.expose());
        }
        let retry_in = match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                outcome.status = Some(status);
                outcome.server_date = response
                    .headers()
                    .get("date")
                    .and_then(|d| d.to_str().ok())
                    .and_then(|d| httpdate::parse_http_date(d).ok());
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, SystemTime::now()));
                let location = header(&response, "location");
                let (body, cut) = read_body(response).await;
                if (200..300).contains(&status) {
                    match partial_success(&content_type, &body) {
                        _ if cut => {
                            outcome.message = Some(format!(
                                "the {status} answer went on past {} KiB, which no OTLP export \
                                 response does; is this endpoint an OTLP receiver, or a proxy or \
                                 web server in front of one?",
                                MAX_ANSWER / 1024
                            ))
                        }
                        Ok((rejected, message)) => {
                            outcome.rejected_spans = rejected;
                            outcome.message = message;
                        }
                        // Still a success (the status says so), with a warning saying why
                        // tracectl cannot tell more.
                        Err(warning) => outcome.message = Some(warning),
                    }
                    outcome.failure = None;
                    break;
                }
                outcome.failure = Some(status_failure(
                    status,
                    &content_type,
                    &body,
                    location.as_deref(),
                ));
                if !is_retryable(status) {
                    break;
                }
                wait.unwrap_or_else(|| backoff(outcome.attempts, random()))
            }
            Err(err) => match classify(&err) {
                Some(failure) => {
                    outcome.failure = Some(failure);
                    break;
                }
                None => {
                    outcome.failure = Some(Failure::Connect {
                        message: "connection reset".to_string(),
                    });
                    backoff(outcome.attempts, random())
                }
            },
        };
        if Instant::now() + retry_in >= deadline {
            if let Some(Failure::Http { message, .. }) = &mut outcome.failure {
                let note = format!(
                    "gave up after {} attempt(s): a retry would pass --timeout",
                    outcome.attempts
                );
                *message = Some(match message.take() {
                    Some(m) => format!("{m} ({note})"),
                    None => note,
                });
            }
            break;
        }
        tokio::time::sleep(retry_in).await;
    }
    outcome.latency = started.elapsed();
    outcome
}

/// What to do about a failure, per destination.
pub fn hint(failure: &Failure, destination: &str, url: &str) -> Option<String> {
    let honeycomb = destination == "honeycomb";
    Some(match failure {
        Failure::Http { status: 401, .. } if honeycomb => {
            "the Honeycomb key is invalid or missing: check HONEYCOMB_API_KEY (classic keys also need HONEYCOMB_DATASET / --dataset)".to_string()
        }
        Failure::Http { status: 401, .. } => "the endpoint wants credentials: check the headers (OTEL_EXPORTER_OTLP_HEADERS or --header)".to_string(),
        Failure::Http { status: 403, .. } if honeycomb => "the key lacks the \"Send Events\" permission: use an ingest key, or enable it for this key".to_string(),
        Failure::Http { status: 403, .. } if destination == "xray-otlp" => {
            "AWS denied the request: the identity needs xray:PutTraceSegments (and X-Ray's OTLP endpoint enabled via Transaction Search)".to_string()
        }
        Failure::Http { status: 403, .. } => "the endpoint refused these credentials".to_string(),
        Failure::Http { status: 300..=399, .. } => "point the endpoint at the URL it redirects to: tracectl follows no redirect, so that keys and headers only ever go to the server you named".to_string(),
        Failure::Http { status: 404, .. } if url.matches("/v1/traces").count() > 1 => {
            "the path has /v1/traces twice: OTEL_EXPORTER_OTLP_ENDPOINT is a base URL (the path is appended); put the full URL in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT instead".to_string()
        }
        Failure::Http { status: 404, .. } => format!("nothing answers at {url}: OTLP/HTTP traces go to <base>/v1/traces"),
        Failure::Http { status: 413, .. } => "the server refused the body size".to_string(),
        Failure::Http { status: 415, .. } => "the server does not accept this content type: try --protocol http/protobuf (or http/json)".to_string(),
        Failure::Http { status: 429, .. } => "rate limited: try again later, or raise --timeout to allow more retries".to_string(),
        Failure::Http { status, .. } if *status >= 500 => "the server failed; it is not your configuration. Try again later".to_string(),
        Failure::Http { .. } => return None,
        Failure::Dns { .. } => "the host name does not resolve: check the endpoint's spelling, and DNS or proxy settings".to_string(),
        Failure::Refused { .. } => "nothing listens there: is the collector running and the port right?".to_string(),
        Failure::Timeout => "no answer in time: check the address, firewalls and proxies (HTTPS_PROXY/NO_PROXY), or raise --timeout".to_string(),
        Failure::Tls { .. } => "the TLS handshake failed: for a private CA set OTEL_EXPORTER_OTLP_CERTIFICATE; check http:// vs https://".to_string(),
        Failure::PlainHttp => match url.strip_prefix("https://") {
            Some(rest) => format!("use http://{rest} (this port does not speak TLS)"),
            None => "use http:// for this endpoint: the port does not speak TLS".to_string(),
        },
        Failure::Connect { .. } => return None,
        Failure::Grpc { code: 16, .. } if honeycomb => {
            "the Honeycomb key is invalid or missing: check HONEYCOMB_API_KEY".to_string()
        }
        Failure::Grpc { code: 16 | 7, .. } => "the endpoint refused the credentials: check the headers (OTEL_EXPORTER_OTLP_HEADERS or --header)".to_string(),
        Failure::Grpc { code: 12, .. } => format!("{url} does not serve OTLP/gRPC traces: is it an OTLP/HTTP port (4318)? Then use --protocol http/protobuf"),
        Failure::Grpc { code: 14, .. } => "the endpoint is unavailable: is the receiver running, and does it speak gRPC (HTTP/2) on that port?".to_string(),
        Failure::Grpc { code: 8, .. } => "the receiver refused the message size or is out of capacity".to_string(),
        Failure::Grpc { code: 3, .. } => "the receiver could not decode the export: is the endpoint an OTLP/gRPC receiver?".to_string(),
        Failure::Grpc { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_statuses_retry() {
        for s in [429, 502, 503, 504] {
            assert!(is_retryable(s));
        }
        for s in [400, 401, 403, 404, 413, 415, 500] {
            assert!(!is_retryable(s));
        }
    }

    #[test]
    fn retry_after_in_seconds_or_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(3, 0.0), Duration::from_millis(200));
        assert!(backoff(30, 1.0) <= Duration::from_secs(5));
    }

    #[test]
    fn error_bodies_of_each_kind() {
        let status = RpcStatus {
            code: 3,
            message: "bad spans".into(),
        }
        .encode_to_vec();
        assert_eq!(
            error_message("application/x-protobuf", &status).as_deref(),
            Some("bad spans")
        );
        let honeycomb = br#"{"error": "unknown API key - check your credentials"}"#;
        assert_eq!(
            error_message("application/json", honeycomb).as_deref(),
            Some("unknown API key - check your credentials")
        );
        assert_eq!(
            error_message("text/plain", b"404 page not found\n").as_deref(),
            Some("404 page not found")
        );
        assert_eq!(error_message("text/plain", b""), None);
    }

    #[test]
    fn partial_success_is_read_from_both_encodings() {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 2,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(
            partial_success("application/x-protobuf", &response.encode_to_vec()),
            Ok((2, Some("too old".into())))
        );
        let json = br#"{"partialSuccess": {"rejectedSpans": "1", "errorMessage": "x"}}"#;
        assert_eq!(
            partial_success("application/json", json),
            Ok((1, Some("x".into())))
        );
        assert_eq!(partial_success("application/json", b"{}"), Ok((0, None)));
        let numeric = br#"{"partialSuccess": {"rejectedSpans": 4}}"#;
        assert_eq!(partial_success("application/json", numeric), Ok((4, None)));
        assert_eq!(
            partial_success("application/x-protobuf", b""),
            Ok((0, None))
        );
        assert_eq!(partial_success("", b""), Ok((0, None)));
    }

    #[test]
    fn an_undecodable_success_body_is_described_not_ignored() {
        for (content_type, body) in [
            (
                "text/html",
                &b"<html><body>Welcome to nginx!</body></html>"[..],
            ),
            ("application/json", b"<html>oops</html>"),
            ("application/json", b"[1, 2]"),
            ("application/x-protobuf", b"\xff\xff\xff\xff"),
        ] {
            let warning = partial_success(content_type, body).unwrap_err();
            assert!(warning.starts_with("undecodable response"), "{warning}");
            assert!(warning.contains(content_type), "{warning}");
        }
        let warning = partial_success("text/html", b"<h1>Welcome to nginx!</h1>").unwrap_err();
        assert!(
            warning.contains("'<h1>Welcome to nginx!</h1>'"),
            "{warning}"
        );
    }

    #[test]
    fn untrusted_text_is_escaped_and_cut() {
        assert_eq!(
            excerpt("a\x1b]0;title\x07b", 100),
            "a\\u{1b}]0;title\\u{7}b"
        );
        assert_eq!(excerpt("abcdef", 3), "abc…");
        let m = error_message("text/plain", b"\x1b[2Jcleared").unwrap();
        assert!(!m.contains('\x1b'), "{m}");
    }

    #[test]
    fn plain_http_behind_https_gets_its_own_hint() {
        let f = tls_failure("received corrupt message of type InvalidContentType".into());
        assert_eq!(f, Failure::PlainHttp);
        assert!(f.summary().contains("plain HTTP"));
        assert_eq!(
            hint(&f, "otlp", "https://127.0.0.1:4318/v1/traces").unwrap(),
            "use http://127.0.0.1:4318/v1/traces (this port does not speak TLS)"
        );
        assert!(matches!(
            tls_failure("invalid peer certificate: UnknownIssuer".into()),
            Failure::Tls { .. }
        ));
    }

    #[test]
    fn hints_name_the_likely_cause() {
        let http = |status| Failure::Http {
            status,
            message: None,
        };
        assert!(
            hint(&http(401), "honeycomb", "u")
                .unwrap()
                .contains("HONEYCOMB_API_KEY")
        );
        assert!(
            hint(&http(403), "honeycomb", "u")
                .unwrap()
                .contains("Send Events")
        );
        assert!(
            hint(&http(404), "otlp", "http://h/v1/traces/v1/traces")
                .unwrap()
                .contains("twice")
        );
        assert!(
            hint(&http(415), "otlp", "u")
                .unwrap()
                .contains("--protocol")
        );
        assert!(
            hint(&Failure::Timeout, "otlp", "u")
                .unwrap()
                .contains("--timeout")
        );
        assert!(
            hint(&http(403), "xray-otlp", "u")
                .unwrap()
                .contains("xray:PutTraceSegments")
        );
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let packed = gzip(b"hello hello hello");
        let mut out = String::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello hello hello");
    }
}
