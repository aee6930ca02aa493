//! `tracectl send-test`: read the project model, resolve the settings, send one synthetic trace to
//! every destination at once (see `crate::send`) and report.

mod load;

use std::path::Path;
use std::time::SystemTime;

use serde_json::json;

use crate::cli::SendTestArgs;
use crate::error::{Error, ExitStatus, Result};
use crate::listen::render;
use crate::otlp::trace::SyntheticTrace;
use crate::output::Printer;
use crate::project::model::Model;
use crate::secret::Secret;
use crate::send::{DestinationResult, State};
use crate::settings::{self, SendTestSettings};

pub(crate) use crate::send::{http_client, join_all, rand_u64};

/// A compose file that cannot be read only warns: it is not needed to send to an endpoint given
/// on the command line; an env file that cannot be read stops.
fn check_project(model: &mut Model, printer: &Printer) -> Result<()> {
    if let Err(e) = &model.layout {
        let missing =
            matches!(e, Error::Usage { message, .. } if message.starts_with("no compose file"));
        if !missing {
            printer.warn(&format!("{e}; ignoring the compose file"));
        }
    }
    match model.env_file.error.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

pub fn run(args: SendTestArgs, dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    let mut model = Model::load(dir, &args.project, Model::process_env(), |_| Ok(Some(0)));
    printer.register_env_secrets(&model.env_file.values);
    if let Some(key) = &args.key.honeycomb_api_key {
        printer.register_secret(&Secret::new(key.clone()));
    }
    check_project(&mut model, printer)?;
    let settings = settings::resolve_send_test(&args, &model)?;
    if let Some(hc) = &settings.honeycomb {
        printer.register_secret(&hc.key);
    }
    for header in settings.otlp.iter().flat_map(|o| &o.headers) {
        printer.register_secret(&header.value);
    }
    debug_settings(printer, &model, &settings);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::from)?;
    if settings.count > 1 {
        let report = runtime.block_on(load::run(&settings, http_client(&settings)?));
        crate::send::shut_down(runtime);
        let report = report?;
        print_load(printer, &report);
        return Ok(if report.failed == 0 {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    let mut random = rand_u64();
    let trace = SyntheticTrace::build(&settings.trace, SystemTime::now(), &mut random);
    let replay = match &args.from {
        Some(path) => Some(read_replay(path, &settings, printer, &mut random)?),
        None => None,
    };
    let results = runtime.block_on(crate::send::execute(
        &settings,
        &trace,
        replay.as_ref().map(|r| r.requests.as_slice()),
    ));
    crate::send::shut_down(runtime);
    let results = results?;
    for r in &results {
        printer.debug(&format!(
            "{} {} -> {} in {} ms, {} attempt(s)",
            r.destination,
            crate::send::without_userinfo(&r.target),
            r.status.as_deref().unwrap_or("no answer"),
            r.latency_ms,
            r.attempts
        ));
    }
    report(printer, &settings, &trace, replay.as_ref(), &results);
    Ok(if results.iter().all(|r| r.ok) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// `-v`: the project and the facts shared with doctor (the model's lines), then send-test's own
/// settings (secrets masked by their type and by the printer).
fn debug_settings(printer: &Printer, model: &Model, settings: &SendTestSettings) {
    for line in model.describe(&settings.project) {
        printer.debug(&line);
    }
    let destinations: Vec<&str> = settings.destinations.iter().map(|d| d.name()).collect();
    printer.debug(&format!(
        "destinations {}; timeout {} ms; wait {}",
        destinations.join(", "),
        settings.timeout.as_millis(),
        settings
            .wait
            .map(|w| format!("{} s", w.as_secs()))
            .unwrap_or_else(|| "off".into())
    ));
    if let Some(hc) = &settings.honeycomb {
        printer.debug(&format!(
            "Honeycomb {} with {} {}{}",
            hc.base,
            hc.info.kind.describe(),
            hc.key,
            hc.dataset
                .as_ref()
                .map(|d| format!(", dataset {d}"))
                .unwrap_or_default()
        ));
    }
    if let Some(otlp) = &settings.otlp {
        // Header values are secrets registered with the printer, so they print masked.
        let headers: Vec<String> = otlp
            .headers
            .iter()
            .filter(|_| printer.verbosity() > 1)
            .map(|h| format!("{}={}", h.name, h.value.expose()))
            .collect();
        printer.debug(&format!(
            "OTLP {} ({:?}, {:?}){}",
            crate::send::without_userinfo(&otlp.url),
            otlp.protocol,
            otlp.compression,
            if headers.is_empty() {
                String::new()
            } else {
                format!(", headers {}", headers.join(", "))
            }
        ));
    }
    printer.debug(&format!("X-Ray daemon sent to {}", settings.daemon_address));
    if let Some(url) = &settings.collector_url {
        printer.debug(&format!(
            "collector at {}",
            crate::send::without_userinfo(url)
        ));
    }
    printer.debug(&format!("service name {}", settings.trace.service_name));
}

fn print_load(printer: &Printer, r: &load::LoadReport) {
    if !printer.is_human() {
        printer
            .json(&json!({ "version": 1, "command": "send-test", "ok": r.failed == 0, "load": r }));
        return;
    }
    let mut out = format!(
        "Load: {} traces ({} spans) to {} ({}), concurrency {}\n  ok {}, failed {}, in {:.2} s\n  {:.0} spans/s, {:.0} requests/s\n  latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
        r.traces,
        r.spans,
        r.target,
        r.destination,
        r.concurrency,
        r.ok,
        r.failed,
        r.elapsed_ms / 1000.0,
        r.spans_per_second,
        r.requests_per_second,
        r.latency_ms.p50,
        r.latency_ms.p90,
        r.latency_ms.p99,
        r.latency_ms.max
    );
    if let Some(f) = &r.first_failure {
        out.push_str(&format!("  first failure: {f}\n"));
    }
    printer.out(&out);
}

/// Saved requests to send again (`--from`), with new ids and times.
struct Replay {
    file: std::path::PathBuf,
    requests: Vec<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest>,
    spans: usize,
    traces: usize,
}

/// Spans one replay sends at most: the file is held in memory, and sent in its own batches.
const MAX_REPLAY_SPANS: usize = 1_000_000;

fn read_replay(
    path: &Path,
    settings: &SendTestSettings,
    printer: &Printer,
    random: &mut impl FnMut() -> u64,
) -> Result<Replay> {
    use crate::cli::Destination;
    use crate::listen::saved;
    if let Some(other) = settings.destinations.iter().find(|d| {
        !matches!(
            d,
            Destination::Otlp
                | Destination::Honeycomb
                | Destination::Local
                | Destination::Collector
        )
    }) {
        return Err(Error::usage(
            format!(
                "--from replays OTLP spans; --to {} does not take them",
                other.name()
            ),
            "replay to otlp, honeycomb, local or collector".to_string(),
        ));
    }
    let mut requests = Vec::new();
    let (mut spans, mut bad, mut too_many) = (0usize, 0usize, false);
    super::read_saved(path, "--from", printer, &mut bad, |request| {
        let n = saved::span_count(std::slice::from_ref(&request));
        if spans + n > MAX_REPLAY_SPANS {
            too_many = true;
            return;
        }
        spans += n;
        requests.push(request);
    })?;
    if too_many {
        return Err(Error::usage(
            format!("{}: more than {MAX_REPLAY_SPANS} spans", path.display()),
            "replay a smaller file (split it by lines: each line is a whole export request)"
                .to_string(),
        ));
    }
    if requests.is_empty() {
        return Err(Error::usage(
            format!("{}: no spans to replay", path.display()),
            "--from reads OTLP/JSON lines: listen --save writes them, and so does the Collector's file exporter (format: json)".to_string(),
        ));
    }
    if bad > 0 {
        printer.warn(&format!("{bad} line(s) of {} skipped", path.display()));
    }
    let now = crate::otlp::trace::unix_nanos(SystemTime::now());
    saved::refresh(&mut requests, now, random);
    let traces = requests
        .iter()
        .flat_map(crate::listen::decode::spans_in)
        .map(|s| s.trace_id.clone())
        .collect::<std::collections::HashSet<_>>()
        .len();
    Ok(Replay {
        file: path.to_path_buf(),
        requests,
        spans,
        traces,
    })
}

fn report(
    printer: &Printer,
    settings: &SendTestSettings,
    trace: &SyntheticTrace,
    replay: Option<&Replay>,
    results: &[DestinationResult],
) {
    let ok = results.iter().all(|r| r.ok);
    if let (false, Some(replay)) = (printer.is_human(), replay) {
        printer.json(&json!({
            "version": 1,
            "command": "send-test",
            "ok": ok,
            "replayed": {
                "file": replay.file.display().to_string(),
                "requests": replay.requests.len(),
                "traces": replay.traces,
                "spans": replay.spans,
            },
            "results": results,
        }));
        return;
    }
    if !printer.is_human() {
        printer.json(&json!({
            "version": 1,
            "command": "send-test",
            "ok": ok,
            "trace_id": trace.trace_id_hex(),
            "xray_trace_id": trace.xray_trace_id(),
            "service_name": trace.service_name,
            "run_id": trace.run_id,
            "spans": trace.spans.len(),
            "waited": settings.wait.map(|w| w.as_secs()),
            "results": results,
        }));
        return;
    }
    use colored::Colorize;
    let mut out = match replay {
        Some(replay) => format!(
            "Replaying {} spans of {} traces from {}, with new ids and times\n\n",
            replay.spans,
            replay.traces,
            replay.file.display()
        ),
        None => format!(
            "Test trace {} (X-Ray {}), service {}, {} spans\n\n",
            trace.trace_id_hex(),
            trace.xray_trace_id(),
            trace.service_name,
            trace.spans.len()
        ),
    };
    for r in results {
        let (mark, state) = match r.state {
            State::Failed => ("✗".red().bold(), "failed".red()),
            State::Unverified => ("⚠".yellow().bold(), "unverified".yellow()),
            State::Arrived => ("✓".green().bold(), "arrived".green()),
            State::Accepted => ("✓".green().bold(), "accepted".green()),
            State::Sent => ("✓".green().bold(), "sent".green()),
        };
        out.push_str(&format!(
            "  {mark} {:<12} {:<10} {:>6} {:>6} ms  {}\n",
            r.destination,
            state,
            r.status.as_deref().unwrap_or("-"),
            r.latency_ms,
            r.target
        ));
        if let Some(detail) = &r.detail {
            out.push_str(&format!("      {detail}\n"));
        }
        if let Some(warning) = &r.warning {
            out.push_str(&format!("      {} {warning}\n", "warning:".yellow()));
        }
        if let Some(link) = &r.link {
            out.push_str(&format!("      {link}\n"));
        }
        if let Some(hint) = &r.hint {
            out.push_str(&format!("      {} {hint}\n", "hint:".cyan().bold()));
        }
        if let Some(received) = r.received.as_ref().filter(|r| !r.is_empty()) {
            // One tree per trace (a replay sends many), in the order they arrived.
            let mut traces: Vec<Vec<crate::listen::ReceivedSpan>> = Vec::new();
            for span in received {
                match traces.iter_mut().find(|t| t[0].trace_id == span.trace_id) {
                    Some(trace) => trace.push(span.clone()),
                    None => traces.push(vec![span.clone()]),
                }
            }
            for trace in &traces {
                out.push_str(&format!("\n{}", render::tree(trace)));
            }
        }
    }
    if settings.wait.is_none() && ok && results.iter().any(|r| r.state == State::Accepted) {
        out.push_str(
            "\nAccepted is not arrived: add --wait to check that the trace can be found.\n",
        );
    }
    printer.out(&out);
}
