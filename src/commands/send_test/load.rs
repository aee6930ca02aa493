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

/// The largest `--count`: at 10 000 traces a second this is about 17 minutes of load.
pub const MAX_COUNT: u64 = 10_000_000;

/// Latencies in constant memory, whatever the count: exact to the microsecond below 1 ms, then
/// in buckets 1/64 of a power of two wide (under 1.6 % error). Reports a bucket's upper bound.
#[derive(Debug, Clone)]
pub struct Latencies {
    counts: Vec<u64>,
    total: u64,
}

const SUB_BUCKETS: u64 = 64;
const EXACT_BELOW_US: u64 = 1024;

impl Default for Latencies {
    fn default() -> Self {
        // Exact microseconds up to 1024, then 64 buckets per power of two up to 2^64.
        let buckets = EXACT_BELOW_US + SUB_BUCKETS * (64 - EXACT_BELOW_US.trailing_zeros() as u64);
        Latencies {
            counts: vec![0; buckets as usize],
            total: 0,
        }
    }
}

impl Latencies {
    fn bucket(us: u64) -> usize {
        if us < EXACT_BELOW_US {
            return us as usize;
        }
        let power = 63 - us.leading_zeros() as u64; // us in [2^power, 2^(power+1))
        let width = (1u64 << power) / SUB_BUCKETS;
        let sub = (us - (1u64 << power)) / width;
        (EXACT_BELOW_US + (power - EXACT_BELOW_US.trailing_zeros() as u64) * SUB_BUCKETS + sub)
            as usize
    }

    /// The largest value a bucket holds, in microseconds.
    fn upper(bucket: usize) -> u64 {
        let bucket = bucket as u64;
        if bucket < EXACT_BELOW_US {
            return bucket;
        }
        let power =
            (bucket - EXACT_BELOW_US) / SUB_BUCKETS + EXACT_BELOW_US.trailing_zeros() as u64;
        let sub = (bucket - EXACT_BELOW_US) % SUB_BUCKETS;
        let width = (1u64 << power) / SUB_BUCKETS;
        (1u64 << power)
            .saturating_add((sub + 1).saturating_mul(width))
            .saturating_sub(1)
    }

    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::bucket(us)] += 1;
        self.total += 1;
    }

    /// Nearest-rank percentiles.
    pub fn percentiles(&self) -> Percentiles {
        if self.total == 0 {
            return Percentiles::default();
        }
        let at = |p: f64| {
            let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (bucket, count) in self.counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return Self::upper(bucket) as f64 / 1000.0;
                }
            }
            0.0
        };
        Percentiles {
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: at(100.0),
        }
    }
}

/// `--count` above [`MAX_COUNT`] is refused before anything is sent.
pub fn check_count(count: u64) -> Result<()> {
    if count > MAX_COUNT {
        return Err(Error::usage(
            format!("--count {count} is more than the {MAX_COUNT} traces one load run sends"),
            format!("use --count {MAX_COUNT} or less; run it again for more load"),
        ));
    }
    Ok(())
}

/// Load mode: `count` traces, `concurrency` requests in flight, one new trace per request.
pub async fn run(settings: &SendTestSettings, client: reqwest::Client) -> Result<LoadReport> {
    check_count(settings.count)?;
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
            let grpc = settings.protocol == crate::otlp::config::Protocol::Grpc;
            let loopback: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
            let config = receiver::Config {
                otlp: (!grpc).then_some(loopback),
                grpc: grpc.then_some(loopback),
                max_body: 4 << 20,
                ..receiver::Config::default()
            };
            let bound = receiver::start(&config, collector)
                .await
                .map_err(Error::from)?
                .bound;
            let addr = bound.otlp.or(bound.grpc);
            let addr =
                addr.ok_or_else(|| Error::usage("the local receiver did not start", None))?;
            (
                settings.protocol.traces_url(&format!("http://{addr}")),
                Vec::new(),
                settings.protocol,
                settings.compression,
            )
        }
    };
    let next = std::cell::Cell::new(0u64);
    let latencies = std::cell::RefCell::new(Latencies::default());
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
            latencies.borrow_mut().record(sent.elapsed());
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
        latency_ms: latencies.into_inner().percentiles(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentiles(samples: &[Duration]) -> Percentiles {
        let mut l = Latencies::default();
        for s in samples {
            l.record(*s);
        }
        l.percentiles()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let us = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_micros(*m))
                .collect::<Vec<_>>()
        };
        let p = percentiles(&us(&[500, 100, 300, 200, 400, 600, 700, 800, 900, 1000]));
        assert_eq!(
            p,
            Percentiles {
                p50: 0.5,
                p90: 0.9,
                p99: 1.0,
                max: 1.0
            }
        );
        assert_eq!(percentiles(&[]), Percentiles::default());
        assert_eq!(percentiles(&us(&[7])).p50, 0.007);
    }

    #[test]
    fn latencies_above_a_millisecond_are_within_two_percent() {
        for us in [
            1024u64,
            1500,
            5_000,
            42_123,
            1_000_000,
            3_600_000_000,
            u64::MAX / 3,
        ] {
            let mut l = Latencies::default();
            l.record(Duration::from_micros(us));
            let got = l.percentiles().max * 1000.0;
            assert!(got >= us as f64 * 0.999, "{us}: {got}");
            assert!(got <= us as f64 * 1.02, "{us}: {got}");
        }
        // Bucket bounds line up: every value lands in a bucket whose upper bound is >= it.
        for us in (0..200_000u64).step_by(7) {
            assert!(Latencies::upper(Latencies::bucket(us)) >= us);
        }
    }

    #[test]
    fn counts_above_the_limit_are_usage_errors() {
        assert!(check_count(MAX_COUNT).is_ok());
        let err = check_count(99_999_999_999_999).unwrap_err();
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
        assert!(err.to_string().contains("99999999999999"), "{err}");
    }
}
