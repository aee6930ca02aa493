//! The committed completion scripts match what the binary generates, and the CLI is consistent.

use crate::common::*;

const SHELLS: [(&str, &str); 5] = [
    ("bash", "tracectl.bash"),
    ("zsh", "tracectl.zsh"),
    ("fish", "tracectl.fish"),
    ("powershell", "tracectl.powershell.ps1"),
    ("elvish", "tracectl.elvish.elv"),
];

#[test]
fn committed_completions_are_fresh() {
    let ctx = TestContext::empty();
    let bless = std::env::var_os("TRACECTL_BLESS").is_some();
    for (shell, file) in SHELLS {
        let out = run(ctx.tracectl().args(["completions", shell]));
        assert_exit(&out, 0);
        let path = manifest_dir().join("completions").join(file);
        if bless {
            std::fs::write(&path, &out.stdout).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "completions/{file} is stale: regenerate with `tracectl completions {shell} > completions/{file}` \
             (or TRACECTL_BLESS=1 scripts/test.sh)"
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("init"));
    }
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let ctx = TestContext::empty();
    assert_exit(&run(ctx.tracectl().arg("frobnicate")), 2);
    assert_exit(
        &run(ctx.tracectl().args(["init", "--honeycomb-region", "mars"])),
        2,
    );
    let out = run(ctx.tracectl().args(["init", "--help"]));
    assert_exit(&out, 0);
    let help = stdout(&out);
    assert!(help.contains("[env: HONEYCOMB_API_KEY]"), "{help}");
    assert!(help.contains("--dry-run"), "{help}");
}

#[test]
fn closed_stdout_is_not_an_error() {
    let ctx = TestContext::empty();
    let mut child = ctx
        .tracectl()
        .args(["completions", "zsh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 0);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
