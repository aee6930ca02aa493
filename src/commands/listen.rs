//! `tracectl listen`: receive locally and show what arrives until told to stop.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ListenArgs;
use crate::error::{Error, ExitStatus, Result};
use crate::listen::server::{self, Collector, Config, Mode};
use crate::output::Printer;

pub fn run(args: ListenArgs, _dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    if args.no_otlp && args.no_xray {
        return Err(Error::usage(
            "--no-otlp and --no-xray leave nothing to listen on",
            "drop one of them".to_string(),
        ));
    }
    let mode = if printer.is_human() {
        Mode::Trees {
            flush_after: args.flush_after,
        }
    } else {
        Mode::JsonLines
    };
    let collector = Collector::new(mode, Some(printer.line_sink()));
    let config = Config {
        otlp: (!args.no_otlp).then_some(args.otlp_http),
        xray: (!args.no_xray).then_some(args.xray_udp),
        max_body: args.max_body,
    };
    // One thread: a receiver on loopback is bound by per-request work, not by cores, and a single
    // thread spends nothing on handing work between threads (measured: scripts/bench.sh listen).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::from)?;
    let interrupted = runtime.block_on(async {
        let bound = server::start(&config, Arc::clone(&collector)).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                "another receiver holds the port: stop it, or pass --otlp-http / --xray-udp (port 0 picks a free one)"
            } else {
                "check the address given to --otlp-http / --xray-udp"
            };
            Error::Io { source: e, hint: Some(hint.to_string()) }
        })?;
        let mut lines = Vec::new();
        if let Some(addr) = bound.otlp {
            lines.push(format!("OTLP/HTTP  http://{addr}/v1/traces   (OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr})"));
        }
        if let Some(addr) = bound.xray {
            lines.push(format!("X-Ray UDP  {addr}                  (AWS_XRAY_DAEMON_ADDRESS={addr})"));
        }
        printer.note(&format!("Listening; Ctrl-C stops.\n  {}\n", lines.join("\n  ")));

        let ticker = {
            let collector = Arc::clone(&collector);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    collector.flush(false);
                }
            })
        };
        let spans = async {
            match args.exit_after_spans {
                Some(n) => collector.wait_for_spans(n).await,
                None => std::future::pending().await,
            }
        };
        let deadline = async {
            match args.exit_after {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let interrupted = tokio::select! {
            _ = tokio::signal::ctrl_c() => true,
            _ = spans => false,
            _ = deadline => false,
        };
        ticker.abort();
        Ok::<bool, Error>(interrupted)
    })?;
    collector.flush(true);
    let stats = collector.stats();
    let refused = if stats.refused_connections > 0 {
        format!(
            ", {} connections refused (over {} open)",
            stats.refused_connections,
            server::Limits::default().connections
        )
    } else {
        String::new()
    };
    printer.note(&format!(
        "{} traces, {} spans, {} rejected requests, {} bad datagrams{refused}",
        stats.traces, stats.spans, stats.rejected_requests, stats.bad_datagrams
    ));
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(if interrupted {
        ExitStatus::Interrupted
    } else {
        ExitStatus::Success
    })
}
