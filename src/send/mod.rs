//! Sending the synthetic trace: one sender per destination, each within the user's --timeout
//! (AWS configuration and credentials included), and arrival proofs within --wait.

mod collector;
mod honeycomb;
mod local;
mod otlp;
mod xray;

use std::time::Instant;

use serde::Serialize;

use crate::cli::Destination;
use crate::error::{Error, Result};
use crate::listen::ReceivedSpan;
use crate::otlp::send::{self as http, Outcome};
use crate::otlp::trace::SyntheticTrace;
use crate::settings::SendTestSettings;
use crate::xray::api::AwsFailure;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

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
        self.status = match outcome.grpc_code {
            Some(code) => Some(crate::otlp::grpc::code_name(code).to_string()),
            None => outcome.status.map(|s| s.to_string()),
        };
        self.latency_ms = outcome.latency.as_millis() as u64;
        self.attempts = outcome.attempts;
        self.rejected_spans = outcome.rejected_spans;
        if let Some(failure) = &outcome.failure {
            self.detail = Some(failure.summary());
            self.hint = http::hint(failure, self.destination, url);
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
        self.hint = failure.hint(action).or_else(|| {
            (failure.code == CONFIG_TIMEOUT).then(|| {
                "check AWS_PROFILE and the profile's credential_process or SSO login, or raise --timeout"
                    .to_string()
            })
        });
        self.ok = false;
        self.state = State::Failed;
        self
    }
}

const CONFIG_TIMEOUT: &str = "ConfigTimeout";

/// What every sender shares: the settings, the trace, one HTTP client, the AWS configuration
/// (loaded at most once, on first need) and the deadlines.
pub struct Context<'a> {
    pub settings: &'a SendTestSettings,
    pub trace: &'a SyntheticTrace,
    /// Saved requests sent instead of the synthetic trace (`--from`).
    pub replay: Option<&'a [ExportTraceServiceRequest]>,
    pub client: reqwest::Client,
    aws: tokio::sync::OnceCell<aws_config::SdkConfig>,
}

impl Context<'_> {
    /// What this run sends: the synthetic trace, or the replayed requests, one export each.
    fn requests(&self) -> Vec<ExportTraceServiceRequest> {
        match self.replay {
            Some(requests) => requests.to_vec(),
            None => vec![self.trace.to_request()],
        }
    }

    /// The spans this run sends.
    fn span_count(&self) -> usize {
        match self.replay {
            Some(requests) => crate::listen::saved::span_count(requests),
            None => self.trace.spans.len(),
        }
    }

    /// Send every request of this run to one OTLP endpoint, in order, stopping at the first
    /// failure; one outcome for them all (attempts, rejected spans and latency added up).
    async fn send_otlp(
        &self,
        url: &str,
        headers: Vec<(String, crate::secret::Secret)>,
        protocol: crate::otlp::config::Protocol,
        compression: crate::otlp::config::Compression,
        deadline: Instant,
    ) -> Outcome {
        let mut total = Outcome::default();
        for request in self.requests() {
            let req = http::Request::otlp(
                url.to_string(),
                headers.clone(),
                &request,
                protocol,
                compression,
            );
            let outcome = http::send(&self.client, &req, left(deadline), &mut jitter()).await;
            total.attempts += outcome.attempts;
            total.rejected_spans += outcome.rejected_spans;
            total.latency += outcome.latency;
            total.status = outcome.status;
            total.grpc_code = outcome.grpc_code;
            total.server_date = outcome.server_date.or(total.server_date);
            total.message = outcome.message.or(total.message);
            if outcome.failure.is_some() {
                total.failure = outcome.failure;
                break;
            }
        }
        total
    }

    /// The AWS configuration (profiles, SSO, credential processes), before `deadline`.
    async fn aws(&self, deadline: Instant) -> Result<&aws_config::SdkConfig, AwsFailure> {
        let load = self
            .aws
            .get_or_init(|| crate::xray::api::load(self.settings.aws_region.as_deref()));
        tokio::time::timeout_at(deadline.into(), load)
            .await
            .map_err(|_| AwsFailure {
                code: CONFIG_TIMEOUT.into(),
                message: format!(
                    "the AWS configuration did not load within {} ms",
                    self.settings.timeout.as_millis()
                ),
            })
    }

    /// AWS credentials, before `deadline`.
    async fn credentials(
        &self,
        config: &aws_config::SdkConfig,
        deadline: Instant,
    ) -> Result<aws_credential_types::Credentials, AwsFailure> {
        tokio::time::timeout_at(deadline.into(), crate::xray::api::credentials(config))
            .await
            .unwrap_or_else(|_| {
                Err(AwsFailure {
                    code: CONFIG_TIMEOUT.into(),
                    message: format!(
                        "no AWS credentials within {} ms",
                        self.settings.timeout.as_millis()
                    ),
                })
            })
    }
}

/// A URL as it may be shown: any `user:password@` removed.
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

pub fn rand_u64() -> impl FnMut() -> u64 {
    let mut rng = rand::rng();
    move || rand::Rng::random(&mut rng)
}

fn jitter() -> impl FnMut() -> f64 {
    let mut next = rand_u64();
    move || (next() % 1000) as f64 / 1000.0
}

/// The time left until `deadline`, at least a millisecond (a zero timeout means "none" to some).
/// `wait` from now, saturating: a duration past what the clock can hold is a day, longer than
/// any flag allows.
pub(crate) fn after(wait: std::time::Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(std::time::Duration::from_secs(86_400)))
        .unwrap_or(now)
}

fn left(deadline: Instant) -> std::time::Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(std::time::Duration::from_millis(1))
}

pub fn http_client(settings: &SendTestSettings) -> Result<reqwest::Client> {
    crate::tls::install();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("tracectl/", env!("CARGO_PKG_VERSION")))
        // A redirect would carry the key headers to whatever server it names.
        .redirect(reqwest::redirect::Policy::none())
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
        crate::otlp::grpc::trust_extra_roots(pem);
    }
    builder
        .build()
        .map_err(|e| Error::usage(format!("cannot set up HTTP: {e}"), None))
}

pub use collector::url as collector_url;

/// Send to every destination at once; each gets --timeout from now to be accepted.
pub async fn execute(
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    replay: Option<&[ExportTraceServiceRequest]>,
) -> Result<Vec<DestinationResult>> {
    let ctx = Context {
        settings,
        trace,
        replay,
        client: http_client(settings)?,
        aws: tokio::sync::OnceCell::new(),
    };
    let deadline = after(settings.timeout);
    let futures = settings
        .destinations
        .iter()
        .map(|d| one(*d, &ctx, deadline));
    Ok(join_all(futures).await)
}

/// The sender for one destination.
async fn one(destination: Destination, ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    match destination {
        Destination::Honeycomb => honeycomb::send(ctx, deadline).await,
        Destination::Otlp => otlp::send(ctx, deadline).await,
        Destination::XrayDaemon => xray::daemon(ctx, deadline).await,
        Destination::Xray => xray::api(ctx, deadline).await,
        Destination::XrayOtlp => xray::otlp(ctx, deadline).await,
        Destination::Local => local::send(ctx, deadline).await,
        Destination::Collector => collector::send(ctx, deadline).await,
    }
}

/// Run futures concurrently on this thread and collect their results in order.
pub async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
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

/// Drop a runtime without waiting for its blocking threads: a DNS lookup stuck in the system
/// resolver must not hold the process past the deadline the user gave.
pub fn shut_down(runtime: tokio::runtime::Runtime) {
    runtime.shutdown_background();
}

/// Poll `check` until it says done or `deadline` has passed: at most once a second, each poll
/// bounded by the time left. `Ok(None)`: not done when the time was up.
async fn poll_until<T, E, F, Fut>(deadline: Instant, mut check: F) -> Result<Option<T>, E>
where
    F: FnMut(std::time::Duration) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, E>>,
{
    loop {
        let next = Instant::now() + std::time::Duration::from_secs(1);
        if let Some(done) = check(left(deadline)).await? {
            return Ok(Some(done));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep_until(next.min(deadline).into()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn userinfo_is_dropped_from_shown_urls() {
        assert_eq!(
            without_userinfo("https://u:p@h:1/v1/traces?a@b"),
            "https://h:1/v1/traces?a@b"
        );
        assert_eq!(without_userinfo("http://h/x@y"), "http://h/x@y");
        assert_eq!(without_userinfo("not a url"), "not a url");
    }

    #[test]
    fn a_blocked_thread_does_not_hold_the_runtime_shutdown() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        // What a system resolver stuck on a silent DNS server looks like to tokio.
        runtime.block_on(async {
            let stuck = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_secs(20)));
            let _ = tokio::time::timeout(Duration::from_millis(100), stuck).await;
        });
        shut_down(runtime);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn polling_gives_up_exactly_when_the_wait_is_over() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let mut polls = 0;
        let out: Result<Option<()>, ()> =
            runtime.block_on(poll_until(started + Duration::from_millis(2500), |_| {
                polls += 1;
                async { Ok(None) }
            }));
        let took = started.elapsed();
        assert_eq!(out, Ok(None));
        assert!(
            took >= Duration::from_millis(2500) && took < Duration::from_millis(2900),
            "{took:?}"
        );
        // At 0, 1, 2 and 2.5 s: the last poll is at the deadline, not a second before it.
        assert_eq!(polls, 4);
    }
}
