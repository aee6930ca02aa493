//! Arrival under Transaction Search and the account checks doctor makes, against a loopback fake
//! of X-Ray's Transaction Search APIs (tests/support/xray_api_fake.py; moto has none) that checks
//! every SigV4 signature with botocore and records the OTLP it is sent.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::peers::{Guard, RecordingPeer, free_port, rotel_agent, wait_for_port};

const KEY_ID: &str = "AKIDTRANSACTIONSEARCH";
const SECRET: &str = "tRaNsAcTiOnSeArChSeCrEtKeYeXaMpLe0123456";
const REGION: &str = "eu-west-3";

struct Fake {
    port: u16,
    region: String,
    records: Arc<Mutex<Vec<serde_json::Value>>>,
    _peer: RecordingPeer,
}

impl Fake {
    fn start(options: &[&str]) -> Self {
        Self::start_in(REGION, options)
    }

    fn start_in(region: &str, options: &[&str]) -> Self {
        let mut args = vec![KEY_ID, SECRET, region];
        args.extend(options);
        let peer = RecordingPeer::start("xray_api_fake.py", "the X-Ray API fake", &args);
        Fake {
            port: peer.port,
            region: region.to_string(),
            records: Arc::clone(&peer.records),
            _peer: peer,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET.to_string()),
            ("AWS_REGION", self.region.clone()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
        ]
    }

    /// Every request seen, after a moment for the last lines to be read.
    fn records(&self) -> Vec<serde_json::Value> {
        std::thread::sleep(Duration::from_millis(200));
        self.records.lock().unwrap().clone()
    }

    /// The requests of one operation, once at least `n` were seen (at most 10 s).
    fn wait_ops(&self, op: &str, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = self.ops(op);
            if seen.len() >= n || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ops(&self, op: &str) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|r| r["op"] == op)
            .collect()
    }
}

fn send(fake: &Fake, args: &[&str]) -> (std::process::Output, serde_json::Value, Duration) {
    let ctx = TestContext::empty();
    let started = Instant::now();
    let (out, v) = send_test_json(&ctx, args, &fake.env());
    let took = started.elapsed();
    assert_no_leak("send-test", &out, &[SECRET]);
    (out, v, took)
}

/// The span ids of the trace send-test reported, as the fake recorded them.
fn sent_span_ids(fake: &Fake, xray_trace_id: &str) -> Vec<String> {
    fake.ops("OTLP")
        .iter()
        .flat_map(|r| r["spans"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["trace_id"] == xray_trace_id)
        .map(|s| s["span_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn wait_proves_arrival_through_a_retrieval_of_the_spans_sent() {
    let fake = Fake::start(&["--complete-after", "2"]);
    let (out, v, _) = send(&fake, &["--to", "xray-otlp", "--wait", "20"]);
    assert_exit(&out, 0);
    let r = result(&v, "xray-otlp");
    assert_eq!(r["state"], "arrived", "{v:#}");
    assert!(
        r["detail"].as_str().unwrap().contains("Transaction Search"),
        "{r}"
    );
    // Every request was signed as botocore signs.
    assert!(fake.records().iter().all(|r| r["valid"] == true));
    let id = v["xray_trace_id"].as_str().unwrap();
    assert_eq!(sent_span_ids(&fake, id).len(), 3);
    let starts = fake.ops("StartTraceRetrieval");
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0]["request"]["TraceIds"], serde_json::json!([id]));
    // Polled while SCHEDULED and RUNNING, then read COMPLETE.
    assert_eq!(fake.ops("ListRetrievedTraces").len(), 3);
    assert_eq!(fake.ops("GetTraceSegmentDestination").len(), 1);
}

#[test]
fn every_page_of_a_retrieval_is_read() {
    // One span per page: the proof needs the NextToken of each.
    let fake = Fake::start(&["--complete-after", "0", "--page-size", "1"]);
    let (out, v, _) = send(&fake, &["--to", "xray-otlp", "--wait", "20"]);
    assert_exit(&out, 0);
    assert_eq!(result(&v, "xray-otlp")["state"], "arrived", "{v:#}");
    let lists = fake.ops("ListRetrievedTraces");
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert!(lists[0]["request"].get("NextToken").is_none());
    assert!(lists[1]["request"]["NextToken"].is_string());
    assert!(lists[2]["request"]["NextToken"].is_string());
}

#[test]
fn a_retrieval_that_never_completes_is_bounded_by_wait() {
    let fake = Fake::start(&["--complete-after", "-1"]);
    let (out, v, took) = send(&fake, &["--to", "xray-otlp", "--wait", "3"]);
    assert_exit(&out, 1);
    let r = result(&v, "xray-otlp");
    assert_eq!(r["state"], "failed", "{v:#}");
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains("not found after 3 s"), "{detail}");
    assert!(detail.contains("RUNNING"), "{detail}");
    assert!(r["hint"].as_str().unwrap().contains("--wait"), "{r}");
    assert!(took < Duration::from_secs(3 + 5), "{took:?}");
    assert!(took >= Duration::from_secs(3), "{took:?}");
    // About one poll a second, not a busy loop.
    let polls = fake.ops("ListRetrievedTraces").len();
    assert!((2..=5).contains(&polls), "{polls} polls");
}

#[test]
fn throttled_retrievals_are_asked_again_within_wait() {
    // More throttles in a row than the SDK's own retries absorb: the wait keeps polling.
    let fake = Fake::start(&["--complete-after", "0", "--throttle", "7"]);
    let (out, v, took) = send(&fake, &["--to", "xray-otlp", "--wait", "30"]);
    let r = result(&v, "xray-otlp");
    assert_exit(&out, 0);
    assert_eq!(r["state"], "arrived", "{v:#}");
    assert!(took < Duration::from_secs(30 + 5), "{took:?}");
    let throttled = fake.records().iter().filter(|r| r["status"] == 400).count();
    assert_eq!(throttled, 7, "every throttle was met by another try");
}

#[test]
fn throttling_until_the_end_of_wait_says_so_at_wait() {
    let fake = Fake::start(&["--throttle", "1000000"]);
    let (out, v, took) = send(&fake, &["--to", "xray-otlp", "--wait", "4"]);
    assert_exit(&out, 1);
    let r = result(&v, "xray-otlp");
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains("not found after 4 s"), "{detail}");
    assert!(detail.contains("throttl"), "{detail}");
    assert!(took >= Duration::from_secs(4), "{took:?}");
    assert!(took < Duration::from_secs(4 + 5), "{took:?}");
}

#[test]
fn without_transaction_search_the_endpoint_refusal_says_how_to_enable_it() {
    let fake = Fake::start(&["--destination", "XRay"]);
    let (out, v, _) = send(&fake, &["--to", "xray-otlp", "--wait", "5"]);
    assert_exit(&out, 1);
    let r = result(&v, "xray-otlp");
    assert_eq!(r["status"], "400", "{r}");
    let hint = r["hint"].as_str().unwrap();
    assert!(
        hint.contains("aws logs put-resource-policy --region eu-west-3"),
        "{hint}"
    );
    assert!(
        hint.contains(
            "aws xray update-trace-segment-destination --region eu-west-3 --destination CloudWatchLogs"
        ),
        "{hint}"
    );
    assert_no_leak("refusal", &out, &[SECRET]);
}

#[test]
fn a_denied_retrieval_fails_the_wait_naming_the_permissions() {
    let fake = Fake::start(&["--deny", "StartTraceRetrieval"]);
    let (out, v, _) = send(&fake, &["--to", "xray-otlp", "--wait", "10"]);
    assert_exit(&out, 1);
    let r = result(&v, "xray-otlp");
    assert_eq!(r["state"], "failed", "{v:#}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("AccessDeniedException"),
        "{r}"
    );
    assert!(
        r["hint"]
            .as_str()
            .unwrap()
            .contains("xray:StartTraceRetrieval"),
        "{r}"
    );
}

#[test]
fn denied_sending_names_the_write_policy() {
    let fake = Fake::start(&["--deny", "OTLP"]);
    let (out, v, _) = send(&fake, &["--to", "xray-otlp"]);
    assert_exit(&out, 1);
    let r = result(&v, "xray-otlp");
    assert_eq!(r["status"], "403", "{r}");
    assert!(
        r["hint"]
            .as_str()
            .unwrap()
            .contains("AWSXrayWriteOnlyPolicy"),
        "{r}"
    );
}

/// `doctor --format json` for the two account checks, the region given as a flag (so X-Ray counts
/// as configured even in an empty folder).
fn doctor(
    fake: &Fake,
    ctx: &TestContext,
    extra: &[&str],
) -> (std::process::Output, serde_json::Value) {
    let mut env = fake.env();
    env.retain(|(k, _)| *k != "AWS_REGION");
    env.push(("TRACECTL_NOW", TODAY.to_string()));
    let mut args = vec![
        "--aws-region",
        REGION,
        "--check",
        "transaction-search",
        "--check",
        "xray-otlp-permission",
    ];
    args.extend_from_slice(extra);
    let (out, v) = json_run(ctx, "doctor", &args, &env);
    assert_no_leak("doctor", &out, &[SECRET]);
    (out, v)
}

#[test]
fn doctor_passes_an_account_with_transaction_search_on() {
    let fake = Fake::start(&[]);
    let (out, v) = doctor(&fake, &TestContext::empty(), &[]);
    assert_exit(&out, 0);
    assert_eq!(check(&v, "transaction-search")["status"], "pass", "{v:#}");
    let permission = check(&v, "xray-otlp-permission");
    assert_eq!(permission["status"], "pass", "{v:#}");
    // The permission probe stored nothing: a signed export with no spans.
    let otlp = fake.wait_ops("OTLP", 1);
    assert_eq!(otlp.len(), 1);
    assert_eq!(otlp[0]["valid"], true, "{otlp:?}");
    assert_eq!(otlp[0]["spans"], serde_json::json!([]));
}

#[test]
fn doctor_warns_while_the_switch_is_pending() {
    let fake = Fake::start(&["--status", "PENDING"]);
    let (out, v) = doctor(
        &fake,
        &TestContext::empty(),
        &["--check", "transaction-search"],
    );
    let c = check(&v, "transaction-search");
    assert_eq!(c["status"], "warn", "{v:#}");
    assert!(c["detail"].as_str().unwrap().contains("PENDING"), "{c}");
    assert_exit(&out, 0);
}

#[test]
fn doctor_fails_transaction_search_off_with_the_exact_commands() {
    let fake = Fake::start(&["--destination", "XRay"]);
    let (out, v) = doctor(&fake, &TestContext::empty(), &[]);
    assert_exit(&out, 1);
    let c = check(&v, "transaction-search");
    assert_eq!(c["status"], "fail", "{v:#}");
    let hint = c["hint"].as_str().unwrap();
    let policy = hint
        .lines()
        .find(|l| l.trim_start().starts_with("aws logs put-resource-policy"))
        .unwrap_or_else(|| panic!("{hint}"));
    // The policy document is valid JSON naming this account, region and X-Ray.
    let json = policy
        .split_once("--policy-document '")
        .and_then(|(_, rest)| rest.trim_end().strip_suffix('\''))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        doc["Statement"][0]["Principal"]["Service"],
        "xray.amazonaws.com"
    );
    assert!(
        json.contains("arn:aws:logs:eu-west-3:123456789012:log-group:aws/spans:*"),
        "{json}"
    );
    assert!(hint.lines().any(|l| l.trim()
        == "aws xray update-trace-segment-destination --region eu-west-3 --destination CloudWatchLogs"), "{hint}");
    // The probe tells the 400 from a refusal: signed right, Transaction Search missing.
    let p = check(&v, "xray-otlp-permission");
    assert_eq!(p["status"], "fail", "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("Transaction Search is off"),
        "{p}"
    );
}

#[test]
fn doctor_names_the_policy_when_sending_is_denied() {
    let fake = Fake::start(&["--deny", "OTLP"]);
    let (out, v) = doctor(&fake, &TestContext::empty(), &[]);
    assert_exit(&out, 1);
    let p = check(&v, "xray-otlp-permission");
    assert_eq!(p["status"], "fail", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("HTTP 403"), "{p}");
    assert!(
        p["hint"]
            .as_str()
            .unwrap()
            .contains("AWSXrayWriteOnlyPolicy"),
        "{p}"
    );
    assert_eq!(check(&v, "transaction-search")["status"], "pass");
}

#[test]
fn doctor_names_the_permission_when_the_destination_cannot_be_read() {
    let fake = Fake::start(&["--deny", "GetTraceSegmentDestination"]);
    let (out, v) = doctor(
        &fake,
        &TestContext::empty(),
        &["--check", "transaction-search"],
    );
    assert_exit(&out, 1);
    let c = check(&v, "transaction-search");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("AccessDeniedException"),
        "{c}"
    );
    assert!(
        c["hint"]
            .as_str()
            .unwrap()
            .contains("xray:GetTraceSegmentDestination"),
        "{c}"
    );
}

#[test]
fn a_project_still_on_the_daemon_is_warned_not_failed() {
    let fake = Fake::start(&["--destination", "XRay"]);
    let ctx = TestContext::fixture("cruddur");
    assert_exit(&run(ctx.tracectl().args(INIT_FLAGS)), 0);
    let (out, v) = doctor(&fake, &ctx, &[]);
    let c = check(&v, "transaction-search");
    assert_eq!(c["status"], "warn", "{v:#}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("tracectl init --migrate"),
        "{c}"
    );
    assert!(
        c["hint"]
            .as_str()
            .unwrap()
            .contains("update-trace-segment-destination"),
        "{c}"
    );
    assert_eq!(check(&v, "xray-otlp-permission")["status"], "warn", "{v:#}");
    assert_exit(&out, 0);
}

/// A project in collector mode: the backend exports to the `otel-collector` service, which
/// publishes its OTLP/HTTP port as ${COLLECTOR_PORT}.
fn collector_project(ports: &str) -> TestContext {
    let ctx = TestContext::empty();
    ctx.write(
        "backend-flask/app.py",
        "from flask import Flask\napp = Flask(__name__)\n",
    );
    ctx.write(
        "docker-compose.yml",
        &format!(
            "services:\n  backend-flask:\n    build: ./backend-flask\n    environment:\n      OTEL_EXPORTER_OTLP_ENDPOINT: \"http://otel-collector:4318\"\n  otel-collector:\n    image: streamfold/rotel\n{ports}"
        ),
    );
    ctx
}

#[test]
fn collector_mode_is_proven_end_to_end_through_a_real_collector() {
    // rotel, a real collector, converts OTLP to segments and signs PutTraceSegments (for
    // us-east-1 whatever its region flag says); under Transaction Search they become spans.
    let fake = Fake::start_in("us-east-1", &["--complete-after", "1"]);
    let http = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(rotel_agent())
        .args(["start", "--exporter", "aws-xray"])
        .args(["--xray-exporter-region", "us-east-1"])
        .args([
            "--xray-exporter-custom-endpoint",
            &format!("http://127.0.0.1:{}", fake.port),
        ])
        .args(["--otlp-http-endpoint", &http])
        .args([
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .env_clear()
        .envs(fake.env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start rotel-agent: {e}: provision TRACECTL_TESTBED"));
    wait_for_port(http.parse().unwrap(), &mut child, "rotel-agent");
    let _rotel = Guard(child);
    let port = http.rsplit_once(':').unwrap().1.to_string();
    let ctx = collector_project("    ports:\n      - \"${COLLECTOR_PORT:-4318}:4318\"\n");
    let mut env = fake.env();
    env.push(("COLLECTOR_PORT", port.clone()));
    let (out, v) = send_test_json(&ctx, &["--to", "collector", "--wait", "30"], &env);
    assert_exit(&out, 0);
    let r = result(&v, "collector");
    assert_eq!(
        r["target"],
        format!("http://127.0.0.1:{port}/v1/traces"),
        "{r}"
    );
    assert_eq!(r["state"], "arrived", "{v:#}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .starts_with("X-Ray: found by Transaction Search"),
        "{r}"
    );
    // What the retrieval found is what the collector delivered, signed as botocore signs.
    let id = v["xray_trace_id"].as_str().unwrap();
    let puts = fake.ops("PutTraceSegments");
    assert!(puts.iter().all(|p| p["valid"] == true), "{puts:?}");
    let delivered: Vec<_> = puts
        .iter()
        .flat_map(|p| p["spans"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["trace_id"] == id)
        .collect();
    assert_eq!(delivered.len(), 3, "{puts:?}");
}

#[test]
fn a_collector_that_publishes_no_port_is_a_clear_usage_error() {
    let fake = Fake::start(&[]);
    let ctx = collector_project("");
    let before = ctx.snapshot();
    let (out, v) = {
        let out = run(&mut json_command(
            &ctx,
            "send-test",
            &["--to", "collector"],
            &fake.env(),
        ));
        (out.clone(), stderr(&out))
    };
    assert_exit(&out, 2);
    assert!(
        v.contains("'otel-collector' does not publish port 4318"),
        "{v}"
    );
    assert!(v.contains("--endpoint"), "{v}");
    assert_eq!(ctx.snapshot(), before);
    assert!(fake.records().is_empty());
}

#[test]
fn a_project_without_a_collector_says_how_to_get_one() {
    let ctx = TestContext::empty();
    let out = run(&mut json_command(
        &ctx,
        "send-test",
        &["--to", "collector"],
        &[],
    ));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("tracectl init --migrate"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hostile_retrievals_are_bounded_by_wait() {
    // A server that never stops paging, then one that never answers a poll.
    for options in [
        &["--endless-pages"][..],
        &["--hang", "ListRetrievedTraces"][..],
    ] {
        let fake = Fake::start(options);
        let (out, v, took) = send(&fake, &["--to", "xray-otlp", "--wait", "3"]);
        assert_exit(&out, 1);
        let r = result(&v, "xray-otlp");
        assert_eq!(r["state"], "failed", "{options:?}: {v:#}");
        assert!(
            r["detail"]
                .as_str()
                .unwrap()
                .contains("not found after 3 s"),
            "{options:?}: {r}"
        );
        assert!(
            took >= Duration::from_secs(3) && took < Duration::from_secs(3 + 5),
            "{options:?}: {took:?}"
        );
    }
}

#[test]
fn doctor_bounds_a_silent_destination_lookup_by_timeout() {
    let fake = Fake::start(&["--hang", "GetTraceSegmentDestination"]);
    let started = Instant::now();
    let (out, v) = doctor(
        &fake,
        &TestContext::empty(),
        &["--check", "transaction-search", "--timeout", "2s"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(2 + 5),
        "{:?}",
        started.elapsed()
    );
    assert_exit(&out, 1);
    let c = check(&v, "transaction-search");
    assert!(c["detail"].as_str().unwrap().contains("timed out"), "{c}");
}
