//! `doctor`'s checks: each has an id, a title, a status, a one-line detail and a hint.

pub mod gather;
pub mod network;
pub mod project;
pub mod sarif;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

/// One problem inside a check, with where it is when it is in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub detail: String,
    pub hint: Option<String>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl CheckResult {
    pub fn new(id: &'static str, status: Status, detail: impl Into<String>) -> Self {
        CheckResult {
            id,
            title: title(id),
            status,
            detail: detail.into(),
            hint: None,
            duration_ms: 0,
            findings: Vec::new(),
        }
    }

    pub fn pass(id: &'static str, detail: impl Into<String>) -> Self {
        Self::new(id, Status::Pass, detail)
    }

    pub fn skip(id: &'static str, detail: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, detail)
    }

    pub fn warn(id: &'static str, detail: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, detail)
    }

    pub fn fail(id: &'static str, detail: impl Into<String>) -> Self {
        Self::new(id, Status::Fail, detail)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A check built from findings: its status is the worst of them, its detail their messages.
    pub fn from_findings(
        id: &'static str,
        ok: &str,
        findings: Vec<Finding>,
        hint: Option<String>,
    ) -> Self {
        let status = findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Pass);
        let mut worst = findings.clone();
        worst.sort_by_key(|f| std::cmp::Reverse(f.status));
        let detail = match worst.as_slice() {
            [] => ok.to_string(),
            [one] => one.message.clone(),
            [first, rest @ ..] => format!("{} (+{} more)", first.message, rest.len()),
        };
        CheckResult {
            hint: hint.filter(|_| status >= Status::Warn),
            findings,
            ..CheckResult::new(id, status, detail)
        }
    }
}

/// Every check, in the order it is shown: (id, title, needs the network).
pub const CHECKS: &[(&str, &str, bool)] = &[
    ("env-file", "Env file holds the secrets, privately", false),
    ("compose", "Compose file configures the backend", false),
    ("requirements", "Python packages are listed", false),
    ("app", "The Flask app is instrumented", false),
    (
        "collector",
        "The collector matches the backend and reaches X-Ray",
        false,
    ),
    (
        "honeycomb-key",
        "Honeycomb key matches its region and dataset",
        false,
    ),
    ("honeycomb-auth", "Honeycomb accepts the key", true),
    ("honeycomb-otlp", "Honeycomb's OTLP endpoint answers", true),
    ("aws-credentials", "AWS credentials resolve", true),
    ("aws-region", "AWS region is real", false),
    ("xray-endpoint", "X-Ray endpoint is reachable", true),
    ("xray-daemon", "X-Ray daemon is up", true),
    (
        "transaction-search",
        "Transaction Search is on (X-Ray's OTLP endpoint needs it)",
        true,
    ),
    (
        "xray-otlp-permission",
        "This identity may send OTLP to X-Ray",
        true,
    ),
    ("xray-support", "X-Ray SDK and daemon support", false),
    ("clock", "Clock agrees with the servers", false),
];

/// The checks that read the compose project and skip when there is none.
pub const COMPOSE_CHECKS: [&str; 4] = ["compose", "requirements", "app", "collector"];

pub fn title(id: &str) -> &'static str {
    CHECKS
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, t, _)| *t)
        .unwrap_or("")
}

/// Which checks run: `--check` keeps only those, `--skip` removes, `--offline` drops the network
/// ones (they show as skipped).
pub fn selected(only: &[String], skip: &[String], id: &str) -> bool {
    (only.is_empty() || only.iter().any(|o| o == id)) && !skip.iter().any(|s| s == id)
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

pub fn summarize(results: &[CheckResult]) -> Summary {
    let mut s = Summary::default();
    for r in results {
        match r.status {
            Status::Pass => s.pass += 1,
            Status::Warn => s.warn += 1,
            Status::Fail => s.fail += 1,
            Status::Skip => s.skip += 1,
        }
    }
    s
}

/// GitHub Actions workflow commands: one annotation per finding (or per check without findings),
/// files named relative to the repository root, as GitHub expects.
pub fn github_annotations(results: &[CheckResult], paths: &sarif::Paths) -> Vec<String> {
    let escape = github_escape;
    let escape_prop = github_escape_property;
    let mut lines = Vec::new();
    for r in results.iter().filter(|r| r.status >= Status::Warn) {
        let level = |s: Status| {
            if s == Status::Fail {
                "error"
            } else {
                "warning"
            }
        };
        let hint = r
            .hint
            .as_deref()
            .map(|h| format!(" — {h}"))
            .unwrap_or_default();
        let located: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.status >= Status::Warn)
            .collect();
        if located.is_empty() {
            lines.push(format!(
                "::{} title={}::{}{}",
                level(r.status),
                escape_prop(r.id),
                escape(&r.detail),
                escape(&hint)
            ));
        }
        for f in located {
            let mut props = Vec::new();
            if let Some(file) = &f.file {
                props.push(format!("file={}", escape_prop(&paths.relative(file))));
            }
            if let Some(line) = f.line {
                props.push(format!("line={line}"));
            }
            props.push(format!("title={}", escape_prop(r.id)));
            lines.push(format!(
                "::{} {}::{}{}",
                level(f.status),
                props.join(","),
                escape(&f.message),
                escape(&hint)
            ));
        }
    }
    lines
}

/// A workflow command's message as the runner decodes it back: `%`, `\r` and `\n` escaped, so
/// that no text (a path, a server's reply) can end the command and start another.
pub fn github_escape(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`file=`, `title=`): also `:` and `,`, which end it.
pub fn github_escape_property(text: &str) -> String {
    github_escape(text).replace(':', "%3A").replace(',', "%2C")
}

/// An `::error` workflow command for a failure that stopped the command: the message, then
/// its hint after a dash, as doctor's annotations carry theirs.
pub fn github_error(title: &str, message: &str, hint: Option<&str>) -> String {
    let hint = hint.map(|h| format!(" — {h}")).unwrap_or_default();
    format!(
        "::error title={}::{}{}\n",
        github_escape_property(title),
        github_escape(message),
        github_escape(&hint)
    )
}

fn timed(check: impl FnOnce() -> CheckResult) -> CheckResult {
    let started = std::time::Instant::now();
    let mut result = check();
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

/// The checks of the project's own files, over the facts; reads requirements.txt and app.py.
pub fn project_checks(facts: &gather::Facts, env: &project::EnvFileFacts) -> Vec<CheckResult> {
    let model = facts.model;
    let mut out = Vec::new();
    out.push(
        facts
            .env_error
            .clone()
            .unwrap_or_else(|| timed(|| project::env_file(env))),
    );
    let defined = |var: &str| model.defined(var);
    let in_env_files = |var: &str| model.backend_env_files.contains_key(var);
    match model.layout() {
        Some(layout) => {
            let file = crate::project::display(&layout.dir, layout.compose.path());
            out.push(timed(|| {
                project::compose(
                    &layout.compose,
                    &file,
                    &layout.service,
                    project::Tracing::of(facts),
                    &defined,
                    &in_env_files,
                )
            }));
            let mode = match model.start.as_ref().ok().and_then(|s| s.as_ref()) {
                Some(start) if start.server() == crate::project::start::Server::Instrumented => {
                    project::Instrumented::ZeroCode {
                        at: start
                            .program_part()
                            .map(|p| match &p.origin {
                                crate::project::start::Origin::Compose { line, .. } => {
                                    format!(
                                        "{}:{line}",
                                        crate::project::display(&layout.dir, layout.compose.path())
                                    )
                                }
                                crate::project::start::Origin::Dockerfile {
                                    path, line, ..
                                } => {
                                    format!("{}:{line}", crate::project::display(&layout.dir, path))
                                }
                            })
                            .unwrap_or_default(),
                        protocol: model.backend("OTEL_EXPORTER_OTLP_PROTOCOL"),
                    }
                }
                _ => project::Instrumented::Code,
            };
            // `app.run(...)` runs only when the app file is the program (or nothing says).
            let script = match model.start.as_ref().ok().and_then(|s| s.as_ref()) {
                Some(start) => matches!(
                    start.inner_server(),
                    crate::project::start::Server::Script { .. }
                        | crate::project::start::Server::Other { .. }
                ),
                None => true,
            };
            // The Dockerfile, as named in the output, with its text.
            let dockerfile = model
                .start
                .as_ref()
                .ok()
                .and_then(|s| s.as_ref())
                .and_then(|s| s.dockerfile.as_ref())
                .map(|(path, text)| (crate::project::display(&layout.dir, path), text.clone()));
            let requirements = layout.requirements();
            let req_display = requirements
                .as_ref()
                .map(|r| crate::project::display(&layout.dir, r))
                .unwrap_or_else(|| "requirements.txt".into());
            let req_text = requirements
                .as_ref()
                .and_then(|r| std::fs::read_to_string(r).ok());
            out.push(timed(|| match &requirements {
                Some(_) => project::requirements(
                    req_text.as_deref(),
                    &req_display,
                    project::Tracing::of(facts),
                    &mode,
                    dockerfile
                        .as_ref()
                        .map(|(file, text)| (file.as_str(), text.as_str())),
                ),
                None => CheckResult::skip(
                    "requirements",
                    format!("service {} has no build folder here", layout.service),
                ),
            }));
            let app = crate::init::instrument::app_path(model, layout);
            let app_display = app
                .as_ref()
                .map(|a| crate::project::display(&layout.dir, a))
                .unwrap_or_else(|| "app.py".into());
            let app_text = app.as_ref().and_then(|a| std::fs::read_to_string(a).ok());
            out.push(timed(|| {
                project::app(
                    app_text.as_deref(),
                    &app_display,
                    project::Tracing::of(facts),
                    &mode,
                    script,
                )
            }));
            out.push(timed(|| match &facts.collector {
                Some((target, collector)) => {
                    project::collector(target, collector, &layout.compose, &file, &layout.service)
                }
                None => CheckResult::skip(
                    "collector",
                    format!("{} exports to no collector service", layout.service),
                ),
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
            out.push(CheckResult::skip("collector", "no compose project"));
        }
    }
    out.push(timed(|| {
        project::honeycomb_key(
            facts.honeycomb_key.as_ref(),
            facts.dataset.as_deref(),
            facts.endpoint.as_deref(),
            facts.honeycomb,
        )
    }));
    out.push(timed(|| {
        let (region, source) = match &facts.aws_region {
            Some((r, s)) => (Some(r.as_str()), s.to_string()),
            None => (None, String::new()),
        };
        project::aws_region(region, &source, facts.xray)
    }));
    out
}

/// Results in the order of [`CHECKS`], the selected ones only, each once.
pub fn arrange(results: &mut Vec<CheckResult>, want: impl Fn(&str) -> bool) {
    let order = |id: &str| {
        CHECKS
            .iter()
            .position(|(i, _, _)| *i == id)
            .unwrap_or(usize::MAX)
    };
    results.retain(|r| want(r.id));
    results.sort_by_key(|r| order(r.id));
    results.dedup_by_key(|r| r.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_finding_wins() {
        let f = |status, message: &str| Finding {
            status,
            message: message.into(),
            file: Some("c.yml".into()),
            line: Some(3),
        };
        let r = CheckResult::from_findings(
            "compose",
            "ok",
            vec![f(Status::Warn, "a"), f(Status::Fail, "b")],
            Some("fix".into()),
        );
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.detail, "b (+1 more)");
        assert_eq!(r.hint.as_deref(), Some("fix"));
        let r = CheckResult::from_findings("compose", "all good", vec![], Some("fix".into()));
        assert_eq!(
            (r.status, r.detail.as_str(), r.hint),
            (Status::Pass, "all good", None)
        );
    }

    #[test]
    fn errors_escape_what_the_runner_decodes_and_keep_the_hint() {
        let line = github_error(
            "tracectl",
            "-C a 100%0A\r::warning::x\ny",
            Some("pass the folder"),
        );
        assert_eq!(
            line,
            "::error title=tracectl::-C a 100%250A%0D::warning::x%0Ay — pass the folder\n"
        );
        assert_eq!(github_escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn selection() {
        assert!(selected(&[], &[], "clock"));
        assert!(!selected(&["compose".into()], &[], "clock"));
        assert!(!selected(&[], &["clock".into()], "clock"));
    }

    #[test]
    fn annotations_point_at_files_and_escape() {
        let mut r = CheckResult::fail("compose", "x");
        r.findings.push(Finding {
            status: Status::Fail,
            message: "literal key, 50%".into(),
            file: Some("docker-compose.yml".into()),
            line: Some(7),
        });
        r.hint = Some("use ${HONEYCOMB_API_KEY}".into());
        let w = CheckResult::warn("clock", "skew 3 s");
        let paths = sarif::Paths::new("/repo", Some("/repo"));
        let lines = github_annotations(&[r, w, CheckResult::pass("app", "ok")], &paths);
        assert_eq!(
            lines[0],
            "::error file=docker-compose.yml,line=7,title=compose::literal key, 50%25 — use ${HONEYCOMB_API_KEY}"
        );
        assert_eq!(lines[1], "::warning title=clock::skew 3 s");
        assert_eq!(lines.len(), 2);
        // A project in a subfolder of the repository: files named from the root.
        let mut r = CheckResult::fail("compose", "x");
        r.findings.push(Finding {
            status: Status::Fail,
            message: "m".into(),
            file: Some("compose.yaml".into()),
            line: Some(2),
        });
        let paths = sarif::Paths::new("/repo/services/api, v2", Some("/repo"));
        assert_eq!(
            github_annotations(&[r], &paths)[0],
            "::error file=services/api%2C v2/compose.yaml,line=2,title=compose::m"
        );
    }
}
