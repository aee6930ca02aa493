//! `tracectl init` on fixture projects: exact output files, idempotence, bad input, secrets.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use crate::peers;

/// The project must hold exactly the files of `expected` (stored `dot-NAME` for `.NAME`), byte for
/// byte: a missing, changed or extra file fails. TRACECTL_BLESS=1 rewrites `expected`.
fn assert_tree(ctx: &TestContext, expected: &str) {
    let dir = fixtures().join(expected);
    let bless = std::env::var_os("TRACECTL_BLESS").is_some();
    let mut want = std::collections::BTreeMap::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&dir).unwrap().to_string_lossy();
            let actual_rel = rel
                .split('/')
                .map(|part| {
                    part.strip_prefix("dot-")
                        .map(|n| format!(".{n}"))
                        .unwrap_or(part.to_string())
                })
                .collect::<Vec<_>>()
                .join("/");
            if bless && let Ok(actual) = std::fs::read(ctx.path(&actual_rel)) {
                std::fs::write(&path, actual).unwrap();
            }
            want.insert(
                std::path::PathBuf::from(actual_rel),
                std::fs::read(&path).unwrap(),
            );
        }
    }
    let actual = ctx.snapshot();
    let missing: Vec<_> = want.keys().filter(|p| !actual.contains_key(*p)).collect();
    let extra: Vec<_> = actual.keys().filter(|p| !want.contains_key(*p)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the project differs from {expected}: missing {missing:?}, extra {extra:?}"
    );
    for (path, bytes) in &want {
        let (got, _) = &actual[path];
        assert!(
            got == bytes,
            "{} differs from {expected}\n--- actual\n{}",
            path.display(),
            String::from_utf8_lossy(got)
        );
    }
}

#[test]
fn the_golden_tree_comparison_fails_on_an_extra_or_missing_file() {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&init_cruddur(&ctx), 0);
    ctx.write("backend-flask/stray.txt", "not expected");
    let extra = std::panic::catch_unwind(|| assert_tree(&ctx, "cruddur.expected"));
    assert!(extra.is_err(), "an extra file went unnoticed");
    std::fs::remove_file(ctx.path("backend-flask/stray.txt")).unwrap();
    std::fs::remove_file(ctx.path("backend-flask/Dockerfile")).unwrap();
    let missing = std::panic::catch_unwind(|| assert_tree(&ctx, "cruddur.expected"));
    assert!(missing.is_err(), "a missing file went unnoticed");
}

fn init_cruddur(ctx: &TestContext) -> std::process::Output {
    run(ctx
        .tracectl()
        .args([
            "init",
            "--aws-region",
            "eu-west-3",
            "--sampling-rule",
            "--xray-via",
            "daemon",
        ])
        .env("HONEYCOMB_API_KEY", INGEST_US))
}

#[test]
fn cruddur_gets_the_recipe_byte_for_byte() {
    let ctx = TestContext::fixture("cruddur");
    let out = init_cruddur(&ctx);
    assert_exit(&out, 0);
    assert_tree(&ctx, "cruddur.expected");
    let mode = std::fs::metadata(ctx.path(".env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let text = stdout(&out);
    assert!(text.contains("Updated docker-compose.yml"), "{text}");
    // zero-code by default: the Dockerfile's CMD is wrapped, and the report says where and why.
    assert!(
        text.contains("backend-flask/Dockerfile:8 (CMD) runs: opentelemetry-instrument python3 -m flask run --no-reload"),
        "{text}"
    );
    assert!(text.contains("the image's CMD runs"), "{text}");
    assert!(text.contains("tracectl send-test"), "{text}");
}

#[test]
fn list_style_anchors_and_existing_env_file_are_kept() {
    let ctx = TestContext::fixture("listy");
    let out = run(ctx.tracectl().args([
        "init",
        "--xray-via",
        "daemon",
        "--honeycomb-api-key",
        INGEST_EU,
        "--aws-region",
        "eu-west-3",
    ]));
    assert_exit(&out, 0);
    assert_tree(&ctx, "listy.expected");
    // The existing, different OTEL_SERVICE_NAME stays and is reported.
    let text = stdout(&out);
    assert!(text.contains("Kept OTEL_SERVICE_NAME=orders-api"), "{text}");
}

#[test]
fn written_compose_files_pass_docker_compose_config() {
    let dc = peers::docker_compose();
    for (fixture, file) in [("cruddur", "docker-compose.yml"), ("listy", "compose.yaml")] {
        let ctx = TestContext::fixture(fixture);
        let out = run(ctx.tracectl().args(INIT_FLAGS));
        assert_exit(&out, 0);
        run_ok(
            std::process::Command::new(&dc)
                .args(["-f", file, "config", "-q"])
                .current_dir(&ctx.root)
                .env("AWS_ACCESS_KEY_ID", "x")
                .env("AWS_SECRET_ACCESS_KEY", "y"),
        );
    }
}

#[test]
fn second_run_changes_no_byte_and_says_so() {
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&init_cruddur(&ctx), 0);
    let before = ctx.snapshot();
    let out = init_cruddur(&ctx);
    assert_exit(&out, 0);
    assert_eq!(before, ctx.snapshot());
    assert!(
        stdout(&out).contains("Nothing to change"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn dry_run_prints_diffs_and_writes_nothing() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    let out = run(ctx.tracectl().args([
        "init",
        "--xray-via",
        "daemon",
        "--dry-run",
        "--aws-region",
        "eu-west-3",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    assert_eq!(before, ctx.snapshot());
    let text = stdout(&out);
    assert!(
        text.contains("--- a/docker-compose.yml\n+++ b/docker-compose.yml"),
        "{text}"
    );
    assert!(
        text.contains("+      OTEL_EXPORTER_OTLP_ENDPOINT: \"https://api.honeycomb.io\""),
        "{text}"
    );
    assert!(text.contains("+++ b/.env"), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
}

#[test]
fn json_output_is_a_stable_object() {
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx.tracectl().args([
        "--format",
        "json",
        "init",
        "--xray-via",
        "daemon",
        "--aws-region",
        "eu-west-3",
        "--honeycomb-api-key",
        INGEST_US,
    ]));
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["command"], "init");
    assert_eq!(v["changed"], true);
    assert_eq!(v["project"]["service"], "backend-flask");
    assert_eq!(
        v["settings"]["honeycomb"]["endpoint"],
        "https://api.honeycomb.io"
    );
    assert_eq!(v["settings"]["xray"]["region"], "eu-west-3");
    assert_eq!(v["plan"]["daemon_service"], "added");
    let files = v["files"].as_array().unwrap();
    let compose = files
        .iter()
        .find(|f| f["path"] == "docker-compose.yml")
        .unwrap();
    assert_eq!(compose["action"], "modified");
    let env = files.iter().find(|f| f["path"] == ".env").unwrap();
    assert_eq!(env["action"], "created");
    assert!(
        v["next_steps"]["app_py"]
            .as_str()
            .unwrap()
            .contains("OTLPSpanExporter()")
    );
}

fn assert_untouched_failure(ctx: &TestContext, args: &[&str], code: i32, needles: &[&str]) {
    let before = ctx.snapshot();
    let out = run(ctx.tracectl().args(args));
    assert_exit(&out, code);
    let err = stderr(&out);
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    assert_eq!(before, ctx.snapshot(), "files changed after a failure");
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let ctx = TestContext::fixture("cruddur");
    let text = ctx.read("docker-compose.yml").replace(
        "    ports:\n      - \"4567:4567\"",
        "    ports: [\"4567:4567\"\n",
    );
    ctx.write("docker-compose.yml", &text);
    assert_untouched_failure(&ctx, &INIT_FLAGS, 2, &["docker-compose.yml:", "error:"]);
    let out = run(ctx.tracectl().args(INIT_FLAGS));
    let err = stderr(&out);
    let position = err.split("docker-compose.yml:").nth(1).unwrap();
    let mut parts = position.split(':');
    assert!(
        parts.next().unwrap().parse::<usize>().unwrap() >= 8,
        "{err}"
    );
    assert!(parts.next().unwrap().parse::<usize>().is_ok(), "{err}");
}

#[test]
fn compose_without_services_is_refused() {
    let ctx = TestContext::fixture("cruddur");
    ctx.write(
        "docker-compose.yml",
        "version: \"3.8\"\nvolumes:\n  db: {}\n",
    );
    assert_untouched_failure(
        &ctx,
        &INIT_FLAGS,
        2,
        &["docker-compose.yml", "no `services` mapping"],
    );
}

#[test]
fn unknown_service_lists_the_real_ones() {
    let ctx = TestContext::fixture("cruddur");
    let mut args = INIT_FLAGS.to_vec();
    args.extend(["--service", "backend"]);
    assert_untouched_failure(
        &ctx,
        &args,
        2,
        &["no service 'backend'", "backend-flask, frontend-react-js"],
    );
}

#[test]
fn unparseable_env_file_line_is_reported() {
    let ctx = TestContext::fixture("listy");
    ctx.write(".env", "# ok\nGOOD=1\nNOT A VALID LINE\n");
    assert_untouched_failure(&ctx, &INIT_FLAGS, 2, &[".env:3:"]);
}

#[test]
fn missing_key_without_a_terminal_names_flag_and_variable() {
    let ctx = TestContext::fixture("cruddur");
    assert_untouched_failure(
        &ctx,
        &["init", "--aws-region", "eu-west-3"],
        2,
        &[
            "missing Honeycomb API key",
            "--honeycomb-api-key",
            "HONEYCOMB_API_KEY",
        ],
    );
    assert_untouched_failure(
        &ctx,
        &["init", "--honeycomb-api-key", INGEST_US],
        2,
        &["--aws-region", "AWS_REGION"],
    );
}

#[test]
fn mistyped_region_gets_a_suggestion() {
    let ctx = TestContext::fixture("cruddur");
    assert_untouched_failure(
        &ctx,
        &[
            "init",
            "--aws-region",
            "eu-wset-3",
            "--honeycomb-api-key",
            INGEST_US,
        ],
        2,
        &[
            "'eu-wset-3' is not an AWS region",
            "did you mean eu-west-3?",
        ],
    );
}

#[test]
fn classic_key_without_dataset_is_refused_and_with_one_sends_the_header() {
    let ctx = TestContext::fixture("cruddur");
    let classic = "430eb2f22c137f6ff63980a3a332b4ac";
    assert_untouched_failure(
        &ctx,
        &["init", "--no-xray", "--honeycomb-api-key", classic],
        2,
        &["needs a dataset", "--dataset"],
    );
    let out = run(ctx.tracectl().args([
        "init",
        "--no-xray",
        "--honeycomb-api-key",
        classic,
        "--dataset",
        "cruddur",
    ]));
    assert_exit(&out, 0);
    let compose = ctx.read("docker-compose.yml");
    assert!(
        compose.contains(
            "x-honeycomb-team=${HONEYCOMB_API_KEY},x-honeycomb-dataset=${HONEYCOMB_DATASET}"
        ),
        "{compose}"
    );
    assert!(ctx.read(".env").contains("HONEYCOMB_DATASET=cruddur\n"));
    assert!(!compose.contains("xray-daemon"), "{compose}");
}

#[test]
fn read_only_folder_fails_and_changes_nothing() {
    let ctx = TestContext::fixture("cruddur");
    // Root ignores permission bits, so the run drops to an unprivileged user when needed.
    let temp_parent = ctx.root.parent().unwrap();
    std::fs::set_permissions(temp_parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&ctx.root, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = ctx.snapshot();
    let mut cmd = ctx.tracectl();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let out = if is_root {
        let mut wrapped = std::process::Command::new("setpriv");
        wrapped
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_tracectl"),
            ])
            .args(INIT_FLAGS)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent")
            .current_dir(&ctx.root);
        run(&mut wrapped)
    } else {
        run(cmd.args(INIT_FLAGS))
    };
    std::fs::set_permissions(&ctx.root, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("cannot write in") && err.contains("project"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(before, ctx.snapshot());
}

#[test]
fn existing_values_are_kept_unless_forced() {
    let ctx = TestContext::fixture("cruddur");
    let text = ctx.read("docker-compose.yml").replace(
        "      BACKEND_URL:",
        "      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=0123456789abcdef0123456789abcdef\"\n      BACKEND_URL:",
    );
    ctx.write("docker-compose.yml", &text);
    let out = run(ctx.tracectl().args(INIT_FLAGS));
    assert_exit(&out, 0);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("holds a literal secret"), "{all}");
    assert!(!all.contains("0123456789abcdef0123456789abcdef"), "{all}");
    assert!(
        ctx.read("docker-compose.yml")
            .contains("team=0123456789abcdef0123456789abcdef")
    );

    let out = run(ctx.tracectl().args(INIT_FLAGS).arg("--force"));
    assert_exit(&out, 0);
    let compose = ctx.read("docker-compose.yml");
    assert!(
        !compose.contains("0123456789abcdef0123456789abcdef"),
        "{compose}"
    );
    assert!(
        compose.contains("OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team=${HONEYCOMB_API_KEY}\""),
        "{compose}"
    );
}

#[test]
fn several_flask_services_without_a_terminal_are_listed() {
    let ctx = TestContext::fixture("listy");
    ctx.write("worker/app.py", "from flask import Flask\n");
    assert_untouched_failure(
        &ctx,
        &INIT_FLAGS,
        2,
        &[
            "several services could be the backend: api, worker",
            "--service",
        ],
    );
    let mut args = INIT_FLAGS.to_vec();
    args.extend(["--service", "worker"]);
    assert_exit(&run(ctx.tracectl().args(args)), 0);
    assert!(
        ctx.read("worker/requirements.txt")
            .contains("opentelemetry-sdk")
    );
}

#[test]
fn dir_flag_runs_elsewhere() {
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx
        .tracectl()
        .current_dir(ctx.root.parent().unwrap())
        .arg("-C")
        .arg(&ctx.root)
        .args(INIT_FLAGS));
    assert_exit(&out, 0);
    assert!(ctx.read("docker-compose.yml").contains("xray-daemon"));
    let out = run(ctx
        .tracectl()
        .args(["-C", "/nonexistent/x"])
        .args(INIT_FLAGS));
    assert_exit(&out, 2);
}

#[test]
fn planted_key_never_appears_in_any_output() {
    let ctx = TestContext::fixture("cruddur");
    let runs: Vec<Vec<&str>> = vec![
        vec!["init", "--dry-run", "--aws-region", "eu-west-3", "-v"],
        vec![
            "--format",
            "json",
            "init",
            "--dry-run",
            "--aws-region",
            "eu-west-3",
        ],
        vec!["init", "--aws-region", "eu-west-3"],
        vec!["--format", "json", "init", "--aws-region", "eu-west-3"],
        vec!["init", "--aws-region", "eu-wset-3"],
        vec![
            "init",
            "--aws-region",
            "eu-west-3",
            "--honeycomb-region",
            "eu",
        ],
    ];
    for args in runs {
        let out = run(ctx
            .tracectl()
            .args(&args)
            .env("HONEYCOMB_API_KEY", INGEST_US)
            .env("GITPOD_WORKSPACE_ID", "ws-1"));
        for stream in [stdout(&out), stderr(&out)] {
            assert!(
                !stream.contains(INGEST_US),
                "{args:?} printed the key:\n{stream}"
            );
        }
    }
    // A key that is not even well formed is not echoed back either.
    let bad = format!("{INGEST_US}zz");
    let out = run(ctx.tracectl().args([
        "init",
        "--aws-region",
        "eu-west-3",
        "--honeycomb-api-key",
        &bad,
    ]));
    assert_exit(&out, 2);
    assert!(!stderr(&out).contains(&bad[..30]), "{}", stderr(&out));
}

#[test]
fn gitpod_users_get_gp_env_lines_with_the_key_masked() {
    let ctx = TestContext::fixture("cruddur");
    let out = run(ctx
        .tracectl()
        .args(INIT_FLAGS)
        .env("GITPOD_WORKSPACE_ID", "ws-1"));
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("gp env HONEYCOMB_API_KEY=\"hcaik_0…(redacted)\""),
        "{text}"
    );
    assert!(text.contains("gp env AWS_REGION=\"eu-west-3\""), "{text}");
    let compose = ctx.read("docker-compose.yml");
    assert!(
        compose.contains(
            "AWS_XRAY_URL: \"*4567-${GITPOD_WORKSPACE_ID}.${GITPOD_WORKSPACE_CLUSTER_HOST}*\""
        ),
        "{compose}"
    );
}

#[test]
fn single_string_daemon_command_is_flagged_and_force_replaces_it() {
    let ctx = TestContext::fixture("cruddur");
    let text = ctx.read("docker-compose.yml").replace(
        "  frontend-react-js:",
        "  xray-daemon:\n    image: \"amazon/aws-xray-daemon\"\n    command:\n      - \"xray -o -b xray-daemon:2000\"\n  frontend-react-js:",
    );
    ctx.write("docker-compose.yml", &text);
    let out = run(ctx.tracectl().args(INIT_FLAGS));
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("is one string"), "{}", stderr(&out));
    assert!(
        ctx.read("docker-compose.yml")
            .contains("xray -o -b xray-daemon:2000")
    );
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS).arg("--force")), 0);
    let compose = ctx.read("docker-compose.yml");
    assert!(!compose.contains("xray -o -b"), "{compose}");
    assert!(
        compose.contains("      - \"-o\"\n      - \"-n\"\n      - \"${AWS_REGION}\"\n"),
        "{compose}"
    );
    assert_eq!(compose.matches("xray-daemon:\n").count(), 1, "{compose}");
    assert!(compose.contains("  frontend-react-js:"), "{compose}");
}

#[test]
fn requirements_only_gain_missing_packages() {
    let ctx = TestContext::fixture("listy");
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS)), 0);
    let req = ctx.read("api/requirements.txt");
    assert!(
        req.starts_with("# web\nFlask==3.0.3\ngunicorn>=22  # server\nOpenTelemetry_API==1.27.0\n"),
        "{req}"
    );
    assert!(
        !req.contains("\nopentelemetry-api\n"),
        "normalised name already listed: {req}"
    );
    assert_eq!(req.matches("aws-xray-sdk").count(), 1);
}

#[test]
fn env_file_gets_ignored_by_git() {
    let ctx = TestContext::fixture("cruddur");
    std::fs::remove_file(ctx.path(".gitignore")).unwrap();
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS)), 0);
    assert_eq!(ctx.read(".gitignore"), ".env\n");
}
