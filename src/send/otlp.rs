//! Any OTLP/HTTP endpoint from OTEL_EXPORTER_OTLP_* or --endpoint.

use std::time::Instant;

use super::{Context, DestinationResult, State};
use crate::cli::Destination;

pub async fn send(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let Some(otlp) = &ctx.settings.otlp else {
        unreachable!("checked in settings")
    };
    let headers = otlp
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect();
    let outcome = ctx
        .send_otlp(
            &otlp.url,
            headers,
            otlp.protocol,
            otlp.compression,
            deadline,
        )
        .await;
    let mut result = DestinationResult::new(Destination::Otlp, otlp.url.clone())
        .with_outcome(&outcome, &otlp.url);
    if result.ok && ctx.settings.wait.is_some() {
        result.state = State::Unverified;
        result.detail = Some(
            "accepted; a generic OTLP endpoint offers no way to look the trace up".to_string(),
        );
    }
    result
}
