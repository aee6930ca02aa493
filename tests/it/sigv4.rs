//! SigV4 as AWS checks it: the signature tracectl sends is recomputed by botocore, an implementation
//! tracectl does not use, at a loopback X-Ray OTLP endpoint.

use crate::common::*;
use crate::peers::XrayOtlpEndpoint;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken";

fn send(endpoint: &XrayOtlpEndpoint, secret: &str) -> (std::process::Output, serde_json::Value) {
    let ctx = TestContext::empty();
    send_test_json(
        &ctx,
        &["--to", "xray-otlp", "--aws-region", "eu-west-3"],
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
            ("AWS_SESSION_TOKEN", TOKEN.to_string()),
            ("AWS_ENDPOINT_URL_XRAY", endpoint.url()),
        ],
    )
}

fn state(v: &serde_json::Value) -> String {
    result(v, "xray-otlp")["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn botocore_accepts_the_signature_and_reads_the_spans() {
    let endpoint = XrayOtlpEndpoint::start(KEY_ID, SECRET, "eu-west-3", Some(TOKEN));
    let (out, v) = send(&endpoint, SECRET);
    assert_exit(&out, 0);
    assert_eq!(state(&v), "accepted", "{v}");
    let records = endpoint.wait_for_requests(1);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["valid"], true, "{record}");
    assert_eq!(record["path"], "/v1/traces");
    let names: Vec<&str> = record["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{record}");
    assert!(names.contains(&"GET /api/activities/home"), "{record}");
    assert!(
        record["resource"]["service.name"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{record}"
    );
}

#[test]
fn a_wrong_secret_is_refused_by_the_endpoint_and_reported_without_the_secret() {
    let endpoint = XrayOtlpEndpoint::start(KEY_ID, SECRET, "eu-west-3", Some(TOKEN));
    let wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEYXX";
    let (out, v) = send(&endpoint, wrong);
    assert_exit(&out, 1);
    assert_ne!(state(&v), "accepted", "{v}");
    let records = endpoint.wait_for_requests(1);
    assert_eq!(records[0]["valid"], false);
    assert_eq!(records[0]["reason"], "signature does not match botocore's");
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(wrong) && !all.contains("WRONGKEY"), "{all}");
}
