//! `tracectl init` against compose files Docker Compose v2 accepts but that share nodes between
//! services (anchors and aliases), and the judge itself: a file Compose rejects must read as
//! rejected, or every "Compose accepts the result" check proves nothing.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use crate::common::*;
use crate::peers;

fn init(ctx: &TestContext, extra: &[&str]) -> Output {
    run(ctx.tracectl().args(INIT_FLAGS).args(["--yes"]).args(extra))
}

/// Docker Compose v2 with a clean environment, run in the project folder.
fn compose(ctx: &TestContext, args: &[&str]) -> Output {
    run(Command::new(peers::docker_compose())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &ctx.root)
        .args(["-f", "compose.yaml"])
        .args(args)
        .current_dir(&ctx.root))
}

/// Every service's resolved environment, as Compose v2 sees the file.
fn environments(ctx: &TestContext) -> BTreeMap<String, serde_json::Value> {
    let out = compose(ctx, &["config", "--format", "json"]);
    assert!(
        out.status.success(),
        "Compose v2 rejects the file:\n{}\n--- file\n{}",
        stderr(&out),
        ctx.read("compose.yaml")
    );
    let project: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    project["services"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, s)| (name.clone(), s["environment"].clone()))
        .collect()
}

fn project_with(text: &str) -> TestContext {
    let ctx = TestContext::empty();
    ctx.write("compose.yaml", text);
    ctx.write("api/requirements.txt", "flask\n");
    ctx.write("api/app.py", "from flask import Flask\n");
    for other in ["worker", "web", "db"] {
        ctx.write(&format!("{other}/Dockerfile"), "FROM scratch\n");
    }
    ctx
}

#[test]
fn the_compose_judge_reports_a_rejected_file_as_a_failure() {
    let ctx = project_with("services:\n  db:\n");
    let out = compose(&ctx, &["config", "-q"]);
    assert!(
        !out.status.success(),
        "Compose v2 must exit non-zero on `services.db: null`; a judge that always succeeds proves nothing"
    );
    assert!(
        stderr(&out).contains("must be a mapping"),
        "{}",
        stderr(&out)
    );
}

/// init refuses with exit 2 at `location`, every file byte-identical, and the other services
/// still resolve to what they were.
#[track_caller]
fn assert_refused_shared(text: &str, extra: &[&str], location: &str, alias_line: usize) {
    let ctx = project_with(text);
    let resolved = environments(&ctx);
    let before = ctx.snapshot();
    let out = init(&ctx, extra);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains(location), "{location} not in:\n{err}");
    assert!(
        err.contains(&format!("shared with line {alias_line}")),
        "{err}"
    );
    for internal in ["rowan", "yaml_edit", "panicked", "SyntaxNode"] {
        assert!(!err.contains(internal), "{internal} leaks:\n{err}");
    }
    assert!(ctx.snapshot() == before, "a file changed:\n{err}");
    assert_eq!(environments(&ctx), resolved);
}

#[test]
fn an_environment_anchored_in_the_backend_and_used_elsewhere_is_not_edited() {
    // Through an alias, through a merge, and as a list.
    assert_refused_shared(
        "services:\n  api:\n    build: ./api\n    environment: &env\n      A: \"1\"\n  worker:\n    build: ./worker\n    environment: *env\n",
        &[],
        "compose.yaml:4:18:",
        8,
    );
    assert_refused_shared(
        "services:\n  api:\n    build: ./api\n    environment: &env\n      A: \"1\"\n  worker:\n    build: ./worker\n    environment:\n      <<: *env\n      B: \"2\"\n",
        &[],
        "compose.yaml:4:18:",
        9,
    );
    assert_refused_shared(
        "services:\n  api:\n    build: ./api\n    environment: &env\n      - A=1\n  worker:\n    build: ./worker\n    environment: *env\n",
        &[],
        "compose.yaml:4:18:",
        8,
    );
}

#[test]
fn a_backend_that_other_services_merge_or_alias_is_not_edited() {
    assert_refused_shared(
        "services:\n  api: &api\n    build: ./api\n    environment:\n      A: \"1\"\n  worker:\n    <<: *api\n    command: work\n",
        &["--service", "api"],
        "compose.yaml:2:8:",
        7,
    );
    assert_refused_shared(
        "x-a: &svc\n  build: ./api\n  environment:\n    A: \"1\"\nservices:\n  api: *svc\n  worker: *svc\n",
        &["--service", "api"],
        "compose.yaml:1:6:",
        7,
    );
}

#[test]
fn forcing_an_anchored_value_used_elsewhere_is_refused() {
    assert_refused_shared(
        "services:\n  api:\n    build: ./api\n    environment:\n      OTEL_SERVICE_NAME: &n old\n  worker:\n    build: ./worker\n    environment:\n      OTEL_SERVICE_NAME: *n\n",
        &["--force"],
        "compose.yaml:5:26:",
        9,
    );
    assert_refused_shared(
        "services:\n  api:\n    build: ./api\n    environment:\n      - &n OTEL_SERVICE_NAME=old\n  worker:\n    build: ./worker\n    environment:\n      - *n\n",
        &["--force"],
        "compose.yaml:5:9:",
        9,
    );
    // Replacing a daemon service that another one merges would leave `*d` naming nothing.
    assert_refused_shared(
        "services:\n  api:\n    build: ./api\n  xray-daemon: &d\n    image: amazon/aws-xray-daemon\n  web:\n    <<: *d\n",
        &["--force"],
        "compose.yaml:4:16:",
        7,
    );
}

#[test]
fn anchors_only_the_backend_uses_are_edited_and_other_services_keep_their_environment() {
    for (text, extra) in [
        // The backend is the anchor's only user.
        (
            "x-a: &svc\n  build: ./api\n  environment:\n    A: \"1\"\nservices:\n  api: *svc\n  db:\n    build: ./db\n",
            &["--service", "api"][..],
        ),
        // The anchor is redefined before the alias, which names the later one.
        (
            "services:\n  api:\n    build: ./api\n    environment: &env\n      A: \"1\"\n  worker:\n    build: ./worker\n    environment: &env\n      B: \"1\"\n  web:\n    build: ./web\n    environment: *env\n",
            &["--service", "api"][..],
        ),
        // Without --force the anchored value stays as it is.
        (
            "services:\n  api:\n    build: ./api\n    environment:\n      OTEL_SERVICE_NAME: &n old\n  worker:\n    build: ./worker\n    environment:\n      OTEL_SERVICE_NAME: *n\n",
            &[][..],
        ),
    ] {
        let ctx = project_with(text);
        let before = environments(&ctx);
        let out = init(&ctx, extra);
        assert_exit(&out, 0);
        let after = environments(&ctx);
        for (name, env) in &before {
            if name != "api" {
                assert_eq!(
                    &after[name],
                    env,
                    "{name} changed:\n{}",
                    ctx.read("compose.yaml")
                );
            }
        }
        let api = after["api"].as_object().unwrap();
        assert!(api.contains_key("OTEL_EXPORTER_OTLP_ENDPOINT"), "{api:?}");
        for key in before["api"].as_object().into_iter().flat_map(|e| e.keys()) {
            assert!(api.contains_key(key), "api lost {key}");
        }
        let written = ctx.read("compose.yaml");
        assert_exit(&init(&ctx, extra), 0);
        assert_eq!(
            ctx.read("compose.yaml"),
            written,
            "the second run changed it"
        );
    }
}

#[test]
fn an_environment_tagged_as_a_mapping_takes_the_variables_and_keeps_its_tag() {
    let text = "services:\n  api:\n    build: ./api\n    environment: !!map\n      A: \"1\"\n";
    let ctx = project_with(text);
    environments(&ctx);
    let out = init(&ctx, &[]);
    assert_exit(&out, 0);
    let written = ctx.read("compose.yaml");
    assert!(written.starts_with(text), "{written}");
    let api = environments(&ctx)["api"].clone();
    assert_eq!(api["A"], "1");
    assert!(api.get("OTEL_EXPORTER_OTLP_ENDPOINT").is_some(), "{api}");
    assert_exit(&init(&ctx, &[]), 0);
    assert_eq!(ctx.read("compose.yaml"), written);
}
