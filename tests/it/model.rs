//! The project model read the same way by every command, waits bounded by what the user asked
//! (peers that never answer, an AWS profile whose credential process hangs, a `git` that hangs),
//! date-dependent verdicts on an injected date, and what -q and -v print.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;
use crate::fake_http::{FakeServer, Reply, Silent};

/// A fixed "now" for every run here: no test depends on the day it runs.
const NOW: &str = "2026-06-01";
/// Slack over a budget for process start, runtime set-up and output: generous for a loaded CI
/// machine, far below any second budget.
const SLACK: Duration = Duration::from_millis(1500);

/// A folder of fake programs that sleep for a minute; `exec` so that killing the child kills the
/// sleep, and closed output so that no orphan holds tracectl's pipes.
fn hanging_bin(ctx: &TestContext, names: &[&str]) -> PathBuf {
    let bin = ctx.root.parent().unwrap().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in names {
        let path = bin.join(name);
        std::fs::write(
            &path,
            "#!/bin/sh\nexec sleep 60 >/dev/null 2>&1 </dev/null\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// An AWS config file whose profile gets credentials from a process that never answers.
fn hanging_profile(ctx: &TestContext, bin: &Path) -> PathBuf {
    let config = ctx.root.parent().unwrap().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile hang]\ncredential_process = {}\n",
            bin.join("credentials").display()
        ),
    )
    .unwrap();
    config
}

fn run_with(ctx: &TestContext, args: &[&str], env: &[(&str, String)]) -> (Output, Duration) {
    let mut cmd = ctx.tracectl();
    cmd.args(args).env("TRACECTL_NOW", NOW);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = run(&mut cmd);
    (out, started.elapsed())
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {v:#}"))
}

fn configured() -> TestContext {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS)), 0);
    ctx
}

#[test]
fn doctor_keeps_every_wait_inside_one_timeout() {
    let ctx = configured();
    // No region anywhere: loading the AWS configuration asks the instance metadata service,
    // which here is a listener that never answers.
    let env_file = ctx.read(".env");
    let without_region: String = env_file
        .lines()
        .filter(|l| !l.starts_with("AWS_REGION"))
        .map(|l| format!("{l}\n"))
        .collect();
    ctx.write(".env", &without_region);
    let silent = Silent::start();
    let bin = hanging_bin(&ctx, &["git", "credentials"]);
    let aws_config = hanging_profile(&ctx, &bin);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let silent_url = format!("http://{}", silent.addr);
    let env = [
        ("PATH", path),
        ("HONEYCOMB_API_ENDPOINT", silent_url.clone()),
        ("AWS_ENDPOINT_URL", silent_url.clone()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", silent_url),
        ("AWS_XRAY_DAEMON_ADDRESS", silent.addr.to_string()),
        ("AWS_CONFIG_FILE", aws_config.display().to_string()),
        ("AWS_PROFILE", "hang".to_string()),
    ];
    let (out, took) = run_with(
        &ctx,
        &["--format", "json", "doctor", "--timeout", "1s"],
        &env,
    );
    assert!(
        took < Duration::from_secs(1) + SLACK,
        "doctor took {took:?}"
    );
    assert_exit(&out, 1);
    let v = json_of(&out);
    for id in ["honeycomb-auth", "honeycomb-otlp", "xray-daemon"] {
        let c = check(&v, id);
        assert!(c["detail"].as_str().unwrap().contains("timed out"), "{c}");
    }
    let c = check(&v, "aws-credentials");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("did not load within 1000 ms"),
        "{c}"
    );
    // The env file check still answers, from .gitignore, though git never did.
    assert_eq!(check(&v, "env-file")["status"], "pass", "{v:#}");
}

#[test]
fn a_hanging_git_is_killed_at_the_timeout() {
    let ctx = configured();
    let bin = hanging_bin(&ctx, &["git"]);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let (out, took) = run_with(
        &ctx,
        &[
            "doctor",
            "--offline",
            "--timeout",
            "500ms",
            "--check",
            "env-file",
        ],
        &[("PATH", path)],
    );
    assert!(
        took < Duration::from_millis(500) + SLACK,
        "doctor took {took:?}"
    );
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("✓ env-file"), "{}", stdout(&out));
}

#[test]
fn end_of_x_ray_support_warns_louder_and_fails_only_when_strict() {
    let ctx = configured();
    let doctor = |now: &str, extra: &[&str]| {
        let mut args = vec![
            "--format",
            "json",
            "doctor",
            "--offline",
            "--check",
            "xray-support",
        ];
        args.extend(extra);
        let mut cmd = ctx.tracectl();
        cmd.args(&args).env("TRACECTL_NOW", now);
        run(&mut cmd)
    };
    let out = doctor("2026-06-01", &[]);
    assert_exit(&out, 0);
    let c = check(&json_of(&out), "xray-support").clone();
    assert_eq!(c["status"], "warn");
    assert!(
        c["detail"].as_str().unwrap().contains("(in 269 days)"),
        "{c}"
    );

    // The day the support ends, nothing in the project changed: still exit 0.
    let out = doctor("2027-06-01", &[]);
    assert_exit(&out, 0);
    let c = check(&json_of(&out), "xray-support").clone();
    assert_eq!(c["status"], "warn", "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("ENDED 2027-02-25, 96 days ago"),
        "{c}"
    );
    assert!(
        c["hint"].as_str().unwrap().contains("move to OTLP now"),
        "{c}"
    );
    // Who asked for warnings to fail gets a failure.
    assert_exit(&doctor("2027-06-01", &["--strict"]), 1);

    let out = doctor("next tuesday", &[]);
    assert_exit(&out, 2);
    assert!(stdout(&out).contains("TRACECTL_NOW"), "{}", stdout(&out));
}

fn honeycomb_that_never_finds_the_trace() -> FakeServer {
    FakeServer::start(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v1/traces") => Reply::new(200).header("content-type", "application/x-protobuf"),
        ("GET", "/1/auth") => Reply::json(
            200,
            json!({"id": "k1", "type": "configuration",
                   "api_key_access": {"events": true, "queries": true},
                   "environment": {"name": "Test", "slug": "test"}, "team": {"name": "Acme", "slug": "acme"}}),
        ),
        ("POST", p) if p.starts_with("/1/queries/") => Reply::json(200, json!({"id": "q1"})),
        ("POST", p) if p.starts_with("/1/query_results/") => Reply::json(
            200,
            json!({"id": "r1", "complete": true, "data": {"results": [{"data": {"COUNT": 0}}]}}),
        ),
        _ => Reply::json(404, json!({"error": "not found"})),
    })
}

#[test]
fn send_test_wait_is_exact() {
    let fake = honeycomb_that_never_finds_the_trace();
    let ctx = TestContext::empty();
    let env = [
        ("HONEYCOMB_API_ENDPOINT", fake.url()),
        ("HONEYCOMB_API_KEY", "uOexnOwfIU3LecPs1cYpLC".to_string()),
    ];
    let (out, took) = run_with(
        &ctx,
        &[
            "--format",
            "json",
            "send-test",
            "--to",
            "honeycomb",
            "--wait",
            "4",
        ],
        &env,
    );
    assert_exit(&out, 1);
    let v = json_of(&out);
    let r = &v["results"][0];
    assert_eq!(r["state"], "failed", "{v}");
    assert!(r["detail"].as_str().unwrap().contains("after 4 s"), "{v}");
    // Gives up at 4 s, not a second early, and not much later.
    assert!(took >= Duration::from_secs(4), "gave up after {took:?}");
    assert!(
        took < Duration::from_secs(4) + SLACK,
        "gave up after {took:?}"
    );
    let polls = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/1/queries/"))
        .count();
    // About one poll a second; a loaded machine may fit fewer into the same four seconds.
    assert!((2..=6).contains(&polls), "{polls} queries");
}

#[test]
fn send_test_credentials_are_fetched_within_the_timeout() {
    let ctx = TestContext::empty();
    let bin = hanging_bin(&ctx, &["credentials"]);
    let aws_config = hanging_profile(&ctx, &bin);
    let env = [
        ("AWS_CONFIG_FILE", aws_config.display().to_string()),
        ("AWS_PROFILE", "hang".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_string()),
    ];
    let (out, took) = run_with(
        &ctx,
        &[
            "--format",
            "json",
            "send-test",
            "--to",
            "xray-otlp",
            "--aws-region",
            "eu-west-3",
            "--timeout",
            "1s",
        ],
        &env,
    );
    assert!(
        took < Duration::from_secs(1) + SLACK,
        "send-test took {took:?}"
    );
    assert_exit(&out, 1);
    let v = json_of(&out);
    let r = &v["results"][0];
    assert!(
        r["detail"].as_str().unwrap().contains("within 1000 ms"),
        "{v}"
    );
    assert!(
        r["hint"].as_str().unwrap().contains("credential_process"),
        "{v}"
    );
}

#[test]
fn send_test_reads_the_project_named_by_the_project_flags() {
    let fake = honeycomb_that_never_finds_the_trace();
    let ctx = TestContext::empty();
    ctx.write(
        "deploy/stack.yml",
        "services:\n  api:\n    image: api\n  xray-daemon:\n    image: amazon/aws-xray-daemon\n",
    );
    ctx.write(
        "deploy/secrets.env",
        "HONEYCOMB_API_KEY=uOexnOwfIU3LecPs1cYpLC\nHONEYCOMB_SERVICE_NAME=from-deploy\n",
    );
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let env = [
        ("HONEYCOMB_API_ENDPOINT", fake.url()),
        (
            "AWS_XRAY_DAEMON_ADDRESS",
            udp.local_addr().unwrap().to_string(),
        ),
    ];
    let (out, _) = run_with(
        &ctx,
        &[
            "--format",
            "json",
            "send-test",
            "--compose-file",
            "deploy/stack.yml",
            "--service",
            "api",
            "--env-file",
            "deploy/secrets.env",
        ],
        &env,
    );
    assert_exit(&out, 0);
    let v = json_of(&out);
    let destinations: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["destination"].as_str().unwrap())
        .collect();
    assert_eq!(destinations, ["honeycomb", "xray-daemon"], "{v}");
    assert_eq!(v["service_name"], "from-deploy");
    // Without the flags there is no project here: only the local receiver.
    let (out, _) = run_with(&ctx, &["--format", "json", "send-test"], &env[..1]);
    assert_exit(&out, 0);
    assert_eq!(json_of(&out)["results"][0]["destination"], "local");
}

#[test]
fn init_quiet_prints_one_line_and_verbose_says_where_values_came_from() {
    let ctx = TestContext::fixture("cruddur");
    let loud = TestContext::fixture("cruddur");
    let out = run(loud.tracectl().args(INIT_FLAGS));
    assert_exit(&out, 0);
    assert!(stdout(&out).lines().count() > 20, "{}", stdout(&out));

    let out = run(ctx.tracectl().arg("-q").args(INIT_FLAGS));
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "Updated docker-compose.yml, .env, .gitignore, backend-flask/requirements.txt.\n"
    );
    assert_eq!(stderr(&out), "");
    // Quiet changes only what is printed.
    assert_eq!(ctx.snapshot(), loud.snapshot());

    let fresh = TestContext::fixture("cruddur");
    let mut cmd = fresh.tracectl();
    cmd.args(["-v", "init", "--dry-run", "--aws-region", "eu-west-3"])
        .env("HONEYCOMB_API_KEY", INGEST_US)
        .env("AWS_DEFAULT_REGION", "us-east-1");
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("from environment HONEYCOMB_API_KEY"), "{err}");
    assert!(err.contains("X-Ray region eu-west-3 (from flag)"), "{err}");
    assert!(
        !err.contains(INGEST_US) && !stdout(&out).contains(INGEST_US),
        "{err}"
    );
}

#[test]
fn send_test_verbose_shows_settings_masked_and_headers_only_at_vv() {
    let ctx = TestContext::empty();
    let env = [(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-honeycomb-team=uOexnOwfIU3LecPs1cYpLC,x-tenant=acme".to_string(),
    )];
    let args = |v: &'static str| {
        vec![
            v,
            "send-test",
            "--to",
            "otlp",
            "--endpoint",
            "http://user:pw@127.0.0.1:9",
            "--timeout",
            "300ms",
        ]
    };
    let (out, _) = run_with(&ctx, &args("-v"), &env);
    let err = stderr(&out);
    assert!(err.contains("OTLP http://127.0.0.1:9"), "{err}");
    assert!(
        !err.contains("user:pw") && !err.contains("x-tenant"),
        "{err}"
    );
    let (out, _) = run_with(&ctx, &args("-vv"), &env);
    let err = stderr(&out);
    assert!(err.contains("x-tenant=acme"), "{err}");
    assert!(!err.contains("uOexnOwfIU3LecPs1cYpLC"), "{err}");
}
