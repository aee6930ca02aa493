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
