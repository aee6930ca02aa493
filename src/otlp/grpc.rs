//! Sending one OTLP/gRPC export with tonic: TraceService/Export over HTTP/2, TLS by the same
//! rustls stack as HTTPS (the platform's trust store), bounded retries on the codes the OTLP
//! specification calls transient.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint, Uri};

use super::send::{Failure, Outcome, Request, backoff, excerpt};

/// Extra CA certificates (PEM) trusted besides the platform's, from
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`; set once, when the HTTP client is built with them.
static EXTRA_ROOTS: OnceLock<Vec<u8>> = OnceLock::new();

pub fn trust_extra_roots(pem: Vec<u8>) {
    let _ = EXTRA_ROOTS.set(pem);
}

/// The name of a gRPC status code, as the specification writes it.
pub fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// The codes OTLP/gRPC says to retry (RESOURCE_EXHAUSTED only when the server says when:
/// tonic does not surface RetryInfo, so it is not retried here).
pub fn is_retryable(code: i32) -> bool {
    matches!(code, 1 | 4 | 10 | 11 | 14 | 15)
}

fn tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = crate::tls::provider();
    let mut extra = Vec::new();
    if let Some(pem) = EXTRA_ROOTS.get() {
        use rustls::pki_types::pem::PemObject;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            extra.push(cert.map_err(|e| format!("OTEL_EXPORTER_OTLP_CERTIFICATE: {e}"))?);
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, Arc::clone(&provider))
            .map_err(|e| e.to_string())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// TCP, then TLS with ALPN h2, for `https://` endpoints.
#[derive(Clone)]
struct TlsConnect {
    config: Arc<rustls::ClientConfig>,
}

type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl tower_service::Service<Uri> for TlsConnect {
    type Response = hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;
    type Error = std::io::Error;
    type Future = Boxed<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            let host = uri.host().unwrap_or_default().to_string();
            let port = uri.port_u16().unwrap_or(443);
            let bare = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let tcp = tokio::net::TcpStream::connect((bare.as_str(), port)).await?;
            let _ = tcp.set_nodelay(true);
            let name = rustls::pki_types::ServerName::try_from(bare)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(hyper_util::rt::TokioIo::new(tls))
        })
    }
}

/// A channel to `url` (http:// or https://), connected within `timeout`.
async fn channel(url: &str, timeout: Duration) -> Result<Channel, Failure> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| Failure::Connect {
            message: format!("not a gRPC endpoint URL: {e}"),
        })?
        .connect_timeout(timeout)
        .timeout(timeout);
    let connected = if url.starts_with("https://") {
        let config = tls_config().map_err(|message| Failure::Tls { message })?;
        endpoint
            .connect_with_connector(TlsConnect {
                config: Arc::new(config),
            })
            .await
    } else {
        endpoint.connect().await
    };
    connected.map_err(|e| transport_failure(&e))
}

/// A transport error as the failures hints speak to.
fn transport_failure(err: &(dyn std::error::Error + 'static)) -> Failure {
    let mut text = String::new();
    let mut kind = None;
    let mut current = Some(err);
    while let Some(e) = current {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&e.to_string());
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            kind.get_or_insert(io.kind());
        }
        current = e.source();
    }
    let lower = text.to_ascii_lowercase();
    // The innermost error says what happened; the outer ones repeat it with "transport error".
    let innermost = {
        let mut e = err;
        while let Some(next) = e.source() {
            e = next;
        }
        e.to_string()
    };
    let message = excerpt(&innermost, 200);
    if kind == Some(std::io::ErrorKind::ConnectionRefused) || lower.contains("connection refused") {
        Failure::Refused { message }
    } else if kind == Some(std::io::ErrorKind::TimedOut)
        || lower.contains("timed out")
        || lower.contains("timeout expired")
    {
        Failure::Timeout
    } else if lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("dns")
    {
        Failure::Dns { message }
    } else if lower.contains("certificate")
        || lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
        || lower.contains("tls")
    {
        super::send::tls_failure(message)
    } else {
        Failure::Connect { message }
    }
}

/// Export `request` (its body is the uncompressed protobuf; `gzip` asks for grpc-encoding gzip),
/// retrying transient codes with backoff, all within `timeout`.
pub async fn send(
    request: &Request,
    timeout: Duration,
    random: &mut impl FnMut() -> f64,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut outcome = Outcome::default();
    let message = match ExportTraceServiceRequest::decode(request.body.as_slice()) {
        Ok(m) => m,
        Err(e) => {
            outcome.failure = Some(Failure::Connect {
                message: format!("the request does not encode: {e}"),
            });
            return outcome;
        }
    };
    loop {
        outcome.attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            outcome.failure.get_or_insert(Failure::Timeout);
            break;
        }
        // A fresh connection for each try: the last one may be what failed.
        let channel = match tokio::time::timeout(remaining, channel(&request.url, remaining)).await
        {
            Ok(Ok(c)) => c,
            Ok(Err(failure)) => {
                outcome.failure = Some(failure);
                break;
            }
            Err(_) => {
                outcome.failure = Some(Failure::Timeout);
                break;
            }
        };
        let mut client = TraceServiceClient::new(channel)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(super::send::MAX_ANSWER);
        if request.gzip {
            client = client.send_compressed(CompressionEncoding::Gzip);
        }
        let mut call = tonic::Request::new(message.clone());
        call.set_timeout(remaining);
        for (name, value) in &request.headers {
            let (Ok(key), Ok(value)) = (
                name.parse::<tonic::metadata::MetadataKey<tonic::metadata::Ascii>>(),
                value.expose().parse(),
            ) else {
                outcome.failure = Some(Failure::Connect {
                    message: format!("the header {name} cannot be sent as gRPC metadata"),
                });
                return outcome;
            };
            call.metadata_mut().insert(key, value);
        }
        let answer = tokio::time::timeout(remaining, client.export(call)).await;
        let status = match answer {
            Err(_) => {
                outcome.failure = Some(Failure::Timeout);
                break;
            }
            Ok(Ok(response)) => {
                outcome.grpc_code = Some(0);
                outcome.failure = None;
                if let Some(partial) = response.into_inner().partial_success {
                    outcome.rejected_spans = partial.rejected_spans;
                    outcome.message = Some(partial.error_message).filter(|m| !m.is_empty());
                }
                break;
            }
            Ok(Err(status)) => status,
        };
        let code = status.code() as i32;
        // A status tonic made up from a transport error (refused, reset, TLS) is that failure.
        if let Some(source) = std::error::Error::source(&status) {
            outcome.failure = Some(match transport_failure(source) {
                Failure::Connect { message } if request.url.starts_with("http://") => {
                    Failure::Connect {
                        message: format!(
                            "{message} (the connection broke before any gRPC answer: is this a TLS \
                             port (use https://), or an HTTP/1 one such as OTLP/HTTP's 4318 \
                             (gRPC is usually on 4317)?)"
                        ),
                    }
                }
                failure => failure,
            });
            break;
        }
        outcome.grpc_code = Some(code);
        let text = status.message().trim().replace(['\n', '\r'], " ");
        outcome.failure = Some(Failure::Grpc {
            code,
            message: (!text.is_empty()).then(|| excerpt(&text, 200)),
        });
        if !is_retryable(code) {
            break;
        }
        let retry_in = backoff(outcome.attempts, random());
        if Instant::now() + retry_in >= deadline {
            break;
        }
        tokio::time::sleep(retry_in).await;
    }
    outcome.latency = started.elapsed();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_codes_retry_and_names_follow_the_spec() {
        for code in [1, 4, 10, 11, 14, 15] {
            assert!(is_retryable(code), "{code}");
        }
        for code in [0, 3, 7, 8, 12, 13, 16] {
            assert!(!is_retryable(code), "{code}");
        }
        assert_eq!(code_name(8), "RESOURCE_EXHAUSTED");
        assert_eq!(code_name(99), "UNKNOWN");
    }
}
