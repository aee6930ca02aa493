//! What doctor's checks need to know, derived from the project model once; and the one slow local
//! fact, whether git tracks or ignores the env file, asked on a deadline.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::project::EnvFileFacts;
use super::{CheckResult, Finding, Status};
use crate::error::Error;
use crate::project::collector::{Collector, Target};
use crate::project::model::{self, Model, Resolved, Source};
use crate::project::{self, gitignore};
use crate::secret::Secret;
use crate::xray::daemon;

/// Everything the checks need to know, read once from the model.
pub struct Facts<'a> {
    pub model: &'a Model,
    /// Why there is no compose project, as the `compose` check's result.
    pub layout_error: Option<CheckResult>,
    /// Why the env file could not be read, as the `env-file` check's result.
    pub env_error: Option<CheckResult>,
    pub honeycomb_key: Option<Secret>,
    pub dataset: Option<String>,
    /// The OTLP endpoint, in the model's precedence.
    pub endpoint: Option<String>,
    pub honeycomb_base: String,
    pub honeycomb: bool,
    pub xray: bool,
    pub uses_daemon: bool,
    /// The compose service the backend exports OTLP to, when it names one, and that collector.
    pub collector: Option<(Target, Collector)>,
    /// That collector sends traces to X-Ray (or cannot be read): the X-Ray SDK and the daemon
    /// have no part in it.
    pub via_collector: bool,
    pub aws_region: Option<(String, Source)>,
    /// AWS_XRAY_DAEMON_ADDRESS is set in any layer of the model.
    pub daemon_address_set: bool,
    pub daemon_tcp: String,
    /// The shared facts with their sources, for `-v`.
    pub resolved: Resolved,
}

/// The flags doctor's facts depend on.
pub struct Flags<'a> {
    pub honeycomb_api_key: Option<&'a String>,
    pub dataset: Option<&'a String>,
    pub aws_region: Option<&'a String>,
    pub compose_file_given: bool,
    /// `--require-compose`: no compose file is a failure, not a reason to skip.
    pub require_compose: bool,
}

/// Where to look when `--require-compose` finds no compose file.
const NO_COMPOSE_HINT: &str = "run in the folder that holds it: -C DIR (in the GitHub Action, set the working-directory input), or --compose-file FILE";

fn layout_check(model: &Model, flags: &Flags) -> Option<CheckResult> {
    let e = model.layout.as_ref().err()?;
    if let Error::Usage { message, .. } = e
        && message.starts_with("no compose file")
        && !flags.compose_file_given
    {
        if flags.require_compose {
            return Some(
                CheckResult::fail(
                    "compose",
                    format!(
                        "no compose file in {}: nothing to check",
                        std::path::absolute(&model.dir)
                            .unwrap_or_else(|_| model.dir.clone())
                            .display()
                    ),
                )
                .hint(NO_COMPOSE_HINT),
            );
        }
        return Some(CheckResult::skip(
            "compose",
            "no compose file here (use -C DIR or --compose-file)",
        ));
    }
    let mut check = CheckResult::fail("compose", e.to_string());
    if let Error::Parse { path, line, .. } = e {
        check.findings.push(Finding {
            status: Status::Fail,
            message: e.to_string(),
            file: Some(project::display(&model.dir, path)),
            line: Some(*line),
        });
    }
    check.hint = e.hint();
    Some(check)
}

fn env_check(model: &Model) -> Option<CheckResult> {
    let e = model.env_file.error.as_ref()?;
    let mut check = CheckResult::fail("env-file", e.to_string());
    if let Error::Parse { line, .. } = e {
        check.findings.push(Finding {
            status: Status::Fail,
            message: e.to_string(),
            file: Some(model.env_file.display.clone()),
            line: Some(*line),
        });
    }
    check.hint = e.hint();
    Some(check)
}

/// The daemon's TCP address from AWS_XRAY_DAEMON_ADDRESS (`host:port` or `tcp:… udp:…`).
fn daemon_tcp(value: Option<String>) -> String {
    value
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
        .unwrap_or_else(|| daemon::DEFAULT_ADDRESS.to_string())
}

/// Derive the facts from the model's one precedence; `profile_region` is asked only when X-Ray is
/// configured and nothing else names a region.
pub fn facts<'a>(
    model: &'a Model,
    flags: &Flags,
    profile_region: impl FnOnce() -> Option<String>,
) -> Facts<'a> {
    let mut resolved = model.resolve(&model::Flags {
        honeycomb_api_key: flags.honeycomb_api_key,
        dataset: flags.dataset,
        aws_region: flags.aws_region,
        endpoint: None,
    });
    let honeycomb_key = resolved.honeycomb_key.as_ref().map(|(k, _)| k.clone());
    let endpoint = resolved.otlp_endpoint.as_ref().map(|(e, _)| e.clone());
    let honeycomb_base = model::honeycomb_base(
        model.env("HONEYCOMB_API_ENDPOINT"),
        honeycomb_key.as_ref().map(|k| k.expose()),
        &endpoint.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let headers = model
        .backend("OTEL_EXPORTER_OTLP_HEADERS")
        .unwrap_or_default();
    let honeycomb = honeycomb_key.is_some() || headers.contains("x-honeycomb-team");

    let uses_daemon = resolved.uses_daemon;
    let collector = model.collector();
    // A collector tracectl cannot read (configured by a file) is taken at its word: the backend
    // needs no X-Ray SDK, and the collector check says what could not be checked.
    let via_collector = collector
        .as_ref()
        .is_some_and(|(_, c)| c.xray().is_some() || !c.rotel);
    // A region given on the command line (not read from AWS_REGION) asks for the X-Ray checks.
    let region_flag = flags.aws_region.is_some() && !model.process.contains_key("AWS_REGION");
    let xray = uses_daemon
        || via_collector
        || region_flag
        || model.env_file.values.contains_key("AWS_REGION");
    if resolved.aws_region.is_none() && xray {
        resolved.aws_region = profile_region().map(|r| (r, Source::Other("the AWS profile")));
    }
    let daemon_tcp = daemon_tcp(resolved.daemon_address.as_ref().map(|(a, _)| a.clone()));
    Facts {
        model,
        layout_error: layout_check(model, flags),
        env_error: env_check(model),
        honeycomb_key,
        dataset: resolved.dataset.as_ref().map(|(d, _)| d.clone()),
        endpoint,
        honeycomb_base,
        honeycomb,
        xray,
        uses_daemon,
        collector,
        via_collector,
        aws_region: resolved.aws_region.clone(),
        daemon_address_set: resolved.daemon_address.is_some(),
        daemon_tcp,
        resolved,
    }
}

/// Run `git` in `dir` until `deadline`, then kill it. `Some(true)` for exit 0, `Some(false)` for
/// exit 1, `None` when git is missing, fails otherwise or runs out of time.
fn git(dir: &Path, args: &[&str], deadline: Instant) -> Option<bool> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(0) => Some(true),
                    Some(1) => Some(false),
                    _ => None,
                };
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Whether git tracks and ignores a file, asked on another thread; take the answer with
/// [`GitProbe::finish`].
pub struct GitProbe {
    answer: mpsc::Receiver<(Option<bool>, Option<bool>)>,
    deadline: Instant,
}

impl GitProbe {
    pub fn start(env_path: &Path, deadline: Instant) -> GitProbe {
        let dir = env_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = env_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (send, answer) = mpsc::channel();
        std::thread::spawn(move || {
            let tracked = git(
                &dir,
                &["ls-files", "--error-unmatch", "--", &name],
                deadline,
            );
            let ignored = if tracked.is_some() {
                git(&dir, &["check-ignore", "-q", "--", &name], deadline)
            } else {
                std::fs::read_to_string(dir.join(".gitignore"))
                    .ok()
                    .map(|t| gitignore::ignores(&t, &name))
            };
            let _ = send.send((tracked, ignored));
        });
        GitProbe { answer, deadline }
    }

    /// The env file's facts with git's answers; unknown when git did not answer by the deadline.
    pub fn finish(self, model: &Model) -> EnvFileFacts {
        let wait = self
            .deadline
            .saturating_duration_since(Instant::now())
            .saturating_add(Duration::from_millis(100));
        let (tracked, ignored) = self.answer.recv_timeout(wait).unwrap_or((None, None));
        use std::os::unix::fs::PermissionsExt;
        EnvFileFacts {
            display: model.env_file.display.clone(),
            exists: model.env_file.text.is_some(),
            mode: std::fs::metadata(&model.env_file.path)
                .ok()
                .map(|m| m.permissions().mode()),
            tracked,
            ignored,
            ci: in_ci(|name| model.process.get(name).cloned()),
        }
    }
}

/// Whether this runs in CI: `CI` or `GITHUB_ACTIONS` is true (as GitHub, GitLab and most CI
/// services set them). A project's env file is gitignored, so a CI checkout never has one.
pub fn in_ci(var: impl Fn(&str) -> Option<String>) -> bool {
    ["CI", "GITHUB_ACTIONS"].iter().any(|name| {
        var(name).is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("true") || v == "1"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_detected_from_ci_or_github_actions() {
        let env = crate::test_support::env;
        assert!(in_ci(env(&[("CI", "true")])));
        assert!(in_ci(env(&[("CI", "TRUE")])));
        assert!(in_ci(env(&[("CI", "1")])));
        assert!(in_ci(env(&[("GITHUB_ACTIONS", "true")])));
        assert!(!in_ci(env(&[("CI", "false")])));
        assert!(!in_ci(env(&[("CI", "")])));
        assert!(!in_ci(env(&[])));
    }

    #[test]
    fn daemon_address_forms() {
        assert_eq!(daemon_tcp(None), daemon::DEFAULT_ADDRESS);
        assert_eq!(daemon_tcp(Some("h:1".into())), "h:1");
        assert_eq!(daemon_tcp(Some("udp:h:1 tcp:h:2".into())), "h:2");
    }

    #[test]
    fn a_hanging_git_is_killed_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        // `git` with an unknown subcommand exits 1 fast; a deadline in the past stops any git.
        let _ = git(dir.path(), &["--version"], started);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
