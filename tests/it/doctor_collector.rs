//! `doctor` on collector projects: what `init --xray-via collector` and `init --migrate` write
//! passes, and each way a hand-edited collector stops reaching X-Ray is named with its line.

use serde_json::Value;

use crate::common::*;

const REGION: &str = "eu-west-3";

/// The recipe's OpenTelemetry instrumentation, as init prints it for collector mode.
const OTEL_APP: &str = "from flask import Flask\n\
from opentelemetry import trace\n\
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n\
from opentelemetry.instrumentation.flask import FlaskInstrumentor\n\
from opentelemetry.sdk.trace import TracerProvider\n\
from opentelemetry.sdk.trace.export import BatchSpanProcessor\n\
\n\
provider = TracerProvider()\n\
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))\n\
trace.set_tracer_provider(provider)\n\
\n\
app = Flask(__name__)\n\
FlaskInstrumentor().instrument_app(app)\n";

/// The recipe's X-Ray SDK instrumentation, as init prints it for daemon mode.
const XRAY_APP: &str = "import os\n\
from flask import Flask\n\
from aws_xray_sdk.core import xray_recorder\n\
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware\n\
\n\
xray_recorder.configure(service='backend-flask', dynamic_naming=os.getenv('AWS_XRAY_URL'))\n\
app = Flask(__name__)\n\
XRayMiddleware(app, xray_recorder)\n";

/// The shell that runs `docker compose up`: credentials come from it, never from a file.
fn shell() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
        ),
        ("GITPOD_WORKSPACE_ID", "ws".to_string()),
        ("GITPOD_WORKSPACE_CLUSTER_HOST", "gitpod.io".to_string()),
        ("TRACECTL_NOW", TODAY.to_string()),
    ]
}

fn doctor(ctx: &TestContext) -> (std::process::Output, Value) {
    json_run(ctx, "doctor", &["--offline"], &shell())
}

/// Cruddur with the collector init writes, X-Ray only, and the app instrumented as init says.
fn collector_project() -> TestContext {
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx.tracectl().args([
        "init",
        "--xray-via",
        "collector",
        "--aws-region",
        REGION,
        "--no-honeycomb",
    ]));
    assert_exit(&out, 0);
    ctx.write("backend-flask/app.py", OTEL_APP);
    ctx
}

#[track_caller]
fn status(v: &Value, id: &str) -> String {
    check(v, id)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn what_init_writes_for_the_collector_passes_every_project_check() {
    let ctx = collector_project();
    let (out, v) = doctor(&ctx);
    assert_exit(&out, 0);
    for id in [
        "env-file",
        "compose",
        "requirements",
        "app",
        "collector",
        "aws-region",
    ] {
        assert_eq!(status(&v, id), "pass", "{id}: {:#}", check(&v, id));
    }
    let detail = check(&v, "collector")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("otel-collector:4318") && detail.contains(&format!("X-Ray {REGION}")),
        "{detail}"
    );
    assert_eq!(status(&v, "xray-support"), "pass");
}

#[test]
fn after_migrate_only_the_apps_xray_sdk_lines_are_left_and_each_is_named() {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(
        &run(ctx.tracectl().args(INIT_FLAGS).arg("--no-honeycomb")),
        0,
    );
    ctx.write("backend-flask/app.py", XRAY_APP);
    let (_, before) = doctor(&ctx);
    assert_eq!(status(&before, "collector"), "skip");
    assert_eq!(status(&before, "app"), "pass");

    let out = run(ctx.tracectl().args(["init", "--migrate"]));
    assert_exit(&out, 0);
    // An X-Ray-only app has no OpenTelemetry yet: migrate says what to add.
    let said = stdout(&out);
    assert!(
        said.contains("no OpenTelemetry instrumentation yet")
            && said.contains("FlaskInstrumentor().instrument_app(app)"),
        "{said}"
    );
    let (out, v) = doctor(&ctx);
    assert_exit(&out, 0);
    for id in ["compose", "requirements", "collector"] {
        assert_eq!(status(&v, id), "pass", "{id}: {:#}", check(&v, id));
    }
    assert_eq!(status(&v, "app"), "warn");
    let lines: Vec<u64> = check(&v, "app")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["line"].as_u64())
        .collect();
    assert_eq!(lines, [3, 4, 6, 8], "{:#}", check(&v, "app"));

    // With the OpenTelemetry lines in and the SDK's out, nothing is left to say.
    ctx.write("backend-flask/app.py", OTEL_APP);
    let (out, v) = doctor(&ctx);
    assert_exit(&out, 0);
    assert_eq!(status(&v, "app"), "pass", "{:#}", check(&v, "app"));
}

/// A hand edit of the written compose file, what the collector check must then say, and the
/// text of the line it must point at.
struct Broken {
    from: &'static str,
    to: &'static str,
    status: &'static str,
    words: &'static str,
    line_with: &'static str,
}

const BROKEN: &[Broken] = &[
    Broken {
        from: "\"http://otel-collector:4318\"",
        to: "\"https://otel-collector:4318\"",
        status: "fail",
        words: "over TLS",
        line_with: "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    Broken {
        from: "\"http://otel-collector:4318\"",
        to: "\"http://otel-collector:4317\"",
        status: "fail",
        words: "to port 4317 of otel-collector, whose OTLP/HTTP receiver listens on 0.0.0.0:4318",
        line_with: "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    Broken {
        from: "OTEL_EXPORTER_OTLP_PROTOCOL: \"http/protobuf\"",
        to: "OTEL_EXPORTER_OTLP_PROTOCOL: grpc",
        status: "fail",
        words: "sends OTLP/gRPC to port 4318 of otel-collector",
        line_with: "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    Broken {
        from: "image: \"streamfold/rotel\"",
        to: "image: \"streamfold/rotel\"\n    entrypoint: [\"/rotel\", \"start\"]",
        status: "fail",
        words: "receiver binds localhost:4318 (ROTEL_OTLP_HTTP_ENDPOINT), which other containers cannot reach",
        line_with: "otel-collector:",
    },
    Broken {
        from: "ROTEL_EXPORTERS: \"xray:otlp\"",
        to: "ROTEL_EXPORTERS: \"xray:otlp\"\n      ROTEL_OTLP_HTTP_ENDPOINT: 127.0.0.1:4318",
        // The image's entrypoint binds 0.0.0.0:4318 by flag, whatever the variable says.
        status: "pass",
        words: "to otel-collector:4318",
        line_with: "",
    },
    Broken {
        from: "OTEL_EXPORTER_OTLP_ENDPOINT: \"http://otel-collector:4318\"",
        to: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: \"http://otel-collector:4318\"",
        status: "fail",
        words: "posts traces to / (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), but otel-collector takes them at /v1/traces",
        line_with: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    },
    Broken {
        from: "\"http://otel-collector:4318\"",
        to: "\"http://otel-collector:4318/v1/traces\"",
        status: "fail",
        words: "posts traces to /v1/traces/v1/traces",
        line_with: "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    Broken {
        from: ".amazonaws.com}\"",
        to: ".amazonaws.com}/v1/traces\"",
        status: "fail",
        words: "ROTEL_EXPORTER_XRAY_ENDPOINT ends in /v1/traces: rotel adds /v1/traces itself",
        line_with: "ROTEL_EXPORTER_XRAY_ENDPOINT",
    },
    Broken {
        from: "      ROTEL_EXPORTERS_TRACES: \"xray\"\n",
        to: "",
        status: "fail",
        words: "ROTEL_EXPORTERS_TRACES names none",
        line_with: "ROTEL_EXPORTERS",
    },
    Broken {
        from: "ROTEL_EXPORTER_XRAY_PROTOCOL: \"http\"",
        to: "ROTEL_EXPORTER_XRAY_PROTOCOL: \"grpc\"",
        status: "fail",
        words: "takes OTLP/HTTP only",
        line_with: "ROTEL_EXPORTER_XRAY_PROTOCOL",
    },
    Broken {
        from: "      ROTEL_EXPORTER_XRAY_AUTHENTICATOR: \"sigv4auth\"\n",
        to: "",
        status: "fail",
        words: "ROTEL_EXPORTER_XRAY_AUTHENTICATOR is unset: X-Ray refuses requests not signed with SigV4",
        line_with: "otel-collector:",
    },
    Broken {
        from: "ROTEL_EXPORTERS_TRACES: \"xray\"",
        to: "ROTEL_EXPORTERS_TRACES: \"x-ray\"",
        status: "fail",
        words: "names exporter x-ray, which ROTEL_EXPORTERS does not declare",
        line_with: "ROTEL_EXPORTERS_TRACES",
    },
    Broken {
        from: "https://xray.${AWS_REGION}.amazonaws.com",
        to: "https://xray.eu-wset-3.amazonaws.com",
        status: "fail",
        words: "did you mean eu-west-3?",
        line_with: "ROTEL_EXPORTER_XRAY_ENDPOINT",
    },
    Broken {
        from: "https://xray.${AWS_REGION}.amazonaws.com",
        to: "https://xray.us-east-1.amazonaws.com",
        status: "fail",
        words: "sends to X-Ray in us-east-1 (ROTEL_EXPORTER_XRAY_ENDPOINT) but its AWS_REGION is eu-west-3",
        line_with: "ROTEL_EXPORTER_XRAY_ENDPOINT",
    },
    Broken {
        from: "      AWS_ACCESS_KEY_ID: \"${AWS_ACCESS_KEY_ID}\"\n      AWS_SECRET_ACCESS_KEY: \"${AWS_SECRET_ACCESS_KEY}\"\n",
        to: "",
        status: "warn",
        words: "receives no AWS credentials",
        line_with: "    environment:",
    },
    Broken {
        from: "ROTEL_EXPORTERS: \"xray:otlp\"",
        to: "ROTEL_EXPORTERS: \"xray:otlp\"\n      ROTEL_OTLP_RECEIVER_TRACES_DISABLED: \"true\"",
        status: "fail",
        words: "refuses traces",
        line_with: "ROTEL_OTLP_RECEIVER_TRACES_DISABLED",
    },
    Broken {
        from: "ROTEL_EXPORTERS: \"xray:otlp\"",
        to: "ROTEL_EXPORTERS: \"xray:otlp\"\n      ROTEL_OTLP_RECEIVER_TRACES_HTTP_PATH: /traces",
        status: "fail",
        words: "but otel-collector takes them at /traces",
        line_with: "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    Broken {
        from: "image: \"streamfold/rotel\"",
        to: "image: \"streamfold/rotel:v0.1.0\"",
        // A tagged image is the same collector.
        status: "pass",
        words: "which sends to X-Ray eu-west-3 (SigV4)",
        line_with: "",
    },
];

#[test]
fn each_hand_edit_that_breaks_the_collector_is_named_on_its_line() {
    let pristine = collector_project();
    let written = pristine.read("docker-compose.yml");
    for case in BROKEN {
        let ctx = collector_project();
        assert!(
            written.contains(case.from),
            "{} is not in:\n{written}",
            case.from
        );
        let text = written.replacen(case.from, case.to, 1);
        ctx.write("docker-compose.yml", &text);
        let before = ctx.snapshot();
        let (out, v) = doctor(&ctx);
        assert_eq!(ctx.snapshot(), before, "doctor changed a file");
        let c = check(&v, "collector");
        assert_eq!(c["status"], case.status, "{}: {c:#}\n{text}", case.to);
        assert_exit(&out, if case.status == "fail" { 1 } else { 0 });
        if case.status == "pass" {
            assert!(c["detail"].as_str().unwrap().contains(case.words), "{c:#}");
            continue;
        }
        let finding = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["message"].as_str().unwrap().contains(case.words))
            .unwrap_or_else(|| panic!("{:?} not among {c:#}", case.words));
        let line = finding["line"].as_u64().unwrap() as usize;
        let shown = text.lines().nth(line - 1).unwrap_or_default();
        assert!(
            shown.contains(case.line_with),
            "{}: line {line} is {shown:?}, expected one with {:?}",
            case.words,
            case.line_with
        );
        assert_eq!(finding["file"], "docker-compose.yml");
    }
}

#[test]
fn a_collector_configured_by_a_file_is_named_not_guessed() {
    let ctx = collector_project();
    let written = ctx.read("docker-compose.yml");
    let start = written.find("  otel-collector:").unwrap();
    let end = written.find("  frontend-react-js:").unwrap();
    let text = format!(
        "{}  otel-collector:\n    image: otel/opentelemetry-collector-contrib\n    volumes:\n      - ./otel.yaml:/etc/otelcol-contrib/config.yaml\n{}",
        &written[..start],
        &written[end..]
    );
    ctx.write("docker-compose.yml", &text);
    let (out, v) = doctor(&ctx);
    let c = check(&v, "collector");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("is not configured by ROTEL_* variables"),
        "{c:#}"
    );
    // Taken at its word: the backend is not asked for the X-Ray SDK.
    assert_exit(&out, 0);
    assert_eq!(status(&v, "requirements"), "pass");
    assert_eq!(status(&v, "compose"), "pass", "{:#}", check(&v, "compose"));
}

#[test]
fn a_collector_for_honeycomb_beside_the_daemon_for_xray_asks_for_both_sdks_and_passes() {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS)), 0);
    let written = ctx.read("docker-compose.yml");
    let endpoint = written
        .lines()
        .find(|l| l.contains("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .unwrap();
    let headers = written
        .lines()
        .find(|l| l.contains("OTEL_EXPORTER_OTLP_HEADERS"))
        .unwrap();
    let text = written
        .replace(
            endpoint,
            "      OTEL_EXPORTER_OTLP_ENDPOINT: \"http://hc-collector:4318\"",
        )
        .replace(&format!("{headers}\n"), "")
        .replace(
            "  frontend-react-js:\n",
            "  hc-collector:\n    image: streamfold/rotel\n    environment:\n      \
             ROTEL_OTLP_HTTP_ENDPOINT: \"0.0.0.0:4318\"\n      \
             ROTEL_OTLP_EXPORTER_ENDPOINT: https://api.honeycomb.io\n      \
             ROTEL_OTLP_EXPORTER_PROTOCOL: http\n      \
             ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\"\n  \
             frontend-react-js:\n",
        );
    ctx.write("docker-compose.yml", &text);
    ctx.write(
        "backend-flask/app.py",
        &format!("{OTEL_APP}from aws_xray_sdk.ext.flask.middleware import XRayMiddleware\nXRayMiddleware(app, None)\n"),
    );
    let (out, v) = doctor(&ctx);
    for id in ["compose", "requirements", "app", "collector"] {
        assert_eq!(status(&v, id), "pass", "{id}: {:#}\n{text}", check(&v, id));
    }
    let detail = check(&v, "collector")["detail"].as_str().unwrap();
    assert!(
        detail.contains("hc-collector:4318") && detail.contains("Honeycomb"),
        "{detail}"
    );
    assert!(!detail.contains("X-Ray"), "{detail}");
    assert_no_leak("collector beside daemon", &out, &[INGEST_US]);
    // Without the X-Ray SDK in the app, the daemon path is broken, and doctor says so.
    ctx.write("backend-flask/app.py", OTEL_APP);
    let (_, v) = doctor(&ctx);
    assert_eq!(status(&v, "app"), "warn", "{:#}", check(&v, "app"));
}

#[test]
fn working_setups_written_another_way_pass() {
    // A traces endpoint with its own path that the receiver takes; the collector's whole
    // configuration in an env_file.
    let ctx = collector_project();
    let written = ctx.read("docker-compose.yml");
    let custom = written
        .replacen(
            "OTEL_EXPORTER_OTLP_ENDPOINT: \"http://otel-collector:4318\"",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: \"http://otel-collector:4318/custom\"",
            1,
        )
        .replacen(
            "ROTEL_EXPORTERS: \"xray:otlp\"",
            "ROTEL_EXPORTERS: \"xray:otlp\"\n      ROTEL_OTLP_RECEIVER_TRACES_HTTP_PATH: /custom",
            1,
        );
    ctx.write("docker-compose.yml", &custom);
    let (out, v) = doctor(&ctx);
    assert_eq!(
        status(&v, "collector"),
        "pass",
        "{:#}",
        check(&v, "collector")
    );
    assert_exit(&out, 0);

    let start = written
        .find("    environment:\n      ROTEL_EXPORTERS")
        .unwrap();
    let end = written.find("  frontend-react-js:").unwrap();
    let block = &written[start..end];
    let vars: String = block
        .lines()
        .skip(1)
        .map(|l| {
            let (k, v) = l.trim().split_once(": ").unwrap();
            format!("{k}={}\n", v.trim_matches('"'))
        })
        .collect();
    ctx.write("collector.env", &vars);
    let text = written.replacen(block, "    env_file: collector.env\n", 1);
    ctx.write("docker-compose.yml", &text);
    let (out, v) = doctor(&ctx);
    assert_eq!(
        status(&v, "collector"),
        "pass",
        "{:#}\n{text}",
        check(&v, "collector")
    );
    assert_exit(&out, 0);
}

#[test]
fn a_collector_reached_by_network_alias_or_container_name_is_the_collector() {
    for (endpoint, extra) in [
        (
            "http://traces:4318",
            "    networks:\n      default:\n        aliases: [traces]\n",
        ),
        ("http://rotel-1:4318", "    container_name: rotel-1\n"),
    ] {
        let ctx = collector_project();
        let text = ctx
            .read("docker-compose.yml")
            .replacen(
                "\"http://otel-collector:4318\"",
                &format!("\"{endpoint}\""),
                1,
            )
            .replacen(
                "    image: \"streamfold/rotel\"\n",
                &format!("    image: \"streamfold/rotel\"\n{extra}"),
                1,
            );
        ctx.write("docker-compose.yml", &text);
        let (out, v) = doctor(&ctx);
        assert_eq!(
            status(&v, "collector"),
            "pass",
            "{:#}\n{text}",
            check(&v, "collector")
        );
        assert_eq!(status(&v, "compose"), "pass", "{:#}", check(&v, "compose"));
        assert_exit(&out, 0);
    }
}
