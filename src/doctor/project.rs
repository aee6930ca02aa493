//! Checks of the project's own files; no network. Every function here is pure: the caller reads
//! the files and asks git, and passes what it found.

use std::time::{Duration, SystemTime};

use super::{CheckResult, Finding, Status};
use crate::aws::RegionCheck;
use crate::honeycomb::{self, KeyKind};
use crate::project::collector::{Collector, Target, split_url};
use crate::project::compose::Compose;
use crate::project::requirements;
use crate::recipe;
use crate::secret::{self, Secret};

/// What the caller learned about the env file.
#[derive(Debug, Clone, Default)]
pub struct EnvFileFacts {
    pub display: String,
    pub exists: bool,
    pub mode: Option<u32>,
    /// `None` outside a git work tree.
    pub tracked: Option<bool>,
    pub ignored: Option<bool>,
    /// Running in CI, where the env file is never checked out.
    pub ci: bool,
}

pub fn env_file(f: &EnvFileFacts) -> CheckResult {
    let id = "env-file";
    if !f.exists && f.ci {
        return CheckResult::skip(
            id,
            format!(
                "{} does not exist: the variables come from the environment in CI (the job's secrets)",
                f.display
            ),
        );
    }
    if !f.exists {
        return CheckResult::warn(
            id,
            format!(
                "{} does not exist: the compose variables must come from the environment",
                f.display
            ),
        )
        .hint("run `tracectl init` to write it");
    }
    let mut findings = Vec::new();
    let at = |status, message: String| Finding {
        status,
        message,
        file: Some(f.display.clone()),
        line: Some(1),
    };
    if f.tracked == Some(true) {
        findings.push(at(
            Status::Fail,
            format!(
                "{} is tracked by git: its secrets are in the repository",
                f.display
            ),
        ));
    }
    if f.ignored == Some(false) {
        findings.push(at(
            Status::Warn,
            format!("{} is not in .gitignore", f.display),
        ));
    }
    if let Some(mode) = f.mode.filter(|m| m & 0o077 != 0) {
        findings.push(at(
            Status::Warn,
            format!(
                "{} is readable by others (mode {:o})",
                f.display,
                mode & 0o777
            ),
        ));
    }
    let hint = if f.tracked == Some(true) {
        format!(
            "git rm --cached {0} && echo {0} >> .gitignore, then rotate the keys it held",
            f.display
        )
    } else {
        format!("chmod 600 {0}; add {0} to .gitignore", f.display)
    };
    let ok = format!(
        "{} is private (0600){}",
        f.display,
        if f.tracked.is_some() {
            " and ignored by git"
        } else {
            ""
        }
    );
    CheckResult::from_findings(id, &ok, findings, Some(hint))
}

/// Names of the variables a compose value references, and whether each has a default.
pub fn references(value: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            i += 2;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'{') {
            let Some(end) = value[i + 2..].find('}') else {
                break;
            };
            let inner = &value[i + 2..i + 2 + end];
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let rest = &inner[name_end..];
            let has_default = rest.starts_with(":-")
                || rest.starts_with('-')
                || rest.starts_with(":+")
                || rest.starts_with('+');
            if name_end > 0 {
                out.push((inner[..name_end].to_string(), has_default));
            }
            i += 2 + end + 1;
        } else {
            let name: String = value[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            i += 1 + name.len();
            if !name.is_empty() {
                out.push((name, false));
            }
        }
    }
    out
}

/// Variables that hold a credential whatever their value looks like.
const CREDENTIAL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "HONEYCOMB_API_KEY",
];

/// A literal credential in a line of compose text: a Honeycomb key (ingest, classic or
/// configuration), an AWS access key id, secret access key or session token, by shape or by the
/// variable it is assigned to, or a literal value after `x-honeycomb-team=`. References
/// (`${HONEYCOMB_API_KEY}`) are how it should be done and are not findings. Returns the mask.
pub fn literal_secret(line: &str) -> Option<String> {
    let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || "_+/=".contains(c)));
    for word in words.flat_map(|w| std::iter::once(w).chain(w.split('='))) {
        let info = honeycomb::classify(word);
        // A 22- or 32-character word is a key only in a Honeycomb context (below).
        if !matches!(info.kind, KeyKind::Configuration | KeyKind::Classic)
            && secret::is_key_shaped(word)
        {
            return Some(Secret::new(word).masked());
        }
    }
    if let Some((name, value)) = secret::assignment(line) {
        let name = name.to_ascii_uppercase();
        let credential = CREDENTIAL_VARS.contains(&name.as_str())
            || (name.starts_with("HONEYCOMB_") && secret::is_sensitive_name(&name));
        if credential && !value.is_empty() && !value.contains('$') {
            return Some(Secret::new(value).masked());
        }
    }
    let (_, after) = line.split_once("x-honeycomb-team=")?;
    let value: String = after
        .chars()
        .take_while(|c| !matches!(c, ',' | '"' | '\'' | ' '))
        .collect();
    (!value.is_empty() && !value.starts_with('$')).then(|| Secret::new(value).masked())
}

/// How the backend's traces leave it, as doctor found out: what the project checks expect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tracing<'a> {
    pub honeycomb: bool,
    pub xray: bool,
    /// The backend exports OTLP to this compose service (its key and headers are the
    /// collector's business, not the backend's).
    pub collector: Option<&'a str>,
    /// That collector carries X-Ray: the X-Ray SDK and daemon have no part.
    pub collector_xray: bool,
}

impl<'a> Tracing<'a> {
    pub fn of(facts: &'a super::gather::Facts) -> Self {
        Tracing {
            honeycomb: facts.honeycomb,
            xray: facts.xray,
            collector: facts.collector.as_ref().map(|(_, c)| c.service.as_str()),
            collector_xray: facts.via_collector,
        }
    }

    /// The app needs the OpenTelemetry SDK: it exports to Honeycomb or to a collector.
    fn otel(&self) -> bool {
        self.honeycomb || self.collector.is_some()
    }

    /// The app needs the X-Ray SDK: X-Ray is configured and no collector carries it.
    fn xray_sdk(&self) -> bool {
        self.xray && !self.collector_xray
    }
}

/// The variables `init` puts in the backend's environment, per backend.
const HONEYCOMB_VARS: &[&str] = &[
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_SERVICE_NAME",
];
const XRAY_VARS: &[&str] = &["AWS_XRAY_URL", "AWS_XRAY_DAEMON_ADDRESS"];
/// The backend's variables when a collector carries its traces (the key stays with the collector).
const COLLECTOR_VARS: &[&str] = &["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"];
/// Variables that normally come from the shell running `docker compose up`.
const SHELL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GITPOD_WORKSPACE_ID",
    "GITPOD_WORKSPACE_CLUSTER_HOST",
];

pub fn compose(
    compose: &Compose,
    file: &str,
    service: &str,
    tracing: Tracing,
    defined: &dyn Fn(&str) -> bool,
    in_env_files: &dyn Fn(&str) -> bool,
) -> CheckResult {
    let id = "compose";
    let mut findings = Vec::new();
    let at = |status, message: String, line: Option<usize>| Finding {
        status,
        message,
        file: Some(file.to_string()),
        line,
    };

    let (_, env) = match compose.environment(service) {
        Ok(env) => env,
        Err(e) => return CheckResult::fail(id, e.to_string()),
    };
    let service_line = compose.line_in_service(service, service);
    // A variable from the service's env_file: files is set as much as one in `environment:`.
    let has = |key: &str| env.iter().any(|(k, _)| k == key) || in_env_files(key);
    let Tracing {
        honeycomb, xray, ..
    } = tracing;
    if !honeycomb && !xray {
        findings.push(at(
            Status::Fail,
            format!("{service}'s environment configures no tracing"),
            service_line,
        ));
    }
    let mut wanted: Vec<&str> = Vec::new();
    match tracing.collector {
        Some(_) => wanted.extend(COLLECTOR_VARS),
        None if honeycomb => wanted.extend(HONEYCOMB_VARS),
        None => {}
    }
    if tracing.xray_sdk() {
        wanted.extend(XRAY_VARS);
    }
    // The traces-only form of an exporter variable does the same job.
    let set = |k: &str| {
        has(k)
            || k.strip_prefix("OTEL_EXPORTER_OTLP_")
                .is_some_and(|rest| has(&format!("OTEL_EXPORTER_OTLP_TRACES_{rest}")))
    };
    let missing: Vec<&str> = wanted.into_iter().filter(|k| !set(k)).collect();
    if !missing.is_empty() {
        findings.push(at(
            Status::Fail,
            format!("{service}'s environment lacks {}", missing.join(", ")),
            service_line,
        ));
    }

    let mut services = vec![service.to_string()];
    if compose.has_service(recipe::DAEMON_SERVICE) {
        services.push(recipe::DAEMON_SERVICE.to_string());
    }
    services.extend(tracing.collector.map(str::to_string));
    let mut reported = Vec::new();
    for name in &services {
        let Ok((_, vars)) = compose.environment(name) else {
            continue;
        };
        for (key, value) in vars {
            for (var, has_default) in references(value.as_deref().unwrap_or("")) {
                if has_default || defined(&var) || reported.contains(&var) {
                    continue;
                }
                let status = if SHELL_VARS.contains(&var.as_str()) {
                    Status::Warn
                } else {
                    Status::Fail
                };
                let line = compose.line_in_service(name, &key);
                findings.push(at(status, format!("${{{var}}} (in {name}'s {key}) is defined neither in the env file nor the environment"), line));
                reported.push(var);
            }
        }
    }

    for (n, line) in compose.source().lines().enumerate() {
        if let Some(masked) = literal_secret(line) {
            findings.push(at(
                Status::Fail,
                format!("literal secret {masked} in the compose file"),
                Some(n + 1),
            ));
        }
    }

    if tracing.xray_sdk() {
        if !compose.has_service(recipe::DAEMON_SERVICE) {
            let uses_daemon = env.iter().any(|(k, v)| {
                k == "AWS_XRAY_DAEMON_ADDRESS"
                    && v.as_deref()
                        .is_some_and(|v| v.contains(recipe::DAEMON_SERVICE))
            });
            if uses_daemon {
                findings.push(at(
                    Status::Fail,
                    format!(
                        "AWS_XRAY_DAEMON_ADDRESS names {} but there is no such service",
                        recipe::DAEMON_SERVICE
                    ),
                    service_line,
                ));
            }
        } else {
            let daemon_line =
                compose.line_in_service(recipe::DAEMON_SERVICE, recipe::DAEMON_SERVICE);
            if let Some(command) = compose.daemon_single_string_command() {
                findings.push(at(
                    Status::Warn,
                    format!("{}'s command \"{command}\" is one string; the image's entrypoint gets it as one argument", recipe::DAEMON_SERVICE),
                    compose.line_in_service(recipe::DAEMON_SERVICE, "command"),
                ));
            }
            let ports = compose.ports(recipe::DAEMON_SERVICE);
            if !ports
                .iter()
                .any(|p| p.contains("2000") && p.ends_with("/udp"))
            {
                findings.push(at(
                    Status::Warn,
                    format!(
                        "{} does not publish UDP 2000 (\"2000:2000/udp\")",
                        recipe::DAEMON_SERVICE
                    ),
                    daemon_line,
                ));
            }
        }
    }
    let ok = match tracing.collector {
        Some(collector) if tracing.collector_xray => {
            format!("{service} exports to X-Ray through {collector}; every ${{VAR}} is defined")
        }
        Some(collector) => {
            format!("{service} exports through {collector}; every ${{VAR}} is defined")
        }
        None => format!(
            "{service} exports to {}; every ${{VAR}} is defined",
            match (honeycomb, xray) {
                (true, true) => "Honeycomb and X-Ray",
                (true, false) => "Honeycomb",
                _ => "X-Ray",
            }
        ),
    };
    CheckResult::from_findings(
        id,
        &ok,
        findings,
        Some(
            "run `tracectl init` (add --force to replace values), or edit the lines named"
                .to_string(),
        ),
    )
}

/// How the app is instrumented, as the project shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instrumented {
    /// The start command runs `opentelemetry-instrument`, written at this place (`file:line`);
    /// with the backend's OTEL_EXPORTER_OTLP_PROTOCOL.
    ZeroCode {
        at: String,
        protocol: Option<String>,
    },
    /// No agent wraps the start command: the app must set up OpenTelemetry itself.
    Code,
}

pub fn requirements(
    text: Option<&str>,
    file: &str,
    tracing: Tracing,
    mode: &Instrumented,
    dockerfile: Option<(&str, &str)>,
) -> CheckResult {
    let id = "requirements";
    let Some(text) = text else {
        return CheckResult::fail(id, format!("{file} does not exist"))
            .hint("run `tracectl init` to create it");
    };
    let mut wanted = Vec::new();
    if tracing.otel() {
        match mode {
            Instrumented::ZeroCode { .. } => wanted.extend(recipe::ZERO_CODE_PACKAGES),
            Instrumented::Code => wanted.extend(recipe::CODE_PACKAGES),
        }
    }
    if tracing.xray_sdk() {
        wanted.extend(recipe::XRAY_PACKAGES);
    }
    // A build that installs its packages inline never reads requirements.txt.
    if let Some((at, args)) = dockerfile.and_then(|(file, text)| {
        crate::project::start::inline_install_lacking(text, &wanted)
            .map(|(line, args)| (format!("{file}:{line}"), args))
    }) {
        return CheckResult::fail(
            id,
            format!(
                "{at} installs the packages itself (`RUN {args}`) and the build never reads \
                 {file}: the tracing packages it lists are not in the image"
            ),
        )
        .hint(format!(
            "add {} to that RUN line, or install {file} in the Dockerfile",
            wanted.join(" ")
        ));
    }
    let missing = requirements::missing(text, &wanted);
    if missing.is_empty() {
        return CheckResult::pass(
            id,
            format!("{file} lists the {} tracing packages", wanted.len()),
        );
    }
    CheckResult::fail(id, format!("{file} lacks {}", missing.join(", ")))
        .hint("run `tracectl init`, or add them to requirements.txt")
}

/// The app's instrumentation: in code mode the provider's FlaskInstrumentor, in zero-code mode
/// the agent's protocol; in both the X-Ray middleware (it has no agent), and the reloader of
/// `app.run(debug=True)` when the app file is what runs (`script`).
pub fn app(
    text: Option<&str>,
    file: &str,
    tracing: Tracing,
    mode: &Instrumented,
    script: bool,
) -> CheckResult {
    let id = "app";
    let Some(text) = text else {
        return CheckResult::skip(id, format!("no {file} to look at"));
    };
    let mut findings = Vec::new();
    let at = |message: String, line: Option<usize>| Finding {
        status: Status::Warn,
        message,
        file: Some(file.to_string()),
        line,
    };
    let module = match crate::project::app::Module::parse(std::path::Path::new(file), text) {
        Ok(m) => m,
        Err(e) => {
            return CheckResult::fail(id, e.to_string())
                .hint("fix the syntax error: the app cannot start");
        }
    };
    match mode {
        Instrumented::ZeroCode {
            at: where_,
            protocol,
        } => {
            if tracing.otel() && protocol.as_deref() != Some("http/protobuf") {
                findings.push(Finding {
                    file: None,
                    ..at(
                        format!(
                            "{where_} runs {} but the backend's OTEL_EXPORTER_OTLP_PROTOCOL is {}: the agent then exports over gRPC",
                            recipe::WRAPPER,
                            protocol.as_deref().unwrap_or("unset")
                        ),
                        None,
                    )
                });
            }
        }
        Instrumented::Code => {
            if tracing.otel() && !module.calls("FlaskInstrumentor().instrument_app") {
                findings.push(at(
                    "no FlaskInstrumentor().instrument_app(app), and no start command runs opentelemetry-instrument: requests will not become spans".to_string(),
                    None,
                ));
            }
        }
    }
    if tracing.xray_sdk() && !module.calls("XRayMiddleware") {
        findings.push(at(
            "no XRayMiddleware: X-Ray will see no requests".to_string(),
            None,
        ));
    }
    let mut hint = "run `tracectl init` (zero-code wraps the start command, --instrument code edits the app); run with app.run(debug=True, use_reloader=False)".to_string();
    if let Some(collector) = tracing.collector.filter(|_| tracing.collector_xray) {
        let leftovers = crate::init::plan::xray_sdk_lines(file, text);
        for l in &leftovers {
            findings.push(at(
                format!(
                    "`{}` is the X-Ray SDK's; {collector} carries X-Ray now, and the SDK sends to a daemon that is gone",
                    l.text
                ),
                Some(l.line),
            ));
        }
        if !leftovers.is_empty() {
            hint = format!(
                "remove the X-Ray SDK lines named (the OpenTelemetry instrumentation reaches X-Ray through {collector}), and aws-xray-sdk from requirements.txt"
            );
        }
    }
    for line in module.reloader_lines().into_iter().filter(|_| script) {
        findings.push(at(
            "app.run(debug=True) starts the reloader, which runs the app a second time in a child process (older OpenTelemetry releases lost the instrumentation there)".to_string(),
            Some(line),
        ));
    }
    let ok = match mode {
        Instrumented::ZeroCode { at, .. } => {
            format!("{file}: {at} runs {} (zero-code)", recipe::WRAPPER)
        }
        Instrumented::Code => format!("{file} is instrumented"),
    };
    CheckResult::from_findings(id, &ok, findings, Some(hint))
}

/// The collector against the backend that sends to it and the X-Ray endpoint it sends to: the
/// address and protocol the backend uses reach a receiver that is on, and the X-Ray exporter
/// speaks OTLP/HTTP, signs with SigV4, names a real region and has credentials to sign with.
pub fn collector(
    target: &Target,
    collector: &Collector,
    compose: &Compose,
    file: &str,
    backend: &str,
) -> CheckResult {
    let id = "collector";
    let name = collector.service.as_str();
    let mut findings = Vec::new();
    let at = |status, message: String, service: &str, key: &str| Finding {
        status,
        message,
        file: Some(file.to_string()),
        line: compose.line_in_service(service, key),
    };
    if !collector.rotel {
        findings.push(at(
            Status::Warn,
            format!(
                "{name} ({}) is not configured by ROTEL_* variables, so tracectl cannot see where it sends",
                collector.image.as_deref().unwrap_or("no image")
            ),
            name,
            name,
        ));
        return CheckResult::from_findings(
            id,
            "",
            findings,
            Some(format!(
                "check {name}'s own configuration file by hand, or run `tracectl init --migrate` on a daemon setup to get a collector tracectl can check"
            )),
        );
    }
    let grpc = target
        .protocol
        .as_deref()
        .is_some_and(|p| p.trim() == "grpc");
    let receiver = if grpc {
        &collector.grpc
    } else {
        &collector.http
    };
    let wire = if grpc { "OTLP/gRPC" } else { "OTLP/HTTP" };
    if target.scheme == "https" {
        findings.push(at(
            Status::Fail,
            format!(
                "{backend} sends to {} over TLS, but {name}'s receiver takes plain HTTP",
                target.url
            ),
            backend,
            &target.var,
        ));
    }
    if receiver.port.is_some_and(|p| p != target.port) {
        findings.push(at(
            Status::Fail,
            format!(
                "{backend} sends {wire} to port {} of {name}, whose {wire} receiver listens on {} ({})",
                target.port, receiver.address, receiver.var
            ),
            backend,
            &target.var,
        ));
    }
    if receiver.loopback {
        findings.push(at(
            Status::Fail,
            format!(
                "{name}'s {wire} receiver binds {} ({}), which other containers cannot reach",
                receiver.address, receiver.var
            ),
            name,
            receiver.var,
        ));
    }
    if collector.traces_disabled {
        findings.push(at(
            Status::Fail,
            format!("{name} refuses traces (ROTEL_OTLP_RECEIVER_TRACES_DISABLED)"),
            name,
            "ROTEL_OTLP_RECEIVER_TRACES_DISABLED",
        ));
    }
    if !grpc && target.path != collector.traces_path {
        findings.push(at(
            Status::Fail,
            format!(
                "{backend}'s exporter posts traces to {} ({}), but {name} takes them at {}",
                target.path, target.var, collector.traces_path
            ),
            backend,
            &target.var,
        ));
    }
    if collector.traces_unnamed {
        findings.push(at(
            Status::Fail,
            format!("ROTEL_EXPORTERS declares exporters but ROTEL_EXPORTERS_TRACES names none: {name} starts no trace pipeline (rotel refuses to start)"),
            name,
            "ROTEL_EXPORTERS",
        ));
    }
    for e in collector.exporters.iter().filter(|e| e.kind == "otlp") {
        let http = e
            .protocol
            .as_ref()
            .is_some_and(|p| p.text().trim() == "http");
        let path = e
            .endpoint
            .as_ref()
            .and_then(|v| {
                split_url(v.text()).map(|(_, _, _, p)| p.trim_end_matches('/').to_string())
            })
            .unwrap_or_default();
        if http && !path.is_empty() {
            findings.push(at(
                Status::Fail,
                format!(
                    "{} ends in {path}: rotel adds /v1/traces itself, so it would post to {path}/v1/traces",
                    e.var("ENDPOINT")
                ),
                name,
                &e.var("ENDPOINT"),
            ));
        }
    }
    for missing in &collector.undeclared {
        findings.push(at(
            Status::Fail,
            format!("ROTEL_EXPORTERS_TRACES names exporter {missing}, which ROTEL_EXPORTERS does not declare"),
            name,
            "ROTEL_EXPORTERS_TRACES",
        ));
    }
    if collector.exporters.is_empty()
        && collector.undeclared.is_empty()
        && !collector.traces_unnamed
    {
        findings.push(at(
            Status::Fail,
            format!("{name} sends traces through no exporter"),
            name,
            "ROTEL_EXPORTERS",
        ));
    }
    let mut destinations = Vec::new();
    if let Some(x) = collector.xray() {
        let region = x.xray_region().unwrap_or_default();
        let endpoint_var = x.var(if x.kind == "aws-xray" {
            "REGION"
        } else {
            "ENDPOINT"
        });
        if x.kind == "otlp" {
            let protocol = x.protocol.as_ref().map(|p| p.text().trim().to_string());
            if protocol.as_deref().unwrap_or("grpc") != "http" {
                findings.push(at(
                    Status::Fail,
                    format!(
                        "{} is {}: X-Ray's OTLP endpoint takes OTLP/HTTP only",
                        x.var("PROTOCOL"),
                        protocol.as_deref().unwrap_or("unset (gRPC by default)")
                    ),
                    name,
                    &x.var("PROTOCOL"),
                ));
            }
            let auth = x
                .authenticator
                .as_ref()
                .map(|a| a.text().trim().to_string());
            if auth.as_deref() != Some("sigv4auth") {
                findings.push(at(
                    Status::Fail,
                    format!(
                        "{} is {}: X-Ray refuses requests not signed with SigV4",
                        x.var("AUTHENTICATOR"),
                        auth.as_deref().unwrap_or("unset")
                    ),
                    name,
                    &x.var("AUTHENTICATOR"),
                ));
            }
        }
        let resolved = x.endpoint.as_ref().map_or(
            x.region.as_ref().is_some_and(|r| r.resolved.is_some()),
            |e| e.resolved.is_some(),
        );
        if let (true, RegionCheck::Invalid { message, hint }) =
            (resolved, crate::aws::check_region(&region))
        {
            findings.push(at(
                Status::Fail,
                format!("{endpoint_var}: {message} ({hint})"),
                name,
                &endpoint_var,
            ));
        }
        if let Some(env_region) = collector
            .aws("AWS_REGION")
            .and_then(|r| r.resolved.clone())
            .filter(|r| resolved && !r.is_empty() && *r != region)
        {
            findings.push(at(
                Status::Fail,
                format!("{name} sends to X-Ray in {region} ({endpoint_var}) but its AWS_REGION is {env_region}: the proof and doctor look in {env_region}"),
                name,
                &endpoint_var,
            ));
        }
        let credentials = collector.aws("AWS_ACCESS_KEY_ID").is_some()
            && collector.aws("AWS_SECRET_ACCESS_KEY").is_some();
        let other_source = [
            "AWS_PROFILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ]
        .iter()
        .any(|v| collector.aws(v).is_some());
        if !credentials && !other_source {
            findings.push(at(
                Status::Warn,
                format!("{name} receives no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): SigV4 has nothing to sign with, unless the host gives the container a role"),
                name,
                "environment",
            ));
        }
        destinations.push(match region.as_str() {
            "" => {
                "X-Ray (SigV4), in the region AWS_REGION names when Compose starts it".to_string()
            }
            r => format!("X-Ray {r} (SigV4)"),
        });
    }
    if collector.sends_to_honeycomb() {
        destinations.push("Honeycomb".to_string());
    }
    let backend_honeycomb = compose
        .environment(backend)
        .map(|(_, env)| {
            env.iter().any(|(k, v)| {
                k.starts_with("OTEL_EXPORTER_OTLP")
                    && k.ends_with("HEADERS")
                    && v.as_deref().is_some_and(|v| v.contains("x-honeycomb-team"))
            })
        })
        .unwrap_or(false);
    if backend_honeycomb && !collector.sends_to_honeycomb() {
        findings.push(at(
            Status::Warn,
            format!("{backend} sends Honeycomb headers to {name}, which sends to no Honeycomb exporter: Honeycomb receives nothing from it"),
            backend,
            "OTEL_EXPORTER_OTLP_HEADERS",
        ));
    }
    if destinations.is_empty() {
        destinations.push("its exporters".to_string());
    }
    let ok = format!(
        "{backend} sends {wire} to {name}:{}, which sends to {}",
        target.port,
        destinations.join(" and ")
    );
    CheckResult::from_findings(
        id,
        &ok,
        findings,
        Some(
            "edit the lines named, or let `tracectl init --xray-via collector --force` write the collector the way tracectl tests it"
                .to_string(),
        ),
    )
}

pub fn honeycomb_key(
    key: Option<&Secret>,
    dataset: Option<&str>,
    endpoint: Option<&str>,
    configured: bool,
) -> CheckResult {
    let id = "honeycomb-key";
    let Some(key) = key else {
        return if configured {
            CheckResult::fail(
                id,
                "no Honeycomb key in HONEYCOMB_API_KEY, the env file or --honeycomb-api-key",
            )
            .hint("run `tracectl init`")
        } else {
            CheckResult::skip(id, "Honeycomb is not configured")
        };
    };
    let info = honeycomb::classify(key.expose());
    match info.kind {
        KeyKind::Unknown => {
            return CheckResult::fail(id, format!("{key} is not a Honeycomb key"))
                .hint("copy an ingest key from the environment's API keys page");
        }
        KeyKind::Management => {
            return CheckResult::fail(id, "a management key cannot send data")
                .hint("use an ingest key");
        }
        _ => {}
    }
    if info.kind.needs_dataset() && dataset.is_none() {
        return CheckResult::fail(id, format!("a {} needs a dataset", info.kind.describe()))
            .hint("set HONEYCOMB_DATASET (tracectl init --dataset NAME)");
    }
    let endpoint_region = endpoint.and_then(honeycomb::region_of_endpoint);
    if let (Some(k), Some(e)) = (info.region, endpoint_region)
        && k != e
    {
        return CheckResult::fail(
            id,
            format!(
                "the key belongs to the {} region but the endpoint is {}'s",
                honeycomb::region_name(k),
                honeycomb::region_name(e)
            ),
        )
        .hint(format!(
            "set OTEL_EXPORTER_OTLP_ENDPOINT={}",
            honeycomb::api_base(k)
        ));
    }
    let region = info
        .region
        .or(endpoint_region)
        .map(honeycomb::region_name)
        .unwrap_or("region unknown");
    CheckResult::pass(id, format!("{} {key} ({region})", info.kind.describe()))
}

pub fn aws_region(region: Option<&str>, source: &str, configured: bool) -> CheckResult {
    let id = "aws-region";
    match region {
        None if configured => CheckResult::fail(id, "no AWS region: X-Ray needs one")
            .hint("set AWS_REGION (tracectl init writes it to .env)"),
        None => CheckResult::skip(id, "X-Ray is not configured"),
        Some(r) => match crate::aws::check_region(r) {
            crate::aws::RegionCheck::Known => CheckResult::pass(id, format!("{r} (from {source})")),
            crate::aws::RegionCheck::New { warning } => {
                CheckResult::warn(id, format!("{warning} (from {source})"))
            }
            crate::aws::RegionCheck::Invalid { message, hint } => {
                CheckResult::fail(id, format!("{message} (from {source})")).hint(hint)
            }
        },
    }
}

/// The X-Ray SDKs and daemon enter maintenance on 2026-02-25; support ends 2027-02-25.
pub const XRAY_MAINTENANCE: &str = "2026-02-25";
const XRAY_MAINTENANCE_SECS: u64 = 1_771_977_600; // 2026-02-25T00:00:00Z
pub const XRAY_END_OF_SUPPORT: &str = "2027-02-25";
const XRAY_END_OF_SUPPORT_SECS: u64 = 1_803_513_600; // 2027-02-25T00:00:00Z

/// Where the X-Ray SDKs and daemon stand on a given day; each counts whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportPhase {
    /// Fully supported; maintenance starts in so many days.
    Supported { to_maintenance: u64 },
    /// Security fixes only; support ends in so many days.
    Maintenance { to_end: u64 },
    /// No more fixes, since so many days.
    Ended { days_ago: u64 },
}

pub fn support_phase(today: SystemTime) -> SupportPhase {
    let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    let days_until = |secs| {
        at(secs)
            .duration_since(today)
            .ok()
            .filter(|d| !d.is_zero())
            .map(|d| d.as_secs().div_ceil(86_400))
    };
    if let Some(to_maintenance) = days_until(XRAY_MAINTENANCE_SECS) {
        SupportPhase::Supported { to_maintenance }
    } else if let Some(to_end) = days_until(XRAY_END_OF_SUPPORT_SECS) {
        SupportPhase::Maintenance { to_end }
    } else {
        let since = today.duration_since(at(XRAY_END_OF_SUPPORT_SECS));
        SupportPhase::Ended {
            days_ago: since.map(|d| d.as_secs() / 86_400).unwrap_or(0),
        }
    }
}

/// How the X-Ray SDK and daemon's end of support stands at `today`. Never a failure by itself: a
/// date passing with no change in the project must not turn CI red (`--strict` makes warnings
/// fail). Each phase says what is true on that day; after the end, how long ago and what to do.
pub fn xray_support(
    uses_daemon: bool,
    configured: bool,
    destination: Option<&str>,
    today: SystemTime,
) -> CheckResult {
    let id = "xray-support";
    if !configured {
        return CheckResult::skip(id, "X-Ray is not configured");
    }
    let destination = destination
        .map(|d| format!("; segments go to {d}"))
        .unwrap_or_default();
    let phase = support_phase(today);
    let when = match phase {
        SupportPhase::Supported { to_maintenance } => format!(
            "maintenance starts {XRAY_MAINTENANCE} (in {to_maintenance} days), support ends {XRAY_END_OF_SUPPORT}"
        ),
        SupportPhase::Maintenance { to_end } => {
            format!("support ends {XRAY_END_OF_SUPPORT} (in {to_end} days)")
        }
        SupportPhase::Ended { days_ago } => format!(
            "support ENDED {XRAY_END_OF_SUPPORT}, {days_ago} days ago: no more fixes, security ones included"
        ),
    };
    let otlp = "run `tracectl init --migrate`: it replaces the daemon with a collector that sends OTLP to https://xray.<region>.amazonaws.com/v1/traces with SigV4 (needs Transaction Search: see the transaction-search check); then `tracectl send-test --to collector --wait` proves arrival";
    if !uses_daemon {
        return CheckResult::pass(
            id,
            format!("not using the X-Ray daemon; {when} for the SDKs{destination}"),
        );
    }
    let (detail, hint) = match phase {
        SupportPhase::Ended { .. } => (
            format!("this project still runs the X-Ray SDK and daemon: {when}{destination}"),
            format!("move to OTLP now — {otlp}"),
        ),
        SupportPhase::Maintenance { .. } => (
            format!(
                "the X-Ray SDK and daemon are in maintenance since {XRAY_MAINTENANCE}; {when}{destination}"
            ),
            otlp.to_string(),
        ),
        SupportPhase::Supported { .. } => (
            format!("the X-Ray SDK and daemon are still supported: {when}{destination}"),
            format!("plan the move — {otlp}"),
        ),
    };
    CheckResult::warn(id, detail).hint(hint)
}

/// The largest gap between this machine's clock and a server's `Date`.
pub fn clock(samples: &[(String, SystemTime, SystemTime)]) -> CheckResult {
    let id = "clock";
    let worst = samples
        .iter()
        .map(|(server, theirs, ours)| {
            let skew = match theirs.duration_since(*ours) {
                Ok(ahead) => ahead.as_secs_f64(),
                Err(e) => -e.duration().as_secs_f64(),
            };
            (server, skew)
        })
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    let Some((server, skew)) = worst else {
        return CheckResult::skip(id, "no server was contacted");
    };
    let direction = if skew > 0.0 { "behind" } else { "ahead of" };
    let detail = format!("this machine is {:.1} s {direction} {server}", skew.abs());
    let hint = "sync the clock (timedatectl set-ntp true): X-Ray rejects trace ids far in the future and Honeycomb clamps future spans";
    match skew.abs() {
        s if s > 300.0 => CheckResult::fail(id, detail).hint(hint),
        s if s > 2.0 => CheckResult::warn(id, detail).hint(hint),
        _ => CheckResult::pass(
            id,
            format!(
                "within {:.0} s of {} server(s)",
                skew.abs().ceil(),
                samples.len()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn t(honeycomb: bool, xray: bool) -> Tracing<'static> {
        Tracing {
            honeycomb,
            xray,
            collector: None,
            collector_xray: false,
        }
    }

    const KEY: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    #[test]
    fn env_file_statuses() {
        let mut f = EnvFileFacts {
            display: ".env".into(),
            exists: true,
            mode: Some(0o600),
            tracked: Some(false),
            ignored: Some(true),
            ci: false,
        };
        assert_eq!(env_file(&f).status, Status::Pass);
        f.mode = Some(0o644);
        assert_eq!(env_file(&f).status, Status::Warn);
        f.tracked = Some(true);
        let r = env_file(&f);
        assert_eq!(r.status, Status::Fail);
        assert!(r.hint.unwrap().contains("git rm --cached"));
        assert_eq!(
            env_file(&EnvFileFacts {
                display: ".env".into(),
                ..Default::default()
            })
            .status,
            Status::Warn
        );
        // In CI the file is never checked out: the job's environment holds the variables.
        let r = env_file(&EnvFileFacts {
            display: ".env".into(),
            ci: true,
            ..Default::default()
        });
        assert_eq!(r.status, Status::Skip);
        assert!(r.detail.contains("environment in CI"), "{}", r.detail);
        // A file that is there is checked in CI as anywhere.
        f.ci = true;
        assert_eq!(env_file(&f).status, Status::Fail);
    }

    #[test]
    fn variable_references() {
        assert_eq!(
            references("x-honeycomb-team=${HONEYCOMB_API_KEY}"),
            [("HONEYCOMB_API_KEY".to_string(), false)]
        );
        assert_eq!(
            references("${A:-x} $B $$C ${D-y} ${E:?err}"),
            [
                ("A".into(), true),
                ("B".into(), false),
                ("D".into(), true),
                ("E".into(), false)
            ]
        );
        assert!(references("plain").is_empty());
    }

    #[test]
    fn literal_secrets_are_spotted_and_masked() {
        assert!(
            literal_secret(&format!(
                "      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team={KEY}\""
            ))
            .unwrap()
            .contains("(redacted)")
        );
        assert!(literal_secret("x-honeycomb-team=uOexnOwfIU3LecPs1cYpLC").is_some());
        assert!(literal_secret("      AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(literal_secret("x-honeycomb-team=${HONEYCOMB_API_KEY}").is_none());
        assert!(literal_secret("      - POSTGRES_PASSWORD=password").is_none());
        for line in [
            "      AWS_SECRET_ACCESS_KEY: \"notkeyshaped\"",
            "      - AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDkZ",
            "      HONEYCOMB_API_KEY: uOexnOwfIU3LecPs1cYpLC",
            "      - HONEYCOMB_API_KEY=430eb2f22c137f6ff63980a3a332b4ac",
            "      SOMETHING: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ] {
            let masked = literal_secret(line).unwrap_or_else(|| panic!("{line}"));
            assert!(masked.ends_with("(redacted)"), "{masked}");
        }
        for line in [
            "      AWS_SECRET_ACCESS_KEY: ${AWS_SECRET_ACCESS_KEY}",
            "      AWS_SESSION_TOKEN: \"${AWS_SESSION_TOKEN:-}\"",
            "      AWS_SESSION_TOKEN: \"\"",
            "    image: 38d86a2c1f6e0c0a7a2e5e6d7c8b9a0f1e2d3c4b",
            "    container_name: uOexnOwfIU3LecPs1cYpLC",
        ] {
            assert_eq!(literal_secret(line), None, "{line}");
        }
        assert!(!literal_secret(&format!("k: {KEY}")).unwrap().contains(KEY));
    }

    fn parse(text: &str) -> Compose {
        Compose::parse(Path::new("c.yml"), text.to_string()).unwrap()
    }

    #[test]
    fn compose_findings_point_at_lines() {
        let c = parse(
            "services:\n  api:\n    build: ./api\n    environment:\n      OTEL_EXPORTER_OTLP_ENDPOINT: \"https://api.honeycomb.io\"\n      \
             OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"\n      OTEL_SERVICE_NAME: \"${NAME}\"\n",
        );
        let defined = |v: &str| v == "HONEYCOMB_API_KEY";
        let r = compose(&c, "c.yml", "api", t(true, false), &defined, &|_| false);
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].line, Some(7));
        assert!(r.findings[0].message.contains("${NAME}"));
        let all = |_: &str| true;
        assert_eq!(
            compose(&c, "c.yml", "api", t(true, false), &all, &|_| false).status,
            Status::Pass
        );
        let r = compose(&c, "c.yml", "api", t(true, true), &all, &|_| false);
        assert!(
            r.detail
                .contains("lacks AWS_XRAY_URL, AWS_XRAY_DAEMON_ADDRESS"),
            "{r:?}"
        );
        // Variables from the service's env files count as set.
        let from_files = |k: &str| k.starts_with("AWS_XRAY");
        let r = compose(&c, "c.yml", "api", t(true, true), &all, &from_files);
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }

    #[test]
    fn daemon_command_and_ports() {
        let c = parse(
            "services:\n  api:\n    environment:\n      AWS_XRAY_URL: \"*\"\n      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"\n  \
             xray-daemon:\n    image: amazon/aws-xray-daemon\n    command:\n      - \"xray -o -b xray-daemon:2000\"\n",
        );
        let r = compose(&c, "c.yml", "api", t(false, true), &|_| true, &|_| false);
        assert_eq!(r.status, Status::Warn, "{r:?}");
        assert!(
            r.findings
                .iter()
                .any(|f| f.message.contains("one string") && f.line == Some(8)),
            "{r:?}"
        );
        assert!(
            r.findings.iter().any(|f| f.message.contains("UDP 2000")),
            "{r:?}"
        );
    }

    #[test]
    fn app_reloader_and_instrumentation() {
        let code = &Instrumented::Code;
        let text = "from flask import Flask\napp = Flask(__name__)\nFlaskInstrumentor().instrument_app(app)\nif True:\n    app.run(debug=True)\n";
        let r = app(Some(text), "app.py", t(true, false), code, true);
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.findings[0].line, Some(5));
        let ok = text.replace("debug=True", "debug=True, use_reloader=False");
        assert_eq!(
            app(Some(&ok), "app.py", t(true, false), code, true).status,
            Status::Pass
        );
        assert_eq!(
            app(Some(&ok), "app.py", t(true, true), code, true).status,
            Status::Warn
        );
        // A comment naming it is not the call.
        let commented = "app = Flask(__name__)\n# FlaskInstrumentor().instrument_app(app)\n";
        assert_eq!(
            app(Some(commented), "app.py", t(true, false), code, true).status,
            Status::Warn
        );
    }

    #[test]
    fn a_zero_code_app_needs_no_flask_instrumentor_but_the_agents_protocol() {
        let plain = "from flask import Flask\napp = Flask(__name__)\n";
        let zero = |protocol: Option<&str>| Instrumented::ZeroCode {
            at: "api/Dockerfile:3".into(),
            protocol: protocol.map(str::to_string),
        };
        let r = app(
            Some(plain),
            "app.py",
            t(true, false),
            &zero(Some("http/protobuf")),
            false,
        );
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert!(
            r.detail
                .contains("api/Dockerfile:3 runs opentelemetry-instrument"),
            "{r:?}"
        );
        let r = app(Some(plain), "app.py", t(true, false), &zero(None), false);
        assert_eq!(r.status, Status::Warn);
        assert!(r.findings[0].message.contains("gRPC"), "{r:?}");
        // X-Ray's middleware is still the app's to hold.
        let r = app(
            Some(plain),
            "app.py",
            t(true, true),
            &zero(Some("http/protobuf")),
            false,
        );
        assert!(r.findings[0].message.contains("XRayMiddleware"), "{r:?}");
        let r = app(
            Some("def f(:\n"),
            "app.py",
            t(true, false),
            &Instrumented::Code,
            true,
        );
        assert_eq!(r.status, Status::Fail);
        assert!(r.detail.contains("app.py:1:7"), "{r:?}");
    }

    #[test]
    fn key_region_and_dataset() {
        let key = Secret::new(KEY);
        assert_eq!(
            honeycomb_key(Some(&key), None, Some("https://api.honeycomb.io"), true).status,
            Status::Pass
        );
        let r = honeycomb_key(Some(&key), None, Some("https://api.eu1.honeycomb.io"), true);
        assert_eq!(r.status, Status::Fail);
        assert!(r.detail.contains("US region"));
        let classic = Secret::new("430eb2f22c137f6ff63980a3a332b4ac");
        assert_eq!(
            honeycomb_key(Some(&classic), None, None, true).status,
            Status::Fail
        );
        assert_eq!(
            honeycomb_key(Some(&classic), Some("d"), None, true).status,
            Status::Pass
        );
        assert_eq!(honeycomb_key(None, None, None, false).status, Status::Skip);
        assert_eq!(honeycomb_key(None, None, None, true).status, Status::Fail);
    }

    #[test]
    fn clock_thresholds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let s = |d: i64| {
            (
                "api".to_string(),
                if d >= 0 {
                    now + Duration::from_secs(d as u64)
                } else {
                    now - Duration::from_secs((-d) as u64)
                },
                now,
            )
        };
        assert_eq!(clock(&[s(1)]).status, Status::Pass);
        assert_eq!(clock(&[s(1), s(-3)]).status, Status::Warn);
        let r = clock(&[s(600)]);
        assert_eq!(r.status, Status::Fail);
        assert!(r.detail.contains("600.0 s behind api"));
        assert_eq!(clock(&[]).status, Status::Skip);
    }

    #[test]
    fn three_phases_each_say_what_is_true_that_day() {
        // Independent figures: `date -u -d 2026-02-25 +%s` = 1771977600.
        let day = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let maintenance = 1_771_977_600;
        assert_eq!(
            support_phase(day(maintenance - 86_400)),
            SupportPhase::Supported { to_maintenance: 1 }
        );
        assert_eq!(
            support_phase(day(maintenance)),
            SupportPhase::Maintenance { to_end: 365 }
        );
        assert_eq!(
            support_phase(day(1_803_513_600)),
            SupportPhase::Ended { days_ago: 0 }
        );
        // 2026-01-01: before maintenance, nothing is said to have started.
        let r = xray_support(true, true, None, day(1_767_225_600));
        assert_eq!(r.status, Status::Warn);
        assert!(!r.detail.contains("in maintenance since"), "{r:?}");
        assert!(
            r.detail
                .contains("maintenance starts 2026-02-25 (in 55 days), support ends 2027-02-25"),
            "{r:?}"
        );
        let r = xray_support(false, true, None, day(1_767_225_600));
        assert_eq!(r.status, Status::Pass);
        assert!(r.detail.contains("maintenance starts 2026-02-25"), "{r:?}");
        let r = xray_support(true, true, None, day(maintenance));
        assert!(
            r.detail
                .contains("in maintenance since 2026-02-25; support ends 2027-02-25 (in 365 days)"),
            "{r:?}"
        );
    }

    #[test]
    fn support_window() {
        let before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let after = SystemTime::UNIX_EPOCH + Duration::from_secs(1_805_000_000);
        assert_eq!(xray_support(true, true, None, before).status, Status::Warn);
        let r = xray_support(true, true, None, before);
        assert!(r.detail.contains("(in 99 days)"), "{r:?}");
        // After the end it stays a warning, louder: how long ago, and what to do.
        let r = xray_support(true, true, None, after);
        assert_eq!(r.status, Status::Warn);
        assert!(r.detail.contains("ENDED 2027-02-25, 17 days ago"), "{r:?}");
        assert!(
            r.hint.as_deref().unwrap().contains("move to OTLP now"),
            "{r:?}"
        );
        assert!(
            r.hint
                .as_deref()
                .unwrap()
                .contains("tracectl init --migrate"),
            "{r:?}"
        );
        let day_after = SystemTime::UNIX_EPOCH + Duration::from_secs(1_803_513_600 + 86_400);
        assert!(
            xray_support(true, true, None, day_after)
                .detail
                .contains("1 days ago")
        );
        assert_eq!(
            xray_support(false, true, Some("CloudWatchLogs"), before).status,
            Status::Pass
        );
        assert_eq!(
            xray_support(false, false, None, before).status,
            Status::Skip
        );
    }
}
