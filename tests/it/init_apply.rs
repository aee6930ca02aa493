//! `tracectl init` writes every file or none, on real file-system faults; the small editors
//! (.env, requirements.txt, .gitignore) keep every line and their real consumers accept the result.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

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
