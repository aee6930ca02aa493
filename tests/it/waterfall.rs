//! `tracectl listen --view waterfall` on real requests, and the X-Ray daemon's sampling proxy
//! answered for the real aws-xray-sdk. Every child process runs under a deadline.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::peers::{self, Guard, free_port, wait_for_port};

const DEADLINE: Duration = Duration::from_secs(60);

/// A loopback port free for UDP and for TCP (the daemon port serves both).
fn free_daemon_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// Three spans of one trace over 100 ms, the child of a second service starting 20 ms before its
/// parent (its host's clock is behind).
const SKEWED_TRACE: &str = r#"{"resourceSpans":[
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
  "scopeSpans":[{"spans":[
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000a1","name":"GET /home","kind":2,
    "startTimeUnixNano":"1000020000000","endTimeUnixNano":"1000100000000",
    "attributes":[{"key":"http.route","value":{"stringValue":"/home"}}]},
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000a2","parentSpanId":"00000000000000a1",
    "name":"render","startTimeUnixNano":"1000060000000","endTimeUnixNano":"1000100000000",
    "status":{"code":2,"message":"no template"}}]}]},
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"db"}}]},
  "scopeSpans":[{"spans":[
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000b1","parentSpanId":"00000000000000a1",
    "name":"SELECT","kind":3,"startTimeUnixNano":"1000000000000","endTimeUnixNano":"1000040000000"}]}]}]}"#;

/// Start `tracectl ARGS` with its output piped and wait until it serves on `ready`.
fn spawn_listen(ctx: &TestContext, args: &[&str], ready: SocketAddr, what: &str) -> Child {
    let mut child = ctx
        .tracectl()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(ready, &mut child, what);
    child
}

fn listen_once(args: &[&str]) -> (String, String) {
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ctx = TestContext::empty();
    let child = spawn_listen(
        &ctx,
        &[
            &[
                "listen",
                "--no-xray",
                "--flush-after",
                "100ms",
                "--otlp-grpc",
                "127.0.0.1:0",
                "--otlp-http",
                &http.to_string(),
                "--exit-after-spans",
                "3",
            ][..],
            args,
        ]
        .concat(),
        http,
        "tracectl listen",
    );
    let answer = post(
        http,
        "/v1/traces",
        "application/json",
        SKEWED_TRACE.as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let out = output_within_deadline(child);
    assert_exit(&out, 0);
    (stdout(&out), stderr(&out))
}

fn output_within_deadline(child: std::process::Child) -> std::process::Output {
    let guard = Guard(child);
    let started = Instant::now();
    let mut guard = guard;
    loop {
        if guard.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "listen did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = Vec::new();
    let mut err = Vec::new();
    guard
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    guard
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut err)
        .unwrap();
    std::process::Output {
        status: guard.0.wait().unwrap(),
        stdout: out,
        stderr: err,
    }
}

#[test]
fn listen_draws_a_waterfall_at_the_width_asked_for() {
    let (out, err) = listen_once(&["--view", "waterfall", "--width", "60", "-v"]);
    // Axis 0..100 ms over 26 columns (60 - 24 name - 2 spaces - 8 duration). The db child starts
    // first: columns 0..11 (10.4 rounded up); GET /home 20..100 ms: 5.2 -> 5..26.
    let expected = "\
● web  3 spans  100.0ms  1 error(s)  trace 0af7651916cd43d…
                         0                  100.0ms
GET /home                     █████████████████████   80.0ms
  http.route=/home
  [db] SELECT            ███████████                  40.0ms
  render                                ███████████   40.0ms
    ERROR no template
";
    assert_eq!(
        out.trim_end_matches('\n'),
        expected.trim_end_matches('\n'),
        "{err}"
    );
}

#[test]
fn listen_keeps_the_tree_when_stdout_is_not_a_terminal() {
    let (out, err) = listen_once(&["--width", "60"]);
    assert!(
        out.starts_with("● web  trace 0af7651916cd43dd8448eb211c80319c  3 spans  100.0 ms"),
        "{out}{err}"
    );
    assert!(
        out.contains("└─ GET /home  server  80.0 ms  http.route=/home"),
        "{out}"
    );
    assert!(!out.contains('█'), "{out}");
}

#[test]
fn aws_xray_sdk_sampling_polls_are_answered_and_its_segments_arrive() {
    let port = free_daemon_port();
    let daemon = format!("127.0.0.1:{port}");
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ctx = TestContext::empty();
    let child = spawn_listen(
        &ctx,
        &[
            "--format",
            "json",
            "listen",
            "--xray-udp",
            &daemon,
            "--otlp-grpc",
            "127.0.0.1:0",
            "--otlp-http",
            &http.to_string(),
            "--exit-after-spans",
            "5",
        ],
        daemon.parse().unwrap(),
        "tracectl listen (X-Ray TCP)",
    );
    let client = output_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/xray_sampling_client.py"))
            .env("AWS_XRAY_DAEMON_ADDRESS", &daemon)
            .env("SEGMENTS", "5"),
        DEADLINE,
    );
    let log = stderr(&client);
    assert!(client.status.success(), "{log}");
    assert!(
        log.contains("rules=['Default'] targets=['Default']"),
        "{log}"
    );
    for bad in ["Encountered an issue", "Traceback", "ERROR"] {
        assert!(!log.contains(bad), "{bad} in the SDK's log:\n{log}");
    }
    assert_eq!(log.matches("sampled=True").count(), 5, "{log}");
    let out = output_within_deadline(child);
    assert_exit(&out, 0);
    let segments: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(segments.len(), 5, "{}", stdout(&out));
    assert!(
        segments
            .iter()
            .all(|s| s["name"] == "sampled-app" && s["source"] == "xray")
    );
}

#[test]
fn the_daemon_tcp_port_refuses_other_requests_and_oversized_bodies() {
    let port = free_daemon_port();
    let daemon: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let ctx = TestContext::empty();
    let child = spawn_listen(
        &ctx,
        &[
            "--format",
            "json",
            "listen",
            "--no-otlp",
            "--xray-udp",
            &daemon.to_string(),
            "--exit-after",
            "20s",
        ],
        daemon,
        "tracectl listen (X-Ray TCP)",
    );
    let _guard = Guard(child);
    let answer = post(daemon, "/GetSamplingRules", "application/json", b"{}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let rules: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        rules["SamplingRuleRecords"][0]["SamplingRule"]["FixedRate"],
        1.0
    );
    let answer = post(daemon, "/v1/traces", "application/json", b"{}");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let answer = post(
        daemon,
        "/SamplingTargets",
        "application/json",
        &vec![b' '; 1 << 20],
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let answer = post(daemon, "/SamplingTargets", "application/json", b"not json");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[test]
fn aws_xray_sdk_segments_draw_as_a_waterfall() {
    let port = free_daemon_port();
    let daemon = format!("127.0.0.1:{port}");
    let ctx = TestContext::empty();
    let child = spawn_listen(
        &ctx,
        &[
            "listen",
            "--no-otlp",
            "--xray-udp",
            &daemon,
            "--flush-after",
            "100ms",
            "--exit-after-spans",
            "2",
            "--view",
            "waterfall",
            "--width",
            "50",
        ],
        daemon.parse().unwrap(),
        "tracectl listen (X-Ray TCP)",
    );
    let client = output_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/xray_client.py"))
            .env("AWS_XRAY_DAEMON_ADDRESS", &daemon),
        DEADLINE,
    );
    assert!(client.status.success(), "{}", stderr(&client));
    let out = output_within_deadline(child);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "header, axis, segment, subsegment: {text}");
    assert!(lines[0].starts_with("● backend-flask  2 spans  "), "{text}");
    assert!(lines[2].starts_with("backend-flask "), "{text}");
    assert!(lines[3].starts_with("  activities-query "), "{text}");
    // 50 columns: a name column of 20, then the bar from column 21.
    for line in &lines[2..] {
        assert!(line.chars().count() <= 50, "{line}");
        let bar = line.chars().position(|c| c == '█' || c == '│').unwrap();
        assert!(bar >= 21, "{line}");
    }
}
