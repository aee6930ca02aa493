//! `tracectl send-test` against real peers (rotel, moto, a UDP socket) and, for Honeycomb's API and
//! faults no real server produces on demand, a loopback fake written from the documented contract.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use serde_json::{Value, json};

use crate::common::*;
use crate::fake_http::{FakeServer, Reply, Silent, closed_port};
use crate::peers::{Moto, Rotel};

#[test]
fn rotel_receives_the_trace_over_protobuf_json_and_gzip() {
    let rotel = Rotel::start();
    let ctx = TestContext::empty();
    let cases = [
        ("http/protobuf", "none"),
        ("http/json", "none"),
        ("http/protobuf", "gzip"),
        ("http/json", "gzip"),
    ];
    for (i, (protocol, compression)) in cases.iter().enumerate() {
        let service = format!("svc-{i}");
        let (out, v) = send_test_json(
            &ctx,
            &[
                "--to",
                "otlp",
                "--endpoint",
                &rotel.endpoint(),
                "--protocol",
                protocol,
                "--compression",
                compression,
                "--service-name",
                &service,
                "--attribute",
                "deploy=blue",
            ],
            &[],
        );
        assert_exit(&out, 0);
        let trace_id = v["trace_id"].as_str().unwrap().to_string();
        assert_eq!(result(&v, "otlp")["state"], "accepted");
        let spans =
            rotel.wait_for_spans(|s| s.iter().filter(|s| s.trace_id == trace_id).count() == 3);
        let spans: Vec<_> = spans
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect();
        let root = spans
            .iter()
            .find(|s| s.kind == "SPAN_KIND_SERVER")
            .expect("a SERVER span");
        let handler = spans
            .iter()
            .find(|s| s.kind == "SPAN_KIND_INTERNAL")
            .expect("an INTERNAL span");
        let db = spans
            .iter()
            .find(|s| s.kind == "SPAN_KIND_CLIENT")
            .expect("a CLIENT span");
        assert_eq!(root.name, "GET /api/activities/home");
        assert!(root.parent_id.is_empty());
        assert_eq!(handler.name, "home_activities");
        assert_eq!(handler.parent_id, root.span_id);
        assert_eq!(db.parent_id, handler.span_id);
        assert_eq!(root.resource_attr("service.name"), Some(service.as_str()));
        assert_eq!(root.resource_attr("tracectl.test"), Some("true"));
        assert_eq!(root.resource_attr("tracectl.run_id"), v["run_id"].as_str());
        assert_eq!(root.attr("http.route"), Some("/api/activities/home"));
        assert_eq!(root.attr("http.response.status_code"), Some("200"));
        assert_eq!(root.attr("deploy"), Some("blue"));
        assert_eq!(db.attr("db.system"), Some("postgresql"));
        assert!(db.attr("db.query.text").unwrap().starts_with("SELECT"));
        // The trace id starts with the epoch seconds, so X-Ray accepts the same id.
        let epoch = u32::from_str_radix(&trace_id[..8], 16).unwrap() as u64;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(epoch) < 60, "{trace_id}");
        assert_eq!(
            v["xray_trace_id"],
            format!("1-{}-{}", &trace_id[..8], &trace_id[8..])
        );
    }
}

#[test]
fn otel_environment_alone_configures_the_destination() {
    let rotel = Rotel::start();
    let ctx = TestContext::empty();
    let (out, v) = send_test_json(
        &ctx,
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".into()),
            ("OTEL_SERVICE_NAME", "from-env".into()),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=ci".into(),
            ),
        ],
    );
    assert_exit(&out, 0);
    let trace_id = v["trace_id"].as_str().unwrap().to_string();
    let spans = rotel.wait_for_spans(|s| s.iter().any(|s| s.trace_id == trace_id));
    let span = spans.iter().find(|s| s.trace_id == trace_id).unwrap();
    assert_eq!(span.resource_attr("service.name"), Some("from-env"));
    assert_eq!(span.resource_attr("deployment.environment"), Some("ci"));
}

#[test]
fn moto_stores_the_segment_and_wait_proves_it() {
    let moto = Moto::start();
    let ctx = TestContext::empty();
    let (out, v) = send_test_json(
        &ctx,
        &[
            "--to",
            "xray",
            "--wait",
            "20",
            "--service-name",
            "backend-flask",
        ],
        &moto.env(),
    );
    assert_exit(&out, 0);
    let r = result(&v, "xray");
    assert_eq!(r["state"], "arrived", "{v}");
    assert!(
        r["link"]
            .as_str()
            .unwrap()
            .contains("region=eu-west-3#xray:traces/1-")
    );

    // Read it back with boto3, independently of tracectl's own check.
    let xray_id = v["xray_trace_id"].as_str().unwrap();
    let script = format!(
        "import boto3, json\nc = boto3.client('xray', endpoint_url='{}', region_name='eu-west-3', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         t = c.batch_get_traces(TraceIds=['{xray_id}'])['Traces']\nprint(t[0]['Segments'][0]['Document'])\n",
        moto.url
    );
    let py = run_ok(std::process::Command::new(crate::peers::python()).args(["-c", &script]));
    let doc: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(doc["trace_id"], xray_id);
    assert_eq!(doc["name"], "backend-flask");
    assert_eq!(doc["subsegments"][0]["name"], "home_activities");
    assert_eq!(
        doc["subsegments"][0]["subsegments"][0]["sql"]["database_type"],
        "PostgreSQL"
    );
}

#[test]
fn aws_profile_supplies_credentials_and_region() {
    let moto = Moto::start();
    let ctx = TestContext::empty();
    ctx.write("aws/config", "[profile ci]\nregion = eu-west-3\n");
    ctx.write(
        "aws/credentials",
        "[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    );
    let env = [
        (
            "AWS_CONFIG_FILE",
            ctx.path("aws/config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            ctx.path("aws/credentials").display().to_string(),
        ),
        ("AWS_PROFILE", "ci".to_string()),
        ("AWS_ENDPOINT_URL", moto.url.clone()),
    ];
    let (out, v) = send_test_json(&ctx, &["--to", "xray"], &env);
    assert_exit(&out, 0);
    assert_eq!(result(&v, "xray")["state"], "accepted", "{v}");
    assert_eq!(result(&v, "xray")["target"], "X-Ray API (eu-west-3)");
}

#[test]
fn missing_credentials_and_region_get_hints() {
    let ctx = TestContext::empty();
    let moto_less = [(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", closed_port()),
    )];
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "xray", "--aws-region", "eu-west-3"],
        &moto_less,
    );
    assert_exit(&out, 1);
    let r = result(&v, "xray");
    assert_eq!(r["status"], "NoCredentials", "{v}");
    assert!(
        r["hint"].as_str().unwrap().contains("AWS_ACCESS_KEY_ID"),
        "{v}"
    );
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "xray"],
        &[
            ("AWS_ACCESS_KEY_ID", "a".into()),
            ("AWS_SECRET_ACCESS_KEY", "b".into()),
        ],
    );
    assert_exit(&out, 1);
    assert!(
        result(&v, "xray")["hint"]
            .as_str()
            .unwrap()
            .contains("--aws-region"),
        "{v}"
    );
}

#[test]
fn access_denied_names_the_iam_action_and_unprocessed_segments_fail() {
    let denied = FakeServer::start(|_, _| {
        Reply::json(
            403,
            json!({"message": "User is not authorized to perform: xray:PutTraceSegments"}),
        )
        .header("x-amzn-ErrorType", "AccessDeniedException")
    });
    let ctx = TestContext::empty();
    let env = [
        ("AWS_ACCESS_KEY_ID", "a".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "b".to_string()),
        ("AWS_ENDPOINT_URL", denied.url()),
    ];
    let (out, v) = send_test_json(&ctx, &["--to", "xray", "--aws-region", "eu-west-3"], &env);
    assert_exit(&out, 1);
    let r = result(&v, "xray");
    assert_eq!(r["status"], "AccessDeniedException", "{v}");
    assert!(
        r["hint"]
            .as_str()
            .unwrap()
            .contains("xray:PutTraceSegments"),
        "{v}"
    );

    let unprocessed = FakeServer::start(|_, _| {
        Reply::json(
            200,
            json!({"UnprocessedTraceSegments": [{"Id": "abc", "ErrorCode": "InvalidSegment", "Message": "bad document"}]}),
        )
    });
    let env = [
        ("AWS_ACCESS_KEY_ID", "a".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "b".to_string()),
        ("AWS_ENDPOINT_URL", unprocessed.url()),
    ];
    let (out, v) = send_test_json(&ctx, &["--to", "xray", "--aws-region", "eu-west-3"], &env);
    assert_exit(&out, 1);
    let r = result(&v, "xray");
    assert_eq!(r["status"], "InvalidSegment", "{v}");
    assert!(
        r["detail"].as_str().unwrap().contains("bad document"),
        "{v}"
    );
}

#[test]
fn daemon_gets_one_valid_datagram() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ctx = TestContext::empty();
    let address = format!("tcp:127.0.0.1:1 udp:{}", socket.local_addr().unwrap());
    let (out, v) = send_test_json(
        &ctx,
        &["--service-name", "backend-flask"],
        &[("AWS_XRAY_DAEMON_ADDRESS", address)],
    );
    assert_exit(&out, 0);
    assert_eq!(result(&v, "xray-daemon")["state"], "sent");
    let mut buf = vec![0u8; 70_000];
    let n = socket.recv(&mut buf).unwrap();
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(header).unwrap(),
        json!({"format": "json", "version": 1})
    );
    let doc: Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["trace_id"], v["xray_trace_id"]);
    assert_eq!(doc["name"], "backend-flask");
    assert_eq!(doc["http"]["response"]["status"], 200);
    assert_eq!(
        doc["subsegments"][0]["subsegments"][0]["namespace"],
        "remote"
    );
}

#[test]
fn daemon_that_is_not_running_fails() {
    let ctx = TestContext::empty();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "xray-daemon"],
        &[("AWS_XRAY_DAEMON_ADDRESS", format!("127.0.0.1:{port}"))],
    );
    assert_exit(&out, 1);
    let r = result(&v, "xray-daemon");
    assert!(
        r["detail"].as_str().unwrap().contains("nothing listens"),
        "{v}"
    );
}

fn honeycomb_fake(access_queries: bool) -> FakeServer {
    FakeServer::start(
        move |req, _| match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/v1/traces") => {
                Reply::new(200).header("content-type", "application/x-protobuf")
            }
            ("GET", "/1/auth") => Reply::json(
                200,
                json!({"id": "k1", "type": if access_queries { "configuration" } else { "ingest" },
                   "api_key_access": {"events": true, "queries": access_queries},
                   "environment": {"name": "Test", "slug": "test"}, "team": {"name": "Acme", "slug": "acme"}}),
            ),
            ("POST", p) if p.starts_with("/1/queries/") => Reply::json(200, json!({"id": "q1"})),
            ("POST", p) if p.starts_with("/1/query_results/") => {
                Reply::json(200, json!({"id": "r1", "complete": false}))
            }
            ("GET", p) if p.starts_with("/1/query_results/") => Reply::json(
                200,
                json!({"id": "r1", "complete": true, "data": {"results": [{"data": {"COUNT": 3}}]}}),
            ),
            _ => Reply::json(404, json!({"error": "not found"})),
        },
    )
}

#[test]
fn honeycomb_accepts_links_and_reports_unverifiable_arrival_honestly() {
    let fake = honeycomb_fake(false);
    let ctx = TestContext::empty();
    let env = [
        ("HONEYCOMB_API_ENDPOINT", fake.url()),
        ("HONEYCOMB_API_KEY", INGEST_US.to_string()),
    ];
    let (out, v) = send_test_json(
        &ctx,
        &["--wait", "5", "--service-name", "backend-flask"],
        &env,
    );
    assert_exit(&out, 0);
    let r = result(&v, "honeycomb");
    assert_eq!(r["state"], "unverified", "{v}");
    assert!(
        r["detail"].as_str().unwrap().contains("cannot run queries"),
        "{v}"
    );
    let link = r["link"].as_str().unwrap();
    assert!(
        link.contains("/acme/environments/test/datasets/backend-flask/trace?trace_id="),
        "{link}"
    );
    let export = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/traces")
        .unwrap();
    assert_eq!(export.header("x-honeycomb-team"), Some(INGEST_US));
    assert_eq!(
        export.header("content-type"),
        Some("application/x-protobuf")
    );
    assert!(!stdout(&out).contains(INGEST_US) && !stderr(&out).contains(INGEST_US));
}

#[test]
fn honeycomb_query_proves_arrival_for_keys_that_may_query() {
    let fake = honeycomb_fake(true);
    let ctx = TestContext::empty();
    let env = [
        ("HONEYCOMB_API_ENDPOINT", fake.url()),
        ("HONEYCOMB_API_KEY", "uOexnOwfIU3LecPs1cYpLC".to_string()),
    ];
    let (out, v) = send_test_json(&ctx, &["--wait", "10", "--to", "honeycomb"], &env);
    assert_exit(&out, 0);
    assert_eq!(result(&v, "honeycomb")["state"], "arrived", "{v}");
    let query = fake
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/1/queries/"))
        .unwrap();
    let body: Value = serde_json::from_slice(&query.body).unwrap();
    assert_eq!(body["filters"][0]["value"], v["trace_id"]);
}

#[test]
fn project_env_file_supplies_key_and_service() {
    let fake = honeycomb_fake(false);
    let ctx = TestContext::fixture("cruddur");
    assert_exit(
        &run(ctx.tracectl().args([
            "init",
            "--no-xray",
            "--honeycomb-api-key",
            INGEST_US,
            "--service-name",
            "cruddur",
        ])),
        0,
    );
    let (out, v) = send_test_json(&ctx, &[], &[("HONEYCOMB_API_ENDPOINT", fake.url())]);
    assert_exit(&out, 0);
    assert_eq!(v["service_name"], "cruddur");
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert_eq!(result(&v, "honeycomb")["state"], "accepted");
}

fn fault(reply: impl Fn(usize) -> Reply + Send + Sync + 'static) -> FakeServer {
    FakeServer::start(move |_, i| reply(i))
}

#[test]
fn fault_matrix_with_hints_and_bounded_retries() {
    let ctx = TestContext::empty();
    let otlp = |server: &FakeServer, extra: &[&str]| {
        let mut args = vec!["--to", "otlp", "--timeout", "3s"];
        args.extend(extra);
        send_test_json(
            &ctx,
            &args,
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", server.url())],
        )
    };

    // 401 with Honeycomb's body: the key is wrong.
    let s = fault(|_| {
        Reply::json(
            401,
            json!({"error": "unknown API key - check your credentials"}),
        )
    });
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "honeycomb"],
        &[
            ("HONEYCOMB_API_ENDPOINT", s.url()),
            ("HONEYCOMB_API_KEY", INGEST_US.into()),
        ],
    );
    assert_exit(&out, 1);
    let r = result(&v, "honeycomb");
    assert_eq!(r["status"], "401");
    assert!(
        r["detail"].as_str().unwrap().contains("unknown API key"),
        "{v}"
    );
    assert!(
        r["hint"].as_str().unwrap().contains("HONEYCOMB_API_KEY"),
        "{v}"
    );
    assert_eq!(r["attempts"], 1);
    assert!(!stdout(&out).contains(INGEST_US));

    // 403: the key lacks ingest permission.
    let s = fault(|_| Reply::json(403, json!({"error": "forbidden"})));
    let (_, v) = send_test_json(
        &ctx,
        &["--to", "honeycomb"],
        &[
            ("HONEYCOMB_API_ENDPOINT", s.url()),
            ("HONEYCOMB_API_KEY", INGEST_US.into()),
        ],
    );
    assert!(
        result(&v, "honeycomb")["hint"]
            .as_str()
            .unwrap()
            .contains("Send Events"),
        "{v}"
    );

    // 404 because the base URL already holds /v1/traces.
    let s = fault(|_| {
        Reply::new(404)
            .header("content-type", "text/plain")
            .body(b"404 page not found".to_vec())
    });
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp"],
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("{}/v1/traces", s.url()),
        )],
    );
    assert_exit(&out, 1);
    assert!(
        result(&v, "otlp")["hint"]
            .as_str()
            .unwrap()
            .contains("twice"),
        "{v}"
    );
    assert_eq!(s.requests()[0].path, "/v1/traces/v1/traces");

    // 415: wrong encoding.
    let s = fault(|_| Reply::new(415));
    let (_, v) = otlp(&s, &[]);
    assert!(
        result(&v, "otlp")["hint"]
            .as_str()
            .unwrap()
            .contains("--protocol"),
        "{v}"
    );
    assert_eq!(result(&v, "otlp")["attempts"], 1);

    // 400 is never retried.
    let s = fault(|_| Reply::new(400));
    let (_, v) = otlp(&s, &[]);
    assert_eq!(result(&v, "otlp")["attempts"], 1);
    assert_eq!(s.requests().len(), 1);

    // 429 with Retry-After, then 200: one retry, after the pause asked for.
    let s = fault(|i| {
        if i == 0 {
            Reply::new(429).header("retry-after", "1")
        } else {
            Reply::new(200)
        }
    });
    let (out, v) = otlp(&s, &[]);
    assert_exit(&out, 0);
    let r = result(&v, "otlp");
    assert_eq!(r["attempts"], 2, "{v}");
    assert!(r["latency_ms"].as_u64().unwrap() >= 900, "{v}");

    // 503 forever: retried, and bounded by --timeout.
    let s = fault(|_| Reply::new(503));
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp", "--timeout", "1s"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", s.url())],
    );
    assert_exit(&out, 1);
    let r = result(&v, "otlp");
    assert!(r["attempts"].as_u64().unwrap() >= 3, "{v}");
    assert!(r["latency_ms"].as_u64().unwrap() < 2500, "{v}");
    assert!(r["detail"].as_str().unwrap().contains("--timeout"), "{v}");

    // Partial success: rejected spans fail, a message alone warns.
    let rejected = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "spans too old".into(),
        }),
    };
    let body = rejected.encode_to_vec();
    let s = fault(move |_| {
        Reply::new(200)
            .header("content-type", "application/x-protobuf")
            .body(body.clone())
    });
    let (out, v) = otlp(&s, &[]);
    assert_exit(&out, 1);
    assert_eq!(result(&v, "otlp")["rejected_spans"], 2);
    assert!(
        result(&v, "otlp")["detail"]
            .as_str()
            .unwrap()
            .contains("spans too old")
    );
    let s = fault(|_| {
        Reply::json(
            200,
            json!({"partialSuccess": {"errorMessage": "attribute truncated"}}),
        )
    });
    let (out, v) = otlp(&s, &["--protocol", "http/json"]);
    assert_exit(&out, 0);
    assert_eq!(result(&v, "otlp")["warning"], "attribute truncated");
}

#[test]
fn transport_faults_are_named() {
    let ctx = TestContext::empty();
    let endpoint = |url: String| vec![("OTEL_EXPORTER_OTLP_ENDPOINT", url)];

    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp"],
        &endpoint(format!("http://127.0.0.1:{}", closed_port())),
    );
    assert_exit(&out, 1);
    let r = result(&v, "otlp");
    assert!(
        r["detail"].as_str().unwrap().contains("connection refused"),
        "{v}"
    );
    assert!(
        r["hint"].as_str().unwrap().contains("nothing listens"),
        "{v}"
    );

    let silent = Silent::start();
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp", "--timeout", "500ms"],
        &endpoint(format!("http://{}", silent.addr)),
    );
    assert_exit(&out, 1);
    assert_eq!(result(&v, "otlp")["detail"], "timed out", "{v}");

    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp", "--timeout", "5s"],
        &endpoint("http://tracectl-test.invalid:4318".into()),
    );
    assert_exit(&out, 1);
    assert!(
        result(&v, "otlp")["detail"]
            .as_str()
            .unwrap()
            .contains("DNS"),
        "{v}"
    );

    let plain = FakeServer::start(|_, _| Reply::new(200));
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp"],
        &endpoint(format!("https://{}", plain.addr)),
    );
    assert_exit(&out, 1);
    assert!(
        result(&v, "otlp")["detail"]
            .as_str()
            .unwrap()
            .contains("TLS"),
        "{v}"
    );
}

#[test]
fn bad_input_exits_2_and_human_output_is_a_table() {
    let ctx = TestContext::empty();
    let out = run(ctx
        .tracectl()
        .args(["send-test", "--count", "5", "--to", "xray-daemon"]));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("load mode"), "{}", stderr(&out));
    assert_exit(&run(ctx.tracectl().args(["send-test", "--count", "0"])), 2);
    let out = run(ctx.tracectl().args([
        "send-test",
        "--to",
        "otlp",
        "--endpoint",
        "http://h",
        "--timeout",
        "soon",
    ]));
    assert_exit(&out, 2);
    let out = run(ctx
        .tracectl()
        .args(["send-test", "--to", "otlp", "--endpoint", "ftp://h"]));
    assert_exit(&out, 2);

    let rotel = Rotel::start();
    let out =
        run(ctx
            .tracectl()
            .args(["send-test", "--to", "otlp", "--endpoint", &rotel.endpoint()]));
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("✓ otlp"), "{text}");
    assert!(text.contains("accepted"), "{text}");
    assert!(text.contains("add --wait"), "{text}");
}

#[test]
fn untrusted_certificates_fail_until_the_ca_is_given() {
    let tls = crate::peers::TlsServer::start();
    let ctx = TestContext::empty();
    let url = format!("https://127.0.0.1:{}", tls.port);
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp"],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", url.clone())],
    );
    assert_exit(&out, 1);
    let r = result(&v, "otlp");
    assert!(r["detail"].as_str().unwrap().contains("TLS"), "{v}");
    assert!(
        r["hint"]
            .as_str()
            .unwrap()
            .contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        "{v}"
    );
    let (out, v) = send_test_json(
        &ctx,
        &["--to", "otlp"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url),
            (
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                tls.cert.display().to_string(),
            ),
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(result(&v, "otlp")["state"], "accepted", "{v}");
}

#[test]
fn proxies_from_the_environment_are_used_unless_no_proxy_says_otherwise() {
    let proxy = FakeServer::start(|_, _| Reply::new(200));
    let ctx = TestContext::empty();
    let env = [
        ("HTTP_PROXY", proxy.url()),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector.tracectl.invalid:4318".to_string(),
        ),
    ];
    let (out, v) = send_test_json(&ctx, &["--to", "otlp"], &env);
    assert_exit(&out, 0);
    assert_eq!(result(&v, "otlp")["state"], "accepted", "{v}");
    assert_eq!(
        proxy.requests()[0].path,
        "http://collector.tracectl.invalid:4318/v1/traces"
    );
    let mut env = env.to_vec();
    env.push(("NO_PROXY", "tracectl.invalid".to_string()));
    let (out, _) = send_test_json(&ctx, &["--to", "otlp", "--timeout", "5s"], &env);
    assert_exit(&out, 1);
    assert_eq!(proxy.requests().len(), 1);
}

#[test]
fn assumed_role_credentials_come_from_sts_at_the_endpoint() {
    let moto = Moto::start();
    let ctx = TestContext::empty();
    ctx.write(
        "aws/config",
        "[profile base]\nregion = eu-west-3\n\n[profile deploy]\nregion = eu-west-3\nsource_profile = base\n\
         role_arn = arn:aws:iam::123456789012:role/tracectl\n",
    );
    ctx.write(
        "aws/credentials",
        "[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    );
    let env = [
        (
            "AWS_CONFIG_FILE",
            ctx.path("aws/config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            ctx.path("aws/credentials").display().to_string(),
        ),
        ("AWS_PROFILE", "deploy".to_string()),
        ("AWS_ENDPOINT_URL", moto.url.clone()),
    ];
    let (out, v) = send_test_json(&ctx, &["--to", "xray-otlp", "--to", "xray"], &env);
    // xray-otlp posts to moto, which has no OTLP route: only the signing inputs matter here.
    let r = result(&v, "xray");
    assert_eq!(r["state"], "accepted", "{v}\n{}", stderr(&out));
    let signed = result(&v, "xray-otlp");
    assert_ne!(signed["status"], "NoCredentials", "{v}");
}

#[test]
fn a_broken_compose_file_only_warns() {
    let ctx = TestContext::empty();
    ctx.write("compose.yaml", "services:\n  api: [\n");
    let out = run(ctx.tracectl().args(["send-test", "--to", "local"]));
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("compose.yaml:"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ignoring the compose file"),
        "{}",
        stderr(&out)
    );
}
