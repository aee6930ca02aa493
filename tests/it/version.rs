//! `tracectl --version` and `tracectl version`: the commit and date build.rs recorded, checked
//! against git itself; the JSON for bug reports holds build facts only.

use std::process::Command;

use crate::common::*;

/// What git says about the checkout the binary was built from, when the tests run in one.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest_dir())
        .env("TZ", "UTC")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_and_the_commit_date() {
    let ctx = TestContext::empty();
    let out = run(ctx.tracectl().arg("--version"));
    assert_exit(&out, 0);
    let line = stdout(&out);
    let (_, json) = json_run(&ctx, "version", &[], &[]);
    let commit = json["commit"].as_str().unwrap();
    let date = json["build_date"].as_str().unwrap();
    assert_eq!(
        line.trim_end(),
        format!(
            "tracectl {} ({} {date})",
            env!("CARGO_PKG_VERSION"),
            &commit[..commit.len().min(12)]
        )
    );
    // Subcommands answer --version the same way, and -C need not exist for it.
    let out = run(ctx
        .tracectl()
        .args(["-C", "no such folder", "doctor", "--version"]));
    assert_exit(&out, 0);
    let version = line.strip_prefix("tracectl ").unwrap();
    assert_eq!(stdout(&out), format!("tracectl-doctor {version}"));

    // Independently: git's own idea of HEAD and its committer date, in UTC. (The build date
    // is SOURCE_DATE_EPOCH's instead when that was set for the build.)
    if let Some(head) = git(&["rev-parse", "HEAD"]) {
        assert_eq!(commit, head, "{json:#}");
        if json["build_date_source"] == "commit" {
            let day = git(&["log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d"]).unwrap();
            assert_eq!(date, day, "{json:#}");
        }
    }
}

#[test]
fn version_json_holds_build_facts_and_nothing_of_the_environment() {
    let ctx = TestContext::empty();
    let planted = [
        ("HONEYCOMB_API_KEY", INGEST_US.to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "Pl4nted/AwsSecretAccessKey+QwXz7rTyUiOp9".to_string(),
        ),
        ("AWS_ACCESS_KEY_ID", "AKIAPL4NTEDKEY7QWXZ2".to_string()),
        (
            "HOME_SECRET_MARKER",
            "plantedvalueinenvironment".to_string(),
        ),
    ];
    let (out, v) = json_run(&ctx, "version", &["-vv"], &planted);
    assert_exit(&out, 0);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "arch",
            "build_date",
            "build_date_source",
            "commit",
            "name",
            "os",
            "package_version",
            "profile",
            "target",
            "version"
        ]
    );
    assert_eq!(v["version"], 1);
    assert_eq!(v["name"], "tracectl");
    assert_eq!(v["package_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        v.as_object()
            .unwrap()
            .values()
            .all(|x| x.is_string() || x.is_number())
    );
    let commit = v["commit"].as_str().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{v}"
    );
    let date = v["build_date"].as_str().unwrap();
    assert!(
        date == "unknown"
            || (date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-'),
        "{v}"
    );
    assert!(
        ["SOURCE_DATE_EPOCH", "commit", "unknown"]
            .contains(&v["build_date_source"].as_str().unwrap())
    );
    let secrets: Vec<String> = planted.iter().map(|(_, v)| v.clone()).collect();
    assert_no_leak("version --format json", &out, &secrets);
    let home = ctx.root.parent().unwrap().to_string_lossy().into_owned();
    assert!(!stdout(&out).contains(&home), "no paths: {}", stdout(&out));

    let out = run(ctx.tracectl().arg("version"));
    assert_exit(&out, 0);
    assert!(stdout(&out).starts_with(&format!("tracectl {}\ncommit: ", env!("CARGO_PKG_VERSION"))));
}

/// The compiled build script of this build (the newest, should older ones linger).
fn build_script() -> std::path::PathBuf {
    let build = std::path::Path::new(env!("CARGO_BIN_EXE_tracectl"))
        .parent()
        .unwrap()
        .join("build");
    std::fs::read_dir(&build)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("tracectl-"))
        .map(|e| e.path().join("build-script-build"))
        .filter(|p| p.is_file())
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no tracectl build script under {}", build.display()))
}

/// build.rs run on a source folder as cargo runs it (for a musl target unless `env` says
/// otherwise): what it prints.
fn run_build_script(source: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(build_script());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CARGO_MANIFEST_DIR", source)
        .env("TARGET", "x86_64-unknown-linux-musl")
        .env("PROFILE", "release")
        .current_dir(source);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    stdout(&out)
}

/// build.rs run on a source folder: its `rustc-env` values and watched paths.
fn build_facts(source: &std::path::Path, env: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let text = run_build_script(source, env);
    let pick = |prefix: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    (
        pick("cargo:rustc-env=TRACECTL_"),
        pick("cargo:rerun-if-changed="),
    )
}

#[test]
fn the_build_script_falls_back_without_git_and_never_claims_another_repositorys_commit() {
    let temp = tempfile::tempdir().unwrap();
    // A crates.io tarball unpacked inside someone else's checkout (a vendored dependency).
    let outer = temp.path().join("their repo");
    let source = outer.join("vendor/tracectl");
    std::fs::create_dir_all(&source).unwrap();
    let git = |args: &[&str]| {
        run(Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .current_dir(&outer))
    };
    assert_exit(&git(&["init", "-q"]), 0);
    assert_exit(&git(&["commit", "-q", "--allow-empty", "-m", "theirs"]), 0);
    let (env, watched) = build_facts(&source, &[]);
    assert!(env.contains(&"COMMIT=unknown".to_string()), "{env:?}");
    assert!(env.contains(&"BUILD_DATE=unknown".to_string()), "{env:?}");
    assert!(
        env.contains(&"TARGET=x86_64-unknown-linux-musl".to_string()),
        "{env:?}"
    );
    // Nothing watched that could be missing: cargo would rerun the script on every build.
    assert_eq!(watched, ["build.rs"], "{watched:?}");

    // What `cargo package` records, and a reproducible date.
    std::fs::write(
        source.join(".cargo_vcs_info.json"),
        "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\"\n  },\n  \"path_in_vcs\": \"\"\n}\n",
    )
    .unwrap();
    let (env, _) = build_facts(&source, &[("SOURCE_DATE_EPOCH", "1700000000")]);
    assert!(
        env.contains(&"COMMIT=0123456789abcdef0123456789abcdef01234567".to_string()),
        "{env:?}"
    );
    assert!(
        env.contains(&"BUILD_DATE=2023-11-14".to_string()),
        "{env:?}"
    );
    assert!(
        env.contains(&"BUILD_DATE_SOURCE=SOURCE_DATE_EPOCH".to_string()),
        "{env:?}"
    );

    // Its own checkout: HEAD and the commit's date, and the files that move with HEAD watched.
    let own = temp.path().join("own");
    std::fs::create_dir_all(&own).unwrap();
    let git_own = |args: &[&str]| {
        run(Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .env("GIT_COMMITTER_DATE", "2027-02-25T23:30:00-05:00")
            .current_dir(&own))
    };
    assert_exit(&git_own(&["init", "-q", "-b", "main"]), 0);
    assert_exit(
        &git_own(&["commit", "-q", "--allow-empty", "-m", "ours"]),
        0,
    );
    let head = stdout(&git_own(&["rev-parse", "HEAD"])).trim().to_string();
    let (env, watched) = build_facts(&own, &[]);
    assert!(env.contains(&format!("COMMIT={head}")), "{env:?}");
    // 23:30 at UTC-5 is the next day in UTC.
    assert!(
        env.contains(&"BUILD_DATE=2027-02-26".to_string()),
        "{env:?}"
    );
    for file in ["HEAD", "logs/HEAD", "refs/heads/main"] {
        assert!(
            watched.iter().any(|w| w.ends_with(&format!(".git/{file}"))),
            "{file} not watched: {watched:?}"
        );
    }
    assert!(
        watched
            .iter()
            .all(|w| std::path::Path::new(w).exists() || w == "build.rs")
    );
}

/// A build for this machine, an x86-64 Linux with glibc, as cargo describes it to build.rs.
const LINUX_GNU: [(&str, &str); 4] = [
    ("CARGO_CFG_TARGET_OS", "linux"),
    ("CARGO_CFG_TARGET_ENV", "gnu"),
    ("TARGET", "x86_64-unknown-linux-gnu"),
    ("HOST", "x86_64-unknown-linux-gnu"),
];

/// Whether this machine's glibc reads packed relocations (2.36 and later).
fn glibc_reads_relr() -> bool {
    stdout(&run(Command::new("getconf").arg("GNU_LIBC_VERSION")))
        .trim()
        .strip_prefix("glibc 2.")
        .and_then(|minor| minor.parse::<u32>().ok())
        .is_some_and(|minor| minor >= 36)
}

/// build.rs run for a target: the link options it gives cargo.
fn link_options(env: &[(&str, &str)]) -> Vec<String> {
    let source = tempfile::tempdir().unwrap();
    run_build_script(source.path(), env)
        .lines()
        .filter(|l| l.starts_with("cargo:rustc-link-arg"))
        .map(String::from)
        .collect()
}

/// libgcc's unwinder is linked in only where the linker has it, and relocations are packed
/// only for a build for this machine whose glibc reads them.
#[test]
fn link_options_follow_the_target_and_this_machine() {
    let linux = LINUX_GNU;
    let reads_relr = glibc_reads_relr();
    let native = link_options(&linux);
    assert!(
        native.contains(
            &"cargo:rustc-link-arg=-Wl,--whole-archive,-lgcc_eh,--no-whole-archive".into()
        ),
        "{native:?}"
    );
    assert_eq!(
        native.contains(&"cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs".into()),
        reads_relr,
        "{native:?}"
    );
    // Built for another machine: its glibc is unknown.
    let mut cross = linux.to_vec();
    cross[3] = ("HOST", "aarch64-unknown-linux-gnu");
    let options = link_options(&cross);
    assert!(!options.iter().any(|o| o.contains("relocs")), "{options:?}");
    // A linker that cannot be run, so takes no option.
    let mut no_archive = linux.to_vec();
    no_archive.push(("RUSTC_LINKER", "/nonexistent/cc"));
    let options = link_options(&no_archive);
    assert!(!options.iter().any(|o| o.contains("gcc_eh")), "{options:?}");
    // Neither for musl, nor for macOS.
    let mut musl = linux.to_vec();
    musl[1] = ("CARGO_CFG_TARGET_ENV", "musl");
    assert_eq!(link_options(&musl), Vec::<String>::new());
    assert_eq!(
        link_options(&[
            ("CARGO_CFG_TARGET_OS", "macos"),
            ("TARGET", "aarch64-apple-darwin")
        ]),
        Vec::<String>::new()
    );
}

/// What the options buy, read from the binary itself: no libgcc_s.so.1 to load, and packed
/// relocations where this machine's glibc reads them.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_binary_loads_no_libgcc_s_and_packs_its_relocations() {
    let out = run(Command::new("readelf").args(["-d", env!("CARGO_BIN_EXE_tracectl")]));
    assert_exit(&out, 0);
    let dynamic = stdout(&out);
    let needed: Vec<&str> = dynamic
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.strip_suffix(']'))
        .collect();
    assert!(!needed.is_empty(), "{dynamic}");
    assert!(
        !needed.iter().any(|n| n.starts_with("libgcc_s")),
        "{needed:?}"
    );
    if glibc_reads_relr() {
        assert!(dynamic.contains("(RELR)"), "{dynamic}");
    }
}

/// An option the linker rustc will use refuses is not given: it would fail the build. The linker
/// is the one RUSTFLAGS or cargo's configuration names, run with RUSTFLAGS' link arguments
/// (`-C link-arg=-fuse-ld=gold` picks gold, which has no `-z pack-relative-relocs`).
#[test]
#[cfg(unix)]
fn link_options_are_only_those_the_linker_takes() {
    use std::os::unix::fs::PermissionsExt;
    let linux = LINUX_GNU;
    let dir = tempfile::tempdir().unwrap();
    // cc, but refusing one option, as gold refuses packed relocations and a linker without
    // libgcc_eh.a refuses -lgcc_eh.
    let refusing = |name: &str, refused: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\ncase \"$*\" in *{refused}*) exit 1;; esac\nexec cc \"$@\"\n"),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    };
    let no_relr = refusing("no-relr", "pack-relative-relocs");
    let no_eh = refusing("no-eh", "gcc_eh");
    let unwinder = "cargo:rustc-link-arg=-Wl,--whole-archive,-lgcc_eh,--no-whole-archive";
    let flags = format!("-C\x1flinker={no_relr}");
    let mut given = linux.to_vec();
    given.push(("CARGO_ENCODED_RUSTFLAGS", &flags));
    let options = link_options(&given);
    assert!(!options.iter().any(|o| o.contains("relocs")), "{options:?}");
    assert!(options.contains(&unwinder.to_string()), "{options:?}");
    let mut configured = linux.to_vec();
    configured.push(("RUSTC_LINKER", &no_eh));
    let options = link_options(&configured);
    assert!(!options.iter().any(|o| o.contains("gcc_eh")), "{options:?}");
    // Gold itself, chosen by a link argument, where it is installed.
    if run(Command::new("ld.gold").arg("--version"))
        .status
        .success()
    {
        let mut gold = linux.to_vec();
        gold.push((
            "CARGO_ENCODED_RUSTFLAGS",
            "-Clink-arg=-fuse-ld=gold\x1f-C\x1fopt-level=1",
        ));
        let options = link_options(&gold);
        assert!(!options.iter().any(|o| o.contains("relocs")), "{options:?}");
    }
}
