//! Honeycomb over OTLP/HTTP; then a UI link from `/1/auth`, and with --wait a query for the trace.

use std::time::Instant;

use super::{Context, DestinationResult, State, left, poll_until};
use crate::cli::Destination;
use crate::honeycomb;
use crate::otlp::send as http;
use crate::otlp::trace::unix_nanos;
use crate::secret::Secret;
use crate::settings::HoneycombTarget;

pub async fn send(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let settings = ctx.settings;
    let Some(hc) = &settings.honeycomb else {
        unreachable!("checked in settings")
    };
    let url = settings.protocol.traces_url(&hc.base);
    let mut headers = vec![("x-honeycomb-team".to_string(), hc.key.clone())];
    if let Some(dataset) = hc.dataset.as_ref().filter(|_| hc.info.kind.needs_dataset()) {
        headers.push((
            "x-honeycomb-dataset".to_string(),
            Secret::new(dataset.clone()),
        ));
    }
    let outcome = ctx
        .send_otlp(
            &url,
            headers,
            settings.protocol,
            settings.compression,
            deadline,
        )
        .await;
    let mut result =
        DestinationResult::new(Destination::Honeycomb, url.clone()).with_outcome(&outcome, &url);
    // The link and the lookup are for the test trace; replayed traces are many.
    if result.ok && ctx.replay.is_none() {
        follow_up(&mut result, hc, ctx, deadline).await;
    }
    result
}

/// After Honeycomb accepted the trace: a UI link from `/1/auth`, and with --wait a query for it.
pub(super) async fn follow_up(
    result: &mut DestinationResult,
    hc: &HoneycombTarget,
    ctx: &Context<'_>,
    deadline: Instant,
) {
    let (settings, trace, client) = (ctx.settings, ctx.trace, &ctx.client);
    let dataset = hc
        .dataset
        .clone()
        .unwrap_or_else(|| honeycomb::dataset_for_service(&trace.service_name));
    let start = unix_nanos(trace.start()) / 1_000_000_000;
    let end = unix_nanos(trace.end()) / 1_000_000_000;
    // The link is part of sending; with --wait, the permission check is part of waiting.
    let until = settings.wait.map(super::after);
    let auth = honeycomb::auth(client, &hc.base, &hc.key, left(until.unwrap_or(deadline))).await;
    if let Ok(auth) = &auth {
        result.link =
            honeycomb::trace_link(&hc.base, auth, &dataset, &trace.trace_id_hex(), start, end);
    }
    let (Some(wait), Some(until)) = (settings.wait, until) else {
        return;
    };
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
    let spans = trace.spans.len() as u64;
    let trace_id = trace.trace_id_hex();
    let found = std::cell::Cell::new(0);
    let found = &found;
    let polled = poll_until(until, |budget| {
        let budget = budget.min(settings.timeout);
        let (base, key, dataset, trace_id) = (&hc.base, &hc.key, &dataset, &trace_id);
        async move {
            let query = honeycomb::count_trace_events(client, base, key, dataset, trace_id, budget);
            let n = match tokio::time::timeout(budget, query).await {
                Ok(Ok(n)) => n,
                // Cut short by the end of --wait: not found in time, not a failed query.
                Ok(Err(http::Failure::Timeout)) | Err(_) if budget < settings.timeout => {
                    return Ok(None);
                }
                Ok(Err(f)) => return Err(f),
                Err(_) => return Err(http::Failure::Timeout),
            };
            found.set(n);
            Ok::<_, http::Failure>((n >= spans).then_some(n))
        }
    })
    .await;
    match polled {
        Ok(Some(n)) => {
            result.state = State::Arrived;
            result.detail = Some(format!("{n} spans found by a Honeycomb query"));
        }
        Ok(None) => {
            result.ok = false;
            result.state = State::Failed;
            result.detail = Some(format!(
                "only {} of {spans} spans found after {} s",
                found.get(),
                wait.as_secs()
            ));
            result.hint = Some("check the dataset name, or try a longer --wait".to_string());
        }
        Err(f) => {
            result.state = State::Unverified;
            result.detail = Some(format!(
                "accepted; the arrival query failed: {}",
                f.summary()
            ));
        }
    }
}
