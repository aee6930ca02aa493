//! The X-Ray API through the AWS SDK: credentials and region from the standard chain (profiles,
//! SSO, environment), endpoint overrides from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_XRAY.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_xray::config::http::HttpResponse;
use aws_sdk_xray::error::{ProvideErrorMetadata, SdkError};
use serde::Serialize;

use super::segment;

/// Why an AWS call failed: an AWS error code where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsFailure {
    pub code: String,
    pub message: String,
}

impl AwsFailure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        AwsFailure {
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn hint(&self, action: &str) -> Option<String> {
        Some(match self.code.as_str() {
            "SsoLoginNeeded" => "the AWS SSO session is missing or expired: run `aws sso login` (with --profile when AWS_PROFILE names one)".to_string(),
            "NoCredentials" => "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run `aws sso login`".to_string(),
            "NoRegion" => "no AWS region: pass --aws-region or set AWS_REGION".to_string(),
            "AccessDeniedException" | "AccessDenied" => format!("the identity lacks {action}: attach an IAM policy allowing it (e.g. AWSXrayWriteOnlyAccess)"),
            "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" | "ExpiredTokenException" | "ExpiredToken" => {
                "the AWS credentials are invalid or expired: refresh them (aws sso login, new keys)".to_string()
            }
            "InvalidRequestException" => "X-Ray rejected the segment document as invalid".to_string(),
            "ThrottledException" | "ThrottlingException" => "throttled by X-Ray: try again shortly".to_string(),
            "Timeout" => "no answer from the X-Ray endpoint in time: check network, proxy (HTTPS_PROXY) or AWS_ENDPOINT_URL".to_string(),
            "Connection" => "cannot reach the X-Ray endpoint: check network, DNS, proxy, or AWS_ENDPOINT_URL".to_string(),
            "UnexpectedResponse" => "that answer did not come from AWS: check AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) and proxy settings (HTTPS_PROXY, NO_PROXY)".to_string(),
            _ => return None,
        })
    }
}

/// The shared AWS configuration; `region` overrides the chain's.
pub async fn load(region: Option<&str>) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(crate::tls::aws_http_client());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

pub fn region(config: &SdkConfig) -> Result<String, AwsFailure> {
    config
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| AwsFailure::new("NoRegion", "no AWS region configured"))
}

pub async fn credentials(config: &SdkConfig) -> Result<Credentials, AwsFailure> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| AwsFailure::new("NoCredentials", "no credentials provider"))?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| no_credentials(&e))
}

/// Why no credentials could be loaded, from the whole chain of causes: the SDK's own message
/// ("an error occurred while loading credentials") says nothing a user can act on; its causes
/// name the profile, the expired SSO session or the process that failed.
fn no_credentials(err: &(dyn std::error::Error + 'static)) -> AwsFailure {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    let text = parts.join(": ");
    let lower = text.to_ascii_lowercase();
    let code = if lower.contains("sso") || (lower.contains("token") && lower.contains("expired")) {
        "SsoLoginNeeded"
    } else {
        "NoCredentials"
    };
    AwsFailure::new(code, crate::otlp::send::excerpt(&text, 300))
}

/// The credentials failure somewhere in an SDK error's causes, if that is why it failed.
fn credentials_cause(err: &(dyn std::error::Error + 'static)) -> Option<AwsFailure> {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
        {
            return Some(no_credentials(e));
        }
        current = e.source();
    }
    None
}

/// Why an AWS SDK call failed, in the user's words: the AWS error code and message when AWS
/// answered, else what did answer (status, content type, a short excerpt of the body).
pub fn sdk_failure<E: ProvideErrorMetadata + std::error::Error + 'static>(
    err: &SdkError<E, HttpResponse>,
) -> AwsFailure {
    if let Some(f) = credentials_cause(err) {
        return f;
    }
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            match inner.code() {
                Some(code) if !code.is_empty() => {
                    AwsFailure::new(code, inner.message().unwrap_or("").to_string())
                }
                _ => unexpected_response(e.raw()),
            }
        }
        SdkError::ResponseError(e) => unexpected_response(e.raw()),
        SdkError::TimeoutError(_) => AwsFailure::new("Timeout", "the request timed out"),
        SdkError::DispatchFailure(d) => {
            // The Debug text is searched, never shown: the SDK names a missing credential only there.
            let text = format!("{d:?}");
            if text.contains("CredentialsNotLoaded") || text.contains("no credentials") {
                AwsFailure::new("NoCredentials", "no AWS credentials could be loaded")
            } else {
                AwsFailure::new(
                    "Connection",
                    d.as_connector_error()
                        .map(|c| crate::otlp::send::excerpt(&c.to_string(), 200))
                        .unwrap_or_else(|| "the request could not be sent".into()),
                )
            }
        }
        other => {
            let text = format!("{other:?}");
            if text.contains("CredentialsNotLoaded")
                || text.contains("NoCredentials")
                || text.contains("no credentials")
            {
                AwsFailure::new("NoCredentials", "no AWS credentials could be loaded")
            } else if text.contains("region") && text.contains("missing") {
                AwsFailure::new("NoRegion", "no AWS region configured")
            } else {
                AwsFailure::new("Error", "the request could not be built")
            }
        }
    }
}

/// An answer that is not AWS's: a proxy's error page, a web server, an empty body.
fn unexpected_response(raw: &HttpResponse) -> AwsFailure {
    let content_type = raw.headers().get("content-type").unwrap_or("");
    let body = raw.body().bytes().unwrap_or_default();
    AwsFailure::new(
        "UnexpectedResponse",
        format!(
            "HTTP {} that is not an AWS answer ({})",
            raw.status().as_u16(),
            crate::otlp::send::describe_body(content_type, body)
        ),
    )
}

/// PutTraceSegments with one document. Unprocessed segments are failures with their error code.
pub async fn put_segment(
    config: &SdkConfig,
    document: &serde_json::Value,
    timeout: Duration,
) -> Result<(), AwsFailure> {
    let client = aws_sdk_xray::Client::new(config);
    let call = client
        .put_trace_segments()
        .trace_segment_documents(document.to_string())
        .send();
    let output = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| AwsFailure::new("Timeout", "PutTraceSegments timed out"))?
        .map_err(|e| sdk_failure(&e))?;
    match output.unprocessed_trace_segments().first() {
        Some(u) => Err(AwsFailure::new(
            u.error_code().unwrap_or("Unprocessed"),
            format!(
                "segment {} unprocessed: {}",
                u.id().unwrap_or("?"),
                u.message().unwrap_or("")
            ),
        )),
        None => Ok(()),
    }
}

/// Whether X-Ray returns the trace with a segment holding `subsegments` subsegments.
pub async fn trace_complete(
    config: &SdkConfig,
    trace_id: &str,
    subsegments: usize,
    timeout: Duration,
) -> Result<bool, AwsFailure> {
    let client = aws_sdk_xray::Client::new(config);
    let call = client.batch_get_traces().trace_ids(trace_id).send();
    let output = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| AwsFailure::new("Timeout", "BatchGetTraces timed out"))?
        .map_err(|e| sdk_failure(&e))?;
    Ok(output
        .traces()
        .iter()
        .filter(|t| t.id() == Some(trace_id))
        .any(|t| {
            t.segments().iter().any(|s| {
                s.document()
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .is_some_and(|d| segment::count_subsegments(&d) >= subsegments)
            })
        }))
}

/// Where X-Ray stores trace segments, as GetTraceSegmentDestination says: `XRay` (indexed by X-Ray,
/// found with BatchGetTraces) or `CloudWatchLogs` (Transaction Search: found with
/// StartTraceRetrieval and ListRetrievedTraces), and whether the switch is `ACTIVE` or `PENDING`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentDestination {
    pub destination: String,
    pub status: String,
}

impl SegmentDestination {
    pub fn transaction_search(&self) -> bool {
        self.destination == "CloudWatchLogs"
    }
}

impl std::fmt::Display for SegmentDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.destination, self.status)
    }
}

/// Whether a failure means the endpoint does not know the operation at all (an emulator, or a
/// partition without Transaction Search), as opposed to refusing or failing it.
pub fn unknown_operation(failure: &AwsFailure) -> bool {
    matches!(
        failure.code.as_str(),
        "UnexpectedResponse" | "UnknownOperationException" | "UnknownOperation"
    )
}

/// The service asked to slow down: the call may be made again after a pause.
pub fn throttled(failure: &AwsFailure) -> bool {
    matches!(
        failure.code.as_str(),
        "ThrottlingException"
            | "ThrottledException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "SlowDown"
    )
}

async fn bounded<T, E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: &str,
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Result<T, AwsFailure> {
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| AwsFailure::new("Timeout", format!("{operation} timed out")))?
        .map_err(|e| sdk_failure(&e))
}

pub async fn segment_destination(
    config: &SdkConfig,
    timeout: Duration,
) -> Result<SegmentDestination, AwsFailure> {
    let client = aws_sdk_xray::Client::new(config);
    let out = bounded(
        "GetTraceSegmentDestination",
        timeout,
        client.get_trace_segment_destination().send(),
    )
    .await?;
    Ok(SegmentDestination {
        destination: out
            .destination()
            .map(|d| d.as_str().to_string())
            .unwrap_or_else(|| "XRay".into()),
        status: out
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "ACTIVE".into()),
    })
}

/// StartTraceRetrieval for X-Ray trace ids within [start, end]: the retrieval token.
pub async fn start_retrieval(
    config: &SdkConfig,
    trace_ids: &[String],
    start: std::time::SystemTime,
    end: std::time::SystemTime,
    timeout: Duration,
) -> Result<String, AwsFailure> {
    let client = aws_sdk_xray::Client::new(config);
    let call = client
        .start_trace_retrieval()
        .set_trace_ids(Some(trace_ids.to_vec()))
        .start_time(aws_sdk_xray::primitives::DateTime::from(start))
        .end_time(aws_sdk_xray::primitives::DateTime::from(end))
        .send();
    let out = bounded("StartTraceRetrieval", timeout, call).await?;
    out.retrieval_token()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| AwsFailure::new("UnexpectedResponse", "StartTraceRetrieval gave no token"))
}

/// One page of ListRetrievedTraces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrievedPage {
    /// SCHEDULED, RUNNING, COMPLETE, FAILED, CANCELLED or TIMEOUT.
    pub status: String,
    /// (X-Ray trace id, span id in lower-case hex) of every span on the page.
    pub spans: Vec<(String, String)>,
    pub next_token: Option<String>,
}

/// A retrieved span's id: the API's `Id`, else the document's `id` (X-Ray format) or `spanId`
/// (OTel format), in lower case.
fn retrieved_span_id(id: Option<&str>, document: Option<&str>) -> Option<String> {
    let id = id
        .filter(|i| !i.is_empty())
        .map(str::to_string)
        .or_else(|| {
            let doc: serde_json::Value = serde_json::from_str(document?).ok()?;
            doc.get("id")
                .or_else(|| doc.get("spanId"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })?;
    Some(id.to_ascii_lowercase())
}

pub async fn retrieved_page(
    config: &SdkConfig,
    token: &str,
    next_token: Option<&str>,
    timeout: Duration,
) -> Result<RetrievedPage, AwsFailure> {
    let client = aws_sdk_xray::Client::new(config);
    let call = client
        .list_retrieved_traces()
        .retrieval_token(token)
        .set_next_token(next_token.map(str::to_string))
        .send();
    let out = bounded("ListRetrievedTraces", timeout, call).await?;
    let spans = out
        .traces()
        .iter()
        .flat_map(|t| {
            let trace = t.id().unwrap_or("").to_string();
            t.spans().iter().filter_map(move |s| {
                retrieved_span_id(s.id(), s.document()).map(|id| (trace.clone(), id))
            })
        })
        .collect();
    Ok(RetrievedPage {
        status: out
            .retrieval_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        spans,
        // A token equal to the one sent would loop forever.
        next_token: out
            .next_token()
            .filter(|t| !t.is_empty() && Some(*t) != next_token)
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_ids_come_from_the_api_or_the_document() {
        assert_eq!(
            retrieved_span_id(Some("ABCDEF0123456789"), None).as_deref(),
            Some("abcdef0123456789")
        );
        assert_eq!(
            retrieved_span_id(None, Some(r#"{"id":"00aa00aa00aa00aa","name":"x"}"#)).as_deref(),
            Some("00aa00aa00aa00aa")
        );
        assert_eq!(
            retrieved_span_id(Some(""), Some(r#"{"spanId":"11bb11bb11bb11bb"}"#)).as_deref(),
            Some("11bb11bb11bb11bb")
        );
        assert_eq!(retrieved_span_id(None, Some("not json")), None);
        assert_eq!(retrieved_span_id(None, None), None);
    }

    #[test]
    fn only_unknown_operations_read_as_missing_apis() {
        assert!(unknown_operation(&AwsFailure::new(
            "UnexpectedResponse",
            "HTML 404"
        )));
        assert!(!unknown_operation(&AwsFailure::new(
            "AccessDeniedException",
            "no"
        )));
        assert!(!unknown_operation(&AwsFailure::new("Timeout", "slow")));
    }
}
