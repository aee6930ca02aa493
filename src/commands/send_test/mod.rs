//! `tracectl send-test`: send one synthetic trace to every destination at once and report.

mod load;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::json;

use crate::cli::{Destination, SendTestArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::honeycomb;
use crate::listen::server::{self as receiver, Collector, Mode};
use crate::listen::{ReceivedSpan, render};
use crate::otlp::send::{self, Outcome, Request};
use crate::otlp::trace::{SyntheticTrace, unix_nanos};
use crate::output::Printer;
use crate::project::{self, compose::Compose, dotenv};
use crate::recipe;
use crate::secret::Secret;
use crate::settings::{self, ProjectConfig, SendTestSettings};
use crate::xray::{self, api::AwsFailure, daemon, segment};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The destination acknowledged the trace.
    Accepted,
    /// The trace was found at the destination (`--wait`).
    Arrived,
    /// Sent over UDP; nothing acknowledges that.
    Sent,
    /// Accepted, but `--wait` could not check arrival; `detail` says why.
    Unverified,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct DestinationResult {
    pub destination: &'static str,
    pub target: String,
    pub ok: bool,
    pub state: State,
    pub status: Option<String>,
    pub latency_ms: u64,
    pub attempts: u32,
    pub rejected_spans: i64,
    pub detail: Option<String>,
    pub warning: Option<String>,
    pub hint: Option<String>,
    pub link: Option<String>,
    /// What the in-process receiver got (`local`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<Vec<ReceivedSpan>>,
}

impl DestinationResult {
    fn new(destination: Destination, target: String) -> Self {
        DestinationResult {
            destination: destination.name(),
            target,
            ok: false,
            state: State::Failed,
            status: None,
            latency_ms: 0,
            attempts: 0,
            rejected_spans: 0,
            detail: None,
            warning: None,
            hint: None,
            link: None,
            received: None,
        }
    }

    fn with_outcome(mut self, outcome: &Outcome, url: &str) -> Self {
        self.status = outcome.status.map(|s| s.to_string());
        self.latency_ms = outcome.latency.as_millis() as u64;
        self.attempts = outcome.attempts;
        self.rejected_spans = outcome.rejected_spans;
        if let Some(failure) = &outcome.failure {
            self.detail = Some(failure.summary());
            self.hint = send::hint(failure, self.destination, url);
        } else if outcome.rejected_spans > 0 {
            self.detail = Some(format!(
                "{} span(s) rejected{}",
                outcome.rejected_spans,
                outcome
                    .message
                    .as_ref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
        } else {
            self.ok = true;
            self.state = State::Accepted;
            self.warning = outcome.message.clone();
        }
        self
    }

    fn aws_failure(mut self, failure: &AwsFailure, action: &str, started: Instant) -> Self {
        self.latency_ms = started.elapsed().as_millis() as u64;
        self.status = Some(failure.code.clone());
        self.detail = Some(format!("{}: {}", failure.code, failure.message));
        self.hint = failure.hint(action);
        self.ok = false;
        self.state = State::Failed;
        self
    }
}

/// What the project folder says, if anything. A compose file that does not parse only warns:
/// it is not needed to send to an endpoint given on the command line.
fn project_config(dir: &Path, env_file: Option<&Path>, printer: &Printer) -> Result<ProjectConfig> {
    let mut config = ProjectConfig::default();
    let compose_path = project::find_compose(dir, None).ok();
    let base = compose_path
        .as_ref()
        .and_then(|p| p.parent())
        .unwrap_or(dir)
        .to_path_buf();
    if let Some(path) = &compose_path {
        let text = fs_err::read_to_string(path)?;
        printer.register_text_secrets(&text);
        match Compose::parse(path, text) {
            Ok(compose) => config.has_daemon_service = compose.has_service(recipe::DAEMON_SERVICE),
            Err(e) => printer.warn(&format!("{e}; ignoring the compose file")),
        }
    }
    let env_path = env_file
        .map(|f| dir.join(f))
        .unwrap_or_else(|| base.join(".env"));
    match fs_err::read_to_string(&env_path) {
        Ok(text) => {
            printer.register_text_secrets(&text);
            config.dotenv = dotenv::values(&env_path, &text)?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && env_file.is_none() => {}
        Err(e) => return Err(e.into()),
    }
    Ok(config)
}

pub fn run(args: SendTestArgs, dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    let project = project_config(dir, args.env_file.as_deref(), printer)?;
    printer.register_env_secrets(&project.dotenv);
    if let Some(key) = &args.key.honeycomb_api_key {
        printer.register_secret(&Secret::new(key.clone()));
    }
    let settings = settings::resolve_send_test(&args, |k| std::env::var(k).ok(), &project)?;
    if let Some(hc) = &settings.honeycomb {
        printer.register_secret(&hc.key);
    }
    for header in settings.otlp.iter().flat_map(|o| &o.headers) {
        printer.register_secret(&header.value);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::from)?;
    if settings.count > 1 {
        let report = runtime.block_on(load::run(&settings, http_client(&settings)?))?;
        print_load(printer, &report);
        return Ok(if report.failed == 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    let mut random = rand_u64();
    let trace = SyntheticTrace::build(&settings.trace, SystemTime::now(), &mut random);
    let results = runtime.block_on(execute(&settings, &trace))?;
    report(printer, &settings, &trace, &results);
    Ok(if results.iter().all(|r| r.ok) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

pub(crate) fn rand_u64() -> impl FnMut() -> u64 {
    let mut rng = rand::rng();
    move || rand::Rng::random(&mut rng)
}

pub(crate) fn http_client(settings: &SendTestSettings) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("tracectl/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(settings.timeout);
    if let Some(path) = settings.otlp.as_ref().and_then(|o| o.certificate.as_ref()) {
        let pem = fs_err::read(path)?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
            Error::usage(
                format!("{path}: not a PEM certificate: {e}"),
                "check OTEL_EXPORTER_OTLP_CERTIFICATE".to_string(),
            )
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| Error::usage(format!("cannot set up HTTP: {e}"), None))
}

async fn execute(
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
) -> Result<Vec<DestinationResult>> {
    let client = http_client(settings)?;
    let needs_aws = settings.destinations.iter().any(|d| {
        matches!(d, Destination::Xray | Destination::XrayOtlp)
            || (*d == Destination::XrayDaemon && settings.wait.is_some())
    });
    let aws = if needs_aws {
        Some(xray::api::load(settings.aws_region.as_deref()).await)
    } else {
        None
    };
    let futures = settings
        .destinations
        .iter()
        .map(|d| one(*d, settings, trace, &client, aws.as_ref()));
    Ok(join_all(futures).await)
}

/// Run futures concurrently on this thread and collect their results in order.
pub(crate) async fn join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in pinned.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future finished"))
        .collect()
}

async fn one(
    destination: Destination,
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    client: &reqwest::Client,
    aws: Option<&aws_config::SdkConfig>,
) -> DestinationResult {
    let mut jitter = {
        let mut next = rand_u64();
        move || (next() % 1000) as f64 / 1000.0
    };
    let request = trace.to_request();
    match destination {
        Destination::Honeycomb => {
            let Some(hc) = &settings.honeycomb else {
                unreachable!("checked in settings")
            };
            let url = crate::otlp::config::traces_url(&hc.base);
            let mut headers = vec![("x-honeycomb-team".to_string(), hc.key.clone())];
            if let Some(dataset) = hc.dataset.as_ref().filter(|_| hc.info.kind.needs_dataset()) {
                headers.push((
                    "x-honeycomb-dataset".to_string(),
                    Secret::new(dataset.clone()),
                ));
            }
            let req = Request::otlp(
                url.clone(),
                headers,
                &request,
                settings.protocol,
                settings.compression,
            );
            let outcome = send::send(client, &req, settings.timeout, &mut jitter).await;
            let mut result =
                DestinationResult::new(destination, url.clone()).with_outcome(&outcome, &url);
            if result.ok {
                honeycomb_follow_up(&mut result, hc, settings, trace, client).await;
            }
            result
        }
        Destination::Otlp => {
            let Some(otlp) = &settings.otlp else {
                unreachable!("checked in settings")
            };
            let headers = otlp
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect();
            let req = Request::otlp(
                otlp.url.clone(),
                headers,
                &request,
                otlp.protocol,
                otlp.compression,
            );
            let outcome = send::send(client, &req, settings.timeout, &mut jitter).await;
            let mut result = DestinationResult::new(destination, otlp.url.clone())
                .with_outcome(&outcome, &otlp.url);
            if result.ok && settings.wait.is_some() {
                result.state = State::Unverified;
                result.detail = Some(
                    "accepted; a generic OTLP endpoint offers no way to look the trace up"
                        .to_string(),
                );
            }
            result
        }
        Destination::XrayDaemon => {
            let started = Instant::now();
            let mut result = DestinationResult::new(destination, settings.daemon_address.clone());
            let payload = match daemon::datagram(&segment::document(trace)) {
                Ok(p) => p,
                Err(e) => {
                    result.detail = Some(e.to_string());
                    return result;
                }
            };
            result.attempts = 1;
            match daemon::send(&settings.daemon_address, &payload).await {
                daemon::DaemonSend::Sent { to, bytes } => {
                    result.ok = true;
                    result.state = State::Sent;
                    result.status = Some("udp".to_string());
                    result.detail = Some(format!("{bytes} bytes to {to}; UDP is not acknowledged"));
                }
                daemon::DaemonSend::NothingListening { to } => {
                    result.status = Some("refused".to_string());
                    result.detail = Some(format!("nothing listens on udp {to}"));
                    result.hint = Some(
                        "start the daemon (docker compose up xray-daemon) or point AWS_XRAY_DAEMON_ADDRESS at it".to_string(),
                    );
                }
                daemon::DaemonSend::Failed { message } => {
                    result.detail = Some(message);
                    result.hint = Some("check AWS_XRAY_DAEMON_ADDRESS (host:port)".to_string());
                }
            }
            result.latency_ms = started.elapsed().as_millis() as u64;
            if result.ok {
                xray_wait(&mut result, settings, trace, aws).await;
            }
            result
        }
        Destination::Xray => {
            let started = Instant::now();
            let Some(aws) = aws else {
                unreachable!("loaded for xray")
            };
            let region = xray::api::region(aws).unwrap_or_default();
            let mut result = DestinationResult::new(
                destination,
                format!(
                    "X-Ray API ({})",
                    if region.is_empty() {
                        "no region"
                    } else {
                        &region
                    }
                ),
            );
            result.attempts = 1;
            if let Err(f) = xray::api::region(aws) {
                return result.aws_failure(&f, "xray:PutTraceSegments", started);
            }
            match xray::api::put_segment(aws, &segment::document(trace), settings.timeout).await {
                Ok(()) => {
                    result.ok = true;
                    result.state = State::Accepted;
                    result.status = Some("ok".to_string());
                    result.latency_ms = started.elapsed().as_millis() as u64;
                    result.link = Some(xray::console_link(&region, &trace.xray_trace_id()));
                    xray_wait(&mut result, settings, trace, Some(aws)).await;
                    result
                }
                Err(f) => result.aws_failure(&f, "xray:PutTraceSegments", started),
            }
        }
        Destination::Local => local(settings, trace, client, &mut jitter).await,
        Destination::XrayOtlp => {
            let started = Instant::now();
            let Some(aws) = aws else {
                unreachable!("loaded for xray-otlp")
            };
            let region =
                match xray::api::region(aws) {
                    Ok(r) => r,
                    Err(f) => {
                        return DestinationResult::new(destination, "X-Ray OTLP".into())
                            .aws_failure(&f, "xray:PutTraceSegments", started);
                    }
                };
            let url = xray_otlp_url(&region);
            let result = DestinationResult::new(destination, url.clone());
            let credentials = match xray::api::credentials(aws).await {
                Ok(c) => c,
                Err(f) => return result.aws_failure(&f, "xray:PutTraceSegments", started),
            };
            let body = send::encode(&request, crate::otlp::config::Protocol::HttpProtobuf);
            let content_type = crate::otlp::config::Protocol::HttpProtobuf.content_type();
            let signed = match xray::sigv4::sign_headers(
                &url,
                &[("content-type", content_type)],
                &body,
                &region,
                &credentials,
                SystemTime::now(),
            ) {
                Ok(h) => h,
                Err(e) => {
                    let f = AwsFailure {
                        code: "SigningFailed".into(),
                        message: e,
                    };
                    return result.aws_failure(&f, "xray:PutTraceSegments", started);
                }
            };
            let req = Request {
                url: url.clone(),
                headers: signed,
                body,
                content_type,
                gzip: false,
            };
            let outcome = send::send(client, &req, settings.timeout, &mut jitter).await;
            let mut result = result.with_outcome(&outcome, &url);
            if result.ok {
                result.link = Some(xray::console_link(&region, &trace.xray_trace_id()));
                xray_wait(&mut result, settings, trace, Some(aws)).await;
            }
            result
        }
    }
}

fn print_load(printer: &Printer, r: &load::LoadReport) {
    if !printer.is_human() {
        printer
            .json(&json!({ "version": 1, "command": "send-test", "ok": r.failed == 0, "load": r }));
        return;
    }
    let mut out = format!(
        "Load: {} traces ({} spans) to {} ({}), concurrency {}\n  ok {}, failed {}, in {:.2} s\n  {:.0} spans/s, {:.0} requests/s\n  latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
        r.traces,
        r.spans,
        r.target,
        r.destination,
        r.concurrency,
        r.ok,
        r.failed,
        r.elapsed_ms / 1000.0,
        r.spans_per_second,
        r.requests_per_second,
        r.latency_ms.p50,
        r.latency_ms.p90,
        r.latency_ms.p99,
        r.latency_ms.max
    );
    if let Some(f) = &r.first_failure {
        out.push_str(&format!("  first failure: {f}\n"));
    }
    printer.out(&out);
}

/// Start a receiver on a free loopback port, send to it, and show what it received.
async fn local(
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    client: &reqwest::Client,
    jitter: &mut impl FnMut() -> f64,
) -> DestinationResult {
    let collector = Collector::new(Mode::Keep, None);
    let config = receiver::Config {
        otlp: Some(([127, 0, 0, 1], 0).into()),
        xray: None,
        max_body: 4 << 20,
    };
    let url = match receiver::start(&config, collector.clone())
        .await
        .map(|b| b.otlp)
    {
        Ok(Some(addr)) => format!("http://{addr}/v1/traces"),
        Ok(None) | Err(_) => {
            let mut result =
                DestinationResult::new(Destination::Local, "in-process receiver".into());
            result.detail = Some("could not bind a loopback port".into());
            return result;
        }
    };
    let request = Request::otlp(
        url.clone(),
        Vec::new(),
        &trace.to_request(),
        settings.protocol,
        settings.compression,
    );
    let outcome = send::send(client, &request, settings.timeout, jitter).await;
    let mut result =
        DestinationResult::new(Destination::Local, url.clone()).with_outcome(&outcome, &url);
    if !result.ok {
        return result;
    }
    let expected = trace.spans.len() as u64;
    let arrived = tokio::time::timeout(settings.timeout, collector.wait_for_spans(expected))
        .await
        .is_ok();
    let received = collector.kept(&trace.trace_id_hex());
    if arrived && received.len() as u64 == expected {
        result.state = State::Arrived;
        result.detail = Some(format!("the receiver decoded all {expected} spans"));
    } else {
        result.ok = false;
        result.state = State::Failed;
        result.detail = Some(format!(
            "the receiver got {} of {expected} spans",
            received.len()
        ));
    }
    result.received = Some(received);
    result
}

/// AWS_ENDPOINT_URL_XRAY or AWS_ENDPOINT_URL when set (tests, proxies), else the regional endpoint.
fn xray_otlp_url(region: &str) -> String {
    match xray::endpoint_override() {
        Some(base) => crate::otlp::config::traces_url(&base),
        None => xray::otlp_url(region),
    }
}

/// With `--wait`, poll BatchGetTraces until the trace and all its subsegments are there.
async fn xray_wait(
    result: &mut DestinationResult,
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    aws: Option<&aws_config::SdkConfig>,
) {
    let Some(wait) = settings.wait else { return };
    let Some(aws) = aws else { return };
    let expected = segment::count_subsegments(&segment::document(trace));
    let id = trace.xray_trace_id();
    let deadline = Instant::now() + wait;
    loop {
        match xray::api::trace_complete(aws, &id, expected, settings.timeout).await {
            Ok(true) => {
                result.state = State::Arrived;
                result.detail = Some(format!("found in X-Ray with {expected} subsegments"));
                if let Ok(region) = xray::api::region(aws) {
                    result.link = Some(xray::console_link(&region, &id));
                }
                return;
            }
            Ok(false) if Instant::now() + Duration::from_secs(1) < deadline => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(false) => {
                result.ok = false;
                result.state = State::Failed;
                result.detail = Some(format!("not in X-Ray after {} s", wait.as_secs()));
                result.hint = Some("X-Ray can take a minute to index: try a longer --wait; check the daemon's logs".to_string());
                return;
            }
            Err(f) => {
                result.ok = false;
                result.state = State::Failed;
                result.detail = Some(format!(
                    "could not check arrival: {}: {}",
                    f.code, f.message
                ));
                result.hint = f.hint("xray:BatchGetTraces");
                return;
            }
        }
    }
}

/// After Honeycomb accepted the trace: a UI link from `/1/auth`, and with `--wait` a query for it.
async fn honeycomb_follow_up(
    result: &mut DestinationResult,
    hc: &settings::HoneycombTarget,
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    client: &reqwest::Client,
) {
    let dataset = hc
        .dataset
        .clone()
        .unwrap_or_else(|| honeycomb::dataset_for_service(&trace.service_name));
    let start = unix_nanos(trace.start()) / 1_000_000_000;
    let end = unix_nanos(trace.end()) / 1_000_000_000;
    let auth = honeycomb::auth(client, &hc.base, &hc.key, settings.timeout).await;
    if let Ok(auth) = &auth {
        result.link =
            honeycomb::trace_link(&hc.base, auth, &dataset, &trace.trace_id_hex(), start, end);
    }
    let Some(wait) = settings.wait else { return };
    let auth = match auth {
        Ok(auth) => auth,
        Err(f) => {
            result.state = State::Unverified;
            result.detail = Some(format!(
                "accepted; arrival not checked: /1/auth failed ({})",
                f.summary()
            ));
            return;
        }
    };
    if !auth.api_key_access.queries {
        result.state = State::Unverified;
        result.detail = Some(format!(
            "accepted; arrival not checked: this {} cannot run queries (a configuration key with the \"Run Queries\" permission can)",
            hc.info.kind.describe()
        ));
        return;
    }
    let deadline = Instant::now() + wait;
    let spans = trace.spans.len() as u64;
    loop {
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        match honeycomb::count_trace_events(
            client,
            &hc.base,
            &hc.key,
            &dataset,
            &trace.trace_id_hex(),
            remaining.min(settings.timeout),
        )
        .await
        {
            Ok(n) if n >= spans => {
                result.state = State::Arrived;
                result.detail = Some(format!("{n} spans found by a Honeycomb query"));
                return;
            }
            Ok(_) if Instant::now() + Duration::from_secs(1) < deadline => {
                tokio::time::sleep(Duration::from_secs(1)).await
            }
            Ok(n) => {
                result.ok = false;
                result.state = State::Failed;
                result.detail = Some(format!(
                    "only {n} of {spans} spans found after {} s",
                    wait.as_secs()
                ));
                result.hint = Some("check the dataset name, or try a longer --wait".to_string());
                return;
            }
            Err(f) => {
                result.state = State::Unverified;
                result.detail = Some(format!(
                    "accepted; the arrival query failed: {}",
                    f.summary()
                ));
                return;
            }
        }
    }
}

fn report(
    printer: &Printer,
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    results: &[DestinationResult],
) {
    let ok = results.iter().all(|r| r.ok);
    if !printer.is_human() {
        printer.json(&json!({
            "version": 1,
            "command": "send-test",
            "ok": ok,
            "trace_id": trace.trace_id_hex(),
            "xray_trace_id": trace.xray_trace_id(),
            "service_name": trace.service_name,
            "run_id": trace.run_id,
            "spans": trace.spans.len(),
            "waited": settings.wait.map(|w| w.as_secs()),
            "results": results,
        }));
        return;
    }
    use colored::Colorize;
    let mut out = format!(
        "Test trace {} (X-Ray {}), service {}, {} spans\n\n",
        trace.trace_id_hex(),
        trace.xray_trace_id(),
        trace.service_name,
        trace.spans.len()
    );
    for r in results {
        let (mark, state) = match r.state {
            State::Failed => ("✗".red().bold(), "failed".red()),
            State::Unverified => ("⚠".yellow().bold(), "unverified".yellow()),
            State::Arrived => ("✓".green().bold(), "arrived".green()),
            State::Accepted => ("✓".green().bold(), "accepted".green()),
            State::Sent => ("✓".green().bold(), "sent".green()),
        };
        out.push_str(&format!(
            "  {mark} {:<12} {:<10} {:>6} {:>6} ms  {}\n",
            r.destination,
            state,
            r.status.as_deref().unwrap_or("-"),
            r.latency_ms,
            r.target
        ));
        if let Some(detail) = &r.detail {
            out.push_str(&format!("      {detail}\n"));
        }
        if let Some(warning) = &r.warning {
            out.push_str(&format!("      {} {warning}\n", "warning:".yellow()));
        }
        if let Some(link) = &r.link {
            out.push_str(&format!("      {link}\n"));
        }
        if let Some(hint) = &r.hint {
            out.push_str(&format!("      {} {hint}\n", "hint:".cyan().bold()));
        }
        if let Some(received) = r.received.as_ref().filter(|r| !r.is_empty()) {
            out.push_str(&format!("\n{}", render::tree(received)));
        }
    }
    if settings.wait.is_none() && ok && results.iter().any(|r| r.state == State::Accepted) {
        out.push_str(
            "\nAccepted is not arrived: add --wait to check that the trace can be found.\n",
        );
    }
    printer.out(&out);
}
