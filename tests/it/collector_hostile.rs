//! `init --migrate` and `init --xray-via collector` on hand-written compose files: every result
//! is accepted by Docker Compose v2, keeps the user's lines in order and is a fixed point; every
//! refusal exits 2 naming file and line and writes nothing.

use std::process::Command;
use std::time::Duration;

use crate::common::*;
use crate::peers;

/// The cruddur project with `compose` as its docker-compose.yml.
fn project(compose: &str) -> TestContext {
    let ctx = TestContext::fixture("cruddur");
    ctx.write("docker-compose.yml", compose);
    ctx
}

fn compose_check(ctx: &TestContext) -> Result<(), String> {
    let out = output_within(
        Command::new(peers::docker_compose())
            .args(["config", "-q"])
            .current_dir(&ctx.root)
            .env_clear()
            .envs([("AWS_REGION", "eu-west-3")]),
        Duration::from_secs(30),
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(stderr(&out))
    }
}

/// Every line of `before` not naming one of `removed` is in `after`, in order.
fn kept_in_order(before: &str, after: &str, removed: &[&str]) {
    let mut rest = after.lines();
    for line in before
        .lines()
        .filter(|l| !removed.iter().any(|r| l.contains(r)))
    {
        assert!(
            rest.any(|a| a == line),
            "line {line:?} was lost or moved:\n{after}"
        );
    }
}

/// `args` succeed: the dry run writes nothing and shows every added line, Compose accepts the
/// result, the user's lines stay in order, and a second run changes nothing.
fn succeeds(ctx: &TestContext, args: &[&str], removed: &[&str]) -> String {
    compose_check(ctx).expect("the hand-written file itself is valid");
    let before = ctx.snapshot();
    let original = ctx.read("docker-compose.yml");
    let dry = run(ctx.tracectl().args(args).arg("--dry-run"));
    assert_exit(&dry, 0);
    assert_eq!(ctx.snapshot(), before, "--dry-run wrote");
    let out = run(ctx.tracectl().args(args));
    assert_exit(&out, 0);
    let text = ctx.read("docker-compose.yml");
    if let Err(e) = compose_check(ctx) {
        panic!("Compose v2 rejects the result: {e}\n{text}");
    }
    let diff = stdout(&dry);
    let mut old = original.lines().collect::<Vec<_>>();
    for line in text.lines() {
        if let Some(i) = old.iter().position(|o| *o == line) {
            old.drain(..=i);
        } else {
            assert!(
                diff.contains(&format!("+{line}")),
                "{line:?} was written but not in the dry run:\n{diff}"
            );
        }
    }
    kept_in_order(&original, &text, removed);
    let written = ctx.snapshot();
    let again = run(ctx.tracectl().args(args));
    assert_exit(&again, 0);
    assert_eq!(ctx.snapshot(), written, "the second run changed a file");
    text
}

/// `args` are refused: exit 2, the file and a line named, nothing written.
fn refused(ctx: &TestContext, args: &[&str], line: usize) -> String {
    let err = refused_unchanged(ctx, args);
    assert!(
        err.contains(&format!("docker-compose.yml:{line}"))
            || err.contains(&format!("line {line}")),
        "no file:line {line} in: {err}"
    );
    err
}

/// `args` are refused: exit 2 and nothing written; the error.
fn refused_unchanged(ctx: &TestContext, args: &[&str]) -> String {
    applied_or_refused(ctx, args).expect_err("the run succeeded")
}

/// `args` either succeed with a file Compose accepts (`Ok`, the file) or are refused with exit 2
/// and nothing written (`Err`, the error): both keep the user's project working.
fn applied_or_refused(ctx: &TestContext, args: &[&str]) -> Result<String, String> {
    let before = ctx.snapshot();
    let out = run(ctx.tracectl().args(args));
    if out.status.success() {
        compose_check(ctx).unwrap_or_else(|e| panic!("Compose v2 rejects the result: {e}"));
        return Ok(ctx.read("docker-compose.yml"));
    }
    assert_exit(&out, 2);
    assert_eq!(ctx.snapshot(), before, "a refused run wrote");
    Err(stderr(&out))
}

const MIGRATE: &[&str] = &["init", "--migrate"];
const DAEMON_LINES: &[&str] = &[
    "AWS_XRAY_URL",
    "AWS_XRAY_DAEMON_ADDRESS",
    "aws-xray-daemon",
    "\"-o\"",
    "2000:2000/udp",
];

/// The names under a service's `key` (`depends_on`, `networks`) as Compose v2 resolves them.
fn resolved_names(ctx: &TestContext, service: &str, key: &str) -> Vec<String> {
    let out = output_within(
        Command::new(peers::docker_compose())
            .args(["config", "--format", "json"])
            .current_dir(&ctx.root)
            .env_clear()
            .envs([("AWS_REGION", "eu-west-3")]),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["services"][service][key]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn depends_on(ctx: &TestContext, service: &str) -> Vec<String> {
    resolved_names(ctx, service, "depends_on")
}

#[test]
fn services_that_wait_for_the_daemon_by_name_wait_for_the_collector() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_URL: \"*4567*\"
      AWS_XRAY_DAEMON_ADDRESS: \"xray:2000\"
    depends_on:
      - xray
  frontend-react-js:
    build: ./frontend-react-js
    depends_on: [xray, backend-flask]
  xray:
    image: amazon/aws-xray-daemon
    command: [\"xray\", \"-o\", \"-b\", \"xray:2000\"]
    ports:
      - \"2000:2000/udp\"
",
    );
    let text = succeeds(
        &ctx,
        MIGRATE,
        &[
            DAEMON_LINES,
            &["  xray:", "    ports:", "- xray", "[xray, "],
        ]
        .concat(),
    );
    assert!(
        text.contains("    depends_on:\n      - otel-collector\n"),
        "{text}"
    );
    assert!(
        text.contains("    depends_on: [otel-collector, backend-flask]\n"),
        "{text}"
    );
    assert_eq!(depends_on(&ctx, "backend-flask"), ["otel-collector"]);
    assert_eq!(
        depends_on(&ctx, "frontend-react-js"),
        ["backend-flask", "otel-collector"]
    );
    let out = run(ctx.tracectl().args(MIGRATE).arg("--dry-run"));
    assert!(
        stdout(&out).contains("Nothing to change"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn links_and_long_depends_on_keep_their_alias_quotes_comments_and_conditions() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      - AWS_XRAY_DAEMON_ADDRESS=xray-daemon:2000   # the SDK's
      # keep this comment
      - FLASK_ENV=development
    links:
      - \"xray-daemon:xray\"   # the alias the app used
    depends_on:
      xray-daemon:
        condition: service_started
  frontend-react-js:
    build: ./frontend-react-js
    links: ['xray-daemon']
  xray-daemon:
    image: amazon/aws-xray-daemon
    ports:
      - \"2000:2000/udp\"
",
    );
    let out = run(ctx.tracectl().args(MIGRATE));
    assert_exit(&out, 0);
    for (line, said) in [
        (9, "backend-flask's links"),
        (11, "backend-flask's depends_on"),
        (15, "frontend-react-js's links"),
    ] {
        assert!(
            stdout(&out).contains(&format!(
                "{said} (line {line}) names otel-collector instead"
            )),
            "{said} at {line}: {}",
            stdout(&out)
        );
    }
    compose_check(&ctx).unwrap();
    let text = ctx.read("docker-compose.yml");
    for kept in [
        "      - \"otel-collector:xray\"   # the alias the app used\n",
        "      otel-collector:\n        condition: service_started\n",
        "    links: ['otel-collector']\n",
        "      # keep this comment\n",
    ] {
        assert!(text.contains(kept), "{kept:?} not in:\n{text}");
    }
    assert!(!text.contains("xray-daemon"), "{text}");
    assert_eq!(depends_on(&ctx, "backend-flask"), ["otel-collector"]);
}

#[test]
fn a_service_sharing_the_daemons_volumes_or_network_is_refused_naming_the_line() {
    for (key, value, line) in [
        ("volumes_from", "[xray-daemon]", 6),
        ("network_mode", "\"service:xray-daemon\"", 6),
    ] {
        let ctx = project(&format!(
            "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
    {key}: {value}
    depends_on: [xray-daemon]
  xray-daemon:
    image: amazon/aws-xray-daemon
"
        ));
        compose_check(&ctx).unwrap();
        let err = refused(&ctx, MIGRATE, line);
        assert!(err.contains(key), "{err}");
        assert!(
            err.contains("shares neither volumes nor a network"),
            "{err}"
        );
    }
}

#[test]
fn crlf_daemon_setup_is_migrated_with_crlf_kept() {
    let ctx = project(
        &"services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
  xray-daemon:
    image: amazon/aws-xray-daemon
"
        .replace('\n', "\r\n"),
    );
    let text = succeeds(&ctx, MIGRATE, &[DAEMON_LINES, &["xray-daemon"]].concat());
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "mixed line ends: {text:?}"
    );
}

#[test]
fn a_daemon_whose_anchor_other_services_merge_is_refused_with_its_line() {
    let ctx = project(
        "services:
  xray-daemon: &base
    image: amazon/aws-xray-daemon
    restart: always
  backend-flask:
    <<: *base
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
",
    );
    compose_check(&ctx).unwrap();
    refused(&ctx, MIGRATE, 2);
}

#[test]
fn a_daemon_in_flow_style_is_migrated_or_refused_with_its_line() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
  xray-daemon: {image: amazon/aws-xray-daemon, ports: [\"2000:2000/udp\"]}
",
    );
    if let Err(err) = applied_or_refused(&ctx, MIGRATE) {
        assert!(err.contains("docker-compose.yml:6"), "{err}");
    }
}

#[test]
fn two_daemons_are_refused_naming_both() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
  worker:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray2:2000\"
  xray-daemon:
    image: amazon/aws-xray-daemon
  xray2:
    image: public.ecr.aws/xray/aws-xray-daemon:latest
",
    );
    // The worker still sends to xray2: keeping it is fine, losing it is not.
    if let Ok(text) = applied_or_refused(&ctx, MIGRATE) {
        assert!(text.contains("  xray2:"));
    }
}

#[test]
fn a_daemon_address_on_a_host_outside_compose_says_nothing_to_migrate() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"host.docker.internal:2000\"
",
    );
    refused_unchanged(&ctx, MIGRATE);
}

#[test]
fn a_daemon_next_to_the_users_own_otel_collector_is_refused_with_both_lines() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
  xray-daemon:
    image: amazon/aws-xray-daemon
  otel-collector:
    image: otel/opentelemetry-collector-contrib
",
    );
    refused(&ctx, MIGRATE, 8);
}

const COLLECTOR: &[&str] = &[
    "init",
    "--xray-via",
    "collector",
    "--aws-region",
    "eu-west-3",
    "--no-honeycomb",
];

#[test]
fn collector_mode_with_the_users_own_otel_collector_is_refused_with_its_line() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
  otel-collector:
    image: otel/opentelemetry-collector-contrib
    ports:
      - \"4318:4318\"
",
    );
    if let Ok(text) = applied_or_refused(&ctx, COLLECTOR) {
        // Kept as the user's: the backend may point at it, the user's service is untouched.
        assert!(
            text.contains("otel/opentelemetry-collector-contrib"),
            "{text}"
        );
        assert!(
            !text.contains("streamfold/rotel"),
            "a second collector? {text}"
        );
    }
}

#[test]
fn collector_mode_on_a_backend_inheriting_its_environment_is_refused_naming_the_line() {
    let ctx = project(
        "x-env: &env
  environment:
    - FLASK_ENV=development  # dev
services:
  backend-flask:
    <<: *env
    build: ./backend-flask
  jaeger:
    image: jaegertracing/all-in-one
    ports:
      - \"4318:4318\"
",
    );
    compose_check(&ctx).unwrap();
    refused(&ctx, COLLECTOR, 2);
}

#[test]
fn collector_mode_with_port_4318_published_by_another_service_is_valid() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      - FLASK_ENV=development  # dev
  jaeger:
    image: jaegertracing/all-in-one
    ports:
      - \"4318:4318\"
",
    );
    let text = succeeds(&ctx, COLLECTOR, &[]);
    assert!(!text.contains("\"4318:4318\"\n      - \"4318"), "{text}");
}

#[test]
fn collector_mode_with_list_env_on_a_crlf_file_is_valid() {
    let ctx = project(
        &"services:
  backend-flask:
    build: ./backend-flask
    environment:
      - FLASK_ENV=development  # dev
      # a comment
      - A=b
"
        .replace('\n', "\r\n"),
    );
    let text = succeeds(&ctx, COLLECTOR, &[]);
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "mixed line ends: {text:?}"
    );
    assert!(!text.contains("AKIA"), "{text}");
}

fn networks_of(ctx: &TestContext, service: &str) -> Vec<String> {
    resolved_names(ctx, service, "networks")
}

#[test]
fn a_depends_on_merged_from_an_anchor_names_the_collector_and_the_collector_keeps_the_daemons_networks()
 {
    let ctx = project(
        "x-deps: &deps
  xray-daemon:
    condition: service_started
services:
  backend-flask:
    build: ./backend-flask
    environment:
      - AWS_XRAY_DAEMON_ADDRESS=xray-daemon:2000
    networks: [backend]
    depends_on:
      <<: *deps
      db:
        condition: service_started
  db:
    image: postgres
    networks: [backend]
  xray-daemon:
    image: amazon/aws-xray-daemon
    networks:
      - backend
networks:
  backend: {}
",
    );
    let text = succeeds(
        &ctx,
        MIGRATE,
        &[DAEMON_LINES, &["  xray-daemon:", "- backend", "networks:"]].concat(),
    );
    assert!(
        text.contains("x-deps: &deps\n  otel-collector:\n"),
        "{text}"
    );
    assert_eq!(depends_on(&ctx, "backend-flask"), ["db", "otel-collector"]);
    assert_eq!(networks_of(&ctx, "otel-collector"), ["backend"]);
}

#[test]
fn a_new_collector_joins_the_backends_networks() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    networks:
      internal:
        aliases: [api]
networks:
  internal: {}
",
    );
    let out = run(ctx.tracectl().args([
        "init",
        "--xray-via",
        "collector",
        "--no-honeycomb",
        "--aws-region",
        "eu-west-3",
        "--instrument",
        "none",
    ]));
    assert_exit(&out, 0);
    compose_check(&ctx).unwrap();
    assert_eq!(networks_of(&ctx, "otel-collector"), ["internal"]);
}

#[test]
fn what_migrate_cannot_see_or_move_is_refused_naming_the_place() {
    let daemon = "  xray-daemon:\n    image: amazon/aws-xray-daemon\n";
    let backend = "  backend-flask:\n    build: ./backend-flask\n    environment:\n      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"\n";
    for (extra, files, words) in [
        (
            "  debug:\n    extends: xray-daemon\n",
            vec![],
            "names the X-Ray daemon xray-daemon in `extends`",
        ),
        (
            "  debug:\n    extends:\n      service: xray-daemon\n",
            vec![],
            "in `extends`",
        ),
        (
            "  debug:\n    image: busybox\n    ipc: \"service:xray-daemon\"\n",
            vec![],
            "in `ipc`",
        ),
        (
            "  debug:\n    image: busybox\n    pid: service:xray-daemon\n",
            vec![],
            "in `pid`",
        ),
        (
            "  debug:\n    extends:\n      file: common.yaml\n      service: traced\n",
            vec![(
                "common.yaml",
                "services:\n  traced:\n    image: busybox\n    depends_on: [xray-daemon]\n",
            )],
            "common.yaml (line",
        ),
    ] {
        let ctx = project(&format!("services:\n{backend}{extra}{daemon}"));
        for (name, text) in &files {
            ctx.write(name, text);
        }
        let err = refused_unchanged(&ctx, MIGRATE);
        assert!(err.contains(words), "{words:?} not in: {err}");
    }
    // An included file is judged by what it says: naming the daemon stops the migration, not
    // naming it lets it through.
    let ctx = project(&format!(
        "include:\n  - extra.yaml\nservices:\n{backend}{daemon}"
    ));
    ctx.write(
        "extra.yaml",
        "services:\n  worker:\n    image: busybox\n    depends_on: [xray-daemon]\n",
    );
    let err = refused_unchanged(&ctx, MIGRATE);
    assert!(
        err.contains("extra.yaml (line 2) names the X-Ray daemon"),
        "{err}"
    );
    ctx.write("extra.yaml", "services:\n  worker:\n    image: busybox\n");
    succeeds(&ctx, MIGRATE, &[DAEMON_LINES, &["  xray-daemon:"]].concat());
    // A backend on the host's network cannot resolve the collector's name.
    let ctx = project(&format!(
        "services:\n{backend}    network_mode: host\n{daemon}"
    ));
    let err = refused(&ctx, MIGRATE, 6);
    assert!(err.contains("network_mode: host"), "{err}");
}

#[test]
fn the_daemon_is_found_by_any_address_form_or_by_its_image_and_other_senders_are_named() {
    for address in [
        "tcp:tracer:2000 udp:tracer:2000",
        "${XRAY_ADDR:-tracer:2000}",
        "127.0.0.1:2000",
    ] {
        let ctx = project(&format!(
            "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"{address}\"
  worker:
    image: busybox
    environment:
      - AWS_XRAY_DAEMON_ADDRESS=tracer:2000
  tracer:
    image: public.ecr.aws/xray/aws-xray-daemon:3.x
"
        ));
        let out = run(ctx.tracectl().args(MIGRATE));
        assert_exit(&out, 0);
        compose_check(&ctx).unwrap();
        let text = ctx.read("docker-compose.yml");
        assert!(!text.contains("  tracer:"), "{address}: {text}");
        assert!(
            stderr(&out).contains(
                "docker-compose.yml:9: service worker's AWS_XRAY_DAEMON_ADDRESS still names tracer"
            ),
            "{address}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn tagged_references_are_renamed_or_refused_and_escaped_ones_refused() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      - AWS_XRAY_DAEMON_ADDRESS=xray-daemon:2000
    links:
      - !!str xray-daemon
  xray-daemon:
    image: amazon/aws-xray-daemon
",
    );
    let text = succeeds(
        &ctx,
        MIGRATE,
        &[DAEMON_LINES, &["  xray-daemon:", "!!str xray-daemon"]].concat(),
    );
    assert!(text.contains("      - !!str otel-collector\n"), "{text}");
    for (reference, line, words) in [
        (
            "    depends_on:\n      - \"xray\\x2Ddaemon\"\n",
            7,
            "in a form tracectl does not rewrite",
        ),
        (
            "    network_mode: !!str service:xray-daemon\n",
            6,
            "in `network_mode`",
        ),
    ] {
        let ctx = project(&format!(
            "services:
  backend-flask:
    build: ./backend-flask
    environment:
      - AWS_XRAY_DAEMON_ADDRESS=xray-daemon:2000
{reference}  xray-daemon:
    image: amazon/aws-xray-daemon
"
        ));
        compose_check(&ctx).unwrap();
        let err = refused(&ctx, MIGRATE, line);
        assert!(err.contains(words), "{err}");
    }
}

#[test]
fn a_region_the_daemon_took_from_its_command_is_named_for_the_env_file() {
    let ctx = project(
        "services:
  backend-flask:
    build: ./backend-flask
    environment:
      AWS_XRAY_DAEMON_ADDRESS: \"xray-daemon:2000\"
  xray-daemon:
    image: amazon/aws-xray-daemon
    command: [\"-o\", \"-n\", \"eu-west-3\"]
",
    );
    let out = run(ctx.tracectl().args(MIGRATE));
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(
            "docker-compose.yml:8: xray-daemon took its region (eu-west-3) from its command"
        ) && stderr(&out).contains("add AWS_REGION=eu-west-3 to .env"),
        "{}",
        stderr(&out)
    );
}
