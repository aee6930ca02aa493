//! `doctor` and `send-test` against servers that redirect, answer without end, and projects whose
//! settings could be read two ways: every wait bounded, no key sent where the user did not say,
//! memory bounded, the same answer from both commands.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::fake_http::{FakeServer, Reply};

const KEY: &str = INGEST_US;

/// A command's output, its wall time and its peak resident memory in KiB (from /proc).
fn measured(cmd: &mut Command, deadline: Duration) -> (Output, Duration, u64) {
    let started = Instant::now();
    let mut peak = 0;
    let out = output_watched(cmd, deadline, Duration::from_millis(2), |pid| {
        // VmHWM is the peak so far: the last reading before exit is the run's peak.
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            peak = kb;
        }
    });
    (out, started.elapsed(), peak)
}

/// Every run here: doctor's fixed today, no EC2 metadata lookups, then `env`.
fn dated<'a>(env: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
    let mut all = vec![
        ("TRACECTL_NOW", TODAY.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ];
    all.extend(env.iter().map(|(k, v)| (*k, v.clone())));
    all
}

/// `doctor`'s two Honeycomb checks, with the key on the command line.
fn honeycomb_checks(timeout: &str) -> [&str; 8] {
    [
        "--honeycomb-api-key",
        KEY,
        "--check",
        "honeycomb-auth",
        "--check",
        "honeycomb-otlp",
        "--timeout",
        timeout,
    ]
}

/// Answers every request with `307` to the same path on `to`.
fn redirecting_to(to: &FakeServer) -> FakeServer {
    // `localhost` rather than the IP: another host name, as a hostile redirect would use.
    let base = format!("http://localhost:{}", to.addr.port());
    FakeServer::start(move |req, _| {
        Reply::new(307).header("location", &format!("{base}{}", req.path))
    })
}

#[test]
fn a_redirect_never_carries_a_key_or_header_to_another_server() {
    let ctx = TestContext::empty();
    let elsewhere = FakeServer::start(|_, _| Reply::new(200));
    let redirect = redirecting_to(&elsewhere);
    let env = [("HONEYCOMB_API_ENDPOINT", redirect.url())];

    let out = run(&mut json_command(
        &ctx,
        "doctor",
        &honeycomb_checks("3s"),
        &dated(&env),
    ));
    assert_exit(&out, 1);
    let v = json_of(&out);
    for id in ["honeycomb-auth", "honeycomb-otlp"] {
        let c = check(&v, id);
        assert_eq!(c["status"], "fail", "{c}");
        let detail = c["detail"].as_str().unwrap();
        assert!(
            detail.contains("307") && detail.contains("redirected to http://localhost:"),
            "{c}"
        );
        assert!(c["hint"].as_str().unwrap().contains("redirect"), "{c}");
    }

    let out = run(&mut json_command(
        &ctx,
        "send-test",
        &["--honeycomb-api-key", KEY, "--timeout", "3s"],
        &dated(&env),
    ));
    assert_exit(&out, 1);
    let r = result(&json_of(&out), "honeycomb").clone();
    assert_eq!(r["status"], "307", "{r}");
    assert!(r["hint"].as_str().unwrap().contains("redirect"), "{r}");

    let out = run(&mut json_command(
        &ctx,
        "send-test",
        &[
            "--to",
            "otlp",
            "--endpoint",
            &redirect.url(),
            "--header",
            "x-api-key=hunter2-secret",
            "--timeout",
            "3s",
        ],
        &dated(&[]),
    ));
    assert_exit(&out, 1);
    assert_eq!(result(&json_of(&out), "otlp")["status"], "307");

    let leaked = elsewhere.requests();
    assert!(
        leaked.is_empty(),
        "a redirect reached another server: {leaked:#?}"
    );
}

/// A server that answers every request with a 200 head and then a body that never ends.
fn endless_answer() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let mut request = [0u8; 65536];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n",
                );
                let chunk = vec![b'a'; 1 << 20];
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    addr
}

#[test]
fn an_answer_without_end_is_cut_and_memory_stays_bounded() {
    let ctx = TestContext::empty();
    let addr = endless_answer();
    let budget = Duration::from_secs(4);
    // Well under the budget: the answer is judged on its first bytes, not read until the deadline.
    let quick = Duration::from_secs(2);
    let limit_kb = 100 * 1024;

    let (out, took, peak) = measured(
        &mut json_command(
            &ctx,
            "doctor",
            &honeycomb_checks("4s"),
            &dated(&[("HONEYCOMB_API_ENDPOINT", format!("http://{addr}"))]),
        ),
        budget * 5,
    );
    eprintln!("doctor: {took:?}, peak {peak} KiB");
    assert!(took < quick, "doctor took {took:?}");
    assert!(peak < limit_kb, "doctor peaked at {peak} KiB");
    let v = json_of(&out);
    let auth = check(&v, "honeycomb-auth");
    assert_eq!(auth["status"], "fail", "{auth}");
    assert!(
        auth["detail"].as_str().unwrap().contains("not Honeycomb's"),
        "{auth}"
    );
    // 200 to an empty export is what the check asks for.
    assert_eq!(check(&v, "honeycomb-otlp")["status"], "pass");

    let (out, took, peak) = measured(
        &mut json_command(
            &ctx,
            "send-test",
            &[
                "--to",
                "otlp",
                "--endpoint",
                &format!("http://{addr}"),
                "--timeout",
                "4s",
            ],
            &dated(&[]),
        ),
        budget * 5,
    );
    eprintln!("send-test: {took:?}, peak {peak} KiB");
    assert!(took < quick, "send-test took {took:?}");
    assert!(peak < limit_kb, "send-test peaked at {peak} KiB");
    let r = result(&json_of(&out), "otlp").clone();
    assert!(
        r["warning"]
            .as_str()
            .unwrap()
            .contains("went on past 256 KiB"),
        "{r}"
    );
}

/// What a user with no working AWS credentials is told, by both commands: the cause the SDK
/// found (`code`), and what to run, never "Connection: other" or a hint about the network.
/// `reported` is the command's JSON result or check, with its `detail` and `hint`.
fn assert_credentials_failure(
    label: &str,
    reported: &Value,
    code: &str,
    wanted: &str,
    hint_has: &str,
) {
    let detail = reported["detail"].as_str().unwrap();
    let hint = reported["hint"].as_str().unwrap();
    assert_eq!(code, wanted, "{label}: {detail}");
    for internal in [
        "other",
        "dispatch failure",
        "Connection",
        "error trying to connect",
    ] {
        assert!(!detail.starts_with(internal), "{label}: {detail}");
    }
    assert!(!hint.contains("network"), "{label}: {hint}");
    assert!(hint.contains(hint_has), "{label}: {reported}");
}

#[test]
fn missing_aws_credentials_are_named_with_what_to_run() {
    let ctx = TestContext::empty();
    let config = ctx.root.parent().unwrap().join("aws-config");
    std::fs::write(
        &config,
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-3\n\
         sso_account_id = 123456789012\nsso_role_name = Dev\nregion = eu-west-3\n",
    )
    .unwrap();
    let closed = format!("http://127.0.0.1:{}", crate::fake_http::closed_port());
    // (what, environment, the failure's code, what the hint must say)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "SSO profile never logged in",
            vec![
                ("AWS_CONFIG_FILE", config.display().to_string()),
                ("AWS_PROFILE", "sso".to_string()),
            ],
            "SsoLoginNeeded",
            "aws sso login",
        ),
        (
            // The instance metadata service is asked when nothing else has credentials.
            "no credentials anywhere",
            vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", closed)],
            "NoCredentials",
            "AWS_ACCESS_KEY_ID",
        ),
    ];
    for (label, env, wanted, hint_has) in cases {
        // No AWS_EC2_METADATA_DISABLED here: the metadata service is where the SDK looks last.
        let env: Vec<_> = [("TRACECTL_NOW", TODAY.to_string())]
            .into_iter()
            .chain(env)
            .collect();
        let failed = |command: &str, args: &[&str]| {
            let out = run(&mut json_command(&ctx, command, args, &env));
            assert_exit(&out, 1);
            json_of(&out)
        };

        let v = failed(
            "send-test",
            &[
                "--to",
                "xray",
                "--aws-region",
                "eu-west-3",
                "--timeout",
                "5s",
            ],
        );
        let r = result(&v, "xray");
        let code = r["status"].as_str().unwrap();
        assert_credentials_failure(label, r, code, wanted, hint_has);

        let v = failed(
            "doctor",
            &[
                "--aws-region",
                "eu-west-3",
                "--check",
                "aws-credentials",
                "--timeout",
                "5s",
            ],
        );
        let c = check(&v, "aws-credentials");
        let code = c["detail"].as_str().unwrap().split(':').next().unwrap();
        assert_credentials_failure(label, c, code, wanted, hint_has);
    }
}

/// Honeycomb's API as far as both commands use it: every request recorded.
fn honeycomb_recorder() -> FakeServer {
    FakeServer::start(|req, _| match req.path.as_str() {
        "/1/auth" => Reply::json(
            200,
            serde_json::json!({"id": "k", "type": "ingest", "api_key_access": {"events": true},
                   "environment": {"name": "Test", "slug": "test"}, "team": {"name": "Acme", "slug": "acme"}}),
        ),
        "/v1/traces" => Reply::new(200).header("content-type", "application/x-protobuf"),
        _ => Reply::new(404),
    })
}

#[test]
fn doctor_and_send_test_find_the_same_honeycomb_key_wherever_it_is_set() {
    let other = INGEST_EU;
    // (where the key is set, environment, env file) — the winner is always KEY.
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "only in the OTLP headers of the environment",
            vec![(
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("x-honeycomb-team={KEY}"),
            )],
            "",
        ),
        (
            "OTLP headers beat the env file",
            vec![(
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("x-honeycomb-team={KEY}"),
            )],
            other,
        ),
        ("only in the env file", vec![], KEY),
        (
            "HONEYCOMB_API_KEY beats the OTLP headers",
            vec![
                ("HONEYCOMB_API_KEY", KEY.to_string()),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    format!("x-honeycomb-team={other}"),
                ),
            ],
            "",
        ),
    ];
    for (label, env, env_file) in cases {
        let ctx = TestContext::empty();
        if !env_file.is_empty() {
            ctx.write(".env", &format!("HONEYCOMB_API_KEY={env_file}\n"));
        }
        let fake = honeycomb_recorder();
        let mut env = env.clone();
        env.push(("HONEYCOMB_API_ENDPOINT", fake.url()));
        let doctor = run(&mut json_command(
            &ctx,
            "doctor",
            &["--check", "honeycomb-auth", "--timeout", "5s"],
            &dated(&env),
        ));
        let auth = check(&json_of(&doctor), "honeycomb-auth").clone();
        assert_eq!(auth["status"], "pass", "{label}: doctor {auth}");
        let send = run(&mut json_command(
            &ctx,
            "send-test",
            &["--to", "honeycomb", "--timeout", "5s"],
            &dated(&env),
        ));
        assert_exit(&send, 0);
        let keys: Vec<String> = fake
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.path, r.header("x-honeycomb-team").unwrap_or("")))
            .collect();
        assert_eq!(
            keys,
            [
                format!("/1/auth {KEY}"),
                format!("/v1/traces {KEY}"),
                format!("/1/auth {KEY}"),
            ],
            "{label}"
        );
    }
}
