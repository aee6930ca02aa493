//! X-Ray three ways: the daemon over UDP, the PutTraceSegments API, and the OTLP endpoint signed
//! with SigV4; with --wait, BatchGetTraces proves arrival.

use std::time::{Instant, SystemTime};

use super::{Context, DestinationResult, State, jitter, left, poll_until};
use crate::cli::Destination;
use crate::otlp::config::Protocol;
use crate::otlp::send::{self as http, Request};
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
    if let Some(until) = settings
        .wait
        .filter(|_| result.ok)
        .map(|w| Instant::now() + w)
    {
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
                wait(&mut result, ctx, aws, Instant::now() + w).await;
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
    };
    let outcome = http::send(&ctx.client, &req, left(deadline), &mut jitter()).await;
    let mut result =
        DestinationResult::new(Destination::XrayOtlp, url.clone()).with_outcome(&outcome, &url);
    if result.ok {
        result.link = Some(xray::console_link(&region, &ctx.trace.xray_trace_id()));
        if let Some(w) = ctx.settings.wait {
            wait(&mut result, ctx, aws, Instant::now() + w).await;
        }
    }
    result
}

/// With --wait, poll BatchGetTraces until the trace and all its subsegments are there, or `until`.
async fn wait(
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
        Err(f) => {
            result.ok = false;
            result.state = State::Failed;
            result.detail = Some(format!(
                "could not check arrival: {}: {}",
                f.code, f.message
            ));
            result.hint = f.hint("xray:BatchGetTraces");
        }
    }
}
