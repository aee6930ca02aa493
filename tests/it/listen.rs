//! `tracectl listen` fed by real clients nobody here wrote: the Python OTel SDK, the recipe's Flask
//! app, aws-xray-sdk, rotel; and by hand-made bad input.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::peers::{self, Guard, Rotel, free_port, wait_for_port};

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tracectl listen --format json` on free ports, its span lines collected as they come.
struct Listen {
    http: SocketAddr,
    udp: SocketAddr,
    lines: Arc<Mutex<Vec<Value>>>,
    child: Guard,
}

impl Listen {
    fn start(extra: &[&str]) -> Self {
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let udp: SocketAddr = format!("127.0.0.1:{}", free_udp_port()).parse().unwrap();
        let ctx = TestContext::empty();
        let mut child = ctx
            .tracectl()
            .args([
                "--format",
                "json",
                "listen",
                "--otlp-http",
                &http.to_string(),
                "--xray-udp",
                &udp.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {e}: {line}"));
                sink.lock().unwrap().push(v);
            }
        });
        wait_for_port(http, &mut child, "tracectl listen");
        Listen {
            http,
            udp,
            lines,
            child: Guard(child),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    fn wait_for(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let lines = self.lines.lock().unwrap().clone();
            if done(&lines) {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "listen did not show the spans; got {lines:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn child(&mut self) -> &mut Child {
        &mut self.child.0
    }
}

fn by_name<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

#[test]
fn python_otel_sdk_spans_arrive_with_names_and_parents() {
    let listen = Listen::start(&[]);
    run_ok(
        Command::new(peers::python())
            .arg(manifest_dir().join("tests/support/otel_client.py"))
            .args([&listen.endpoint(), "shop"]),
    );
    let spans = listen.wait_for(|s| s.len() >= 2);
    let root = by_name(&spans, "checkout");
    let child = by_name(&spans, "charge card");
    assert_eq!(root["kind"], "server");
    assert_eq!(root["service"], "shop");
    assert_eq!(root["attributes"]["http.route"], "/checkout");
    assert_eq!(root["parent_span_id"], Value::Null);
    assert_eq!(child["parent_span_id"], root["span_id"]);
    assert_eq!(child["trace_id"], root["trace_id"]);
    assert_eq!(child["kind"], "client");
    assert_eq!(child["error"], true);
    assert_eq!(child["status_message"], "card declined");
    assert_eq!(root["source"], "otlp");
}

#[test]
fn the_recipes_flask_app_reports_its_requests() {
    let listen = Listen::start(&[]);
    let port = free_port();
    let _app = Guard(
        Command::new(peers::python())
            .arg(manifest_dir().join("tests/support/flask_recipe_app.py"))
            .arg(port.to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", listen.endpoint())
            .env("OTEL_SERVICE_NAME", "backend-flask")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let response = http_get(port, "/api/activities/home");
    assert!(response.contains("200 OK"), "{response}");
    let spans = listen.wait_for(|s| s.iter().any(|s| s["kind"] == "server"));
    let server = spans.iter().find(|s| s["kind"] == "server").unwrap();
    assert_eq!(server["name"], "GET /api/activities/home");
    assert_eq!(server["service"], "backend-flask");
    assert_eq!(server["attributes"]["http.route"], "/api/activities/home");
    let handler = listen.wait_for(|s| s.iter().any(|s| s["name"] == "home_activities"));
    assert_eq!(
        by_name(&handler, "home_activities")["parent_span_id"],
        server["span_id"]
    );
}

#[test]
fn aws_xray_sdk_segments_arrive_over_udp() {
    let listen = Listen::start(&[]);
    run_ok(
        Command::new(peers::python())
            .arg(manifest_dir().join("tests/support/xray_client.py"))
            .env("AWS_XRAY_DAEMON_ADDRESS", listen.udp.to_string()),
    );
    let spans = listen.wait_for(|s| s.len() >= 2);
    let segment = by_name(&spans, "backend-flask");
    let sub = by_name(&spans, "activities-query");
    assert_eq!(segment["source"], "xray");
    assert_eq!(segment["kind"], "server");
    assert_eq!(segment["attributes"]["http.request.method"], "GET");
    assert_eq!(segment["attributes"]["http.response.status_code"], 200);
    assert_eq!(segment["attributes"]["annotation.tracectl"], "yes");
    assert_eq!(sub["parent_span_id"], segment["span_id"]);
    assert_eq!(sub["kind"], "client");
    assert_eq!(sub["trace_id"].as_str().unwrap().len(), 32);
}

#[test]
fn rotel_forwards_to_listen() {
    let listen = Listen::start(&[]);
    let rotel = Rotel::forwarding_to(&listen.endpoint());
    let ctx = TestContext::empty();
    let (out, sent) = send_test_json(
        &ctx,
        &[
            "--to",
            "otlp",
            "--endpoint",
            &rotel.endpoint(),
            "--service-name",
            "via-rotel",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let trace_id = sent["trace_id"].as_str().unwrap().to_string();
    let spans = listen.wait_for(|s| {
        s.iter()
            .filter(|s| s["trace_id"] == trace_id.as_str())
            .count()
            == 3
    });
    let root = spans
        .iter()
        .find(|s| s["trace_id"] == trace_id.as_str() && s["kind"] == "server")
        .unwrap();
    assert_eq!(root["service"], "via-rotel");
    assert_eq!(root["name"], "GET /api/activities/home");
}

/// POST raw bytes; returns (status, content type, body).
fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (
        status,
        content_type,
        response.get(split + 4..).unwrap_or_default().to_vec(),
    )
}

#[test]
fn bad_input_gets_the_right_status_and_listen_keeps_serving() {
    let mut listen = Listen::start(&["--max-body", "2KiB"]);
    let a = listen.http;
    let pb = [("content-type", "application/x-protobuf")];
    let json = [("content-type", "application/json")];

    let (status, ct, body) = post(a, "/v1/traces", &pb, &[0xff, 0x13, 0x37, 0x00, 0xde, 0xad]);
    assert_eq!(status, 400);
    assert_eq!(ct, "application/x-protobuf");
    assert!(!body.is_empty(), "a google.rpc.Status body");
    let status_message = String::from_utf8_lossy(&body);
    assert!(status_message.contains("protobuf"), "{status_message}");

    let (status, _, _) = post(a, "/v1/traces", &pb, &[0x0a, 0x80, 0x01, 0x0a]);
    assert_eq!(status, 400, "truncated protobuf");

    let (status, _, _) = post(a, "/v1/traces", &[("content-type", "text/plain")], b"hello");
    assert_eq!(status, 415);

    let (status, _, _) = post(a, "/v1/traces", &json, &vec![b' '; 4096]);
    assert_eq!(status, 413);

    let base64_ids = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","name":"x"}]}]}]}"#;
    let (status, ct, body) = post(a, "/v1/traces", &json, base64_ids);
    assert_eq!(status, 400);
    assert_eq!(ct, "application/json");
    let message: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(message["code"], 3);

    let (status, _, _) = post(a, "/v1/metrics", &pb, b"");
    assert_eq!(status, 404);

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(b"{\"format\":\"xml\"}\n<segment/>", listen.udp)
        .unwrap();
    udp.send_to(b"\xff\xfe garbage", listen.udp).unwrap();

    // Still serving: a good request after all of that.
    let good = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"after"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"still-alive","kind":2,"startTimeUnixNano":"1000000","endTimeUnixNano":"2000000"}]}]}]}"#;
    let (status, ct, body) = post(a, "/v1/traces", &json, good);
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(body, b"{}");
    let spans = listen.wait_for(|s| s.iter().any(|s| s["name"] == "still-alive"));
    assert_eq!(by_name(&spans, "still-alive")["service"], "after");

    // Ctrl-C prints the summary, counting what was refused, and exits 130.
    let pid = listen.child().id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = listen.child().wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    listen
        .child()
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("1 traces, 1 spans, 6 rejected requests, 2 bad datagrams"),
        "{err}"
    );
}

#[test]
fn human_trees_and_scripted_exits() {
    let http = format!("127.0.0.1:{}", free_port());
    let ctx = TestContext::empty();
    let mut child = ctx
        .tracectl()
        .args([
            "listen",
            "--otlp-http",
            &http,
            "--no-xray",
            "--exit-after-spans",
            "3",
            "--flush-after",
            "200ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(http.parse().unwrap(), &mut child, "tracectl listen");
    let out = run(ctx.tracectl().args([
        "send-test",
        "--to",
        "otlp",
        "--endpoint",
        &format!("http://{http}"),
        "--service-name",
        "tree-test",
    ]));
    assert_exit(&out, 0);
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("● tree-test  trace "), "{text}");
    assert!(
        text.contains("└─ GET /api/activities/home  server  120.0 ms"),
        "{text}"
    );
    assert!(
        text.contains("   └─ home_activities  internal  96.0 ms"),
        "{text}"
    );
    assert!(
        text.contains("      └─ SELECT cruddur.activities  client  42.0 ms  db.system=postgresql"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("1 traces, 3 spans, 0 rejected requests"),
        "{}",
        stderr(&out)
    );

    let started = Instant::now();
    let out = run(ctx.tracectl().args([
        "listen",
        "--otlp-http",
        "127.0.0.1:0",
        "--xray-udp",
        "127.0.0.1:0",
        "--exit-after",
        "1",
    ]));
    assert_exit(&out, 0);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr(&out).contains("0 traces, 0 spans"),
        "{}",
        stderr(&out)
    );

    let out = run(ctx.tracectl().args(["listen", "--no-otlp", "--no-xray"]));
    assert_exit(&out, 2);
}

#[test]
fn port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ctx = TestContext::empty();
    let out = run(ctx.tracectl().args([
        "listen",
        "--no-xray",
        "--otlp-http",
        &taken.local_addr().unwrap().to_string(),
        "--exit-after",
        "1",
    ]));
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("another receiver holds the port"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn send_test_local_proves_the_pipe_with_no_setup() {
    let ctx = TestContext::empty();
    let out = run(ctx.tracectl().arg("send-test"));
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("✓ local"), "{text}");
    assert!(text.contains("arrived"), "{text}");
    assert!(
        text.contains("└─ GET /api/activities/home  server"),
        "{text}"
    );
    let (out, v) = send_test_json(
        &ctx,
        &[
            "--to",
            "local",
            "--protocol",
            "http/json",
            "--compression",
            "gzip",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let local = &v["results"][0];
    assert_eq!(local["state"], "arrived");
    let received = local["received"].as_array().unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|s| s["trace_id"] == v["trace_id"]));
}

#[test]
fn load_mode_reports_throughput_and_percentiles() {
    let listen = Listen::start(&[]);
    let ctx = TestContext::empty();
    let endpoint = listen.endpoint();
    let args = [
        "--to",
        "otlp",
        "--endpoint",
        &endpoint,
        "--count",
        "200",
        "--concurrency",
        "4",
    ];
    let (out, v) = send_test_json(&ctx, &args, &[]);
    assert_exit(&out, 0);
    let load = &v["load"];
    assert_eq!(load["ok"], 200);
    assert_eq!(load["spans"], 600);
    assert!(load["spans_per_second"].as_f64().unwrap() > 0.0);
    let l = &load["latency_ms"];
    assert!(
        l["p50"].as_f64() <= l["p90"].as_f64()
            && l["p90"].as_f64() <= l["p99"].as_f64()
            && l["p99"].as_f64() <= l["max"].as_f64()
    );
    listen.wait_for(|s| s.len() == 600);
}
