//! `tracectl init`: read the project model, settle the answers, plan every edit (see
//! `crate::init::plan`), then write them all or nothing and say what changed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::aws;
use crate::cli::{HoneycombRegion, InitArgs, XrayVia};
use crate::error::{ExitStatus, Result};
use crate::honeycomb;
use crate::init::plan::{self, Current, Plan};
use crate::init::report::{self, quiet_summary, verb};
use crate::init::wizard::wizard;
use crate::output::Printer;
use crate::project::compose::{EnvOutcome, ServiceOutcome};
use crate::project::dotenv::KeyChange;
use crate::project::model::Model;
use crate::project::write::{self, FileAction};
use crate::project::{self, Layout};
use crate::prompt;
use crate::recipe;
use crate::settings::{self, InitSettings};

/// Where the files `init` works on are, for messages.
struct Project<'a> {
    dir: &'a Path,
    compose_path: &'a Path,
    service: &'a str,
    env_path: &'a Path,
    requirements: Option<PathBuf>,
}

pub fn run(args: InitArgs, dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    let interactive = !args.yes && printer.is_human() && prompt::is_interactive();
    let mut model = Model::load(
        dir,
        &args.project,
        Model::process_env(),
        |names| match interactive {
            true => prompt::select("Which service is the backend?", names, 0).map(Some),
            false => Ok(None),
        },
    );
    if let Some(e) = model.env_file.error.take() {
        return Err(e);
    }
    // Taken out of the model: without a compose project there is nothing to configure.
    let layout = std::mem::replace(&mut model.layout, Err(crate::error::Error::Interrupted))?;
    let project = Project {
        dir: &layout.dir,
        compose_path: layout.compose.path(),
        service: &layout.service,
        env_path: &model.env_file.path,
        requirements: layout.requirements(),
    };
    printer.debug(&format!(
        "compose file {}, backend service {}, env file {}",
        project.compose_path.display(),
        project.service,
        project.env_path.display()
    ));
    // Secrets already in the env file stay out of anything shown, diffs included.
    printer.register_env_secrets(&model.env_file.values);
    if args.migrate {
        return migrate(&args, &model, &layout, &project, printer, interactive);
    }
    let daemon = plan::daemon_service(&layout.compose, &layout.service)?;
    let mut answers = settings::gather(&args, |k| model.env(k), |k| model.dotenv(k));
    if answers.xray && answers.aws_region.is_none() {
        answers.aws_region = aws::profile_region();
    }
    if let Some(key) = &answers.api_key {
        printer.register_secret(key);
        // A key that does not name its region keeps the region the project already uses.
        if answers.honeycomb_region.is_none() && honeycomb::classify(key.expose()).region.is_none()
        {
            answers.honeycomb_region = existing_honeycomb_region(&model);
        }
    }
    // A project that runs the daemon keeps it unless told otherwise: moving is `--migrate`. The
    // collector sends to one destination, so with Honeycomb too X-Ray stays on the daemon.
    let asked_via = answers.xray_via;
    if answers.xray_via.is_none() {
        answers.xray_via = Some(match daemon {
            Some(_) => XrayVia::Daemon,
            None if answers.honeycomb => XrayVia::Daemon,
            None => XrayVia::Collector,
        });
    }
    if interactive {
        wizard(&mut answers, project.service, printer)?;
    }
    if let (Some(name), Some(XrayVia::Collector), true) = (&daemon, answers.xray_via, answers.xray)
    {
        return Err(crate::error::Error::usage(
            format!(
                "{} already runs the X-Ray daemon (service {name}); a second path would send every trace twice",
                project::display(project.dir, project.compose_path)
            ),
            match asked_via {
                Some(_) => "run `tracectl init --migrate` to replace the daemon with the collector".to_string(),
                None => "answer daemon, or run `tracectl init --migrate` to replace it with the collector".to_string(),
            },
        ));
    }
    let settings = settings::finalize(answers, project.service)?;
    if let Some(hc) = &settings.honeycomb {
        printer.register_secret(&hc.api_key);
    }
    debug_settings(printer, &model, &args, &settings);

    let current = read_current(&model, &layout, args.sampling_rule)?;
    let mut plan = plan::plan(
        &model,
        &layout,
        &current,
        &settings,
        args.force,
        args.sampling_rule,
    )?;
    plan.warnings
        .splice(0..0, settings.warnings.iter().cloned());
    for warning in &plan.warnings {
        printer.warn(warning);
    }
    let changed = plan.changes_anything();

    if args.dry_run {
        report(printer, &project, &settings, &plan, true, changed);
        return Ok(ExitStatus::Success);
    }
    if interactive && changed {
        printer.out(&summary(&project, &plan));
        if !prompt::confirm("Write these changes?", true)? {
            printer.out("Nothing written.\n");
            return Ok(ExitStatus::Success);
        }
    }
    for warning in write::apply(&plan.files)? {
        printer.warn(&warning);
    }
    report(printer, &project, &settings, &plan, false, changed);
    Ok(ExitStatus::Success)
}

/// `init --migrate`: plan from the compose file alone (no answers needed: credentials, region
/// and keys stay `${VARS}`), then write or show it like `init`.
fn migrate(
    args: &InitArgs,
    model: &Model,
    layout: &Layout,
    project: &Project,
    printer: &Printer,
    interactive: bool,
) -> Result<ExitStatus> {
    let current = read_current(model, layout, false)?;
    let mut plan = plan::plan_migrate(model, layout, &current)?;
    (plan.app_lines, plan.app_needs_otel) = app_lines(project)?;
    for warning in &plan.warnings {
        printer.warn(warning);
    }
    let changed = plan.changes_anything();
    if !args.dry_run && changed {
        if interactive {
            printer.out(&summary(project, &plan));
            if !prompt::confirm("Write these changes?", true)? {
                printer.out("Nothing written.\n");
                return Ok(ExitStatus::Success);
            }
        }
        for warning in write::apply(&plan.files)? {
            printer.warn(&warning);
        }
    }
    migrate_report(printer, project, &plan, args.dry_run, changed);
    Ok(ExitStatus::Success)
}

/// The app file next to the backend's requirements: its X-Ray SDK lines, and whether it lacks
/// the OpenTelemetry instrumentation that the collector needs.
fn app_lines(project: &Project) -> Result<(Vec<plan::AppLine>, bool)> {
    let Some(path) = project
        .requirements
        .as_ref()
        .and_then(|r| r.parent())
        .map(|d| d.join("app.py"))
    else {
        return Ok((Vec::new(), false));
    };
    let shown = project::display(project.dir, &path);
    Ok(match read_optional(&path)? {
        Some(text) => (
            plan::xray_sdk_lines(&shown, &text),
            !text.contains("FlaskInstrumentor"),
        ),
        None => (Vec::new(), false),
    })
}

fn migrate_report(printer: &Printer, project: &Project, plan: &Plan, dry_run: bool, changed: bool) {
    let app_steps: Vec<String> = plan
        .app_lines
        .iter()
        .map(|l| format!("{}:{}: {}", l.file, l.line, l.text))
        .collect();
    if !printer.is_human() {
        let files = report::files_json(plan, dry_run);
        printer.json(&json!({
            "version": 1,
            "command": "init",
            "migrate": true,
            "dry_run": dry_run,
            "changed": changed,
            "project": {
                "compose_file": project::display(project.dir, project.compose_path),
                "service": project.service,
            },
            "files": files,
            "plan": plan,
        }));
        return;
    }
    if !changed {
        printer.out(&format!(
            "Nothing to change: {} already sends X-Ray traces through {}.\n",
            project::display(project.dir, project.compose_path),
            recipe::COLLECTOR_SERVICE
        ));
    } else if dry_run {
        report::print_dry_run(printer, plan, &summary(project, plan));
    } else if printer.is_quiet() {
        printer.out(&quiet_summary(plan, dry_run));
        return;
    } else {
        printer.out(&summary_with(project, plan, false));
    }
    if printer.is_quiet() || app_steps.is_empty() && !changed {
        return;
    }
    let mut out = String::new();
    if !app_steps.is_empty() {
        out.push_str("\nRemove the X-Ray SDK from the app (--migrate does not edit it):\n\n");
        for step in &app_steps {
            out.push_str(&format!("  {step}\n"));
        }
        if !plan.app_needs_otel {
            out.push_str(
                "\nThe OpenTelemetry setup stays: its one OTLP exporter now reaches X-Ray through the collector.\n",
            );
        }
    }
    if plan.app_needs_otel {
        out.push_str(&format!(
            "\nThe app has no OpenTelemetry instrumentation yet; the collector needs it. Add to the app:\n\n{}",
            indent(&recipe::snippet(true, None))
        ));
    }
    out.push_str(
        "\nNext: docker compose up --build, then `tracectl doctor` and `tracectl send-test --to collector --wait`.\n",
    );
    printer.out(&out);
}

/// `-v`: every answer and where it came from (secrets masked by the printer).
fn debug_settings(printer: &Printer, model: &Model, args: &InitArgs, settings: &InitSettings) {
    let from = |flag: Option<&String>, names: &[&str]| {
        model
            .setting(flag, names)
            .map(|(_, source)| format!(" (from {source})"))
            .unwrap_or_default()
    };
    printer.debug(&format!(
        "service name {}{}",
        settings.service_name,
        from(
            args.service_name.as_ref(),
            &["HONEYCOMB_SERVICE_NAME", "OTEL_SERVICE_NAME"]
        )
    ));
    if let Some(hc) = &settings.honeycomb {
        printer.debug(&format!(
            "Honeycomb {} {}{}, endpoint {}",
            hc.key.kind.describe(),
            hc.api_key,
            from(args.key.honeycomb_api_key.as_ref(), &["HONEYCOMB_API_KEY"]),
            hc.endpoint
        ));
    }
    if let Some(xray) = &settings.xray {
        printer.debug(&format!(
            "X-Ray region {}{}, AWS_XRAY_URL {}",
            xray.region,
            from(
                args.aws_region.as_ref(),
                &["AWS_REGION", "AWS_DEFAULT_REGION"]
            ),
            xray.url
        ));
    }
}

fn existing_honeycomb_region(model: &Model) -> Option<HoneycombRegion> {
    honeycomb::region_of_endpoint(&model.backend("OTEL_EXPORTER_OTLP_ENDPOINT")?)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    let display: std::path::PathBuf = path
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    crate::project::write::read_text(path, &display.display().to_string())
}

/// The files the plan edits besides the compose and env files, and every file's mode.
fn read_current(model: &Model, layout: &Layout, sampling_rule: bool) -> Result<Current> {
    let mut current = Current::default();
    let requirements = layout.requirements();
    if let Some(path) = &requirements {
        current.requirements = read_optional(path)?;
    }
    let gitignore = plan::gitignore_path(model);
    current.gitignore = read_optional(&gitignore)?;
    let rule = plan::sampling_rule_path(model);
    if sampling_rule {
        current.sampling_rule = read_optional(&rule)?;
    }
    let app = crate::init::instrument::app_path(model, layout);
    if let Some(path) = &app {
        match read_optional(path) {
            Ok(text) => current.app = text,
            Err(e) => current.app_error = Some(e),
        }
        // Before a diff can show a line of it.
        if let Some(text) = &current.app {
            crate::secret::register_all(crate::secret::in_text(text));
        }
    }
    current.requests = layout
        .context
        .as_deref()
        .is_some_and(|c| crate::init::instrument::folder_imports(c, "requests"));
    let dockerfile = model
        .start
        .as_ref()
        .ok()
        .and_then(|s| s.as_ref())
        .and_then(|s| s.dockerfile.as_ref())
        .map(|(p, _)| p.clone());
    let paths = [
        Some(layout.compose.path().to_path_buf()),
        Some(model.env_file.path.clone()),
        Some(gitignore),
        requirements,
        Some(rule),
        app,
        dockerfile,
    ];
    for path in paths.into_iter().flatten() {
        if let Ok(meta) = std::fs::metadata(&path) {
            current
                .modes
                .insert(path, meta.permissions().mode() & 0o7777);
        }
    }
    Ok(current)
}

/// One line per file and what changes in it.
fn summary(project: &Project<'_>, plan: &Plan) -> String {
    summary_with(project, plan, true)
}

fn summary_with(project: &Project, plan: &Plan, dry_run: bool) -> String {
    let mut out = String::new();
    for file in &plan.files {
        let action = file.action();
        if action == FileAction::Unchanged {
            continue;
        }
        let detail = if file.path == project.compose_path {
            let added: Vec<&str> = plan
                .environment
                .iter()
                .filter(|e| matches!(e.outcome, EnvOutcome::Added | EnvOutcome::Replaced { .. }))
                .map(|e| e.key.as_str())
                .collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!(
                    "{} environment: {}",
                    project.service,
                    added.join(", ")
                ));
            }
            if !plan.removed.is_empty() {
                parts.push(format!(
                    "{} environment: removed {}",
                    project.service,
                    plan.removed.join(", ")
                ));
            }
            if let Some(command) = plan
                .instrumentation
                .as_ref()
                .and_then(|i| i.command.as_ref())
                .filter(|c| !c.unchanged && file.display == c.file)
            {
                parts.push(format!(
                    "{} {} wrapped with {}",
                    project.service,
                    command.key,
                    recipe::WRAPPER
                ));
            }
            match (&plan.collector_service, &plan.replaced_daemon) {
                (Some(ServiceOutcome::Replaced), Some(daemon)) => {
                    parts.push(format!(
                        "service {daemon} replaced by {}",
                        recipe::COLLECTOR_SERVICE
                    ));
                    for r in &plan.renamed {
                        parts.push(format!(
                            "{}'s {} (line {}) names {} instead",
                            r.service,
                            r.key,
                            r.line,
                            recipe::COLLECTOR_SERVICE
                        ));
                    }
                }
                (Some(ServiceOutcome::Added), _) => {
                    parts.push(format!("service {} added", recipe::COLLECTOR_SERVICE))
                }
                (Some(ServiceOutcome::Replaced), None) => {
                    parts.push(format!("service {} replaced", recipe::COLLECTOR_SERVICE))
                }
                _ => {}
            }
            match plan.daemon_service {
                Some(ServiceOutcome::Added) => {
                    parts.push(format!("service {} added", recipe::DAEMON_SERVICE))
                }
                Some(ServiceOutcome::Replaced) => {
                    parts.push(format!("service {} replaced", recipe::DAEMON_SERVICE))
                }
                _ => {}
            }
            parts.join("; ")
        } else if file.path == project.env_path {
            let keys: Vec<String> = plan
                .dotenv
                .iter()
                .filter(|d| d.action != KeyChange::Unchanged)
                .map(|d| {
                    format!(
                        "{} {}",
                        d.key,
                        if d.action == KeyChange::Added {
                            "added"
                        } else {
                            "updated"
                        }
                    )
                })
                .collect();
            let mut detail = keys.join(", ");
            if action == FileAction::Permissions {
                detail = "mode set to 0600".to_string();
            }
            detail
        } else if Some(&file.path) == project.requirements.as_ref() {
            format!("added {}", plan.packages_added.join(", "))
        } else if file.display.ends_with(".gitignore") {
            "env file ignored".to_string()
        } else if let Some(detail) = instrumented_detail(plan, &file.display) {
            detail
        } else {
            "X-Ray sampling rule".to_string()
        };
        out.push_str(&format!(
            "{:>12} {} ({detail})\n",
            verb(action, dry_run),
            file.display
        ));
    }
    for env in &plan.environment {
        if let EnvOutcome::Kept { existing, proposed } = &env.outcome {
            out.push_str(&format!(
                "{:>12} {}={existing} (tracectl would write {proposed}; --force replaces it)\n",
                "Kept", env.key
            ));
        }
    }
    out
}

/// What the summary says about the Dockerfile or the app file the instrumentation edits.
fn instrumented_detail(plan: &Plan, display: &str) -> Option<String> {
    let inst = plan.instrumentation.as_ref()?;
    if let Some(c) = inst.command.as_ref().filter(|c| c.file == display) {
        return Some(format!("{} wrapped with {}", c.key, recipe::WRAPPER));
    }
    let app = inst.app.as_ref().filter(|a| a.file == display)?;
    Some(app.report.added.join("; "))
}

/// The instrumentation in words: where the wrapped command is and why, what the app gained.
fn instrumentation_text(plan: &Plan) -> String {
    let Some(inst) = &plan.instrumentation else {
        return String::new();
    };
    let mut out = String::new();
    let mode = |m: crate::cli::Instrument| match m {
        crate::cli::Instrument::ZeroCode => "zero-code",
        crate::cli::Instrument::Code => "code",
        crate::cli::Instrument::None => "none",
    };
    if inst.mode != inst.requested {
        out.push_str(&format!(
            "\nInstrumentation: {} (asked: {})\n",
            mode(inst.mode),
            mode(inst.requested)
        ));
    } else {
        out.push_str(&format!("\nInstrumentation: {}\n", mode(inst.mode)));
    }
    if let Some(c) = &inst.command {
        out.push_str(&format!(
            "  {}:{} ({}) runs: {}\n    {}\n",
            c.file,
            c.line,
            c.key,
            c.after.join(" "),
            c.why
        ));
    }
    if let Some(app) = &inst.app {
        for added in &app.report.added {
            out.push_str(&format!("  {}: {added}\n", app.file));
        }
    }
    for note in &inst.notes {
        out.push_str(&format!("  - {note}\n"));
    }
    out
}

fn next_steps(project: &Project, settings: &InitSettings) -> (String, Vec<String>, Vec<String>) {
    let snippet = recipe::python_snippet(settings);
    let mut gitpod = Vec::new();
    if std::env::var_os("GITPOD_WORKSPACE_ID").is_some() {
        if let Some(hc) = &settings.honeycomb {
            gitpod.push(format!(
                "gp env HONEYCOMB_API_KEY=\"{}\"",
                hc.api_key.masked()
            ));
            gitpod.push(format!(
                "gp env HONEYCOMB_SERVICE_NAME=\"{}\"",
                settings.service_name
            ));
        }
        if let Some(xray) = &settings.xray {
            gitpod.push(format!("gp env AWS_REGION=\"{}\"", xray.region));
        }
    }
    let app = project
        .requirements
        .as_ref()
        .and_then(|r| r.parent())
        .map(|d| project::display(project.dir, &d.join("app.py")))
        .unwrap_or_else(|| "app.py".to_string());
    let mut commands = vec![
        format!("add the instrumentation above to {app}"),
        "docker compose up --build".to_string(),
        "tracectl send-test    # send a test trace and prove it arrives".to_string(),
        "tracectl doctor       # check keys, credentials and this configuration".to_string(),
    ];
    if settings.instrument != crate::cli::Instrument::None {
        commands.remove(0);
    }
    (snippet, gitpod, commands)
}

fn report(
    printer: &Printer,
    project: &Project,
    settings: &InitSettings,
    plan: &Plan,
    dry_run: bool,
    changed: bool,
) {
    let (snippet, gitpod, commands) = next_steps(project, settings);
    if !printer.is_human() {
        let files = report::files_json(plan, dry_run);
        printer.json(&json!({
            "version": 1,
            "command": "init",
            "dry_run": dry_run,
            "changed": changed,
            "project": {
                "compose_file": project::display(project.dir, project.compose_path),
                "service": project.service,
                "env_file": project::display(project.dir, project.env_path),
                "requirements": project.requirements.as_ref().map(|r| project::display(project.dir, r)),
            },
            "settings": settings,
            "files": files,
            "plan": plan,
            "next_steps": { "app_py": snippet, "gitpod": gitpod, "commands": commands },
        }));
        return;
    }
    if !changed {
        printer.out(&format!(
            "Nothing to change: {} is already configured for {}.\n",
            project::display(project.dir, project.compose_path),
            project.service
        ));
        if printer.is_quiet() {
            return;
        }
    } else if printer.is_quiet() {
        // Quiet: warnings and errors (printed already) and this one line.
        printer.out(&quiet_summary(plan, dry_run));
        return;
    } else if dry_run {
        let text = format!("{}{}\n", summary(project, plan), instrumentation_text(plan));
        report::print_dry_run(printer, plan, &text);
        return;
    } else {
        printer.out(&summary_with(project, plan, false));
    }
    let mut out = instrumentation_text(plan);
    if settings.instrument == crate::cli::Instrument::None {
        out.push_str("\nNext steps:\n\n  Add to your Flask app:\n\n");
        out.push_str(&indent(&snippet));
    } else {
        out.push_str("\nNext steps:\n");
    }
    if !gitpod.is_empty() {
        out.push_str("\n  Keep the values across Gitpod workspaces (with your real key):\n\n");
        for line in &gitpod {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out.push('\n');
    for (i, command) in commands.iter().enumerate() {
        out.push_str(&format!("  {}. {command}\n", i + 1));
    }
    printer.out(&out);
}

/// Code to show, four spaces in, blank lines left blank.
fn indent(code: &str) -> String {
    code.lines()
        .map(|line| format!("    {line}\n").replace("    \n", "\n"))
        .collect()
}
