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
