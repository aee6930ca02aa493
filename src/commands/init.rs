//! `tracectl init`: configure the project's compose file, env file and requirements for tracing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::aws;
use crate::cli::{HoneycombRegion, InitArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::honeycomb::{self, KeyKind};
use crate::output::Printer;
use crate::project::compose::{Compose, EnvOutcome, EnvStyle, ServiceOutcome};
use crate::project::dotenv::{self, KeyChange};
use crate::project::write::{self, FileAction, FileChange};
use crate::project::{self, gitignore, requirements};
use crate::prompt;
use crate::recipe;
use crate::secret::{Secret, is_sensitive_name};
use crate::settings::{self, InitAnswers, InitSettings};

/// The files `init` works on, found before any question is asked.
struct Project {
    dir: PathBuf,
    compose: Compose,
    service: String,
    requirements: Option<PathBuf>,
    env_path: PathBuf,
    env_text: Option<String>,
}

/// Every edit, computed before anything is written.
#[derive(Default, Serialize)]
struct Plan {
    #[serde(skip)]
    files: Vec<FileChange>,
    environment: Vec<EnvReport>,
    daemon_service: Option<ServiceOutcome>,
    dotenv: Vec<DotenvReport>,
    packages_added: Vec<&'static str>,
    gitignore_added: bool,
    sampling_rule: Option<FileAction>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct EnvReport {
    key: String,
    #[serde(flatten)]
    outcome: EnvOutcome,
}

#[derive(Serialize)]
struct DotenvReport {
    key: String,
    action: KeyChange,
}

pub fn run(args: InitArgs, dir: &Path, printer: &Printer) -> Result<ExitStatus> {
    let interactive = !args.yes && printer.is_human() && prompt::is_interactive();
    let project = discover(&args, dir, interactive)?;

    printer.debug(&format!(
        "compose file {}, backend service {}, env file {}",
        project.compose.path().display(),
        project.service,
        project.env_path.display()
    ));
    let env_values = dotenv::values(&project.env_path, project.env_text.as_deref().unwrap_or(""))?;
    let mut answers = settings::gather(
        &args,
        |k| std::env::var(k).ok(),
        |k| env_values.get(k).cloned(),
    );
    if answers.xray && answers.aws_region.is_none() {
        answers.aws_region = aws::profile_region();
    }
    if let Some(key) = &answers.api_key {
        printer.register_secret(key);
        // A key that does not name its region keeps the region the project already uses.
        if answers.honeycomb_region.is_none() && honeycomb::classify(key.expose()).region.is_none()
        {
            answers.honeycomb_region = existing_honeycomb_region(&project);
        }
    }
    if interactive {
        wizard(&mut answers, &project.service, printer)?;
    }
    let settings = settings::finalize(answers, &project.service)?;
    if let Some(hc) = &settings.honeycomb {
        printer.register_secret(&hc.api_key);
    }
    // Secrets already in the env file stay out of any diff we show.
    printer.register_env_secrets(&env_values);

    let mut plan = plan(&project, &settings, args.force, args.sampling_rule)?;
    plan.warnings
        .splice(0..0, settings.warnings.iter().cloned());
    for warning in &plan.warnings {
        printer.warn(warning);
    }
    let changed = plan
        .files
        .iter()
        .any(|f| f.action() != FileAction::Unchanged);

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

fn existing_honeycomb_region(project: &Project) -> Option<HoneycombRegion> {
    let (_, vars) = project.compose.environment(&project.service).ok()?;
    vars.iter()
        .find(|(k, _)| k == "OTEL_EXPORTER_OTLP_ENDPOINT")
        .and_then(|(_, v)| honeycomb::region_of_endpoint(v.as_deref()?))
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

fn discover(args: &InitArgs, dir: &Path, interactive: bool) -> Result<Project> {
    let layout = project::Layout::discover(
        dir,
        args.project.compose_file.as_deref(),
        args.project.service.as_deref(),
        args.project.env_file.as_deref(),
        |names| match interactive {
            true => prompt::select("Which service is the backend?", names, 0).map(Some),
            false => Ok(None),
        },
    )?;
    let env_text = read_optional(&layout.env_path)?;
    Ok(Project {
        requirements: layout.requirements(),
        dir: layout.dir,
        compose: layout.compose,
        service: layout.service,
        env_path: layout.env_path,
        env_text,
    })
}

fn wizard(answers: &mut InitAnswers, service: &str, printer: &Printer) -> Result<()> {
    let choices = [
        "Honeycomb and AWS X-Ray",
        "Honeycomb only",
        "AWS X-Ray only",
    ]
    .map(String::from);
    let default = match (answers.honeycomb, answers.xray) {
        (true, false) => 1,
        (false, true) => 2,
        _ => 0,
    };
    let choice = prompt::select("Send traces to", &choices, default)?;
    answers.honeycomb = choice != 2;
    answers.xray = choice != 1;

    if answers.honeycomb {
        loop {
            let current = answers.api_key.as_ref().map(|k| k.expose().to_string());
            let label = match &answers.api_key {
                Some(k) => format!("Honeycomb API key (Enter keeps {k})"),
                None => "Honeycomb API key".to_string(),
            };
            if let Some(key) = prompt::password(&label, current.as_deref())? {
                let key = Secret::new(key);
                printer.register_secret(&key);
                answers.api_key = Some(key);
            }
            let kind = answers
                .api_key
                .as_ref()
                .map(|k| honeycomb::classify(k.expose()).kind);
            match kind {
                Some(KeyKind::Unknown) => {
                    printer.warn("that does not look like a Honeycomb API key; try again")
                }
                Some(KeyKind::Management) => {
                    printer.warn("management keys cannot send data; use an ingest key")
                }
                _ => break,
            }
        }
        let key = answers
            .api_key
            .as_ref()
            .map(|k| honeycomb::classify(k.expose()));
        if key.is_some_and(|k| k.kind.needs_dataset()) {
            answers.dataset = Some(prompt::input(
                "Dataset (classic keys need one)",
                answers.dataset.as_deref(),
            )?);
        }
        let region = answers
            .honeycomb_region
            .or(key.and_then(|k| k.region))
            .unwrap_or(HoneycombRegion::Us);
        let regions = ["US (api.honeycomb.io)", "EU (api.eu1.honeycomb.io)"].map(String::from);
        let picked = prompt::select(
            "Honeycomb region",
            &regions,
            usize::from(region == HoneycombRegion::Eu),
        )?;
        answers.honeycomb_region = Some(if picked == 1 {
            HoneycombRegion::Eu
        } else {
            HoneycombRegion::Us
        });
        let name = answers
            .service_name
            .clone()
            .unwrap_or_else(|| service.to_string());
        answers.service_name = Some(prompt::input("Service name", Some(&name))?);
    }
    if answers.xray {
        loop {
            let region = prompt::input("AWS region", answers.aws_region.as_deref())?;
            if aws::is_known_region(&region) {
                answers.aws_region = Some(region);
                break;
            }
            let (message, hint) = aws::unknown_region_message(&region);
            printer.warn(&format!("{message}: {hint}"));
            answers.aws_region = aws::suggest_region(&region).map(str::to_string);
        }
    }
    Ok(())
}

/// A compose value as it may be shown: literal parts of sensitive values are masked.
fn shown_value(key: &str, value: &str) -> String {
    if !is_sensitive_name(key) {
        return value.to_string();
    }
    value
        .split(',')
        .map(|part| match part.split_once('=') {
            Some((k, v)) if !v.starts_with("${") => format!("{k}={}", Secret::new(v).masked()),
            None if !part.starts_with("${") => Secret::new(part).masked(),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn has_literal_secret(key: &str, value: &str) -> bool {
    is_sensitive_name(key) && shown_value(key, value) != value
}

fn plan(
    project: &Project,
    settings: &InitSettings,
    force: bool,
    sampling_rule: bool,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let compose = &project.compose;
    let compose_path = compose.path().to_path_buf();
    let display = |p: &Path| project::display(&project.dir, p);

    // compose
    let before = compose.render();
    let vars = recipe::backend_env(settings);
    let outcomes = compose.set_env(&project.service, &vars, force)?;
    for (var, outcome) in vars.iter().zip(outcomes) {
        let outcome = match outcome {
            EnvOutcome::Kept { existing, proposed } => {
                if has_literal_secret(&var.key, &existing) {
                    plan.warnings.push(format!(
                        "{} in {} holds a literal secret; run with --force to reference ${{HONEYCOMB_API_KEY}} instead",
                        var.key,
                        display(&compose_path)
                    ));
                }
                EnvOutcome::Kept {
                    existing: shown_value(&var.key, &existing),
                    proposed,
                }
            }
            EnvOutcome::Replaced { previous } => EnvOutcome::Replaced {
                previous: shown_value(&var.key, &previous),
            },
            other => other,
        };
        plan.environment.push(EnvReport {
            key: var.key.clone(),
            outcome,
        });
    }
    let mut after = compose.render();
    if settings.xray.is_some() {
        let (style, _) = compose.environment(&project.service)?;
        let (text, outcome) =
            compose.with_daemon(&project.service, style.unwrap_or(EnvStyle::Map), force)?;
        let single_string = compose
            .daemon_single_string_command()
            .filter(|_| outcome == ServiceOutcome::Kept);
        if let Some(command) = single_string {
            plan.warnings.push(format!(
                "service {}'s command \"{command}\" is one string: the image passes it to the daemon as a \
                 single argument; write each flag as its own list item, or run with --force to replace the service",
                recipe::DAEMON_SERVICE
            ));
        }
        plan.daemon_service = Some(outcome);
        after = text;
    }
    // The edited file must still parse and hold the same services plus ours.
    let reparsed = Compose::parse(&compose_path, after.clone())?;
    if !reparsed.has_service(&project.service)
        || (settings.xray.is_some() && !reparsed.has_service(recipe::DAEMON_SERVICE))
    {
        return Err(Error::project(
            &compose_path,
            "internal: the edit lost the backend service",
            None,
        ));
    }
    plan.files.push(FileChange::new(
        compose_path.clone(),
        display(&compose_path),
        Some(before),
        after,
        mode_of(&compose_path),
    ));

    // env file
    let entries: Vec<(String, String)> = recipe::dotenv_entries(settings)
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect();
    let old_env = project.env_text.clone();
    let (new_env, changes) = dotenv::set_all(
        &project.env_path,
        old_env.as_deref().unwrap_or(""),
        &entries,
    )?;
    for ((key, _), action) in entries.iter().zip(changes) {
        plan.dotenv.push(DotenvReport {
            key: key.clone(),
            action,
        });
    }
    let mut env_change = FileChange::new(
        project.env_path.clone(),
        display(&project.env_path),
        old_env,
        new_env,
        mode_of(&project.env_path),
    );
    env_change.mode = Some(0o600);
    plan.files.push(env_change);

    // .gitignore beside the env file
    let env_dir = project.env_path.parent().unwrap_or(&project.dir);
    let gitignore_path = env_dir.join(".gitignore");
    let env_name = project
        .env_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old_ignore = read_optional(&gitignore_path)?;
    let new_ignore = gitignore::ensure_ignored(old_ignore.as_deref().unwrap_or(""), &env_name);
    plan.gitignore_added = old_ignore.as_deref() != Some(new_ignore.as_str());
    plan.files.push(FileChange::new(
        gitignore_path.clone(),
        display(&gitignore_path),
        old_ignore,
        new_ignore,
        mode_of(&gitignore_path),
    ));

    // requirements.txt
    match &project.requirements {
        Some(path) => {
            let old = read_optional(path)?;
            let wanted = recipe::packages(settings);
            plan.packages_added = requirements::missing(old.as_deref().unwrap_or(""), &wanted);
            let new = requirements::add(old.as_deref().unwrap_or(""), &wanted);
            plan.files.push(FileChange::new(
                path.clone(),
                display(path),
                old,
                new,
                mode_of(path),
            ));
        }
        None => plan.warnings.push(format!(
            "service {} has no build folder here: add {} to its Python requirements yourself",
            project.service,
            recipe::packages(settings).join(", ")
        )),
    }

    // the sampling rule
    if sampling_rule {
        let path = project.dir.join("aws/json/xray.json");
        let old = read_optional(&path)?;
        let rule = recipe::sampling_rule(&settings.service_name);
        let new = match &old {
            Some(existing) if *existing != rule && !force => {
                plan.warnings.push(format!(
                    "{} exists with other content and was kept; --force replaces it",
                    display(&path)
                ));
                existing.clone()
            }
            _ => rule,
        };
        let change = FileChange::new(path.clone(), display(&path), old, new, mode_of(&path));
        plan.sampling_rule = Some(change.action());
        plan.files.push(change);
    }
    Ok(plan)
}

fn verb(action: FileAction, dry_run: bool) -> &'static str {
    match (action, dry_run) {
        (FileAction::Created, false) => "Created",
        (FileAction::Modified | FileAction::Permissions, false) => "Updated",
        (FileAction::Created, true) => "Would create",
        (FileAction::Modified | FileAction::Permissions, true) => "Would update",
        (FileAction::Unchanged, _) => "Unchanged",
    }
}

/// One line per file and what changes in it.
fn summary(project: &Project, plan: &Plan) -> String {
    summary_with(project, plan, true)
}

fn summary_with(project: &Project, plan: &Plan, dry_run: bool) -> String {
    let mut out = String::new();
    for file in &plan.files {
        let action = file.action();
        if action == FileAction::Unchanged {
            continue;
        }
        let detail = if file.path == project.compose.path() {
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
        .map(|d| project::display(&project.dir, &d.join("app.py")))
        .unwrap_or_else(|| "app.py".to_string());
    let commands = vec![
        format!("add the instrumentation above to {app}"),
        "docker compose up --build".to_string(),
        "tracectl send-test    # send a test trace and prove it arrives".to_string(),
        "tracectl doctor       # check keys, credentials and this configuration".to_string(),
    ];
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
        let files: Vec<_> = plan
            .files
            .iter()
            .map(|f| {
                let mut v = json!({ "path": f.display, "action": f.action() });
                if dry_run && f.action() != FileAction::Unchanged {
                    v["diff"] = json!(f.diff());
                }
                v
            })
            .collect();
        printer.json(&json!({
            "version": 1,
            "command": "init",
            "dry_run": dry_run,
            "changed": changed,
            "project": {
                "compose_file": project::display(&project.dir, project.compose.path()),
                "service": project.service,
                "env_file": project::display(&project.dir, &project.env_path),
                "requirements": project.requirements.as_ref().map(|r| project::display(&project.dir, r)),
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
            project::display(&project.dir, project.compose.path()),
            project.service
        ));
    } else if dry_run {
        for file in plan
            .files
            .iter()
            .filter(|f| f.action() != FileAction::Unchanged)
        {
            printer.out(&file.diff());
        }
        printer.out(&format!("\n{}", summary(project, plan)));
        printer.out("Dry run: nothing was written.\n");
        return;
    } else {
        printer.out(&summary_with(project, plan, false));
    }
    let mut out = String::from("\nNext steps:\n\n  Add to your Flask app:\n\n");
    for line in snippet.lines() {
        out.push_str(&format!("    {line}\n").replace("    \n", "\n"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_secrets_are_masked_and_references_shown() {
        let key = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";
        let value = format!("x-honeycomb-team={key},x-honeycomb-dataset=${{HONEYCOMB_DATASET}}");
        let shown = shown_value("OTEL_EXPORTER_OTLP_HEADERS", &value);
        assert!(!shown.contains(key));
        assert!(shown.ends_with("x-honeycomb-dataset=${HONEYCOMB_DATASET}"));
        assert!(has_literal_secret("OTEL_EXPORTER_OTLP_HEADERS", &value));
        assert!(!has_literal_secret(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}"
        ));
        assert_eq!(shown_value("OTEL_SERVICE_NAME", "api"), "api");
    }
}
