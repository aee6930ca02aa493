//! X-Ray three ways: the daemon over UDP, the PutTraceSegments API, and the OTLP endpoint signed
//! with SigV4; with --wait, BatchGetTraces proves arrival.

use std::time::{Duration, Instant, SystemTime};

use super::{Context, DestinationResult, State, jitter, left, poll_until};
use crate::cli::Destination;
use crate::otlp::config::Protocol;
use crate::otlp::send::{self as http, Request};
use crate::otlp::trace::hex;
use crate::xray::{self, api::AwsFailure, daemon as udp, segment};

const PUT: &str = "xray:PutTraceSegments";

pub async fn daemon(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let settings = ctx.settings;
    let started = Instant::now();
    let mut result =
        DestinationResult::new(Destination::XrayDaemon, settings.daemon_address.clone());
    let payload = match udp::datagram(&segment::document(ctx.trace)) {
        Ok(p) => p,
        Err(e) => {
            result.detail = Some(e.to_string());
            return result;
        }
    };
    result.attempts = 1;
    let sent = tokio::time::timeout_at(
        deadline.into(),
        udp::send(&settings.daemon_address, &payload),
    )
    .await
    .unwrap_or_else(|_| udp::DaemonSend::Failed {
        message: format!(
            "could not send within {} ms (resolving the address?)",
            settings.timeout.as_millis()
        ),
    });
    match sent {
        udp::DaemonSend::Sent { to, bytes } => {
            result.ok = true;
            result.state = State::Sent;
            result.status = Some("udp".to_string());
            result.detail = Some(format!("{bytes} bytes to {to}; UDP is not acknowledged"));
        }
        udp::DaemonSend::NothingListening { to } => {
            result.status = Some("refused".to_string());
            result.detail = Some(format!("nothing listens on udp {to}"));
            result.hint = Some(
                "start the daemon (docker compose up xray-daemon) or point AWS_XRAY_DAEMON_ADDRESS at it".to_string(),
            );
        }
        udp::DaemonSend::Failed { message } => {
            result.detail = Some(message);
            result.hint = Some("check AWS_XRAY_DAEMON_ADDRESS (host:port)".to_string());
        }
    }
    result.latency_ms = started.elapsed().as_millis() as u64;
    if let Some(until) = settings.wait.filter(|_| result.ok).map(super::after) {
        // Arrival is checked through the API: that needs the AWS configuration, on its own budget.
        match ctx.aws(until).await {
            Ok(aws) => wait(&mut result, ctx, aws, until).await,
            Err(f) => {
                result.state = State::Unverified;
                result.detail = Some(format!(
                    "sent; arrival not checked: {}: {}",
                    f.code, f.message
                ));
            }
        }
    }
    result
}

pub async fn api(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let started = Instant::now();
    let aws = match ctx.aws(deadline).await {
        Ok(aws) => aws,
        Err(f) => {
            return DestinationResult::new(Destination::Xray, "X-Ray API".into())
                .aws_failure(&f, PUT, started);
        }
    };
    let region = xray::api::region(aws).unwrap_or_default();
    let mut result = DestinationResult::new(
        Destination::Xray,
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
        return result.aws_failure(&f, PUT, started);
    }
    match xray::api::put_segment(aws, &segment::document(ctx.trace), left(deadline)).await {
        Ok(()) => {
            result.ok = true;
            result.state = State::Accepted;
            result.status = Some("ok".to_string());
            result.latency_ms = started.elapsed().as_millis() as u64;
            result.link = Some(xray::console_link(&region, &ctx.trace.xray_trace_id()));
            if let Some(w) = ctx.settings.wait {
                wait(&mut result, ctx, aws, super::after(w)).await;
            }
            result
        }
        Err(f) => result.aws_failure(&f, PUT, started),
    }
}

/// AWS_ENDPOINT_URL_XRAY or AWS_ENDPOINT_URL when set (tests, proxies), else the regional endpoint.
fn otlp_url(region: &str) -> String {
    match xray::endpoint_override() {
        Some(base) => crate::otlp::config::traces_url(&base),
        None => xray::otlp_url(region),
    }
}

pub async fn otlp(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let started = Instant::now();
    let failed = |target: String, f: &AwsFailure| {
        DestinationResult::new(Destination::XrayOtlp, target).aws_failure(f, PUT, started)
    };
    let aws = match ctx.aws(deadline).await {
        Ok(aws) => aws,
        Err(f) => return failed("X-Ray OTLP".into(), &f),
    };
    let region = match xray::api::region(aws) {
        Ok(r) => r,
        Err(f) => return failed("X-Ray OTLP".into(), &f),
    };
    let url = otlp_url(&region);
    let credentials = match ctx.credentials(aws, deadline).await {
        Ok(c) => c,
        Err(f) => return failed(url, &f),
    };
    let body = http::encode(&ctx.trace.to_request(), Protocol::HttpProtobuf);
    let content_type = Protocol::HttpProtobuf.content_type();
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
            return failed(url, &f);
        }
    };
    let req = Request {
        url: url.clone(),
        headers: signed,
        body,
        content_type,
        gzip: false,
        grpc: false,
    };
    let outcome = http::send(&ctx.client, &req, left(deadline), &mut jitter()).await;
    let mut result =
        DestinationResult::new(Destination::XrayOtlp, url.clone()).with_outcome(&outcome, &url);
    if let (false, Some(status)) = (result.ok, outcome.status) {
        let message = result.detail.clone().unwrap_or_default();
        let answer = xray::classify_otlp_answer(status, &message);
        if let Some(hint) = xray::otlp_answer_hint(answer, &region, None) {
            result.hint = Some(hint);
        }
    }
    if result.ok {
        result.link = Some(xray::console_link(&region, &ctx.trace.xray_trace_id()));
        if let Some(w) = ctx.settings.wait {
            wait(&mut result, ctx, aws, super::after(w)).await;
        }
    }
    result
}

/// With --wait, prove arrival the way the account stores segments: BatchGetTraces when X-Ray
/// indexes them, a Transaction Search retrieval when they go to CloudWatch Logs (BatchGetTraces
/// never finds those). Everything, the destination lookup included, ends at `until`.
pub(super) async fn wait(
    result: &mut DestinationResult,
    ctx: &Context<'_>,
    aws: &aws_config::SdkConfig,
    until: Instant,
) {
    let settings = ctx.settings;
    let Some(wait) = settings.wait else { return };
    match xray::api::segment_destination(aws, left(until).min(settings.timeout)).await {
        Ok(d) if d.transaction_search() => retrieval_wait(result, ctx, aws, until).await,
        Ok(_) => batch_wait(result, ctx, aws, until).await,
        // An endpoint without the operation (an emulator, a partition without Transaction
        // Search) stores segments in X-Ray.
        Err(f) if xray::api::unknown_operation(&f) => batch_wait(result, ctx, aws, until).await,
        Err(f) if f.code.starts_with("AccessDenied") => {
            result.warning = Some(format!(
                "cannot read where X-Ray stores segments ({}: {}); looked in X-Ray's index, which holds nothing under Transaction Search: allow xray:GetTraceSegmentDestination",
                f.code, f.message
            ));
            batch_wait(result, ctx, aws, until).await
        }
        Err(f) if f.code == "Timeout" && Instant::now() >= until => not_in_time(
            result,
            wait,
            "the trace segment destination was not read in time",
        ),
        Err(f) => could_not_check(result, &f, "xray:GetTraceSegmentDestination"),
    }
}

fn not_in_time(result: &mut DestinationResult, wait: Duration, why: &str) {
    result.ok = false;
    result.state = State::Failed;
    result.detail = Some(format!("not found after {} s: {why}", wait.as_secs()));
}

fn could_not_check(result: &mut DestinationResult, f: &AwsFailure, action: &str) {
    result.ok = false;
    result.state = State::Failed;
    result.detail = Some(format!(
        "could not check arrival: {}: {}",
        f.code, f.message
    ));
    result.hint = f.hint(action);
}

/// Poll BatchGetTraces until the trace and all its subsegments are there, or `until`.
async fn batch_wait(
    result: &mut DestinationResult,
    ctx: &Context<'_>,
    aws: &aws_config::SdkConfig,
    until: Instant,
) {
    let settings = ctx.settings;
    let Some(wait) = settings.wait else { return };
    let expected = segment::count_subsegments(&segment::document(ctx.trace));
    let id = ctx.trace.xray_trace_id();
    let polled = poll_until(until, |budget| {
        let id = &id;
        async move {
            match xray::api::trace_complete(aws, id, expected, budget.min(settings.timeout)).await {
                Ok(found) => Ok(found.then_some(())),
                // Cut short by the end of --wait: not found in time, not a failed call.
                Err(f) if f.code == "Timeout" && budget < settings.timeout => Ok(None),
                // Throttled past the SDK's own retries: ask again on the next poll.
                Err(f) if xray::api::throttled(&f) => Ok(None),
                Err(f) => Err(f),
            }
        }
    })
    .await;
    match polled {
        Ok(Some(())) => {
            result.state = State::Arrived;
            result.detail = Some(format!("found in X-Ray with {expected} subsegments"));
            if let Ok(region) = xray::api::region(aws) {
                result.link = Some(xray::console_link(&region, &id));
            }
        }
        Ok(None) => {
            result.ok = false;
            result.state = State::Failed;
            result.detail = Some(format!("not in X-Ray after {} s", wait.as_secs()));
            result.hint = Some(
                "X-Ray can take a minute to index: try a longer --wait; check the daemon's logs"
                    .to_string(),
            );
        }
        Err(f) => could_not_check(result, &f, "xray:BatchGetTraces"),
    }
}

/// Where a Transaction Search retrieval stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Retrieval {
    /// Every span sent was found.
    Found,
    /// Still SCHEDULED or RUNNING: ask again.
    Running(String),
    /// Finished (COMPLETE without every span, FAILED, CANCELLED, TIMEOUT): start another, since
    /// spans can become searchable after a retrieval began.
    Again { status: String, seen: usize },
}

/// Marks in `seen` the spans of `expected` (by index) that `page` holds under `trace_id`. Only
/// these marks are kept across pages, so a retrieval of millions of spans costs memory for one
/// page at a time.
fn mark_seen(page: &[(String, String)], trace_id: &str, expected: &[String], seen: &mut [bool]) {
    for (t, s) in page {
        if t == trace_id
            && let Some(i) = expected.iter().position(|e| e == s)
        {
            seen[i] = true;
        }
    }
}

/// What one full read of a retrieval (every page) says about the spans sent: `seen` of
/// `expected` were found under the trace.
fn judge(status: &str, seen: usize, expected: usize) -> Retrieval {
    match status {
        "COMPLETE" if seen == expected => Retrieval::Found,
        "COMPLETE" => Retrieval::Again {
            status: status.to_string(),
            seen,
        },
        "FAILED" | "CANCELLED" | "TIMEOUT" => Retrieval::Again {
            status: status.to_string(),
            seen: 0,
        },
        other => Retrieval::Running(if other.is_empty() {
            "no status".to_string()
        } else {
            other.to_string()
        }),
    }
}

/// More pages than any one trace fills: a server that never stops paging is not followed forever.
const MAX_PAGES: usize = 1000;

/// Transaction Search: StartTraceRetrieval for the trace, then ListRetrievedTraces (every page)
/// about once a second until the retrieval is COMPLETE with every span sent, starting a new
/// retrieval when one finishes without them; all within `until`.
async fn retrieval_wait(
    result: &mut DestinationResult,
    ctx: &Context<'_>,
    aws: &aws_config::SdkConfig,
    until: Instant,
) {
    let settings = ctx.settings;
    let Some(wait) = settings.wait else { return };
    let trace_id = ctx.trace.xray_trace_id();
    let expected: Vec<String> = ctx.trace.spans.iter().map(|s| hex(&s.span_id)).collect();
    // A window around the trace, wide enough for a clock that is off by minutes.
    let margin = Duration::from_secs(600);
    let start = ctx.trace.start() - margin;
    let end = ctx.trace.end().max(SystemTime::now()) + margin;
    let budget = || left(until).min(settings.timeout);
    let mut token: Option<String> = None;
    let mut last = "not started".to_string();
    let mut best_seen = 0;
    let outcome: Result<bool, AwsFailure> = loop {
        let next = Instant::now() + Duration::from_secs(1);
        let step: Result<bool, AwsFailure> = async {
            let Some(current) = token.clone() else {
                let ids = [trace_id.clone()];
                token = Some(xray::api::start_retrieval(aws, &ids, start, end, budget()).await?);
                last = "started".to_string();
                return Ok(false);
            };
            let mut seen = vec![false; expected.len()];
            let mut page_token: Option<String> = None;
            let mut status = String::new();
            for _ in 0..MAX_PAGES {
                let page =
                    xray::api::retrieved_page(aws, &current, page_token.as_deref(), budget())
                        .await?;
                status = page.status;
                mark_seen(&page.spans, &trace_id, &expected, &mut seen);
                match page.next_token {
                    Some(t) if status == "COMPLETE" => page_token = Some(t),
                    _ => break,
                }
            }
            let seen = seen.iter().filter(|s| **s).count();
            match judge(&status, seen, expected.len()) {
                Retrieval::Found => return Ok(true),
                Retrieval::Running(s) => last = s,
                Retrieval::Again { status, seen } => {
                    best_seen = best_seen.max(seen);
                    last = status;
                    token = None;
                }
            }
            Ok(false)
        }
        .await;
        match step {
            Ok(true) => break Ok(true),
            // Cut short by the end of --wait: not found in time, not a failed call.
            Err(f) if f.code == "Timeout" && Instant::now() >= until => break Ok(false),
            // Throttled past the SDK's own retries: ask again after the pause, until --wait ends.
            Err(f) if xray::api::throttled(&f) && Instant::now() < until => {
                last = format!("throttled ({}: {})", f.code, f.message);
                tokio::time::sleep_until(next.min(until).into()).await;
            }
            Err(f) if xray::api::throttled(&f) => {
                last = format!("throttled ({}: {})", f.code, f.message);
                break Ok(false);
            }
            Err(f) => break Err(f),
            Ok(false) if Instant::now() >= until => break Ok(false),
            Ok(false) => tokio::time::sleep_until(next.min(until).into()).await,
        }
    };
    match outcome {
        Ok(true) => {
            result.state = State::Arrived;
            result.detail = Some(format!(
                "found by Transaction Search: all {} spans (StartTraceRetrieval, ListRetrievedTraces)",
                expected.len()
            ));
            if let Ok(region) = xray::api::region(aws) {
                result.link = Some(xray::console_link(&region, &trace_id));
            }
        }
        Ok(false) => {
            not_in_time(
                result,
                wait,
                &format!(
                    "Transaction Search retrieval {last}, {best_seen} of {} spans seen",
                    expected.len()
                ),
            );
            result.hint = Some(
                "Transaction Search can take a few minutes to make spans searchable: try a longer --wait (e.g. --wait 300)"
                    .to_string(),
            );
        }
        Err(f) => could_not_check(
            result,
            &f,
            "xray:StartTraceRetrieval and xray:ListRetrievedTraces",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(t, s)| (t.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn a_retrieval_proves_arrival_only_with_every_span_of_the_trace() {
        let expected = vec!["aa".to_string(), "bb".to_string()];
        let mut seen = vec![false; 2];
        // The same span ids under another trace are not ours; repeats count once.
        mark_seen(
            &spans(&[("U", "aa"), ("T", "bb"), ("T", "bb"), ("T", "cc")]),
            "T",
            &expected,
            &mut seen,
        );
        assert_eq!(seen, [false, true]);
        // A later page completes the set.
        mark_seen(&spans(&[("T", "aa")]), "T", &expected, &mut seen);
        assert_eq!(seen, [true, true]);
        assert_eq!(judge("COMPLETE", 2, 2), Retrieval::Found);
        // Before COMPLETE nothing counts, whatever the pages held.
        assert_eq!(judge("RUNNING", 2, 2), Retrieval::Running("RUNNING".into()));
        assert_eq!(
            judge("COMPLETE", 1, 2),
            Retrieval::Again {
                status: "COMPLETE".into(),
                seen: 1
            }
        );
        assert_eq!(
            judge("FAILED", 2, 2),
            Retrieval::Again {
                status: "FAILED".into(),
                seen: 0
            }
        );
        assert_eq!(judge("", 0, 2), Retrieval::Running("no status".into()));
    }

    #[test]
    fn a_page_of_many_spans_of_other_traces_keeps_nothing() {
        let expected = vec!["aa".to_string()];
        let mut seen = vec![false];
        let page: Vec<(String, String)> = (0..200_000)
            .map(|i| (format!("1-other-{i}"), "aa".to_string()))
            .collect();
        mark_seen(&page, "T", &expected, &mut seen);
        assert_eq!(seen, [false]);
    }
}
