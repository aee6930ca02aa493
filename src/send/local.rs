//! A receiver started in-process on a free loopback port: proves the whole pipe, no account.

use std::time::Instant;

use super::{Context, DestinationResult, State};
use crate::cli::Destination;
use crate::listen::server::{self as receiver, Collector, Mode};

pub async fn send(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let settings = ctx.settings;
    let collector = Collector::new(Mode::Keep, None);
    let grpc = settings.protocol == crate::otlp::config::Protocol::Grpc;
    let loopback: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    let config = receiver::Config {
        otlp: (!grpc).then_some(loopback),
        grpc: grpc.then_some(loopback),
        max_body: 4 << 20,
        ..receiver::Config::default()
    };
    let url = match receiver::start(&config, collector.clone())
        .await
        .map(|r| r.bound.otlp.or(r.bound.grpc))
    {
        Ok(Some(addr)) => settings.protocol.traces_url(&format!("http://{addr}")),
        Ok(None) | Err(_) => {
            let mut result =
                DestinationResult::new(Destination::Local, "in-process receiver".into());
            result.detail = Some("could not bind a loopback port".into());
            return result;
        }
    };
    let outcome = ctx
        .send_otlp(
            &url,
            Vec::new(),
            settings.protocol,
            settings.compression,
            deadline,
        )
        .await;
    let mut result =
        DestinationResult::new(Destination::Local, url.clone()).with_outcome(&outcome, &url);
    if !result.ok {
        return result;
    }
    let expected = ctx.span_count() as u64;
    let arrived = tokio::time::timeout_at(deadline.into(), collector.wait_for_spans(expected))
        .await
        .is_ok();
    let received = match ctx.replay {
        Some(_) => collector.kept_all(),
        None => collector.kept(&ctx.trace.trace_id_hex()),
    };
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
