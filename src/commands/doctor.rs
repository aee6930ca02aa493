//! `tracectl doctor`: read the project model, run the checks (network ones concurrently, all
//! within one --timeout), print them and exit non-zero when something failed.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{DoctorArgs, Format};
use crate::doctor::gather::{self, Flags, GitProbe};
use crate::doctor::network::{self, Plan};
use crate::doctor::project as checks;
use crate::doctor::{self, CheckResult, Status};
use crate::error::{Error, ExitStatus, Result};
use crate::output::Printer;
use crate::project::model::Model;
use crate::settings;

/// One spinner per running network check, on a terminal only.
struct Progress {
    multi: Option<indicatif::MultiProgress>,
}

impl Progress {
    fn new(printer: &Printer) -> Self {
        Progress {
            multi: printer
                .progress_allowed()
                .then(indicatif::MultiProgress::new),
        }
    }
}

impl network::Progress for Progress {
    type Bar = Option<indicatif::ProgressBar>;

    fn start(&self, id: &str) -> Option<indicatif::ProgressBar> {
        let multi = self.multi.as_ref()?;
        let bar = multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_message(id.to_string());
        bar.enable_steady_tick(Duration::from_millis(80));
        Some(bar)
    }

    fn finish(&self, bar: Option<indicatif::ProgressBar>) {
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: DoctorArgs, dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    if args.list {
        return list(printer);
    }
    let started = Instant::now();
    let model = Model::load(dir, &args.project, Model::process_env(), |_| Ok(None));
    // --require-compose: a check that reads the compose project, asked for by name, brings the
    // compose check's failure with it when there is no compose file; it would only skip.
    let needs_compose = args.require_compose
        && model.layout.is_err()
        && doctor::COMPOSE_CHECKS
            .iter()
            .any(|id| doctor::selected(&args.check, &args.skip, id));
    let want = |id: &str| {
        doctor::selected(&args.check, &args.skip, id)
            || (needs_compose && id == "compose" && !args.skip.iter().any(|s| s == id))
    };
    // One budget for everything that waits: git, the AWS configuration, every network check.
    // Reading the project is work, not waiting: it does not eat into the budget.
    let deadline = Instant::now() + args.timeout;
    let today = settings::now(|k| model.env(k))?;
    printer.register_env_secrets(&model.env_file.values);
    let git = GitProbe::start(&model.env_file.path, deadline);
    let flags = Flags {
        honeycomb_api_key: args.key.honeycomb_api_key.as_ref(),
        dataset: args.key.dataset.as_ref(),
        aws_region: args.aws_region.as_ref(),
        compose_file_given: args.project.compose_file.is_some(),
        require_compose: args.require_compose,
    };
    let facts = gather::facts(&model, &flags, crate::aws::profile_region);
    if let Some(key) = &facts.honeycomb_key {
        printer.register_secret(key);
    }
    for value in model.exporter_header_values(&facts.resolved) {
        printer.register_secret(&value);
    }
    debug_facts(printer, &facts);

    let (mut results, samples, destination) = if args.offline {
        let skipped = doctor::CHECKS
            .iter()
            .filter(|(_, _, net)| *net)
            .map(|(id, _, _)| CheckResult::skip(id, "skipped (--offline)"))
            .collect();
        (skipped, Vec::new(), None)
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::from)?;
        let plan = Plan {
            facts: &facts,
            want: &want,
            daemon_soft: !(args.strict || args.require_daemon),
            deadline: tokio::time::Instant::from_std(deadline),
            timeout: args.timeout,
        };
        let progress = Progress::new(printer);
        let out = runtime.block_on(network::run_all(&plan, &progress));
        crate::send::shut_down(runtime);
        out
    };
    let env = git.finish(&model);
    results.extend(doctor::project_checks(&facts, &env));
    results.push(checks::xray_support(
        facts.uses_daemon,
        facts.xray,
        destination.as_deref(),
        today,
    ));
    results.push(if args.offline {
        CheckResult::skip("clock", "skipped (--offline)")
    } else {
        checks::clock(&samples)
    });
    doctor::arrange(&mut results, want);
    for r in &results {
        printer.debug(&format!(
            "check {} {:?} in {} ms",
            r.id, r.status, r.duration_ms
        ));
    }
    report(printer, &results, &model.dir, started.elapsed());
    let summary = doctor::summarize(&results);
    let failed = summary.fail > 0 || (args.strict && summary.warn > 0);
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `-v`: the project and the facts shared with send-test (the model's lines), then what doctor
/// makes of them (secrets masked by their type and by the printer).
fn debug_facts(printer: &Printer, facts: &gather::Facts) {
    for line in facts.model.describe(&facts.resolved) {
        printer.debug(&line);
    }
    let configured = |yes: bool| if yes { "configured" } else { "not configured" };
    printer.debug(&format!(
        "Honeycomb: {}; API {}; X-Ray: {}; daemon checked at {} ({})",
        configured(facts.honeycomb),
        facts.honeycomb_base,
        configured(facts.xray),
        facts.daemon_tcp,
        if facts.uses_daemon {
            "used"
        } else {
            "not used"
        },
    ));
}

fn list(printer: &Printer) -> Result<ExitStatus> {
    if printer.format() == Format::Json {
        let checks: Vec<_> = doctor::CHECKS
            .iter()
            .map(|(id, title, net)| json!({"id": id, "title": title, "network": net}))
            .collect();
        printer.json(&json!({"version": 1, "checks": checks}));
    } else {
        let mut out = String::new();
        for (id, title, net) in doctor::CHECKS {
            out.push_str(&format!(
                "{id:<16} {title}{}\n",
                if *net { " (network)" } else { "" }
            ));
        }
        printer.out(&out);
    }
    Ok(ExitStatus::Success)
}

fn report(printer: &Printer, results: &[CheckResult], project_dir: &Path, elapsed: Duration) {
    let summary = doctor::summarize(results);
    let paths = || {
        let workspace = std::env::var_os("GITHUB_WORKSPACE").map(std::path::PathBuf::from);
        doctor::sarif::Paths::discover(project_dir, workspace.as_deref())
    };
    match printer.format() {
        Format::Json => printer.json(&json!({
            "version": 1,
            "checks": results,
            "summary": { "pass": summary.pass, "warn": summary.warn, "fail": summary.fail, "skip": summary.skip, "duration_ms": elapsed.as_millis() as u64 },
        })),
        Format::Sarif => printer.json(&doctor::sarif::log(results, &paths())),
        Format::Github => {
            let mut out = doctor::github_annotations(results, &paths()).join("\n");
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!(
                "::notice title=tracectl doctor::{} passed, {} warnings, {} failed, {} skipped\n",
                summary.pass, summary.warn, summary.fail, summary.skip
            ));
            printer.out(&out);
        }
        Format::Human => {
            use colored::Colorize;
            let mut out = String::new();
            for r in results {
                let mark = match r.status {
                    Status::Pass => "✓".green().bold(),
                    Status::Warn => "⚠".yellow().bold(),
                    Status::Fail => "✗".red().bold(),
                    Status::Skip => "-".dimmed(),
                };
                let detail = if r.status == Status::Skip { r.detail.dimmed().to_string() } else { r.detail.clone() };
                out.push_str(&format!("{mark} {:<16} {detail}\n", r.id));
                let shown = r.findings.iter().filter(|f| f.status >= Status::Warn);
                for f in shown.filter(|f| r.findings.len() > 1 || f.line.is_some()) {
                    let place = match (&f.file, f.line) {
                        (Some(file), Some(line)) => format!("{file}:{line}"),
                        (Some(file), None) => file.clone(),
                        _ => String::new(),
                    };
                    out.push_str(&format!("    {} {}\n", place.dimmed(), f.message));
                }
                if let Some(hint) = &r.hint {
                    out.push_str(&format!("    {} {hint}\n", "hint:".cyan().bold()));
                }
            }
            out.push_str(&format!(
                "\n{} passed, {} warnings, {} failed, {} skipped in {:.2} s\n",
                summary.pass, summary.warn, summary.fail, summary.skip, elapsed.as_secs_f64()
            ));
            printer.out(&out);
        }
    }
}
