//! AWS X-Ray: segment documents, the daemon's UDP protocol, the X-Ray API and its OTLP endpoint.

pub mod api;
pub mod daemon;
pub mod segment;
pub mod sigv4;

/// The regional OTLP traces endpoint AWS recommends now that the SDKs and daemon are in maintenance.
pub fn otlp_url(region: &str) -> String {
    format!("https://xray.{region}.amazonaws.com/v1/traces")
}

/// AWS_ENDPOINT_URL_XRAY, else AWS_ENDPOINT_URL, as the AWS SDK reads them: a base URL that
/// replaces the regional X-Ray host (local emulators, proxies, tests).
pub fn endpoint_override() -> Option<String> {
    ["AWS_ENDPOINT_URL_XRAY", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// The CloudWatch console page of one trace.
pub fn console_link(region: &str, xray_trace_id: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#xray:traces/{xray_trace_id}"
    )
}

/// The AWS partition a region belongs to, as ARNs spell it.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// What X-Ray's OTLP endpoint says when Transaction Search is off; matched on this fragment so a
/// reworded tail still counts.
pub const NEEDS_TRANSACTION_SEARCH: &str = "CloudWatch Logs as a Trace Segment Destination";

/// The two commands that turn Transaction Search on, exactly as they can be pasted: the
/// CloudWatch Logs resource policy that lets X-Ray write spans, then the destination switch.
/// `account` is the 12-digit account id when known.
pub fn enable_transaction_search(region: &str, account: Option<&str>) -> [String; 2] {
    let account = account.unwrap_or("ACCOUNT_ID");
    let p = partition(region);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TransactionSearchXRayAccess","Effect":"Allow","Principal":{{"Service":"xray.amazonaws.com"}},"Action":"logs:PutLogEvents","Resource":["arn:{p}:logs:{region}:{account}:log-group:aws/spans:*","arn:{p}:logs:{region}:{account}:log-group:/aws/application-signals/data:*"],"Condition":{{"ArnLike":{{"aws:SourceArn":"arn:{p}:xray:{region}:{account}:*"}},"StringEquals":{{"aws:SourceAccount":"{account}"}}}}}}]}}"#
    );
    [
        format!(
            "aws logs put-resource-policy --region {region} --policy-name TransactionSearchXRayAccess --policy-document '{policy}'"
        ),
        format!(
            "aws xray update-trace-segment-destination --region {region} --destination CloudWatchLogs"
        ),
    ]
}

/// What X-Ray's OTLP endpoint's answer means for someone moving to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpAnswer {
    Accepted,
    /// 400: Transaction Search is not enabled in this account and region.
    NeedsTransactionSearch,
    /// 403 that is not about the signature: the identity may not send spans.
    AccessDenied,
    /// 403 about the signature or the credentials themselves.
    BadCredentials,
    Other,
}

pub fn classify_otlp_answer(status: u16, message: &str) -> OtlpAnswer {
    let lower = message.to_ascii_lowercase();
    match status {
        200..=299 => OtlpAnswer::Accepted,
        400 if message.contains(NEEDS_TRANSACTION_SEARCH) => OtlpAnswer::NeedsTransactionSearch,
        401 | 403
            if lower.contains("signature")
                || lower.contains("security token")
                || lower.contains("expired") =>
        {
            OtlpAnswer::BadCredentials
        }
        403 => OtlpAnswer::AccessDenied,
        _ => OtlpAnswer::Other,
    }
}

/// The hint for an answer that needs the user to act, in their words.
pub fn otlp_answer_hint(answer: OtlpAnswer, region: &str, account: Option<&str>) -> Option<String> {
    match answer {
        OtlpAnswer::NeedsTransactionSearch => {
            let [policy, switch] = enable_transaction_search(region, account);
            Some(format!(
                "X-Ray's OTLP endpoint needs Transaction Search; enable it once for the account and region:\n  {policy}\n  {switch}"
            ))
        }
        OtlpAnswer::AccessDenied => Some(
            "the identity may not send spans: attach the AWS managed policy AWSXrayWriteOnlyPolicy (it allows xray:PutSpans) to it".to_string(),
        ),
        OtlpAnswer::BadCredentials => Some(
            "the AWS credentials are invalid or expired: refresh them (aws sso login, new keys)".to_string(),
        ),
        OtlpAnswer::Accepted | OtlpAnswer::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_commands_name_the_region_account_and_partition() {
        let [policy, switch] = enable_transaction_search("cn-north-1", Some("123456789012"));
        assert!(policy.starts_with("aws logs put-resource-policy --region cn-north-1 "));
        let json = policy
            .split_once(" --policy-document '")
            .and_then(|(_, rest)| rest.strip_suffix('\''))
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(json).unwrap();
        let statement = &doc["Statement"][0];
        assert_eq!(statement["Principal"]["Service"], "xray.amazonaws.com");
        assert_eq!(statement["Action"], "logs:PutLogEvents");
        assert_eq!(
            statement["Resource"][0],
            "arn:aws-cn:logs:cn-north-1:123456789012:log-group:aws/spans:*"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert_eq!(
            switch,
            "aws xray update-trace-segment-destination --region cn-north-1 --destination CloudWatchLogs"
        );
        let [policy, _] = enable_transaction_search("eu-west-3", None);
        assert!(
            policy.contains("arn:aws:logs:eu-west-3:ACCOUNT_ID:"),
            "{policy}"
        );
    }

    #[test]
    fn otlp_answers() {
        let off = "The OTLP API is supported with CloudWatch Logs as a Trace Segment Destination. Please enable it";
        assert_eq!(
            classify_otlp_answer(400, off),
            OtlpAnswer::NeedsTransactionSearch
        );
        assert_eq!(classify_otlp_answer(400, "bad protobuf"), OtlpAnswer::Other);
        assert_eq!(
            classify_otlp_answer(
                403,
                "User: arn:aws:iam::1:user/x is not authorized to perform: xray:PutSpans"
            ),
            OtlpAnswer::AccessDenied
        );
        assert_eq!(
            classify_otlp_answer(403, "The request signature we calculated does not match"),
            OtlpAnswer::BadCredentials
        );
        assert_eq!(classify_otlp_answer(200, ""), OtlpAnswer::Accepted);
        let hint = otlp_answer_hint(OtlpAnswer::NeedsTransactionSearch, "eu-west-3", None).unwrap();
        assert!(hint.contains("aws xray update-trace-segment-destination --region eu-west-3 --destination CloudWatchLogs"));
        assert!(hint.contains("aws logs put-resource-policy"));
        assert!(
            otlp_answer_hint(OtlpAnswer::AccessDenied, "eu-west-3", None)
                .unwrap()
                .contains("AWSXrayWriteOnlyPolicy")
        );
    }
}
