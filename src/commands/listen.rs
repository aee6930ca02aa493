//! `tracectl listen`: receive locally and show what arrives until told to stop.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{ListenArgs, View};
use crate::error::{Error, ExitStatus, Result};
use crate::listen::saved::Saver;
use crate::listen::server::{self, Collector, Config, Mode};
use crate::listen::waterfall::Style;
use crate::output::Printer;

/// How long listen, once told to stop, waits for the requests it has begun to receive.
const DRAIN: Duration = Duration::from_secs(5);

pub fn run(args: ListenArgs, _dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    if args.no_otlp && args.no_xray {
        return Err(Error::usage(
            "--no-otlp and --no-xray leave nothing to listen on",
            "drop one of them".to_string(),
        ));
    }
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let mode = if !printer.is_human() {
        Mode::JsonLines
    } else if view(args.view, stdout_is_terminal) == View::Tree {
        Mode::Trees {
            flush_after: args.flush_after,
        }
    } else {
        let terminal = stdout_is_terminal
            .then(|| dialoguer::console::Term::stdout().size_checked())
            .flatten()
            .map(|(_rows, columns)| columns);
        Mode::Waterfalls {
            flush_after: args.flush_after,
            style: Style {
                width: width(args.width, std::env::var("COLUMNS").ok(), terminal),
                verbose: printer.verbosity() > 0,
            },
        }
    };
    let collector = Collector::new(mode, Some(printer.line_sink()));
    if let Some(path) = &args.save {
        let warn = Box::new(|message: &str| eprintln!("warning: {message}"));
        let saver = Saver::open(path, warn).map_err(|e| Error::Io {
            source: e,
            hint: Some(
                "--save takes a file in a folder you can write to (it is appended to)".to_string(),
            ),
        })?;
        collector.save_to(saver);
    }
    collector.enable_checks(args.check, args.flush_after);
    let config = Config {
        otlp: (!args.no_otlp).then_some(args.otlp_http),
        grpc: (!args.no_otlp && !args.no_otlp_grpc).then_some(args.otlp_grpc),
        xray: (!args.no_xray).then_some(args.xray_udp),
        max_body: args.max_body,
    };
    // A worker per core: a load generator leaves most of a second core free, and one thread
    // cannot use it (measured with wrk and h2load: scripts/bench.sh independent).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::from)?;
    let (interrupted, drained, cut_short) = runtime.block_on(async {
        // Ctrl-C is listened for before the ports open, so one sent as soon as they accept is
        // seen (it would otherwise end listen with nothing said, or be lost where it is ignored
        // until then), and by one listener throughout, so a second one is seen however soon it
        // follows the first.
        let mut ctrl_c = interrupts().map_err(Error::from)?;
        exit_on_third_signal().map_err(Error::from)?;
        let receivers = server::start(&config, Arc::clone(&collector)).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                "another receiver holds the port: stop it, or pass --otlp-http / --otlp-grpc / --xray-udp (port 0 picks a free one; --no-otlp-grpc leaves gRPC off)"
            } else {
                "check the address given to --otlp-http / --otlp-grpc / --xray-udp"
            };
            Error::Io { source: e, hint: Some(hint.to_string()) }
        })?;
        let bound = receivers.bound;
        let mut lines = Vec::new();
        if let Some(addr) = bound.otlp {
            lines.push(format!("OTLP/HTTP  http://{addr}/v1/traces   (OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr})"));
        }
        if let Some(addr) = bound.grpc {
            lines.push(format!("OTLP/gRPC  http://{addr}              (OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr})"));
        }
        if let Some(addr) = bound.xray {
            lines.push(format!("X-Ray UDP  {addr}                  (AWS_XRAY_DAEMON_ADDRESS={addr}; sampling rules over TCP)"));
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
        let mut interrupted = tokio::select! {
            Some(()) = ctrl_c.recv() => true,
            _ = spans => false,
            _ = deadline => false,
        };
        // Stop receiving before the last flush and the summary, so every span answered 200 is
        // shown and counted; and answer the requests already begun, so no client whose spans were
        // taken is cut off (it would send them again, to a port now closed). A second Ctrl-C
        // stops waiting for them.
        let mut cut_short = false;
        let drained = tokio::select! {
            drained = receivers.stop(DRAIN) => drained,
            Some(()) = ctrl_c.recv() => {
                interrupted = true;
                cut_short = true;
                false
            }
        };
        ticker.abort();
        Ok::<(bool, bool, bool), Error>((interrupted, drained, cut_short))
    })?;
    // What is left (requests still unanswered past DRAIN) ends at its next await.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if cut_short {
        printer
            .warn("interrupted while finishing the requests being received: they were cut off, and their senders saw no answer");
    } else if !drained {
        printer.warn(&format!(
            "requests still being received after {} s were cut off; their senders saw no answer",
            DRAIN.as_secs()
        ));
    }
    collector.flush(true);
    let (findings, found) = collector.finish_checks();
    // Without --check, stdout carries only what arrived; the findings join the summary.
    if !args.check && !findings.is_empty() {
        printer.warn(&format!(
            "{found} instrumentation finding(s):\n{}",
            crate::listen::check::human(&findings).trim_end()
        ));
    }
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
    let saved = match collector.saver() {
        Some(saver) => match saver.counts() {
            (saved, 0) => format!("; {saved} requests saved to {}", saver.path().display()),
            (saved, unsaved) => format!(
                "; {saved} requests saved to {}, {unsaved} not saved",
                saver.path().display()
            ),
        },
        None => String::new(),
    };
    printer.note(&format!(
        "{} traces, {} spans, {} rejected requests, {} bad datagrams{refused}{saved}; {found} instrumentation finding(s)",
        stats.traces, stats.spans, stats.rejected_requests, stats.bad_datagrams
    ));
    if args.strict && found > 0 {
        return Ok(ExitStatus::Failure);
    }
    Ok(if interrupted {
        ExitStatus::Interrupted
    } else {
        ExitStatus::Success
    })
}

/// Ctrl-C, and on Unix also SIGTERM (what `docker stop`, systemd and `kill` send): either stops
/// listen as Ctrl-C does, with the last traces shown and the summary. One listener for the whole
/// run, so a second one is seen however soon it follows the first.
#[cfg(unix)]
struct Interrupts {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Interrupts {
    async fn recv(&mut self) -> Option<()> {
        tokio::select! {
            got = self.interrupt.recv() => got,
            got = self.terminate.recv() => got,
        }
    }
}

#[cfg(unix)]
fn interrupts() -> std::io::Result<Interrupts> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(Interrupts {
        interrupt: signal(SignalKind::interrupt())?,
        terminate: signal(SignalKind::terminate())?,
    })
}

/// A third Ctrl-C or SIGTERM ends listen at once with exit 130, as the system would without a
/// handler. The first two are handled on the runtime (stop, then stop waiting), whose threads a
/// write to a stuck output (a paused terminal, a pipe nobody reads) can hold for ever.
#[cfg(unix)]
fn exit_on_third_signal() -> std::io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let seen = Arc::clone(&seen);
        // SAFETY: the action only adds to an atomic and calls `_exit`, both async-signal-safe.
        unsafe {
            signal_hook::low_level::register(signal, move || {
                if seen.fetch_add(1, Ordering::SeqCst) >= 2 {
                    signal_hook::low_level::exit(130);
                }
            })
        }?;
    }
    Ok(())
}

#[cfg(windows)]
fn exit_on_third_signal() -> std::io::Result<()> {
    Ok(())
}

/// Ctrl-C, one listener for the whole run.
#[cfg(windows)]
fn interrupts() -> std::io::Result<tokio::signal::windows::CtrlC> {
    tokio::signal::windows::ctrl_c()
}

/// The view asked for; without one, a waterfall for a person at a terminal and the tree (stable
/// text, no width to guess) for a pipe or a file.
pub(crate) fn view(asked: Option<View>, stdout_is_terminal: bool) -> View {
    asked.unwrap_or(if stdout_is_terminal {
        View::Waterfall
    } else {
        View::Tree
    })
}

/// The waterfall's width: `--width`, else `COLUMNS` (as shells export it), else the terminal's
/// width, else 80.
pub(crate) fn width(
    flag: Option<u16>,
    columns_env: Option<String>,
    terminal: Option<u16>,
) -> usize {
    let from_env = columns_env
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0);
    usize::from(
        flag.or(from_env)
            .or(terminal.filter(|c| *c > 0))
            .unwrap_or(80),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waterfall_is_the_default_only_at_a_terminal() {
        assert_eq!(view(None, true), View::Waterfall);
        assert_eq!(view(None, false), View::Tree);
        assert_eq!(view(Some(View::Tree), true), View::Tree);
        assert_eq!(view(Some(View::Waterfall), false), View::Waterfall);
    }

    #[test]
    fn width_comes_from_the_flag_then_columns_then_the_terminal() {
        assert_eq!(width(Some(50), Some("120".into()), Some(200)), 50);
        assert_eq!(width(None, Some(" 120 ".into()), Some(200)), 120);
        assert_eq!(width(None, Some("wide".into()), Some(200)), 200);
        assert_eq!(width(None, Some("0".into()), None), 80);
        assert_eq!(width(None, None, Some(0)), 80);
        assert_eq!(width(None, None, None), 80);
    }
}
