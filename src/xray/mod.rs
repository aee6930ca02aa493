//! AWS X-Ray: segment documents, the daemon's UDP protocol, the X-Ray API and its OTLP endpoint.

pub mod api;
pub mod daemon;
pub mod segment;
pub mod sigv4;

/// The regional OTLP traces endpoint AWS recommends now that the SDKs and daemon are in maintenance.
pub fn otlp_url(region: &str) -> String {
    format!("https://xray.{region}.amazonaws.com/v1/traces")
}

/// The CloudWatch console page of one trace.
pub fn console_link(region: &str, xray_trace_id: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#xray:traces/{xray_trace_id}"
    )
}
