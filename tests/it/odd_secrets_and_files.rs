//! Hostile input against the promises on secrets and file writing: credentials written in the
//! odd ways real files and command lines hold them, and files that cannot be written.

use std::process::Output;

use crate::common::*;
use crate::fake_http::closed_port;

const NEW_KEY: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

/// `init` adding Honeycomb with a new key, no questions asked.
const INIT_HONEYCOMB: [&str; 6] = [
    "init",
    "-y",
    "--honeycomb",
    "--no-xray",
    "--honeycomb-api-key",
    NEW_KEY,
];

fn init_dry_run(ctx: &TestContext, format: &str) -> Output {
    run(ctx
        .tracectl()
        .args(["--format", format])
        .args(INIT_HONEYCOMB)
        .args(["--dry-run", "--force"]))
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
        assert_no_leak(
            format,
            &out,
            &[
                "pa\\\"ssPl4ntedQuoted\\\\pw",
                "pa\"ssPl4ntedQuoted\\pw",
                "MIIEPl4ntedPemLineNumberOne",
                "MIIEPl4ntedPemLineNumberTwo",
            ],
        );
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
        assert_no_leak(
            format,
            &out,
            &[
                "Pl4ntedFoldedPassword",
                "Pl4ntedLiteralBlockToken",
                "Pl4ntedFlowPassword",
            ],
        );
    }
}

#[test]
fn percent_encoded_headers_and_url_query_credentials_stay_hidden() {
    let ctx = TestContext::empty();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for format in ["human", "json", "github"] {
        let send_otlp = |args: &[&str]| {
            run(ctx
                .tracectl()
                .args(["--format", format, "-vv", "send-test", "--to", "otlp"])
                .args(args))
        };
        let out = send_otlp(&[
            "--endpoint",
            &endpoint,
            "--header",
            &format!("x-honeycomb-team%3D{NEW_KEY}"),
        ]);
        assert_exit(&out, 2);
        assert_no_leak(format, &out, &[NEW_KEY]);
        // A query is refused before any send (an OTLP endpoint carries none), masked.
        let out = send_otlp(&[&format!(
            "--endpoint={endpoint}/?api_key=Pl4ntedQueryKey&x=1"
        )]);
        assert_exit(&out, 2);
        assert_no_leak(format, &out, &["Pl4ntedQueryKey"]);
    }
}

fn init_write(ctx: &TestContext) -> Output {
    run(ctx.tracectl().args(INIT_HONEYCOMB))
}

#[test]
fn an_env_file_linked_to_a_file_not_created_yet_is_created_there_private() {
    use std::os::unix::fs::PermissionsExt;
    let ctx = TestContext::fixture("cruddur");
    let secrets = ctx.root.parent().unwrap().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::os::unix::fs::symlink("../secrets/app.env", ctx.path(".env")).unwrap();
    let out = init_write(&ctx);
    assert_exit(&out, 0);
    let meta = std::fs::symlink_metadata(ctx.path(".env")).unwrap();
    assert!(meta.file_type().is_symlink(), "the link stays a link");
    let target = secrets.join("app.env");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains(&format!("HONEYCOMB_API_KEY={NEW_KEY}")),
        "{text}"
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn an_env_file_linked_into_a_missing_folder_is_refused_in_plain_words() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    std::os::unix::fs::symlink("/nonexistent-tracectl/x/.env", ctx.path(".env")).unwrap();
    let out = init_write(&ctx);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(".env is a symbolic link to /nonexistent-tracectl/x/.env")
            && err.contains("folder that does not exist"),
        "{err}"
    );
    std::fs::remove_file(ctx.path(".env")).unwrap();
    assert_eq!(before, ctx.snapshot());
}

/// Reading the env file is the project model's work: these name the file in plain words, as
/// bad input (exit 2), with a hint.
#[test]
fn an_env_file_that_is_a_folder_or_a_link_loop_is_bad_input_in_plain_words() {
    for make in ["dir", "loop"] {
        let ctx = TestContext::fixture("cruddur");
        match make {
            "dir" => std::fs::create_dir(ctx.path(".env")).unwrap(),
            _ => {
                std::os::unix::fs::symlink("a", ctx.path(".env")).unwrap();
                std::os::unix::fs::symlink(".env", ctx.path("a")).unwrap();
            }
        }
        let out = init_write(&ctx);
        let err = stderr(&out);
        assert!(
            !err.contains("os error") && !err.contains("failed to"),
            "{make}: {err}"
        );
        assert!(
            err.contains(".env") && err.contains("hint:"),
            "{make}: {err}"
        );
        assert_exit(&out, 2);
    }
}

/// A requirements file or .gitignore saved in Latin-1 (a Windows editor's default) is refused
/// naming file, line and column, as bad input, with nothing written. The reading happens in
/// the init command: it should read through `project::write::read_text`.
#[test]
fn files_that_are_not_utf8_are_refused_at_file_line_and_column() {
    for (rel, bytes, place) in [
        (
            "backend-flask/requirements.txt",
            &b"flask\n# caf\xe9\n"[..],
            "backend-flask/requirements.txt:2:6:",
        ),
        (
            ".gitignore",
            &b"node_modules\n\xff\n"[..],
            ".gitignore:2:1:",
        ),
    ] {
        let ctx = TestContext::fixture("cruddur");
        std::fs::write(ctx.path(rel), bytes).unwrap();
        let before = ctx.snapshot();
        let out = init_write(&ctx);
        let err = stderr(&out);
        assert!(err.contains(place) && err.contains("UTF-8"), "{err}");
        assert!(!err.contains("stream did not contain"), "{err}");
        assert_exit(&out, 2);
        assert_eq!(before, ctx.snapshot());
    }
}
