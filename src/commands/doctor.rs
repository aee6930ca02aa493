//! `tracectl doctor`: gather the facts, run the checks (network ones concurrently, each bounded
//! by --timeout), print them and exit non-zero when something failed.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use crate::cli::{DoctorArgs, Format};
use crate::doctor::network::{self, ClockSample};
use crate::doctor::project::{self as checks, EnvFileFacts};
use crate::doctor::{self, CheckResult, Status};
use crate::error::{Error, ExitStatus, Result};
use crate::honeycomb;
use crate::output::Printer;
use crate::project::{self, Layout, dotenv, gitignore};
use crate::recipe;
use crate::secret::Secret;
use crate::xray::daemon;

/// Everything the checks need to know, read once.
struct Facts {
    layout: Option<Layout>,
    /// Why there is no layout, when the project could not be read.
    layout_error: Option<CheckResult>,
    env: EnvFileFacts,
    env_error: Option<CheckResult>,
    env_values: BTreeMap<String, String>,
    honeycomb_key: Option<Secret>,
    dataset: Option<String>,
    /// The OTLP endpoint the backend uses, when it is written literally.
    endpoint: Option<String>,
    honeycomb_base: String,
    honeycomb: bool,
    xray: bool,
    uses_daemon: bool,
    aws_region: Option<(String, &'static str)>,
    daemon_tcp: String,
}

fn git(dir: &Path, args: &[&str]) -> Option<bool> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    match out.status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

fn gather(args: &DoctorArgs, dir: &Path, printer: &Printer) -> Facts {
    let (layout, layout_error) = match Layout::discover(
        dir,
        args.project.compose_file.as_deref(),
        args.project.service.as_deref(),
        args.project.env_file.as_deref(),
        |_| Ok(None),
    ) {
        Ok(layout) => (Some(layout), None),
        Err(Error::Usage { message, .. })
            if message.starts_with("no compose file") && args.project.compose_file.is_none() =>
        {
            (
                None,
                Some(CheckResult::skip(
                    "compose",
                    "no compose file here (use -C DIR or --compose-file)",
                )),
            )
        }
        Err(e) => {
            let mut check = CheckResult::fail("compose", e.to_string());
            if let Error::Parse { path, line, .. } = &e {
                check.findings.push(doctor::Finding {
                    status: Status::Fail,
                    message: e.to_string(),
                    file: Some(project::display(dir, path)),
                    line: Some(*line),
                });
            }
            check.hint = e.hint();
            (None, Some(check))
        }
    };
    let base = layout
        .as_ref()
        .map(|l| l.dir.clone())
        .unwrap_or_else(|| dir.to_path_buf());
    let env_path = layout
        .as_ref()
        .map(|l| l.env_path.clone())
        .unwrap_or_else(|| {
            args.project
                .env_file
                .as_ref()
                .map(|f| dir.join(f))
                .unwrap_or_else(|| base.join(".env"))
        });
    let env_display = project::display(&base, &env_path);
    let env_dir = env_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| base.clone());
    let env_name = env_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let env_text = std::fs::read_to_string(&env_path).ok();
    for text in [
        layout.as_ref().map(|l| l.compose.source()),
        env_text.as_deref(),
    ] {
        printer.register_text_secrets(text.unwrap_or(""));
    }
    let (env_values, env_error) = match env_text.as_deref().map(|t| dotenv::values(&env_path, t)) {
        Some(Ok(values)) => (values, None),
        Some(Err(e)) => {
            let mut check = CheckResult::fail("env-file", e.to_string());
            if let Error::Parse { line, .. } = &e {
                check.findings.push(doctor::Finding {
                    status: Status::Fail,
                    message: e.to_string(),
                    file: Some(env_display.clone()),
                    line: Some(*line),
                });
            }
            (BTreeMap::new(), Some(check))
        }
        None => (BTreeMap::new(), None),
    };
    printer.register_env_secrets(&env_values);
    let tracked = git(&env_dir, &["ls-files", "--error-unmatch", "--", &env_name]);
    let ignored = if tracked.is_some() {
        git(&env_dir, &["check-ignore", "-q", "--", &env_name])
    } else {
        std::fs::read_to_string(env_dir.join(".gitignore"))
            .ok()
            .map(|t| gitignore::ignores(&t, &env_name))
    };
    let env = EnvFileFacts {
        display: env_display,
        exists: env_text.is_some(),
        mode: std::fs::metadata(&env_path)
            .ok()
            .map(|m| m.permissions().mode()),
        tracked,
        ignored,
    };

    let backend_env: Vec<(String, Option<String>)> = layout
        .as_ref()
        .and_then(|l| l.compose.environment(&l.service).ok())
        .map(|(_, v)| v)
        .unwrap_or_default();
    let backend = |key: &str| {
        backend_env
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.clone())
    };
    let non_empty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());

    let honeycomb_key = non_empty(args.key.honeycomb_api_key.clone())
        .or_else(|| non_empty(env_values.get("HONEYCOMB_API_KEY").cloned()))
        .map(Secret::new);
    if let Some(key) = &honeycomb_key {
        printer.register_secret(key);
    }
    let headers = backend("OTEL_EXPORTER_OTLP_HEADERS").unwrap_or_default();
    let dataset = non_empty(args.key.dataset.clone())
        .or_else(|| non_empty(env_values.get("HONEYCOMB_DATASET").cloned()))
        .or_else(|| {
            headers
                .split(',')
                .find_map(|h| h.strip_prefix("x-honeycomb-dataset="))
                .filter(|d| !d.starts_with('$'))
                .map(str::to_string)
        });
    let endpoint = backend("OTEL_EXPORTER_OTLP_ENDPOINT").filter(|e| !e.contains("${"));
    let key_region = honeycomb_key
        .as_ref()
        .and_then(|k| honeycomb::classify(k.expose()).region);
    let honeycomb_base = std::env::var("HONEYCOMB_API_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            endpoint
                .as_deref()
                .and_then(honeycomb::region_of_endpoint)
                .map(|r| honeycomb::api_base(r).to_string())
        })
        .or_else(|| key_region.map(|r| honeycomb::api_base(r).to_string()))
        .unwrap_or_else(|| honeycomb::US_API.to_string())
        .trim_end_matches('/')
        .to_string();
    let honeycomb = honeycomb_key.is_some() || headers.contains("x-honeycomb-team");

    let has_daemon_service = layout
        .as_ref()
        .is_some_and(|l| l.compose.has_service(recipe::DAEMON_SERVICE));
    let uses_daemon = has_daemon_service || backend("AWS_XRAY_DAEMON_ADDRESS").is_some();
    let xray = uses_daemon
        || args.aws_region.is_some() && std::env::var_os("AWS_REGION").is_none()
        || env_values.contains_key("AWS_REGION");
    let aws_region = non_empty(args.aws_region.clone())
        .map(|r| (r, "AWS_REGION / --aws-region"))
        .or_else(|| {
            non_empty(std::env::var("AWS_DEFAULT_REGION").ok()).map(|r| (r, "AWS_DEFAULT_REGION"))
        })
        .or_else(|| non_empty(env_values.get("AWS_REGION").cloned()).map(|r| (r, "the env file")))
        .or_else(|| {
            if xray {
                crate::aws::profile_region().map(|r| (r, "the AWS profile"))
            } else {
                None
            }
        });
    let daemon_tcp = std::env::var("AWS_XRAY_DAEMON_ADDRESS")
        .ok()
        .and_then(|a| {
            let parts: Vec<&str> = a.split_whitespace().collect();
            match parts.as_slice() {
                [one] => Some(one.to_string()),
                many => many
                    .iter()
                    .find_map(|p| p.strip_prefix("tcp:"))
                    .map(str::to_string),
            }
        })
        .unwrap_or_else(|| daemon::DEFAULT_ADDRESS.to_string());

    Facts {
        layout,
        layout_error,
        env,
        env_error,
        env_values,
        honeycomb_key,
        dataset,
        endpoint,
        honeycomb_base,
        honeycomb,
        xray,
        uses_daemon,
        aws_region,
        daemon_tcp,
    }
}

fn timed(check: impl FnOnce() -> CheckResult) -> CheckResult {
    let started = Instant::now();
    let mut result = check();
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

fn project_checks(facts: &Facts) -> Vec<CheckResult> {
    let mut out = Vec::new();
    out.push(
        facts
            .env_error
            .clone()
            .unwrap_or_else(|| timed(|| checks::env_file(&facts.env))),
    );
    let defined = |var: &str| facts.env_values.contains_key(var) || std::env::var_os(var).is_some();
    match &facts.layout {
        Some(layout) => {
            let file = project::display(&layout.dir, layout.compose.path());
            out.push(timed(|| {
                checks::compose(
                    &layout.compose,
                    &file,
                    &layout.service,
                    facts.honeycomb,
                    facts.xray,
                    &defined,
                )
            }));
            let requirements = layout.requirements();
            let req_display = requirements
                .as_ref()
                .map(|r| project::display(&layout.dir, r))
                .unwrap_or_else(|| "requirements.txt".into());
            let req_text = requirements
                .as_ref()
                .and_then(|r| std::fs::read_to_string(r).ok());
            out.push(timed(|| match &requirements {
                Some(_) => checks::requirements(
                    req_text.as_deref(),
                    &req_display,
                    facts.honeycomb,
                    facts.xray,
                ),
                None => CheckResult::skip(
                    "requirements",
                    format!("service {} has no build folder here", layout.service),
                ),
            }));
            let app = layout.context.as_ref().map(|c| c.join("app.py"));
            let app_display = app
                .as_ref()
                .map(|a| project::display(&layout.dir, a))
                .unwrap_or_else(|| "app.py".into());
            let app_text = app.as_ref().and_then(|a| std::fs::read_to_string(a).ok());
            out.push(timed(|| {
                checks::app(
                    app_text.as_deref(),
                    &app_display,
                    facts.honeycomb,
                    facts.xray,
                )
            }));
        }
        None => {
            out.push(
                facts
                    .layout_error
                    .clone()
                    .unwrap_or_else(|| CheckResult::skip("compose", "no project")),
            );
            out.push(CheckResult::skip("requirements", "no compose project"));
            out.push(CheckResult::skip("app", "no compose project"));
        }
    }
    out.push(timed(|| {
        checks::honeycomb_key(
            facts.honeycomb_key.as_ref(),
            facts.dataset.as_deref(),
            facts.endpoint.as_deref(),
            facts.honeycomb,
        )
    }));
    out.push(timed(|| {
        let (region, source) = match &facts.aws_region {
            Some((r, s)) => (Some(r.as_str()), *s),
            None => (None, ""),
        };
        checks::aws_region(region, source, facts.xray)
    }));
    out
}

/// Every network check at once; each gets `timeout`, so the whole run takes about one timeout.
async fn network_checks(
    facts: &Facts,
    args: &DoctorArgs,
    want: &dyn Fn(&str) -> bool,
    printer: &Printer,
) -> (Vec<CheckResult>, Vec<ClockSample>, Option<String>) {
    let timeout = args.timeout;
    // No client timeout: each check is bounded from outside, so a hang reads the same everywhere.
    let client = reqwest::Client::builder()
        .user_agent(concat!("tracectl/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default();
    let aws_wanted =
        facts.xray && (want("aws-credentials") || want("xray-endpoint") || want("xray-support"));
    let aws = if aws_wanted {
        let region = facts.aws_region.as_ref().map(|(r, _)| r.as_str());
        tokio::time::timeout(timeout, crate::xray::api::load(region))
            .await
            .ok()
    } else {
        None
    };
    let progress = Progress::new(printer);

    type Job<'a> = std::pin::Pin<
        Box<dyn std::future::Future<Output = (CheckResult, Option<ClockSample>)> + 'a>,
    >;
    let mut jobs: Vec<(&'static str, bool, Job)> = Vec::new();
    let skip = |id: &'static str, why: &str| -> Job {
        let r = CheckResult::skip(id, why.to_string());
        Box::pin(async move { (r, None) })
    };

    if want("honeycomb-auth") || want("honeycomb-otlp") {
        match &facts.honeycomb_key {
            Some(key) => {
                let base = facts.honeycomb_base.clone();
                let dataset = facts
                    .dataset
                    .clone()
                    .filter(|_| honeycomb::classify(key.expose()).kind.needs_dataset());
                let (c1, c2, k1, k2, b1) = (
                    client.clone(),
                    client.clone(),
                    key.clone(),
                    key.clone(),
                    base.clone(),
                );
                jobs.push((
                    "honeycomb-auth",
                    false,
                    Box::pin(async move { network::honeycomb_auth(&c1, &b1, &k1).await }),
                ));
                jobs.push((
                    "honeycomb-otlp",
                    false,
                    Box::pin(async move {
                        network::honeycomb_otlp(&c2, &base, &k2, dataset.as_deref()).await
                    }),
                ));
            }
            None => {
                let why = if facts.honeycomb {
                    "no Honeycomb key"
                } else {
                    "Honeycomb is not configured"
                };
                jobs.push(("honeycomb-auth", false, skip("honeycomb-auth", why)));
                jobs.push(("honeycomb-otlp", false, skip("honeycomb-otlp", why)));
            }
        }
    }
    let aws_missing = if facts.xray {
        "the AWS configuration did not load in time"
    } else {
        "X-Ray is not configured"
    };
    match &aws {
        Some(config) => {
            let c = config.clone();
            jobs.push((
                "aws-credentials",
                false,
                Box::pin(async move { (network::aws_credentials(&c).await, None) }),
            ));
        }
        None => jobs.push((
            "aws-credentials",
            false,
            skip("aws-credentials", aws_missing),
        )),
    }
    let xray_url = crate::xray::endpoint_override().or_else(|| {
        facts
            .aws_region
            .as_ref()
            .map(|(r, _)| format!("https://xray.{r}.amazonaws.com"))
    });
    match (&xray_url, facts.xray) {
        (Some(url), true) => {
            let (c, u) = (client.clone(), url.clone());
            jobs.push((
                "xray-endpoint",
                false,
                Box::pin(async move { network::xray_endpoint(&c, &u).await }),
            ));
        }
        (None, true) => jobs.push((
            "xray-endpoint",
            false,
            skip("xray-endpoint", "no AWS region to find the endpoint by"),
        )),
        _ => jobs.push((
            "xray-endpoint",
            false,
            skip("xray-endpoint", "X-Ray is not configured"),
        )),
    }
    let daemon_soft = !(args.strict || args.require_daemon);
    if facts.uses_daemon || std::env::var_os("AWS_XRAY_DAEMON_ADDRESS").is_some() {
        let (c, addr) = (client.clone(), facts.daemon_tcp.clone());
        jobs.push((
            "xray-daemon",
            daemon_soft,
            Box::pin(async move { (network::xray_daemon(&c, &addr, !daemon_soft).await, None) }),
        ));
    } else {
        jobs.push((
            "xray-daemon",
            true,
            skip("xray-daemon", "the project runs no X-Ray daemon"),
        ));
    }

    let jobs: Vec<_> = jobs.into_iter().filter(|(id, _, _)| want(id)).collect();
    let progress = &progress;
    let futures = jobs.into_iter().map(|(id, soft, job)| {
        let bar = progress.start(id);
        async move {
            let started = Instant::now();
            let (mut result, clock) = match tokio::time::timeout(timeout, job).await {
                Ok(r) => r,
                Err(_) => (network::timed_out(id, timeout, soft), None),
            };
            result.duration_ms = started.elapsed().as_millis() as u64;
            progress.finish(bar);
            (result, clock)
        }
    });
    let destination = async {
        match (&aws, want("xray-support")) {
            (Some(config), true) => {
                tokio::time::timeout(timeout, network::segment_destination(config))
                    .await
                    .ok()
                    .flatten()
            }
            _ => None,
        }
    };
    let (done, destination) = tokio::join!(super::send_test::join_all(futures), destination);
    let mut results = Vec::new();
    let mut samples = Vec::new();
    for (result, clock) in done {
        results.push(result);
        samples.extend(clock);
    }
    (results, samples, destination)
}

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
    let want = |id: &str| doctor::selected(&args.check, &args.skip, id);
    let started = Instant::now();
    let facts = gather(&args, dir, printer);
    let mut results = project_checks(&facts);

    let (network, samples, destination) = if args.offline {
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
        runtime.block_on(network_checks(&facts, &args, &want, printer))
    };
    results.extend(network);
    results.push(checks::xray_support(
        facts.uses_daemon,
        facts.xray,
        destination.as_deref(),
        SystemTime::now(),
    ));
    results.push(if args.offline {
        CheckResult::skip("clock", "skipped (--offline)")
    } else {
        checks::clock(&samples)
    });

    let order = |id: &str| {
        doctor::CHECKS
            .iter()
            .position(|(i, _, _)| *i == id)
            .unwrap_or(usize::MAX)
    };
    results.retain(|r| want(r.id));
    results.sort_by_key(|r| order(r.id));
    results.dedup_by_key(|r| r.id);
    report(printer, &results, started.elapsed());
    let summary = doctor::summarize(&results);
    let failed = summary.fail > 0 || (args.strict && summary.warn > 0);
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
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

fn report(printer: &Printer, results: &[CheckResult], elapsed: Duration) {
    let summary = doctor::summarize(results);
    match printer.format() {
        Format::Json => printer.json(&json!({
            "version": 1,
            "checks": results,
            "summary": { "pass": summary.pass, "warn": summary.warn, "fail": summary.fail, "skip": summary.skip, "duration_ms": elapsed.as_millis() as u64 },
        })),
        Format::Github => {
            let mut out = doctor::github_annotations(results).join("\n");
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
