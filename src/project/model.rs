//! The user's project resolved once — compose file, backend service, its environment, the env
//! file, the process environment — and the one precedence every command reads values with.
//!
//! # Precedence
//! Every project fact that doctor and send-test both need ([`Model::resolve`]) is read from the
//! first of these layers that gives it a non-blank value:
//!
//! | # | layer | example |
//! |---|-------|---------|
//! | 1 | the command-line flag (clap folds the flag's own variable into it) | `--aws-region` |
//! | 2 | the environment tracectl runs in | `export AWS_REGION=…` |
//! | 3 | the project's env file (`.env`, or `--env-file`) | `AWS_REGION=…` in `.env` |
//! | 4 | the backend service's environment in the compose file (`environment:`, then its `env_file:` files), `${VAR}` interpolated from layers 2 and 3 as Compose does | `AWS_REGION: eu-west-1` |
//! | 5 | a default (the AWS profile's region, the daemon at 127.0.0.1:2000) | |
//!
//! Within one layer the variables are asked in a fixed order:
//! - Honeycomb key: `HONEYCOMB_API_KEY`, then `x-honeycomb-team` in `OTEL_EXPORTER_OTLP_TRACES_HEADERS`
//!   / `OTEL_EXPORTER_OTLP_HEADERS`;
//! - dataset: `HONEYCOMB_DATASET`, then `x-honeycomb-dataset` in those headers;
//! - OTLP exporter: the first layer with `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` supplies every `OTEL_EXPORTER_OTLP_*` variable, so that one
//!   layer's headers (often a key) never travel to another layer's endpoint;
//! - AWS region: `AWS_REGION`, then `AWS_DEFAULT_REGION`; then the AWS profile's;
//! - X-Ray daemon: `AWS_XRAY_DAEMON_ADDRESS`; a host naming a compose service (`xray-daemon:2000`)
//!   is reached from this machine at 127.0.0.1 on the same port, as the recipe publishes it.
//!
//! A tracectl setting that only init reads ([`Model::setting`]) stops at layer 3. A variable the
//! backend container sees ([`Model::backend`]): its `environment:` entry, then its env files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::ProjectArgs;
use crate::error::{Error, Result};
use crate::project::collector::{self, Collector, Target};
use crate::project::{self, Layout, dotenv};
use crate::secret::Secret;
use crate::xray::daemon;

/// Where a resolved value came from, for `-v` and for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A command-line flag (or the environment variable clap reads for it).
    Flag,
    /// The environment tracectl runs in; the variable's name.
    Environment(String),
    /// The project's env file; the variable's name.
    EnvFile(String),
    /// The backend service's environment in the compose file; the variable's name.
    Backend(String),
    /// Found another way (a profile, a default); says which.
    Other(&'static str),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Environment(name) => write!(f, "environment {name}"),
            Source::EnvFile(name) => write!(f, "env file {name}"),
            Source::Backend(name) => write!(f, "the backend's {name} in the compose file"),
            Source::Other(what) => f.write_str(what),
        }
    }
}

/// The env file as found: where it is and what it holds.
#[derive(Debug, Default)]
pub struct EnvFile {
    pub path: PathBuf,
    /// The path as the user should see it.
    pub display: String,
    /// `None` when the file does not exist.
    pub text: Option<String>,
    /// Its variables; empty when it does not exist or does not parse.
    pub values: BTreeMap<String, String>,
    /// Why it could not be read or parsed.
    pub error: Option<Error>,
}

/// Everything tracectl knows about the project, read once.
pub struct Model {
    /// The project folder: the compose file's folder, else the folder tracectl runs in.
    pub dir: PathBuf,
    /// The compose file and the backend service; why not, when they cannot be found or read.
    pub layout: Result<Layout>,
    /// The backend's `environment:` as written (values uninterpolated; `None`: passed through).
    pub backend_env: Vec<(String, Option<String>)>,
    /// Variables from the backend's `env_file:` files, which `environment:` overrides.
    pub backend_env_files: BTreeMap<String, String>,
    pub env_file: EnvFile,
    /// The process environment (only names and values that are valid UTF-8).
    pub process: BTreeMap<String, String>,
    /// The backend's start command (compose `entrypoint:`/`command:` over its Dockerfile's
    /// `ENTRYPOINT`/`CMD`); `Ok(None)` when nothing names one; why not when a file is unreadable.
    pub start: Result<Option<crate::project::start::StartCommand>>,
}

fn non_empty(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Model {
    /// Find and read the project. Failures to find or read the compose file or the env file are
    /// kept in the model: each command decides whether they stop it.
    pub fn load(
        dir: &Path,
        args: &ProjectArgs,
        process: BTreeMap<String, String>,
        choose: impl FnOnce(&[String]) -> Result<Option<usize>>,
    ) -> Model {
        let layout = Layout::discover(
            dir,
            args.compose_file.as_deref(),
            args.service.as_deref(),
            args.env_file.as_deref(),
            choose,
        );
        let project_dir = match &layout {
            Ok(l) => l.dir.clone(),
            Err(_) => project::find_compose(dir, args.compose_file.as_deref())
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| dir.to_path_buf()),
        };
        let env_path = match (&layout, &args.env_file) {
            (Ok(l), _) => l.env_path.clone(),
            (Err(_), Some(file)) => dir.join(file),
            (Err(_), None) => project_dir.join(".env"),
        };
        let env_file = read_env_file(&project_dir, env_path, args.env_file.is_some(), &process);
        // Services' env files are interpolated as Compose does: its environment, then .env.
        let lookup = |n: &str| process.get(n).or_else(|| env_file.values.get(n)).cloned();
        let (backend_env, backend_env_files) = match &layout {
            Ok(l) => {
                register_env_file_secrets(l, &lookup);
                backend_environment(l, &lookup)
            }
            Err(_) => (Vec::new(), BTreeMap::new()),
        };
        let start = match &layout {
            Ok(l) => crate::project::start::resolve(&l.compose, &l.service, l.context.as_deref()),
            Err(_) => Ok(None),
        };
        Model {
            dir: project_dir,
            layout,
            backend_env,
            backend_env_files,
            env_file,
            process,
            start,
        }
    }

    /// The process environment as a map, for [`Model::load`].
    pub fn process_env() -> BTreeMap<String, String> {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref().ok()
    }

    /// A non-empty variable of the process environment.
    pub fn env(&self, name: &str) -> Option<String> {
        non_empty(self.process.get(name))
    }

    /// A non-empty variable of the project's env file.
    pub fn dotenv(&self, name: &str) -> Option<String> {
        non_empty(self.env_file.values.get(name))
    }

    /// A tracectl setting: the flag, then the first of `names` in the process environment, then
    /// in the env file. Blank values count as unset.
    pub fn setting(&self, flag: Option<&String>, names: &[&str]) -> Option<(String, Source)> {
        // clap folds a flag's own variable into the flag: say which one it really was.
        let folded = |v: &String| names.first().filter(|n| self.env(n).as_ref() == Some(v));
        non_empty(flag)
            .map(|v| match folded(&v) {
                Some(name) => (v, Source::Environment(name.to_string())),
                None => (v, Source::Flag),
            })
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| Some((self.env(n)?, Source::Environment(n.to_string()))))
            })
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| Some((self.dotenv(n)?, Source::EnvFile(n.to_string()))))
            })
    }

    /// A variable of the backend container as written: its `environment:` entry, then its env files.
    pub fn backend(&self, name: &str) -> Option<String> {
        self.backend_env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| self.backend_env_files.get(name).cloned())
    }

    /// A compose `${VAR}` as Compose interpolates it: the process environment, then the env file
    /// (blank values included: `${VAR:-default}` and `${VAR-default}` tell them apart).
    pub fn compose_var(&self, name: &str) -> Option<String> {
        self.process
            .get(name)
            .or_else(|| self.env_file.values.get(name))
            .cloned()
    }

    /// Whether a compose `${VAR}` has a value: from the process environment or the env file.
    pub fn defined(&self, name: &str) -> bool {
        self.process.contains_key(name) || self.env_file.values.contains_key(name)
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.layout().is_some_and(|l| l.compose.has_service(name))
    }

    /// The collector the backend exports to: the compose service its OTLP endpoint names, as the
    /// container sees that endpoint (the backend's own environment, interpolated).
    pub fn collector(&self) -> Option<(Target, Collector)> {
        let layout = self.layout()?;
        let (url, Source::Backend(var)) = ENDPOINT_VARS
            .iter()
            .find_map(|n| self.layer_var(Layer::Backend, n))?
        else {
            return None;
        };
        let (scheme, host, port, path) = collector::split_url(&url)?;
        let host = layout.compose.service_reached_as(host)?;
        if host == layout.service {
            return None;
        }
        let host = host.as_str();
        let protocol = [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]
        .iter()
        .find_map(|n| self.layer_var(Layer::Backend, n))
        .map(|(p, _)| p);
        // The SDK posts to a traces endpoint as written, and appends /v1/traces to a base one.
        let path = if var.contains("TRACES") {
            match path {
                "" => "/".to_string(),
                p => p.to_string(),
            }
        } else {
            format!("{}/v1/traces", path.trim_end_matches('/'))
        };
        let target = Target {
            scheme: scheme.to_string(),
            port,
            var,
            protocol,
            path,
            url: url.clone(),
        };
        // What the container gets: its env_file variables, then `environment:` over them.
        layout.compose.environment(host).ok()?;
        let (own, files) = service_environment(layout, host, &|v| self.compose_var(v));
        let env: Vec<(String, Option<String>)> = files
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .chain(own)
            .collect();
        let entrypoint = layout.compose.has_key(host, "entrypoint");
        let collector = Collector::read(host, layout.compose.image(host), entrypoint, &env, |v| {
            self.compose_var(v)
        });
        Some((target, collector))
    }
}

/// The layers after the flag, highest first; see the module's precedence table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Process,
    EnvFile,
    Backend,
}

const LAYERS: [Layer; 3] = [Layer::Process, Layer::EnvFile, Layer::Backend];

/// The flags that name project facts; `None` where a command has no such flag.
#[derive(Debug, Default, Clone, Copy)]
pub struct Flags<'a> {
    pub honeycomb_api_key: Option<&'a String>,
    pub dataset: Option<&'a String>,
    pub aws_region: Option<&'a String>,
    pub endpoint: Option<&'a String>,
}

/// The project facts doctor and send-test share, each with where it came from.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub honeycomb_key: Option<(Secret, Source)>,
    pub dataset: Option<(String, Source)>,
    /// The layer the OTLP exporter variables come from, when one names an endpoint.
    pub otlp_layer: Option<Layer>,
    /// The OTLP endpoint as written (a flag's, or the base or traces URL of `otlp_layer`).
    pub otlp_endpoint: Option<(String, Source)>,
    /// AWS_XRAY_DAEMON_ADDRESS as this machine reaches it; `None`: not configured.
    pub daemon_address: Option<(String, Source)>,
    /// The project runs the X-Ray daemon: a daemon service, or the backend names its address.
    pub uses_daemon: bool,
    /// The region from flags and variables; the AWS profile's is asked by the caller, on need.
    pub aws_region: Option<(String, Source)>,
}

const HEADER_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_HEADERS",
];
const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

impl Model {
    /// A non-blank variable of one layer. In the backend's environment, `${VAR}` is interpolated
    /// from the process environment and the env file; a value that cannot be is no value.
    pub fn layer_var(&self, layer: Layer, name: &str) -> Option<(String, Source)> {
        match layer {
            Layer::Process => Some((self.env(name)?, Source::Environment(name.into()))),
            Layer::EnvFile => Some((self.dotenv(name)?, Source::EnvFile(name.into()))),
            Layer::Backend => {
                let raw = self.backend(name)?;
                let value = interpolate(&raw, |v| self.compose_var(v))?;
                non_empty(Some(&value)).map(|v| (v, Source::Backend(name.into())))
            }
        }
    }

    /// The first of `names` in the first layer that has one.
    fn layered(&self, names: &[&str]) -> Option<(String, Source)> {
        LAYERS
            .iter()
            .find_map(|&l| names.iter().find_map(|n| self.layer_var(l, n)))
    }

    /// The flag, telling apart a real flag from the variable clap folded into it.
    fn flag(&self, flag: Option<&String>, folded_from: &str) -> Option<(String, Source)> {
        non_empty(flag).map(|v| {
            if self.env(folded_from).as_ref() == Some(&v) {
                (v, Source::Environment(folded_from.into()))
            } else {
                (v, Source::Flag)
            }
        })
    }

    /// A header of one layer's OTLP headers, written literally (a `${VAR}` is no value).
    fn header(&self, layer: Layer, header: &str) -> Option<(String, Source)> {
        HEADER_VARS.iter().find_map(|var| {
            let (text, source) = self.layer_var(layer, var)?;
            crate::otlp::config::parse_headers(&text, var)
                .ok()?
                .into_iter()
                .find(|h| h.name == header)
                .map(|h| h.value.expose().trim().to_string())
                .filter(|v| !v.is_empty() && !v.contains("${"))
                .map(|v| (v, source))
        })
    }

    /// A variable, or else a header of the OTLP headers, of the first layer with either.
    fn variable_or_header(&self, var: &str, header: &str) -> Option<(String, Source)> {
        LAYERS.iter().find_map(|&l| {
            self.layer_var(l, var)
                .filter(|(v, _)| !v.contains("${"))
                .or_else(|| self.header(l, header))
        })
    }

    /// The first layer that names an OTLP endpoint, and that endpoint.
    fn otlp(&self) -> Option<(Layer, (String, Source))> {
        LAYERS
            .iter()
            .find_map(|&l| Some((l, ENDPOINT_VARS.iter().find_map(|n| self.layer_var(l, n))?)))
    }

    /// A variable of the layer the OTLP exporter configuration comes from; the process
    /// environment when no layer names an endpoint (a flag's endpoint takes its headers there).
    pub fn exporter_var(&self, layer: Option<Layer>, name: &str) -> Option<String> {
        self.layer_var(layer.unwrap_or(Layer::Process), name)
            .map(|(v, _)| v)
    }

    /// The values of the OTLP headers every command may send or show, for the printer to mask:
    /// any of them may be a credential.
    pub fn exporter_header_values(&self, r: &Resolved) -> Vec<Secret> {
        let layers = [r.otlp_layer.unwrap_or(Layer::Process)];
        LAYERS
            .iter()
            .chain(&layers)
            .flat_map(|&l| HEADER_VARS.iter().filter_map(move |v| self.layer_var(l, v)))
            .filter_map(|(text, _)| crate::otlp::config::parse_headers(&text, "").ok())
            .flatten()
            .map(|h| h.value)
            .collect()
    }

    /// Every shared project fact, in the one precedence of the module's table.
    pub fn resolve(&self, flags: &Flags) -> Resolved {
        let honeycomb_key = self
            .flag(flags.honeycomb_api_key, "HONEYCOMB_API_KEY")
            .or_else(|| self.variable_or_header("HONEYCOMB_API_KEY", "x-honeycomb-team"))
            .map(|(k, s)| (Secret::new(k), s));
        let dataset = self
            .flag(flags.dataset, "HONEYCOMB_DATASET")
            .or_else(|| self.variable_or_header("HONEYCOMB_DATASET", "x-honeycomb-dataset"));
        let otlp = self.otlp();
        let otlp_endpoint = non_empty(flags.endpoint)
            .map(|e| (e, Source::Flag))
            .or_else(|| otlp.as_ref().map(|(_, e)| e.clone()));
        let daemon_address = LAYERS.iter().find_map(|&l| {
            let (value, source) = self.layer_var(l, "AWS_XRAY_DAEMON_ADDRESS")?;
            let value = if l == Layer::Backend {
                reachable_daemon(&value, |host| self.has_service(host))
            } else {
                value
            };
            Some((value, source))
        });
        let aws_region = self
            .flag(flags.aws_region, "AWS_REGION")
            .or_else(|| self.layered(&["AWS_REGION", "AWS_DEFAULT_REGION"]));
        Resolved {
            honeycomb_key,
            dataset,
            otlp_layer: otlp.map(|(l, _)| l),
            otlp_endpoint,
            daemon_address,
            uses_daemon: self.has_service(crate::recipe::DAEMON_SERVICE)
                || self.backend("AWS_XRAY_DAEMON_ADDRESS").is_some(),
            aws_region,
        }
    }

    /// What `-v` says about the project and the shared facts, the same for every command.
    /// Pure: the caller prints the lines (the key is masked by its type).
    pub fn describe(&self, r: &Resolved) -> Vec<String> {
        let mut lines = vec![
            match self.layout() {
                Some(l) => format!(
                    "compose file {}, backend service {}",
                    l.compose.path().display(),
                    l.service
                ),
                None => "no compose project".to_string(),
            },
            format!(
                "env file {} ({})",
                self.env_file.path.display(),
                if self.env_file.text.is_some() {
                    "found"
                } else {
                    "absent"
                }
            ),
        ];
        let from = |what: &str, value: Option<(String, &Source)>, otherwise: &str| match value {
            Some((v, s)) => format!("{what} {v} (from {s})"),
            None => format!("{what} {otherwise}"),
        };
        lines.push(from(
            "Honeycomb key",
            r.honeycomb_key.as_ref().map(|(k, s)| (k.to_string(), s)),
            "not set",
        ));
        lines.push(from(
            "Honeycomb dataset",
            r.dataset.as_ref().map(|(d, s)| (d.clone(), s)),
            "not set",
        ));
        lines.push(from(
            "OTLP endpoint",
            r.otlp_endpoint
                .as_ref()
                .map(|(e, s)| (crate::send::without_userinfo(e), s)),
            "not set",
        ));
        lines.push(from(
            "X-Ray daemon",
            r.daemon_address.as_ref().map(|(a, s)| (a.clone(), s)),
            &format!("not configured ({} by default)", daemon::DEFAULT_ADDRESS),
        ));
        lines.push(from(
            "AWS region",
            r.aws_region.as_ref().map(|(a, s)| (a.clone(), s)),
            "not set (the AWS profile's, if any)",
        ));
        lines
    }
}

/// AWS_XRAY_DAEMON_ADDRESS as written for the backend container, as this machine reaches it: a
/// host that names a compose service is that service's published port on 127.0.0.1.
fn reachable_daemon(value: &str, is_service: impl Fn(&str) -> bool) -> String {
    value
        .split_whitespace()
        .map(|part| {
            let (prefix, address) = match part.split_once(':') {
                Some((p @ ("tcp" | "udp"), rest)) => (format!("{p}:"), rest),
                _ => (String::new(), part),
            };
            match address.rsplit_once(':') {
                Some((host, port)) if is_service(host) => format!("{prefix}127.0.0.1:{port}"),
                _ => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compose's interpolation of one value: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+other}`, `${VAR+other}`.
/// `None` when a variable without a default is unset (Compose would warn and use ""), or the
/// syntax is broken: such a value is not what the container will see.
pub fn interpolate(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    interpolate_with(text, &lookup)
}

fn interpolate_with(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(body) = rest.strip_prefix('{') {
            let end = closing_brace(body)?;
            let (expr, after) = (&body[..end], &body[end + 1..]);
            let name_end = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let (name, op) = expr.split_at(name_end);
            if name.is_empty() {
                return None;
            }
            let value = lookup(name);
            let set_non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
            out.push_str(&match op {
                "" => value?,
                _ if op.starts_with(":-") => {
                    if set_non_empty {
                        value?
                    } else {
                        interpolate_with(&op[2..], lookup)?
                    }
                }
                _ if op.starts_with('-') => match value {
                    Some(v) => v,
                    None => interpolate_with(&op[1..], lookup)?,
                },
                // Compose refuses to start; the container sees nothing.
                _ if op.starts_with(":?") => value.filter(|_| set_non_empty)?,
                _ if op.starts_with('?') => value?,
                _ if op.starts_with(":+") => {
                    if set_non_empty {
                        interpolate_with(&op[2..], lookup)?
                    } else {
                        String::new()
                    }
                }
                _ if op.starts_with('+') => {
                    if value.is_some() {
                        interpolate_with(&op[1..], lookup)?
                    } else {
                        String::new()
                    }
                }
                _ => return None,
            });
            rest = after;
        } else {
            let name_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if name_end == 0 {
                out.push('$');
                continue;
            }
            out.push_str(&lookup(&rest[..name_end])?);
            rest = &rest[name_end..];
        }
    }
    out.push_str(rest);
    Some(out)
}

/// Where the `${` whose body starts `body` closes: nested `${...}` (a default that names another
/// variable, as Compose allows) is skipped whole.
fn closing_brace(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The Honeycomb API base, in the one order every command reads it: HONEYCOMB_API_ENDPOINT, the
/// key's own region, the region of the first Honeycomb OTLP endpoint among `endpoints`, else US.
pub fn honeycomb_base(
    api_endpoint: Option<String>,
    key: Option<&str>,
    endpoints: &[&str],
) -> String {
    use crate::honeycomb;
    non_empty(api_endpoint.as_ref())
        .or_else(|| {
            key.and_then(|k| honeycomb::classify(k).region)
                .or_else(|| {
                    endpoints
                        .iter()
                        .find_map(|e| honeycomb::region_of_endpoint(e))
                })
                .map(|r| honeycomb::api_base(r).to_string())
        })
        .unwrap_or_else(|| honeycomb::US_API.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// A service's environment as written, and the variables of its env files.
type ServiceEnv = (Vec<(String, Option<String>)>, BTreeMap<String, String>);

/// The one place the model asks the compose file for the backend's environment. Its env files are
/// read in order, a later file overriding an earlier one as Compose does; a file that is missing or
/// does not parse adds nothing here (doctor's compose check says why).
fn backend_environment(layout: &Layout, lookup: &dyn Fn(&str) -> Option<String>) -> ServiceEnv {
    service_environment(layout, &layout.service, lookup)
}

/// A service's `environment:` as written, and the variables of its `env_file:` files (secrets
/// in them registered as they are read), interpolated through `lookup` as Compose does.
fn service_environment(
    layout: &Layout,
    service: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> ServiceEnv {
    let env = layout
        .compose
        .environment(service)
        .map(|(_, vars)| vars)
        .unwrap_or_default();
    let mut from_files = BTreeMap::new();
    for file in layout.compose.env_files(service).unwrap_or_default() {
        let display = project::display(&layout.dir, &file.path);
        if let Ok(Some(text)) = project::write::read_text(&file.path, &display) {
            crate::secret::register_all(crate::secret::in_text(&text));
            if let Ok(values) = dotenv::resolved(&file.path, &text, lookup) {
                from_files.extend(values);
            }
        }
    }
    (env, from_files)
}

/// Register the secrets in every env file any service names (`env_file:`), before anything can
/// quote one back: a collector's exporter key is as secret as the backend's, and a peer that
/// echoes it must not print it.
fn register_env_file_secrets(layout: &Layout, lookup: &dyn Fn(&str) -> Option<String>) {
    let mut seen = std::collections::HashSet::new();
    for service in layout.compose.service_names() {
        for file in layout.compose.env_files(&service).unwrap_or_default() {
            if !seen.insert(file.path.clone()) {
                continue;
            }
            let display = project::display(&layout.dir, &file.path);
            if let Ok(Some(text)) = project::write::read_text(&file.path, &display) {
                crate::secret::register_all(crate::secret::in_text(&text));
                if let Ok(values) = dotenv::resolved(&file.path, &text, lookup) {
                    // As the printer registers the env file's: every value, by name and shape.
                    for (name, value) in &values {
                        crate::secret::register_all(crate::secret::in_variable(name, value));
                    }
                }
            }
        }
    }
}

/// The project's env file, its values as Compose reads them: `${VAR}` from the environment
/// Compose runs in (`process`), then from the file's earlier lines.
fn read_env_file(
    dir: &Path,
    path: PathBuf,
    explicit: bool,
    process: &BTreeMap<String, String>,
) -> EnvFile {
    let display = project::display(dir, &path);
    let mut file = EnvFile {
        display,
        ..EnvFile::default()
    };
    match project::write::read_text(&path, &file.display) {
        Ok(Some(text)) => {
            // Before anything can quote the file back, even a parse error.
            crate::secret::register_all(crate::secret::in_text(&text));
            match dotenv::resolved(&path, &text, |n| process.get(n).cloned()) {
                Ok(values) => file.values = values,
                Err(e) => file.error = Some(e),
            }
            file.text = Some(text);
        }
        Ok(None) if !explicit => {}
        Ok(None) => {
            file.error = Some(Error::usage(
                format!("env file {} does not exist", file.display),
                "check --env-file, or create the file".to_string(),
            ))
        }
        Err(e) => file.error = Some(e),
    }
    file.path = path;
    file
}

#[cfg(test)]
impl Model {
    /// A model with no compose file: the process environment, the env file and the backend's
    /// `environment:` as given.
    pub(crate) fn fake(
        process: &[(&str, &str)],
        dotenv: &[(&str, &str)],
        backend: &[(&str, &str)],
    ) -> Model {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        Model {
            dir: PathBuf::from("."),
            layout: Err(Error::usage("no compose file", None)),
            backend_env: backend
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
            backend_env_files: BTreeMap::new(),
            env_file: EnvFile {
                values: map(dotenv),
                ..EnvFile::default()
            },
            process: map(process),
            start: Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(process: &[(&str, &str)], dotenv: &[(&str, &str)]) -> Model {
        Model {
            dir: PathBuf::from("."),
            layout: Err(Error::usage("no compose file", None)),
            backend_env: vec![
                ("OTEL_SERVICE_NAME".into(), Some("from-compose".into())),
                ("PASSED".into(), None),
            ],
            backend_env_files: [("OTEL_SERVICE_NAME", "from-env-file"), ("ONLY", "x")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            env_file: EnvFile {
                values: dotenv
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..EnvFile::default()
            },
            process: process
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            start: Ok(None),
        }
    }

    #[test]
    fn flag_beats_environment_beats_env_file() {
        let m = model(
            &[("AWS_DEFAULT_REGION", "us-east-1")],
            &[("AWS_REGION", "ap-south-1")],
        );
        let names = ["AWS_REGION", "AWS_DEFAULT_REGION"];
        let flag = "eu-west-3".to_string();
        assert_eq!(
            m.setting(Some(&flag), &names),
            Some(("eu-west-3".into(), Source::Flag))
        );
        // Every name is looked up in the environment before any in the env file.
        assert_eq!(
            m.setting(None, &names),
            Some((
                "us-east-1".into(),
                Source::Environment("AWS_DEFAULT_REGION".into())
            ))
        );
        let m = model(&[], &[("AWS_REGION", "ap-south-1")]);
        assert_eq!(
            m.setting(None, &names),
            Some(("ap-south-1".into(), Source::EnvFile("AWS_REGION".into())))
        );
    }

    #[test]
    fn blank_values_are_unset() {
        let m = model(
            &[("HONEYCOMB_DATASET", "  ")],
            &[("HONEYCOMB_DATASET", "d")],
        );
        let blank = " ".to_string();
        assert_eq!(
            m.setting(Some(&blank), &["HONEYCOMB_DATASET"]),
            Some(("d".into(), Source::EnvFile("HONEYCOMB_DATASET".into())))
        );
        assert_eq!(model(&[], &[]).setting(None, &["X"]), None);
    }

    #[test]
    fn compose_environment_beats_the_services_env_files() {
        let m = model(&[], &[]);
        assert_eq!(
            m.backend("OTEL_SERVICE_NAME").as_deref(),
            Some("from-compose")
        );
        assert_eq!(m.backend("ONLY").as_deref(), Some("x"));
        assert_eq!(m.backend("PASSED"), None);
    }

    /// The module's table, row by row, for every shared fact: each layer beats the ones below it.
    #[test]
    fn precedence_table() {
        let l = |v: &str| v.to_string();
        // (fact, variable, read the fact)
        type Read = fn(&Resolved) -> Option<(String, Source)>;
        let facts: [(&str, &str, Read); 4] = [
            ("dataset", "HONEYCOMB_DATASET", |r| r.dataset.clone()),
            ("region", "AWS_REGION", |r| r.aws_region.clone()),
            ("endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", |r| {
                r.otlp_endpoint.clone()
            }),
            ("daemon", "AWS_XRAY_DAEMON_ADDRESS", |r| {
                r.daemon_address.clone()
            }),
        ];
        for (fact, var, read) in facts {
            let flag = l("from-flag");
            let flags = Flags {
                dataset: Some(&flag),
                aws_region: Some(&flag),
                endpoint: Some(&flag),
                ..Flags::default()
            };
            let p = [(var, "from-process")];
            let d = [(var, "from-env-file")];
            let b = [(var, "from-backend")];
            let cases: [(&Model, Option<(&str, Source)>); 5] = [
                (
                    &Model::fake(&p, &d, &b),
                    Some(("from-process", Source::Environment(l(var)))),
                ),
                (
                    &Model::fake(&[], &d, &b),
                    Some(("from-env-file", Source::EnvFile(l(var)))),
                ),
                (
                    &Model::fake(&[], &[], &b),
                    Some(("from-backend", Source::Backend(l(var)))),
                ),
                (&Model::fake(&[], &[], &[]), None),
                // Blank is unset, in every layer.
                (
                    &Model::fake(&[(var, " ")], &[(var, "")], &b),
                    Some(("from-backend", Source::Backend(l(var)))),
                ),
            ];
            for (i, (m, want)) in cases.into_iter().enumerate() {
                let got = read(&m.resolve(&Flags::default()));
                let want = want.map(|(v, s)| (v.to_string(), s));
                assert_eq!(got, want, "{fact}, case {i}");
                if fact != "daemon" {
                    assert_eq!(
                        read(&m.resolve(&flags)),
                        Some((flag.clone(), Source::Flag)),
                        "{fact} flag, case {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn region_names_in_order_within_a_layer_and_layers_first() {
        let r = |p: &[(&str, &str)], d: &[(&str, &str)], b: &[(&str, &str)]| {
            Model::fake(p, d, b).resolve(&Flags::default()).aws_region
        };
        assert_eq!(
            r(&[("AWS_DEFAULT_REGION", "a")], &[("AWS_REGION", "b")], &[]),
            Some(("a".into(), Source::Environment("AWS_DEFAULT_REGION".into())))
        );
        assert_eq!(
            r(
                &[],
                &[("AWS_DEFAULT_REGION", "a"), ("AWS_REGION", "b")],
                &[]
            ),
            Some(("b".into(), Source::EnvFile("AWS_REGION".into())))
        );
        // A flag clap read from AWS_REGION says so.
        let m = Model::fake(&[("AWS_REGION", "eu-west-1")], &[], &[]);
        let flag = "eu-west-1".to_string();
        let flags = Flags {
            aws_region: Some(&flag),
            ..Flags::default()
        };
        assert_eq!(
            m.resolve(&flags).aws_region,
            Some((flag.clone(), Source::Environment("AWS_REGION".into())))
        );
    }

    #[test]
    fn dataset_from_headers_of_any_layer() {
        let h = |v: &str| [("OTEL_EXPORTER_OTLP_HEADERS", v.to_string())];
        let ds = |p: &[(&str, String)], d: &[(&str, &str)], b: &[(&str, String)]| {
            let pv: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let bv: Vec<(&str, &str)> = b.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Model::fake(&pv, d, &bv).resolve(&Flags::default()).dataset
        };
        let env_headers = Source::Environment("OTEL_EXPORTER_OTLP_HEADERS".into());
        assert_eq!(
            ds(
                &h("x-honeycomb-dataset=p"),
                &[("HONEYCOMB_DATASET", "d")],
                &[]
            ),
            Some(("p".into(), env_headers))
        );
        assert_eq!(
            ds(&[], &[], &h("a=1,x-honeycomb-dataset=b")),
            Some((
                "b".into(),
                Source::Backend("OTEL_EXPORTER_OTLP_HEADERS".into())
            ))
        );
        // An unresolvable reference is no dataset.
        assert_eq!(ds(&[], &[], &h("x-honeycomb-dataset=${NOPE}")), None);
    }

    #[test]
    fn one_layer_supplies_the_whole_exporter() {
        let m = Model::fake(
            &[("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=shell")],
            &[],
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")],
        );
        let r = m.resolve(&Flags::default());
        assert_eq!(r.otlp_layer, Some(Layer::Backend));
        assert_eq!(
            m.exporter_var(r.otlp_layer, "OTEL_EXPORTER_OTLP_HEADERS"),
            None
        );
        assert_eq!(
            m.exporter_var(None, "OTEL_EXPORTER_OTLP_HEADERS")
                .as_deref(),
            Some("x-honeycomb-team=shell")
        );
    }

    #[test]
    fn daemon_service_hosts_are_reached_on_loopback() {
        let service = |h: &str| h == "xray-daemon";
        assert_eq!(
            reachable_daemon("xray-daemon:2000", service),
            "127.0.0.1:2000"
        );
        assert_eq!(
            reachable_daemon("tcp:xray-daemon:2001 udp:xray-daemon:2002", service),
            "tcp:127.0.0.1:2001 udp:127.0.0.1:2002"
        );
        assert_eq!(reachable_daemon("10.1.2.3:2000", service), "10.1.2.3:2000");
        assert_eq!(reachable_daemon("garbage", service), "garbage");
    }

    #[test]
    fn compose_interpolation() {
        let vars = |k: &str| match k {
            "SET" => Some("v".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let i = |t: &str| interpolate(t, vars);
        assert_eq!(i("a=${SET},b=$SET.x").as_deref(), Some("a=v,b=v.x"));
        assert_eq!(i("$$SET and $").as_deref(), Some("$SET and $"));
        assert_eq!(
            i("${UNSET:-d}/${EMPTY:-d}/${EMPTY-d}").as_deref(),
            Some("d/d/")
        );
        assert_eq!(i("${SET:+alt}${UNSET:+alt}").as_deref(), Some("alt"));
        assert_eq!(i("${UNSET}"), None);
        assert_eq!(i("${EMPTY:?must}"), None);
        assert_eq!(i("${EMPTY?must}").as_deref(), Some(""));
        assert_eq!(i("${SET"), None);
        assert_eq!(i("${}"), None);
        // A default may name another variable (the collector's X-Ray endpoint does).
        assert_eq!(
            i("${UNSET:-https://x.${SET}.y}/z").as_deref(),
            Some("https://x.v.y/z")
        );
        assert_eq!(i("${SET:-a${UNSET}b}").as_deref(), Some("v"));
        assert_eq!(i("${UNSET:-a${UNSET}b}"), None);
        assert_eq!(i("${UNSET-${EMPTY:-${SET}}}").as_deref(), Some("v"));
        assert_eq!(i("${SET:+<${SET}>}").as_deref(), Some("<v>"));
        assert_eq!(i("${UNSET:-$${SET}}").as_deref(), Some("${SET}"));
        assert_eq!(i("${UNSET:-${SET}"), None);
    }

    #[test]
    fn describe_masks_the_key_and_names_every_source() {
        let m = Model::fake(
            &[("HONEYCOMB_API_KEY", EU_KEY)],
            &[("AWS_REGION", "eu-west-1")],
            &[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://u:p@api.honeycomb.io",
            )],
        );
        let lines = m.describe(&m.resolve(&Flags::default())).join("\n");
        assert!(!lines.contains(EU_KEY), "{lines}");
        assert!(!lines.contains("u:p@"), "{lines}");
        for want in [
            "no compose project",
            "(from environment HONEYCOMB_API_KEY)",
            "AWS region eu-west-1 (from env file AWS_REGION)",
            "OTLP endpoint https://api.honeycomb.io (from the backend's OTEL_EXPORTER_OTLP_ENDPOINT",
            "X-Ray daemon not configured (127.0.0.1:2000 by default)",
            "Honeycomb dataset not set",
        ] {
            assert!(lines.contains(want), "{want} in {lines}");
        }
    }

    const EU_KEY: &str = "hcbik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    #[test]
    fn interpolation_sees_environment_and_env_file() {
        let m = model(&[("A", "")], &[("B", "1")]);
        assert!(m.defined("A") && m.defined("B") && !m.defined("C"));
    }
}

#[cfg(test)]
mod honeycomb_tests {
    use super::*;

    const US: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";
    const EU: &str = "hcbik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    fn key(m: &Model, flag: Option<&str>) -> Option<(String, Source)> {
        let flag = flag.map(str::to_string);
        m.resolve(&Flags {
            honeycomb_api_key: flag.as_ref(),
            ..Flags::default()
        })
        .honeycomb_key
        .map(|(k, s)| (k.expose().to_string(), s))
    }

    #[test]
    fn one_order_for_the_key() {
        let headers = format!("a=b,x-honeycomb-team={US}");
        let file = [("HONEYCOMB_API_KEY", EU)];
        assert_eq!(
            key(&Model::fake(&[], &file, &[]), None),
            Some((EU.into(), Source::EnvFile("HONEYCOMB_API_KEY".into())))
        );
        let with_headers = [("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str())];
        assert_eq!(
            key(&Model::fake(&with_headers, &file, &[]), None),
            Some((
                US.into(),
                Source::Environment("OTEL_EXPORTER_OTLP_HEADERS".into())
            ))
        );
        assert_eq!(
            key(&Model::fake(&with_headers, &file, &[]), Some(EU)),
            Some((EU.into(), Source::Flag))
        );
        let referenced = [(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
        )];
        assert_eq!(
            key(&Model::fake(&referenced, &file, &[]), None).unwrap().0,
            EU
        );
        // Only in the backend's headers, written through a variable of the env file.
        let m = Model::fake(&[], &file, &referenced);
        assert_eq!(
            key(&m, None),
            Some((EU.into(), Source::EnvFile("HONEYCOMB_API_KEY".into())))
        );
        let m = Model::fake(&[], &[], &with_headers);
        assert_eq!(
            key(&m, None),
            Some((
                US.into(),
                Source::Backend("OTEL_EXPORTER_OTLP_HEADERS".into())
            ))
        );
    }

    #[test]
    fn one_order_for_the_api_base() {
        let eu_endpoint = ["https://api.eu1.honeycomb.io"];
        assert_eq!(
            honeycomb_base(None, Some(US), &eu_endpoint),
            crate::honeycomb::US_API
        );
        assert_eq!(
            honeycomb_base(None, None, &eu_endpoint),
            crate::honeycomb::EU_API
        );
        assert_eq!(
            honeycomb_base(Some("http://127.0.0.1:9/".into()), Some(EU), &[]),
            "http://127.0.0.1:9"
        );
    }
}
