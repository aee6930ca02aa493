//! What `init` writes, planned before anything is: a pure function from the project model, the
//! files' current text and the settings to every edit.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::project::Layout;
use crate::project::compose::{Compose, EnvOutcome, EnvStyle, ServiceOutcome};
use crate::project::dotenv::{self, KeyChange};
use crate::project::model::Model;
use crate::project::write::{FileAction, FileChange};
use crate::project::{self, gitignore, requirements};
use crate::recipe;
use crate::secret::{Secret, is_sensitive_name};
use crate::settings::InitSettings;

/// The other files `init` edits, as they are now (`None`: absent), with their modes.
#[derive(Debug, Default)]
pub struct Current {
    pub requirements: Option<String>,
    pub gitignore: Option<String>,
    pub sampling_rule: Option<String>,
    /// The app file's text (see [`crate::init::instrument::app_path`]).
    pub app: Option<String>,
    /// Why the app file could not be read (not UTF-8, say): an error only when it is to be edited.
    pub app_error: Option<Error>,
    /// Whether the app's folder imports requests.
    pub requests: bool,
    pub modes: std::collections::BTreeMap<PathBuf, u32>,
}

/// Where those files are.
pub fn gitignore_path(model: &Model) -> PathBuf {
    model
        .env_file
        .path
        .parent()
        .unwrap_or(&model.dir)
        .join(".gitignore")
}

pub fn sampling_rule_path(model: &Model) -> PathBuf {
    model.dir.join("aws/json/xray.json")
}

/// Every edit, computed before anything is written.
#[derive(Default, Serialize)]
pub struct Plan {
    #[serde(skip)]
    pub files: Vec<FileChange>,
    pub environment: Vec<EnvReport>,
    pub daemon_service: Option<ServiceOutcome>,
    pub collector_service: Option<ServiceOutcome>,
    /// `--migrate`: the daemon service the collector replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_daemon: Option<String>,
    /// Variables removed from the backend's environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Lines of the app to delete by hand (`--migrate` does not edit the app).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_lines: Vec<AppLine>,
    pub dotenv: Vec<DotenvReport>,
    pub packages_added: Vec<&'static str>,
    pub gitignore_added: bool,
    pub sampling_rule: Option<FileAction>,
    /// How the app is instrumented (init only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrumentation: Option<crate::init::instrument::InstrumentReport>,
    pub warnings: Vec<String>,
    /// `--migrate`: the app has no OpenTelemetry instrumentation, which the collector needs.
    pub app_needs_otel: bool,
    /// `--migrate`: `depends_on` and `links` entries that named the daemon and now name the
    /// collector.
    pub renamed: Vec<Renamed>,
}

/// A reference to the daemon that now names the collector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renamed {
    pub service: String,
    pub key: &'static str,
    pub line: usize,
}

impl Plan {
    /// Whether applying the plan would change any file (content or mode).
    pub fn changes_anything(&self) -> bool {
        self.files
            .iter()
            .any(|f| f.action() != FileAction::Unchanged)
    }
}

#[derive(Serialize)]
pub struct EnvReport {
    pub key: String,
    #[serde(flatten)]
    pub outcome: EnvOutcome,
}

/// One line of the app that belongs to the X-Ray SDK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppLine {
    pub file: String,
    pub line: usize,
    pub text: String,
}

/// The X-Ray SDK's lines in an app's source: its imports, the recorder and the middleware.
pub fn xray_sdk_lines(file: &str, source: &str) -> Vec<AppLine> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split('#').next().unwrap_or("");
            [
                "aws_xray_sdk",
                "xray_recorder",
                "XRayMiddleware",
                "patch_all(",
            ]
            .iter()
            .any(|n| code.contains(n))
        })
        .map(|(i, l)| AppLine {
            file: file.to_string(),
            line: i + 1,
            text: l.trim().to_string(),
        })
        .collect()
}

#[derive(Serialize)]
pub struct DotenvReport {
    pub key: String,
    pub action: KeyChange,
}

/// A compose value as it may be shown: literal parts of sensitive values are masked.
pub fn shown_value(key: &str, value: &str) -> String {
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

pub fn has_literal_secret(key: &str, value: &str) -> bool {
    is_sensitive_name(key) && shown_value(key, value) != value
}

/// Every edit `init` makes, computed from the model, the files' current text and the settings;
/// nothing is read or written here.
pub fn plan(
    model: &Model,
    layout: &Layout,
    current: &Current,
    settings: &InitSettings,
    force: bool,
    sampling_rule: bool,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let compose = &layout.compose;
    let compose_path = compose.path().to_path_buf();
    let display = |p: &Path| project::display(&layout.dir, p);
    let mode_of = |p: &Path| current.modes.get(p).copied();

    let instrumentation = crate::init::instrument::plan(
        model,
        layout,
        settings,
        current.app.as_deref(),
        current.app_error.as_ref(),
        current.requests,
    )?;
    plan.warnings
        .extend(instrumentation.warnings.iter().cloned());
    plan.instrumentation = instrumentation.report.clone();

    // compose
    let before = compose.render();
    let mut vars = recipe::backend_env(settings);
    vars.extend(instrumentation.env.iter().cloned());
    let outcomes = compose.set_env(&layout.service, &vars, force)?;
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
        // `environment:` wins over `env_file:` in Compose: say so rather than shadow it silently.
        if let Some(from_file) = model
            .backend_env_files
            .get(&var.key)
            .filter(|v| **v != var.value)
            .filter(|_| matches!(outcome, EnvOutcome::Added | EnvOutcome::Replaced { .. }))
        {
            plan.warnings.push(format!(
                "{} is also set by the service's env_file ({}); the value in `environment:` ({}) takes precedence",
                var.key,
                shown_value(&var.key, from_file),
                var.value
            ));
        }
        plan.environment.push(EnvReport {
            key: var.key.clone(),
            outcome,
        });
    }
    if let Some((key, edit)) = &instrumentation.compose_edit {
        compose.set_command(&layout.service, key, edit)?;
        // Read back through the tree as Compose will: exactly the words planned.
        let planned = plan
            .instrumentation
            .as_ref()
            .and_then(|i| i.command.as_ref())
            .map(|c| c.after.clone());
        let reread = compose
            .command(&layout.service, key)?
            .map(|c| match c.value {
                crate::project::compose::CommandValue::String(s) => {
                    crate::project::start::split_words(&s)
                        .0
                        .into_iter()
                        .map(|w| w.text)
                        .collect()
                }
                crate::project::compose::CommandValue::List(items) => items,
            });
        if reread != planned {
            return Err(Error::project(
                compose.path(),
                format!("internal: the wrapped `{key}:` reads back as {reread:?}, not {planned:?}"),
                "nothing was written; please report this with the compose file".to_string(),
            ));
        }
    }
    let mut after = compose.render();
    if recipe::via_collector(settings) {
        let (style, _) = compose.environment(&layout.service)?;
        let honeycomb = recipe::CollectorHoneycomb::from_settings(settings);
        let (text, outcome) = compose.with_collector(
            &layout.service,
            style.unwrap_or(EnvStyle::Map),
            honeycomb.as_ref(),
            force,
        )?;
        plan.collector_service = Some(outcome);
        after = text;
    } else if settings.xray.is_some() {
        let (style, _) = compose.environment(&layout.service)?;
        let (text, outcome) =
            compose.with_daemon(&layout.service, style.unwrap_or(EnvStyle::Map), force)?;
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
    let ours = if recipe::via_collector(settings) {
        recipe::COLLECTOR_SERVICE
    } else {
        recipe::DAEMON_SERVICE
    };
    let mut kept = vec![layout.service.as_str()];
    if settings.xray.is_some() {
        kept.push(ours);
    }
    plan.files
        .push(compose_change(layout, current, before, after, &kept)?);

    // env file
    let entries: Vec<(String, String)> = recipe::dotenv_entries(settings)
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect();
    let env_path = &model.env_file.path;
    let old_env = model.env_file.text.clone();
    let (new_env, changes) = dotenv::set_all(env_path, old_env.as_deref().unwrap_or(""), &entries)?;
    for ((key, _), action) in entries.iter().zip(changes) {
        plan.dotenv.push(DotenvReport {
            key: key.clone(),
            action,
        });
    }
    let mut env_change = FileChange::new(
        env_path.clone(),
        display(env_path),
        old_env,
        new_env,
        mode_of(env_path),
    );
    env_change.mode = Some(0o600);
    plan.files.push(env_change);

    // .gitignore beside the env file
    let gitignore_path = gitignore_path(model);
    let env_name = env_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old_ignore = current.gitignore.clone();
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
    match layout.requirements() {
        Some(path) => {
            let old = current.requirements.clone();
            let wanted = &instrumentation.packages;
            plan.packages_added = requirements::missing(old.as_deref().unwrap_or(""), wanted);
            let new = requirements::add(old.as_deref().unwrap_or(""), wanted);
            plan.files.push(FileChange::new(
                path.clone(),
                display(&path),
                old,
                new,
                mode_of(&path),
            ));
        }
        None => plan.warnings.push(format!(
            "service {} has no build folder here: add {} to its Python requirements yourself",
            layout.service,
            instrumentation.packages.join(", ")
        )),
    }

    // the Dockerfile's start command and the app
    for (path, old, new) in instrumentation.files {
        plan.files.push(FileChange::new(
            path.clone(),
            display(&path),
            Some(old),
            new,
            mode_of(&path),
        ));
    }

    // the sampling rule
    if sampling_rule {
        let path = sampling_rule_path(model);
        let old = current.sampling_rule.clone();
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

/// The daemon service a project runs: the recipe's name, else the host that the backend's
/// `AWS_XRAY_DAEMON_ADDRESS` names, when that is a service.
pub fn daemon_service(compose: &Compose, backend: &str) -> Result<Option<String>> {
    if compose.has_service(recipe::DAEMON_SERVICE) {
        return Ok(Some(recipe::DAEMON_SERVICE.to_string()));
    }
    let (_, env) = compose.environment(backend)?;
    // `host:port`, the SDK's `tcp:host:port udp:host:port`, or either behind `${VAR:-…}`.
    let by_address = env
        .iter()
        .find(|(k, _)| k == "AWS_XRAY_DAEMON_ADDRESS")
        .and_then(|(_, v)| v.as_deref())
        .map(|v| crate::project::model::interpolate(v, |_| None).unwrap_or_else(|| v.to_string()))
        .and_then(|v| {
            v.split_whitespace()
                .map(|part| {
                    part.strip_prefix("tcp:")
                        .or_else(|| part.strip_prefix("udp:"))
                        .unwrap_or(part)
                })
                .filter_map(|a| a.rsplit_once(':').map(|(host, _)| host.to_string()))
                .find(|host| host != backend && compose.has_service(host))
        });
    // Else the one service running the daemon's image.
    Ok(by_address.or_else(|| {
        let mut runs = compose.service_names().into_iter().filter(|s| {
            compose
                .image(s)
                .is_some_and(|i| i.contains("aws-xray-daemon"))
        });
        match (runs.next(), runs.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }))
}

/// The compose file's new text as a change, once it is proven to parse again and still hold
/// every service in `kept`: an edit that lost one is a bug, never something to write.
fn compose_change(
    layout: &Layout,
    current: &Current,
    before: String,
    after: String,
    kept: &[&str],
) -> Result<FileChange> {
    let path = layout.compose.path();
    let reparsed = Compose::parse(path, after.clone())?;
    if let Some(lost) = kept.iter().find(|s| !reparsed.has_service(s)) {
        return Err(Error::project(
            path,
            format!("internal: the edit lost service {lost}"),
            None,
        ));
    }
    Ok(FileChange::new(
        path.to_path_buf(),
        project::display(&layout.dir, path),
        Some(before),
        after,
        current.modes.get(path).copied(),
    ))
}

/// `init --migrate`: the daemon service replaced by the collector in its place, the backend's
/// one OTLP exporter pointed at it, Honeycomb's endpoint and headers moved into it, the X-Ray
/// SDK's variables removed, the OpenTelemetry packages added. Nothing else changes; a project
/// already migrated gets no edit.
pub fn plan_migrate(model: &Model, layout: &Layout, current: &Current) -> Result<Plan> {
    let mut plan = Plan::default();
    let compose = &layout.compose;
    let compose_path = compose.path().to_path_buf();
    let display = |p: &Path| project::display(&layout.dir, p);
    let mode_of = |p: &Path| current.modes.get(p).copied();
    let backend = layout.service.as_str();
    let before = compose.render();
    let daemon = daemon_service(compose, backend)?;
    if daemon.is_none() && !compose.has_service(recipe::COLLECTOR_SERVICE) {
        return Err(Error::usage(
            format!(
                "{} runs no X-Ray daemon: there is nothing to migrate",
                display(&compose_path)
            ),
            "run `tracectl init --xray-via collector` to set up the collector".to_string(),
        ));
    }
    if daemon.is_some() && compose.has_service(recipe::COLLECTOR_SERVICE) {
        let line = |name: &str| compose.service_line(name).unwrap_or(0);
        let name = daemon.as_deref().unwrap_or_default();
        return Err(Error::project(
            &compose_path,
            format!(
                "both an X-Ray daemon ({name}, line {}) and a service named {} (line {}) are there",
                line(name),
                recipe::COLLECTOR_SERVICE,
                line(recipe::COLLECTOR_SERVICE)
            ),
            format!(
                "remove one of them by hand, or rename service {} so tracectl can add its collector",
                recipe::COLLECTOR_SERVICE
            ),
        ));
    }
    // The daemon's name goes with it: a service still naming it would make Compose reject the
    // whole file. Startup order (`depends_on`) and links move to the collector; a service that
    // shares the daemon's volumes or network is the user's to change first.
    if let Some(name) = &daemon
        && let Some((service, key, line)) =
            compose.references_to(name).into_iter().find(|(_, key, _)| {
                matches!(
                    *key,
                    "volumes_from" | "network_mode" | "ipc" | "pid" | "extends"
                )
            })
    {
        return Err(Error::project(
            &compose_path,
            format!(
                "line {line}: service {service} names the X-Ray daemon {name} in `{key}`, and \
                 --migrate replaces {name} by {}",
                recipe::COLLECTOR_SERVICE
            ),
            format!(
                "remove {name} from that `{key}` (and any other service's) and run `tracectl init --migrate` again: \
                 {} shares neither volumes nor a network, IPC or process namespace, and is nothing to extend",
                recipe::COLLECTOR_SERVICE
            ),
        ));
    }
    let (style, env) = compose.environment(backend)?;
    let value = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.clone())
    };
    let headers = value("OTEL_EXPORTER_OTLP_HEADERS");
    // The collector tracectl writes sends traces to one destination: a backend that also exports
    // to Honeycomb keeps the daemon rather than lose one of the two.
    if headers
        .as_ref()
        .is_some_and(|h| h.contains("x-honeycomb-team"))
    {
        return Err(Error::project(
            &compose_path,
            format!(
                "service {backend} also sends traces to Honeycomb (OTEL_EXPORTER_OTLP_HEADERS, line {}), \
                 and the collector tracectl writes sends traces to one destination",
                compose
                    .line_in_service(backend, "OTEL_EXPORTER_OTLP_HEADERS")
                    .unwrap_or(0)
            ),
            "keep the daemon for now (AWS support ends 2027-02-25), or drop the backend's Honeycomb \
             exporter (its OTEL_EXPORTER_OTLP_* variables) and run `tracectl init --migrate` again"
                .to_string(),
        ));
    }
    // A backend on the host's network cannot resolve a service name, the collector's included.
    if daemon.is_some()
        && compose
            .scalar(backend, "network_mode")
            .is_some_and(|m| m.trim() == "host")
    {
        return Err(Error::project(
            &compose_path,
            format!(
                "line {}: service {backend} runs on the host's network (`network_mode: host`), where the name {} does not resolve",
                compose
                    .line_in_service(backend, "network_mode")
                    .unwrap_or(0),
                recipe::COLLECTOR_SERVICE
            ),
            format!(
                "move {backend} to the compose network (drop `network_mode: host`), or run the collector yourself and point OTEL_EXPORTER_OTLP_ENDPOINT at a published port"
            ),
        ));
    }
    // The daemon may have taken its region from its command line (`-n REGION`); the collector
    // reads AWS_REGION, so say where to put it when nothing sets it.
    if let Some(name) = &daemon
        && !model.defined("AWS_REGION")
        && let Ok(Some(command)) = compose.command(name, "command")
    {
        let words: Vec<String> = match command.value {
            crate::project::compose::CommandValue::List(items) => items,
            crate::project::compose::CommandValue::String(s) => {
                s.split_whitespace().map(str::to_string).collect()
            }
        };
        if let Some(region) = words
            .windows(2)
            .find(|w| w[0] == "-n" || w[0] == "--region")
            .map(|w| w[1].clone())
            .filter(|r| !r.contains('$'))
        {
            plan.warnings.push(format!(
                "{}:{}: {name} took its region ({region}) from its command, and the collector reads AWS_REGION, which nothing sets: add AWS_REGION={region} to {}",
                display(&compose_path),
                command.line,
                model.env_file.display
            ));
        }
    }
    // Other services whose X-Ray SDK sends to the daemon lose it: say which, with their lines.
    if let Some(name) = &daemon {
        for other in compose.service_names() {
            if other == backend || other == *name {
                continue;
            }
            let Ok((_, env)) = compose.environment(&other) else {
                continue;
            };
            let names_daemon = env.iter().any(|(k, v)| {
                k == "AWS_XRAY_DAEMON_ADDRESS"
                    && v.as_deref().is_some_and(|v| {
                        v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                            .any(|w| w == name)
                    })
            });
            if names_daemon {
                plan.warnings.push(format!(
                    "{}:{}: service {other}'s AWS_XRAY_DAEMON_ADDRESS still names {name}, which --migrate replaces: its X-Ray SDK will send to nothing; move {other} to OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT={}) as well",
                    display(&compose_path),
                    compose
                        .line_in_service(&other, "AWS_XRAY_DAEMON_ADDRESS")
                        .unwrap_or(0),
                    recipe::COLLECTOR_ENDPOINT
                ));
            }
        }
    }
    // Services in other files may name the daemon too, and tracectl does not edit them: a file
    // that names it (or cannot be read) stops the migration before anything is written.
    if let Some(name) = &daemon {
        for (file, line) in compose.other_files() {
            let path = layout.dir.join(&file);
            let names_it = std::fs::read_to_string(&path).map(|text| {
                text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .any(|w| w == name)
            });
            let why = match names_it {
                Ok(false) => continue,
                Ok(true) => format!("{file} (line {line}) names the X-Ray daemon {name}"),
                Err(e) => format!("{file} (line {line}) cannot be read ({e})"),
            };
            return Err(Error::project(
                &compose_path,
                format!("{why}, and --migrate edits only {}", display(&compose_path)),
                format!(
                    "replace {name} by {} in {file} by hand, or migrate that file's services too, then run `tracectl init --migrate` again",
                    recipe::COLLECTOR_SERVICE
                ),
            ));
        }
    }
    // Before any other edit, so that the lines reported are the lines the user sees.
    if let Some(name) = &daemon {
        plan.renamed = compose
            .rename_references(name, recipe::COLLECTOR_SERVICE)
            .into_iter()
            .map(|(service, key, line)| Renamed { service, key, line })
            .collect();
    }
    // A reference the rename could not reach (a tagged or escaped scalar) would leave Compose a
    // service that names one that is gone.
    if let Some(name) = &daemon
        && let Some((service, key, line)) = compose.references_to(name).into_iter().next()
    {
        return Err(Error::project(
            &compose_path,
            format!(
                "line {line}: service {service} names the X-Ray daemon {name} in `{key}` in a form tracectl does not rewrite"
            ),
            format!(
                "write it as a plain `{name}` (or replace it by {} yourself), then run `tracectl init --migrate` again",
                recipe::COLLECTOR_SERVICE
            ),
        ));
    }
    let mut vars = vec![recipe::EnvVar {
        key: "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
        value: recipe::COLLECTOR_ENDPOINT.to_string(),
    }];
    let service_name = if env.iter().any(|(k, _)| k == "HONEYCOMB_SERVICE_NAME")
        || model.dotenv("HONEYCOMB_SERVICE_NAME").is_some()
    {
        "${HONEYCOMB_SERVICE_NAME}".to_string()
    } else {
        backend.to_string()
    };
    vars.push(recipe::EnvVar {
        key: "OTEL_SERVICE_NAME".to_string(),
        value: service_name,
    });
    // The endpoint is rewired whatever it was; an existing service name is the user's.
    let first = compose.set_env(backend, &vars[..1], true)?;
    let second = compose.set_env(backend, &vars[1..], false)?;
    for (var, outcome) in vars.iter().zip(first.into_iter().chain(second)) {
        let outcome = match outcome {
            EnvOutcome::Replaced { previous } => EnvOutcome::Replaced {
                previous: shown_value(&var.key, &previous),
            },
            EnvOutcome::Kept { existing, proposed } => EnvOutcome::Kept {
                existing: shown_value(&var.key, &existing),
                proposed,
            },
            other => other,
        };
        plan.environment.push(EnvReport {
            key: var.key.clone(),
            outcome,
        });
    }
    plan.removed = compose.remove_env(backend, recipe::XRAY_SDK_VARS)?;
    let after = match &daemon {
        Some(name) => {
            plan.collector_service = Some(ServiceOutcome::Replaced);
            plan.replaced_daemon = Some(name.clone());
            compose.replace_with_collector(name, style.unwrap_or(EnvStyle::Map), None)?
        }
        None => {
            plan.collector_service = Some(ServiceOutcome::Kept);
            compose.render()
        }
    };
    plan.files.push(compose_change(
        layout,
        current,
        before,
        after,
        &[backend, recipe::COLLECTOR_SERVICE],
    )?);
    if let Some(path) = layout.requirements() {
        let old = current.requirements.clone();
        let text = old.as_deref().unwrap_or("");
        plan.packages_added = requirements::missing(text, recipe::OTEL_PACKAGES);
        let new = requirements::add(text, recipe::OTEL_PACKAGES);
        if requirements::missing(text, recipe::XRAY_PACKAGES).is_empty() {
            plan.warnings.push(format!(
                "{}: aws-xray-sdk is no longer needed once the app stops importing it; remove it then",
                display(&path)
            ));
        }
        plan.files.push(FileChange::new(
            path.clone(),
            display(&path),
            old,
            new,
            mode_of(&path),
        ));
    }
    Ok(plan)
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

    #[test]
    fn xray_sdk_lines_are_found_with_their_numbers_and_comments_ignored() {
        let app = "import os\nfrom aws_xray_sdk.core import xray_recorder\n# XRayMiddleware was here\n\
                   app = Flask(__name__)\nXRayMiddleware(app, xray_recorder)\n";
        let lines = xray_sdk_lines("api/app.py", app);
        let found: Vec<(usize, &str)> = lines.iter().map(|l| (l.line, l.text.as_str())).collect();
        assert_eq!(
            found,
            [
                (2, "from aws_xray_sdk.core import xray_recorder"),
                (5, "XRayMiddleware(app, xray_recorder)")
            ]
        );
    }
}
