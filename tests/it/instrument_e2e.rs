//! Proof with the real programs: after `tracectl init --instrument …`, the backend started exactly
//! as configured (the command Compose v2 resolves, else the Dockerfile's CMD; the app file as
//! edited), with the environment Compose v2 resolves for it, sends a SERVER span for the route
//! requested, under the chosen service name, to a loopback collector (rotel) or `tracectl listen`.
//! Only the listening address is changed (to a free loopback port), and the OTLP endpoint and the
//! X-Ray daemon address are pointed at the loopback peers.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;
use crate::instrument::resolved;
use crate::listen::Listen;
use crate::peers::{self, Guard, Rotel};

/// The backend's environment as Compose v2 resolves it (with the project's .env).
fn backend_env(project: &serde_json::Value, service: &str) -> BTreeMap<String, String> {
    project["services"][service]["environment"]
        .as_object()
        .map(|env| {
            env.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The command Docker runs: Compose's entrypoint + command when it sets them, else the
/// Dockerfile's last CMD in exec form (continuation lines joined), read here on its own.
fn start_command(project: &serde_json::Value, service: &str, dockerfile: &Path) -> Vec<String> {
    let words = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let s = &project["services"][service];
    let mut argv = words(&s["entrypoint"]);
    argv.extend(words(&s["command"]));
    if !argv.is_empty() {
        return argv;
    }
    let text = std::fs::read_to_string(dockerfile).unwrap();
    let joined = text.replace("\\\n", " ");
    let cmd = joined
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("CMD "))
        .expect("the Dockerfile has a CMD");
    serde_json::from_str(cmd).expect("the CMD is in exec form")
}

/// Bind to a free loopback port instead of the container's published one.
fn on_port(argv: &[String], port: u16) -> Vec<String> {
    argv.iter()
        .map(|a| match a.as_str() {
            "--host=0.0.0.0" => "--host=127.0.0.1".to_string(),
            a if a.starts_with("--port=") => format!("--port={port}"),
            a if a.starts_with("0.0.0.0:") => format!("127.0.0.1:{port}"),
            a => a.to_string(),
        })
        .collect()
}

/// Start the backend: `argv` resolved through the testbed's bin folder first (where pip put
/// opentelemetry-instrument, flask, gunicorn and python3), in the build folder, with `env`.
fn start_backend(argv: &[String], dir: &Path, env: &BTreeMap<String, String>) -> Guard {
    let bin = peers::testbed().join("bin");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let program = bin.join(&argv[0]);
    assert!(
        program.exists(),
        "{} is not installed in the testbed",
        argv[0]
    );
    let child = Command::new(program)
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Guard(child)
}

fn get_ok(port: u16, path: &str) {
    let response = http_get(port, path);
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "{response}"
    );
}

struct Case {
    fixture: &'static str,
    service: &'static str,
    dir: &'static str,
    dockerfile: &'static str,
    route: &'static str,
    health: Option<&'static str>,
}

const CRUDDUR: Case = Case {
    fixture: "cruddur",
    service: "backend-flask",
    dir: "backend-flask",
    dockerfile: "backend-flask/Dockerfile",
    route: "/api/activities/home",
    health: None,
};

const ORDERS: Case = Case {
    fixture: "orders",
    service: "orders-api",
    dir: "orders",
    dockerfile: "orders/Dockerfile",
    route: "/api/orders",
    health: Some("/healthz"),
};

/// init in `mode` for Honeycomb, then the backend as configured, exporting to rotel: a SERVER
/// span for the route arrives under the chosen name, and none for the health check.
fn proves(case: &Case, mode: &str, compose_file: &str) -> Output {
    proves_after(case, mode, compose_file, |_| {})
}

/// [`proves`], with the fixture changed by `prepare` first.
fn proves_after(
    case: &Case,
    mode: &str,
    compose_file: &str,
    prepare: impl Fn(&TestContext),
) -> Output {
    let rotel = Rotel::start();
    let ctx = TestContext::fixture(case.fixture);
    prepare(&ctx);
    let name = format!("{}-{mode}", case.fixture);
    let out = run(ctx.tracectl().args([
        "init",
        "--yes",
        "--no-xray",
        "--instrument",
        mode,
        "--service-name",
        &name,
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    let project = resolved(&ctx, compose_file);
    let argv = start_command(&project, case.service, &ctx.path(case.dockerfile));
    assert_eq!(
        argv[0] == "opentelemetry-instrument",
        mode == "zero-code",
        "{argv:?}"
    );
    let mut env = backend_env(&project, case.service);
    assert_eq!(env["OTEL_SERVICE_NAME"], name);
    env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), rotel.endpoint());
    env.insert("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into());
    let port = peers::free_port();
    let _backend = start_backend(&on_port(&argv, port), &ctx.path(case.dir), &env);
    if let Some(health) = case.health {
        get_ok(port, health);
    }
    get_ok(port, case.route);
    let spans = rotel.wait_for_spans(|spans| {
        spans
            .iter()
            .any(|s| s.kind == "SPAN_KIND_SERVER" && s.attr("http.route") == Some(case.route))
    });
    let server = spans
        .iter()
        .find(|s| s.kind == "SPAN_KIND_SERVER" && s.attr("http.route") == Some(case.route))
        .unwrap();
    assert_eq!(
        server.resource_attr("service.name"),
        Some(name.as_str()),
        "{server:?}"
    );
    if let Some(health) = case.health {
        assert!(
            !spans.iter().any(|s| s.attr("http.route") == Some(health)),
            "the health check was traced: {spans:?}"
        );
    }
    out
}

#[test]
fn cruddur_zero_code_runs_the_wrapped_cmd_and_traces_arrive() {
    proves(&CRUDDUR, "zero-code", "docker-compose.yml");
}

#[test]
fn cruddur_code_runs_the_edited_app_and_traces_arrive() {
    proves(&CRUDDUR, "code", "docker-compose.yml");
}

#[test]
fn factory_under_gunicorn_zero_code_traces_arrive() {
    proves(&ORDERS, "zero-code", "compose.yaml");
}

#[test]
fn factory_under_gunicorn_code_traces_arrive() {
    proves(&ORDERS, "code", "compose.yaml");
}

/// `--preload` is flagged, and with the agent and the SDK pinned here traces still arrive.
#[test]
fn gunicorn_preload_is_flagged_and_traces_still_arrive() {
    let out = proves_after(&ORDERS, "zero-code", "compose.yaml", |ctx| {
        let d = ctx.read("orders/Dockerfile");
        ctx.write(
            "orders/Dockerfile",
            &d.replace(
                "\"--workers\", \"2\"",
                "\"--preload\", \"--workers\", \"2\"",
            ),
        );
    });
    assert!(stderr(&out).contains("--preload"), "{}", stderr(&out));
}

/// X-Ray through the daemon, with Honeycomb: OTLP goes to listen's HTTP port and the X-Ray
/// SDK's segment to listen's UDP port, in both modes.
#[test]
fn xray_daemon_segments_and_otlp_spans_both_reach_listen() {
    for mode in ["zero-code", "code"] {
        let listen = Listen::start(&[]);
        let ctx = TestContext::fixture("cruddur");
        let name = format!("cruddur-xray-{mode}");
        let out = run(ctx.tracectl().args([
            "init",
            "--yes",
            "--xray-via",
            "daemon",
            "--aws-region",
            "eu-west-3",
            "--instrument",
            mode,
            "--service-name",
            &name,
            "--honeycomb-api-key",
            INGEST_US,
        ]));
        assert_exit(&out, 0);
        let project = resolved(&ctx, "docker-compose.yml");
        let argv = start_command(&project, CRUDDUR.service, &ctx.path(CRUDDUR.dockerfile));
        let mut env = backend_env(&project, CRUDDUR.service);
        assert_eq!(env["AWS_XRAY_DAEMON_ADDRESS"], "xray-daemon:2000");
        env.insert("AWS_XRAY_DAEMON_ADDRESS".into(), listen.udp.to_string());
        env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), listen.endpoint());
        env.insert("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into());
        let port = peers::free_port();
        let _backend = start_backend(&on_port(&argv, port), &ctx.path(CRUDDUR.dir), &env);
        get_ok(port, CRUDDUR.route);
        let route = CRUDDUR.route;
        let lines = listen.wait_for(|lines| {
            let otlp = lines.iter().any(|l| {
                l["source"] == "otlp" && l["kind"] == "server" && l["service"] == name.as_str()
            });
            let xray = lines
                .iter()
                .any(|l| l["source"] == "xray" && l.to_string().contains(route));
            otlp && xray
        });
        assert!(!lines.is_empty(), "{mode}");
    }
}

/// `python app.py` with `app.run(debug=True)`: zero-code wraps the command and turns the
/// reloader off in the app (it would start the app a second time in a child process).
#[test]
fn python_app_py_in_debug_mode_zero_code_traces_arrive() {
    let rotel = Rotel::start();
    let ctx = TestContext::empty();
    ctx.write(
        "compose.yaml",
        "services:\n  items:\n    build: ./items\n    command: [\"python3\", \"app.py\"]\n    environment:\n      PORT: \"5000\"\n",
    );
    ctx.write("items/requirements.txt", "flask\n");
    ctx.write(
        "items/app.py",
        "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route(\"/api/items\")\ndef items():\n    return []\n\n\nif __name__ == \"__main__\":\n    app.run(host=\"127.0.0.1\", port=int(os.environ[\"PORT\"]), debug=True)\n",
    );
    let out = run(ctx.tracectl().args([
        "init",
        "--yes",
        "--no-xray",
        "--service-name",
        "items-zero-code",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    assert!(
        ctx.read("items/app.py")
            .contains("debug=True, use_reloader=False)")
    );
    let project = resolved(&ctx, "compose.yaml");
    let argv = start_command(&project, "items", &ctx.path("items/Dockerfile"));
    assert_eq!(argv, ["opentelemetry-instrument", "python3", "app.py"]);
    let mut env = backend_env(&project, "items");
    let port = peers::free_port();
    env.insert("PORT".into(), port.to_string());
    env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), rotel.endpoint());
    env.insert("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into());
    let _backend = start_backend(&argv, &ctx.path("items"), &env);
    get_ok(port, "/api/items");
    let spans = rotel.wait_for_spans(|spans| {
        spans
            .iter()
            .any(|s| s.kind == "SPAN_KIND_SERVER" && s.attr("http.route") == Some("/api/items"))
    });
    assert!(
        spans
            .iter()
            .any(|s| s.resource_attr("service.name") == Some("items-zero-code")),
        "{spans:?}"
    );
}

/// The agent searches each OTEL_PYTHON_FLASK_EXCLUDED_URLS entry as a regex in the full URL:
/// the entries init writes end at the route (or its query), so /health (with or without a
/// query) produces no span while /healthcare/patients, which starts with the same letters, does.
#[test]
fn excluded_health_checks_leave_routes_that_start_alike_traced() {
    let rotel = Rotel::start();
    let ctx = TestContext::empty();
    ctx.write(
        "compose.yaml",
        "services:\n  api:\n    build: ./api\n    command: [\"python3\", \"app.py\"]\n    environment:\n      PORT: \"5000\"\n",
    );
    ctx.write("api/requirements.txt", "flask\n");
    ctx.write(
        "api/app.py",
        "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get(\"/health\")\ndef health():\n    return \"ok\"\n\n\n@app.get(\"/healthcare/patients\")\ndef patients():\n    return \"the real endpoint\"\n\n\nif __name__ == \"__main__\":\n    app.run(host=\"127.0.0.1\", port=int(os.environ[\"PORT\"]))\n",
    );
    let out = run(ctx.tracectl().args([
        "init",
        "--yes",
        "--no-xray",
        "--instrument",
        "zero-code",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    let project = resolved(&ctx, "compose.yaml");
    let argv = start_command(&project, "api", &ctx.path("api/Dockerfile"));
    let mut env = backend_env(&project, "api");
    assert!(
        env.contains_key("OTEL_PYTHON_FLASK_EXCLUDED_URLS"),
        "{env:?}"
    );
    let port = peers::free_port();
    env.insert("PORT".into(), port.to_string());
    env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), rotel.endpoint());
    env.insert("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into());
    let _backend = start_backend(&argv, &ctx.path("api"), &env);
    get_ok(port, "/health");
    get_ok(port, "/health?probe=1");
    get_ok(port, "/healthcare/patients");
    let spans = rotel.wait_for_spans(|spans| {
        spans.iter().any(|s| {
            s.kind == "SPAN_KIND_SERVER" && s.attr("http.route") == Some("/healthcare/patients")
        })
    });
    assert!(
        !spans
            .iter()
            .any(|s| s.attr("http.route") == Some("/health")),
        "the health check was traced: {spans:?}"
    );
}
