//! A temporary project folder and a way to run tracectl in it with a clean environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const INGEST_US: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";
pub const INGEST_EU: &str = "hcbik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

/// Fixture files that git would treat specially are stored as `dot-NAME` and copied as `.NAME`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let target = to.join(
            name.strip_prefix("dot-")
                .map(|n| format!(".{n}"))
                .unwrap_or(name),
        );
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub struct TestContext {
    _temp: tempfile::TempDir,
    pub root: PathBuf,
}

impl TestContext {
    pub fn empty() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("project");
        std::fs::create_dir(&root).unwrap();
        TestContext { _temp: temp, root }
    }

    pub fn fixture(name: &str) -> Self {
        let ctx = Self::empty();
        copy_tree(&fixtures().join(name), &ctx.root);
        ctx
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// tracectl with only PATH and a private HOME: no HONEYCOMB_*, AWS_*, OTEL_* or GITPOD_*
    /// from the machine running the tests leaks in.
    pub fn tracectl(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tracectl"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self._temp.path())
            .env("NO_COLOR", "1")
            .current_dir(&self.root);
        cmd
    }

    /// Every file under the project with its bytes and mode, to prove nothing changed.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
        use std::os::unix::fs::PermissionsExt;
        let mut files = BTreeMap::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                let meta = entry.metadata().unwrap();
                if meta.is_dir() {
                    stack.push(entry.path());
                } else {
                    let rel = entry.path().strip_prefix(&self.root).unwrap().to_path_buf();
                    files.insert(
                        rel,
                        (
                            std::fs::read(entry.path()).unwrap(),
                            meta.permissions().mode(),
                        ),
                    );
                }
            }
        }
        files
    }
}

/// How long any program a test starts may run before it is killed and the test fails.
pub const CHILD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Run a program to completion, as `Command::output` does, but kill it and fail the test when it
/// outlives `deadline`: a hung child must fail one test, not wedge the suite.
#[track_caller]
pub fn output_within(cmd: &mut Command, deadline: std::time::Duration) -> Output {
    output_watched(cmd, deadline, std::time::Duration::from_millis(5), |_| {})
}

/// [`output_within`], calling `watch(pid)` every `every` while the program runs, to sample what
/// only a running process shows (its memory in /proc, say).
#[track_caller]
pub fn output_watched(
    cmd: &mut Command,
    deadline: std::time::Duration,
    every: std::time::Duration,
    watch: impl FnMut(u32),
) -> Output {
    child_output(cmd, None, deadline, every, watch)
}

/// [`output_within`] with `input` written to the program's standard input.
#[track_caller]
pub fn output_fed(cmd: &mut Command, input: &[u8], deadline: std::time::Duration) -> Output {
    child_output(
        cmd,
        Some(input.to_vec()),
        deadline,
        std::time::Duration::from_millis(5),
        |_| {},
    )
}

#[track_caller]
fn child_output(
    cmd: &mut Command,
    input: Option<Vec<u8>>,
    deadline: std::time::Duration,
    every: std::time::Duration,
    mut watch: impl FnMut(u32),
) -> Output {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // Written beside the wait, so a program that does not read cannot block the test.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        watch(child.id());
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "{cmd:?} still ran after {deadline:?} and was killed\n--- stderr\n{}",
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(every);
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

#[track_caller]
pub fn run(cmd: &mut Command) -> Output {
    output_within(cmd, CHILD_DEADLINE)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(out),
        stderr(out)
    );
}

/// GET a path from a local HTTP server that may still be starting; the whole response as text.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            write!(
                stream,
                "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            )
            .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            return response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing answered on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Run a helper program to completion; it must succeed.
#[track_caller]
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = output_within(cmd, CHILD_DEADLINE);
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Doctor's idea of today in every test that runs it: the X-Ray support verdict depends on the
/// date, the tests must not.
pub const TODAY: &str = "2026-06-01";

/// `tracectl --format json COMMAND ARGS` with extra environment, ready to run.
pub fn json_command(
    ctx: &TestContext,
    command: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> Command {
    let mut cmd = ctx.tracectl();
    cmd.args(["--format", "json", command]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// `tracectl --format json COMMAND ARGS` with extra environment (and no EC2 metadata lookups);
/// its output and parsed JSON.
pub fn json_run(
    ctx: &TestContext,
    command: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> (Output, serde_json::Value) {
    let mut all = vec![("AWS_EC2_METADATA_DISABLED", "true".to_string())];
    all.extend_from_slice(env);
    let out = run(&mut json_command(ctx, command, args, &all));
    let v = json_of(&out);
    (out, v)
}

/// A run's stdout as JSON; a run that printed anything else fails the test showing both streams.
#[track_caller]
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

/// The entry of `v[list]` whose `field` is `value`; none fails the test showing `v`.
#[track_caller]
fn entry<'a>(
    v: &'a serde_json::Value,
    list: &str,
    field: &str,
    value: &str,
) -> &'a serde_json::Value {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v:#}"))
        .iter()
        .find(|e| e[field] == value)
        .unwrap_or_else(|| panic!("no {value} in {v:#}"))
}

/// `doctor`'s check with this `id` in its JSON report.
#[track_caller]
pub fn check<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    entry(v, "checks", "id", id)
}

/// `send-test`'s result for this `destination` in its JSON report.
#[track_caller]
pub fn result<'a>(v: &'a serde_json::Value, destination: &str) -> &'a serde_json::Value {
    entry(v, "results", "destination", destination)
}

pub fn send_test_json(
    ctx: &TestContext,
    args: &[&str],
    env: &[(&str, String)],
) -> (Output, serde_json::Value) {
    json_run(ctx, "send-test", args, env)
}

/// The arguments that configure the Cruddur fixture for both backends without a terminal.
/// The recipe's daemon setup, which most tests start from (`--xray-via collector` is
/// tests/it/collector.rs's).
pub const INIT_FLAGS: [&str; 7] = [
    "init",
    "--aws-region",
    "eu-west-3",
    "--honeycomb-api-key",
    INGEST_US,
    "--xray-via",
    "daemon",
];

/// None of `secrets`, nor any eight consecutive characters of one (as written, JSON-escaped or
/// percent-encoded), in stdout or stderr.
#[track_caller]
pub fn assert_no_leak<S: AsRef<str>>(label: &str, out: &Output, secrets: &[S]) {
    let all = format!("{}\n{}", stdout(out), stderr(out));
    for secret in secrets {
        let secret = secret.as_ref();
        let json = serde_json::to_string(secret).unwrap();
        let json = json.trim_matches('"').to_string();
        let percent: String = secret
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        for form in [secret.to_string(), json.replace('/', "\\/"), json, percent] {
            let chars: Vec<char> = form.chars().collect();
            for window in chars.windows(8) {
                let piece: String = window.iter().collect();
                assert!(
                    !all.contains(&piece),
                    "{label}: '{piece}' of {secret:?} is shown:\n{all}"
                );
            }
        }
    }
}
