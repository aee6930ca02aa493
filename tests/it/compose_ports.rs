//! send-test --to collector on the ports, endpoints, env files and shapes Docker Compose v2
//! accepts or refuses: the address tracectl sends to is the one Compose publishes (checked against
//! `docker-compose config --format json` and a real rotel collector), and what Compose refuses is a
//! usage error naming the file and line, never a panic or a crash.

use std::process::Command;
use std::time::Duration;

use crate::common::*;
use crate::fake_http::{FakeServer, Reply};
use crate::peers::{self, Rotel};

/// A project whose backend exports to the `otel-collector` service, configured by `collector`
/// (the lines under `image:`), with `env` as its .env.
fn project(endpoint: &str, collector: &str, env: &str) -> TestContext {
    let ctx = TestContext::empty();
    ctx.write(
        "backend-flask/app.py",
        "from flask import Flask\napp = Flask(__name__)\n",
    );
    ctx.write(
        "docker-compose.yml",
        &format!(
            "services:\n  backend-flask:\n    build: ./backend-flask\n    environment:\n      OTEL_EXPORTER_OTLP_ENDPOINT: \"{endpoint}\"\n  otel-collector:\n    image: streamfold/rotel\n{collector}"
        ),
    );
    ctx.write(".env", env);
    ctx
}

/// The host port Docker Compose v2 publishes container port 4318 of `otel-collector` on.
fn compose_published(ctx: &TestContext, env: &[(&str, String)]) -> String {
    let out = output_within(
        Command::new(peers::docker_compose())
            .args(["config", "--format", "json"])
            .current_dir(&ctx.root)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str()))),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ports = v["services"]["otel-collector"]["ports"].as_array().unwrap();
    let port = ports
        .iter()
        .find(|p| p["target"] == 4318)
        .unwrap_or_else(|| panic!("{ports:?}"));
    port["published"].as_str().unwrap().to_string()
}

fn send(ctx: &TestContext, args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    let mut all = vec!["--to", "collector", "--timeout", "5s"];
    all.extend_from_slice(args);
    output_within(
        &mut json_command(ctx, "send-test", &all, env),
        Duration::from_secs(30),
    )
}

#[test]
fn a_reversed_port_range_is_a_usage_error_naming_the_line() {
    let ctx = project(
        "http://otel-collector:4318",
        "    ports:\n      - \"4319-4318:4317-4318\"\n",
        "",
    );
    let before = ctx.snapshot();
    let out = send(&ctx, &[], &[]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("docker-compose.yml:9"), "{err}");
    assert!(err.contains("4319-4318"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(ctx.snapshot(), before);
}

#[test]
fn every_port_syntax_compose_accepts_is_where_the_trace_goes() {
    let rotel = Rotel::start();
    let port = rotel.http.port().to_string();
    for ports in [
        format!(
            "    ports:\n      - target: 4318\n        published: \"{port}\"\n        host_ip: 127.0.0.1\n        protocol: tcp\n"
        ),
        format!("    ports:\n      - target: 4318\n        published: {port}\n"),
        format!("    ports:\n      - \"{port}:4318/TCP\"\n"),
        format!("    ports:\n      - {{ target: 4318, published: \"{port}\", protocol: TCP }}\n"),
        format!("    ports:\n      - target: 4318\n        published: \"${{P:-{port}}}\"\n"),
    ] {
        let ctx = project("http://otel-collector:4318", &ports, "");
        assert_eq!(compose_published(&ctx, &[]), port, "{ports}");
        let out = send(&ctx, &[], &[]);
        assert_exit(&out, 0);
        let v = json_of(&out);
        assert_eq!(
            result(&v, "collector")["target"],
            format!("http://127.0.0.1:{port}/v1/traces"),
            "{ports}"
        );
    }
}

#[test]
fn ports_and_the_endpoint_are_interpolated_from_the_env_file_as_compose_does() {
    let rotel = Rotel::start();
    let port = rotel.http.port().to_string();
    let ctx = project(
        "http://otel-collector:${OTLP_PORT}",
        "    ports:\n      - \"127.0.0.1:${COLLECTOR_PORT:-4318}:4318\"\n",
        &format!("OTLP_PORT=4318\nCOLLECTOR_PORT={port}\n"),
    );
    assert_eq!(compose_published(&ctx, &[]), port);
    let out = send(&ctx, &[], &[]);
    assert_exit(&out, 0);
    let v = json_of(&out);
    assert_eq!(
        result(&v, "collector")["target"],
        format!("http://127.0.0.1:{port}/v1/traces")
    );
    // The environment tracectl runs in wins over .env, as it does for Compose.
    let ctx = project(
        "http://otel-collector:4318",
        "    ports:\n      - \"127.0.0.1:${COLLECTOR_PORT:-4318}:4318\"\n",
        "COLLECTOR_PORT=1\n",
    );
    let env = [("COLLECTOR_PORT", port.clone())];
    assert_eq!(compose_published(&ctx, &env), port);
    let out = send(&ctx, &[], &env);
    assert_exit(&out, 0);
}

#[test]
fn a_key_in_another_services_env_file_is_masked_when_a_peer_echoes_it() {
    let key = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm9";
    let message = format!("upstream 401 for x-honeycomb-team={key}");
    let mut partial = vec![0x08, 0x03, 0x12, message.len() as u8];
    partial.extend_from_slice(message.as_bytes());
    let mut body = vec![0x0a, partial.len() as u8];
    body.extend_from_slice(&partial);
    let peer = FakeServer::start(move |_, _| {
        Reply::new(200)
            .header("Content-Type", "application/x-protobuf")
            .body(body.clone())
    });
    let port = peer.url().rsplit_once(':').unwrap().1.to_string();
    for (env_file, line) in [
        (
            "env_file: collector.env",
            "ROTEL_EXPORTER_HC_CUSTOM_HEADERS",
        ),
        (
            "env_file:\n      - path: ./collector.env\n        required: false",
            "HEADERS",
        ),
    ] {
        let ctx = project(
            "http://otel-collector:4318",
            &format!("    {env_file}\n    ports:\n      - \"127.0.0.1:{port}:4318\"\n"),
            "",
        );
        ctx.write("collector.env", &format!("{line}=x-honeycomb-team={key}\n"));
        for format in ["json", "human"] {
            let mut cmd = ctx.tracectl();
            cmd.args(["--format", format, "send-test", "--to", "collector"]);
            let out = output_within(&mut cmd, Duration::from_secs(30));
            assert!(
                stdout(&out).contains("rejected") || stderr(&out).contains("rejected"),
                "{}{}",
                stdout(&out),
                stderr(&out)
            );
            assert_no_leak(format, &out, &[key]);
        }
    }
}

#[test]
fn a_wait_beyond_an_hour_is_a_usage_error() {
    let ctx = TestContext::empty();
    for args in [
        &["send-test", "--wait", "18446744073709551615"][..],
        &["send-test", "--wait", "3601"],
        &["send-test", "--timeout", "18446744073709551615"],
        &["doctor", "--timeout", "18446744073709551615s"],
        &["listen", "--flush-after", "1e300s"],
        &["listen", "--exit-after", "18446744073709551615"],
    ] {
        let out = output_within(ctx.tracectl().args(args), Duration::from_secs(30));
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.contains(args[1]), "{args:?}: {err}");
    }
}

#[test]
fn a_malformed_endpoint_is_a_usage_error_before_any_send() {
    let peer = FakeServer::start(|_, _| Reply::new(200));
    let ctx = project(
        "http://otel-collector:4318",
        "    ports:\n      - \"4318:4318\"\n",
        "",
    );
    let port = peer.url().rsplit_once(':').unwrap().1.to_string();
    for endpoint in [
        "http://127.0.0.1:99999".to_string(),
        "http://[::1".to_string(),
        "http://127.0.0.1:abc".to_string(),
        format!("http://127.0.0.1:{port}/v1/traces?x=1"),
        format!("http://127.0.0.1:{port}#frag"),
        "http://".to_string(),
    ] {
        let out = send(&ctx, &["--endpoint", &endpoint], &[]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(&endpoint), "{endpoint}: {err}");
    }
    let secret = "s3cr3tPassw0rd";
    let endpoint = format!("http://user:{secret}@127.0.0.1:99999");
    let out = send(&ctx, &["--endpoint", &endpoint], &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("127.0.0.1:99999"), "{}", stderr(&out));
    assert_no_leak("userinfo", &out, &[secret]);
    assert!(peer.requests().is_empty());
}

/// The project with an `x-deep` field nested `depth` levels, in flow or block style.
fn deep(depth: usize, flow: bool) -> TestContext {
    let nested = if flow {
        format!("x-deep: {}{}\n", "[".repeat(depth), "]".repeat(depth))
    } else {
        // Block sequences nested on one line (`- - - x`): indenting each level would make the
        // file quadratic in the depth.
        format!("x-deep:\n  {}x\n", "- ".repeat(depth))
    };
    let ctx = project(
        "http://otel-collector:4318",
        "    ports:\n      - \"4318:4318\"\n",
        "",
    );
    let compose = ctx.read("docker-compose.yml");
    ctx.write("docker-compose.yml", &format!("{nested}{compose}"));
    ctx
}

#[test]
fn a_compose_file_nested_too_deeply_is_refused_without_a_crash() {
    for depth in [5_000, 100_000] {
        for flow in [true, false] {
            let ctx = deep(depth, flow);
            let before = ctx.snapshot();
            for args in [
                &["doctor", "--offline"][..],
                &["init", "--migrate", "--dry-run", "--yes"],
                &[
                    "init",
                    "--xray",
                    "--no-honeycomb",
                    "--xray-via",
                    "collector",
                    "--aws-region",
                    "eu-west-3",
                    "--yes",
                ],
                &["send-test", "--to", "collector", "--timeout", "1s"],
            ] {
                let out = output_within(ctx.tracectl().args(args), Duration::from_secs(30));
                let all = format!("{}{}", stdout(&out), stderr(&out));
                // doctor fails its compose check (exit 1), as for any file that does not parse.
                let status = if args[0] == "doctor" { 1 } else { 2 };
                assert_eq!(
                    out.status.code(),
                    Some(status),
                    "{depth} {flow} {args:?}: {all}"
                );
                let line = if flow { 1 } else { 2 };
                assert!(
                    all.contains(&format!("docker-compose.yml:{line}:")),
                    "{args:?}: {all}"
                );
                assert!(
                    all.contains("nested too deeply (limit 256)"),
                    "{args:?}: {all}"
                );
                assert_eq!(ctx.snapshot(), before, "{args:?}");
            }
        }
    }
}
