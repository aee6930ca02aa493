//! The X-Ray daemon's sampling proxy, answered locally: the X-Ray SDKs poll `POST
//! /GetSamplingRules` and `POST /SamplingTargets` over TCP on the daemon's UDP port, and log an
//! error on every poll nobody answers. One rule that samples everything is the local answer.
//!
//! Shapes from the X-Ray API reference (GetSamplingRules, GetSamplingTargets); timestamps are
//! epoch seconds, as the REST-JSON protocol writes them.

use serde_json::{Value as Json, json};

/// The largest request body read; a statistics document is about 200 bytes, and the SDKs send
/// one per rule.
pub const MAX_BODY: usize = 64 * 1024;
/// Statistics documents answered per request; more are not a real SDK's.
const MAX_DOCUMENTS: usize = 1000;
/// How often the SDK is asked to report again, in seconds (the service's usual answer).
const INTERVAL_SECS: u64 = 10;

/// The one local rule: every service, host, method and path, sampled at rate 1.
pub const RULE_NAME: &str = "Default";

/// An answer: HTTP status and a JSON body.
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

fn error(status: u16, kind: &str, message: &str) -> Answer {
    Answer {
        status,
        body: json!({ "__type": kind, "message": message }),
    }
}

fn rules() -> Json {
    json!({
        "SamplingRuleRecords": [{
            "CreatedAt": 0,
            "ModifiedAt": 0,
            "SamplingRule": {
                "RuleName": RULE_NAME,
                "RuleARN": "arn:aws:xray:local:000000000000:sampling-rule/Default",
                "ResourceARN": "*",
                "Priority": 10000,
                "FixedRate": 1.0,
                "ReservoirSize": 1,
                "ServiceName": "*",
                "ServiceType": "*",
                "Host": "*",
                "HTTPMethod": "*",
                "URLPath": "*",
                "Version": 1,
                "Attributes": {}
            }
        }]
    })
}

fn targets(body: &[u8], now_secs: u64) -> Answer {
    let Ok(request) = serde_json::from_slice::<Json>(body) else {
        return error(
            400,
            "InvalidRequestException",
            "the body is not JSON with SamplingStatisticsDocuments",
        );
    };
    let Some(documents) = request["SamplingStatisticsDocuments"].as_array() else {
        return error(
            400,
            "InvalidRequestException",
            "SamplingStatisticsDocuments is missing or not a list",
        );
    };
    let mut names: Vec<&str> = documents
        .iter()
        .take(MAX_DOCUMENTS)
        .filter_map(|d| d["RuleName"].as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let target = |name: &str| {
        json!({
            "RuleName": name,
            "FixedRate": 1.0,
            "ReservoirQuota": 1,
            "ReservoirQuotaTTL": now_secs + INTERVAL_SECS * 6,
            "Interval": INTERVAL_SECS
        })
    };
    Answer {
        status: 200,
        body: json!({
            "LastRuleModification": 0,
            "SamplingTargetDocuments": names.into_iter().map(target).collect::<Vec<_>>(),
            "UnprocessedStatisticsDocuments": []
        }),
    }
}

/// The answer to one request. `now_secs` is the time in seconds since the Unix epoch.
pub fn answer(method: &str, path: &str, body: &[u8], now_secs: u64) -> Answer {
    let known = matches!(path, "/GetSamplingRules" | "/SamplingTargets");
    if !known {
        return error(
            404,
            "NotFoundException",
            "this X-Ray daemon proxy answers POST /GetSamplingRules and POST /SamplingTargets",
        );
    }
    if method != "POST" {
        return error(405, "MethodNotAllowed", "use POST");
    }
    match path {
        "/GetSamplingRules" => Answer {
            status: 200,
            body: rules(),
        },
        _ => targets(body, now_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_samples_everything_and_is_one_the_sdks_accept() {
        let got = answer("POST", "/GetSamplingRules", b"{}", 1_700_000_000);
        assert_eq!(got.status, 200);
        let rule = &got.body["SamplingRuleRecords"][0]["SamplingRule"];
        // What the SDKs check before using a rule: version 1, any resource, no attributes.
        assert_eq!(rule["Version"], 1);
        assert_eq!(rule["ResourceARN"], "*");
        assert_eq!(rule["Attributes"], json!({}));
        assert_eq!(rule["FixedRate"], 1.0);
        for field in [
            "ServiceName",
            "ServiceType",
            "Host",
            "HTTPMethod",
            "URLPath",
        ] {
            assert_eq!(rule[field], "*", "{field}");
        }
    }

    #[test]
    fn targets_answer_each_rule_reported_once() {
        let body = br#"{"SamplingStatisticsDocuments":[
            {"RuleName":"Default","ClientID":"a","RequestCount":3,"SampledCount":3,"BorrowCount":0,"Timestamp":1},
            {"RuleName":"Default","ClientID":"b","RequestCount":1,"SampledCount":1,"BorrowCount":0,"Timestamp":1},
            {"RuleName":"other","ClientID":"a","RequestCount":1,"SampledCount":1,"BorrowCount":0,"Timestamp":1}]}"#;
        let got = answer("POST", "/SamplingTargets", body, 1_000);
        assert_eq!(got.status, 200);
        let docs = got.body["SamplingTargetDocuments"].as_array().unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["RuleName"], "Default");
        assert_eq!(docs[0]["FixedRate"], 1.0);
        assert_eq!(docs[0]["ReservoirQuotaTTL"], 1_060);
        assert_eq!(docs[1]["RuleName"], "other");
    }

    #[test]
    fn anything_else_gets_a_clear_error() {
        assert_eq!(answer("GET", "/GetSamplingRules", b"", 0).status, 405);
        assert_eq!(answer("POST", "/v1/traces", b"", 0).status, 404);
        assert_eq!(answer("POST", "/SamplingTargets", b"\xff{", 0).status, 400);
        assert_eq!(answer("POST", "/SamplingTargets", b"{}", 0).status, 400);
        let many = format!(
            r#"{{"SamplingStatisticsDocuments":[{}]}}"#,
            vec![r#"{"RuleName":"x"}"#; 5000].join(",")
        );
        let got = answer("POST", "/SamplingTargets", many.as_bytes(), 0);
        assert_eq!(
            got.body["SamplingTargetDocuments"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
