//! Load mode: many traces to one OTLP destination, with throughput and latency percentiles.

use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::{join_all, rand_u64};
use crate::cli::Destination;
use crate::error::{Error, Result};
use crate::listen::server::{self as receiver, Collector, Mode};
use crate::otlp::send::{self, Request};
use crate::otlp::trace::SyntheticTrace;
use crate::settings::SendTestSettings;

#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub destination: &'static str,
    pub target: String,
    pub traces: u64,
    pub spans: u64,
    pub concurrency: u64,
    pub ok: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    pub elapsed_ms: f64,
    pub spans_per_second: f64,
    pub requests_per_second: f64,
    pub latency_ms: Percentiles,
}

#[derive(Debug, Serialize, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Nearest-rank percentiles of the latencies.
pub fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    if samples.is_empty() {
        return Percentiles::default();
    }
    samples.sort();
    let at = |p: f64| {
        let rank = ((p / 100.0) * samples.len() as f64).ceil().max(1.0) as usize;
        samples[rank.min(samples.len()) - 1].as_secs_f64() * 1000.0
    };
    Percentiles {
        p50: at(50.0),
        p90: at(90.0),
        p99: at(99.0),
        max: at(100.0),
    }
}

/// Load mode: `count` traces, `concurrency` requests in flight, one new trace per request.
pub async fn run(settings: &SendTestSettings, client: reqwest::Client) -> Result<LoadReport> {
    let destination = settings.destinations[0];
    let (url, headers, protocol, compression) = match (destination, &settings.otlp) {
        (Destination::Otlp, Some(otlp)) => (
            otlp.url.clone(),
            otlp.headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect::<Vec<_>>(),
            otlp.protocol,
            otlp.compression,
        ),
        _ => {
            let collector = Collector::new(Mode::Count, None);
            let config = receiver::Config {
                otlp: Some(([127, 0, 0, 1], 0).into()),
                xray: None,
                max_body: 4 << 20,
            };
            let addr = receiver::start(&config, collector)
                .await
                .map_err(Error::from)?
                .otlp;
            let addr =
                addr.ok_or_else(|| Error::usage("the local receiver did not start", None))?;
            (
                format!("http://{addr}/v1/traces"),
                Vec::new(),
                settings.protocol,
                settings.compression,
            )
        }
    };
    let next = std::cell::Cell::new(0u64);
    let latencies = std::cell::RefCell::new(Vec::with_capacity(settings.count as usize));
    let failures = std::cell::Cell::new(0u64);
    let first_failure = std::cell::RefCell::new(None);
    let started = Instant::now();
    let worker = || async {
        let mut random = rand_u64();
        let mut jitter = || 0.5;
        loop {
            let i = next.get();
            if i >= settings.count {
                break;
            }
            next.set(i + 1);
            let trace = SyntheticTrace::build(&settings.trace, SystemTime::now(), &mut random);
            let request = Request::otlp(
                url.clone(),
                headers.clone(),
                &trace.to_request(),
                protocol,
                compression,
            );
            let sent = Instant::now();
            let outcome = send::send(&client, &request, settings.timeout, &mut jitter).await;
            latencies.borrow_mut().push(sent.elapsed());
            if let Some(failure) = outcome.failure {
                failures.set(failures.get() + 1);
                first_failure.borrow_mut().get_or_insert(failure.summary());
            }
        }
    };
    join_all((0..settings.concurrency).map(|_| worker())).await;
    let elapsed = started.elapsed().as_secs_f64();
    let spans_per_trace = 3;
    let failed = failures.get();
    let ok = settings.count - failed;
    Ok(LoadReport {
        destination: destination.name(),
        target: url,
        traces: settings.count,
        spans: settings.count * spans_per_trace,
        concurrency: settings.concurrency,
        ok,
        failed,
        first_failure: first_failure.into_inner(),
        elapsed_ms: elapsed * 1000.0,
        spans_per_second: (ok * spans_per_trace) as f64 / elapsed.max(1e-9),
        requests_per_second: ok as f64 / elapsed.max(1e-9),
        latency_ms: percentiles(latencies.into_inner()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        let p = percentiles(ms(&[5, 1, 3, 2, 4, 6, 7, 8, 9, 10]));
        assert_eq!(
            p,
            Percentiles {
                p50: 5.0,
                p90: 9.0,
                p99: 10.0,
                max: 10.0
            }
        );
        assert_eq!(percentiles(vec![]), Percentiles::default());
        assert_eq!(percentiles(ms(&[7])).p50, 7.0);
    }
}
