//! `tracectl doctor` on fixture projects, against moto (STS, X-Ray), a loopback fake of
//! Honeycomb's API and of the daemon's TCP proxy, and every kind of unreachable endpoint.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;
use crate::fake_http::{FakeServer, Reply, Silent, closed_port};
use crate::peers::{self, Moto, TlsServer};

pub const APP: &str = "from flask import Flask\nfrom opentelemetry.instrumentation.flask import FlaskInstrumentor\n\
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware\napp = Flask(__name__)\nFlaskInstrumentor().instrument_app(app)\n\
XRayMiddleware(app, None)\n\nif __name__ == '__main__':\n    app.run(debug=True, use_reloader=False)\n";

fn dated(reply: Reply) -> Reply {
    reply.header(
        "date",
        &httpdate::fmt_http_date(std::time::SystemTime::now()),
    )
}

fn honeycomb_fake() -> FakeServer {
    FakeServer::start(|req, _| match req.path.as_str() {
        "/1/auth" if req.header("x-honeycomb-team") == Some(INGEST_US) => dated(Reply::json(
            200,
            json!({"id": "k", "type": "ingest", "api_key_access": {"events": true},
                   "environment": {"name": "Test", "slug": "test"}, "team": {"name": "Acme", "slug": "acme"}}),
        )),
        "/1/auth" => Reply::json(
            401,
            json!({"error": "unknown API key - check your credentials"}),
        ),
        "/v1/traces" => dated(Reply::new(200).header("content-type", "application/x-protobuf")),
        _ => Reply::new(404),
    })
}

fn daemon_fake() -> FakeServer {
    FakeServer::start(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/GetSamplingRules") => Reply::json(200, json!({"SamplingRuleRecords": []})),
        _ => Reply::new(404),
    })
}

/// The Cruddur fixture after `init`, with the recipe's instrumentation in app.py.
pub fn configured() -> TestContext {
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx.tracectl().args(INIT_FLAGS));
    assert_exit(&out, 0);
    ctx.write("backend-flask/app.py", APP);
    ctx
}

struct Peers {
    honeycomb: FakeServer,
    daemon: FakeServer,
    moto: Moto,
}

impl Peers {
    fn start() -> Self {
        Peers {
            honeycomb: honeycomb_fake(),
            daemon: daemon_fake(),
            moto: Moto::start(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.moto.env();
        env.retain(|(k, _)| *k != "AWS_REGION");
        env.push(("HONEYCOMB_API_ENDPOINT", self.honeycomb.url()));
        env.push(("AWS_XRAY_DAEMON_ADDRESS", self.daemon.addr.to_string()));
        env.push(("GITPOD_WORKSPACE_ID", "ws".into()));
        env.push(("GITPOD_WORKSPACE_CLUSTER_HOST", "gitpod.io".into()));
        env
    }
}

fn doctor(ctx: &TestContext, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = ctx.tracectl();
    cmd.arg("doctor")
        .args(args)
        .env("TRACECTL_NOW", TODAY)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn doctor_json(ctx: &TestContext, args: &[&str], env: &[(&str, String)]) -> (Output, Value) {
    let mut env = env.to_vec();
    env.push(("TRACECTL_NOW", TODAY.to_string()));
    json_run(ctx, "doctor", args, &env)
}

/// Validate with the Python `jsonschema` package against docs/doctor.schema.json.
fn assert_schema(v: &Value) {
    let schema = manifest_dir().join("docs/doctor.schema.json");
    let script = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\njsonschema.Draft202012Validator.check_schema(schema)\n\
                  jsonschema.validate(json.loads(sys.stdin.read()), schema, cls=jsonschema.Draft202012Validator)\n";
    let out = output_fed(
        Command::new(peers::python())
            .args(["-c", script])
            .arg(schema),
        v.to_string().as_bytes(),
        CHILD_DEADLINE,
    );
    assert!(
        out.status.success(),
        "doctor JSON does not match its schema:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn healthy_project_on_loopback_passes_and_matches_the_schema() {
    let peers = Peers::start();
    let ctx = configured();
    let (out, v) = doctor_json(&ctx, &[], &peers.env());
    assert_schema(&v);
    for id in [
        "env-file",
        "compose",
        "requirements",
        "app",
        "honeycomb-key",
        "honeycomb-auth",
        "honeycomb-otlp",
        "aws-credentials",
        "aws-region",
        "xray-endpoint",
        "xray-daemon",
        "clock",
    ] {
        assert_eq!(check(&v, id)["status"], "pass", "{id}: {:#}", check(&v, id));
    }
    assert_exit(&out, 0);
    assert!(
        check(&v, "honeycomb-auth")["detail"]
            .as_str()
            .unwrap()
            .contains("team Acme, environment Test")
    );
    let who = check(&v, "aws-credentials")["detail"].as_str().unwrap();
    assert!(
        who.contains("1234****9012") || who.contains("****"),
        "{who}"
    );
    assert_eq!(check(&v, "xray-support")["status"], "warn");
    assert_eq!(v["summary"]["fail"], 0);
    assert!(!stdout(&out).contains(INGEST_US));
    // Warnings fail the run only with --strict.
    assert_exit(&doctor(&ctx, &["--strict"], &peers.env()), 1);
}

#[test]
fn human_output_marks_and_summarises() {
    let peers = Peers::start();
    let ctx = configured();
    let out = doctor(&ctx, &[], &peers.env());
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("✓ honeycomb-auth"), "{text}");
    assert!(text.contains("⚠ xray-support"), "{text}");
    assert!(
        // moto has no Transaction Search: transaction-search and xray-otlp-permission warn for a
        // project still on the daemon.
        text.contains("12 passed, 3 warnings, 0 failed, 1 skipped"),
        "{text}"
    );
}

#[test]
fn config_problems_get_their_status_and_line() {
    let ctx = configured();
    // A tracked env file fails.
    assert!(
        Command::new("git")
            .args(["init", "-q"])
            .current_dir(&ctx.root)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        Command::new("git")
            .args(["add", "-f", ".env"])
            .current_dir(&ctx.root)
            .status()
            .unwrap()
            .success()
    );
    // A literal key, an undefined variable, a single-string daemon command.
    let compose = ctx
        .read("docker-compose.yml")
        .replace(
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
            &format!("x-honeycomb-team={INGEST_EU}"),
        )
        .replace("\"${HONEYCOMB_SERVICE_NAME}\"", "\"${UNDEFINED_NAME}\"")
        .replace(
            "      - \"-o\"\n      - \"-n\"\n      - \"${AWS_REGION}\"\n",
            "      - \"xray -o -b xray-daemon:2000\"\n",
        );
    ctx.write("docker-compose.yml", &compose);
    ctx.write("backend-flask/requirements.txt", "flask\n");
    ctx.write(
        "backend-flask/app.py",
        &APP.replace(", use_reloader=False", ""),
    );
    // The app file is what runs, so its app.run(debug=True) starts the reloader.
    ctx.write(
        "backend-flask/Dockerfile",
        "FROM python:3.10\nCMD [\"opentelemetry-instrument\", \"python3\", \"app.py\"]\n",
    );
    let (out, v) = doctor_json(&ctx, &["--offline"], &[]);
    assert_exit(&out, 1);
    assert_schema(&v);
    assert_eq!(check(&v, "env-file")["status"], "fail");
    assert!(
        check(&v, "env-file")["hint"]
            .as_str()
            .unwrap()
            .contains("git rm --cached")
    );
    let c = check(&v, "compose");
    assert_eq!(c["status"], "fail");
    let findings = c["findings"].as_array().unwrap();
    let line_of = |needle: &str| {
        ctx.read("docker-compose.yml")
            .lines()
            .position(|l| l.contains(needle))
            .unwrap()
            + 1
    };
    let has = |status: &str, text: &str, line: usize| {
        findings.iter().any(|f| {
            f["status"] == status
                && f["message"].as_str().unwrap().contains(text)
                && f["line"] == line
        })
    };
    assert!(
        has("fail", "literal secret", line_of("x-honeycomb-team=hcbik")),
        "{c:#}"
    );
    assert!(
        has("fail", "${UNDEFINED_NAME}", line_of("UNDEFINED_NAME")),
        "{c:#}"
    );
    assert!(has("warn", "one string", line_of("command:")), "{c:#}");
    assert_eq!(check(&v, "requirements")["status"], "fail");
    // init wrapped the Dockerfile's CMD (zero-code): the agent's packages are the ones missing.
    assert!(
        check(&v, "requirements")["detail"]
            .as_str()
            .unwrap()
            .contains("opentelemetry-distro")
    );
    let app = check(&v, "app");
    assert_eq!(app["status"], "warn");
    assert_eq!(app["findings"][0]["line"], 9);
    assert_eq!(check(&v, "honeycomb-auth")["status"], "skip");
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !all.contains(INGEST_EU) && !all.contains(INGEST_US),
        "a key leaked:\n{all}"
    );

    // The same findings as GitHub annotations.
    let out = run(ctx
        .tracectl()
        .args(["--format", "github", "doctor", "--offline"])
        .env("TRACECTL_NOW", TODAY));
    assert_exit(&out, 1);
    let text = stdout(&out);
    let literal = format!(
        "::error file=docker-compose.yml,line={},title=compose::literal secret hcbik_0…(redacted)",
        line_of("x-honeycomb-team=hcbik")
    );
    assert!(text.lines().any(|l| l.starts_with(&literal)), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("::warning file=backend-flask/app.py,line=9,title=app::")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=.env,line=1,title=env-file::")),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("::notice title=tracectl doctor::"),
        "{text}"
    );
    assert!(!text.contains(INGEST_EU));
}

#[test]
fn group_readable_env_file_warns_and_region_typos_fail() {
    let ctx = configured();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(ctx.path(".env"), std::fs::Permissions::from_mode(0o644)).unwrap();
    ctx.write(
        ".env",
        &ctx.read(".env")
            .replace("AWS_REGION=eu-west-3", "AWS_REGION=eu-wset-3"),
    );
    let (out, v) = doctor_json(&ctx, &["--offline"], &[]);
    assert_exit(&out, 1);
    assert_eq!(check(&v, "env-file")["status"], "warn");
    assert!(
        check(&v, "env-file")["detail"]
            .as_str()
            .unwrap()
            .contains("mode 644")
    );
    assert_eq!(check(&v, "aws-region")["status"], "fail");
    assert_eq!(check(&v, "aws-region")["hint"], "did you mean eu-west-3?");
}

#[test]
fn honeycomb_key_problems() {
    let fake = honeycomb_fake();
    let ctx = configured();
    // A wrong key: the auth endpoint answers 401 with Honeycomb's body.
    let wrong = INGEST_US.replace("hcaik_01", "hcaik_02");
    let env = [
        ("HONEYCOMB_API_ENDPOINT", fake.url()),
        ("HONEYCOMB_API_KEY", wrong.clone()),
    ];
    let (out, v) = doctor_json(
        &ctx,
        &[
            "--check",
            "honeycomb-auth",
            "--check",
            "honeycomb-key",
            "--honeycomb-api-key",
            &wrong,
        ],
        &env,
    );
    assert_exit(&out, 1);
    assert_eq!(v["checks"].as_array().unwrap().len(), 2);
    let auth = check(&v, "honeycomb-auth");
    assert_eq!(auth["status"], "fail");
    assert!(
        auth["detail"].as_str().unwrap().contains("unknown API key"),
        "{auth}"
    );
    assert!(!stdout(&out).contains(&wrong));
    // An EU key against the US endpoint written in compose.
    let (out, v) = doctor_json(
        &ctx,
        &[
            "--offline",
            "--check",
            "honeycomb-key",
            "--honeycomb-api-key",
            INGEST_EU,
        ],
        &[],
    );
    assert_exit(&out, 1);
    assert!(
        check(&v, "honeycomb-key")["detail"]
            .as_str()
            .unwrap()
            .contains("EU region")
    );
    // Rate limited.
    let limited = FakeServer::start(|_, _| {
        Reply::json(429, json!({"error": "slow down"})).header("retry-after", "30")
    });
    let (out, v) = doctor_json(
        &ctx,
        &["--check", "honeycomb-auth"],
        &[("HONEYCOMB_API_ENDPOINT", limited.url())],
    );
    assert_exit(&out, 0);
    assert_eq!(check(&v, "honeycomb-auth")["status"], "warn");
    assert!(
        check(&v, "honeycomb-auth")["detail"]
            .as_str()
            .unwrap()
            .contains("retry after 30 s")
    );
}

#[test]
fn unreachable_endpoints_fail_each_in_its_own_way_within_one_timeout() {
    let ctx = configured();
    let silent = Silent::start();
    let tls = TlsServer::start();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "refused",
            format!("http://127.0.0.1:{}", closed_port()),
            "connection refused",
        ),
        ("silent", format!("http://{}", silent.addr), "timed out"),
        (
            "dns",
            "http://honeycomb.tracectl.invalid".to_string(),
            "DNS",
        ),
        ("tls", format!("https://127.0.0.1:{}", tls.port), "TLS"),
    ];
    for (name, url, expected) in cases {
        let started = Instant::now();
        let (out, v) = doctor_json(
            &ctx,
            &[
                "--check",
                "honeycomb-otlp",
                "--check",
                "honeycomb-auth",
                "--timeout",
                "1s",
            ],
            &[("HONEYCOMB_API_ENDPOINT", url)],
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{name} took {:?}",
            started.elapsed()
        );
        assert_exit(&out, 1);
        let otlp = check(&v, "honeycomb-otlp");
        assert_eq!(otlp["status"], "fail", "{name}: {otlp}");
        assert!(
            otlp["detail"].as_str().unwrap().contains(expected),
            "{name}: {otlp}"
        );
        assert!(otlp["hint"].is_string(), "{name}: {otlp}");
    }
    // The daemon not answering is a warning, and a failure when required.
    let env = [(
        "AWS_XRAY_DAEMON_ADDRESS",
        format!("127.0.0.1:{}", closed_port()),
    )];
    let (out, v) = doctor_json(&ctx, &["--check", "xray-daemon"], &env);
    assert_exit(&out, 0);
    assert_eq!(check(&v, "xray-daemon")["status"], "warn");
    let (out, v) = doctor_json(&ctx, &["--check", "xray-daemon", "--require-daemon"], &env);
    assert_exit(&out, 1);
    assert_eq!(check(&v, "xray-daemon")["status"], "fail");
}

#[test]
fn aws_problems_are_named() {
    let moto = Moto::start();
    let ctx = configured();
    // No credentials at all.
    let (out, v) = doctor_json(
        &ctx,
        &["--check", "aws-credentials"],
        &[("AWS_ENDPOINT_URL", moto.url.clone())],
    );
    assert_exit(&out, 1);
    let c = check(&v, "aws-credentials");
    assert!(
        c["detail"].as_str().unwrap().contains("NoCredentials"),
        "{c}"
    );
    assert!(c["hint"].as_str().unwrap().contains("AWS_PROFILE"), "{c}");
    // With credentials, STS at the endpoint names the identity.
    let (out, v) = doctor_json(
        &ctx,
        &["--check", "aws-credentials", "--check", "xray-endpoint"],
        &moto.env(),
    );
    assert_exit(&out, 0);
    let c = check(&v, "aws-credentials");
    assert!(c["detail"].as_str().unwrap().contains("arn:aws:"), "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("EnvironmentVariable"),
        "{c}"
    );
    assert_eq!(check(&v, "xray-endpoint")["status"], "pass");
}

#[test]
fn selection_listing_and_usage_errors() {
    let ctx = TestContext::empty();
    let out = run(ctx.tracectl().args(["doctor", "--list"]));
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 16);
    assert!(stdout(&out).contains("honeycomb-otlp   Honeycomb's OTLP endpoint answers (network)"));
    let out = run(ctx.tracectl().args(["doctor", "--check", "nope"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("env-file, compose"),
        "{}",
        stderr(&out)
    );
    // No project and nothing configured: everything skips, nothing fails.
    let (out, v) = doctor_json(&ctx, &["--skip", "env-file"], &[]);
    assert_exit(&out, 0);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != "env-file")
    );
    assert_eq!(check(&v, "compose")["status"], "skip");
    assert_eq!(check(&v, "honeycomb-auth")["status"], "skip");
    assert_schema(&v);
    // A compose file that does not parse is a failure with its position.
    ctx.write("compose.yaml", "services:\n  api: [\n");
    let (out, v) = doctor_json(&ctx, &["--offline"], &[]);
    assert_exit(&out, 1);
    assert_eq!(check(&v, "compose")["findings"][0]["file"], "compose.yaml");
}

#[test]
fn spinners_show_on_a_terminal() {
    let ctx = configured();
    let silent = Silent::start();
    let steps = serde_json::to_string(&[["honeycomb-auth", ""]]).unwrap();
    let out = Command::new(peers::python())
        .arg(manifest_dir().join("tests/support/pty_drive.py"))
        .arg(steps)
        .args([
            "env",
            "-i",
            &format!("PATH={}", std::env::var("PATH").unwrap()),
            "TERM=xterm",
        ])
        .arg(format!("HONEYCOMB_API_ENDPOINT=http://{}", silent.addr))
        .arg(env!("CARGO_BIN_EXE_tracectl"))
        .args([
            "-C",
            &ctx.root.display().to_string(),
            "doctor",
            "--check",
            "honeycomb-auth",
            "--timeout",
            "1s",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let screen = v["output"].as_str().unwrap();
    assert!(v.get("waiting_for").is_none(), "no spinner:\n{screen}");
    let spinner_frame = screen.match_indices(" honeycomb-auth").any(|(i, _)| {
        screen[..i]
            .chars()
            .next_back()
            .is_some_and(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
    });
    assert!(spinner_frame, "no spinner frame:\n{screen}");
    assert!(
        screen.contains("timed out: no answer within 1000 ms"),
        "{screen}"
    );
}

#[test]
fn tls_is_timed_on_its_own_when_the_certificate_is_trusted() {
    let tls = TlsServer::start();
    let ctx = configured();
    let env = [
        (
            "HONEYCOMB_API_ENDPOINT",
            format!("https://127.0.0.1:{}", tls.port),
        ),
        ("SSL_CERT_FILE", tls.cert.display().to_string()),
    ];
    let (out, v) = doctor_json(&ctx, &["--check", "honeycomb-otlp"], &env);
    let c = check(&v, "honeycomb-otlp");
    assert_exit(&out, 0);
    assert_eq!(c["status"], "pass", "{c}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.contains(", TLS ") && detail.contains("POST"),
        "{detail}"
    );
}

#[test]
fn require_compose_fails_a_folder_without_a_compose_file() {
    let ctx = TestContext::empty();
    // Without the flag, a folder with no compose file is not an error: keys can still be checked.
    let (out, v) = doctor_json(&ctx, &["--offline"], &[]);
    assert_exit(&out, 0);
    assert_eq!(check(&v, "compose")["status"], "skip");
    let (out, v) = doctor_json(&ctx, &["--offline", "--require-compose"], &[]);
    assert_exit(&out, 1);
    assert_eq!(check(&v, "compose")["status"], "fail");
    assert!(
        check(&v, "compose")["hint"]
            .as_str()
            .unwrap()
            .contains("working-directory"),
        "{v:#}"
    );
    // Checks that read no compose file, asked for alone, do not need one.
    let (out, _) = doctor_json(
        &ctx,
        &["--offline", "--require-compose", "--check", "honeycomb-key"],
        &[],
    );
    assert_exit(&out, 0);
    // One that does fails, and says why.
    let (out, v) = doctor_json(
        &ctx,
        &["--offline", "--require-compose", "--check", "app"],
        &[],
    );
    assert_exit(&out, 1);
    assert_eq!(check(&v, "compose")["status"], "fail");
}

#[test]
fn a_missing_env_file_in_ci_is_skipped_not_a_warning() {
    let ctx = configured();
    std::fs::remove_file(ctx.path(".env")).unwrap();
    let (_, v) = doctor_json(&ctx, &["--offline", "--check", "env-file"], &[]);
    assert_eq!(check(&v, "env-file")["status"], "warn", "{v:#}");
    for (name, value) in [("CI", "true"), ("GITHUB_ACTIONS", "true"), ("CI", "TRUE")] {
        let (out, v) = doctor_json(
            &ctx,
            &["--offline", "--strict", "--check", "env-file"],
            &[(name, value.to_string())],
        );
        assert_exit(&out, 0);
        assert_eq!(
            check(&v, "env-file")["status"],
            "skip",
            "{name}={value}: {v:#}"
        );
        assert!(
            check(&v, "env-file")["detail"]
                .as_str()
                .unwrap()
                .contains("environment in CI"),
            "{v:#}"
        );
    }
    let (_, v) = doctor_json(
        &ctx,
        &["--offline", "--check", "env-file"],
        &[("CI", "false".to_string())],
    );
    assert_eq!(check(&v, "env-file")["status"], "warn", "{v:#}");
}

#[test]
fn a_current_folder_that_cannot_be_read_is_said_so() {
    let ctx = TestContext::fixture("cruddur");
    let gone = ctx.path("gone");
    std::fs::create_dir(&gone).unwrap();
    // The shell enters the folder, deletes it, then starts tracectl in it.
    for format in ["human", "sarif"] {
        let out = run(Command::new("sh")
            .arg("-c")
            .arg("cd \"$1\" && rmdir \"$1\" && exec \"$2\" --format \"$3\" doctor --offline")
            .arg("sh")
            .arg(&gone)
            .arg(env!("CARGO_BIN_EXE_tracectl"))
            .arg(format)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1"));
        assert_exit(&out, 1);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("current folder"), "{all}");
        assert!(!all.contains("-C ."), "{all}");
        std::fs::create_dir(&gone).unwrap();
    }
}

#[test]
fn github_errors_escape_what_the_runner_decodes_and_keep_the_hint() {
    let ctx = TestContext::empty();
    let odd = "no such 100%0A\r::warning file=app.py,line=1::forged";
    let out = run(ctx
        .tracectl()
        .args(["--format", "github", "doctor", "--offline", "-C", odd]));
    assert_exit(&out, 2);
    let text = stdout(&out);
    let lines: Vec<&str> = text.split(['\n', '\r']).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{text:?}");
    assert!(lines[0].starts_with("::error title=tracectl::"), "{text:?}");
    assert!(lines[0].contains("100%250A%0D::warning"), "{text:?}");
    assert!(lines[0].contains(" — "), "the hint is kept: {text:?}");
}

/// A requirements.txt that lists the packages counts for nothing when the Dockerfile installs
/// its packages on a RUN line and never reads it: the check fails naming that line.
#[test]
fn requirements_the_build_never_reads_fail_naming_the_run_line() {
    let ctx = TestContext::empty();
    ctx.write("compose.yaml", "services:\n  api:\n    build: ./api\n");
    let reads = "FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"gunicorn\", \"app:app\"]\n";
    ctx.write("api/Dockerfile", reads);
    ctx.write("api/requirements.txt", "flask\ngunicorn\n");
    ctx.write(
        "api/app.py",
        "from flask import Flask\napp = Flask(__name__)\n",
    );
    let out = run(ctx.tracectl().args([
        "init",
        "--yes",
        "--no-xray",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    let (_, v) = doctor_json(&ctx, &[], &[]);
    assert_eq!(check(&v, "requirements")["status"], "pass", "{v:#}");
    // The packages now go in inline: requirements.txt is never read.
    let wrapped = ctx.read("api/Dockerfile");
    ctx.write(
        "api/Dockerfile",
        &wrapped.replace("-r requirements.txt", "flask gunicorn"),
    );
    let (_, v) = doctor_json(&ctx, &[], &[]);
    let c = check(&v, "requirements");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["detail"].as_str().unwrap().contains("api/Dockerfile:3"),
        "{c:#}"
    );
}
