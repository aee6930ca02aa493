//! `listen --save`, `tracectl show` and `send-test --from`: spans from real SDKs saved, shown and
//! replayed span for span; files and paths that fight back.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::common::*;
use crate::listen::{Listen, run_ok_within, run_within, send_test_within};
use crate::peers;

/// A span as it must survive save -> show -> replay: everything but ids and absolute times.
/// Parents are named by their own shape, so the structure is compared, not the ids.
fn shapes(spans: &[Value]) -> Vec<String> {
    let by_id: BTreeMap<(String, String), &Value> = spans
        .iter()
        .map(|s| {
            (
                (
                    s["trace_id"].as_str().unwrap().to_string(),
                    s["span_id"].as_str().unwrap().to_string(),
                ),
                s,
            )
        })
        .collect();
    let mut out: Vec<String> = spans
        .iter()
        .map(|s| {
            let trace = s["trace_id"].as_str().unwrap().to_string();
            // The path of names from the root: the parent structure without ids.
            let mut path = vec![s["name"].as_str().unwrap().to_string()];
            let mut at: &Value = s;
            while let Some(parent) = at["parent_span_id"].as_str() {
                match by_id.get(&(trace.clone(), parent.to_string())) {
                    Some(p) => {
                        path.push(p["name"].as_str().unwrap().to_string());
                        at = *p;
                    }
                    None => {
                        path.push("<missing parent>".into());
                        break;
                    }
                }
                if path.len() > 64 {
                    break;
                }
            }
            let start = s["start_unix_nano"].as_u64().unwrap();
            let end = s["end_unix_nano"].as_u64().unwrap();
            serde_json::json!({
                "path": path,
                "service": s["service"],
                "kind": s["kind"],
                "duration_ns": end - start,
                "error": s["error"],
                "status_message": s["status_message"],
                "attributes": s["attributes"],
            })
            .to_string()
        })
        .collect();
    out.sort();
    out
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn saved_spans_show_and_replay_equal_span_for_span() {
    let ctx = TestContext::empty();
    let file = ctx.path("saved.jsonl");
    let first = Listen::start(&["--save", file.to_str().unwrap()]);
    // Real SDKs over gRPC and HTTP, the synthetic trace, and X-Ray segments.
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/otel_client.py"))
            .args([&first.grpc_endpoint(), "shop", "grpc"]),
    );
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/otel_client.py"))
            .args([&first.endpoint(), "web"]),
    );
    let (out, _) = send_test_within(
        &ctx,
        &["--to", "otlp", "--endpoint", &first.endpoint()],
        &[],
    );
    assert_exit(&out, 0);
    run_ok_within(
        peers::clean_python()
            .arg(manifest_dir().join("tests/support/xray_client.py"))
            .env("AWS_XRAY_DAEMON_ADDRESS", first.udp.to_string()),
    );
    let received = first.wait_for(|s| s.len() >= 9);
    drop(first);

    // show, as JSON lines: exactly what listen printed, ids and times included.
    let out = run_ok_within(ctx.tracectl().args(["--format", "json", "show"]).arg(&file));
    let shown = lines(&stdout(&out));
    let key = |s: &Value| (s["trace_id"].to_string(), s["span_id"].to_string());
    let mut a: Vec<String> = received
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s["source"] = "otlp".into();
            format!("{:?}{s}", key(&s))
        })
        .collect();
    let mut b: Vec<String> = shown.iter().map(|s| format!("{:?}{s}", key(s))).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // And as trees, with the services named.
    let out = run_ok_within(ctx.tracectl().args(["show", "--view", "tree"]).arg(&file));
    let text = stdout(&out);
    for service in ["● shop", "● web", "● tracectl-test", "● backend-flask"] {
        assert!(text.contains(service), "{text}");
    }

    // Replay into a second listen: new ids, new times, the same spans.
    let second = Listen::start(&[]);
    let (out, v) = send_test_within(
        &ctx,
        &[
            "--from",
            file.to_str().unwrap(),
            "--to",
            "otlp",
            "--endpoint",
            &second.grpc_endpoint(),
            "--protocol",
            "grpc",
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert_eq!(v["replayed"]["spans"], received.len());
    let replayed = second.wait_for(|s| s.len() >= received.len());
    assert_eq!(replayed.len(), received.len());
    assert_eq!(shapes(&replayed), shapes(&shown));
    let old_ids: Vec<&str> = shown
        .iter()
        .map(|s| s["span_id"].as_str().unwrap())
        .collect();
    let old_traces: Vec<&str> = shown
        .iter()
        .map(|s| s["trace_id"].as_str().unwrap())
        .collect();
    for span in &replayed {
        assert!(!old_ids.contains(&span["span_id"].as_str().unwrap()));
        assert!(!old_traces.contains(&span["trace_id"].as_str().unwrap()));
    }
    let earliest = |spans: &[Value]| {
        spans
            .iter()
            .map(|s| s["start_unix_nano"].as_u64().unwrap())
            .min()
            .unwrap()
    };
    assert!(earliest(&replayed) > earliest(&shown));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(
        now - earliest(&replayed) < 120_000_000_000,
        "shifted to now"
    );
}

#[test]
fn show_reads_the_collectors_file_exporter_layout() {
    let ctx = TestContext::empty();
    let fixture = manifest_dir().join("tests/fixtures/saved/collector_file_exporter.jsonl");
    let out = run_ok_within(
        ctx.tracectl()
            .args(["--color", "never", "show", "--view", "tree"])
            .arg(&fixture),
    );
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "● cinema-api  trace 27f34992fede51f15820645f027ae75a  2 spans  1000.0 ms  1 error(s)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("   └─ SELECT movies  client  400.0 ms  db.system=postgresql db.query.text=SELECT * FROM movies  ERROR connection reset"),
        "{text}"
    );
    let out = run_ok_within(
        ctx.tracectl()
            .args([
                "--color",
                "never",
                "show",
                "--view",
                "waterfall",
                "--width",
                "60",
            ])
            .arg(&fixture),
    );
    assert!(stdout(&out).contains("GET /movies"), "{}", stdout(&out));
}

#[test]
fn bad_lines_are_named_and_skipped_and_nothing_readable_is_bad_input() {
    let ctx = TestContext::empty();
    let good = std::fs::read_to_string(
        manifest_dir().join("tests/fixtures/saved/collector_file_exporter.jsonl"),
    )
    .unwrap();
    let first = good.lines().next().unwrap();
    let file = ctx.path("mixed.jsonl");
    std::fs::write(
        &file,
        format!(
            "{first}\nnot json\n\n{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{{\"trace_id\":\"ab\",\"name\":\"snake\"}}]}}]}}]}}\n{}",
            &first[..first.len() / 2]
        ),
    )
    .unwrap();
    let out = run_within(ctx.tracectl().args(["--format", "json", "show"]).arg(&file));
    assert_exit(&out, 0);
    assert_eq!(lines(&stdout(&out)).len(), 1);
    let err = stderr(&out);
    let name = file.display().to_string();
    assert!(
        err.contains(&format!("{name}:2: skipped: OTLP/JSON")),
        "{err}"
    );
    assert!(err.contains(&format!("{name}:4: skipped:")), "{err}");
    assert!(err.contains("invalid traceId"), "{err}");
    assert!(err.contains(&format!("{name}:5: skipped:")), "{err}");
    assert!(err.contains("3 line(s) skipped"), "{err}");

    let junk = ctx.path("junk.jsonl");
    std::fs::write(&junk, "\u{1b}[2J hello\n[1,2]\n").unwrap();
    let out = run_within(ctx.tracectl().arg("show").arg(&junk));
    assert_exit(&out, 2);
    assert!(
        !stderr(&out).contains('\u{1b}'),
        "escape reached the terminal"
    );
    let out = run_within(ctx.tracectl().arg("show").arg(ctx.path("missing.jsonl")));
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("missing.jsonl"), "{}", stderr(&out));
    let out = run_within(
        ctx.tracectl()
            .args(["send-test", "--to", "local", "--from"])
            .arg(&junk),
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no spans to replay"),
        "{}",
        stderr(&out)
    );
    let out = run_within(
        ctx.tracectl()
            .args(["send-test", "--to", "xray-daemon", "--from"])
            .arg(&file),
    );
    assert_exit(&out, 2);
}

#[test]
fn huge_files_and_lines_stream_in_bounded_memory() {
    let ctx = TestContext::empty();
    let file = ctx.path("huge.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        // 200 lines of 1000 spans: 200 000 spans in 20 000 traces, about 40 MB.
        for line in 0..200u64 {
            let spans: Vec<Value> = (0..1000u64)
                .map(|i| {
                    let n = line * 1000 + i;
                    serde_json::json!({
                        "traceId": format!("{:032x}", n / 10 + 1),
                        "spanId": format!("{:016x}", n + 1),
                        "name": format!("span {n}"),
                        "kind": 2,
                        "startTimeUnixNano": (1_000_000 + n).to_string(),
                        "endTimeUnixNano": (2_000_000 + n).to_string(),
                        "attributes": [{"key": "k", "value": {"stringValue": "v"}}],
                    })
                })
                .collect();
            let request =
                serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
            writeln!(out, "{request}").unwrap();
        }
        // One line longer than any read: skipped without being held.
        out.write_all(b"{\"resourceSpans\":[").unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..70 {
            out.write_all(&chunk).unwrap();
        }
        out.write_all(b"]}\n").unwrap();
    }
    let started = std::time::Instant::now();
    let out = output_within(
        std::process::Command::new("/usr/bin/time")
            .args(["-f", "maxrss %M"])
            .arg(env!("CARGO_BIN_EXE_tracectl"))
            .args(["--color", "never", "show", "--view", "tree"])
            .arg(&file)
            .stdin(Stdio::null()),
        std::time::Duration::from_secs(120),
    );
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("20000 traces, 200000 spans"), "{err}");
    assert!(err.contains(":201: skipped: longer than 64 MiB"), "{err}");
    let rss: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    // The store holds at most 64 MiB of spans waiting; the long line is never held.
    assert!(rss < 400 * 1024, "peak {rss} KiB");
    assert_eq!(stdout(&out).matches("\n● ").count() + 1, 20_000);
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
}

#[test]
fn a_save_path_that_cannot_be_written_is_refused_or_reported_once() {
    let ctx = TestContext::empty();
    for (path, words) in [
        (ctx.path(""), "is a folder"),
        (ctx.path("no/such/folder/x.jsonl"), "No such file"),
        (ctx.path("a-file/x.jsonl"), "Not a directory"),
    ] {
        std::fs::write(ctx.path("a-file"), "").unwrap();
        let out = run_within(
            ctx.tracectl()
                .args(["listen", "--no-xray", "--otlp-http", "127.0.0.1:0"])
                .args(["--otlp-grpc", "127.0.0.1:0", "--exit-after", "5", "--save"])
                .arg(&path),
        );
        assert_exit(&out, 1);
        assert!(stderr(&out).contains(words), "{}", stderr(&out));
    }
    // A full disk: saving stops with one warning, listen goes on showing spans.
    let listen = Listen::start(&["--save", "/dev/full"]);
    for _ in 0..3 {
        let (out, _) = send_test_within(
            &ctx,
            &["--to", "otlp", "--endpoint", &listen.endpoint()],
            &[],
        );
        assert_exit(&out, 0);
    }
    listen.wait_for(|s| s.len() == 9);
    let mut listen = listen;
    let pid = listen.child().id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = crate::listen::wait_within(listen.child(), crate::listen::DEADLINE);
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut listen.child().stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(
        err.matches("saving to /dev/full stopped").count(),
        1,
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("0 requests saved to /dev/full, 3 not saved"),
        "{err}"
    );
}
