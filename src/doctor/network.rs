//! Checks that talk to Honeycomb, AWS and the X-Ray daemon. Each returns its result and, when a
//! server answered, that server's `Date` for the clock check.

use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::gather::Facts;
use super::{CheckResult, Status};
use crate::honeycomb::Auth;
use crate::otlp::send::{Failure, classify, error_message, hint};
use crate::secret::Secret;
use crate::xray::api::{self as xray_api, AwsFailure};

/// A server's clock reading: (server, its Date, our clock when the answer came).
pub type ClockSample = (String, SystemTime, SystemTime);

pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub date: Option<SystemTime>,
    pub content_type: String,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// This answer as a failure: its status and what it says.
    fn failure(&self) -> Failure {
        crate::otlp::send::status_failure(
            self.status,
            &self.content_type,
            &self.body,
            self.location.as_deref(),
        )
    }
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or("")
        .to_string()
}

fn sample(url: &str, answer: &Answer) -> Option<ClockSample> {
    answer.date.map(|d| (host_of(url), d, SystemTime::now()))
}

async fn request(builder: reqwest::RequestBuilder) -> Result<Answer, Failure> {
    let response = builder.send().await.map_err(|e| {
        classify(&e).unwrap_or(Failure::Connect {
            message: "connection reset".into(),
        })
    })?;
    let header = |name: &str| crate::otlp::send::header(&response, name);
    let date = header("date").and_then(|d| httpdate::parse_http_date(&d).ok());
    let content_type = header("content-type").unwrap_or_default();
    let status = response.status().as_u16();
    let retry_after =
        header("retry-after").and_then(|v| crate::otlp::send::retry_after(&v, SystemTime::now()));
    let location = header("location");
    let (body, _) = crate::otlp::send::read_body(response).await;
    Ok(Answer {
        status,
        retry_after,
        date,
        content_type,
        location,
        body,
    })
}

fn failed(
    id: &'static str,
    what: &str,
    failure: &Failure,
    destination: &str,
    url: &str,
) -> CheckResult {
    let check = CheckResult::fail(id, format!("{what}: {}", failure.summary()));
    match hint(failure, destination, url) {
        Some(h) => check.hint(h),
        None => check,
    }
}

pub async fn honeycomb_auth(
    client: &reqwest::Client,
    base: &str,
    key: &Secret,
) -> (CheckResult, Option<ClockSample>) {
    let id = "honeycomb-auth";
    let url = format!("{base}/1/auth");
    let answer = match request(client.get(&url).header("X-Honeycomb-Team", key.expose())).await {
        Ok(a) => a,
        Err(f) => return (failed(id, "GET /1/auth", &f, "honeycomb", &url), None),
    };
    let clock = sample(&url, &answer);
    if answer.status == 401 {
        let message = error_message(&answer.content_type, &answer.body).unwrap_or_default();
        return (
            CheckResult::fail(id, format!("401 from /1/auth: {message}"))
                .hint("the key is wrong or was deleted: copy it again from Honeycomb"),
            clock,
        );
    }
    if answer.status == 429 {
        let after = answer
            .retry_after
            .map(|d| format!("; retry after {} s", d.as_secs()))
            .unwrap_or_default();
        return (
            CheckResult::warn(id, format!("rate limited by Honeycomb (429){after}"))
                .hint("run doctor again in a little while"),
            clock,
        );
    }
    if answer.status != 200 {
        return (
            failed(id, "GET /1/auth", &answer.failure(), "honeycomb", &url),
            clock,
        );
    }
    let auth: Auth = match serde_json::from_slice(&answer.body) {
        Ok(a) => a,
        Err(_) => {
            return (
                CheckResult::fail(
                    id,
                    format!(
                        "the /1/auth answer is not Honeycomb's ({})",
                        crate::otlp::send::describe_body(&answer.content_type, &answer.body)
                    ),
                )
                .hint("check HONEYCOMB_API_ENDPOINT, and proxy settings (HTTPS_PROXY, NO_PROXY)"),
                clock,
            );
        }
    };
    let place = if auth.environment.slug.is_empty() {
        format!("team {} (Honeycomb Classic)", auth.team.name)
    } else {
        format!(
            "team {}, environment {}",
            auth.team.name, auth.environment.name
        )
    };
    if !auth.api_key_access.events {
        return (
            CheckResult::fail(id, format!("{place}: the key may not send events"))
                .hint("enable \"Send Events\" for this key, or use an ingest key"),
            clock,
        );
    }
    (
        CheckResult::pass(id, format!("{place}; may send events")),
        clock,
    )
}

pub async fn honeycomb_otlp(
    client: &reqwest::Client,
    base: &str,
    key: &Secret,
    dataset: Option<&str>,
) -> (CheckResult, Option<ClockSample>) {
    let id = "honeycomb-otlp";
    let url = crate::otlp::config::traces_url(base);
    let host = host_of(base);
    let authority = if host.contains(':') {
        host.clone()
    } else if base.starts_with("https") {
        format!("{host}:443")
    } else {
        format!("{host}:80")
    };
    let started = Instant::now();
    let addrs = match tokio::net::lookup_host(&authority).await {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => {
            let f = Failure::Dns {
                message: e.to_string(),
            };
            return (
                failed(id, &format!("DNS {host}"), &f, "honeycomb", &url),
                None,
            );
        }
    };
    let dns = started.elapsed();
    let connect_started = Instant::now();
    let first = addrs.first().copied();
    let stream = match first {
        Some(addr) => match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => Some(stream),
            Err(e) => {
                let f = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    Failure::Refused {
                        message: e.to_string(),
                    }
                } else {
                    Failure::Connect {
                        message: e.to_string(),
                    }
                };
                return (
                    failed(id, &format!("TCP {addr}"), &f, "honeycomb", &url),
                    None,
                );
            }
        },
        None => None,
    };
    let tcp = connect_started.elapsed();
    let mut tls = String::new();
    if let (Some(stream), true) = (stream, base.starts_with("https://")) {
        let name = host
            .rsplit_once(':')
            .map_or(host.as_str(), |(h, _)| h)
            .trim_matches(['[', ']']);
        match tls_handshake(name, stream).await {
            Ok(took) => tls = format!(", TLS {} ms", took.as_millis()),
            Err(f) => {
                return (
                    failed(id, &format!("TLS {name}"), &f, "honeycomb", &url),
                    None,
                );
            }
        }
    }
    let post_started = Instant::now();
    let mut builder = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .header("x-honeycomb-team", key.expose())
        .body(ExportTraceServiceRequest::default().encode_to_vec());
    if let Some(dataset) = dataset {
        builder = builder.header("x-honeycomb-dataset", dataset);
    }
    let answer = match request(builder).await {
        Ok(a) => a,
        Err(f) => return (failed(id, "POST /v1/traces", &f, "honeycomb", &url), None),
    };
    let clock = sample(&url, &answer);
    let timing = format!(
        "DNS {} ms, TCP {} ms{tls}, POST {} ms",
        dns.as_millis(),
        tcp.as_millis(),
        post_started.elapsed().as_millis()
    );
    if (200..300).contains(&answer.status) {
        return (
            CheckResult::pass(
                id,
                format!("an empty export got {} ({timing})", answer.status),
            ),
            clock,
        );
    }
    if answer.status == 429 {
        return (
            CheckResult::warn(id, format!("rate limited (429) ({timing})"))
                .hint("run doctor again in a little while"),
            clock,
        );
    }
    (
        failed(id, "POST /v1/traces", &answer.failure(), "honeycomb", &url),
        clock,
    )
}

/// A TLS handshake over `stream` with the platform's trust store, timed on its own.
async fn tls_handshake(host: &str, stream: tokio::net::TcpStream) -> Result<Duration, Failure> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let tls = crate::otlp::send::tls_failure;
    let provider = crate::tls::provider();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_platform_verifier())
        .map_err(|e| tls(e.to_string()))?
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| tls(e.to_string()))?;
    let started = Instant::now();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, stream)
        .await
        .map_err(|e| tls(e.to_string()))?;
    Ok(started.elapsed())
}

/// An ARN with the middle of its account id hidden.
pub fn mask_arn(arn: &str) -> String {
    arn.split(':')
        .map(|part| {
            if part.len() == 12 && part.bytes().all(|b| b.is_ascii_digit()) {
                format!("{}****{}", &part[..4], &part[8..])
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn provider_of(credentials: &aws_credential_types::Credentials) -> String {
    let debug = format!("{credentials:?}");
    debug
        .split("provider_name: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("unknown")
        .to_string()
}

fn aws_failed(id: &'static str, failure: &AwsFailure, action: &str) -> CheckResult {
    let check = CheckResult::fail(id, format!("{}: {}", failure.code, failure.message));
    match failure.hint(action) {
        Some(h) => check.hint(h),
        None => check,
    }
}

pub async fn aws_credentials(config: &SdkConfig) -> CheckResult {
    let id = "aws-credentials";
    let credentials = match xray_api::credentials(config).await {
        Ok(c) => c,
        Err(f) => return aws_failed(id, &f, "sts:GetCallerIdentity"),
    };
    let source = provider_of(&credentials);
    let client = aws_sdk_sts::Client::new(config);
    match client.get_caller_identity().send().await {
        Ok(who) => CheckResult::pass(
            id,
            format!(
                "{} (account {}, from {source})",
                mask_arn(who.arn().unwrap_or("?")),
                mask_arn(who.account().unwrap_or("?"))
            ),
        ),
        Err(e) => {
            let failure = xray_api::sdk_failure(&e);
            let mut check = aws_failed(id, &failure, "sts:GetCallerIdentity");
            check.detail = format!("credentials from {source}; {}", check.detail);
            check
        }
    }
}

pub async fn xray_endpoint(
    client: &reqwest::Client,
    url: &str,
) -> (CheckResult, Option<ClockSample>) {
    let id = "xray-endpoint";
    let started = Instant::now();
    match request(client.get(url)).await {
        Ok(answer) => (
            CheckResult::pass(
                id,
                format!(
                    "{} answered HTTP {} in {} ms",
                    host_of(url),
                    answer.status,
                    started.elapsed().as_millis()
                ),
            ),
            sample(url, &answer),
        ),
        Err(f) => (failed(id, &host_of(url), &f, "xray", url), None),
    }
}

/// The daemon's TCP proxy: `POST /GetSamplingRules` answers 200 only when the daemon is up and its
/// own credentials work.
pub async fn xray_daemon(client: &reqwest::Client, tcp_address: &str, strict: bool) -> CheckResult {
    let id = "xray-daemon";
    let url = format!("http://{tcp_address}/GetSamplingRules");
    let soft = if strict { Status::Fail } else { Status::Warn };
    match request(client.post(&url).header("content-type", "application/json").body("{}")).await {
        Ok(a) if a.status == 200 => CheckResult::pass(id, format!("{tcp_address} answered GetSamplingRules: up, and its credentials work")),
        Ok(a) => CheckResult::new(
            id,
            soft,
            format!("{tcp_address} answered GetSamplingRules with {}: {}", a.status, error_message(&a.content_type, &a.body).unwrap_or_default()),
        )
        .hint("the daemon runs but X-Ray refused it: check the credentials and region passed to the xray-daemon service"),
        Err(f) => CheckResult::new(id, soft, format!("no daemon at {tcp_address}: {}", f.summary()))
            .hint("start it (docker compose up -d xray-daemon) or set AWS_XRAY_DAEMON_ADDRESS"),
    }
}

/// Where X-Ray stores segments (X-Ray or CloudWatch Logs), when the API says.
pub async fn segment_destination(config: &SdkConfig) -> Option<String> {
    xray_api::segment_destination(config, Duration::from_secs(3600))
        .await
        .ok()
        .map(|d| d.to_string())
}

/// The account id, when STS says within `timeout`: it makes the enabling commands exact.
async fn account_id(config: &SdkConfig, timeout: Duration) -> Option<String> {
    let client = aws_sdk_sts::Client::new(config);
    let who = tokio::time::timeout(timeout, client.get_caller_identity().send())
        .await
        .ok()?
        .ok()?;
    who.account()
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// The enabling commands as a hint, one per line.
fn enable_hint(region: &str, account: Option<&str>) -> String {
    let [policy, switch] = crate::xray::enable_transaction_search(region, account);
    format!("enable Transaction Search (once per account and region):\n  {policy}\n  {switch}")
}

/// Transaction Search: whether X-Ray stores segments in CloudWatch Logs, which its OTLP endpoint
/// requires. `needed`: the project sends OTLP to X-Ray (not the daemon), so "off" is a failure;
/// a project still on the daemon only gets a warning, as it needs it once it moves.
pub async fn transaction_search(config: &SdkConfig, region: &str, needed: bool) -> CheckResult {
    let id = "transaction-search";
    let soft = if needed { Status::Fail } else { Status::Warn };
    match xray_api::segment_destination(config, Duration::from_secs(3600)).await {
        Ok(d) if d.transaction_search() && d.status == "ACTIVE" => CheckResult::pass(
            id,
            format!("segments go to CloudWatch Logs ({}): X-Ray's OTLP endpoint accepts spans, and send-test --wait finds them with a Transaction Search retrieval", d.status),
        ),
        Ok(d) if d.transaction_search() => CheckResult::warn(
            id,
            format!("switching to CloudWatch Logs ({}): X-Ray's OTLP endpoint refuses spans until it is ACTIVE", d.status),
        )
        .hint("this takes a few minutes: run `tracectl doctor --check transaction-search` again shortly"),
        Ok(d) => {
            let account = account_id(config, Duration::from_secs(5)).await;
            let why = if needed {
                "X-Ray's OTLP endpoint refuses spans (HTTP 400) until it is on"
            } else {
                "the daemon does not need it, X-Ray's OTLP endpoint (after `tracectl init --migrate`) does"
            };
            CheckResult::new(
                id,
                soft,
                format!("Transaction Search is off: segments go to {d}; {why}"),
            )
            .hint(enable_hint(region, account.as_deref()))
        }
        Err(f) if xray_api::unknown_operation(&f) => CheckResult::new(
            id,
            soft,
            format!("the X-Ray endpoint does not offer GetTraceSegmentDestination ({}: {})", f.code, f.message),
        )
        .hint("Transaction Search may not exist in this region or partition; check AWS_ENDPOINT_URL"),
        Err(f) => aws_failed(id, &f, "xray:GetTraceSegmentDestination"),
    }
}

/// Whether this identity may send spans to X-Ray's OTLP endpoint: a signed export with no spans,
/// which stores nothing, tells AccessDenied from accepted and from "Transaction Search is off".
///
/// `needed`: the project sends OTLP to X-Ray; one still on the daemon gets warnings instead.
pub async fn xray_otlp_permission(
    client: &reqwest::Client,
    config: &SdkConfig,
    region: &str,
    needed: bool,
) -> (CheckResult, Option<ClockSample>) {
    let (mut check, clock) = otlp_permission(client, config, region).await;
    if !needed && check.status == Status::Fail {
        check.status = Status::Warn;
        check.detail = format!(
            "{} (needed once the project moves off the daemon)",
            check.detail
        );
    }
    (check, clock)
}

async fn otlp_permission(
    client: &reqwest::Client,
    config: &SdkConfig,
    region: &str,
) -> (CheckResult, Option<ClockSample>) {
    let id = "xray-otlp-permission";
    let credentials = match xray_api::credentials(config).await {
        Ok(c) => c,
        Err(f) => return (aws_failed(id, &f, "xray:PutSpans"), None),
    };
    let url = match crate::xray::endpoint_override() {
        Some(base) => crate::otlp::config::traces_url(&base),
        None => crate::xray::otlp_url(region),
    };
    let body = ExportTraceServiceRequest::default().encode_to_vec();
    let content_type = "application/x-protobuf";
    let headers = match crate::xray::sigv4::sign_headers(
        &url,
        &[("content-type", content_type)],
        &body,
        region,
        &credentials,
        SystemTime::now(),
    ) {
        Ok(h) => h,
        Err(e) => return (CheckResult::fail(id, format!("cannot sign: {e}")), None),
    };
    let mut builder = client
        .post(&url)
        .header("content-type", content_type)
        .body(body);
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.expose());
    }
    let host = host_of(&url);
    let answer = match request(builder).await {
        Ok(a) => a,
        Err(f) => return (failed(id, &host, &f, "xray", &url), None),
    };
    let clock = sample(&url, &answer);
    let message = error_message(&answer.content_type, &answer.body).unwrap_or_default();
    let verdict = crate::xray::classify_otlp_answer(answer.status, &message);
    let said = format!(
        "{host} answered a signed empty export with HTTP {}",
        answer.status
    );
    let check = match verdict {
        crate::xray::OtlpAnswer::Accepted => {
            CheckResult::pass(id, format!("{said}: this identity may send spans"))
        }
        crate::xray::OtlpAnswer::NeedsTransactionSearch => {
            let account = account_id(config, Duration::from_secs(5)).await;
            CheckResult::fail(
                id,
                format!("{said}: signed correctly, but Transaction Search is off"),
            )
            .hint(enable_hint(region, account.as_deref()))
        }
        other => {
            let check = CheckResult::fail(id, format!("{said}: {message}"));
            match crate::xray::otlp_answer_hint(other, region, None) {
                Some(h) => check.hint(h),
                None => check,
            }
        }
    };
    (check, clock)
}

pub fn timed_out(id: &'static str, timeout: Duration, soft: bool) -> CheckResult {
    let status = if soft { Status::Warn } else { Status::Fail };
    CheckResult::new(
        id,
        status,
        format!("timed out: no answer within {} ms", timeout.as_millis()),
    )
    .hint("check the address, firewalls and proxies (HTTPS_PROXY/NO_PROXY), or raise --timeout")
}

/// Spinners (or nothing) while the network checks run.
pub trait Progress {
    type Bar;
    fn start(&self, id: &str) -> Self::Bar;
    fn finish(&self, bar: Self::Bar);
}

/// What the network checks are asked to do.
pub struct Plan<'a> {
    pub facts: &'a Facts<'a>,
    pub want: &'a dyn Fn(&str) -> bool,
    /// The daemon not answering is only a warning.
    pub daemon_soft: bool,
    /// The whole run, AWS configuration loading included, ends here.
    pub deadline: tokio::time::Instant,
    /// The --timeout the user gave, for messages.
    pub timeout: Duration,
}

type Job<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = (CheckResult, Option<ClockSample>)> + 'a>>;

/// Every network check at once, all within one deadline; the AWS configuration is loaded once,
/// on demand, inside that same deadline. Returns the results, the servers' clocks and where
/// X-Ray stores segments (when it said in time).
pub async fn run_all<P: Progress>(
    plan: &Plan<'_>,
    progress: &P,
) -> (Vec<CheckResult>, Vec<ClockSample>, Option<String>) {
    let facts = plan.facts;
    let want = plan.want;
    // No client timeout: each check is bounded from outside, so a hang reads the same everywhere.
    crate::tls::install();
    let client = reqwest::Client::builder()
        .user_agent(concat!("tracectl/", env!("CARGO_PKG_VERSION")))
        // A redirect would carry the key to whatever server it names.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let aws_wanted = facts.xray
        && [
            "aws-credentials",
            "xray-endpoint",
            "xray-support",
            "transaction-search",
            "xray-otlp-permission",
        ]
        .iter()
        .any(|id| want(id));
    let region = facts.aws_region.as_ref().map(|(r, _)| r.clone());
    let aws_cell: tokio::sync::OnceCell<SdkConfig> = tokio::sync::OnceCell::new();
    let aws = || async {
        aws_cell
            .get_or_init(|| crate::xray::api::load(region.as_deref()))
            .await
    };

    let mut jobs: Vec<(&'static str, bool, Job)> = Vec::new();
    let skip = |id: &'static str, why: &str| -> Job {
        let r = CheckResult::skip(id, why.to_string());
        Box::pin(async move { (r, None) })
    };

    match &facts.honeycomb_key {
        Some(key) => {
            let base = facts.honeycomb_base.clone();
            let dataset = facts.dataset.clone().filter(|_| {
                crate::honeycomb::classify(key.expose())
                    .kind
                    .needs_dataset()
            });
            let (c1, c2, k1, k2, b1) = (
                client.clone(),
                client.clone(),
                key.clone(),
                key.clone(),
                base.clone(),
            );
            jobs.push((
                "honeycomb-auth",
                false,
                Box::pin(async move { honeycomb_auth(&c1, &b1, &k1).await }),
            ));
            jobs.push((
                "honeycomb-otlp",
                false,
                Box::pin(async move { honeycomb_otlp(&c2, &base, &k2, dataset.as_deref()).await }),
            ));
        }
        None => {
            let why = if facts.honeycomb {
                "no Honeycomb key"
            } else {
                "Honeycomb is not configured"
            };
            jobs.push(("honeycomb-auth", false, skip("honeycomb-auth", why)));
            jobs.push(("honeycomb-otlp", false, skip("honeycomb-otlp", why)));
        }
    }
    if aws_wanted {
        jobs.push((
            "aws-credentials",
            false,
            Box::pin(async { (aws_credentials(aws().await).await, None) }),
        ));
    } else {
        jobs.push((
            "aws-credentials",
            false,
            skip("aws-credentials", "X-Ray is not configured"),
        ));
    }
    let xray_url = crate::xray::endpoint_override().or_else(|| {
        facts
            .aws_region
            .as_ref()
            .map(|(r, _)| format!("https://xray.{r}.amazonaws.com"))
    });
    match (&xray_url, facts.xray) {
        (Some(url), true) => {
            let (c, u) = (client.clone(), url.clone());
            jobs.push((
                "xray-endpoint",
                false,
                Box::pin(async move { xray_endpoint(&c, &u).await }),
            ));
        }
        (None, true) => jobs.push((
            "xray-endpoint",
            false,
            skip("xray-endpoint", "no AWS region to find the endpoint by"),
        )),
        _ => jobs.push((
            "xray-endpoint",
            false,
            skip("xray-endpoint", "X-Ray is not configured"),
        )),
    }
    match (&region, facts.xray) {
        (Some(r), true) => {
            let (r1, r2, c) = (r.clone(), r.clone(), client.clone());
            let needed = !facts.uses_daemon;
            jobs.push((
                "transaction-search",
                !needed,
                Box::pin(async move { (transaction_search(aws().await, &r1, needed).await, None) }),
            ));
            jobs.push((
                "xray-otlp-permission",
                !needed,
                Box::pin(async move { xray_otlp_permission(&c, aws().await, &r2, needed).await }),
            ));
        }
        (None, true) => {
            for id in ["transaction-search", "xray-otlp-permission"] {
                jobs.push((id, false, skip(id, "no AWS region")));
            }
        }
        _ => {
            for id in ["transaction-search", "xray-otlp-permission"] {
                jobs.push((id, false, skip(id, "X-Ray is not configured")));
            }
        }
    }
    let daemon_soft = plan.daemon_soft;
    if facts.uses_daemon || facts.daemon_address_set {
        let (c, addr) = (client.clone(), facts.daemon_tcp.clone());
        jobs.push((
            "xray-daemon",
            daemon_soft,
            Box::pin(async move { (xray_daemon(&c, &addr, !daemon_soft).await, None) }),
        ));
    } else {
        jobs.push((
            "xray-daemon",
            true,
            skip("xray-daemon", "the project runs no X-Ray daemon"),
        ));
    }

    let jobs: Vec<_> = jobs.into_iter().filter(|(id, _, _)| want(id)).collect();
    let aws_cell = &aws_cell;
    let futures = jobs.into_iter().map(|(id, soft, job)| {
        let bar = progress.start(id);
        async move {
            let started = tokio::time::Instant::now();
            let (mut result, clock) = match tokio::time::timeout_at(plan.deadline, job).await {
                Ok(r) => r,
                Err(_) if id == "aws-credentials" && !aws_cell.initialized() => (
                    CheckResult::fail(
                        id,
                        format!(
                            "the AWS configuration did not load within {} ms",
                            plan.timeout.as_millis()
                        ),
                    )
                    .hint("check AWS_PROFILE, the profile's credential_process or SSO, and the network; or raise --timeout"),
                    None,
                ),
                Err(_) => (timed_out(id, plan.timeout, soft), None),
            };
            result.duration_ms = started.elapsed().as_millis() as u64;
            progress.finish(bar);
            (result, clock)
        }
    });
    let destination = async {
        if aws_wanted && want("xray-support") {
            tokio::time::timeout_at(plan.deadline, async {
                segment_destination(aws().await).await
            })
            .await
            .ok()
            .flatten()
        } else {
            None
        }
    };
    let (done, destination) = tokio::join!(crate::send::join_all(futures), destination);
    let mut results = Vec::new();
    let mut samples = Vec::new();
    for (result, clock) in done {
        results.push(result);
        samples.extend(clock);
    }
    (results, samples, destination)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_hide_the_account() {
        assert_eq!(
            mask_arn("arn:aws:iam::123456789012:user/ci"),
            "arn:aws:iam::1234****9012:user/ci"
        );
        assert_eq!(mask_arn("123456789012"), "1234****9012");
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://api.honeycomb.io/1/auth"),
            "api.honeycomb.io"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
