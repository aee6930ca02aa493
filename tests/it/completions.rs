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

/// `man/` holds exactly the pages `tracectl man` writes (one per visible command), and groff
/// reads each without a warning.
#[test]
fn committed_man_pages_are_fresh_and_read_cleanly() {
    let ctx = TestContext::empty();
    let out_dir = ctx.path("man");
    let out = run(ctx.tracectl().arg("man").arg(&out_dir));
    assert_exit(&out, 0);
    let names = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let generated = names(&out_dir);
    let committed_dir = manifest_dir().join("man");
    if std::env::var_os("TRACECTL_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for name in &generated {
            std::fs::copy(out_dir.join(name), committed_dir.join(name)).unwrap();
        }
    }
    let help = stdout(&run(ctx.tracectl().arg("--help")));
    let mut expected = vec!["tracectl.1".to_string()];
    let commands = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty());
    // A command's line starts two spaces in; its wrapped help further in.
    for line in commands.filter(|l| l.starts_with("  ") && !l.starts_with("   ")) {
        let command = line.split_whitespace().next().unwrap_or_default();
        if command != "help" {
            expected.push(format!("tracectl-{command}.1"));
        }
    }
    expected.sort();
    assert_eq!(generated, expected, "a page per command listed by --help");
    assert!(!generated.contains(&"tracectl-man.1".to_string()));
    assert_eq!(
        names(&committed_dir),
        generated,
        "man/ is stale: regenerate with `tracectl man man` (or TRACECTL_BLESS=1 scripts/test.sh)"
    );
    for name in &generated {
        let fresh = std::fs::read(out_dir.join(name)).unwrap();
        assert!(
            std::fs::read(committed_dir.join(name)).unwrap_or_default() == fresh,
            "man/{name} is stale: regenerate with `tracectl man man` (or TRACECTL_BLESS=1 scripts/test.sh)"
        );
        // groff (Debian groff-base, which man itself needs) is the independent reader.
        let lint = std::process::Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(out_dir.join(name))
            .output()
            .unwrap_or_else(|e| panic!("groff does not run ({e}): install groff-base"));
        assert!(
            lint.status.success() && lint.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&lint.stderr)
        );
        let text = String::from_utf8_lossy(&fresh);
        assert!(
            text.contains(&format!("\"tracectl {}\"", env!("CARGO_PKG_VERSION"))),
            "pages carry the package version only, so commits do not make them stale: {name}"
        );
    }
    let doctor = std::fs::read_to_string(out_dir.join("tracectl-doctor.1")).unwrap();
    assert!(doctor.contains("sarif"), "the page documents the formats");
    assert!(
        doctor.contains("HONEYCOMB_API_KEY"),
        "and the variables read"
    );
}

/// `tracectl man DIR` with a DIR that cannot hold pages: said plainly, with a hint; and a write
/// that fails half-way names the pages already written.
#[test]
fn man_refuses_a_dir_that_is_not_a_folder_and_reports_partial_writes() {
    let ctx = TestContext::empty();
    ctx.write("plain-file", "x");
    std::os::unix::fs::symlink(ctx.path("nowhere"), ctx.path("dangling")).unwrap();
    for dir in [
        ctx.path("plain-file"),
        std::path::PathBuf::from("/dev/null"),
        ctx.path("dangling"),
    ] {
        let out = run(ctx.tracectl().arg("man").arg(&dir));
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(!err.contains("File exists"), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }
    assert_eq!(ctx.read("plain-file"), "x");
    assert!(!ctx.path("nowhere").exists());

    // The second page cannot be written: a folder stands where it goes.
    let dir = ctx.path("man");
    std::fs::create_dir_all(dir.join("tracectl-completions.1")).unwrap();
    let out = run(ctx.tracectl().arg("man").arg(&dir));
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains("nothing was changed"), "{err}");
    assert!(err.contains("tracectl.1"), "names the page written: {err}");
    assert!(dir.join("tracectl.1").is_file());
}
