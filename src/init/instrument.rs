//! How `init` instruments the app, planned: zero-code (the start command wrapped with
//! `opentelemetry-instrument` where it is written, the agent's variables, its packages) or code
//! (app.py edited through its syntax tree); a start command that cannot be wrapped falls back
//! to code, saying why.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::Instrument;
use crate::error::{Error, Result};
use crate::project::app::{self, AppEdit, AppReport};
use crate::project::compose::CommandEdit;
use crate::project::model::Model;
use crate::project::start::{self, Form, Origin, Server, StartCommand};
use crate::project::{self, Layout};
use crate::recipe::{self, EnvVar};
use crate::settings::InitSettings;

/// What the instrumentation adds to the plan.
#[derive(Debug, Default)]
pub struct Instrumentation {
    /// Variables for the backend's environment, after the recipe's.
    pub env: Vec<EnvVar>,
    pub packages: Vec<&'static str>,
    /// The compose command to write: (`command`/`entrypoint`, the edit).
    pub compose_edit: Option<(&'static str, CommandEdit)>,
    /// The Dockerfile's or the app's new text: (path, old text, new text).
    pub files: Vec<(PathBuf, String, String)>,
    pub report: Option<InstrumentReport>,
    pub warnings: Vec<String>,
}

/// What the report says about the instrumentation.
#[derive(Debug, Clone, Serialize)]
pub struct InstrumentReport {
    /// What was asked for.
    pub requested: Instrument,
    /// What is done (code when zero-code cannot wrap the start command).
    pub mode: Instrument,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<Server>,
    /// Where the wrapped start command is written, and why there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<AppFile>,
    /// Why things are as they are, in words.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    pub file: String,
    pub line: usize,
    /// `CMD`, `ENTRYPOINT`, `command` or `entrypoint`.
    pub key: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// Already wrapped: nothing to change.
    pub unchanged: bool,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppFile {
    pub file: String,
    #[serde(flatten)]
    pub report: AppReport,
}

/// The app's source file in the build folder, as the start command names it (gunicorn's
/// `module:app`, `python FILE`, `flask --app NAME` or FLASK_APP), else app.py (Flask's default
/// after wsgi.py).
pub fn app_path(model: &Model, layout: &Layout) -> Option<PathBuf> {
    let context = layout.context.as_ref()?;
    // A module's file: NAME.py, else the package NAME/__init__.py.
    let from_module = |name: &str| {
        let module = name.split(':').next().unwrap_or(name).trim();
        let module = module.strip_suffix(".py").unwrap_or(module);
        let module = module.trim_start_matches("./");
        (!module.is_empty()).then(|| {
            let file = PathBuf::from(format!("{}.py", module.replace('.', "/")));
            let package = PathBuf::from(module.replace('.', "/")).join("__init__.py");
            if !context.join(&file).is_file() && context.join(&package).is_file() {
                package
            } else {
                file
            }
        })
    };
    let start = model.start.as_ref().ok().and_then(|s| s.as_ref());
    // `python FILE`: relative to the image's WORKDIR, which `COPY . .` fills with the build
    // folder; an absolute path under that WORKDIR maps to the same place.
    let script = |file: &str| {
        let path = Path::new(file);
        if path.is_relative() {
            return path.to_path_buf();
        }
        let workdir = start
            .and_then(|s| s.dockerfile.as_ref())
            .and_then(|(_, text)| start::workdir(text));
        workdir
            .and_then(|w| path.strip_prefix(&w).ok().map(Path::to_path_buf))
            .or_else(|| path.file_name().map(PathBuf::from))
            .unwrap_or_else(|| path.to_path_buf())
    };
    let named = match start {
        Some(start) => match start.inner_server() {
            Server::Gunicorn { app: Some(a), .. } => from_module(&a),
            Server::Script { file } => Some(script(&file)),
            Server::FlaskRun { app: Some(a), .. } => from_module(&a),
            _ => None,
        },
        None => None,
    }
    .or_else(|| model.backend("FLASK_APP").and_then(|a| from_module(&a)));
    match named {
        Some(relative) => Some(context.join(relative)),
        None if !context.join("app.py").is_file() && context.join("wsgi.py").is_file() => {
            Some(context.join("wsgi.py"))
        }
        None => Some(context.join("app.py")),
    }
}

/// Whether any Python file of the build folder (a few levels down) imports `module`. Files that
/// do not parse are skipped: they cannot import anything.
pub fn folder_imports(context: &Path, module: &str) -> bool {
    fn walk(dir: &Path, depth: usize, module: &str) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        entries.into_iter().any(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                depth < 3
                    && !name.starts_with('.')
                    && !matches!(
                        name,
                        "venv" | "node_modules" | "__pycache__" | "site-packages"
                    )
                    && walk(&path, depth + 1, module)
            } else {
                name.ends_with(".py")
                    && std::fs::metadata(&path).is_ok_and(|m| m.len() < 1 << 20)
                    && std::fs::read_to_string(&path).is_ok_and(|text| {
                        app::Module::parse(&path, &text).is_ok_and(|m| m.imports(module))
                    })
            }
        })
    }
    walk(context, 0, module)
}

/// Plan the instrumentation. `app_text`: the app file's text (`None`: absent, or unreadable
/// for `app_error`); `requests`: the app imports requests.
pub fn plan(
    model: &Model,
    layout: &Layout,
    settings: &InitSettings,
    app_text: Option<&str>,
    app_error: Option<&Error>,
    requests: bool,
) -> Result<Instrumentation> {
    let requested = settings.instrument;
    let otel = recipe::uses_otel(settings);
    let xray_sdk = recipe::uses_xray_sdk(settings);
    let display = |p: &Path| project::display(&layout.dir, p);
    let app = app_path(model, layout);
    let mut out = Instrumentation::default();
    let mut report = InstrumentReport {
        requested,
        mode: requested,
        server: None,
        command: None,
        app: None,
        notes: Vec::new(),
    };
    // A build that installs its packages inline never reads requirements.txt: what init adds
    // there would not reach the image (a wrapped command would not even start).
    if otel || xray_sdk {
        let start = model.start.as_ref().ok().and_then(|s| s.as_ref());
        if let Some((path, text)) = start.and_then(|s| s.dockerfile.as_ref()) {
            let wanted = planned_packages(settings, requests);
            // Installed there already (the hint followed): nothing is missing from the image.
            if let Some((line, args)) = start::inline_install_lacking(text, &wanted) {
                let at = format!("{}:{line}", display(path));
                let message = format!(
                    "{at} installs the packages itself (`RUN {args}`) and the build never reads \
                     requirements.txt: the OpenTelemetry packages tracectl adds there would not \
                     reach the image"
                );
                let hint = format!(
                    "add the packages to that RUN line ({}), or install requirements.txt in the \
                     Dockerfile (`COPY requirements.txt .` and `RUN pip install -r \
                     requirements.txt`), then run init again",
                    wanted.join(" ")
                );
                if requested != Instrument::None {
                    return Err(Error::usage(message, hint));
                }
                out.warnings.push(format!("{message}; {hint}"));
            }
        }
    }
    if requested == Instrument::None {
        // The lines printed to paste import RequestsInstrumentor (recipe::snippet).
        out.packages = code_packages(settings, true);
        if xray_sdk {
            out.packages.extend(recipe::XRAY_PACKAGES);
        }
        out.report = Some(report);
        return Ok(out);
    }
    let mut mode = requested;
    let start = match &model.start {
        Ok(s) => s.clone(),
        Err(e) => return Err(Error::usage(e.to_string(), e.hint())),
    };
    if let Some(start) = &start {
        report.server = Some(start.server());
    }
    // An app that already sets up OpenTelemetry in code keeps doing so: the agent as well would
    // set up a second provider and instrument Flask twice.
    let sets_up_otel = app_text
        .zip(app.as_ref())
        .and_then(|(t, p)| app::Module::parse(p, t).ok())
        .is_some_and(|m| {
            m.calls("trace.set_tracer_provider") || m.calls("FlaskInstrumentor().instrument_app")
        });
    let wrapped_already = start
        .as_ref()
        .is_some_and(|s| s.server() == Server::Instrumented);
    if mode == Instrument::ZeroCode && otel && sets_up_otel && !wrapped_already {
        let file = app.as_deref().map(&display).unwrap_or_default();
        report.notes.push(format!(
            "{file} sets up OpenTelemetry itself: it stays in code, and the start command is not \
             wrapped (the agent as well would instrument every request twice)"
        ));
        mode = Instrument::Code;
    }
    if mode == Instrument::Code && otel && wrapped_already {
        out.warnings.push(format!(
            "the start command already runs {}: with the instrumentation in the app as well, \
             every request is traced twice; take {} out of the command, or use --instrument zero-code",
            recipe::WRAPPER,
            recipe::WRAPPER
        ));
    }
    if mode == Instrument::ZeroCode && otel {
        let compose_file = display(layout.compose.path());
        match wrap(start.as_ref(), &layout.service, &compose_file, &display) {
            Ok(wrapped) => {
                let Wrapped {
                    command,
                    compose_edit,
                    dockerfile,
                    notes,
                    warnings,
                } = wrapped;
                report.command = Some(command);
                out.compose_edit = compose_edit;
                out.files.extend(dockerfile);
                report.notes.extend(notes);
                out.warnings.extend(warnings);
                out.env = recipe::zero_code_env();
                out.packages.extend(recipe::ZERO_CODE_PACKAGES);
                if requests {
                    out.packages.push(recipe::REQUESTS_INSTRUMENTATION);
                }
            }
            Err(why) => {
                out.warnings
                    .push(format!("{why}; instrumenting the app in code instead"));
                report.notes.push(why);
                mode = Instrument::Code;
            }
        }
    }
    if mode == Instrument::Code && otel {
        out.packages.extend(code_packages(settings, requests));
    }
    if otel {
        let health = app_text
            .zip(app.as_ref())
            .and_then(|(t, p)| app::Module::parse(p, t).ok())
            .map(|m| m.health_routes())
            .unwrap_or_default();
        if let Some(var) = recipe::excluded_urls_env(&health) {
            report.notes.push(format!(
                "health checks left out of the traces (OTEL_PYTHON_FLASK_EXCLUDED_URLS): {}",
                health.join(", ")
            ));
            out.env.push(var);
        }
    }
    if xray_sdk {
        out.packages.extend(recipe::XRAY_PACKAGES);
    }
    if let Some(start) = &start
        && let Server::Uwsgi = start.server()
        && mode == Instrument::Code
    {
        let argv = start.argv();
        let has = |flags: &[&str]| {
            argv.iter()
                .any(|w| flags.iter().any(|f| w.trim_start_matches('-') == *f))
        };
        let mut missing = Vec::new();
        if !has(&["lazy-apps", "lazy"]) {
            missing.push(
                "--lazy-apps (so that each worker imports the app and sets up its own exporter)",
            );
        }
        if !has(&["enable-threads", "threads"]) {
            missing.push("--enable-threads (uwsgi runs no Python threads otherwise, and the batch exporter is one)");
        }
        if !missing.is_empty() {
            out.warnings.push(format!(
                "run uwsgi with {} (or in its .ini)",
                missing.join(" and ")
            ));
        }
    }
    // The app file: all of it in code mode; in zero-code mode, only what the agent cannot do
    // (the X-Ray SDK's middleware, the reloader of `python app.py`).
    let script = matches!(
        start.as_ref().map(StartCommand::server),
        Some(Server::Script { .. })
    );
    let edit = AppEdit {
        otel: otel && mode == Instrument::Code,
        requests: requests && mode == Instrument::Code,
        xray_service: xray_sdk.then(|| settings.service_name.clone()),
        no_reloader: mode == Instrument::Code || script,
    };
    let needs_app = edit.otel || edit.xray_service.is_some();
    if needs_app || edit.no_reloader {
        match (&app, app_text) {
            // Unreadable (another encoding): an error when the user asked for the edit.
            (Some(_), None) if let Some(e) = app_error => {
                if requested != Instrument::ZeroCode {
                    return Err(Error::usage(e.to_string(), e.hint()));
                }
                out.warnings
                    .push(format!("{e}; add the instrumentation to the app yourself"));
                if mode == Instrument::Code {
                    report.mode = Instrument::None;
                }
            }
            (Some(path), Some(text)) => {
                let shown = PathBuf::from(display(path));
                let (new, app_report) = match app::instrument(&shown, text, &edit) {
                    Ok(done) => done,
                    // Code mode was tracectl's fallback, not the user's choice: say why and
                    // leave the app to them rather than fail the whole run.
                    Err(e) if requested == Instrument::ZeroCode => {
                        out.warnings.push(format!(
                            "{e}; add the instrumentation yourself (`tracectl init --instrument none` prints it)"
                        ));
                        // The wrapped command (if any) stays; only a code fallback is undone.
                        report.mode = match mode {
                            Instrument::Code => Instrument::None,
                            other => other,
                        };
                        out.report = Some(report);
                        return Ok(out);
                    }
                    Err(e) => return Err(e),
                };
                if mode == Instrument::ZeroCode && edit.xray_service.is_some() {
                    report.notes.push(
                        "the X-Ray SDK has no zero-code agent: its recorder and middleware go into the app"
                            .to_string(),
                    );
                }
                out.warnings.extend(app_report.warnings.iter().cloned());
                report.app = Some(AppFile {
                    file: display(path),
                    report: app_report,
                });
                out.files.push((path.clone(), text.to_string(), new));
            }
            (Some(path), None) if needs_app && requested == Instrument::ZeroCode => {
                out.warnings.push(format!(
                    "{} does not exist: add the instrumentation to the app yourself",
                    display(path)
                ));
                report.mode = Instrument::None;
            }
            (Some(path), None) if needs_app => {
                return Err(Error::project(
                    &PathBuf::from(display(path)),
                    "does not exist: there is no app file to instrument",
                    "pass --service for the backend whose folder holds the app, or choose \
                     --instrument none and add the lines yourself"
                        .to_string(),
                ));
            }
            (None, _) if needs_app => out.warnings.push(format!(
                "service {} has no build folder here: add the instrumentation to its app yourself",
                layout.service
            )),
            _ => {}
        }
    }
    if report.mode != Instrument::None {
        report.mode = mode;
    }
    out.report = Some(report);
    Ok(out)
}

/// The packages the chosen instrumentation needs, for a hint.
fn planned_packages(settings: &InitSettings, requests: bool) -> Vec<&'static str> {
    let mut packages = match settings.instrument {
        Instrument::ZeroCode => {
            let mut p = recipe::ZERO_CODE_PACKAGES.to_vec();
            if requests {
                p.push(recipe::REQUESTS_INSTRUMENTATION);
            }
            p
        }
        _ => code_packages(settings, requests),
    };
    if recipe::uses_xray_sdk(settings) {
        packages.extend(recipe::XRAY_PACKAGES);
    }
    packages
}

fn code_packages(settings: &InitSettings, requests: bool) -> Vec<&'static str> {
    let mut packages = Vec::new();
    if recipe::uses_otel(settings) {
        packages.extend(recipe::CODE_PACKAGES);
        if requests {
            packages.push(recipe::REQUESTS_INSTRUMENTATION);
        }
    }
    packages
}

/// The folders of python images' default PATH.
const ON_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

struct Wrapped {
    command: CommandReport,
    compose_edit: Option<(&'static str, CommandEdit)>,
    dockerfile: Option<(PathBuf, String, String)>,
    notes: Vec<String>,
    warnings: Vec<String>,
}

/// The start command wrapped where it is written, or why it cannot be.
fn wrap(
    start: Option<&StartCommand>,
    service: &str,
    compose_file: &str,
    display: &dyn Fn(&Path) -> String,
) -> std::result::Result<Wrapped, String> {
    let Some(start) = start else {
        return Err(format!(
            "no start command found for {service}: the compose file sets no `command:` and its \
             build has no Dockerfile CMD or ENTRYPOINT to wrap with {}",
            recipe::WRAPPER
        ));
    };
    let Some(part) = start.program_part() else {
        return Err(format!("the start command of {service} is empty"));
    };
    let (file, line, key, why) = match &part.origin {
        Origin::Compose {
            key,
            line,
            inherited,
        } => (
            compose_file.to_string(),
            *line,
            key.to_string(),
            match inherited {
                Some(anchor) => format!(
                    "the compose file's `{key}:` (inherited from `*{anchor}`) overrides the image's; \
                     {service} gets its own `{key}:` so the shared block stays as it is"
                ),
                None => {
                    format!("the compose file's `{key}:` overrides the image's, so it is what runs")
                }
            },
        ),
        Origin::Dockerfile {
            path,
            instruction,
            line,
            ..
        } => (
            display(path),
            *line,
            instruction.to_string(),
            format!(
                "the compose file sets no command for {service}, so the image's {instruction} runs; \
                 rebuild the image (docker compose up --build)"
            ),
        ),
    };
    let at = format!("{file}:{line}");
    let server = start.server();
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let before: Vec<String> = part.words.iter().map(|w| w.text.clone()).collect();
    let report = |after: Vec<String>, unchanged: bool| CommandReport {
        file: file.clone(),
        line,
        key: key.clone(),
        before: before.clone(),
        after,
        unchanged,
        why: why.clone(),
    };
    match &server {
        Server::Instrumented => {
            return Ok(Wrapped {
                command: report(before.clone(), true),
                compose_edit: None,
                dockerfile: None,
                notes: vec![format!("{at}: already wrapped with {}", recipe::WRAPPER)],
                warnings,
            });
        }
        Server::Uwsgi => {
            return Err(format!(
                "{at}: uwsgi cannot be wrapped with {}: it embeds its own Python and forks its \
                 workers from a master that loaded the app, so the agent's setup and export thread \
                 do not carry over (OpenTelemetry sets uwsgi up in code, per worker)",
                recipe::WRAPPER
            ));
        }
        _ => {}
    }
    if part.multiline && part.form == Form::Words {
        return Err(format!(
            "{at}: the compose `{key}:` string is written over several lines; tracectl keeps it as \
             written (make it a list, one word per item, to have it wrapped)"
        ));
    }
    if part.shell_syntax {
        return Err(format!(
            "{at}: the start command is a shell line with operators (`&&`, `;`, pipes, `$(...)`): \
             tracectl wraps a command whose first word is the program"
        ));
    }
    let words: Vec<&str> = part.words.iter().map(|w| w.text.as_str()).collect();
    let program = match part.form {
        Form::Shell => start::program_index(&words),
        _ => 0,
    };
    if program >= words.len() {
        return Err(format!("{at}: the start command names no program"));
    }
    // `run`'s index counts from the program part's first word: the entrypoint when it has
    // words, else the command (then the entrypoint has none).
    let mut no_reload_after = None;
    match &server {
        Server::FlaskRun { run, reload, .. } => match reload {
            None => match Some(*run).filter(|r| *r < words.len()) {
                Some(r) => {
                    no_reload_after = Some(r);
                    notes.push(
                        "flask run gets --no-reload: the reloader starts the app a second time in a \
                         child process (OpenTelemetry asks for it off; older agents lost the \
                         instrumentation there)"
                            .to_string(),
                    );
                }
                None => warnings.push(format!(
                    "{at}: add --no-reload to `flask run` yourself (it is in another part of the command)"
                )),
            },
            Some(true) => warnings.push(format!(
                "{at}: `flask run --reload` kept: the reloader runs the app again in a child process; \
                 drop --reload if spans go missing"
            )),
            Some(false) => {}
        },
        Server::Gunicorn { preload, .. } => {
            notes.push(
                "gunicorn forks its workers after the agent starts; the batch span processor \
                 restarts its thread in each worker"
                    .to_string(),
            );
            if *preload {
                warnings.push(format!(
                    "{at}: gunicorn --preload imports the app in the master before forking the \
                     workers; traces arrive this way with the OpenTelemetry releases tracectl is \
                     tested with, but if spans go missing, drop --preload"
                ));
            }
        }
        Server::Script { .. } => notes.push(
            "python runs the app file: app.run(debug=...) gets use_reloader=False (the reloader \
             starts the app a second time in a child process; older agents lost the \
             instrumentation there)"
                .to_string(),
        ),
        Server::Other { program } => notes.push(format!(
            "{program} is not a server tracectl knows; {} reaches any Python it starts (through \
             PYTHONPATH)",
            recipe::WRAPPER
        )),
        _ => {}
    }
    // pip installs the agent next to the program: a program named by path (a virtualenv that
    // is not on PATH) is wrapped by the agent of the same folder.
    // Only for Python's own programs (a script like ./start.sh has no agent beside it), and not
    // from the folders on the image's PATH (Debian's /usr/bin/python3 has pip install to
    // /usr/local/bin), where the bare name is found anyway.
    let wrapper = match words[program].rsplit_once('/') {
        Some((dir, name))
            if (start::is_python(name) || matches!(name, "gunicorn" | "flask"))
                && !ON_PATH.contains(&dir.trim_end_matches('/')) =>
        {
            format!("{dir}/{}", recipe::WRAPPER)
        }
        _ => recipe::WRAPPER.to_string(),
    };
    // The same, written in the shell's (or Compose's) words.
    let wrapper_word = if wrapper
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@%:,=${}~".contains(c))
    {
        wrapper.clone()
    } else if !wrapper.contains('\'') {
        format!("'{wrapper}'")
    } else {
        return Err(format!(
            "{at}: the program's folder has a quote in its name; wrap the command with {} yourself",
            recipe::WRAPPER
        ));
    };
    let mut after: Vec<String> = before.clone();
    if let Some(r) = no_reload_after {
        after.insert(r + 1, "--no-reload".to_string());
    }
    after.insert(program, wrapper.clone());
    let mut compose_edit = None;
    let mut dockerfile = None;
    match &part.origin {
        Origin::Compose { key, .. } => {
            let edit = match part.form {
                Form::Exec => {
                    let mut inserts = vec![(program, wrapper.clone())];
                    if let Some(r) = no_reload_after {
                        inserts.push((r + 1, "--no-reload".to_string()));
                    }
                    CommandEdit::List {
                        inserts,
                        all: after.clone(),
                    }
                }
                _ => {
                    let mut text = part.text.clone();
                    let mut inserts =
                        vec![(part.words[program].span.start, format!("{wrapper_word} "))];
                    if let Some(r) = no_reload_after {
                        inserts.push((part.words[r].span.end, " --no-reload".to_string()));
                    }
                    inserts.sort_by_key(|b| std::cmp::Reverse(b.0));
                    for (at, t) in inserts {
                        text.insert_str(at, &t);
                    }
                    CommandEdit::String(text)
                }
            };
            compose_edit = Some((*key, edit));
        }
        Origin::Dockerfile { path, map, .. } => {
            let Some((_, old)) = &start.dockerfile else {
                return Err("internal: the Dockerfile's text is missing".to_string());
            };
            let file_at = |logical: usize| map.get(logical).copied();
            let end_of = |w: &start::Word| map.get(w.span.end - 1).map(|b| b + 1);
            let mut inserts: Vec<(usize, String)> = Vec::new();
            match part.form {
                Form::Exec => {
                    let sep = match part.words.get(1) {
                        Some(second) => {
                            part.text[part.words[0].span.end..second.span.start].to_string()
                        }
                        None => ", ".to_string(),
                    };
                    let at = file_at(part.words[0].span.start).ok_or("internal: no position")?;
                    let json = serde_json::to_string(&wrapper).map_err(|e| e.to_string())?;
                    inserts.push((at, format!("{json}{sep}")));
                    if let Some(r) = no_reload_after {
                        let at = end_of(&part.words[r]).ok_or("internal: no position")?;
                        inserts.push((at, format!("{sep}\"--no-reload\"")));
                    }
                }
                _ => {
                    let at =
                        file_at(part.words[program].span.start).ok_or("internal: no position")?;
                    inserts.push((at, format!("{wrapper_word} ")));
                    if let Some(r) = no_reload_after {
                        let at = end_of(&part.words[r]).ok_or("internal: no position")?;
                        inserts.push((at, " --no-reload".to_string()));
                    }
                }
            }
            inserts.sort_by_key(|b| std::cmp::Reverse(b.0));
            let mut new = old.clone();
            for (at, t) in inserts {
                new.insert_str(at, &t);
            }
            // Read back as Docker will: the same stage runs exactly the words planned.
            let reread = start::dockerfile_parts(path, &new, start.target.as_deref())
                .ok()
                .and_then(|(e, c)| if key == "ENTRYPOINT" { e } else { c })
                .map(|p| p.words.into_iter().map(|w| w.text).collect::<Vec<_>>());
            if reread.as_ref() != Some(&after) {
                return Err(format!(
                    "{at}: tracectl could not rewrite this line and read it back the same (please \
                     report it with the Dockerfile)"
                ));
            }
            dockerfile = Some((path.clone(), old.clone(), new));
        }
    }
    Ok(Wrapped {
        command: report(after, false),
        compose_edit,
        dockerfile,
        notes,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::start::dockerfile_parts;
    use proptest::prelude::*;

    /// The Dockerfile's start command as Docker runs it.
    fn start_of(text: &str) -> StartCommand {
        let (entrypoint, command) = dockerfile_parts(Path::new("Dockerfile"), text, None).unwrap();
        StartCommand {
            entrypoint,
            command,
            dockerfile: Some((PathBuf::from("Dockerfile"), text.to_string())),
            target: None,
        }
    }

    fn wrapped(text: &str) -> std::result::Result<String, String> {
        let start = start_of(text);
        let w = wrap(Some(&start), "api", "compose.yaml", &|p| {
            p.display().to_string()
        })?;
        Ok(w.dockerfile
            .map(|(_, _, new)| new)
            .unwrap_or_else(|| text.to_string()))
    }

    const BEFORE: &[&str] = &[
        "RUN pip install -r requirements.txt",
        "ENV A=b PORT=8000",
        "ARG PORT=8000",
        "COPY . .",
        "# CMD [\"not\", \"this\"]",
        "",
        "WORKDIR /app",
        "RUN echo a \\\n  && echo b",
        "EXPOSE ${PORT}",
        "RUN <<EOF\nCMD fake\nEOF",
    ];
    const SERVERS: &[&[&str]] = &[
        &["flask", "run"],
        &["gunicorn", "-b", "0.0.0.0:8000", "app:create_app()"],
        &["python3", "app.py"],
        &["python", "-m", "flask", "run", "--host=0.0.0.0"],
        &["./start.sh"],
    ];

    /// A CMD line for `argv` in one of the forms Docker reads.
    fn cmd_line(argv: &[&str], form: u8) -> String {
        // A shell needs `(` quoted.
        let shell: Vec<String> = argv
            .iter()
            .map(|a| {
                if a.contains('(') {
                    format!("'{a}'")
                } else {
                    a.to_string()
                }
            })
            .collect();
        let argv_shell: Vec<&str> = shell.iter().map(String::as_str).collect();
        match if argv.len() < 2 { form % 3 } else { form % 4 } {
            0 => format!(
                "CMD [{}]",
                argv.iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            1 => format!(
                "CMD [ {} ]",
                argv.iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(" , ")
            ),
            2 => format!("cmd {}", argv_shell.join(" ")),
            _ => format!(
                "CMD {} \\\n    {}",
                argv_shell[0],
                argv_shell[1..].join(" \\\n    ")
            ),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random Dockerfiles: the last CMD runs `opentelemetry-instrument` before the same words
        /// (`flask run` gaining `--no-reload`), every other line is kept in order, and a second
        /// run changes nothing.
        #[test]
        fn dockerfile_wraps_keep_every_other_line_and_settle(
            before in proptest::collection::vec(proptest::sample::select(BEFORE), 0..6),
            after in proptest::collection::vec(proptest::sample::select(&BEFORE[..9]), 0..3),
            server in proptest::sample::select(SERVERS),
            form in 0u8..4,
            crlf in any::<bool>(),
            stage in any::<bool>(),
        ) {
            let mut lines = vec!["FROM python:3.12-slim AS base".to_string()];
            if stage {
                lines.push("CMD [\"python\", \"other.py\"]".to_string());
                lines.push("FROM base AS run".to_string());
            }
            lines.extend(before.iter().map(|s| s.to_string()));
            let cmd = cmd_line(server, form);
            lines.push(cmd.clone());
            lines.extend(after.iter().map(|s| s.to_string()));
            let mut text = lines.join("\n") + "\n";
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            let new = wrapped(&text).map_err(TestCaseError::fail)?;
            let mut want: Vec<String> = server.iter().map(|s| s.to_string()).collect();
            if let Some(run) = want.iter().position(|w| w == "run") {
                want.insert(run + 1, "--no-reload".to_string());
            }
            want.insert(0, WRAPPER_WORD.to_string());
            let got: Vec<String> = start_of(&new).argv().iter().map(|s| s.to_string()).collect();
            prop_assert_eq!(got, want);
            // Every line outside the CMD instruction is kept, in order.
            let cmd_lines: Vec<&str> = cmd.lines().collect();
            let mut remaining = new.lines();
            for line in text.lines().filter(|l| !cmd_lines.contains(&l.trim_end_matches('\r'))) {
                prop_assert!(remaining.any(|l| l == line), "{:?} lost in\n{}", line, new);
            }
            prop_assert_eq!(wrapped(&new).map_err(TestCaseError::fail)?, new);
        }
    }

    const WRAPPER_WORD: &str = recipe::WRAPPER;
}

#[cfg(test)]
mod wrapper_path_tests {
    use super::*;
    use crate::project::start::dockerfile_parts;

    fn wrapped(text: &str) -> String {
        let (entrypoint, command) = dockerfile_parts(Path::new("Dockerfile"), text, None).unwrap();
        let start = StartCommand {
            entrypoint,
            command,
            dockerfile: Some((PathBuf::from("Dockerfile"), text.to_string())),
            target: None,
        };
        let w = wrap(Some(&start), "api", "compose.yaml", &|p| {
            p.display().to_string()
        })
        .unwrap();
        w.dockerfile.map(|(_, _, new)| new).unwrap()
    }

    /// pip installs `opentelemetry-instrument` next to the program: a program named by path
    /// (a virtualenv not on PATH) is wrapped by the agent of the same folder.
    #[test]
    fn a_program_given_by_path_is_wrapped_from_its_folder() {
        assert_eq!(
            wrapped("FROM x\nCMD [\"/venv/bin/gunicorn\", \"-b\", \"0.0.0.0:80\", \"app:app\"]\n"),
            "FROM x\nCMD [\"/venv/bin/opentelemetry-instrument\", \"/venv/bin/gunicorn\", \"-b\", \"0.0.0.0:80\", \"app:app\"]\n"
        );
        assert_eq!(
            wrapped("FROM x\nCMD ./venv/bin/flask run\n"),
            "FROM x\nCMD ./venv/bin/opentelemetry-instrument ./venv/bin/flask run --no-reload\n"
        );
        assert_eq!(
            wrapped("FROM x\nCMD exec \"/opt/my venv/bin/python\" -m flask run\n"),
            "FROM x\nCMD exec '/opt/my venv/bin/opentelemetry-instrument' \"/opt/my venv/bin/python\" -m flask run --no-reload\n"
        );
        assert_eq!(
            wrapped("FROM x\nCMD $VIRTUAL_ENV/bin/gunicorn app:app\n"),
            "FROM x\nCMD $VIRTUAL_ENV/bin/opentelemetry-instrument $VIRTUAL_ENV/bin/gunicorn app:app\n"
        );
        // A bare name stays bare: the agent is found on PATH as the program is; so do the
        // folders on PATH and programs that are not Python's.
        assert_eq!(
            wrapped("FROM x\nCMD [\"/usr/bin/python3\", \"app.py\"]\n"),
            "FROM x\nCMD [\"opentelemetry-instrument\", \"/usr/bin/python3\", \"app.py\"]\n"
        );
        assert_eq!(
            wrapped("FROM x\nCMD [\"./start.sh\"]\n"),
            "FROM x\nCMD [\"opentelemetry-instrument\", \"./start.sh\"]\n"
        );
        assert_eq!(
            wrapped("FROM x\nCMD [\"gunicorn\", \"app:app\"]\n"),
            "FROM x\nCMD [\"opentelemetry-instrument\", \"gunicorn\", \"app:app\"]\n"
        );
    }
}
