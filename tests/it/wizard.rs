//! The interactive wizard, driven on a real pseudo-terminal.

use std::process::Command;

use crate::common::*;
use crate::peers;

/// Run `tracectl init` on a terminal, answering `steps` ([prompt, keys]); returns (exit code, screen).
fn drive(ctx: &TestContext, steps: &[(&str, &str)], extra: &[&str]) -> (Option<i64>, String) {
    let steps = serde_json::to_string(steps).unwrap();
    let out = Command::new(peers::python())
        .arg(manifest_dir().join("tests/support/pty_drive.py"))
        .arg(steps)
        .args(["env", "-i"])
        .arg(format!(
            "PATH={}",
            std::env::var("PATH").unwrap_or_default()
        ))
        .arg(format!("HOME={}", ctx.root.display()))
        .arg("TERM=xterm")
        .arg(env!("CARGO_BIN_EXE_tracectl"))
        .arg("init")
        .args(extra)
        .current_dir(&ctx.root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("pty driver: {}", String::from_utf8_lossy(&out.stderr)));
    let screen = v["output"].as_str().unwrap_or_default().to_string();
    if let Some(waiting) = v.get("waiting_for") {
        panic!("the wizard never asked {waiting}; screen:\n{screen}");
    }
    (v["code"].as_i64(), screen)
}

#[test]
fn wizard_asks_everything_masks_the_key_and_writes_after_confirmation() {
    let ctx = TestContext::fixture("cruddur");
    let key = format!("{INGEST_US}\r");
    let (code, screen) = drive(
        &ctx,
        &[
            ("Send traces to", "\r"),
            ("Honeycomb API key", &key),
            ("Honeycomb region", "\r"),
            ("Service name", "cruddur\r"),
            ("AWS region", "eu-wset-3\r"),
            ("did you mean eu-west-3?", ""),
            ("AWS region", "\r"),
            // The second choice: code.
            ("Instrument the Flask app", "\u{1b}[B\r"),
            ("Write these changes?", "y"),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains(INGEST_US), "the key was echoed:\n{screen}");
    assert!(
        screen.contains("Would update docker-compose.yml"),
        "{screen}"
    );
    let env = ctx.read(".env");
    assert!(
        env.contains(&format!("HONEYCOMB_API_KEY={INGEST_US}\n")),
        "{env}"
    );
    assert!(env.contains("HONEYCOMB_SERVICE_NAME=cruddur\n"), "{env}");
    assert!(env.contains("AWS_REGION=eu-west-3\n"), "{env}");
    // With Honeycomb as well, X-Ray goes through the daemon: the collector sends to one place.
    assert!(
        screen.contains("the collector sends to one destination"),
        "{screen}"
    );
    assert!(ctx.read("docker-compose.yml").contains("xray-daemon:"));
    let app = ctx.read("backend-flask/app.py");
    assert!(
        app.contains("FlaskInstrumentor().instrument_app(app)\n"),
        "{app}"
    );
}

#[test]
fn ctrl_c_in_the_wizard_writes_nothing_and_exits_130() {
    for steps in [
        vec![("Send traces to", "\u{3}")],
        vec![
            ("Send traces to", "\u{1b}[B\r"),
            ("Honeycomb API key", "\u{3}"),
        ],
    ] {
        let ctx = TestContext::fixture("cruddur");
        let before = ctx.snapshot();
        let (code, screen) = drive(&ctx, &steps, &[]);
        assert_eq!(code, Some(130), "{screen}");
        assert_eq!(before, ctx.snapshot(), "{screen}");
    }
}

#[test]
fn declining_the_confirmation_writes_nothing() {
    let ctx = TestContext::fixture("cruddur");
    let before = ctx.snapshot();
    let (code, screen) = drive(
        &ctx,
        &[
            ("Send traces to", "\u{1b}[B\u{1b}[B\r"),
            ("AWS region", "us-east-1\r"),
            ("2027-02-25", "\r"),
            ("Instrument the Flask app", "\r"),
            ("Write these changes?", "n"),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("Nothing written."), "{screen}");
    assert_eq!(before, ctx.snapshot());
}

#[test]
fn yes_flag_never_prompts_even_on_a_terminal() {
    let ctx = TestContext::fixture("cruddur");
    let (code, screen) = drive(
        &ctx,
        &[],
        &["--yes", "--no-honeycomb", "--aws-region", "us-east-1"],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("Send traces to"), "{screen}");
    assert!(
        ctx.read("docker-compose.yml")
            .contains("otel-collector:4318")
    );
}
