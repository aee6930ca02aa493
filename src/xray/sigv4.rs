//! SigV4 signing of an OTLP export to X-Ray's OTLP endpoint (service name `xray`).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::secret::Secret;

pub const SERVICE: &str = "xray";

/// The headers that sign a POST of `body` to `url` (Authorization, X-Amz-Date and, for
/// temporary credentials, X-Amz-Security-Token). `headers` are the other headers that are sent.
pub fn sign_headers(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    region: &str,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<Vec<(String, Secret)>, String> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), Secret::new(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn signs_with_the_xray_scope() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("token".into()),
            None,
            "test",
        );
        let time = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let headers = sign_headers(
            "https://xray.eu-west-3.amazonaws.com/v1/traces",
            &[("content-type", "application/x-protobuf")],
            b"body",
            "eu-west-3",
            &creds,
            time,
        )
        .unwrap();
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1
            .expose()
            .to_string();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20270115/eu-west-3/xray/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert!(headers.iter().any(|(k, _)| k == "x-amz-date"));
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v.expose() == "token")
        );
    }
}
