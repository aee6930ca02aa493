//! The instrumentation check: each finding triggered by a real SDK app built to have that problem
//! (tests/support/flawed_app.py, reloader_app.py, xray_lonely_segment.py), and none for the
//! recipe's correct apps.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::listen::{DEADLINE, Listen, run_ok_within, wait_within};
use crate::peers::{self, Guard, free_port};

fn flawed(listen: &Listen, problem: &str) {
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/flawed_app.py"))
            .arg(problem)
            .arg(format!("{}/v1/traces", listen.endpoint()))
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", listen.endpoint()),
    );
}

/// Findings reported so far, by service.
fn findings(lines: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.get("check").is_some()) {
        assert!(
            line["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "{line}"
        );
        assert!(
            line["message"].as_str().is_some_and(|f| !f.is_empty()),
            "{line}"
        );
        out.entry(line["service"].as_str().unwrap().to_string())
            .or_default()
            .insert(line["check"].as_str().unwrap().to_string());
    }
    out
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn http_get(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(
        stream,
        "GET /api/activities/home HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Stop listen with Ctrl-C; its exit code and stderr.
fn interrupt(listen: &mut Listen) -> (Option<i32>, String) {
    let pid = listen.child().id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let code = wait_within(listen.child(), DEADLINE).code();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut listen.child().stderr.take().unwrap(), &mut err).unwrap();
    (code, err)
}

#[test]
fn each_flawed_app_gets_its_finding_and_strict_fails() {
    let mut listen = Listen::start(&["--check", "--strict", "--flush-after", "300ms"]);
    for problem in [
        "unknown_service",
        "no_version",
        "orphan",
        "client_root",
        "legacy_mix",
    ] {
        flawed(&listen, problem);
    }
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/xray_lonely_segment.py"))
            .env("AWS_XRAY_DAEMON_ADDRESS", listen.udp.to_string()),
    );
    // The Flask debug reloader: a request, a change to the app's file, another request.
    let ctx = TestContext::empty();
    let app = ctx.path("reloader_app.py");
    std::fs::copy(manifest_dir().join("tests/support/reloader_app.py"), &app).unwrap();
    let port = free_port();
    let _app = Guard(
        peers::clean_python()
            .arg(&app)
            .arg(port.to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", listen.endpoint())
            .env("OTEL_SERVICE_NAME", "reloading-flask")
            .env("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.4.2")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // The reloader runs the app in a child of its own: the guard ends the group.
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let answered = |deadline: Duration| {
        let end = Instant::now() + deadline;
        while Instant::now() < end {
            if http_get(port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    assert!(
        answered(Duration::from_secs(20)),
        "the reloader app did not start"
    );
    listen.wait_for(|s| s.iter().any(|s| s["service"] == "reloading-flask"));
    std::thread::sleep(Duration::from_millis(1500));
    let mut text = std::fs::read_to_string(&app).unwrap();
    text.push_str("\n# changed\n");
    std::fs::write(&app, text).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        answered(Duration::from_secs(20)),
        "the app did not come back"
    );

    let expected: BTreeMap<String, BTreeSet<String>> = [
        ("unknown_service:python", set(&["unknown-service"])),
        ("flawed-no_version", set(&["no-service-version"])),
        ("flawed-orphan", set(&["orphan-span"])),
        ("flawed-client_root", set(&["client-root"])),
        ("flawed-legacy_mix", set(&["legacy-semconv"])),
        ("lonely-flask", set(&["xray-no-subsegments"])),
        ("reloading-flask", set(&["instance-restart"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let lines = listen.wait_for(|l| findings(l) == expected);
    let orphan = lines.iter().find(|l| l["check"] == "orphan-span").unwrap();
    assert!(
        orphan["message"]
            .as_str()
            .unwrap()
            .contains("SELECT activities"),
        "{orphan}"
    );
    assert!(orphan["trace_id"].as_str().unwrap().len() == 32);
    let (code, err) = interrupt(&mut listen);
    assert_eq!(code, Some(1), "--strict with findings: {err}");
    assert!(err.contains("7 instrumentation finding(s)"), "{err}");
}

#[test]
fn the_recipes_correct_apps_have_no_findings() {
    let mut listen = Listen::start(&["--check", "--strict", "--flush-after", "300ms"]);
    let port = free_port();
    let app = Guard(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/flask_recipe_app.py"))
            .arg(port.to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", listen.endpoint())
            .env("OTEL_SERVICE_NAME", "backend-flask")
            .env("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.4.2")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let end = Instant::now() + Duration::from_secs(20);
    while !http_get(port) {
        assert!(Instant::now() < end, "the recipe app did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(http_get(port));
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/xray_client.py"))
            .env("AWS_XRAY_DAEMON_ADDRESS", listen.udp.to_string()),
    );
    let spans =
        listen.wait_for(|s| s.iter().filter(|s| s["service"] == "backend-flask").count() >= 6);
    drop(app);
    // Past the flush: every trace has been checked.
    std::thread::sleep(Duration::from_secs(1));
    let (code, err) = interrupt(&mut listen);
    assert!(findings(&spans).is_empty(), "{spans:#?}");
    assert!(err.contains("0 instrumentation finding(s)"), "{err}");
    assert_eq!(code, Some(130), "{err}");
}

#[test]
fn findings_are_shown_under_the_trace_and_summed_up_at_the_end() {
    let ctx = TestContext::empty();
    let http = format!("127.0.0.1:{}", free_port());
    let mut child = ctx
        .tracectl()
        .args(["--color", "never", "listen", "--no-xray", "--view", "tree"])
        .args(["--otlp-grpc", "127.0.0.1:0", "--otlp-http", &http])
        .args(["--exit-after-spans", "3", "--flush-after", "200ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    peers::wait_for_port(http.parse().unwrap(), &mut child, "tracectl listen");
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/flawed_app.py"))
            .arg("orphan")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{http}")),
    );
    let status = wait_within(&mut child, DEADLINE);
    assert_eq!(status.code(), Some(0));
    let (mut text, mut err) = (String::new(), String::new());
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    // Without --check, stdout carries the trees alone; the findings come with the summary.
    assert!(text.starts_with("● flawed-orphan"), "{text}");
    assert!(!text.contains('⚠'), "{text}");
    assert!(
        err.contains("warning: 1 instrumentation finding(s):\n⚠ orphan-span  flawed-orphan: 1 span(s) (SELECT activities) name parent"),
        "{err}"
    );
    assert!(err.contains("  fix: end every span you start"), "{err}");
    assert!(err.contains("; 1 instrumentation finding(s)"), "{err}");

    // With --check, under the trace that has it, on stdout.
    let http = format!("127.0.0.1:{}", free_port());
    let mut child = ctx
        .tracectl()
        .args([
            "--color",
            "never",
            "listen",
            "--no-xray",
            "--view",
            "tree",
            "--check",
        ])
        .args(["--otlp-grpc", "127.0.0.1:0", "--otlp-http", &http])
        .args(["--exit-after-spans", "3", "--flush-after", "200ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    peers::wait_for_port(http.parse().unwrap(), &mut child, "tracectl listen");
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/flawed_app.py"))
            .arg("orphan")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{http}")),
    );
    assert_eq!(wait_within(&mut child, DEADLINE).code(), Some(0));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    let tree = text.find("● flawed-orphan").expect(&text);
    let finding = text.find("⚠ orphan-span  flawed-orphan:").expect(&text);
    assert!(tree < finding, "{text}");
}
