//! `tracectl init` writes every file or none, on real file-system faults; the small editors
//! (.env, requirements.txt, .gitignore) keep every line and their real consumers accept the result.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use crate::peers;

/// Every child gets a deadline: `timeout` kills it after a minute.
fn with_deadline(cmd: &Command) -> Command {
    let mut out = Command::new("timeout");
    out.args(["--kill-after=5", "60"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            out.env(key, value);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        out.current_dir(dir);
    }
    out
}

/// `tracectl init` for Cruddur without a terminal, with a deadline.
fn init(ctx: &TestContext) -> Output {
    let mut cmd = ctx.tracectl();
    cmd.args(INIT_FLAGS);
    run(&mut with_deadline(&cmd))
}

/// The same, inside a private mount namespace where `source` is bind-mounted onto `target`
/// (a single file, as a dev container mounts a `.env`), read-only when asked.
fn init_with_bind_mount(
    ctx: &TestContext,
    source: &Path,
    target: &Path,
    read_only: bool,
) -> Output {
    let mut script = String::from(r#"mount --bind "$1" "$2" || exit 99; "#);
    if read_only {
        script.push_str(r#"mount -o remount,ro,bind "$2" || exit 99; "#);
    }
    script.push_str(r#"shift 2; exec "$@""#);
    let mut inner = ctx.tracectl();
    inner.args(INIT_FLAGS);
    let mut cmd = ctx.tracectl();
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["-m", "sh", "-c", &script, "sh"])
        .arg(source)
        .arg(target)
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    wrapped.current_dir(&ctx.root);
    cmd = wrapped;
    let out = run(&mut with_deadline(&cmd));
    assert_ne!(
        out.status.code(),
        Some(99),
        "this test needs root with `unshare -m` and `mount --bind` (run the suite as root in a \
         container that allows mount namespaces): {}",
        stderr(&out)
    );
    out
}

/// Removes the immutable attribute again, pass or fail, so the folder can be deleted.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: PathBuf) -> Self {
        let out = Command::new("chattr").arg("+i").arg(&path).output();
        let ok = out.as_ref().is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "this test needs root and `chattr` (e2fsprogs) on an ext4/xfs/btrfs folder: {out:?}"
        );
        Immutable(path)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// Names of temporary or kept files tracectl may have left in a folder.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tracectl-"))
        .collect()
}

#[test]
fn an_immutable_file_fails_the_write_and_every_replaced_file_is_restored() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    // The compose file, .env and .gitignore are replaced before requirements.txt is reached.
    let _guard = Immutable::set(ctx.path("backend-flask/requirements.txt"));
    let out = init(&ctx);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("backend-flask/requirements.txt"), "{err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(
        ctx.snapshot(),
        before,
        "every file byte-identical, same mode, nothing added"
    );
}

#[test]
fn an_immutable_compose_file_fails_before_anything_is_written() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    let _guard = Immutable::set(ctx.path("docker-compose.yml"));
    let out = init(&ctx);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("docker-compose.yml"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(ctx.snapshot(), before);
}

#[test]
fn a_bind_mounted_env_file_is_written_in_place() {
    let ctx = TestContext::fixture("cruddur");
    let outside = tempfile::tempdir().unwrap();
    let host_env = outside.path().join("host.env");
    std::fs::write(&host_env, "# from the host\nEXISTING=1\n").unwrap();
    std::fs::set_permissions(&host_env, std::fs::Permissions::from_mode(0o644)).unwrap();
    let inode = std::fs::metadata(&host_env).unwrap().ino();
    // The mount point: what the project folder holds under the mount.
    ctx.write(".env", "# from the host\nEXISTING=1\n");
    let out = init_with_bind_mount(&ctx, &host_env, &ctx.path(".env"), false);
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&host_env).unwrap();
    assert!(
        written.starts_with("# from the host\nEXISTING=1\n"),
        "{written}"
    );
    assert!(
        written.contains(&format!("HONEYCOMB_API_KEY={INGEST_US}\n")),
        "{written}"
    );
    let meta = std::fs::metadata(&host_env).unwrap();
    assert_eq!(meta.ino(), inode, "the mounted file itself was written");
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert!(ctx.read("docker-compose.yml").contains("OTEL_SERVICE_NAME"));
    assert_eq!(leftovers(&ctx.root), Vec::<String>::new());
}

#[test]
fn a_read_only_bind_mounted_env_file_fails_before_anything_is_written() {
    let ctx = TestContext::fixture("cruddur");
    let outside = tempfile::tempdir().unwrap();
    let host_env = outside.path().join("host.env");
    std::fs::write(&host_env, "EXISTING=1\n").unwrap();
    ctx.write(".env", "EXISTING=1\n");
    let before = ctx.snapshot();
    let out = init_with_bind_mount(&ctx, &host_env, &ctx.path(".env"), true);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(".env"), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(ctx.snapshot(), before);
    assert_eq!(std::fs::read_to_string(&host_env).unwrap(), "EXISTING=1\n");
}

/// What Docker Compose v2 reads for each of `keys` from an env file (through interpolation of a
/// tiny compose file that references every key).
fn compose_reads(env_file: &Path, keys: &[String]) -> Vec<(String, Option<String>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("services:\n  probe:\n    image: busybox\n    environment:\n");
    for (i, key) in keys.iter().enumerate() {
        // `-` default: an unset key reads as a marker, not as "".
        yaml.push_str(&format!("      K{i}: \"${{{key}-<unset>}}\"\n"));
    }
    let compose = dir.path().join("compose.yaml");
    std::fs::write(&compose, yaml).unwrap();
    let mut cmd = Command::new(peers::docker_compose());
    cmd.env_clear()
        .env("HOME", dir.path())
        .arg("--env-file")
        .arg(env_file)
        .arg("-f")
        .arg(&compose)
        .args(["config", "--format", "json"]);
    let out = run_ok(&mut with_deadline(&cmd));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let env = &json["services"]["probe"]["environment"];
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let value = env[format!("K{i}")].as_str().map(str::to_string);
            (key.clone(), value.filter(|v| v != "<unset>"))
        })
        .collect()
}

/// The requirements pip reads from a file (its own parser: options, continuations, comments).
fn pip_reads(file: &Path) -> Vec<String> {
    let script = "import sys\n\
        from pip._internal.req.req_file import parse_requirements\n\
        from pip._internal.network.session import PipSession\n\
        from packaging.requirements import Requirement\n\
        for r in parse_requirements(sys.argv[1], session=PipSession()):\n\
        \x20   print(Requirement(r.requirement))\n";
    let mut cmd = Command::new(peers::python());
    cmd.env_clear().args(["-c", script]).arg(file);
    let out = run_ok(&mut with_deadline(&cmd));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .current_dir(dir)
        .args(args);
    with_deadline(&cmd)
}

/// Whether git, in a repository at `dir`, ignores `name`.
fn git_ignores(dir: &Path, name: &str) -> bool {
    if !dir.join(".git").exists() {
        run_ok(&mut git(dir, &["init", "-q"]));
    }
    git(dir, &["check-ignore", "-q", "--no-index", name])
        .status()
        .unwrap()
        .success()
}

fn render(lines: &[String], crlf: bool, bom: bool, final_newline: bool) -> String {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut text = if bom {
        "\u{feff}".to_string()
    } else {
        String::new()
    };
    text.push_str(&lines.join(eol).replace("<EOL>", eol));
    if final_newline && !lines.is_empty() {
        text.push_str(eol);
    }
    text
}

/// `needle`'s lines appear in `hay` in the same order (others may come between).
fn lines_in_order(needle: &str, hay: &str) -> bool {
    let mut hay = hay.lines();
    needle.lines().all(|line| hay.any(|h| h == line))
}

use proptest::prelude::*;

/// One of `lines`, as an owned string.
fn one_of(lines: &[&'static str]) -> impl Strategy<Value = String> + use<> {
    prop::sample::select(lines.to_vec()).prop_map(str::to_string)
}

fn requirement_line() -> impl Strategy<Value = String> {
    one_of(&[
        "# the app",
        "   # indented comment",
        "flask==3.0.0",
        "Flask_Cors  # pinned later",
        "requests[socks]>=2.31 ; python_version > \"3.7\"",
        "pyjwt @ https://example.invalid/pyjwt-2.8.0-py3-none-any.whl",
        "-r base.txt",
        "--index-url https://example.invalid/simple",
        "boto3 \\<EOL>    >=1.28",
        "opentelemetry-api>=1.20",
        "",
    ])
}

fn env_line() -> impl Strategy<Value = String> {
    one_of(&[
        "# local settings",
        "",
        "export DB_URL='postgres://u@db/app'",
        "GREETING=\"hello # world\"",
        "PLAIN=value # trailing comment",
        "SPACED='two words'",
        "EMPTY=",
        "DOLLAR='$NOT_EXPANDED'",
    ])
}

fn gitignore_line() -> impl Strategy<Value = String> {
    one_of(&[
        "node_modules",
        "# secrets",
        ".env",
        "!.env",
        "*.env",
        " .env",
        ".env/",
        "*",
        ".env.*",
        "\\#.env",
        ".en[v]",
        "!.en[v]",
        "*.log",
        ".env  ",
        "",
    ])
}

/// Service names init accepts.
fn service_name() -> impl Strategy<Value = String> {
    one_of(&["backend-flask", "api.v2", "Svc_1"])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// On generated requirements.txt, .env and .gitignore files (comments anywhere, CRLF, BOM,
    /// no final newline, odd quoting): every original line is kept in order, the real consumer
    /// (pip, Docker Compose v2, git) reads the result as intended, and a second run changes
    /// nothing.
    #[test]
    fn init_keeps_every_line_and_the_real_consumers_agree(
        req in (prop::collection::vec(requirement_line(), 0..8), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        env in (prop::collection::vec(env_line(), 0..6), any::<bool>(), any::<bool>()),
        ignore in (prop::collection::vec(gitignore_line(), 0..6), any::<bool>(), any::<bool>()),
        name in service_name(),
    ) {
        let ctx = TestContext::fixture("cruddur");
        let mut req_lines = req.0.clone();
        if req.4 {
            // A last line that continues: pip joins it with whatever follows.
            req_lines.push("tail \\".to_string());
        }
        let req_text = render(&req_lines, req.1, req.2, req.3);
        // Each variable once: tracectl refuses a file that defines one twice.
        let mut seen = std::collections::HashSet::new();
        let env_lines: Vec<String> = env
            .0
            .into_iter()
            .filter(|l| !l.contains('=') || seen.insert(l.clone()))
            .collect();
        let env_text = render(&env_lines, env.1, false, env.2);
        let ignore_text = render(&ignore.0, ignore.1, false, ignore.2);
        ctx.write("backend-flask/requirements.txt", &req_text);
        ctx.write("backend-flask/base.txt", "six\n");
        ctx.write(".env", &env_text);
        ctx.write(".gitignore", &ignore_text);
        let scratch = tempfile::tempdir().unwrap();
        let old_env = scratch.path().join("old.env");
        std::fs::write(&old_env, &env_text).unwrap();

        let mut cmd = ctx.tracectl();
        cmd.args(INIT_FLAGS).args(["--service-name", &name]);
        let out = run(&mut with_deadline(&cmd));
        assert_exit(&out, 0);

        // requirements.txt: every byte kept, pip reads the old requirements then the recipe's.
        let new_req = ctx.read("backend-flask/requirements.txt");
        prop_assert!(new_req.starts_with(&req_text), "{:?}", new_req);
        // A file takes new lines in the ending its first line ending has; one without any ending
        // (a single line, no final newline) cannot say, and gets LF.
        if req_text.find(['\r', '\n']).is_some_and(|i| req_text[i..].starts_with("\r\n")) {
            let added = &new_req[req_text.len()..];
            prop_assert_eq!(added.matches('\n').count(), added.matches("\r\n").count(), "{:?}", added);
        }
        let before = {
            let old = scratch.path().join("requirements.txt");
            std::fs::write(&old, &req_text).unwrap();
            std::fs::write(scratch.path().join("base.txt"), "six\n").unwrap();
            pip_reads(&old)
        };
        let now = pip_reads(&ctx.path("backend-flask/requirements.txt"));
        prop_assert_eq!(&now[..before.len()], &before[..]);
        // The default instrumentation is zero-code: the agent's packages.
        let wanted = [
            "opentelemetry-distro",
            "opentelemetry-exporter-otlp-proto-http",
            "opentelemetry-instrumentation-flask",
            "aws-xray-sdk",
        ];
        for package in wanted {
            prop_assert!(
                now.iter().any(|r| r.split(['=', '>', '<', '[', ';', ' ']).next() == Some(package)),
                "{} missing from {:?}", package, now
            );
        }

        // .env: original lines in order; Compose reads the user's variables as before and
        // tracectl's as set.
        let new_env = ctx.read(".env");
        let ours = ["HONEYCOMB_API_KEY", "HONEYCOMB_SERVICE_NAME", "AWS_REGION"];
        prop_assert!(lines_in_order(&env_text, &new_env), "{:?}", new_env);
        let theirs: Vec<String> = ["DB_URL", "GREETING", "PLAIN", "SPACED", "EMPTY", "DOLLAR"].map(String::from).to_vec();
        prop_assert_eq!(compose_reads(&ctx.path(".env"), &theirs), compose_reads(&old_env, &theirs));
        let read = compose_reads(&ctx.path(".env"), &ours.map(String::from));
        let expect = [INGEST_US, &name, "eu-west-3"];
        for ((key, value), want) in read.iter().zip(expect) {
            prop_assert_eq!(value.as_deref(), Some(want), "{} in {:?}", key, new_env);
        }

        // .gitignore: every byte kept, and git ignores .env.
        let new_ignore = ctx.read(".gitignore");
        prop_assert!(new_ignore.starts_with(&ignore_text));
        prop_assert!(git_ignores(&ctx.root, ".env"), "{:?}", new_ignore);

        // A second run changes nothing.
        let after = ctx.snapshot();
        let out = run(&mut with_deadline(&cmd));
        assert_exit(&out, 0);
        let again = ctx.snapshot();
        let changed: Vec<_> = again.iter().filter(|(k, v)| after.get(*k) != Some(v)).map(|(k, _)| k).collect();
        prop_assert!(changed.is_empty() && again.len() == after.len(), "changed on the second run: {:?}", changed);
    }
}
