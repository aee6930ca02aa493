//! OTLP/gRPC into and out of tracectl with clients nobody here wrote: the Python OTel SDK's gRPC
//! exporter, `opentelemetry-instrument` with its defaults, rotel, grpcio; and grpcio sending what
//! no SDK would.

use std::io::Read;
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::listen::{
    DEADLINE, Listen, by_name, forwarded_root, run_ok_within, run_within, send_test_within,
    wait_within,
};
use crate::peers::{self, RecordingPeer, Rotel};

#[test]
fn the_python_sdk_grpc_exporter_reaches_listen_plain_and_gzipped() {
    let listen = Listen::start(&[]);
    let client = manifest_dir().join("tests/support/otel_client.py");
    run_ok_within(peers::clean_python().arg(&client).args([
        &listen.grpc_endpoint(),
        "shop",
        "grpc",
    ]));
    run_ok_within(peers::clean_python().arg(&client).args([
        &listen.grpc_endpoint(),
        "zipped",
        "grpc",
        "gzip",
    ]));
    let spans = listen.wait_for(|s| s.len() >= 4);
    for service in ["shop", "zipped"] {
        let of: Vec<Value> = spans
            .iter()
            .filter(|s| s["service"] == service)
            .cloned()
            .collect();
        let root = by_name(&of, "checkout");
        let child = by_name(&of, "charge card");
        assert_eq!(root["kind"], "server");
        assert_eq!(root["attributes"]["http.route"], "/checkout");
        assert_eq!(child["parent_span_id"], root["span_id"]);
        assert_eq!(child["status_message"], "card declined");
    }
}

/// `opentelemetry-instrument` with nothing configured exports over gRPC to localhost:4317. Run
/// in a network namespace of its own, listen and the app get the default ports to themselves.
#[test]
fn opentelemetry_instrument_with_its_defaults_reaches_listen() {
    let ctx = TestContext::empty();
    let instrument = peers::testbed().join("bin/opentelemetry-instrument");
    assert!(
        instrument.is_file(),
        "{} is missing: run scripts/testbed.sh",
        instrument.display()
    );
    let app = manifest_dir().join("tests/support/instrumented_app.py");
    let (out, err, log) = (
        ctx.path("listen.out"),
        ctx.path("listen.err"),
        ctx.path("app.log"),
    );
    let script = format!(
        r#"ip link set lo up || exit 97
"$TRACECTL" --format json listen --exit-after-spans 2 --exit-after 40s > "{out}" 2> "{err}" &
listen=$!
for i in $(seq 200); do "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 4317), 0.2)' 2>/dev/null && break; sleep 0.1; done
OTEL_SERVICE_NAME=instrumented "$INSTRUMENT" "$PY" "{app}" > "{log}" 2>&1 || exit 98
wait $listen"#,
        out = out.display(),
        err = err.display(),
        log = log.display(),
        app = app.display(),
    );
    let output = run_within(
        Command::new("unshare")
            .args(["--net", "sh", "-c", &script])
            .env("TRACECTL", env!("CARGO_BIN_EXE_tracectl"))
            .env("PY", peers::python())
            .env("INSTRUMENT", &instrument)
            .env_remove("OTEL_SERVICE_NAME"),
    );
    let app_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        output.status.success(),
        "{output:?}\napp log:\n{app_log}\nlisten:\n{}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    let spans: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let root = by_name(&spans, "GET /api/activities/home");
    assert_eq!(root["service"], "instrumented");
    assert_eq!(
        by_name(&spans, "home_activities")["parent_span_id"],
        root["span_id"]
    );
    assert!(
        !app_log.contains("Failed to export traces")
            && !app_log.contains("Failed to export span batch"),
        "{app_log}"
    );
}

#[test]
fn rotel_forwards_to_listen_over_grpc() {
    let listen = Listen::start(&[]);
    let rotel = Rotel::forwarding_grpc_to(&listen.grpc_endpoint());
    forwarded_root(&rotel, &listen, "via-rotel-grpc");
}

#[test]
fn send_test_over_grpc_reaches_rotel_and_the_local_receiver() {
    let rotel = Rotel::start();
    let ctx = TestContext::empty();
    let endpoint = format!("http://{}", rotel.grpc);
    for compression in ["none", "gzip"] {
        let (out, sent) = send_test_within(
            &ctx,
            &[
                "--to",
                "otlp",
                "--protocol",
                "grpc",
                "--compression",
                compression,
                "--endpoint",
                &endpoint,
            ],
            &[],
        );
        assert_exit(&out, 0);
        let result = result(&sent, "otlp");
        assert_eq!(result["status"], "OK", "{sent}");
        assert_eq!(result["target"], endpoint.as_str());
        let trace_id = sent["trace_id"].as_str().unwrap().to_string();
        rotel.wait_for_spans(|s| s.iter().filter(|s| s.trace_id == trace_id).count() == 3);
    }
    // The same through the environment, as an SDK reads it.
    let (out, _) = send_test_within(
        &ctx,
        &["--to", "otlp"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_string()),
        ],
    );
    assert_exit(&out, 0);

    let (out, v) = send_test_within(&ctx, &["--to", "local", "--protocol", "grpc"], &[]);
    assert_exit(&out, 0);
    let local = result(&v, "local");
    assert_eq!(local["state"], "arrived");
    assert_eq!(local["received"].as_array().unwrap().len(), 3);
}

#[test]
fn send_test_over_grpc_with_tls_and_to_honeycomb_sends_the_headers() {
    let ctx = TestContext::empty();
    // TLS, trusting the test CA through OTEL_EXPORTER_OTLP_CERTIFICATE.
    let dir = tempfile::tempdir().unwrap();
    let tls = RecordingPeer::start(
        "grpc_recorder.py",
        "the gRPC TLS recorder",
        &[dir.path().to_str().unwrap()],
    );
    let endpoint = format!("https://127.0.0.1:{}", tls.port);
    let args = [
        "--to",
        "otlp",
        "--protocol",
        "grpc",
        "--endpoint",
        &endpoint,
    ];
    let (out, v) = send_test_within(&ctx, &args, &[]);
    assert_exit(&out, 1);
    let failed = result(&v, "otlp");
    assert!(
        failed["detail"].as_str().unwrap().contains("UnknownIssuer"),
        "{v}"
    );
    assert!(
        failed["hint"]
            .as_str()
            .unwrap()
            .contains("OTEL_EXPORTER_OTLP_CERTIFICATE")
    );
    let cert = dir.path().join("cert.pem").to_str().unwrap().to_string();
    let (out, _) = send_test_within(&ctx, &args, &[("OTEL_EXPORTER_OTLP_CERTIFICATE", cert)]);
    assert_exit(&out, 0);
    wait_for_records(&tls, 1);

    // Honeycomb over gRPC: the key goes as x-honeycomb-team metadata, and nowhere in the output.
    let plain = RecordingPeer::start("grpc_recorder.py", "the gRPC recorder", &[]);
    let key = "hcaik_01jgrpctestgrpctestgrpctestgrpctestgrpctestgrpctestgrpctes";
    let (out, v) = send_test_within(
        &ctx,
        &["--to", "honeycomb", "--protocol", "grpc"],
        &[
            ("HONEYCOMB_API_KEY", key.to_string()),
            (
                "HONEYCOMB_API_ENDPOINT",
                format!("http://127.0.0.1:{}", plain.port),
            ),
        ],
    );
    let records = wait_for_records(&plain, 1);
    assert_eq!(records[0]["metadata"]["x-honeycomb-team"], key);
    assert_eq!(
        records[0]["names"][0], "GET /api/activities/home",
        "{records:?}"
    );
    let honeycomb = result(&v, "honeycomb");
    assert_eq!(honeycomb["status"], "OK", "{v}");
    assert!(!stdout(&out).contains(key) && !stderr(&out).contains(key));
}

fn wait_for_records(peer: &RecordingPeer, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let records = peer.records.lock().unwrap().clone();
        if records.len() >= n {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the recorder saw {records:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// grpcio sends `kind` to `method` on listen's gRPC port; the status it got.
fn grpc_raw(listen: &Listen, method: &str, kind: &str, gzip: bool) -> Value {
    let mut cmd = peers::clean_python();
    cmd.arg(manifest_dir().join("tests/support/grpc_raw.py"))
        .args([&listen.grpc.to_string(), method, kind]);
    if gzip {
        cmd.arg("gzip");
    }
    let out = run_ok_within(&mut cmd);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

#[test]
fn hostile_grpc_calls_get_the_spec_status_and_listen_keeps_serving() {
    let mut listen = Listen::start(&["--max-body", "64KiB"]);
    let export = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    let answer = grpc_raw(&listen, export, "garbage", false);
    assert_eq!(answer["code"], "INVALID_ARGUMENT", "{answer}");
    assert!(answer["details"].as_str().unwrap().contains("protobuf"));
    let answer = grpc_raw(&listen, export, "big:200000", false);
    assert_eq!(answer["code"], "RESOURCE_EXHAUSTED", "{answer}");
    assert!(answer["details"].as_str().unwrap().contains("--max-body"));
    // Small on the wire, over the limit once unzipped.
    let answer = grpc_raw(&listen, export, "big:2000000", true);
    assert_eq!(answer["code"], "RESOURCE_EXHAUSTED", "{answer}");
    let metrics = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    let answer = grpc_raw(&listen, metrics, "empty", false);
    assert_eq!(answer["code"], "UNIMPLEMENTED", "{answer}");
    let logs = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    assert_eq!(
        grpc_raw(&listen, logs, "empty", false)["code"],
        "UNIMPLEMENTED"
    );
    assert!(
        answer["details"]
            .as_str()
            .unwrap()
            .contains("OTEL_METRICS_EXPORTER=none")
    );
    // An empty message is a valid, empty export.
    assert_eq!(grpc_raw(&listen, export, "empty", false)["code"], "OK");

    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/otel_client.py"))
            .args([&listen.grpc_endpoint(), "after", "grpc"]),
    );
    listen.wait_for(|s| s.iter().any(|s| s["service"] == "after"));
    let pid = listen.child().id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(wait_within(listen.child(), DEADLINE).code(), Some(130));
    let mut err = String::new();
    listen
        .child()
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("5 rejected requests"), "{err}");
    assert_eq!(
        err.matches("an app exports metrics or logs over gRPC")
            .count(),
        1,
        "{err}"
    );
}
