//! `doctor --format sarif`: the checks as a SARIF 2.1.0 log for code scanning. One result per
//! finding that warns or fails (rule id = check id), located by file and line relative to the
//! repository root; a rule for every check.

use std::path::{Component, Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use serde_json::{Value, json};

use super::{CHECKS, CheckResult, Finding, Status};
use crate::build_info;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base id GitHub code scanning resolves against the checkout: relative uris use it.
const SRCROOT: &str = "%SRCROOT%";

/// Bytes kept as they are in a path written as a URI: unreserved characters and `/`.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Where findings' files are: `base` is the folder their paths are relative to (the project
/// folder), `root` the repository root that uris are written relative to.
#[derive(Debug, Clone)]
pub struct Paths {
    base: PathBuf,
    root: Option<PathBuf>,
}

impl Paths {
    /// The project folder made absolute; the root is the nearest folder above it that holds
    /// `.git` (a folder, or a file in a worktree or submodule), else `workspace` (a runner's
    /// GITHUB_WORKSPACE) or the folder tracectl runs in, whichever holds the project, else none
    /// (uris are then absolute `file://` ones).
    pub fn discover(project_dir: &Path, workspace: Option<&Path>) -> Paths {
        let cwd = std::env::current_dir().ok();
        let absolute = |p: &Path| match &cwd {
            Some(cwd) if p.is_relative() => cwd.join(p),
            _ => p.to_path_buf(),
        };
        let resolved = |p: &Path| {
            let p = absolute(p);
            p.canonicalize().unwrap_or_else(|_| normalize(&p))
        };
        let base = resolved(project_dir);
        let repo = base
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .map(Path::to_path_buf);
        let root = repo.or_else(|| {
            [workspace.map(Path::to_path_buf), cwd.clone()]
                .into_iter()
                .flatten()
                .map(|dir| resolved(&dir))
                .find(|dir| base.starts_with(dir))
        });
        Paths { base, root }
    }

    /// A finding's file relative to the root (as GitHub annotations want it), or absolute when
    /// it is outside.
    pub fn relative(&self, file: &str) -> String {
        let path = normalize(&self.base.join(file));
        match self.root.as_ref().and_then(|r| path.strip_prefix(r).ok()) {
            Some(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
            _ => path.to_string_lossy().into_owned(),
        }
    }

    #[cfg(test)]
    pub(crate) fn new(base: &str, root: Option<&str>) -> Paths {
        Paths {
            base: PathBuf::from(base),
            root: root.map(PathBuf::from),
        }
    }

    /// A SARIF artifactLocation for a file as a finding names it.
    fn artifact(&self, file: &str) -> Value {
        let path = normalize(&self.base.join(file));
        match self.root.as_ref().and_then(|r| path.strip_prefix(r).ok()) {
            Some(rel) if !rel.as_os_str().is_empty() => json!({
                "uri": encode(rel),
                "uriBaseId": SRCROOT,
            }),
            _ => json!({ "uri": format!("file://{}", encode(&path)) }),
        }
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (the file may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The path's own bytes percent-encoded: a name that is not UTF-8 decodes back to itself.
fn encode(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    percent_encode(path.as_os_str().as_bytes(), PATH_KEEP).to_string()
}

fn level(status: Status) -> &'static str {
    match status {
        Status::Fail => "error",
        Status::Warn => "warning",
        Status::Pass | Status::Skip => "note",
    }
}

/// `env-file` as `EnvFile`: SARIF's rule names are identifiers.
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn driver() -> Value {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|(id, title, network)| {
            let mut tags = vec!["tracing"];
            if *network {
                tags.push("network");
            }
            let mut rule = json!({
                "id": id,
                "name": rule_name(id),
                "shortDescription": { "text": title },
                "defaultConfiguration": { "level": "error" },
                "properties": { "tags": tags },
            });
            if !build_info::REPOSITORY.is_empty() {
                rule["helpUri"] = json!(format!("{}#tracectl-doctor", build_info::REPOSITORY));
            }
            rule
        })
        .collect();
    let mut driver = json!({
        "name": "tracectl",
        "version": build_info::VERSION,
        "semanticVersion": build_info::PACKAGE_VERSION,
        "rules": rules,
    });
    if !build_info::REPOSITORY.is_empty() {
        driver["informationUri"] = json!(build_info::REPOSITORY);
    }
    driver
}

fn text(message: &str, hint: Option<&str>) -> Value {
    match hint {
        Some(hint) => json!({ "text": format!("{message}\nhint: {hint}") }),
        None => json!({ "text": message }),
    }
}

fn result(
    r: &CheckResult,
    status: Status,
    message: &str,
    finding: Option<&Finding>,
    paths: &Paths,
) -> Value {
    let index = CHECKS.iter().position(|(id, _, _)| *id == r.id);
    let mut out = json!({
        "ruleId": r.id,
        "level": level(status),
        "message": text(message, r.hint.as_deref()),
    });
    if let Some(index) = index {
        out["ruleIndex"] = json!(index);
    }
    // Findings about the environment (keys, endpoints, clocks) have no file: no location, and
    // code scanning lists them with the run rather than on a line.
    if let Some(file) = finding.and_then(|f| f.file.as_deref()) {
        let mut physical = json!({ "artifactLocation": paths.artifact(file) });
        if let Some(line) = finding.and_then(|f| f.line).filter(|l| *l >= 1) {
            physical["region"] = json!({ "startLine": line });
        }
        out["locations"] = json!([{ "physicalLocation": physical }]);
    }
    out
}

/// The SARIF log of a doctor run: a result for every finding that warns or fails, or for the
/// check itself when it has no such finding.
pub fn log(results: &[CheckResult], paths: &Paths) -> Value {
    let mut out = Vec::new();
    for r in results.iter().filter(|r| r.status >= Status::Warn) {
        let located: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.status >= Status::Warn)
            .collect();
        if located.is_empty() {
            out.push(result(r, r.status, &r.detail, None, paths));
        }
        for f in located {
            out.push(result(r, f.status, &f.message, Some(f), paths));
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver() },
            "invocations": [{ "executionSuccessful": true }],
            "results": out,
        }],
    })
}

/// A run that could not check anything (bad usage, an unreadable file): no results and the
/// error as a notification, so an upload step still gets a valid log and shows why.
pub fn error_log(message: &str, hint: Option<&str>, exit_code: u8) -> Value {
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver() },
            "invocations": [{
                "executionSuccessful": false,
                "exitCode": exit_code,
                "toolExecutionNotifications": [{
                    "level": "error",
                    "message": text(message, hint),
                }],
            }],
            "results": [],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(status: Status, file: Option<&str>, line: Option<usize>) -> Finding {
        Finding {
            status,
            message: "m".into(),
            file: file.map(String::from),
            line,
        }
    }

    #[test]
    fn uris_are_relative_to_the_root_and_percent_encoded() {
        let paths = Paths::new("/repo/my project/svc", Some("/repo"));
        assert_eq!(
            paths.artifact("docker-compose.yml"),
            json!({"uri": "my%20project/svc/docker-compose.yml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(paths.artifact("../.env")["uri"], "my%20project/.env");
        assert_eq!(
            paths.artifact("a#b?c%d.yml")["uri"],
            "my%20project/svc/a%23b%3Fc%25d.yml"
        );
        // Outside the repository: an absolute file URI, which takes no base id.
        assert_eq!(
            paths.artifact("/etc/tracing env"),
            json!({"uri": "file:///etc/tracing%20env"})
        );
        // A folder name that is not UTF-8: its bytes, not U+FFFD.
        use std::os::unix::ffi::OsStrExt;
        let odd = Paths {
            base: PathBuf::from(std::ffi::OsStr::from_bytes(b"/repo/p\xff")),
            root: Some(PathBuf::from("/repo")),
        };
        assert_eq!(odd.artifact("compose.yaml")["uri"], "p%FF/compose.yaml");
        let outside = Paths {
            root: None,
            ..odd.clone()
        };
        assert_eq!(
            outside.artifact("compose.yaml")["uri"],
            "file:///repo/p%FF/compose.yaml"
        );
        let no_root = Paths::new("/srv/p", None);
        assert_eq!(
            no_root.artifact(".env"),
            json!({"uri": "file:///srv/p/.env"})
        );
    }

    #[test]
    fn findings_become_results_and_every_check_a_rule() {
        let mut compose = CheckResult::fail("compose", "2 problems").hint("use ${VAR}");
        compose.findings = vec![
            finding(Status::Fail, Some("docker-compose.yml"), Some(7)),
            finding(Status::Warn, Some("docker-compose.yml"), None),
            finding(Status::Pass, Some("docker-compose.yml"), Some(2)),
        ];
        let clock = CheckResult::warn("clock", "skew 3 s");
        let log = log(
            &[compose, clock, CheckResult::pass("app", "ok")],
            &Paths::new("/r", Some("/r")),
        );
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), CHECKS.len());
        assert_eq!(rules[0]["name"], "EnvFile");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3, "{log:#}");
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[0]["message"]["text"], "m\nhint: use ${VAR}");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            7
        );
        assert!(results[1]["locations"][0]["physicalLocation"]["region"].is_null());
        assert_eq!(results[1]["level"], "warning");
        assert_eq!(results[2]["ruleId"], "clock");
        assert!(results[2]["locations"].is_null());
        let index = results[2]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], "clock");
    }
}
