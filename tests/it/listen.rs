//! `tracectl listen` fed by real clients nobody here wrote: the Python OTel SDK, the recipe's Flask
//! app, aws-xray-sdk, rotel; by hand-made bad input; and by clients that misbehave on purpose.
//! Every child process runs under a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::peers::{self, Guard, Rotel, free_port, free_udp_port, wait_for_port};

/// How long any child of these tests may run before it is killed and the test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

/// Wait for `child` until `deadline`; past it, kill it and fail.
#[track_caller]
pub(crate) fn wait_within(child: &mut Child, deadline: Duration) -> ExitStatus {
    let end = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a child process was still running after {deadline:?}; killed it");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait for `child` (stdout and stderr piped) and collect its output, within `deadline`.
#[track_caller]
fn output_of(mut child: Child, deadline: Duration) -> Output {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_within(&mut child, deadline);
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Run `cmd` to completion within [`DEADLINE`].
#[track_caller]
pub(crate) fn run_within(cmd: &mut Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    output_of(child, DEADLINE)
}

/// Run `cmd` within [`DEADLINE`]; it must succeed.
#[track_caller]
pub(crate) fn run_ok_within(cmd: &mut Command) -> Output {
    let out = run_within(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `tracectl --format json send-test ARGS` within [`DEADLINE`]; its output and parsed JSON.
pub(crate) fn send_test_within(
    ctx: &TestContext,
    args: &[&str],
    env: &[(&str, String)],
) -> (Output, Value) {
    let mut cmd = ctx.tracectl();
    cmd.args(["--format", "json", "send-test"])
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_within(&mut cmd);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
    (out, v)
}

/// `tracectl listen --format json` on free ports, its span lines collected as they come.
pub(crate) struct Listen {
    pub(crate) http: SocketAddr,
    pub(crate) grpc: SocketAddr,
    pub(crate) udp: SocketAddr,
    lines: Arc<Mutex<Vec<Value>>>,
    child: Guard,
}

impl Listen {
    pub(crate) fn start(extra: &[&str]) -> Self {
        // A free port is free when asked, not always when listen binds it: another test may take
        // it in between. Listen then exits at once, saying so; start again on fresh ports.
        let mut why = String::new();
        for _ in 0..5 {
            match Self::try_start(extra) {
                Ok(listen) => return listen,
                Err(e) => why = e,
            }
        }
        panic!("tracectl listen did not start in 5 tries: {why}");
    }

    fn try_start(extra: &[&str]) -> Result<Self, String> {
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let udp: SocketAddr = format!("127.0.0.1:{}", free_udp_port()).parse().unwrap();
        let ctx = TestContext::empty();
        let mut child = ctx
            .tracectl()
            .args([
                "--format",
                "json",
                "listen",
                "--otlp-grpc",
                &grpc.to_string(),
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
        let deadline = Instant::now() + Duration::from_secs(20);
        let up = |addr: &SocketAddr| {
            std::net::TcpStream::connect_timeout(addr, Duration::from_millis(100)).is_ok()
        };
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("it exited early with {status}: {err}"));
            }
            if up(&http) && up(&grpc) {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tracectl listen did not listen on {http} and {grpc} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
        Ok(Listen {
            http,
            grpc,
            udp,
            lines,
            child: Guard(child),
        })
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    pub(crate) fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    pub(crate) fn wait_for(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
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

    pub(crate) fn child(&mut self) -> &mut Child {
        &mut self.child.0
    }
}

pub(crate) fn by_name<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

#[test]
fn python_otel_sdk_spans_arrive_with_names_and_parents() {
    let listen = Listen::start(&[]);
    run_ok_within(
        peers::clean_python()
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
        peers::clean_python()
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
    run_ok_within(
        peers::clean_python()
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
    let root = forwarded_root(&rotel, &listen, "via-rotel");
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
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
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
    let status = wait_within(listen.child(), DEADLINE);
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
            "--otlp-grpc",
            "127.0.0.1:0",
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
    let out = run_within(ctx.tracectl().args([
        "send-test",
        "--to",
        "otlp",
        "--endpoint",
        &format!("http://{http}"),
        "--service-name",
        "tree-test",
    ]));
    assert_exit(&out, 0);
    let out = output_of(child, DEADLINE);
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
    let out = run_within(ctx.tracectl().args([
        "listen",
        "--otlp-grpc",
        "127.0.0.1:0",
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

    let out = run_within(ctx.tracectl().args(["listen", "--no-otlp", "--no-xray"]));
    assert_exit(&out, 2);
}

#[test]
fn port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ctx = TestContext::empty();
    let out = run_within(ctx.tracectl().args([
        "listen",
        "--no-xray",
        "--otlp-grpc",
        "127.0.0.1:0",
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
    let out = run_within(ctx.tracectl().arg("send-test"));
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("✓ local"), "{text}");
    assert!(text.contains("arrived"), "{text}");
    assert!(
        text.contains("└─ GET /api/activities/home  server"),
        "{text}"
    );
    let (out, v) = send_test_within(
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
    let local = result(&v, "local");
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
    let (out, v) = send_test_within(&ctx, &args, &[]);
    assert_exit(&out, 0);
    let load = &v["load"];
    assert_eq!(load["ok"], 200);
    assert_eq!(load["spans"], 600);
    assert!(load["spans_per_second"].as_f64().unwrap() > 0.0);
    let l = &load["latency_ms"];
    let ms = |k: &str| {
        l[k].as_f64()
            .unwrap_or_else(|| panic!("latency_ms.{k} is not a number: {load}"))
    };
    let (p50, p90, p99, max) = (ms("p50"), ms("p90"), ms("p99"), ms("max"));
    assert!(
        0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max && max < 60_000.0,
        "{load}"
    );
    listen.wait_for(|s| s.len() == 600);
}

/// `tracectl listen` with human output (trees) on a free port, exiting after `spans` spans.
fn listen_human(spans: u64) -> (SocketAddr, Child, TestContext) {
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ctx = TestContext::empty();
    let mut child = ctx
        .tracectl()
        .args(["listen", "--no-xray", "--flush-after", "100ms"])
        .args([
            "--otlp-grpc",
            "127.0.0.1:0",
            "--otlp-http",
            &http.to_string(),
        ])
        .args(["--exit-after-spans", &spans.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(http, &mut child, "tracectl listen");
    (http, child, ctx)
}

/// An OTLP/JSON body: one resource named `service`, spans as (trace, span, parent, name).
fn otlp_json(service: &str, spans: &[(&str, &str, Option<&str>, &str)]) -> Vec<u8> {
    let spans: Vec<Value> = spans
        .iter()
        .enumerate()
        .map(|(n, (trace, span, parent, name))| {
            let mut v = serde_json::json!({
                "traceId": format!("{trace:0>32}"),
                "spanId": format!("{span:0>16}"),
                "name": name,
                "kind": 1,
                "startTimeUnixNano": (1_000_000 * (n as u64 + 1)).to_string(),
                "endTimeUnixNano": (1_000_000 * (n as u64 + 2)).to_string(),
            });
            if let Some(parent) = parent {
                v["parentSpanId"] = format!("{parent:0>16}").into();
            }
            v
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"spans": spans}],
    }]}))
    .unwrap()
}

/// POST within `limit`, failing the test past it.
#[track_caller]
fn post_within(limit: Duration, addr: SocketAddr, body: &[u8]) -> u16 {
    let started = Instant::now();
    let (status, _, _) = post(
        addr,
        "/v1/traces",
        &[("content-type", "application/json")],
        body,
    );
    assert!(
        started.elapsed() < limit,
        "answered after {:?}",
        started.elapsed()
    );
    status
}

#[test]
fn span_ids_that_repeat_and_loop_are_drawn_once_and_listen_keeps_answering() {
    let (http, child, _ctx) = listen_human(8);
    // Two ids, each used twice, with parents crossing: the request that once made the tree
    // renderer grow without bound.
    let looping = otlp_json(
        "loops",
        &[
            ("a1", "1", None, "loop-root"),
            ("a1", "2", Some("1"), "loop-two-a"),
            ("a1", "2", Some("1"), "loop-two-b"),
            ("a1", "1", Some("2"), "loop-one-again"),
            ("a1", "2", Some("2"), "loop-self"),
        ],
    );
    assert_eq!(post_within(Duration::from_secs(5), http, &looping), 200);
    assert_eq!(
        post_within(
            Duration::from_secs(5),
            http,
            &otlp_json("still-answering", &[])
        ),
        200
    );
    // A parent chain that is a circle with no root, and a span whose parent never arrives.
    let circle = otlp_json(
        "circle",
        &[
            ("b2", "a", Some("c"), "circle-a"),
            ("b2", "b", Some("a"), "circle-b"),
            ("b2", "c", Some("b"), "circle-c"),
        ],
    );
    assert_eq!(post_within(Duration::from_secs(5), http, &circle), 200);
    let out = output_of(child, Duration::from_secs(20));
    assert_exit(&out, 0);
    let text = stdout(&out);
    for name in [
        "loop-root",
        "loop-two-a",
        "loop-two-b",
        "loop-one-again",
        "loop-self",
        "circle-a",
        "circle-b",
        "circle-c",
    ] {
        let shown = text.matches(&format!("─ {name}  ")).count();
        assert_eq!(shown, 1, "{name} drawn {shown} times:\n{text}");
    }
    assert!(text.contains("used twice"), "{text}");
    assert!(
        text.contains("circle-a  internal  1.0 ms  (parent chain loops back here)"),
        "{text}"
    );
    assert!(text.lines().count() < 20, "{text}");
}

/// Open a connection and send a head and half of a 2 000-byte body, then nothing.
fn stalled_body(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n",
        )
        .unwrap();
    stream.write_all(&[b' '; 1000]).unwrap();
    stream
}

#[test]
fn a_hundred_stalled_bodies_do_not_keep_a_good_client_out() {
    let listen = Listen::start(&[]);
    let mut stalled: Vec<TcpStream> = (0..100).map(|_| stalled_body(listen.http)).collect();
    // And some that stop in the middle of the head.
    let heads: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(listen.http).unwrap();
            s.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let started = Instant::now();
        let body = otlp_json(
            "good",
            &[("c3", &format!("{:x}", n + 1), None, &format!("good-{n}"))],
        );
        assert_eq!(post_within(Duration::from_secs(2), listen.http, &body), 200);
        slowest = slowest.max(started.elapsed());
    }
    listen.wait_for(|s| s.len() >= 20);
    // The stalled requests are answered 408 and closed once their time is up, which gives
    // their share of memory back.
    let started = Instant::now();
    for stream in stalled.iter_mut().take(5) {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    drop(heads);
    eprintln!("slowest good request beside 120 stalled clients: {slowest:?}");
}

#[test]
fn control_characters_from_clients_are_escaped_on_the_terminal() {
    let (http, child, _ctx) = listen_human(3);
    // The Python OTel SDK, told to name its service with a title-changing OSC sequence, a bell
    // and a right-to-left override.
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/otel_client.py"))
            .args([
                &format!("http://{http}"),
                "shop\u{1b}]0;pwned\u{7}\u{202e}gpj.exe",
            ]),
    );
    // Raw OTLP/JSON: a screen clear and colour in a span name, C1 CSI in a status message.
    let raw = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"raw"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"\u001b[2J\u001b[31mwipe\u0007","kind":2,"startTimeUnixNano":"1000000","endTimeUnixNano":"2000000","status":{"code":2,"message":"bad\u009b2J"},"attributes":[{"key":"http.route","value":{"stringValue":"/\u202ex\n\r"}}]}]}]}]}"#;
    assert_eq!(post_within(Duration::from_secs(5), http, raw), 200);
    let out = output_of(child, Duration::from_secs(20));
    assert_exit(&out, 0);
    let bytes = &out.stdout;
    for (what, bad) in [
        ("ESC", &b"\x1b"[..]),
        ("BEL", b"\x07"),
        ("CR", b"\r"),
        ("U+202E", "\u{202e}".as_bytes()),
        ("C1 CSI", "\u{9b}".as_bytes()),
    ] {
        assert!(
            !bytes.windows(bad.len()).any(|w| w == bad),
            "{what} reached stdout: {}",
            String::from_utf8_lossy(bytes)
        );
    }
    let text = stdout(&out);
    assert!(
        text.contains(r"shop\x1b]0;pwned\x07\u{202e}gpj.exe"),
        "{text}"
    );
    assert!(text.contains(r"\x1b[2J\x1b[31mwipe\x07"), "{text}");
    assert!(text.contains(r"ERROR bad\x9b2J"), "{text}");
    assert!(text.contains(r"http.route=/\u{202e}x\x0a\x0d"), "{text}");
}

#[test]
fn json_lines_keep_control_characters_as_json_escapes() {
    let listen = Listen::start(&[]);
    let body = otlp_json(
        "svc\u{1b}]0;t\u{7}",
        &[("d4", "1", None, "\u{1b}[2Jname\u{202e}")],
    );
    assert_eq!(post_within(Duration::from_secs(5), listen.http, &body), 200);
    let spans = listen.wait_for(|s| !s.is_empty());
    assert_eq!(spans[0]["name"], "\u{1b}[2Jname\u{202e}");
    assert_eq!(spans[0]["service"], "svc\u{1b}]0;t\u{7}");
}

#[test]
fn a_huge_count_is_a_usage_error_at_once() {
    let ctx = TestContext::empty();
    let started = Instant::now();
    let out = run_within(
        ctx.tracectl()
            .args(["send-test", "--count", "99999999999999"]),
    );
    assert_exit(&out, 2);
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = stderr(&out);
    assert!(err.contains("--count 99999999999999"), "{err}");
    assert!(err.contains("10000000"), "{err}");
}

/// Send the synthetic trace through `rotel`, wait for its three spans at `listen`, and return
/// the server span (its service checked to be `service`).
pub(crate) fn forwarded_root(rotel: &Rotel, listen: &Listen, service: &str) -> Value {
    let ctx = TestContext::empty();
    let (out, sent) = send_test_within(
        &ctx,
        &[
            "--to",
            "otlp",
            "--endpoint",
            &rotel.endpoint(),
            "--service-name",
            service,
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
        .unwrap()
        .clone();
    assert_eq!(root["service"], service);
    root
}

/// listen stops on its trigger (here the first span) while clients are still sending: every span
/// it took is answered 200 (the requests begun are finished, not cut off), shown, and counted in
/// the summary, before it exits; nothing is shown after the summary. Run in the JSON view and the tree view, which keeps spans waiting.
#[test]
fn every_span_answered_200_is_shown_and_counted_when_listen_stops_mid_load() {
    for json in [true, false] {
        for round in 0..3 {
            let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let ctx = TestContext::empty();
            let mut cmd = ctx.tracectl();
            if json {
                cmd.args(["--format", "json"]);
            }
            let mut child = cmd
                .args(["listen", "--view", "tree", "--no-xray", "--no-otlp-grpc"])
                .args(["--otlp-http", &http.to_string(), "--flush-after", "100ms"])
                .args(["--exit-after-spans", "1", "--exit-after", "60s"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            wait_for_port(http, &mut child, "tracectl listen");
            let clients = 48;
            let start = Arc::new(std::sync::Barrier::new(clients));
            let answered: Vec<_> = (0..clients)
                .map(|i| {
                    let start = Arc::clone(&start);
                    std::thread::spawn(move || {
                        let trace = format!("{:x}", i + 1);
                        let body = otlp_json("stopping", &[(&trace, "1", None, "work")]);
                        start.wait();
                        // A connection refused or cut once listen stopped is an answer not given.
                        let sent = std::panic::catch_unwind(|| {
                            post(
                                http,
                                "/v1/traces",
                                &[("content-type", "application/json")],
                                &body,
                            )
                            .0
                        });
                        matches!(sent, Ok(200))
                    })
                })
                .collect();
            let ok = answered
                .into_iter()
                .map(|t| t.join().unwrap_or(false))
                .filter(|answered| *answered)
                .count();
            let out = output_of(child, DEADLINE);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let shown = if json {
                stdout.lines().count()
            } else {
                stdout.matches("work").count()
            };
            let summary = stderr
                .lines()
                .find(|l| l.contains(" spans, "))
                .unwrap_or_default();
            let counted: usize = summary
                .split(" traces, ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            // Every span taken is answered (the requests begun when listen stops are finished),
            // and every span answered is shown and counted.
            assert!(
                ok >= 1 && shown == ok && counted == shown,
                "json view {json}, round {round}: {ok} answered 200, {shown} shown, summary: {summary}\n{stdout}"
            );
        }
    }
}

/// A request begun before listen's trigger and finished after it: listen has stopped taking
/// connections, but it finishes reading this one, answers it and counts its span, over OTLP/HTTP
/// and over gRPC.
#[test]
fn a_request_begun_when_listen_stops_is_finished_answered_and_counted() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;

    for grpc in [false, true] {
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let grpc_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let ctx = TestContext::empty();
        let mut child = ctx
            .tracectl()
            .args(["--format", "json", "listen", "--no-xray"])
            .args(["--otlp-http", &http.to_string()])
            .args(["--otlp-grpc", &grpc_addr.to_string()])
            .args(["--exit-after-spans", "1", "--exit-after", "60s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_port(http, &mut child, "tracectl listen");
        wait_for_port(grpc_addr, &mut child, "tracectl listen");
        let late = otlp_json("late", &[("2", "2", None, "finished after the stop")]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Half of the late request is sent.
        let (mut raw, mut call) = (None, None);
        if grpc {
            let request: ExportTraceServiceRequest = serde_json::from_slice(&late).unwrap();
            let message = request.encode_to_vec();
            let mut framed = vec![0u8];
            framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
            framed.extend_from_slice(&message);
            call = Some(runtime.block_on(async {
                let tcp = tokio::net::TcpStream::connect(grpc_addr).await.unwrap();
                let (client, mut conn) = h2::client::handshake(tcp).await.unwrap();
                let mut ping_pong = conn.ping_pong().unwrap();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                let request = hyper::Request::post(format!(
                    "http://{grpc_addr}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                ))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .body(())
                .unwrap();
                let mut client = client.ready().await.unwrap();
                let (response, mut stream) = client.send_request(request, false).unwrap();
                let half = framed.len() / 2;
                stream
                    .send_data(framed[..half].to_vec().into(), false)
                    .unwrap();
                // Answered once listen has read every frame sent before it: the call is open.
                ping_pong.ping(h2::Ping::opaque()).await.unwrap();
                (response, stream, framed[half..].to_vec(), client)
            }));
        } else {
            let mut stream = TcpStream::connect(http).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            write!(
                stream,
                "POST /v1/traces HTTP/1.1\r\nHost: {http}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                late.len()
            )
            .unwrap();
            stream.write_all(&late[..late.len() / 2]).unwrap();
            raw = Some(stream);
        }
        // The trigger: one span on another connection; then listen is stopping.
        let first = otlp_json("first", &[("1", "1", None, "the trigger")]);
        assert_eq!(post_within(Duration::from_secs(20), http, &first), 200);
        std::thread::sleep(Duration::from_millis(300));
        let answered = if let Some(mut stream) = raw {
            stream.write_all(&late[late.len() / 2..]).unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer.starts_with("HTTP/1.1 200")
        } else {
            let (response, mut stream, rest, _client) = call.unwrap();
            runtime.block_on(async move {
                stream.send_data(rest.into(), true).unwrap();
                let Ok(response) = response.await else {
                    return false;
                };
                let mut body = response.into_body();
                while let Some(Ok(_)) = body.data().await {}
                let trailers = body.trailers().await.ok().flatten().unwrap_or_default();
                trailers.get("grpc-status").is_some_and(|s| s == "0")
            })
        };
        let out = output_of(child, DEADLINE);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            answered,
            "grpc {grpc}: the late request was cut off\n{stderr}"
        );
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.contains("finished after the stop"), "{stdout}");
        assert!(stderr.contains("2 traces, 2 spans"), "{stderr}");
    }
}

/// Send SIGINT (Ctrl-C) to `child`.
fn interrupt(child: &Child) {
    let out = run_within(Command::new("kill").args(["-INT", &child.id().to_string()]));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `tracectl listen` on a free OTLP/HTTP port only, its output piped.
fn listen_http_only(extra: &[&str]) -> (SocketAddr, Child, TestContext) {
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ctx = TestContext::empty();
    let mut child = ctx
        .tracectl()
        .args(["--format", "json", "listen", "--no-xray", "--no-otlp-grpc"])
        .args(["--otlp-http", &http.to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(http, &mut child, "tracectl listen");
    (http, child, ctx)
}

/// A Ctrl-C sent as soon as listen's port accepts connections is Ctrl-C as any other: listen
/// prints its summary and exits 130. Sent as a script would, by a shell polling the port without
/// pause (`kill` there is a system call, not a process to start, so it lands within
/// microseconds). A SIGINT that came before listen listened for it would end it with nothing
/// said, or, as here (a shell starts background jobs with SIGINT ignored), be lost: listen would
/// go on until `--exit-after` and exit 0. SIGTERM (`docker stop`, systemd, `kill`) stops listen
/// the same way. Ten rounds of each, as the window is short.
#[test]
fn ctrl_c_or_sigterm_as_soon_as_the_port_accepts_prints_the_summary_and_exits_130() {
    const SCRIPT: &str = r#"
        "$1" --format json listen --no-xray --no-otlp-grpc --otlp-http "127.0.0.1:$2" --exit-after 5s &
        pid=$!
        until { exec 3<>"/dev/tcp/127.0.0.1/$2"; } 2>/dev/null; do
            kill -0 "$pid" 2>/dev/null || break
        done
        kill -"$3" "$pid"
        wait "$pid"
        echo "listen exited $?" >&2
    "#;
    for signal in ["INT", "TERM"] {
        let mut rounds = 0;
        while rounds < 10 {
            let ctx = TestContext::empty();
            let out = run_within(
                Command::new("bash")
                    .args(["-c", SCRIPT, "bash", env!("CARGO_BIN_EXE_tracectl")])
                    .arg(free_port().to_string())
                    .arg(signal)
                    .env_clear()
                    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                    .env("HOME", ctx.path("."))
                    .env("NO_COLOR", "1"),
            );
            let stderr = stderr(&out);
            if stderr.contains("another receiver holds the port") {
                continue; // the free port was taken in between: another round
            }
            rounds += 1;
            assert!(
                stderr.contains("listen exited 130") && stderr.contains("0 traces, 0 spans"),
                "SIG{signal}, round {rounds}: {stderr}"
            );
        }
    }
}

/// A second Ctrl-C while listen waits for a request it has begun to receive ends the wait at
/// once, and listen says the request was cut off by it (not that 5 s went by).
#[test]
fn a_second_ctrl_c_ends_the_wait_at_once_and_says_so() {
    let (http, child, _ctx) = listen_http_only(&[]);
    // A request whose body never comes whole; `Expect: 100-continue` makes listen say when it
    // starts reading the body, so the request is begun before the first Ctrl-C.
    let mut stalled = TcpStream::connect(http).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stalled,
        "POST /v1/traces HTTP/1.1\r\nHost: {http}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n"
    )
    .unwrap();
    let mut said = [0u8; 25];
    stalled.read_exact(&mut said).unwrap();
    assert!(
        said.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&said)
    );
    stalled.write_all(b"{").unwrap();
    interrupt(&child);
    // Listen is stopping once its port is closed.
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(http).is_ok() {
        assert!(Instant::now() < deadline, "{http} still accepts");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = Instant::now();
    interrupt(&child);
    let out = output_of(child, DEADLINE);
    let waited = second.elapsed();
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        waited < Duration::from_secs(3),
        "listen exited {waited:?} after the second Ctrl-C\n{stderr}"
    );
    assert!(
        stderr.contains("interrupted while finishing the requests being received")
            && !stderr.contains("after 5 s"),
        "{stderr}"
    );
    drop(stalled);
}

/// listen's standard output is a pipe nobody reads, so its writes block, and with them the
/// threads that would handle Ctrl-C or SIGTERM. A third signal still ends it at once (exit 130),
/// as the system would have without a handler.
#[test]
fn a_third_signal_ends_listen_when_its_output_is_stuck() {
    for signal in ["-TERM", "-INT"] {
        let (http, mut child, _ctx) = listen_http_only(&[]);
        // Far more than the pipe and listen's buffer hold, from clients that may never be answered.
        let spans: Vec<(String, String)> = (1..=400)
            .map(|n| (format!("{n:x}"), format!("{n:x}")))
            .collect();
        let rows: Vec<(&str, &str, Option<&str>, &str)> = spans
            .iter()
            .map(|(t, s)| {
                (
                    t.as_str(),
                    s.as_str(),
                    None,
                    "a span with a name long enough to fill a pipe soon",
                )
            })
            .collect();
        let body = otlp_json("stuck", &rows);
        for _ in 0..4 {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(http).unwrap();
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let _ = write!(
                    stream,
                    "POST /v1/traces HTTP/1.1\r\nHost: {http}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
                let _ = stream.read(&mut [0u8; 64]);
            });
        }
        // Stuck: the pipe (64 KiB) and listen's buffer are full once about 400 KB were written.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(child.try_wait().unwrap().is_none(), "listen ended early");
        let started = Instant::now();
        for _ in 0..3 {
            let out = run_within(Command::new("kill").args([signal, &child.id().to_string()]));
            assert!(out.status.success(), "{}", stderr(&out));
            std::thread::sleep(Duration::from_millis(200));
        }
        let status = wait_within(&mut child, Duration::from_secs(10));
        assert_eq!(status.code(), Some(130), "{signal}: {status:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
