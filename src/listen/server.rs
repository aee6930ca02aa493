//! The receiver's I/O: an OTLP/HTTP server (hyper) and a UDP socket feeding one collector.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::decode::{self, Encoding, OtlpError};
use super::{ReceivedSpan, render};
use crate::output::LineSink;

/// How received spans are shown.
pub enum Mode {
    /// A tree per trace once it has been quiet for `flush_after`.
    Trees { flush_after: Duration },
    /// One JSON object per span, as it arrives.
    JsonLines,
    /// Kept for the caller to read (`send-test --to local`).
    Keep,
    /// Only counted (load tests).
    Count,
}

/// Traces waiting to be shown are capped; past this the oldest is shown at once.
const MAX_PENDING_TRACES: usize = 10_000;
/// A trace with this many spans waiting is shown at once.
const MAX_PENDING_SPANS_PER_TRACE: usize = 10_000;
/// Trace ids remembered for the summary's count; past this the count restarts its memory.
const MAX_SEEN_TRACES: usize = 100_000;
/// Requests read and decoded at the same time; more wait, which pushes back on senders and keeps
/// memory bounded (at most this many bodies of --max-body each).
const MAX_IN_FLIGHT: usize = 64;

#[derive(Default)]
struct Pending {
    traces: HashMap<String, (Vec<ReceivedSpan>, Instant)>,
    kept: Vec<ReceivedSpan>,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Stats {
    pub traces: u64,
    pub spans: u64,
    pub rejected_requests: u64,
    pub bad_datagrams: u64,
}

pub struct Collector {
    mode: Mode,
    out: Option<LineSink>,
    pending: Mutex<Pending>,
    spans: AtomicU64,
    traces: AtomicU64,
    rejected: AtomicU64,
    bad_datagrams: AtomicU64,
    arrived: tokio::sync::Notify,
    seen: Mutex<std::collections::HashSet<String>>,
}

impl Collector {
    pub fn new(mode: Mode, out: Option<LineSink>) -> Arc<Self> {
        Arc::new(Collector {
            mode,
            out,
            pending: Mutex::default(),
            spans: AtomicU64::new(0),
            traces: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            bad_datagrams: AtomicU64::new(0),
            arrived: tokio::sync::Notify::new(),
            seen: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn accept(&self, spans: Vec<ReceivedSpan>) {
        if spans.is_empty() {
            return;
        }
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            for span in &spans {
                if seen.len() >= MAX_SEEN_TRACES {
                    seen.clear();
                }
                if !seen.contains(&span.trace_id) {
                    seen.insert(span.trace_id.clone());
                    self.traces.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let count = spans.len() as u64;
        match &self.mode {
            Mode::JsonLines => {
                if let Some(out) = &self.out {
                    let mut text = Vec::with_capacity(spans.len() * 512);
                    for span in &spans {
                        render::json_line_into(span, &mut text);
                    }
                    out.write_bytes(&text);
                }
            }
            Mode::Keep => self.lock().kept.extend(spans),
            Mode::Count => {}
            Mode::Trees { .. } => {
                let mut overflow = Vec::new();
                {
                    let mut pending = self.lock();
                    let now = Instant::now();
                    for span in spans {
                        let id = span.trace_id.clone();
                        let entry = pending
                            .traces
                            .entry(id.clone())
                            .or_insert_with(|| (Vec::new(), now));
                        entry.0.push(span);
                        entry.1 = now;
                        if entry.0.len() >= MAX_PENDING_SPANS_PER_TRACE {
                            overflow.extend(pending.traces.remove(&id).map(|(s, _)| s));
                        }
                    }
                    while pending.traces.len() > MAX_PENDING_TRACES {
                        let oldest = pending
                            .traces
                            .iter()
                            .min_by_key(|(_, (_, t))| *t)
                            .map(|(k, _)| k.clone());
                        match oldest.and_then(|k| pending.traces.remove(&k)) {
                            Some((spans, _)) => overflow.push(spans),
                            None => break,
                        }
                    }
                }
                for trace in overflow {
                    self.show(&trace);
                }
            }
        }
        self.spans.fetch_add(count, Ordering::Relaxed);
        self.arrived.notify_waiters();
    }

    fn show(&self, trace: &[ReceivedSpan]) {
        if let Some(out) = &self.out {
            out.write(&format!("{}\n", render::tree(trace)));
        }
    }

    /// Show the traces that have been quiet long enough (all of them with `all`).
    pub fn flush(&self, all: bool) {
        let quiet_for = match self.mode {
            Mode::Trees { flush_after } => flush_after,
            _ => {
                if let Some(out) = &self.out {
                    out.flush();
                }
                return;
            }
        };
        let ready: Vec<Vec<ReceivedSpan>> = {
            let mut pending = self.lock();
            let now = Instant::now();
            let keys: Vec<String> = pending
                .traces
                .iter()
                .filter(|(_, (_, last))| all || now.duration_since(*last) >= quiet_for)
                .map(|(k, _)| k.clone())
                .collect();
            let mut ready: Vec<Vec<ReceivedSpan>> = keys
                .iter()
                .filter_map(|k| pending.traces.remove(k))
                .map(|(s, _)| s)
                .collect();
            ready.sort_by_key(|t| t.iter().map(|s| s.start_unix_nano).min().unwrap_or(0));
            ready
        };
        for trace in &ready {
            self.show(trace);
        }
        if let Some(out) = &self.out {
            out.flush();
        }
    }

    pub fn stats(&self) -> Stats {
        Stats {
            traces: self.traces.load(Ordering::Relaxed),
            spans: self.spans.load(Ordering::Relaxed),
            rejected_requests: self.rejected.load(Ordering::Relaxed),
            bad_datagrams: self.bad_datagrams.load(Ordering::Relaxed),
        }
    }

    /// Wait until at least `n` spans have arrived in all.
    pub async fn wait_for_spans(&self, n: u64) {
        loop {
            let notified = self.arrived.notified();
            if self.spans.load(Ordering::Relaxed) >= n {
                return;
            }
            notified.await;
        }
    }

    /// The kept spans of one trace (`Mode::Keep`).
    pub fn kept(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        self.lock()
            .kept
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

pub struct Config {
    pub otlp: Option<SocketAddr>,
    pub xray: Option<SocketAddr>,
    pub max_body: usize,
}

/// Where the receivers listen once bound (ports resolved when 0 was asked for).
pub struct Bound {
    pub otlp: Option<SocketAddr>,
    pub xray: Option<SocketAddr>,
}

fn reply(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

async fn handle(
    request: Request<Incoming>,
    collector: Arc<Collector>,
    max_body: usize,
    permits: Arc<tokio::sync::Semaphore>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let _permit = permits.acquire().await;
    let reject = |status: StatusCode, content_type: &str, body: Vec<u8>| {
        collector.rejected.fetch_add(1, Ordering::Relaxed);
        Ok(reply(status, content_type, body))
    };
    if request.uri().path() != "/v1/traces" {
        return reject(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"not found: OTLP traces go to POST /v1/traces\n".to_vec(),
        );
    }
    if request.method() != hyper::Method::POST {
        return reject(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            b"use POST\n".to_vec(),
        );
    }
    let header = |name: hyper::header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(hyper::header::CONTENT_TYPE).unwrap_or_default();
    let Some(encoding) = Encoding::from_content_type(&content_type) else {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text/plain",
            b"use application/x-protobuf or application/json\n".to_vec(),
        );
    };
    let content_encoding = header(hyper::header::CONTENT_ENCODING);
    let declared = header(hyper::header::CONTENT_LENGTH).and_then(|l| l.parse::<usize>().ok());
    if declared.is_some_and(|l| l > max_body) {
        return reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            encoding.content_type(),
            decode::status_body(encoding, "body too large"),
        );
    }
    let body = match Limited::new(request.into_body(), max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err)
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                encoding.content_type(),
                decode::status_body(encoding, "body too large"),
            );
        }
        Err(err) => {
            return reject(
                StatusCode::BAD_REQUEST,
                encoding.content_type(),
                decode::status_body(encoding, &format!("reading the body: {err}")),
            );
        }
    };
    match decode::decode_otlp(&content_type, content_encoding.as_deref(), &body, max_body) {
        Ok((spans, encoding)) => {
            collector.accept(spans);
            Ok(reply(
                StatusCode::OK,
                encoding.content_type(),
                decode::success_body(encoding),
            ))
        }
        Err(OtlpError::TooLarge) => reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            encoding.content_type(),
            decode::status_body(encoding, "body too large"),
        ),
        Err(OtlpError::UnsupportedMediaType) => {
            reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain", Vec::new())
        }
        Err(OtlpError::BadRequest(message)) => reject(
            StatusCode::BAD_REQUEST,
            encoding.content_type(),
            decode::status_body(encoding, &message),
        ),
    }
}

/// Bind the receivers and serve them on the current runtime until it stops.
pub async fn start(config: &Config, collector: Arc<Collector>) -> std::io::Result<Bound> {
    let mut bound = Bound {
        otlp: None,
        xray: None,
    };
    if let Some(addr) = config.otlp {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("OTLP/HTTP on {addr}: {e}")))?;
        bound.otlp = Some(listener.local_addr()?);
        let collector = Arc::clone(&collector);
        let max_body = config.max_body;
        let permits = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let collector = Arc::clone(&collector);
                let permits = Arc::clone(&permits);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(req, Arc::clone(&collector), max_body, Arc::clone(&permits))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    }
    if let Some(addr) = config.xray {
        let socket = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("X-Ray UDP on {addr}: {e}")))?;
        bound.xray = Some(socket.local_addr()?);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                let Ok((n, _)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                match decode::decode_xray(&buf[..n]) {
                    Ok(spans) => collector.accept(spans),
                    Err(_) => {
                        collector.bad_datagrams.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(trace: usize, i: usize) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: format!("{trace:032x}"),
            span_id: format!("{i:016x}"),
            parent_id: None,
            service: "s".into(),
            name: "n".into(),
            kind: "internal",
            start_unix_nano: 0,
            end_unix_nano: 1,
            error: false,
            status_message: None,
            attributes: serde_json::Map::new(),
            source: "otlp",
        }
    }

    #[test]
    fn pending_traces_and_spans_stay_bounded() {
        let collector = Collector::new(
            Mode::Trees {
                flush_after: Duration::from_secs(3600),
            },
            None,
        );
        collector.accept(
            (0..MAX_PENDING_SPANS_PER_TRACE + 5)
                .map(|i| span(1, i))
                .collect(),
        );
        assert!(
            collector
                .lock()
                .traces
                .get(&format!("{:032x}", 1))
                .is_none_or(|(s, _)| s.len() < MAX_PENDING_SPANS_PER_TRACE)
        );
        collector.accept(
            (0..MAX_PENDING_TRACES + 50)
                .map(|t| span(t + 10, 0))
                .collect(),
        );
        assert!(collector.lock().traces.len() <= MAX_PENDING_TRACES);
        let stats = collector.stats();
        assert_eq!(
            stats.spans as usize,
            MAX_PENDING_SPANS_PER_TRACE + 5 + MAX_PENDING_TRACES + 50
        );
        assert_eq!(stats.traces as usize, 1 + MAX_PENDING_TRACES + 50);
        collector.flush(true);
        assert!(collector.lock().traces.is_empty());
    }
}
