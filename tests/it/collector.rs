//! `init --xray-via collector` and `init --migrate`, proven by the real programs: Docker Compose v2
//! resolves what init wrote, rotel runs with exactly the collector's resolved environment, and the
//! recipe's Flask app runs with the backend's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::peers::{self, Guard, XrayOtlpEndpoint};

const REGION: &str = "eu-west-3";
const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A service's environment as `docker-compose config --format json` resolves it from the
/// project's .env and `shell` (the only process environment it gets).
fn resolved(
    ctx: &TestContext,
    service: &str,
    shell: &[(&str, String)],
) -> BTreeMap<String, String> {
    let out = output_within(
        Command::new(peers::docker_compose())
            .args(["config", "--format", "json"])
            .current_dir(&ctx.root)
            .env_clear()
            .envs(shell.iter().map(|(k, v)| (*k, v.as_str()))),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let env = doc["services"][service]["environment"]
        .as_object()
        .unwrap_or_else(|| panic!("no resolved environment for {service}: {doc}"));
    env.iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn compose_valid(ctx: &TestContext) {
    let out = output_within(
        Command::new(peers::docker_compose())
            .args(["config", "-q"])
            .current_dir(&ctx.root)
            .env_clear()
            .envs([("AWS_REGION", REGION)]),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "Compose v2 rejects it: {}",
        stderr(&out)
    );
}

#[test]
fn collector_written_by_init_delivers_the_apps_server_span_to_xray() {
    // X-Ray only: rotel 0.0.1a15 (the newest on PyPI) refuses two trace exporters
    // ("Only one exporter supported for ROTEL_EXPORTERS_TRACES"), so the Honeycomb fan-out that
    // init writes is not proven here.
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx.tracectl().args([
        "init",
        "--xray-via",
        "collector",
        "--aws-region",
        REGION,
        "--service-name",
        "cruddur-e2e",
        "--no-honeycomb",
    ]));
    assert_exit(&out, 0);
    compose_valid(&ctx);

    let xray = XrayOtlpEndpoint::start(ACCESS_KEY, SECRET_KEY, REGION, None);
    let http: SocketAddr = format!("127.0.0.1:{}", peers::free_port()).parse().unwrap();
    let grpc = format!("127.0.0.1:{}", peers::free_port());
    // rotel signs for the service and region it reads off the host name, so X-Ray keeps its
    // real name and only the port moves; the name resolves to loopback inside the collector's
    // own mount namespace (below).
    let shell = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
        (
            "XRAY_OTLP_ENDPOINT",
            format!("http://xray.{REGION}.amazonaws.com:{}", xray.port),
        ),
    ];
    let collector = resolved(&ctx, "otel-collector", &shell);
    assert_eq!(
        collector["ROTEL_EXPORTER_XRAY_ENDPOINT"],
        format!("http://xray.{REGION}.amazonaws.com:{}", xray.port)
    );
    assert_eq!(collector["AWS_REGION"], REGION);
    // Without the overrides the defaults are the real endpoints.
    let real = resolved(&ctx, "otel-collector", &[]);
    assert_eq!(
        real["ROTEL_EXPORTER_XRAY_ENDPOINT"],
        format!("https://xray.{REGION}.amazonaws.com")
    );
    assert!(
        !real.keys().any(|k| k.starts_with("ROTEL_OTLP_")),
        "receivers are the image's entrypoint's business: {real:?}"
    );

    let hosts = ctx.path("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1 localhost\n127.0.0.1 xray.{REGION}.amazonaws.com\n"),
    )
    .unwrap();
    // As the image's entrypoint starts it (`rotel start --otlp-grpc-endpoint 0.0.0.0:4317
    // --otlp-http-endpoint 0.0.0.0:4318`), on this machine's free loopback ports.
    let script = format!(
        "/bin/mount --bind '{}' /etc/hosts && exec '{}' start --otlp-grpc-endpoint {grpc} --otlp-http-endpoint {http}",
        hosts.display(),
        peers::rotel_agent().display()
    );
    let mut child = Command::new("/usr/bin/unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "/bin/sh",
            "-c",
            &script,
        ])
        .env_clear()
        .envs(&collector)
        .stdout(std::fs::File::create(ctx.path("collector.out")).unwrap())
        .stderr(std::fs::File::create(ctx.path("collector.log")).unwrap())
        .spawn()
        .expect("unshare (util-linux) runs the collector with its own /etc/hosts");
    let log = ctx.path("collector.log");
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        peers::wait_for_port(
            http,
            &mut child,
            "rotel-agent (in unshare; needs user namespaces)",
        )
    }));
    if started.is_err() {
        panic!(
            "the collector did not start; its log:\n{}{}",
            std::fs::read_to_string(&log).unwrap_or_default(),
            std::fs::read_to_string(ctx.path("collector.out")).unwrap_or_default()
        );
    }
    let _collector = Guard(child);

    let backend = resolved(&ctx, "backend-flask", &shell);
    assert_eq!(
        backend["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "http://otel-collector:4318"
    );
    assert!(
        !backend
            .keys()
            .any(|k| k.starts_with("AWS_") || k == "OTEL_EXPORTER_OTLP_HEADERS"),
        "the backend needs no AWS variables nor Honeycomb headers: {backend:?}"
    );
    let port = peers::free_port();
    let mut app = Command::new(peers::python());
    app.arg(manifest_dir().join("tests/support/flask_recipe_app.py"))
        .arg(port.to_string())
        .env_clear()
        .envs(&backend)
        // Compose's network name for the collector, as loopback: the one change.
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{http}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _app = Guard(app.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the Flask app did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let response = http_get(port, "/api/activities/home");
    assert!(response.contains(" 200 "), "{response}");

    let records = xray.wait_for_requests(1);
    let record = &records[0];
    assert_eq!(record["valid"], true, "{record}");
    assert_eq!(
        record["resource"]["service.name"], "cruddur-e2e",
        "{record}"
    );
    assert!(
        record["spans"].as_array().unwrap().iter().any(|s| s[1] == 2
            && s[0]
                .as_str()
                .is_some_and(|n| n.contains("/api/activities/home"))),
        "no SERVER span at X-Ray: {record}"
    );
}

/// The daemon setup `init --xray-via daemon` writes on `fixture`, then `init --migrate`.
fn migrated(fixture: &str, extra: &[&str]) -> (TestContext, String) {
    let ctx = TestContext::fixture(fixture);
    let mut args = INIT_FLAGS.to_vec();
    args.extend(extra);
    assert_exit(&run(ctx.tracectl().args(&args)), 0);
    let daemon = ctx.read(compose_name(&ctx));
    let dry = run(ctx.tracectl().args(["init", "--migrate", "--dry-run"]));
    assert_exit(&dry, 0);
    assert_eq!(ctx.read(compose_name(&ctx)), daemon, "--dry-run wrote");
    assert!(
        stdout(&dry).contains("+  otel-collector:")
            || stdout(&dry).contains("+    otel-collector:")
    );
    let out = run(ctx.tracectl().args(["init", "--migrate"]));
    assert_exit(&out, 0);
    compose_valid(&ctx);
    let before = ctx.snapshot();
    let again = run(ctx.tracectl().args(["init", "--migrate"]));
    assert_exit(&again, 0);
    assert!(
        stdout(&again).contains("Nothing to change"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        ctx.snapshot(),
        before,
        "the second --migrate changed a file"
    );
    let text = ctx.read(compose_name(&ctx));
    (ctx, text)
}

fn compose_name(ctx: &TestContext) -> &'static str {
    if ctx.path("compose.yaml").exists() {
        "compose.yaml"
    } else {
        "docker-compose.yml"
    }
}

/// Every line of `before` that is not one tracectl removes stays, in order, in `after`.
fn kept_in_order(before: &str, after: &str, removed: &[&str]) {
    let mut rest = after.lines();
    for line in before
        .lines()
        .filter(|l| !removed.iter().any(|r| l.contains(r)))
    {
        assert!(
            rest.any(|a| a == line),
            "line {line:?} was lost or moved:\n{after}"
        );
    }
}

const DAEMON_ONLY: &[&str] = &[
    "AWS_XRAY_URL",
    "AWS_XRAY_DAEMON_ADDRESS",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "xray-daemon",
    "amazon/aws-xray-daemon",
    "command:",
    "\"-o\"",
    "\"-n\"",
    "- \"${AWS_REGION}\"",
    "2000:2000/udp",
    "    ports:",
];

#[test]
fn migrate_turns_the_recipes_daemon_setup_into_the_collector_byte_for_byte() {
    let (ctx, text) = migrated("cruddur", &["--no-honeycomb"]);
    let expected = std::fs::read_to_string(fixtures().join("cruddur.migrated.yml")).unwrap();
    if std::env::var_os("TRACECTL_BLESS").is_some() {
        std::fs::write(fixtures().join("cruddur.migrated.yml"), &text).unwrap();
    } else {
        assert_eq!(text, expected);
    }
    let original = std::fs::read_to_string(fixtures().join("cruddur/docker-compose.yml")).unwrap();
    kept_in_order(&original, &text, &["ports:"]);
    let env = resolved(&ctx, "backend-flask", &[("AWS_REGION", REGION.to_string())]);
    assert_eq!(
        env["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "http://otel-collector:4318"
    );
    assert!(
        !env.contains_key("AWS_XRAY_DAEMON_ADDRESS")
            && !env.contains_key("OTEL_EXPORTER_OTLP_HEADERS")
    );
    let collector = resolved(
        &ctx,
        "otel-collector",
        &[("AWS_REGION", REGION.to_string())],
    );
    assert!(
        !collector.keys().any(|k| k.contains("HONEYCOMB")),
        "{collector:?}"
    );
    assert_eq!(
        collector["ROTEL_EXPORTER_XRAY_ENDPOINT"],
        format!("https://xray.{REGION}.amazonaws.com")
    );
}

#[test]
fn migrate_keeps_list_style_anchors_and_user_edits_around_the_daemon() {
    let (_ctx, text) = migrated("listy", &["--service", "api", "--no-honeycomb"]);
    let expected = std::fs::read_to_string(fixtures().join("listy.migrated.yaml")).unwrap();
    if std::env::var_os("TRACECTL_BLESS").is_some() {
        std::fs::write(fixtures().join("listy.migrated.yaml"), &text).unwrap();
    } else {
        assert_eq!(text, expected);
    }
    let original = std::fs::read_to_string(fixtures().join("listy/compose.yaml")).unwrap();
    kept_in_order(&original, &text, &[]);
    assert!(text.contains("- FLASK_APP=app.py   # entry point"));
    assert!(!text.contains("xray-daemon"));
}

#[test]
fn migrate_with_hand_edits_keeps_them_and_names_the_apps_xray_lines() {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(
        &run(ctx.tracectl().args(INIT_FLAGS).arg("--no-honeycomb")),
        0,
    );
    // The user's own touches: a comment on the daemon, a variable after ours, an app with the SDK.
    let edited = ctx
        .read("docker-compose.yml")
        .replace("  xray-daemon:\n", "  xray-daemon:  # traces to AWS\n")
        .replace(
            "      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"\n",
            "      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"\n      LOG_LEVEL: debug # mine\n",
        );
    ctx.write("docker-compose.yml", &edited);
    ctx.write(
        "backend-flask/app.py",
        "from flask import Flask\nfrom aws_xray_sdk.core import xray_recorder\nfrom aws_xray_sdk.ext.flask.middleware import XRayMiddleware\n\napp = Flask(__name__)\nXRayMiddleware(app, xray_recorder)\n",
    );
    let app = ctx.read("backend-flask/app.py");
    let out = run(ctx.tracectl().args(["init", "--migrate"]));
    assert_exit(&out, 0);
    let said = stdout(&out);
    for line in [
        "backend-flask/app.py:2: from aws_xray_sdk.core import xray_recorder",
        "backend-flask/app.py:3: from aws_xray_sdk.ext.flask.middleware import XRayMiddleware",
        "backend-flask/app.py:6: XRayMiddleware(app, xray_recorder)",
    ] {
        assert!(said.contains(line), "{line} missing from:\n{said}");
    }
    assert_eq!(ctx.read("backend-flask/app.py"), app, "the app was edited");
    let text = ctx.read("docker-compose.yml");
    assert!(
        text.contains("  otel-collector:  # traces to AWS\n"),
        "{text}"
    );
    assert!(text.contains("      LOG_LEVEL: debug # mine\n"), "{text}");
    kept_in_order(&edited, &text, DAEMON_ONLY);
    compose_valid(&ctx);
}

#[test]
fn migrate_without_a_daemon_says_what_to_run_and_writes_nothing() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    let out = run(ctx.tracectl().args(["init", "--migrate"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("init --xray-via collector"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ctx.snapshot(), before);
}

#[test]
fn a_backend_that_also_sends_to_honeycomb_keeps_the_daemon_and_nothing_is_written() {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS)), 0);
    let before = ctx.snapshot();
    let out = run(ctx.tracectl().args(["init", "--migrate"]));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("docker-compose.yml")
            && err.contains("also sends traces to Honeycomb")
            && err.contains("one destination"),
        "{err}"
    );
    assert_eq!(ctx.snapshot(), before, "a refused --migrate wrote");
}

#[test]
fn collector_mode_with_honeycomb_too_is_refused_and_the_default_stays_the_daemon() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    let out = run(ctx
        .tracectl()
        .args(["init", "--xray-via", "collector", "--aws-region", REGION])
        .args(["--honeycomb-api-key", INGEST_US]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--xray-via daemon"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ctx.snapshot(), before);
    // Without --xray-via, both backends get the daemon path.
    let out = run(ctx
        .tracectl()
        .args(["init", "--aws-region", REGION])
        .args(["--honeycomb-api-key", INGEST_US]));
    assert_exit(&out, 0);
    let text = ctx.read("docker-compose.yml");
    assert!(
        text.contains("xray-daemon:") && !text.contains("otel-collector"),
        "{text}"
    );
}
