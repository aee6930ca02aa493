//! Hostile input against the promises on secrets and file writing: credentials written in the
//! odd ways real files and command lines hold them, and files that cannot be written.

use std::process::Output;

use crate::common::*;
use crate::fake_http::closed_port;

const NEW_KEY: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

/// Neither `secret` nor any eight consecutive characters of it (as written, JSON-escaped or
/// percent-encoded) in stdout or stderr.
#[track_caller]
fn assert_hidden(label: &str, out: &Output, secret: &str) {
    let all = format!("{}\n{}", stdout(out), stderr(out));
    let json = serde_json::to_string(secret).unwrap();
    let json = json.trim_matches('"').to_string();
    let percent: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    for form in [secret.to_string(), json.replace('/', "\\/"), json, percent] {
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(8) {
            let piece: String = window.iter().collect();
            assert!(
                !all.contains(&piece),
                "{label}: '{piece}' of {secret:?} is shown:\n{all}"
            );
        }
    }
}

fn init_dry_run(ctx: &TestContext, format: &str) -> Output {
    run(ctx.tracectl().args([
        "--format",
        format,
        "init",
        "--dry-run",
        "--force",
        "-y",
        "--honeycomb",
        "--no-xray",
        "--honeycomb-api-key",
        NEW_KEY,
    ]))
}

#[test]
fn env_file_values_with_quotes_backslashes_and_several_lines_stay_hidden() {
    let ctx = TestContext::fixture("cruddur");
    ctx.write(
        ".env",
        "# local secrets\nDB_PASSWORD=\"pa\\\"ssPl4ntedQuoted\\\\pw\"\n\
         PRIVATE_KEY=\"-----BEGIN KEY-----\nMIIEPl4ntedPemLineNumberOne\nMIIEPl4ntedPemLineNumberTwo\n\
         -----END KEY-----\"\n",
    );
    for format in ["human", "json", "github"] {
        let out = init_dry_run(&ctx, format);
        assert_exit(&out, 0);
        for secret in [
            "pa\\\"ssPl4ntedQuoted\\\\pw",
            "pa\"ssPl4ntedQuoted\\pw",
            "MIIEPl4ntedPemLineNumberOne",
            "MIIEPl4ntedPemLineNumberTwo",
        ] {
            assert_hidden(format, &out, secret);
        }
    }
}

#[test]
fn compose_credentials_in_block_flow_and_folded_styles_stay_hidden() {
    let ctx = TestContext::fixture("cruddur");
    let compose = ctx
        .read("docker-compose.yml")
        .replace(
            "    environment:\n      FRONTEND_URL",
            "    environment:\n      DB_PASSWORD: >-\n        Pl4ntedFoldedPassword\n      \
             API_TOKEN: |\n        Pl4ntedLiteralBlockToken\n      FRONTEND_URL",
        )
        .replace(
            "  dynamodb-local:\n",
            "  dynamodb-local:\n    environment: {REDIS_PASSWORD: Pl4ntedFlowPassword, A: b}\n",
        );
    ctx.write("docker-compose.yml", &compose);
    for format in ["human", "json"] {
        let out = init_dry_run(&ctx, format);
        assert_exit(&out, 0);
        for secret in [
            "Pl4ntedFoldedPassword",
            "Pl4ntedLiteralBlockToken",
            "Pl4ntedFlowPassword",
        ] {
            assert_hidden(format, &out, secret);
        }
    }
}

#[test]
fn percent_encoded_headers_and_url_query_credentials_stay_hidden() {
    let ctx = TestContext::empty();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for format in ["human", "json", "github"] {
        let out = run(ctx.tracectl().args([
            "--format",
            format,
            "-vv",
            "send-test",
            "--to",
            "otlp",
            "--endpoint",
            &endpoint,
            "--header",
            &format!("x-honeycomb-team%3D{NEW_KEY}"),
        ]));
        assert_exit(&out, 2);
        assert_hidden(format, &out, NEW_KEY);
        let out = run(ctx.tracectl().args([
            "--format",
            format,
            "-vv",
            "send-test",
            "--to",
            "otlp",
            &format!("--endpoint={endpoint}/?api_key=Pl4ntedQueryKey&x=1"),
        ]));
        assert_exit(&out, 1);
        assert_hidden(format, &out, "Pl4ntedQueryKey");
    }
}
