//! Planted secrets: a distinctive credential in every place a user could misplace one, and no
//! command, in any output format, shows it or any eight characters of it.

use std::process::Output;

use serde_json::Value;

use crate::common::*;
use crate::fake_http::closed_port;

/// 64 characters, shaped like a US ingest key.
fn ingest() -> String {
    let key = format!("hcaik_01{}", "pl4ntedingestq7".repeat(4));
    key[..64].to_string()
}
const CONFIG_KEY: &str = "Pl4ntedC0nfigKeyQwXz7r";
const AWS_KEY_ID: &str = "AKIAPL4NTEDKEY7QWXZ2";
const AWS_SECRET: &str = "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";
const URL_PASSWORD: &str = "Pl4ntedUrlPassw0rd";
/// Not key-shaped: only its place (a header value, a credential-named variable) marks it.
const HEADER_VALUE: &str = "plantedheadervalue";
const DOTENV_PASSWORD: &str = "plantedpasswordindotenv";
const ENV_FILE_TOKEN: &str = "plantedtokenfromenvfile";

fn session_token() -> String {
    "IQoJb3JpZ2luX2VjEPl4ntedSessionToken/QwXz7rTyUiOp9AsDfGhJkL+".repeat(3)
}

fn planted() -> Vec<String> {
    vec![
        ingest(),
        CONFIG_KEY.to_string(),
        AWS_KEY_ID.to_string(),
        AWS_SECRET.to_string(),
        URL_PASSWORD.to_string(),
        HEADER_VALUE.to_string(),
        DOTENV_PASSWORD.to_string(),
        ENV_FILE_TOKEN.to_string(),
        session_token(),
    ]
}

const FORMATS: [&str; 4] = ["human", "json", "github", "sarif"];

fn run_in(ctx: &TestContext, format: &str, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = ctx.tracectl();
    cmd.args(["--format", format])
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// `send-test --to otlp --endpoint ENDPOINT ARGS` in `format`.
fn send_otlp(ctx: &TestContext, format: &str, endpoint: &str, args: &[&str]) -> Output {
    let mut all = vec!["send-test", "--to", "otlp", "--endpoint", endpoint];
    all.extend_from_slice(args);
    run_in(ctx, format, &all, &[])
}

#[test]
fn a_key_inside_a_malformed_header_is_not_echoed() {
    let ctx = TestContext::empty();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for format in FORMATS {
        for header in [
            format!("x-honeycomb-team: {}", ingest()),
            format!("x-honeycomb-team {HEADER_VALUE}"),
        ] {
            let out = send_otlp(&ctx, format, &endpoint, &["--header", &header]);
            assert_exit(&out, 2);
            assert_no_leak(&format!("--header {format}"), &out, &planted());
        }
        let out = run_in(
            &ctx,
            format,
            &["send-test", "--to", "otlp"],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    format!("x-honeycomb-team: {CONFIG_KEY}"),
                ),
            ],
        );
        assert_exit(&out, 2);
        assert_no_leak(
            &format!("OTEL_EXPORTER_OTLP_HEADERS {format}"),
            &out,
            &planted(),
        );
    }
}

#[test]
fn a_key_given_as_a_stray_argument_or_to_the_wrong_flag_is_not_echoed() {
    let ctx = TestContext::empty();
    let key = ingest();
    let pair = format!("AWS_SECRET_ACCESS_KEY={HEADER_VALUE}");
    let flag = format!("--honeycomb-api-key={HEADER_VALUE}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["send-test", &key],
        vec!["doctor", "--check", &key],
        vec!["doctor", "--check", AWS_SECRET],
        vec!["init", "--aws-region", CONFIG_KEY, "--yes"],
        vec!["send-test", "--protocol", AWS_KEY_ID],
        vec!["send-test", &pair],
        vec!["send-test", "--honeycomb-api-key"],
        vec!["send-test", &flag, "--bogus"],
    ];
    for format in FORMATS {
        for args in &cases {
            let out = run_in(&ctx, format, args, &[]);
            assert_no_leak(&format!("{args:?} {format}"), &out, &planted());
            assert_ne!(out.status.code(), Some(0), "{args:?}");
        }
    }
}

#[test]
fn url_passwords_are_masked_wherever_the_url_is_shown() {
    let ctx = TestContext::empty();
    let endpoint = format!("http://tracer:{URL_PASSWORD}@127.0.0.1:{}", closed_port());
    for format in FORMATS {
        let out = send_otlp(&ctx, format, &endpoint, &["--timeout", "2s"]);
        assert_exit(&out, 1);
        assert_no_leak(&format!("--endpoint {format}"), &out, &planted());
        let shown = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            shown.contains("127.0.0.1"),
            "the target is still named:\n{shown}"
        );

        let out = run_in(
            &ctx,
            format,
            &["send-test", "--to", "otlp", "--timeout", "2s"],
            &[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                endpoint.replace("http", "ftp"),
            )],
        );
        assert_exit(&out, 2);
        assert_no_leak(
            &format!("OTEL_EXPORTER_OTLP_ENDPOINT {format}"),
            &out,
            &planted(),
        );
    }
}

#[test]
fn a_key_given_as_the_service_name_is_masked_in_what_the_receiver_shows() {
    let ctx = TestContext::empty();
    let key = ingest();
    for format in FORMATS {
        let out = run_in(
            &ctx,
            format,
            &["send-test", "--to", "local", "--service-name", &key],
            &[],
        );
        assert_exit(&out, 0);
        assert_no_leak(&format!("--service-name {format}"), &out, &planted());
    }
}

/// A compose file with credentials written literally (in the backend, in an old daemon service,
/// in an env file it names) and an env file holding others.
fn project_with_literal_secrets() -> TestContext {
    let ctx = TestContext::fixture("cruddur");
    let compose = ctx.read("docker-compose.yml").replace(
        "    build: ./backend-flask\n",
        &format!(
            "      OTEL_EXPORTER_OTLP_HEADERS: \"x-honeycomb-team={CONFIG_KEY}\"\n      \
             HONEYCOMB_API_KEY: {CONFIG_KEY}\n    \
             env_file: backend.env\n    build: ./backend-flask\n  \
             xray-daemon:\n    image: \"amazon/aws-xray-daemon\"\n    environment:\n      \
             AWS_ACCESS_KEY_ID: \"{AWS_KEY_ID}\"\n      \
             AWS_SECRET_ACCESS_KEY: \"{AWS_SECRET}\"\n      \
             AWS_SESSION_TOKEN: \"{}\"\n      \
             AWS_REGION: \"eu-west-3\"\n    command:\n      - \"-o\"\n      - \"-n\"\n      \
             - \"eu-west-3\"\n",
            session_token()
        ),
    );
    ctx.write("docker-compose.yml", &compose);
    ctx.write(
        ".env",
        &format!(
            "HONEYCOMB_API_KEY={}\nDB_PASSWORD={DOTENV_PASSWORD}\nAWS_REGION=eu-west-3\n",
            ingest()
        ),
    );
    ctx.write("backend.env", &format!("API_TOKEN={ENV_FILE_TOKEN}\n"));
    ctx
}

#[test]
fn old_literal_secrets_are_masked_on_both_sides_of_a_dry_run_diff() {
    let new_key = common_new_key();
    for format in FORMATS {
        let ctx = project_with_literal_secrets();
        let before = ctx.snapshot();
        let out = run_in(
            &ctx,
            format,
            &[
                "init",
                "--yes",
                "--force",
                "--dry-run",
                "--aws-region",
                "eu-west-3",
                "--honeycomb-api-key",
                &new_key,
            ],
            &[],
        );
        assert_exit(&out, 0);
        assert_no_leak(
            &format!("init --force --dry-run {format}"),
            &out,
            &planted(),
        );
        assert!(
            !format!("{}{}", stdout(&out), stderr(&out)).contains(&new_key[8..]),
            "the new key is shown"
        );
        if format == "human" {
            let text = stdout(&out);
            assert!(
                text.lines()
                    .any(|l| l.starts_with('-') && l.contains("(redacted)")),
                "the old values are still in the diff, masked:\n{text}"
            );
        }
        assert_eq!(ctx.snapshot(), before, "a dry run writes nothing");
    }
}

fn common_new_key() -> String {
    let key = format!("hcbik_01{}", "n3wkeyforinitzz".repeat(4));
    key[..64].to_string()
}

#[test]
fn doctor_flags_every_literal_credential_masked() {
    let ctx = project_with_literal_secrets();
    let env = [
        ("HONEYCOMB_API_KEY", ingest()),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET.to_string()),
        ("AWS_SESSION_TOKEN", session_token()),
        ("AWS_ACCESS_KEY_ID", AWS_KEY_ID.to_string()),
    ];
    for format in FORMATS {
        let out = run_in(&ctx, format, &["doctor", "--offline"], &env);
        assert_exit(&out, 1);
        assert_no_leak(&format!("doctor {format}"), &out, &planted());
    }
    let out = run_in(&ctx, "json", &["doctor", "--offline"], &env);
    let v = json_of(&out);
    let compose = check(&v, "compose");
    let text = ctx.read("docker-compose.yml");
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u64 + 1)
            .unwrap()
    };
    let flagged: Vec<u64> = compose["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap_or("").contains("literal"))
        .filter_map(|f| f["line"].as_u64())
        .collect();
    for needle in [
        "OTEL_EXPORTER_OTLP_HEADERS",
        "HONEYCOMB_API_KEY:",
        "AWS_ACCESS_KEY_ID:",
        "AWS_SECRET_ACCESS_KEY:",
        "AWS_SESSION_TOKEN:",
    ] {
        assert!(
            flagged.contains(&line_of(needle)),
            "{needle} (line {}) is not flagged: {compose}",
            line_of(needle)
        );
    }
}

#[test]
fn usage_errors_are_json_under_format_json() {
    let ctx = TestContext::empty();
    for args in [
        vec!["--format", "json", "send-test", "--bogus"],
        vec!["doctor", "--format=json", "--check", "nope"],
        vec!["--format", "json", "send-test", "--count", "0"],
        vec!["--format", "json"],
    ] {
        let out = run(ctx.tracectl().args(&args));
        assert_exit(&out, 2);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}\n{}", stdout(&out), stderr(&out)));
        assert_eq!(v["version"], 1, "{v}");
        assert_eq!(v["error"]["exit_code"], 2, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty() && !message.starts_with("error:"), "{v}");
    }
    // Help and version are not errors: they print as always.
    let out = run(ctx.tracectl().args(["--format", "json", "--version"]));
    assert_exit(&out, 0);
    assert!(stdout(&out).starts_with("tracectl "), "{}", stdout(&out));
    let out = run(ctx
        .tracectl()
        .args(["--format", "json", "doctor", "--help"]));
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Usage:"), "{}", stdout(&out));
    // Without --format json the error stays clap's text.
    let out = run(ctx.tracectl().args(["send-test", "--bogus"]));
    assert_exit(&out, 2);
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).starts_with("error: unexpected argument '--bogus'"));
}

/// A plain-HTTP port answering whatever arrives the way web servers answer garbage.
fn plain_http_port() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut buf = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    port
}

#[test]
fn https_to_a_plain_http_port_says_so_and_how_to_fix_it() {
    let ctx = TestContext::empty();
    let port = plain_http_port();
    let (out, v) = send_test_json(
        &ctx,
        &[
            "--to",
            "otlp",
            "--endpoint",
            &format!("https://127.0.0.1:{port}"),
            "--timeout",
            "5s",
        ],
        &[],
    );
    assert_exit(&out, 1);
    let result = result(&v, "otlp");
    let detail = result["detail"].as_str().unwrap();
    assert!(detail.contains("plain HTTP"), "{v}");
    assert!(!detail.contains("InvalidContentType"), "{v}");
    assert_eq!(
        result["hint"],
        format!("use http://127.0.0.1:{port}/v1/traces (this port does not speak TLS)"),
        "{v}"
    );
}

#[test]
fn a_success_status_with_an_undecodable_body_warns() {
    use crate::fake_http::{FakeServer, Reply};
    let server = FakeServer::start(|_, _| {
        Reply::new(200)
            .header("content-type", "text/html")
            .body(b"<html><h1>Welcome to nginx!</h1>\x1b]0;owned\x07</html>".to_vec())
    });
    let ctx = TestContext::empty();
    let (out, v) = send_test_json(&ctx, &["--to", "otlp", "--endpoint", &server.url()], &[]);
    assert_exit(&out, 0);
    let result = result(&v, "otlp");
    assert_eq!(result["state"], "accepted", "{v}");
    let warning = result["warning"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(warning.starts_with("undecodable response"), "{warning}");
    assert!(warning.contains("text/html"), "{warning}");
    assert!(warning.contains("Welcome to nginx!"), "{warning}");
    assert!(
        !warning.contains('\x1b'),
        "control characters are escaped: {warning}"
    );
    let out = run(ctx
        .tracectl()
        .args(["send-test", "--to", "otlp", "--endpoint", &server.url()]));
    assert_exit(&out, 0);
    let human = format!("{}{}", stdout(&out), stderr(&out));
    assert!(human.contains("undecodable response"), "{human}");
}

/// A proxy's page where AWS was expected: the failure says what came back and where to look.
#[test]
fn an_aws_call_answered_by_something_else_says_what_came_back() {
    use crate::fake_http::{FakeServer, Reply};
    for status in [403, 200] {
        let server = FakeServer::start(move |_, _| {
            Reply::new(status)
                .header("content-type", "text/html")
                .body(b"<html><title>Blocked by corporate proxy</title></html>".to_vec())
        });
        // A project set up for X-Ray, so that doctor checks the AWS credentials.
        let ctx = TestContext::fixture("cruddur.expected");
        let aws_env = [
            ("AWS_ACCESS_KEY_ID", AWS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET.to_string()),
            ("AWS_REGION", "eu-west-3".to_string()),
            ("AWS_ENDPOINT_URL", server.url()),
            ("AWS_MAX_ATTEMPTS", "1".to_string()),
        ];
        // The check or result a command reports, in its JSON `v`.
        let says_what_came_back = |reported: &Value, v: &Value| {
            let detail = reported["detail"].as_str().unwrap_or_else(|| panic!("{v}"));
            assert!(detail.contains(&format!("HTTP {status}")), "{v}");
            assert!(detail.contains("Blocked by corporate proxy"), "{v}");
            assert!(
                reported["hint"]
                    .as_str()
                    .unwrap_or("")
                    .contains("AWS_ENDPOINT_URL"),
                "{v}"
            );
            detail.to_string()
        };
        let (out, v) = json_run(&ctx, "doctor", &["--check", "aws-credentials"], &aws_env);
        assert_exit(&out, 1);
        let detail = says_what_came_back(check(&v, "aws-credentials"), &v);
        assert!(detail.contains("text/html"), "{v}");

        let (out, v) = send_test_json(&ctx, &["--to", "xray", "--timeout", "5s"], &aws_env);
        assert_exit(&out, 1);
        says_what_came_back(result(&v, "xray"), &v);
        assert_no_leak("aws", &out, &planted());
    }
}

#[test]
fn a_region_launched_after_this_release_is_accepted_with_a_warning() {
    let ctx = TestContext::fixture("cruddur");
    let init = |region: &str| {
        run(ctx.tracectl().args([
            "init",
            "--yes",
            "--dry-run",
            "--no-honeycomb",
            "--aws-region",
            region,
        ]))
    };
    let out = init("xx-newzone-1");
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("warning: 'xx-newzone-1' is not in tracectl's list"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("AWS_REGION=xx-newzone-1"),
        "{}",
        stdout(&out)
    );

    let out = init("eu-wset-3");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("did you mean eu-west-3?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_peer_that_echoes_part_of_the_key_does_not_get_it_printed() {
    use crate::fake_http::{FakeServer, Reply};
    // A gateway that quotes the first 20 characters of the key it was given, and its last 20.
    let peer = FakeServer::start(|req, _| {
        let key = req
            .header("x-honeycomb-team")
            .unwrap_or_default()
            .to_string();
        let (head, tail) = (
            &key[..20.min(key.len())],
            &key[key.len().saturating_sub(20)..],
        );
        Reply::json(
            401,
            serde_json::json!({"error": format!("unknown API key {head}... ending {tail}")}),
        )
    });
    let ctx = TestContext::empty();
    let key = ingest();
    for format in FORMATS {
        let out = run_in(
            &ctx,
            format,
            &["doctor", "--check", "honeycomb-auth", "--timeout", "3s"],
            &[
                ("HONEYCOMB_API_KEY", key.clone()),
                ("HONEYCOMB_API_ENDPOINT", peer.url()),
            ],
        );
        assert_exit(&out, 1);
        assert_no_leak(format, &out, &[&key]);
    }
}

#[test]
fn a_key_glued_to_other_text_in_compose_is_masked_everywhere() {
    let ctx = TestContext::fixture("cruddur");
    let key = ingest();
    let compose = ctx.read("docker-compose.yml").replacen(
        "    environment:\n",
        &format!(
            "    environment:\n      AWS_REGION: {key}_r\n      HONEYCOMB_DATASET: {key}{key}\n"
        ),
        1,
    );
    ctx.write("docker-compose.yml", &compose);
    for format in FORMATS {
        let out = run_in(&ctx, format, &["doctor", "--offline", "-v"], &[]);
        assert_no_leak(format, &out, &[&key]);
    }
}
