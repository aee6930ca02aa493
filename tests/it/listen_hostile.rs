//! `tracectl listen` against hostile clients: bodies built to blow up once decoded, clients that
//! half-close, text meant for the terminal, a trace id reused for ever. After each, listen must
//! still answer a normal request.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::peers::{Guard, free_port};

const GOOD: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok"}]}]}]}"#;

struct Listen {
    http: SocketAddr,
    out: std::path::PathBuf,
    child: Guard,
    _ctx: TestContext,
}

impl Listen {
    /// `tracectl listen` on free ports, stdout to a file, ending by itself after 60 s at most. A
    /// port free when asked may be taken by another test before listen binds it; listen then
    /// exits at once, saying so, and starts again on fresh ports.
    fn start(args: &[&str]) -> Self {
        let mut why = String::new();
        for _ in 0..5 {
            match Self::try_start(args) {
                Ok(listen) => return listen,
                Err(e) => why = e,
            }
        }
        panic!("tracectl listen did not start in 5 tries: {why}");
    }

    fn try_start(args: &[&str]) -> Result<Self, String> {
        let ctx = TestContext::empty();
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let out = ctx.path("listen.out");
        let err = ctx.path("listen.err");
        let mut child = ctx
            .tracectl()
            .args(args)
            .args([
                "--otlp-grpc",
                "127.0.0.1:0",
                "--otlp-http",
                &http.to_string(),
                "--xray-udp",
                &udp.to_string(),
            ])
            .args(["--exit-after", "60s"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&http, Duration::from_millis(100)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let said = std::fs::read_to_string(&err).unwrap_or_default();
                if said.contains("another receiver holds the port") {
                    return Err(said);
                }
                panic!("tracectl listen exited early with {status}: {said}");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                panic!("tracectl listen did not listen on {http} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Listen {
            http,
            out,
            child: Guard(child),
            _ctx: ctx,
        })
    }

    fn output(&self) -> Vec<u8> {
        std::fs::read(&self.out).unwrap()
    }

    /// The most memory the receiver has held so far (VmHWM), in MiB.
    fn peak_mib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.0.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib / 1024
    }

    fn answers_a_good_request(&self) {
        let answer = post(self.http, "application/json", GOOD.as_bytes(), false);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

/// POST `body` and read the answer until the server closes; `half_close` shuts the client's
/// sending side once the request is out.
fn post(addr: SocketAddr, content_type: &str, body: &[u8], half_close: bool) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    if half_close {
        stream.shutdown(Shutdown::Write).unwrap();
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn bodies_that_decode_to_hundreds_of_megabytes_are_refused_in_bounded_memory() {
    let listen = Listen::start(&["--format", "json", "listen"]);
    let before = listen.peak_mib();
    let max = 4 * 1024 * 1024 - 64;
    // Empty ResourceSpans: 2 bytes each on the wire, a few hundred bytes each decoded.
    let protobuf = [0x0a, 0x00].repeat(max / 2);
    let answer = post(listen.http, "application/x-protobuf", &protobuf, false);
    assert!(answer.starts_with("HTTP/1.1 400"), "{}", &answer[..200]);
    assert!(answer.contains("empty or tiny messages"), "{answer}");
    // Empty JSON spans.
    let spans = vec!["{}"; (max - 64) / 3].join(",");
    let json = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#);
    let answer = post(listen.http, "application/json", json.as_bytes(), false);
    assert!(answer.starts_with("HTTP/1.1 400"), "{}", &answer[..200]);
    // Measured before weighing bodies: 236 MiB and 391 MiB.
    let peak = listen.peak_mib();
    eprintln!("peak memory {before} MiB at start, {peak} MiB after the bodies");
    assert!(peak < before + 64, "{peak} MiB");
    listen.answers_a_good_request();
}

#[test]
fn a_client_that_half_closes_gets_its_answer() {
    let listen = Listen::start(&["--format", "json", "listen"]);
    // A body large enough to arrive in several reads, the end of input right behind it.
    let body = format!("{GOOD}{}", " ".repeat(300_000));
    for _ in 0..20 {
        let answer = post(listen.http, "application/json", body.as_bytes(), true);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    }
}

#[test]
fn json_lines_carry_no_raw_terminal_controls() {
    let listen = Listen::start(&["--format", "json", "listen", "--exit-after-spans", "1"]);
    let name = "csi\u{9b}2J rlo\u{202e} del\u{7f} ls\u{2028} esc\u{1b}[2J";
    let body = GOOD
        .replace(
            r#""name":"ok""#,
            &format!(r#""name":{}"#, serde_json::json!(name)),
        )
        .replace(
            r#""spanId""#,
            r#""attributes":[{"key":"k\u009b\u202e","value":{"stringValue":"v\u009b"}}],"spanId""#,
        );
    let answer = post(listen.http, "application/json", body.as_bytes(), false);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut listen = listen;
    let deadline = Instant::now() + Duration::from_secs(20);
    while listen.child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "listen did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = listen.output();
    for bad in ["\u{9b}", "\u{202e}", "\u{7f}", "\u{2028}", "\u{1b}"] {
        assert!(
            !out.windows(bad.len()).any(|w| w == bad.as_bytes()),
            "{bad:?} reached stdout raw: {}",
            String::from_utf8_lossy(&out)
        );
    }
    let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(line["name"], name);
    assert_eq!(line["attributes"]["k\u{9b}\u{202e}"], "v\u{9b}");
}

#[test]
fn a_trace_id_reused_for_ever_is_still_shown() {
    let listen = Listen::start(&["--color", "never", "listen", "--flush-after", "100ms"]);
    // A span of one trace every 30 ms for 2.5 s: the trace is never quiet for 100 ms.
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < Duration::from_millis(2500) {
        n += 1;
        let body = GOOD
            .replace("eee19b7ec3c1b174", &format!("{n:016x}"))
            .replace(r#""name":"ok""#, r#""name":"heartbeat""#);
        let answer = post(listen.http, "application/json", body.as_bytes(), false);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        std::thread::sleep(Duration::from_millis(30));
    }
    // Shown while it still arrives (after 10 flush intervals), not only at exit.
    let shown = String::from_utf8_lossy(&listen.output()).into_owned();
    assert!(
        shown
            .matches("trace 5b8efff798038103d269b633813fc60c")
            .count()
            >= 2,
        "{shown}"
    );
    listen.answers_a_good_request();
}
