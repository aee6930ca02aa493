//! The project model read the same way by every command, waits bounded by what the user asked
//! (peers that never answer, an AWS profile whose credential process hangs, a `git` that hangs),
//! date-dependent verdicts on an injected date, and what -q and -v print.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::json;

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
    assert!(stdout(&out).lines().count() > 12, "{}", stdout(&out));

    let out = run(ctx.tracectl().arg("-q").args(INIT_FLAGS));
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "Updated docker-compose.yml, .env, .gitignore, backend-flask/requirements.txt, \
         backend-flask/Dockerfile, backend-flask/app.py.\n"
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

/// Run doctor (offline) and send-test (to the in-process receiver) with `-v` on the same project;
/// return the line each prints that starts with `what`.
fn both_say(ctx: &TestContext, what: &str, flags: &[&str], env: &[(&str, String)]) -> [String; 2] {
    let runs = [
        ["-v", "doctor", "--offline", "--service", "backend"].as_slice(),
        ["-v", "send-test", "--to", "local", "--service", "backend"].as_slice(),
    ];
    runs.map(|command| {
        let args: Vec<&str> = command.iter().chain(flags).copied().collect();
        let (out, _) = run_with(ctx, &args, env);
        let err = stderr(&out);
        assert!(
            out.status.code() == Some(0) || command[1] == "doctor",
            "{args:?}: {err}"
        );
        err.lines()
            .find_map(|l| l.split_once(what).map(|(_, rest)| format!("{what}{rest}")))
            .unwrap_or_else(|| panic!("{args:?} printed no '{what}' line:\n{err}"))
    })
}

fn backend_with(environment: &str) -> TestContext {
    let ctx = TestContext::empty();
    ctx.write(
        "docker-compose.yml",
        &format!(
            "services:\n  backend:\n    image: backend\n    environment:\n{environment}  xray-daemon:\n    image: amazon/aws-xray-daemon\n"
        ),
    );
    ctx
}

#[test]
fn region_has_one_precedence_in_doctor_and_send_test() {
    let only_env_file = backend_with("      X: y\n");
    only_env_file.write(".env", "AWS_REGION=eu-north-1\n");
    let only_backend = backend_with("      AWS_REGION: ap-southeast-2\n");
    type Case<'a> = (
        &'a TestContext,
        &'a [&'a str],
        &'a [(&'a str, String)],
        &'a str,
    );
    let cases: [Case; 5] = [
        (
            &only_env_file,
            &[],
            &[],
            "AWS region eu-north-1 (from env file AWS_REGION)",
        ),
        (
            &only_backend,
            &[],
            &[],
            "AWS region ap-southeast-2 (from the backend's AWS_REGION in the compose file)",
        ),
        (
            &only_backend,
            &["--aws-region", "sa-east-1"],
            &[],
            "AWS region sa-east-1 (from flag)",
        ),
        // The process environment beats the env file, AWS_DEFAULT_REGION included.
        (
            &only_env_file,
            &[],
            &[("AWS_DEFAULT_REGION", "us-west-2".to_string())],
            "AWS region us-west-2 (from environment AWS_DEFAULT_REGION)",
        ),
        // The env file beats the compose file.
        (
            &{
                let ctx = backend_with("      AWS_REGION: ap-southeast-2\n");
                ctx.write(".env", "AWS_DEFAULT_REGION=eu-north-1\n");
                ctx
            },
            &[],
            &[],
            "AWS region eu-north-1 (from env file AWS_DEFAULT_REGION)",
        ),
    ];
    for (ctx, flags, env, want) in cases {
        assert_eq!(both_say(ctx, "AWS region", flags, env), [want, want]);
    }
}

#[test]
fn daemon_address_only_in_compose_is_the_same_for_both() {
    let ctx = backend_with("      AWS_XRAY_DAEMON_ADDRESS: xray-daemon:2999\n");
    let want = "X-Ray daemon 127.0.0.1:2999 (from the backend's AWS_XRAY_DAEMON_ADDRESS in the compose file)";
    assert_eq!(both_say(&ctx, "X-Ray daemon", &[], &[]), [want, want]);
    // The environment tracectl runs in wins over the compose file.
    let env = [("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:3001".to_string())];
    let want = "X-Ray daemon 127.0.0.1:3001 (from environment AWS_XRAY_DAEMON_ADDRESS)";
    assert_eq!(both_say(&ctx, "X-Ray daemon", &[], &env), [want, want]);
}

#[test]
fn dataset_and_endpoint_from_headers_anywhere_are_the_same_for_both() {
    // Only in the process environment's headers.
    let ctx = backend_with("      X: y\n");
    let env = [(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-honeycomb-dataset=from-shell".to_string(),
    )];
    // Header values may be credentials, so every one prints masked: the source is the proof.
    let want = "Honeycomb dataset fr…(redacted) (from environment OTEL_EXPORTER_OTLP_HEADERS)";
    assert_eq!(both_say(&ctx, "Honeycomb dataset", &[], &env), [want, want]);
    // Only in the backend's headers and endpoint, through a variable of the env file.
    let ctx = backend_with(
        "      OTEL_EXPORTER_OTLP_ENDPOINT: http://127.0.0.1:4318\n      OTEL_EXPORTER_OTLP_HEADERS: x-honeycomb-dataset=${DATASET}\n",
    );
    ctx.write(".env", "DATASET=from-compose\n");
    let want = "Honeycomb dataset fro…(redacted) (from the backend's OTEL_EXPORTER_OTLP_HEADERS in the compose file)";
    assert_eq!(both_say(&ctx, "Honeycomb dataset", &[], &[]), [want, want]);
    let want = "OTLP endpoint http://127.0.0.1:4318 (from the backend's OTEL_EXPORTER_OTLP_ENDPOINT in the compose file)";
    assert_eq!(both_say(&ctx, "OTLP endpoint", &[], &[]), [want, want]);
}

#[test]
fn send_test_sends_to_the_backends_exporter_with_its_headers() {
    let fake = FakeServer::start(|_, _| Reply::new(200));
    let ctx = TestContext::empty();
    ctx.write(
        "docker-compose.yml",
        &format!(
            "services:\n  backend:\n    image: backend\n    environment:\n      OTEL_EXPORTER_OTLP_ENDPOINT: {}\n      OTEL_EXPORTER_OTLP_HEADERS: x-tenant=${{TENANT}},x-honeycomb-dataset=flask\n",
            fake.url()
        ),
    );
    ctx.write(".env", "TENANT=acme\n");
    // Headers in the shell belong to no endpoint of this project: they must not travel.
    let env = [(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-shell-secret=nope".to_string(),
    )];
    let (out, _) = run_with(
        &ctx,
        &["--format", "json", "send-test", "--service", "backend"],
        &env,
    );
    assert_exit(&out, 0);
    let v = json_of(&out);
    assert_eq!(v["results"][0]["destination"], "otlp", "{v}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "{v}");
    assert_eq!(requests[0].path, "/v1/traces");
    assert_eq!(requests[0].header("x-tenant"), Some("acme"));
    assert_eq!(requests[0].header("x-honeycomb-dataset"), Some("flask"));
    assert_eq!(requests[0].header("x-shell-secret"), None);
}

#[test]
fn x_ray_support_before_maintenance_speaks_of_the_future() {
    let ctx = backend_with("      AWS_XRAY_DAEMON_ADDRESS: xray-daemon:2000\n");
    let mut cmd = ctx.tracectl();
    cmd.args([
        "--format",
        "json",
        "doctor",
        "--offline",
        "--service",
        "backend",
    ])
    .env("TRACECTL_NOW", "2026-01-01");
    let out = run(&mut cmd);
    let v = json_of(&out);
    let detail = check(&v, "xray-support")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!detail.contains("since"), "{detail}");
    assert!(
        detail.contains("maintenance starts 2026-02-25 (in 55 days), support ends 2027-02-25"),
        "{detail}"
    );
}

// ------------------------------------------------------- interpolation, judged by Compose v2

/// One generated compose value: literal text, `$$`, `$VAR`, `${VAR}` and `${VAR<op>value}`
/// with values that nest further, over a set, an empty and an unset variable.
fn template() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let name = prop_oneof![Just("SET"), Just("EMPTY"), Just("UNSET")];
    let leaf = prop_oneof![
        "[a-z0-9./:-]{1,4}",
        Just("$$".to_string()),
        name.clone().prop_map(|n| format!("${n}")),
        name.clone().prop_map(|n| format!("${{{n}}}")),
    ];
    let atom = leaf.prop_recursive(3, 24, 3, move |inner| {
        let name = prop_oneof![Just("SET"), Just("EMPTY"), Just("UNSET")];
        let op = prop_oneof![Just(":-"), Just("-"), Just(":+"), Just("+")];
        (name, op, proptest::collection::vec(inner, 0..3))
            .prop_map(|(n, op, parts)| format!("${{{n}{op}{}}}", parts.concat()))
    });
    proptest::collection::vec(atom, 1..4).prop_map(|parts| parts.concat())
}

#[test]
fn interpolation_agrees_with_compose_v2() {
    use proptest::test_runner::{Config, TestRunner};
    let judge = crate::peers::docker_compose();
    let lookup = |name: &str| match name {
        "SET" => Some("v".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    let compared = std::cell::Cell::new(0usize);
    runner
        .run(&proptest::collection::vec(template(), 40), |templates| {
            let ctx = TestContext::empty();
            let mut text = String::from("services:\n  a:\n    image: x\n    environment:\n");
            for (i, t) in templates.iter().enumerate() {
                text.push_str(&format!("      T{i}: \"{t}\"\n"));
            }
            ctx.write("compose.yaml", &text);
            let out = output_within(
                std::process::Command::new(&judge)
                    .args(["config", "--format", "json"])
                    .current_dir(&ctx.root)
                    .env_clear()
                    .env("SET", "v")
                    .env("EMPTY", ""),
                Duration::from_secs(30),
            );
            proptest::prop_assert!(out.status.success(), "{}\n{text}", stderr(&out));
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let env = &doc["services"]["a"]["environment"];
            for (i, t) in templates.iter().enumerate() {
                // Compose's own output writes `$` as `$$`.
                let theirs = env[format!("T{i}")]
                    .as_str()
                    .unwrap_or_default()
                    .replace("$$", "$");
                // Ours is None where an unset variable has no default: Compose warns and uses
                // "", and tracectl treats the value as unknown. Anything else must agree.
                if let Some(ours) = tracectl::judged::interpolate(t, lookup) {
                    compared.set(compared.get() + 1);
                    proptest::prop_assert_eq!(&ours, &theirs, "template {:?}", t);
                }
            }
            Ok(())
        })
        .unwrap();
    let compared = compared.get();
    assert!(compared > 100, "only {compared} values compared");
}

/// One generated `.env` value as written: literal text, `$$` and references (plain and with
/// operators) to the environment's SET and EMPTY, to UNSET, and to the file's own keys, some
/// declared later; unquoted, single- or double-quoted, with or without a comment.
fn env_value(keys: usize) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let name = prop_oneof![
        Just("SET".to_string()),
        Just("EMPTY".to_string()),
        Just("UNSET".to_string()),
        (0..keys).prop_map(|k| format!("K{k}")),
    ];
    let piece = prop_oneof![
        "[a-z0-9./:-]{1,4}",
        Just("$$".to_string()),
        name.clone().prop_map(|n| format!("${n}")),
        name.clone().prop_map(|n| format!("${{{n}}}")),
        (
            name,
            prop_oneof![Just(":-"), Just("-"), Just(":+"), Just("+")],
            "[a-z0-9]{0,3}"
        )
            .prop_map(|(n, op, d)| format!("${{{n}{op}{d}}}")),
    ];
    let quote = prop_oneof![Just(""), Just("'"), Just("\"")];
    let comment = prop_oneof![Just(""), Just(" # note")];
    (proptest::collection::vec(piece, 0..4), quote, comment)
        .prop_map(|(parts, q, c)| format!("{q}{}{q}{c}", parts.concat()))
}

#[test]
fn env_files_are_read_as_compose_v2_reads_them() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    const KEYS: usize = 8;
    let judge = crate::peers::docker_compose();
    let lookup = |name: &str| match name {
        "SET" => Some("v".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let separator = prop_oneof![Just("="), Just(": "), Just(" = "), Just(":")];
    let compared = std::cell::Cell::new(0usize);
    runner
        .run(
            &proptest::collection::vec((separator, env_value(KEYS)), KEYS),
            |lines| {
                let ctx = TestContext::empty();
                let env: String = lines
                    .iter()
                    .enumerate()
                    .map(|(i, (sep, value))| format!("K{i}{sep}{value}\n"))
                    .collect();
                ctx.write(".env", &env);
                let mut compose = String::from("services:\n  a:\n    image: x\n    environment:\n");
                for i in 0..KEYS {
                    compose.push_str(&format!("      K{i}: \"${{K{i}-unset}}\"\n"));
                }
                ctx.write("compose.yaml", &compose);
                let out = output_within(
                    std::process::Command::new(&judge)
                        .args(["config", "--format", "json"])
                        .current_dir(&ctx.root)
                        .env_clear()
                        .env("SET", "v")
                        .env("EMPTY", ""),
                    Duration::from_secs(30),
                );
                prop_assert!(out.status.success(), "{}\n{env}", stderr(&out));
                let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let theirs = &doc["services"]["a"]["environment"];
                let ours = tracectl::judged::env_file(std::path::Path::new(".env"), &env, lookup)
                    .unwrap_or_else(|e| panic!("{e}\n{env}"));
                for i in 0..KEYS {
                    let key = format!("K{i}");
                    // Compose's own output writes `$` as `$$`.
                    let theirs = theirs[&key].as_str().unwrap_or_default().replace("$$", "$");
                    compared.set(compared.get() + 1);
                    prop_assert_eq!(ours.get(&key), Some(&theirs), "{} in\n{}", key, env);
                }
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(compared.get(), 24 * KEYS);
}

#[test]
fn a_region_written_as_compose_reads_dotenv_is_found() {
    for env in [
        "REGION=eu-west-3\nAWS_REGION=${REGION}\n",
        "AWS_REGION: eu-west-3\n",
        "AWS_REGION = 'eu-west-3'\n",
    ] {
        let ctx = TestContext::fixture("cruddur");
        ctx.write(".env", env);
        let (out, v) = json_run(&ctx, "doctor", &["--offline", "--check", "aws-region"], &[]);
        assert_exit(&out, 0);
        let c = check(&v, "aws-region");
        assert_eq!(c["status"], "pass", "{env:?}: {c}");
        assert!(
            c["detail"].as_str().unwrap().starts_with("eu-west-3"),
            "{env:?}: {c}"
        );
    }
}
