//! The user's project resolved once — compose file, backend service, its environment, the env
//! file, the process environment — and the one precedence every command reads values with.
//!
//! Precedence, the same as Docker Compose's own, for every command:
//! - a tracectl setting: its command-line flag, then the process environment, then the project's
//!   env file (`.env`, or `--env-file`); see [`Model::setting`];
//! - a variable the backend container sees: its `environment:` entry in the compose file, then the
//!   variables of its `env_file:` files; see [`Model::backend`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::ProjectArgs;
use crate::error::{Error, Result};
use crate::project::{self, Layout, dotenv};

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
    /// Found another way (a profile, a default); says which.
    Other(&'static str),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Environment(name) => write!(f, "environment {name}"),
            Source::EnvFile(name) => write!(f, "env file {name}"),
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
        let env_file = read_env_file(&project_dir, env_path, args.env_file.is_some());
        let (backend_env, backend_env_files) = match &layout {
            Ok(l) => backend_environment(l),
            Err(_) => (Vec::new(), BTreeMap::new()),
        };
        Model {
            dir: project_dir,
            layout,
            backend_env,
            backend_env_files,
            env_file,
            process,
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
    /// The Honeycomb key; see [`honeycomb_key`].
    pub fn honeycomb_key(&self, flag: Option<&String>) -> Option<(String, Source)> {
        honeycomb_key(flag, |k| self.env(k), |k| self.dotenv(k))
    }

    /// A variable of the backend container as written: its `environment:` entry, then its env files.
    pub fn backend(&self, name: &str) -> Option<String> {
        self.backend_env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| self.backend_env_files.get(name).cloned())
    }

    /// Whether a compose `${VAR}` has a value: from the process environment or the env file.
    pub fn defined(&self, name: &str) -> bool {
        self.process.contains_key(name) || self.env_file.values.contains_key(name)
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.layout().is_some_and(|l| l.compose.has_service(name))
    }
}

/// The Honeycomb key, in the one order every command reads it: the flag (clap folds
/// HONEYCOMB_API_KEY into it), the `x-honeycomb-team` header of OTEL_EXPORTER_OTLP_HEADERS in the
/// environment, then the env file's HONEYCOMB_API_KEY. A `${VAR}` reference is no key.
pub fn honeycomb_key(
    flag: Option<&String>,
    env: impl Fn(&str) -> Option<String>,
    dotenv: impl Fn(&str) -> Option<String>,
) -> Option<(String, Source)> {
    const HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    let from_flag = non_empty(flag).map(|k| {
        let source = if non_empty(env("HONEYCOMB_API_KEY").as_ref()).as_ref() == Some(&k) {
            Source::Environment("HONEYCOMB_API_KEY".into())
        } else {
            Source::Flag
        };
        (k, source)
    });
    let from_headers = || {
        let headers = env(HEADERS)?;
        crate::otlp::config::parse_headers(&headers, HEADERS)
            .ok()?
            .into_iter()
            .find(|h| h.name == "x-honeycomb-team")
            .map(|h| h.value.expose().trim().to_string())
            .filter(|k| !k.is_empty() && !k.contains("${"))
            .map(|k| (k, Source::Environment(HEADERS.into())))
    };
    let from_env_file = || {
        non_empty(dotenv("HONEYCOMB_API_KEY").as_ref())
            .map(|k| (k, Source::EnvFile("HONEYCOMB_API_KEY".into())))
    };
    from_flag.or_else(from_headers).or_else(from_env_file)
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
fn backend_environment(layout: &Layout) -> ServiceEnv {
    let env = layout
        .compose
        .environment(&layout.service)
        .map(|(_, vars)| vars)
        .unwrap_or_default();
    let mut from_files = BTreeMap::new();
    for file in layout
        .compose
        .env_files(&layout.service)
        .unwrap_or_default()
    {
        let display = project::display(&layout.dir, &file.path);
        if let Ok(Some(text)) = project::write::read_text(&file.path, &display) {
            crate::secret::register_all(crate::secret::in_text(&text));
            if let Ok(values) = dotenv::values(&file.path, &text) {
                from_files.extend(values);
            }
        }
    }
    (env, from_files)
}

fn read_env_file(dir: &Path, path: PathBuf, explicit: bool) -> EnvFile {
    let display = project::display(dir, &path);
    let mut file = EnvFile {
        display,
        ..EnvFile::default()
    };
    match project::write::read_text(&path, &file.display) {
        Ok(Some(text)) => {
            // Before anything can quote the file back, even a parse error.
            crate::secret::register_all(crate::secret::in_text(&text));
            match dotenv::values(&path, &text) {
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

    #[test]
    fn interpolation_sees_environment_and_env_file() {
        let m = model(&[("A", "")], &[("B", "1")]);
        assert!(m.defined("A") && m.defined("B") && !m.defined("C"));
    }
}

#[cfg(test)]
mod honeycomb_tests {
    use super::*;
    use crate::test_support::env;

    const US: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";
    const EU: &str = "hcbik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    #[test]
    fn one_order_for_the_key() {
        let headers = format!("a=b,x-honeycomb-team={US}");
        let file = env(&[("HONEYCOMB_API_KEY", EU)]);
        let from = |flag: Option<&str>, process: &[(&str, &str)]| {
            honeycomb_key(flag.map(str::to_string).as_ref(), env(process), &file)
        };
        assert_eq!(
            from(None, &[]),
            Some((EU.into(), Source::EnvFile("HONEYCOMB_API_KEY".into())))
        );
        let with_headers = [("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str())];
        assert_eq!(from(None, &with_headers).unwrap().0, US);
        assert_eq!(
            from(Some(EU), &with_headers),
            Some((EU.into(), Source::Flag))
        );
        let referenced = [(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
        )];
        assert_eq!(from(None, &referenced).unwrap().0, EU);
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
