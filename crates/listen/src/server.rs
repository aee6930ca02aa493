//! The receiver's I/O: an OTLP/HTTP server (hyper) and a UDP socket feeding one collector.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::{Semaphore, SemaphorePermit, watch};

use super::decode::{self, Encoding, OtlpError};
use super::grpc::{self, Code, GrpcBody, Unframed};
use super::{ReceivedSpan, render, sampling};
use crate::LineSink;

/// How received spans are shown.
pub enum Mode {
    /// A tree per trace once it has been quiet for `flush_after`.
    Trees { flush_after: Duration },
    /// A waterfall per trace once it has been quiet for `flush_after`.
    Waterfalls {
        flush_after: Duration,
        style: super::waterfall::Style,
    },
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
/// Bytes of spans waiting to be shown, all traces together; past this the least recently seen
/// trace is shown at once. Without it 10 000 traces of 10 000 spans could wait: gigabytes.
const MAX_PENDING_BYTES: usize = 64 << 20;
/// A trace that keeps receiving spans is shown once it has waited this many `--flush-after`s, so
/// a client that reuses one trace id for ever cannot keep it off the screen.
const MAX_WAIT_FLUSHES: u32 = 10;
/// Trace ids remembered for the summary's count; past this the count restarts its memory.
const MAX_SEEN_TRACES: usize = 100_000;
/// Spans kept for `send-test --to local` (and at most [`MAX_PENDING_BYTES`] of them); a client that
/// floods the port cannot grow it further.
const MAX_KEPT_SPANS: usize = 100_000;

/// The limits that keep one client from starving the others. Fixed for `listen`; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's head must arrive within this; it is also how long an idle keep-alive
    /// connection stays open.
    pub header_read: Duration,
    /// A request's whole body must arrive within this.
    pub body_read: Duration,
    /// Reading, decoding and answering one request must end within this.
    pub request: Duration,
    /// Open connections; one more is accepted and closed at once.
    pub connections: usize,
    /// Bodies of `--max-body` that may be held in memory at once; a body takes its share as its
    /// bytes arrive, so half-sent bodies hold only what they sent.
    pub bodies_in_memory: usize,
    /// A connection is asked to close after this long, so none is held forever.
    pub connection_age: Duration,
    /// An HTTP/2 (gRPC) connection with no call open for this long, once it has made one, is
    /// asked to close. gRPC clients keep their connection between exports (the SDKs' batch
    /// processor exports every 5 s), so this is longer than `header_read`, which bounds the wait
    /// for the first call.
    pub grpc_idle: Duration,
    /// Calls open at once on one HTTP/2 connection.
    pub grpc_streams: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(5),
            body_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            connections: 512,
            bodies_in_memory: 64,
            connection_age: Duration::from_secs(600),
            grpc_idle: Duration::from_secs(60),
            grpc_streams: 100,
        }
    }
}

/// Where shown spans go.
enum Sink {
    Stdout(Box<dyn LineSink>),
    /// Kept in memory, for tests and fuzzing.
    Memory(Mutex<Vec<u8>>),
}

impl Sink {
    fn write(&self, text: &str) {
        match self {
            Sink::Stdout(out) => out.write(text),
            Sink::Memory(buf) => lock(buf).extend_from_slice(text.as_bytes()),
        }
    }

    fn write_bytes(&self, bytes: &[u8]) {
        match self {
            Sink::Stdout(out) => out.write_bytes(bytes),
            Sink::Memory(buf) => lock(buf).extend_from_slice(bytes),
        }
    }

    fn flush(&self) {
        if let Sink::Stdout(out) = self {
            out.flush();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

struct PendingTrace {
    spans: Vec<ReceivedSpan>,
    /// What `spans` weigh ([`ReceivedSpan::weight`]).
    bytes: usize,
    first_seen: Instant,
    last_seen: Instant,
    /// Its key in `Pending::by_last_seen`.
    seq: u64,
    /// Its key in `Pending::by_first_seen`.
    born: u64,
}

/// Traces waiting to be shown, with indexes by last and first arrival so that eviction and
/// flushing touch only the traces they take (each step O(log n), never a scan of every trace).
#[derive(Default)]
struct Pending {
    traces: HashMap<String, PendingTrace>,
    /// Arrival sequence number -> trace id; oldest first. Sequence numbers grow with time, so
    /// this is also the order of `last_seen`.
    by_last_seen: BTreeMap<u64, String>,
    /// The sequence number of a trace's first arrival -> trace id: the order of `first_seen`.
    by_first_seen: BTreeMap<u64, String>,
    next_seq: u64,
    /// What every pending trace weighs together.
    bytes: usize,
    kept: Vec<ReceivedSpan>,
    /// What `kept` weighs.
    kept_bytes: usize,
}

fn weight_of(spans: &[ReceivedSpan]) -> usize {
    spans.iter().map(ReceivedSpan::weight).sum()
}

impl Pending {
    /// Add spans of one trace; returns what must be shown now because the trace reached the
    /// per-trace cap (in pieces of the cap).
    fn add(
        &mut self,
        trace_id: String,
        spans: Vec<ReceivedSpan>,
        now: Instant,
    ) -> Vec<Vec<ReceivedSpan>> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let added = weight_of(&spans);
        let entry = self
            .traces
            .entry(trace_id.clone())
            .or_insert_with(|| PendingTrace {
                spans: Vec::new(),
                bytes: 0,
                first_seen: now,
                last_seen: now,
                seq,
                born: seq,
            });
        if entry.born == seq {
            self.by_first_seen.insert(seq, trace_id.clone());
        }
        self.by_last_seen.remove(&entry.seq);
        entry.spans.extend(spans);
        entry.bytes += added;
        self.bytes += added;
        entry.last_seen = now;
        entry.seq = seq;
        let mut full = Vec::new();
        while entry.spans.len() >= MAX_PENDING_SPANS_PER_TRACE {
            let rest = entry.spans.split_off(MAX_PENDING_SPANS_PER_TRACE);
            let piece = std::mem::replace(&mut entry.spans, rest);
            let shown = weight_of(&piece);
            entry.bytes -= shown;
            self.bytes -= shown;
            full.push(piece);
        }
        if entry.spans.is_empty() {
            let born = entry.born;
            self.traces.remove(&trace_id);
            self.by_first_seen.remove(&born);
        } else {
            self.by_last_seen.insert(seq, trace_id);
        }
        full
    }

    /// Take one trace out of the store and both indexes.
    fn take(&mut self, id: &str) -> Option<Vec<ReceivedSpan>> {
        let trace = self.traces.remove(id)?;
        self.by_last_seen.remove(&trace.seq);
        self.by_first_seen.remove(&trace.born);
        self.bytes -= trace.bytes;
        Some(trace.spans)
    }

    /// Add one request's spans, grouped by trace (`groups` holds indexes into `spans`), then
    /// evict the oldest traces past the bounds; returns what must be shown now.
    fn add_groups(
        &mut self,
        spans: Vec<ReceivedSpan>,
        groups: &[Vec<usize>],
    ) -> Vec<Vec<ReceivedSpan>> {
        let mut slots: Vec<Option<ReceivedSpan>> = spans.into_iter().map(Some).collect();
        let mut overflow = Vec::new();
        let now = Instant::now();
        for group in groups {
            let trace: Vec<ReceivedSpan> = group.iter().filter_map(|i| slots[*i].take()).collect();
            let id = trace[0].trace_id.clone();
            overflow.extend(self.add(id, trace, now));
        }
        while self.traces.len() > MAX_PENDING_TRACES || self.bytes > MAX_PENDING_BYTES {
            let Some(oldest) = self.pop_oldest() else {
                break;
            };
            overflow.push(oldest);
        }
        overflow
    }

    fn pop_oldest(&mut self) -> Option<Vec<ReceivedSpan>> {
        let (_, id) = self.by_last_seen.pop_first()?;
        self.take(&id)
    }

    /// The traces quiet since `before` or waiting since `born_before` (every trace with `None`),
    /// oldest arrival first.
    fn take_quiet(
        &mut self,
        before: Option<Instant>,
        born_before: Option<Instant>,
    ) -> Vec<Vec<ReceivedSpan>> {
        let mut ready = Vec::new();
        while let Some((_, id)) = self.by_last_seen.first_key_value() {
            let trace = &self.traces[id];
            if before.is_some_and(|b| trace.last_seen > b) {
                break;
            }
            ready.extend(self.pop_oldest());
        }
        while let Some((_, id)) = self.by_first_seen.first_key_value() {
            let trace = &self.traces[id];
            if born_before.is_none_or(|b| trace.first_seen > b) {
                break;
            }
            let id = id.clone();
            ready.extend(self.take(&id));
        }
        ready
    }
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Stats {
    pub traces: u64,
    pub spans: u64,
    pub rejected_requests: u64,
    pub bad_datagrams: u64,
    pub refused_connections: u64,
}

pub struct Collector {
    mode: Mode,
    out: Option<Sink>,
    pending: Mutex<Pending>,
    spans: AtomicU64,
    traces: AtomicU64,
    rejected: AtomicU64,
    bad_datagrams: AtomicU64,
    refused_connections: AtomicU64,
    arrived: tokio::sync::Notify,
    seen: Mutex<HashSet<String>>,
    /// Where received requests are saved (`listen --save`).
    saver: std::sync::OnceLock<super::saved::Saver>,
    /// The instrumentation check (`listen`; `--check` reports after each trace).
    checks: std::sync::OnceLock<Checks>,
    /// Whether listen already said it takes no metrics or logs.
    told_traces_only: std::sync::atomic::AtomicBool,
}

/// Findings kept for the summary; past this they are counted, not kept.
const MAX_KEPT_FINDINGS: usize = 1000;

struct Checks {
    checker: Mutex<super::check::Checker>,
    /// Report findings as each trace is shown, not only at the end.
    per_trace: bool,
    /// Traces waiting to be checked when the view shows spans one by one (JSON lines).
    pending: Mutex<Pending>,
    flush_after: Duration,
    findings: Mutex<Vec<super::check::Finding>>,
    count: AtomicU64,
    started: Instant,
}

impl Collector {
    pub fn new(mode: Mode, out: Option<Box<dyn LineSink>>) -> Arc<Self> {
        Self::with_sink(mode, out.map(Sink::Stdout))
    }

    /// A collector that keeps what it shows in memory ([`Collector::take_output`]).
    pub fn capturing(mode: Mode) -> Arc<Self> {
        Self::with_sink(mode, Some(Sink::Memory(Mutex::default())))
    }

    fn with_sink(mode: Mode, out: Option<Sink>) -> Arc<Self> {
        Arc::new(Collector {
            mode,
            out,
            pending: Mutex::default(),
            spans: AtomicU64::new(0),
            traces: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            bad_datagrams: AtomicU64::new(0),
            refused_connections: AtomicU64::new(0),
            arrived: tokio::sync::Notify::new(),
            seen: Mutex::default(),
            saver: std::sync::OnceLock::new(),
            checks: std::sync::OnceLock::new(),
            told_traces_only: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// What a capturing collector has shown so far.
    pub fn take_output(&self) -> Vec<u8> {
        match &self.out {
            Some(Sink::Memory(buf)) => std::mem::take(&mut *lock(buf)),
            _ => Vec::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        lock(&self.pending)
    }

    /// Save every request received from now on with `saver`.
    pub fn save_to(&self, saver: super::saved::Saver) {
        let _ = self.saver.set(saver);
    }

    pub fn saver(&self) -> Option<&super::saved::Saver> {
        self.saver.get()
    }

    /// Check the instrumentation of what arrives; with `per_trace`, report after each trace
    /// (traces of a JSON-lines view are checked once quiet for `flush_after`).
    pub fn enable_checks(&self, per_trace: bool, flush_after: Duration) {
        let _ = self.checks.set(Checks {
            checker: Mutex::default(),
            per_trace,
            pending: Mutex::default(),
            flush_after,
            findings: Mutex::default(),
            count: AtomicU64::new(0),
            started: Instant::now(),
        });
    }

    /// One decoded OTLP export request that [`decode::validate`] passed.
    pub fn receive(&self, request: &ExportTraceServiceRequest) {
        if let Some(saver) = self.saver.get() {
            saver.save(request);
        }
        let checks = self.checks.get();
        if let Some(checks) = checks {
            let now = checks.started.elapsed().as_secs_f64();
            lock(&checks.checker).observe(request, now);
        }
        if matches!(self.mode, Mode::JsonLines) && !checks.is_some_and(|c| c.per_trace) {
            self.accept_json_lines(request);
        } else {
            self.accept(decode::spans_of_valid(request));
        }
    }

    /// [`Collector::accept`] for the JSON view when no trace waits to be checked: the lines are
    /// written straight from the request.
    fn accept_json_lines(&self, request: &ExportTraceServiceRequest) {
        let count = decode::span_count(request);
        if count == 0 {
            return;
        }
        // Each trace once, in arrival order as `accept` counts: the seen set may fill up midway.
        let mut here: HashSet<&[u8]> = HashSet::new();
        let traces = decode::spans_in(request)
            .map(|s| s.trace_id.as_slice())
            .filter(|id| here.insert(id));
        self.count_traces(traces.map(crate::hex));
        if let Some(out) = &self.out {
            let mut text = Vec::with_capacity(count * 512);
            render::json_lines_of(request, &mut text);
            out.write_bytes(&text);
        }
        self.spans.fetch_add(count as u64, Ordering::Relaxed);
        self.arrived.notify_waiters();
    }

    /// Count the trace ids never seen before.
    fn count_traces<Id: AsRef<str> + Into<String>>(&self, ids: impl Iterator<Item = Id>) {
        let mut seen = lock(&self.seen);
        for id in ids {
            if seen.len() >= MAX_SEEN_TRACES {
                seen.clear();
            }
            if !seen.contains(id.as_ref()) {
                seen.insert(id.into());
                self.traces.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Spans of one X-Ray datagram: saved as an OTLP request, like the rest.
    pub fn receive_xray(&self, spans: Vec<ReceivedSpan>) {
        if let Some(saver) = self.saver.get() {
            saver.save(&super::saved::request_of(&spans));
        }
        self.accept(spans);
    }

    pub fn accept(&self, spans: Vec<ReceivedSpan>) {
        if spans.is_empty() {
            return;
        }
        let count = spans.len() as u64;
        // Spans of one request grouped by trace, in arrival order: each trace is then counted,
        // indexed and stored once per request, whatever the number of its spans.
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, span) in spans.iter().enumerate() {
            let at = *index.entry(span.trace_id.as_str()).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[at].push(i);
        }
        self.count_traces(groups.iter().map(|g| &spans[g[0]].trace_id));
        drop(index);
        match &self.mode {
            Mode::JsonLines => {
                if let Some(out) = &self.out {
                    let mut text = Vec::with_capacity(spans.len() * 512);
                    for span in &spans {
                        render::json_line_into(span, &mut text);
                    }
                    out.write_bytes(&text);
                }
                // Spans stream out one by one here; grouping them into traces to check costs
                // about a fifth of the throughput, so it is done only when asked (--check).
                if let Some(checks) = self.checks.get().filter(|c| c.per_trace) {
                    let overflow = lock(&checks.pending).add_groups(spans, &groups);
                    for trace in overflow {
                        self.check(&trace);
                    }
                }
            }
            Mode::Keep => {
                let mut pending = self.lock();
                for span in spans {
                    let weight = span.weight();
                    if pending.kept.len() >= MAX_KEPT_SPANS
                        || pending.kept_bytes + weight > MAX_PENDING_BYTES
                    {
                        break;
                    }
                    pending.kept_bytes += weight;
                    pending.kept.push(span);
                }
            }
            Mode::Count => {}
            Mode::Trees { .. } | Mode::Waterfalls { .. } => {
                let overflow = self.lock().add_groups(spans, &groups);
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
            let text = match self.mode {
                Mode::Waterfalls { style, .. } => super::waterfall::waterfall(trace, style),
                _ => render::tree(trace),
            };
            out.write(&format!("{text}\n"));
        }
        self.check(trace);
    }

    /// Check one trace; with `--check`, report what is new at once.
    fn check(&self, trace: &[ReceivedSpan]) {
        let Some(checks) = self.checks.get() else {
            return;
        };
        let mut found = super::check::check_trace(trace);
        let fresh = {
            let mut checker = lock(&checks.checker);
            found.extend(checker.service_findings());
            checker.fresh(found)
        };
        self.record(checks, fresh);
    }

    fn record(&self, checks: &Checks, fresh: Vec<super::check::Finding>) {
        if fresh.is_empty() {
            return;
        }
        checks
            .count
            .fetch_add(fresh.len() as u64, Ordering::Relaxed);
        if checks.per_trace {
            self.report(&fresh);
        }
        let mut kept = lock(&checks.findings);
        let room = MAX_KEPT_FINDINGS.saturating_sub(kept.len());
        kept.extend(fresh.into_iter().take(room));
    }

    /// Write findings: one JSON object per line in the JSON view, else a warning and a fix each.
    fn report(&self, findings: &[super::check::Finding]) {
        let Some(out) = &self.out else {
            return;
        };
        if matches!(self.mode, Mode::JsonLines) {
            let mut text = Vec::new();
            for finding in findings {
                let _ = serde_json::to_writer(&mut text, finding);
                text.push(b'\n');
            }
            out.write_bytes(&text);
        } else {
            out.write(&super::check::human(findings));
        }
        out.flush();
    }

    /// At the end: check what still waits, and the services as they stand; report what is new
    /// when reporting per trace. Returns every finding (at most `MAX_KEPT_FINDINGS`) and
    /// their count.
    pub fn finish_checks(&self) -> (Vec<super::check::Finding>, u64) {
        let Some(checks) = self.checks.get() else {
            return (Vec::new(), 0);
        };
        let waiting = lock(&checks.pending).take_quiet(None, None);
        for trace in &waiting {
            self.check(trace);
        }
        let fresh = {
            let mut checker = lock(&checks.checker);
            let found = checker.service_findings();
            checker.fresh(found)
        };
        self.record(checks, fresh);
        let all = lock(&checks.findings).clone();
        (all, checks.count.load(Ordering::Relaxed))
    }

    /// Show the traces that have been quiet long enough (all of them with `all`).
    pub fn flush(&self, all: bool) {
        if let (Mode::JsonLines, Some(checks)) = (&self.mode, self.checks.get()) {
            let now = Instant::now();
            let ready = match (all, now.checked_sub(checks.flush_after)) {
                (true, _) => lock(&checks.pending).take_quiet(None, None),
                (false, Some(before)) => lock(&checks.pending).take_quiet(
                    Some(before),
                    now.checked_sub(checks.flush_after.saturating_mul(MAX_WAIT_FLUSHES)),
                ),
                (false, None) => Vec::new(),
            };
            for trace in &ready {
                self.check(trace);
            }
        }
        let quiet_for = match self.mode {
            Mode::Trees { flush_after } | Mode::Waterfalls { flush_after, .. } => flush_after,
            _ => {
                if let Some(out) = &self.out {
                    out.flush();
                }
                return;
            }
        };
        let now = Instant::now();
        let waited_for = quiet_for.saturating_mul(MAX_WAIT_FLUSHES);
        let mut ready = match (all, now.checked_sub(quiet_for)) {
            (true, _) => self.lock().take_quiet(None, None),
            (false, Some(before)) => self
                .lock()
                .take_quiet(Some(before), now.checked_sub(waited_for)),
            (false, None) => Vec::new(),
        };
        ready.sort_by_cached_key(|t| t.iter().map(|s| s.start_unix_nano).min().unwrap_or(0));
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
            refused_connections: self.refused_connections.load(Ordering::Relaxed),
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

    /// Every kept span (`Mode::Keep`).
    pub fn kept_all(&self) -> Vec<ReceivedSpan> {
        self.lock().kept.clone()
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

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub otlp: Option<SocketAddr>,
    pub grpc: Option<SocketAddr>,
    pub xray: Option<SocketAddr>,
    pub max_body: usize,
}

/// Where the receivers listen once bound (ports resolved when 0 was asked for).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bound {
    pub otlp: Option<SocketAddr>,
    pub grpc: Option<SocketAddr>,
    pub xray: Option<SocketAddr>,
}

/// The receivers serving: where they listen, and how to stop them. Dropped without
/// [`Receivers::stop`], they serve until the runtime stops.
pub struct Receivers {
    pub bound: Bound,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Receivers {
    /// Stop receiving: the ports close, no datagram is read, and every open connection is asked
    /// to close once the request it has begun is answered, so a request whose spans were taken
    /// gets its answer. Returns `false` if connections were still open after `within`.
    pub async fn stop(self, within: Duration) -> bool {
        let _ = self.stop.send(true);
        let tasks = self.tasks;
        tokio::time::timeout(within, async move {
            for task in tasks {
                let _ = task.await;
            }
        })
        .await
        .is_ok()
    }
}

/// Resolves once the receivers are told to stop; never, if their handle was dropped unstopped.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    TimedOut,
    Read(hyper::Error),
}

/// Read a body of at most `max` bytes before `deadline`, taking its share of `budget` as the bytes
/// arrive. The permits are held until the returned value is dropped.
async fn read_body<'a>(
    body: Incoming,
    max: usize,
    budget: &'a Semaphore,
    deadline: tokio::time::Instant,
) -> Result<(Vec<u8>, Option<SemaphorePermit<'a>>), BodyError> {
    read_body_checked(body, max, budget, deadline, |_| false).await
}

/// [`read_body`], refusing as too large as soon as `too_large` says so of what arrived so far
/// (a gRPC prefix announcing more than the limit).
async fn read_body_checked<'a>(
    mut body: Incoming,
    max: usize,
    budget: &'a Semaphore,
    deadline: tokio::time::Instant,
    too_large: impl Fn(&[u8]) -> bool,
) -> Result<(Vec<u8>, Option<SemaphorePermit<'a>>), BodyError> {
    let mut bytes = Vec::new();
    let mut held: Option<SemaphorePermit<'a>> = None;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TimedOut),
            Ok(None) => return Ok((bytes, held)),
            Ok(Some(Err(e))) => return Err(BodyError::Read(e)),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > max {
            return Err(BodyError::TooLarge);
        }
        let Ok(n) = u32::try_from(data.len()) else {
            return Err(BodyError::TooLarge);
        };
        let permit = match tokio::time::timeout_at(deadline, budget.acquire_many(n)).await {
            Err(_) => return Err(BodyError::TimedOut),
            // The budget is never closed; a closed one could only mean shutting down.
            Ok(Err(_)) => return Err(BodyError::TimedOut),
            Ok(Ok(permit)) => permit,
        };
        match &mut held {
            Some(all) => all.merge(permit),
            None => held = Some(permit),
        }
        bytes.extend_from_slice(&data);
        if too_large(&bytes) {
            return Err(BodyError::TooLarge);
        }
    }
}

/// Shared by every connection of one receiver.
struct Shared {
    collector: Arc<Collector>,
    max_body: usize,
    limits: Limits,
    /// Bytes of request bodies held in memory, at most `limits.bodies_in_memory * max_body`.
    budget: Semaphore,
}

impl Shared {
    fn new(collector: &Arc<Collector>, config: &Config, limits: Limits) -> Self {
        Shared {
            collector: Arc::clone(collector),
            max_body: config.max_body,
            limits,
            budget: Semaphore::new(body_budget(config, &limits)),
        }
    }
}

/// What one TCP receiver serves: the connection handling (caps, timeouts, ageing) is shared.
trait Endpoint: Send + Sync + 'static {
    /// Served over HTTP/2 (gRPC) rather than HTTP/1.1.
    const HTTP2: bool = false;
    type Body: hyper::body::Body<Data = Bytes, Error = Infallible> + Send + 'static;
    fn limits(&self) -> Limits;
    fn collector(&self) -> &Collector;
    fn answer(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> impl std::future::Future<Output = Result<Response<Self::Body>, Infallible>> + Send;
}

impl Endpoint for Shared {
    type Body = Full<Bytes>;

    fn limits(&self) -> Limits {
        self.limits
    }

    fn collector(&self) -> &Collector {
        &self.collector
    }

    fn answer(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> impl std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send {
        handle(request, self)
    }
}

/// The X-Ray daemon's TCP side: sampling rules and targets ([`sampling`]).
struct SamplingShared {
    collector: Arc<Collector>,
    limits: Limits,
    /// Bytes of request bodies held in memory, at most `limits.bodies_in_memory * sampling::MAX_BODY`.
    budget: Semaphore,
}

impl Endpoint for SamplingShared {
    type Body = Full<Bytes>;

    fn limits(&self) -> Limits {
        self.limits
    }

    fn collector(&self) -> &Collector {
        &self.collector
    }

    async fn answer(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let deadline = tokio::time::Instant::now() + self.limits.request;
        let answer = tokio::time::timeout_at(deadline, serve_sampling(request, &self)).await;
        Ok(answer.unwrap_or_else(|_| {
            self.collector.rejected.fetch_add(1, Ordering::Relaxed);
            closing(reply(
                StatusCode::REQUEST_TIMEOUT,
                "text/plain",
                b"the request took too long\n".to_vec(),
            ))
        }))
    }
}

/// OTLP/gRPC ([`grpc`]): the OTLP/HTTP receiver's limits and budget, over HTTP/2.
struct GrpcShared(Shared);

impl std::ops::Deref for GrpcShared {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Endpoint for GrpcShared {
    const HTTP2: bool = true;
    type Body = GrpcBody;

    fn limits(&self) -> Limits {
        self.limits
    }

    fn collector(&self) -> &Collector {
        &self.collector
    }

    async fn answer(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<GrpcBody>, Infallible> {
        let deadline = tokio::time::Instant::now() + self.limits.request;
        let answer = tokio::time::timeout_at(deadline, serve_grpc(request, &self)).await;
        Ok(answer.unwrap_or_else(|_| {
            self.collector.rejected.fetch_add(1, Ordering::Relaxed);
            grpc::status(Code::DeadlineExceeded, "the call took too long")
        }))
    }
}

async fn serve_grpc(request: Request<Incoming>, shared: &GrpcShared) -> Response<GrpcBody> {
    let collector = &shared.collector;
    let max_body = shared.max_body;
    let reject = |code: Code, message: &str| {
        collector.rejected.fetch_add(1, Ordering::Relaxed);
        grpc::status(code, message)
    };
    let path = request.uri().path();
    if path != grpc::EXPORT_PATH {
        let shown = render::escape(path, 200);
        let other_signal = path.contains(".metrics.") || path.contains(".logs.");
        let hint = if other_signal {
            " (tracectl listen shows traces only: set OTEL_METRICS_EXPORTER=none and OTEL_LOGS_EXPORTER=none in the app)"
        } else {
            ""
        };
        // SDKs log only the status code, not this message: say it on listen's side too, once.
        if other_signal
            && matches!(collector.out, Some(Sink::Stdout(_)))
            && !collector.told_traces_only.swap(true, Ordering::Relaxed)
        {
            use colored::Colorize;
            eprintln!(
                "{} an app exports metrics or logs over gRPC ({shown}); listen shows traces only and answers UNIMPLEMENTED: set OTEL_METRICS_EXPORTER=none and OTEL_LOGS_EXPORTER=none in the app to keep its log quiet",
                "warning:".yellow().bold()
            );
        }
        return reject(
            Code::Unimplemented,
            &format!("{shown}: only {} is served here{hint}", grpc::EXPORT_PATH),
        );
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let content_type = header("content-type").unwrap_or_default();
    if request.method() != hyper::Method::POST || !content_type.starts_with("application/grpc") {
        collector.rejected.fetch_add(1, Ordering::Relaxed);
        return grpc::http_error(if request.method() == hyper::Method::POST {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        } else {
            StatusCode::METHOD_NOT_ALLOWED
        });
    }
    let encoding = match header("grpc-encoding").as_deref() {
        None | Some("identity") => None,
        Some("gzip") => Some("gzip"),
        Some(other) => {
            let shown = render::escape(other, 60);
            return reject(
                Code::Unimplemented,
                &format!("grpc-encoding {shown} is not supported; use gzip or identity"),
            );
        }
    };
    let too_large = || {
        reject(
            Code::ResourceExhausted,
            &format!(
                "the message is larger than this receiver's limit of {max_body} bytes (listen --max-body)"
            ),
        )
    };
    let deadline = tokio::time::Instant::now() + shared.limits.body_read;
    let read = read_body_checked(
        request.into_body(),
        max_body.saturating_add(5),
        &shared.budget,
        deadline,
        |head| grpc::announces_too_much(head, max_body).is_some(),
    )
    .await;
    let (body, _held) = match read {
        Ok(read) => read,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::TimedOut) => {
            return reject(
                Code::DeadlineExceeded,
                "the message did not arrive whole in time",
            );
        }
        Err(BodyError::Read(err)) => {
            return reject(Code::Cancelled, &format!("reading the message: {err}"));
        }
    };
    let (compressed, message) = match grpc::unframe(&body, max_body) {
        Unframed::Message { compressed, bytes } => (compressed, bytes),
        Unframed::TooLarge { .. } => return too_large(),
        Unframed::Malformed(why) => return reject(Code::InvalidArgument, &why),
    };
    if compressed && encoding.is_none() {
        return reject(
            Code::Internal,
            "the message is marked compressed but no grpc-encoding was sent",
        );
    }
    let content_encoding = if compressed { encoding } else { None };
    match decode::decode_request(
        Encoding::Protobuf.content_type(),
        content_encoding,
        message,
        max_body,
    ) {
        Ok((request, _)) => match decode::validate(&request) {
            Ok(_) => {
                collector.receive(&request);
                grpc::ok(&decode::success_body(Encoding::Protobuf))
            }
            Err(OtlpError::BadRequest(why)) => reject(Code::InvalidArgument, &why),
            Err(_) => reject(Code::InvalidArgument, "undecodable"),
        },
        Err(OtlpError::TooLarge) => too_large(),
        Err(OtlpError::BadRequest(why)) => reject(Code::InvalidArgument, &why),
        Err(OtlpError::UnsupportedMediaType) => reject(Code::Internal, "unsupported media type"),
    }
}

async fn serve_sampling(
    request: Request<Incoming>,
    shared: &SamplingShared,
) -> Response<Full<Bytes>> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let json = |answer: sampling::Answer| {
        if answer.status != 200 {
            shared.collector.rejected.fetch_add(1, Ordering::Relaxed);
        }
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST);
        reply(
            status,
            "application/json",
            answer.body.to_string().into_bytes(),
        )
    };
    // Refuse before reading a body nobody will use.
    let early = sampling::answer(&method, &path, b"", 0);
    if early.status == 404 || early.status == 405 {
        return json(early);
    }
    let deadline = tokio::time::Instant::now() + shared.limits.body_read;
    let body = match read_body(
        request.into_body(),
        sampling::MAX_BODY,
        &shared.budget,
        deadline,
    )
    .await
    {
        Ok((body, _held)) => body,
        Err(BodyError::TooLarge) => {
            return closing(json(sampling::Answer {
                status: 413,
                body: serde_json::json!({ "message": "body too large" }),
            }));
        }
        Err(BodyError::TimedOut | BodyError::Read(_)) => {
            return closing(json(sampling::Answer {
                status: 408,
                body: serde_json::json!({ "message": "the body did not arrive whole in time" }),
            }));
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json(sampling::answer(&method, &path, &body, now))
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let deadline = tokio::time::Instant::now() + shared.limits.request;
    let answer = tokio::time::timeout_at(deadline, serve(request, &shared)).await;
    let response = answer.unwrap_or_else(|_| {
        shared.collector.rejected.fetch_add(1, Ordering::Relaxed);
        closing(reply(
            StatusCode::REQUEST_TIMEOUT,
            "text/plain",
            b"the request took too long\n".to_vec(),
        ))
    });
    Ok(response)
}

/// Ask hyper to close the connection after this answer (sent before the body was read whole).
fn closing(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

async fn serve(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let collector = &shared.collector;
    let max_body = shared.max_body;
    let reject = |status: StatusCode, content_type: &'static str, body: Vec<u8>| {
        collector.rejected.fetch_add(1, Ordering::Relaxed);
        reply(status, content_type, body)
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
    let too_large = || {
        closing(reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            encoding.content_type(),
            decode::status_body(encoding, "body too large"),
        ))
    };
    if declared.is_some_and(|l| l > max_body) {
        return too_large();
    }
    let body_deadline = tokio::time::Instant::now() + shared.limits.body_read;
    let (body, _held) =
        match read_body(request.into_body(), max_body, &shared.budget, body_deadline).await {
            Ok(read) => read,
            Err(BodyError::TooLarge) => return too_large(),
            Err(BodyError::TimedOut) => {
                return closing(reject(
                    StatusCode::REQUEST_TIMEOUT,
                    encoding.content_type(),
                    decode::status_body(encoding, "the body did not arrive in time"),
                ));
            }
            Err(BodyError::Read(err)) => {
                return closing(reject(
                    StatusCode::BAD_REQUEST,
                    encoding.content_type(),
                    decode::status_body(encoding, &format!("reading the body: {err}")),
                ));
            }
        };
    let decoded =
        decode::decode_request(&content_type, content_encoding.as_deref(), &body, max_body)
            .and_then(|(request, encoding)| {
                decode::validate(&request).map(|_| (encoding, request))
            });
    match decoded {
        Ok((encoding, request)) => {
            collector.receive(&request);
            reply(
                StatusCode::OK,
                encoding.content_type(),
                decode::success_body(encoding),
            )
        }
        Err(OtlpError::TooLarge) => too_large(),
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

/// Serve one connection: hyper reads heads under `header_read` (which also closes idle
/// keep-alive connections); after `connection_age` the connection is asked to close once its
/// current request is answered, and dropped if that takes longer than a request may. So is it
/// when the receivers stop.
async fn connection<E: Endpoint>(
    stream: tokio::net::TcpStream,
    shared: Arc<E>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    if E::HTTP2 {
        return connection_h2(stream, shared, stop).await;
    }
    let limits = shared.limits();
    let service = hyper::service::service_fn(move |req| Arc::clone(&shared).answer(req));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true)
        // A client may shut its side once the request is sent (`nc -N`, some HTTP/1.0 clients);
        // it still gets its answer. Timeouts bound such a connection as any other.
        .half_close(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    // The connection first: one accepted just before the stop reads the request it was sent, and
    // so finishes it rather than being closed as idle.
    tokio::select! {
        biased;
        _ = conn.as_mut() => return,
        () = tokio::time::sleep(limits.connection_age) => {}
        () = stopping(&mut stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.request, conn).await;
}

/// Calls open on one HTTP/2 connection and when the last one ended, for its idle limit.
#[derive(Default)]
struct Activity {
    open: std::sync::atomic::AtomicUsize,
    calls: AtomicU64,
    /// Milliseconds since the connection opened at which the last call ended.
    last_end: AtomicU64,
}

/// One call counted open until it ends, however it ends: a call the client resets is dropped
/// unfinished, and must not keep its connection from ever being idle.
struct OpenCall {
    activity: Arc<Activity>,
    opened: Instant,
}

impl OpenCall {
    fn new(activity: Arc<Activity>, opened: Instant) -> Self {
        activity.open.fetch_add(1, Ordering::SeqCst);
        activity.calls.fetch_add(1, Ordering::SeqCst);
        OpenCall { activity, opened }
    }
}

impl Drop for OpenCall {
    fn drop(&mut self) {
        self.activity
            .last_end
            .store(self.opened.elapsed().as_millis() as u64, Ordering::SeqCst);
        self.activity.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serve one HTTP/2 connection. HTTP/2 has no request head to time: a connection that opens no
/// call within `header_read`, or none for `grpc_idle` after its last, is asked to close (GOAWAY)
/// and dropped if that is not done within `header_read`; calls per connection are capped, and
/// header lists are bounded. After `connection_age`, or when the receivers stop, it is asked to
/// close as HTTP/1.1 ones are.
async fn connection_h2<E: Endpoint>(
    stream: tokio::net::TcpStream,
    shared: Arc<E>,
    mut stop: watch::Receiver<bool>,
) {
    let limits = shared.limits();
    let opened = Instant::now();
    let activity = Arc::new(Activity::default());
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |req| {
            let open = OpenCall::new(Arc::clone(&activity), opened);
            let answer = Arc::clone(&shared).answer(req);
            async move {
                let response = answer.await;
                drop(open);
                response
            }
        })
    };
    let mut builder =
        hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(limits.grpc_streams)
        .max_header_list_size(64 << 10)
        // A peer that stops answering pings is gone: its connection is dropped.
        .keep_alive_interval(Some(limits.grpc_idle))
        .keep_alive_timeout(limits.header_read);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let tick = (limits.header_read / 4).max(Duration::from_millis(20));
    loop {
        tokio::select! {
            biased;
            _ = conn.as_mut() => return,
            () = tokio::time::sleep(tick) => {}
            () = stopping(&mut stop) => break,
        }
        let now = opened.elapsed();
        if now >= limits.connection_age {
            break;
        }
        if activity.open.load(Ordering::SeqCst) > 0 {
            continue;
        }
        let idle = if activity.calls.load(Ordering::SeqCst) == 0 {
            now >= limits.header_read
        } else {
            let last = Duration::from_millis(activity.last_end.load(Ordering::SeqCst));
            now.saturating_sub(last) >= limits.grpc_idle
        };
        if idle {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(limits.header_read, conn).await;
            return;
        }
    }
    conn.as_mut().graceful_shutdown();
    let deadline = tokio::time::Instant::now() + limits.request;
    // Nothing is begun on a connection that never opened a call: its client gets a tick to end
    // the handshake and answer the GOAWAY's ping (or to open the call it was about to), not the
    // time a request may take. One that never sent its preface would otherwise hold the stop.
    if tokio::time::timeout(tick, conn.as_mut()).await.is_ok()
        || activity.calls.load(Ordering::SeqCst) == 0
    {
        return;
    }
    let _ = tokio::time::timeout_at(deadline, conn).await;
}

/// Accept connections until the receivers stop, then close the port and wait for the open
/// connections to end. Connections the system accepted before the stop (waiting in the backlog,
/// perhaps with a request sent) are served too. Past the connection cap a connection is accepted
/// and closed at once; an accept error (out of file descriptors, say) backs off rather than
/// spinning.
async fn accept_loop<E: Endpoint>(
    listener: tokio::net::TcpListener,
    shared: Arc<E>,
    mut stop: watch::Receiver<bool>,
) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(10);
    let connections = shared.limits().connections;
    let slots = Arc::new(Semaphore::new(connections));
    let for_connections = stop.clone();
    let serve = |stream: tokio::net::TcpStream| {
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            shared
                .collector()
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            drop(stream);
            return;
        };
        let shared = Arc::clone(&shared);
        let stop = for_connections.clone();
        tokio::spawn(async move {
            connection(stream, shared, stop).await;
            drop(slot);
        });
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = tokio::select! {
            biased;
            () = stopping(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = FIRST_BACKOFF;
                serve(stream);
            }
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    // A zero timeout still polls the accept once: what is waiting is taken, nothing more.
    while let Ok(Ok((stream, _))) = tokio::time::timeout(Duration::ZERO, listener.accept()).await {
        serve(stream);
    }
    drop(listener);
    // Each open connection holds a slot until it ends.
    let _ = slots
        .acquire_many(u32::try_from(connections).unwrap_or(u32::MAX))
        .await;
}

/// The X-Ray daemon's UDP socket and, on the same port, its TCP listener for sampling. With port
/// 0 the UDP port is chosen first; if its TCP twin is taken, another port is tried.
async fn bind_xray(
    addr: SocketAddr,
) -> std::io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
    let mut tries = if addr.port() == 0 { 20 } else { 1 };
    loop {
        tries -= 1;
        let socket = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("X-Ray UDP on {addr}: {e}")))?;
        let udp = socket.local_addr()?;
        match tokio::net::TcpListener::bind(udp).await {
            Ok(tcp) => return Ok((socket, tcp)),
            Err(e) if tries == 0 => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("X-Ray sampling (TCP) on {udp}: {e}"),
                ));
            }
            Err(_) => continue,
        }
    }
}

/// Bind the receivers and serve them on the current runtime until they are stopped.
pub async fn start(config: &Config, collector: Arc<Collector>) -> std::io::Result<Receivers> {
    start_with(config, Limits::default(), collector).await
}

/// The bytes of request bodies a receiver holds at once: `bodies_in_memory` bodies of
/// `--max-body` each.
fn body_budget(config: &Config, limits: &Limits) -> usize {
    config
        .max_body
        .saturating_mul(limits.bodies_in_memory.max(1))
        .min(Semaphore::MAX_PERMITS)
}

/// Bind `addr` and accept connections on it until the receivers stop; `what` names the receiver
/// in an error.
async fn serve_tcp<E: Endpoint>(
    addr: SocketAddr,
    what: &str,
    shared: Arc<E>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("{what} on {addr}: {e}")))?;
    let at = listener.local_addr()?;
    Ok((at, tokio::spawn(accept_loop(listener, shared, stop))))
}

/// [`start`] with other limits.
pub async fn start_with(
    config: &Config,
    limits: Limits,
    collector: Arc<Collector>,
) -> std::io::Result<Receivers> {
    let mut bound = Bound::default();
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    if let Some(addr) = config.otlp {
        let shared = Arc::new(Shared::new(&collector, config, limits));
        let (at, task) = serve_tcp(addr, "OTLP/HTTP", shared, stopped.clone()).await?;
        bound.otlp = Some(at);
        tasks.push(task);
    }
    if let Some(addr) = config.grpc {
        let shared = Arc::new(GrpcShared(Shared::new(&collector, config, limits)));
        let (at, task) = serve_tcp(addr, "OTLP/gRPC", shared, stopped.clone()).await?;
        bound.grpc = Some(at);
        tasks.push(task);
    }
    if let Some(addr) = config.xray {
        let (socket, tcp) = bind_xray(addr).await?;
        bound.xray = Some(socket.local_addr()?);
        let budget = sampling::MAX_BODY
            .saturating_mul(limits.bodies_in_memory.max(1))
            .min(Semaphore::MAX_PERMITS);
        let shared = Arc::new(SamplingShared {
            collector: Arc::clone(&collector),
            limits,
            budget: Semaphore::new(budget),
        });
        tasks.push(tokio::spawn(accept_loop(tcp, shared, stopped.clone())));
        let mut stopped = stopped.clone();
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                let received = tokio::select! {
                    biased;
                    () = stopping(&mut stopped) => return,
                    received = socket.recv_from(&mut buf) => received,
                };
                let Ok((n, _)) = received else {
                    // Errors on an unconnected UDP socket are rare and may repeat: do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                match decode::decode_xray(&buf[..n]) {
                    Ok(spans) => collector.receive_xray(spans),
                    Err(_) => {
                        collector.bad_datagrams.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    Ok(Receivers { bound, stop, tasks })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request of the given (trace, span) ids, one resource.
    fn export(ids: &[(u64, u64)]) -> ExportTraceServiceRequest {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
        let spans = ids
            .iter()
            .map(|(trace, span)| Span {
                trace_id: u128::from(*trace).to_be_bytes().to_vec(),
                span_id: span.to_be_bytes().to_vec(),
                name: "n".into(),
                ..Default::default()
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn counts(mode: Mode, requests: &[ExportTraceServiceRequest]) -> (u64, u64) {
        let collector = Collector::new(mode, None);
        for request in requests {
            decode::validate(request).unwrap();
            collector.receive(request);
        }
        let stats = collector.stats();
        (stats.traces, stats.spans)
    }

    /// The JSON view counts from the request, the others from built spans: the same figures.
    #[test]
    fn the_json_view_counts_traces_and_spans_as_the_other_views() {
        let many = export(&[(1, 1), (2, 2), (1, 3), (3, 4)]);
        let requests = [
            export(&[(9, 1)]),
            export(&[(9, 2)]),
            many,
            ExportTraceServiceRequest::default(),
        ];
        assert_eq!(counts(Mode::JsonLines, &requests), (4, 6));
        assert_eq!(counts(Mode::Count, &requests), (4, 6));
        // At the cap of remembered traces, both count in arrival order.
        let fill: Vec<(u64, u64)> = (1..MAX_SEEN_TRACES as u64).map(|t| (t, 1)).collect();
        let requests = [export(&fill), export(&[(1, 2), (1_000_000, 3)])];
        let expected = counts(Mode::Count, &requests);
        for _ in 0..8 {
            assert_eq!(counts(Mode::JsonLines, &requests), expected);
        }
    }

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

    fn trees() -> Mode {
        Mode::Trees {
            flush_after: Duration::from_secs(3600),
        }
    }

    #[test]
    fn pending_traces_and_spans_stay_bounded() {
        let collector = Collector::new(trees(), None);
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
                .is_none_or(|t| t.spans.len() < MAX_PENDING_SPANS_PER_TRACE)
        );
        collector.accept(
            (0..MAX_PENDING_TRACES + 50)
                .map(|t| span(t + 10, 0))
                .collect(),
        );
        assert!(collector.lock().traces.len() <= MAX_PENDING_TRACES);
        {
            let pending = collector.lock();
            assert_eq!(pending.traces.len(), pending.by_last_seen.len());
        }
        let stats = collector.stats();
        assert_eq!(
            stats.spans as usize,
            MAX_PENDING_SPANS_PER_TRACE + 5 + MAX_PENDING_TRACES + 50
        );
        assert_eq!(stats.traces as usize, 1 + MAX_PENDING_TRACES + 50);
        collector.flush(true);
        assert!(collector.lock().traces.is_empty());
        assert!(collector.lock().by_last_seen.is_empty());
        assert!(collector.lock().by_first_seen.is_empty());
        assert_eq!(collector.lock().bytes, 0);
    }

    #[test]
    fn the_least_recently_seen_trace_is_shown_first_when_full() {
        colored::control::set_override(false);
        let collector = Collector::capturing(trees());
        collector.accept((0..MAX_PENDING_TRACES).map(|t| span(t, 0)).collect());
        // Trace 0 arrives again: now trace 1 is the least recently seen.
        collector.accept(vec![span(0, 1)]);
        collector.accept(vec![span(MAX_PENDING_TRACES + 1, 0)]);
        let shown = String::from_utf8(collector.take_output()).unwrap();
        assert_eq!(shown.matches("● s").count(), 1, "{shown}");
        assert!(shown.contains(&format!("trace {:032x}", 1)), "{shown}");
        collector.flush(true);
        let rest = String::from_utf8(collector.take_output()).unwrap();
        assert!(
            rest.contains(&format!("trace {:032x}  2 spans", 0)),
            "{rest}"
        );
    }

    #[test]
    fn eviction_and_flush_cost_does_not_grow_with_pending_traces() {
        // Every request past the cap evicts one trace: with a scan per eviction this is
        // 10 000 x 10 000 steps; with the index it is a few milliseconds.
        let collector = Collector::new(trees(), None);
        collector.accept((0..MAX_PENDING_TRACES).map(|t| span(t, 0)).collect());
        let started = Instant::now();
        for t in 0..20_000 {
            collector.accept(vec![span(MAX_PENDING_TRACES + t, 0)]);
        }
        for _ in 0..1000 {
            collector.flush(false);
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(collector.lock().traces.len(), MAX_PENDING_TRACES);
    }

    #[test]
    fn quiet_traces_are_shown_oldest_first_and_busy_ones_wait() {
        colored::control::set_override(false);
        let collector = Collector::capturing(Mode::Trees {
            flush_after: Duration::from_millis(200),
        });
        collector.accept(vec![span(1, 0)]);
        std::thread::sleep(Duration::from_millis(250));
        collector.accept(vec![span(2, 0)]);
        collector.flush(false);
        let shown = String::from_utf8(collector.take_output()).unwrap();
        assert!(shown.contains(&format!("trace {:032x}", 1)), "{shown}");
        assert!(!shown.contains(&format!("trace {:032x}", 2)), "{shown}");
        collector.flush(true);
        let rest = String::from_utf8(collector.take_output()).unwrap();
        assert!(rest.contains(&format!("trace {:032x}", 2)), "{rest}");
    }

    #[test]
    fn a_trace_that_never_goes_quiet_is_shown_after_its_longest_wait() {
        colored::control::set_override(false);
        let collector = Collector::capturing(Mode::Trees {
            flush_after: Duration::from_millis(50),
        });
        // One span of the same trace every 10 ms: never quiet for 50 ms, for over 1.5 s.
        let started = Instant::now();
        let mut shown = String::new();
        let mut i = 0;
        while started.elapsed() < Duration::from_millis(1500) {
            collector.accept(vec![span(7, i)]);
            i += 1;
            collector.flush(false);
            shown.push_str(&String::from_utf8(collector.take_output()).unwrap());
            std::thread::sleep(Duration::from_millis(10));
        }
        // Shown in pieces of about 10 x 50 ms = 500 ms each.
        let pieces = shown.matches(&format!("trace {:032x}", 7)).count();
        assert!((2..=4).contains(&pieces), "{pieces} pieces: {shown}");
        let pending = collector.lock();
        assert_eq!(pending.traces.len(), pending.by_first_seen.len());
    }

    #[test]
    fn pending_spans_are_bounded_in_bytes() {
        let collector = Collector::new(trees(), None);
        let mut big = span(1, 0);
        big.name = "x".repeat(1 << 20);
        let big_weight = big.weight();
        assert!(big_weight > 1 << 20);
        // 200 traces of one 1 MiB span each: 200 MiB if all waited.
        for t in 0..200 {
            let mut s = big.clone();
            s.trace_id = format!("{t:032x}");
            collector.accept(vec![s]);
        }
        let pending = collector.lock();
        assert!(pending.bytes <= MAX_PENDING_BYTES, "{}", pending.bytes);
        assert_eq!(pending.bytes, pending.traces.len() * big_weight);
        assert!(pending.traces.len() >= MAX_PENDING_BYTES / big_weight - 1);
        assert_eq!(pending.traces.len(), pending.by_first_seen.len());
        assert_eq!(pending.traces.len(), pending.by_last_seen.len());
    }

    #[test]
    fn kept_spans_are_bounded() {
        let collector = Collector::new(Mode::Keep, None);
        collector.accept((0..MAX_KEPT_SPANS + 10).map(|i| span(1, i)).collect());
        assert_eq!(collector.lock().kept.len(), MAX_KEPT_SPANS);
        let collector = Collector::new(Mode::Keep, None);
        let mut big = span(1, 0);
        big.name = "x".repeat(1 << 20);
        collector.accept(vec![big; 100]);
        assert!(collector.lock().kept_bytes <= MAX_PENDING_BYTES);
        assert!(collector.lock().kept.len() < 64);
    }

    /// A receiver on a free port with short limits, on a runtime of its own thread.
    fn receiver(limits: Limits) -> (SocketAddr, Arc<Collector>) {
        let collector = Collector::new(Mode::Count, None);
        let config = Config {
            otlp: Some(([127, 0, 0, 1], 0).into()),
            max_body: 1 << 20,
            ..Config::default()
        };
        let bound = serve(config, limits, Arc::clone(&collector));
        (bound.otlp.unwrap(), collector)
    }

    /// Start the listeners of `config` on a runtime of their own thread, serving for as long as
    /// the test runs; returns where they are bound.
    fn serve(config: Config, limits: Limits, collector: Arc<Collector>) -> Bound {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let receivers = start_with(&config, limits, collector).await.unwrap();
                tx.send(receivers.bound).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    }

    const GOOD: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok"}]}]}]}"#;

    fn post_good(addr: SocketAddr) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "POST /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{GOOD}",
            GOOD.len()
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    /// Read until the server closes the connection; how long that took.
    fn closed_after(stream: &mut std::net::TcpStream) -> (Duration, String) {
        use std::io::Read;
        let started = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    }

    /// Short read limits, one body in memory, `connections` at once: stalls show within a second.
    fn stall_limits(connections: usize) -> Limits {
        Limits {
            header_read: Duration::from_millis(300),
            body_read: Duration::from_millis(300),
            request: Duration::from_secs(5),
            connections,
            bodies_in_memory: 1,
            connection_age: Duration::from_secs(60),
            grpc_idle: Duration::from_millis(600),
            grpc_streams: 4,
        }
    }

    /// A stalled body is answered 408, and it, a stalled head and an idle connection are all
    /// closed well within the limits' budget.
    fn assert_stalled_closed(
        body: &mut std::net::TcpStream,
        head: &mut std::net::TcpStream,
        idle: &std::net::TcpStream,
    ) {
        let (took, answer) = closed_after(body);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        let (took, _) = closed_after(head);
        assert!(took < Duration::from_secs(3), "{took:?}");
        let (took, _) = closed_after(&mut idle.try_clone().unwrap());
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[test]
    fn stalled_heads_and_bodies_time_out_and_release_their_share() {
        use std::io::Write;
        let limits = stall_limits(64);
        let (addr, collector) = receiver(limits);
        // A body that has taken the whole memory budget, then stalls.
        let mut hog = std::net::TcpStream::connect(addr).unwrap();
        write!(
            hog,
            "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            1 << 20
        )
        .unwrap();
        hog.write_all(&vec![b' '; (1 << 20) - 10]).unwrap();
        let mut head = std::net::TcpStream::connect(addr).unwrap();
        head.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let idle = std::net::TcpStream::connect(addr).unwrap();
        assert_stalled_closed(&mut hog, &mut head, &idle);
        // The budget came back: a good request goes through.
        let answer = post_good(addr);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(collector.stats().spans, 1);
    }

    /// An OTLP/gRPC receiver on a free port with `limits` and a body limit of 1 KiB.
    fn grpc_receiver(limits: Limits) -> (SocketAddr, Arc<Collector>) {
        let collector = Collector::new(Mode::Count, None);
        let config = Config {
            grpc: Some(([127, 0, 0, 1], 0).into()),
            max_body: 1024,
            ..Config::default()
        };
        let bound = serve(config, limits, Arc::clone(&collector));
        (bound.grpc.unwrap(), collector)
    }

    fn export_request(name: &str) -> Vec<u8> {
        use prost::Message;
        let request: ExportTraceServiceRequest =
            serde_json::from_str(&GOOD.replace("\"ok\"", &format!("{name:?}"))).unwrap();
        request.encode_to_vec()
    }

    async fn h2_client(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (client, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }

    /// One call: the HTTP status and the grpc-status (from the headers of a trailers-only answer,
    /// else from the trailers).
    async fn call(
        client: &mut h2::client::SendRequest<Bytes>,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, Option<String>, Option<String>) {
        let mut request = hyper::Request::post(format!("http://x{path}"));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request.body(()).unwrap();
        let ready = client.clone().ready().await.unwrap();
        *client = ready;
        let (response, mut stream) = client.send_request(request, false).unwrap();
        let _ = stream.send_data(Bytes::from(body), true);
        let response = response.await.unwrap();
        let status = response.status().as_u16();
        let get = |h: &hyper::HeaderMap, k: &str| {
            h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string)
        };
        if let Some(code) = get(response.headers(), "grpc-status") {
            return (status, Some(code), get(response.headers(), "grpc-message"));
        }
        let mut body = response.into_body();
        while let Some(chunk) = body.data().await {
            let _ = chunk;
        }
        let trailers = body.trailers().await.ok().flatten().unwrap_or_default();
        (
            status,
            get(&trailers, "grpc-status"),
            get(&trailers, "grpc-message"),
        )
    }

    const GRPC: (&str, &str) = ("content-type", "application/grpc");

    #[test]
    fn grpc_answers_with_the_status_codes_the_spec_asks_for() {
        let (addr, collector) = grpc_receiver(Limits::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut c = h2_client(addr).await;
            let path = grpc::EXPORT_PATH;
            let good = grpc::frame(&export_request("plain"), false);
            assert_eq!(
                call(&mut c, path, &[GRPC], good.clone()).await.1.as_deref(),
                Some("0")
            );
            let gz = grpc::frame(&crate::test_support::gzip(&export_request("zipped")), true);
            let gzip = [GRPC, ("grpc-encoding", "gzip")];
            assert_eq!(
                call(&mut c, path, &gzip, gz.clone()).await.1.as_deref(),
                Some("0")
            );
            // Undecodable protobuf, a broken frame, zero bytes (field number 0): INVALID_ARGUMENT.
            let garbage = grpc::frame(&[0xff, 0x13, 0x37, 0x00], false);
            let (_, code, message) = call(&mut c, path, &[GRPC], garbage).await;
            assert_eq!(code.as_deref(), Some("3"), "{message:?}");
            let (_, code, _) = call(&mut c, path, &[GRPC], b"\0\0\0\0\x09abc".to_vec()).await;
            assert_eq!(code.as_deref(), Some("3"));
            let zero_ids = export_request("x").iter().map(|_| 0u8).collect::<Vec<_>>();
            let (_, code, _) = call(&mut c, path, &[GRPC], grpc::frame(&zero_ids, false)).await;
            assert_eq!(code.as_deref(), Some("3"));
            // Over the limit, announced or after gunzip: RESOURCE_EXHAUSTED.
            let (_, code, message) =
                call(&mut c, path, &[GRPC], grpc::frame(&[b'x'; 2000], false)).await;
            assert_eq!(code.as_deref(), Some("8"));
            assert!(message.unwrap().contains("1024 bytes"));
            let (_, code, _) = call(&mut c, path, &[GRPC], b"\0\xff\xff\xff\xff".to_vec()).await;
            assert_eq!(code.as_deref(), Some("8"));
            let bomb = grpc::frame(&crate::test_support::gzip(&[0u8; 100_000]), true);
            let (_, code, _) = call(&mut c, path, &gzip, bomb).await;
            assert_eq!(code.as_deref(), Some("8"));
            // Other services and encodings: UNIMPLEMENTED; not gRPC at all: 415.
            let metrics = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
            let (_, code, message) = call(&mut c, metrics, &[GRPC], good.clone()).await;
            assert_eq!(code.as_deref(), Some("12"));
            assert!(message.unwrap().contains("OTEL_METRICS_EXPORTER=none"));
            let zstd = [GRPC, ("grpc-encoding", "zstd")];
            assert_eq!(call(&mut c, path, &zstd, gz).await.1.as_deref(), Some("12"));
            let text = [("content-type", "text/plain")];
            assert_eq!(call(&mut c, path, &text, good.clone()).await.0, 415);
            // Compressed flag without an encoding.
            let (_, code, _) = call(&mut c, path, &[GRPC], grpc::frame(b"x", true)).await;
            assert_eq!(code.as_deref(), Some("13"));
            // Still serving on the same connection.
            assert_eq!(
                call(&mut c, path, &[GRPC], good).await.1.as_deref(),
                Some("0")
            );
        });
        let stats = collector.stats();
        assert_eq!((stats.spans, stats.rejected_requests), (3, 10));
    }

    #[test]
    fn grpc_stalled_calls_silent_connections_and_garbage_are_closed() {
        use std::io::{Read, Write};
        let limits = stall_limits(8);
        let (addr, collector) = grpc_receiver(limits);
        // Garbage instead of the HTTP/2 preface: closed at once.
        let mut garbage = std::net::TcpStream::connect(addr).unwrap();
        garbage
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\xff\xfe\xfd")
            .unwrap();
        let (took, _) = closed_after(&mut garbage);
        assert!(took < Duration::from_secs(3), "{took:?}");
        // Connected, silent: closed once `header_read` passed without a call.
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        let (took, _) = closed_after(&mut silent);
        assert!(took < Duration::from_secs(3), "{took:?}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // A call whose message never ends: DEADLINE_EXCEEDED after `body_read`.
            let mut c = h2_client(addr).await;
            let request = hyper::Request::post(format!("http://x{}", grpc::EXPORT_PATH))
                .header(GRPC.0, GRPC.1)
                .body(())
                .unwrap();
            let (response, mut stream) = c.send_request(request, false).unwrap();
            stream
                .send_data(Bytes::from_static(b"\0\0\0\x01\0abc"), false)
                .unwrap();
            let started = Instant::now();
            let response = tokio::time::timeout(Duration::from_secs(5), response)
                .await
                .unwrap()
                .unwrap();
            assert!(started.elapsed() < Duration::from_secs(3));
            assert_eq!(response.headers()["grpc-status"], "4");
            // Many calls at once on one connection, past its cap of streams: all answered.
            let good = grpc::frame(&export_request("many"), false);
            let mut calls = Vec::new();
            for _ in 0..40 {
                let mut c = c.clone();
                let good = good.clone();
                calls.push(tokio::spawn(async move {
                    call(&mut c, grpc::EXPORT_PATH, &[GRPC], good).await.1
                }));
            }
            for answer in calls {
                assert_eq!(answer.await.unwrap().as_deref(), Some("0"));
            }
            // The connection, idle for `grpc_idle`, is asked to close.
            let started = Instant::now();
            loop {
                if c.clone().ready().await.is_err() {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(5), "still open");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        assert_eq!(collector.stats().spans, 40);
        // Still serving.
        let mut plain = std::net::TcpStream::connect(addr).unwrap();
        let _ = plain.read(&mut [0u8; 0]);
    }

    #[test]
    fn grpc_connections_past_the_cap_are_closed_and_the_rest_served() {
        use std::io::Read;
        let (addr, collector) = grpc_receiver(Limits {
            connections: 3,
            ..Limits::default()
        });
        let held: Vec<std::net::TcpStream> = (0..3)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut extra = std::net::TcpStream::connect(addr).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(extra.read(&mut [0u8; 16]).unwrap_or(0), 0, "closed at once");
        assert_eq!(collector.stats().refused_connections, 1);
        drop(held);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let served = runtime.block_on(async {
                let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
                let (client, conn) = h2::client::handshake(tcp).await.ok()?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                let mut client = client;
                let good = grpc::frame(&export_request("after cap"), false);
                // A connection closed at once (no slot yet) fails the call: try again.
                tokio::spawn(
                    async move { call(&mut client, grpc::EXPORT_PATH, &[GRPC], good).await.1 },
                )
                .await
                .ok()
                .flatten()
            });
            if served.as_deref() == Some("0") {
                break;
            }
            assert!(Instant::now() < deadline, "no slot came back");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn grpc_calls_the_client_resets_do_not_keep_the_connection_open() {
        let (addr, collector) = grpc_receiver(stall_limits(8));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut c = h2_client(addr).await;
            // Ten calls started, half a message sent, then reset by the client.
            for _ in 0..10 {
                let request = hyper::Request::post(format!("http://x{}", grpc::EXPORT_PATH))
                    .header(GRPC.0, GRPC.1)
                    .body(())
                    .unwrap();
                c = c.ready().await.unwrap();
                let (_, mut stream) = c.send_request(request, false).unwrap();
                stream
                    .send_data(Bytes::from_static(b"\0\0\0\x01\0abc"), false)
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                stream.send_reset(h2::Reason::CANCEL);
            }
            // The connection goes idle and is asked to close within `grpc_idle` and a bit.
            let started = Instant::now();
            while c.clone().ready().await.is_ok() {
                assert!(started.elapsed() < Duration::from_secs(4), "still open");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        // Still serving others.
        runtime.block_on(async {
            let mut c = h2_client(addr).await;
            let good = grpc::frame(&export_request("after"), false);
            let answer = call(&mut c, grpc::EXPORT_PATH, &[GRPC], good).await;
            assert_eq!(answer.1.as_deref(), Some("0"));
        });
        assert_eq!(collector.stats().spans, 1);
    }

    /// The X-Ray daemon's TCP side on a free port with `limits`, on a runtime of its own thread.
    fn sampling_receiver(limits: Limits) -> SocketAddr {
        let config = Config {
            xray: Some(([127, 0, 0, 1], 0).into()),
            max_body: 1 << 20,
            ..Config::default()
        };
        serve(config, limits, Collector::new(Mode::Count, None))
            .xray
            .unwrap()
    }

    #[test]
    fn the_sampling_port_times_out_stalled_clients_and_caps_connections() {
        use std::io::{Read, Write};
        let limits = stall_limits(3);
        let addr = sampling_receiver(limits);
        let mut head = std::net::TcpStream::connect(addr).unwrap();
        head.write_all(b"POST /SamplingTargets HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let mut body = std::net::TcpStream::connect(addr).unwrap();
        body.write_all(
            b"POST /SamplingTargets HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{",
        )
        .unwrap();
        let idle = std::net::TcpStream::connect(addr).unwrap();
        // Three held: a fourth is closed at once.
        let mut extra = std::net::TcpStream::connect(addr).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(extra.read(&mut buf).unwrap_or(0), 0, "closed at once");
        assert_stalled_closed(&mut body, &mut head, &idle);
        // The slots come back: a real poll is answered.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut poll = std::net::TcpStream::connect(addr).unwrap();
            let _ = poll.write_all(b"POST /GetSamplingRules HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
            let (_, answer) = closed_after(&mut poll);
            if answer.starts_with("HTTP/1.1 200") {
                assert!(answer.contains("\"RuleName\":\"Default\""), "{answer}");
                break;
            }
            assert!(Instant::now() < deadline, "no slot came back: {answer:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn connections_past_the_cap_are_closed_and_the_rest_served() {
        use std::io::Read;
        let limits = Limits {
            connections: 4,
            ..Limits::default()
        };
        let (addr, collector) = receiver(limits);
        let held: Vec<std::net::TcpStream> = (0..4)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut extra = std::net::TcpStream::connect(addr).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(extra.read(&mut buf).unwrap_or(0), 0, "closed at once");
        assert_eq!(collector.stats().refused_connections, 1);
        drop(held);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let answer = post_good(addr);
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(Instant::now() < deadline, "no slot came back: {answer:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    mod stopping {
        use std::io::{Read, Write};
        use std::sync::mpsc;

        use super::*;

        /// Receivers on a runtime of their own thread; sending on the returned channel stops them
        /// (within `within`), and the other channel says whether they stopped in time.
        fn stoppable(
            config: Config,
            within: Duration,
        ) -> (
            Bound,
            Arc<Collector>,
            mpsc::Sender<()>,
            mpsc::Receiver<bool>,
        ) {
            let collector = Collector::new(Mode::Count, None);
            let (bound_tx, bound_rx) = mpsc::channel();
            let (stop_tx, stop_rx) = mpsc::channel::<()>();
            let (done_tx, done_rx) = mpsc::channel();
            let served = Arc::clone(&collector);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let receivers = start_with(&config, Limits::default(), served)
                        .await
                        .unwrap();
                    bound_tx.send(receivers.bound).unwrap();
                    tokio::task::spawn_blocking(move || stop_rx.recv())
                        .await
                        .unwrap()
                        .unwrap();
                    let _ = done_tx.send(receivers.stop(within).await);
                });
            });
            (bound_rx.recv().unwrap(), collector, stop_tx, done_rx)
        }

        fn loopback() -> Option<SocketAddr> {
            Some(([127, 0, 0, 1], 0).into())
        }

        /// The port refuses connections within a while of being stopped.
        fn assert_closed(addr: SocketAddr) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while std::net::TcpStream::connect(addr).is_ok() {
                assert!(Instant::now() < deadline, "{addr} still accepts");
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        #[test]
        fn an_http_request_begun_before_the_stop_is_answered_and_then_the_connection_closes() {
            let config = Config {
                otlp: loopback(),
                max_body: 1 << 20,
                ..Config::default()
            };
            let (bound, collector, stop, stopped) = stoppable(config, Duration::from_secs(10));
            let addr = bound.otlp.unwrap();
            let mut idle = std::net::TcpStream::connect(addr).unwrap();
            let mut begun = std::net::TcpStream::connect(addr).unwrap();
            for s in [&idle, &begun] {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            }
            write!(
                begun,
                "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                GOOD.len(),
                &GOOD[..20]
            )
            .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            stop.send(()).unwrap();
            assert_closed(addr);
            // The idle keep-alive connection is closed with nothing said.
            let mut said = Vec::new();
            idle.read_to_end(&mut said).unwrap();
            assert!(said.is_empty(), "{}", String::from_utf8_lossy(&said));
            begun.write_all(&GOOD.as_bytes()[20..]).unwrap();
            let mut answer = String::new();
            begun.read_to_string(&mut answer).unwrap();
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(
                answer.to_ascii_lowercase().contains("connection: close"),
                "{answer}"
            );
            assert!(stopped.recv_timeout(Duration::from_secs(10)).unwrap());
            assert_eq!(collector.stats().spans, 1);
        }

        #[test]
        fn a_grpc_call_begun_before_the_stop_is_answered_and_no_call_is_taken_after() {
            let config = Config {
                grpc: loopback(),
                max_body: 1 << 20,
                ..Config::default()
            };
            let (bound, collector, stop, stopped) = stoppable(config, Duration::from_secs(10));
            let addr = bound.grpc.unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let client = h2_client(addr).await;
                let request = hyper::Request::post(format!("http://x{}", grpc::EXPORT_PATH))
                    .header(GRPC.0, GRPC.1)
                    .body(())
                    .unwrap();
                let mut client = client.ready().await.unwrap();
                let (response, mut stream) = client.send_request(request, false).unwrap();
                let message = grpc::frame(&export_request("begun"), false);
                let half = message.len() / 2;
                stream
                    .send_data(Bytes::copy_from_slice(&message[..half]), false)
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                tokio::task::spawn_blocking(move || {
                    stop.send(()).unwrap();
                    assert_closed(addr);
                })
                .await
                .unwrap();
                stream
                    .send_data(Bytes::copy_from_slice(&message[half..]), true)
                    .unwrap();
                let response = response.await.unwrap();
                assert_eq!(response.status(), 200);
                let mut body = response.into_body();
                while body.data().await.is_some() {}
                let trailers = body.trailers().await.unwrap().unwrap_or_default();
                assert_eq!(trailers.get("grpc-status").unwrap(), "0");
                // The connection was asked to close (GOAWAY): a new call is refused.
                let after = hyper::Request::post(format!("http://x{}", grpc::EXPORT_PATH))
                    .header(GRPC.0, GRPC.1)
                    .body(())
                    .unwrap();
                let refused = match client.ready().await {
                    Err(_) => true,
                    Ok(mut c) => match c.send_request(after, true) {
                        Err(_) => true,
                        Ok((response, _)) => response.await.is_err(),
                    },
                };
                assert!(refused, "a call after the stop was taken");
            });
            assert!(stopped.recv_timeout(Duration::from_secs(10)).unwrap());
            assert_eq!(collector.stats().spans, 1);
        }

        /// A client the system accepted and that sent its request, but that listen had not yet
        /// taken from the backlog when told to stop, is served all the same.
        #[test]
        fn a_connection_waiting_in_the_backlog_at_the_stop_is_served() {
            let collector = Collector::new(Mode::Count, None);
            let config = Config {
                otlp: loopback(),
                max_body: 1 << 20,
                ..Config::default()
            };
            // One thread: nothing runs between the connection and the stop.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let (stopped, answer) = runtime.block_on(async {
                let receivers = start_with(&config, Limits::default(), Arc::clone(&collector))
                    .await
                    .unwrap();
                let mut client = std::net::TcpStream::connect(receivers.bound.otlp.unwrap()).unwrap();
                client
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                write!(
                    client,
                    "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{GOOD}",
                    GOOD.len()
                )
                .unwrap();
                let reader = std::thread::spawn(move || {
                    let mut answer = String::new();
                    let _ = client.read_to_string(&mut answer);
                    answer
                });
                let stopped = receivers.stop(Duration::from_secs(10)).await;
                (stopped, reader)
            });
            let answer = answer.join().unwrap();
            assert!(stopped);
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
            assert_eq!(collector.stats().spans, 1);
        }

        /// As many gRPC calls as a connection may open, each half-sent when the receivers stop:
        /// each is finished and answered, and each answered is counted.
        #[test]
        fn many_grpc_calls_half_sent_on_one_connection_are_all_answered_and_counted() {
            let config = Config {
                grpc: loopback(),
                max_body: 1 << 20,
                ..Config::default()
            };
            let (bound, collector, stop, stopped) = stoppable(config, Duration::from_secs(10));
            let addr = bound.grpc.unwrap();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let answered = runtime.block_on(async {
                let mut client = h2_client(addr).await;
                let message = grpc::frame(&export_request("begun"), false);
                let half = message.len() / 2;
                let mut calls = Vec::new();
                for _ in 0..99 {
                    let request = hyper::Request::post(format!("http://x{}", grpc::EXPORT_PATH))
                        .header(GRPC.0, GRPC.1)
                        .body(())
                        .unwrap();
                    client = client.ready().await.unwrap();
                    let (response, mut stream) = client.send_request(request, false).unwrap();
                    stream
                        .send_data(Bytes::copy_from_slice(&message[..half]), false)
                        .unwrap();
                    calls.push((response, stream));
                }
                // A last call, whole: once it is answered, the receiver has read every frame sent
                // before it on this connection, so the 99 calls are open.
                let last = call(
                    &mut client,
                    grpc::EXPORT_PATH,
                    &[GRPC],
                    grpc::frame(&export_request("last"), false),
                )
                .await;
                assert_eq!(last.1.as_deref(), Some("0"), "{last:?}");
                tokio::task::spawn_blocking(move || {
                    stop.send(()).unwrap();
                    assert_closed(addr);
                })
                .await
                .unwrap();
                let mut answered = 1;
                let mut waiting = Vec::new();
                for (response, mut stream) in calls {
                    stream
                        .send_data(Bytes::copy_from_slice(&message[half..]), true)
                        .unwrap();
                    waiting.push(response);
                }
                for response in waiting {
                    let Ok(response) = response.await else {
                        continue;
                    };
                    let mut body = response.into_body();
                    while body.data().await.is_some() {}
                    let trailers = body.trailers().await.ok().flatten().unwrap_or_default();
                    if trailers.get("grpc-status").is_some_and(|s| s == "0") {
                        answered += 1;
                    }
                }
                answered
            });
            assert!(stopped.recv_timeout(Duration::from_secs(10)).unwrap());
            assert_eq!((answered, collector.stats().spans), (100, 100));
        }

        /// Connections that opened no request hold nothing begun: the stop does not wait for
        /// them, on any port. A gRPC client that connected but has not sent its HTTP/2 preface
        /// (or never will) is not waited for until the drain runs out.
        #[test]
        fn connections_that_sent_nothing_do_not_hold_the_stop() {
            let config = Config {
                otlp: loopback(),
                grpc: loopback(),
                xray: loopback(),
                max_body: 1 << 20,
            };
            let within = Duration::from_secs(5);
            let (bound, _, stop, stopped) = stoppable(config, within);
            let silent: Vec<_> = [bound.otlp, bound.grpc, bound.xray]
                .into_iter()
                .map(|addr| std::net::TcpStream::connect(addr.unwrap()).unwrap())
                .collect();
            // Each was accepted: connections are accepted in turn, and a later one on each port
            // has been served (answered, or closed as not HTTP/2 on the gRPC port).
            for addr in [bound.otlp, bound.grpc, bound.xray] {
                let mut later = std::net::TcpStream::connect(addr.unwrap()).unwrap();
                later
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                later
                    .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut said = Vec::new();
                if let Err(e) = later.read_to_end(&mut said) {
                    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
                }
            }
            let asked = Instant::now();
            stop.send(()).unwrap();
            let in_time = stopped.recv_timeout(within * 2).unwrap();
            assert!(
                in_time,
                "the stop waited {:?} for connections that sent nothing",
                asked.elapsed()
            );
            drop(silent);
        }

        #[test]
        fn a_request_never_finished_is_given_up_on_after_the_wait() {
            let config = Config {
                otlp: loopback(),
                grpc: loopback(),
                xray: loopback(),
                max_body: 1 << 20,
            };
            let (bound, _, stop, stopped) = stoppable(config, Duration::from_millis(300));
            let mut stuck = std::net::TcpStream::connect(bound.otlp.unwrap()).unwrap();
            write!(
                stuck,
                "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\nabc"
            )
            .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            let asked = Instant::now();
            stop.send(()).unwrap();
            assert!(!stopped.recv_timeout(Duration::from_secs(10)).unwrap());
            assert!(
                asked.elapsed() < Duration::from_secs(3),
                "{:?}",
                asked.elapsed()
            );
            for addr in [bound.otlp.unwrap(), bound.grpc.unwrap()] {
                assert_closed(addr);
            }
        }
    }
}
