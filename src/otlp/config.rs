//! OTLP/HTTP exporter settings, read from the environment exactly as the OpenTelemetry exporter
//! specification defines them, then overridden by flags.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Protocol {
    #[value(name = "http/protobuf")]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[value(name = "http/json")]
    #[serde(rename = "http/json")]
    HttpJson,
    /// OTLP/gRPC: TraceService/Export on HTTP/2; the endpoint is used as it is, no path added.
    #[value(name = "grpc")]
    #[serde(rename = "grpc")]
    Grpc,
}

impl Protocol {
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
            Protocol::Grpc => "application/grpc",
        }
    }

    /// The URL to send to from a base endpoint: `/v1/traces` appended over HTTP, the base as it
    /// is over gRPC (where the path is the method's).
    pub fn traces_url(self, base: &str) -> String {
        match self {
            Protocol::Grpc => base.to_string(),
            _ => traces_url(base),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    Gzip,
    None,
}

/// A header to send; values of credential-like headers are kept as secrets.
#[derive(Debug, Clone)]
pub struct Header {
    pub name: String,
    pub value: Secret,
}

#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// The full URL spans are POSTed to.
    pub url: String,
    pub headers: Vec<Header>,
    pub protocol: Protocol,
    pub compression: Compression,
    pub timeout: Duration,
    /// Extra CA certificate (PEM file) to trust.
    pub certificate: Option<String>,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Join a base endpoint and the signal path: `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
pub fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// An endpoint given on the command line (`flag`), refused before anything is sent unless it is an
/// http:// or https:// URL with a host, a valid port, and no query or fragment (OTLP/HTTP appends
/// its own path; a query would be sent as part of it). The message shows the value with any
/// password masked.
pub fn check_endpoint(flag: &str, value: &str) -> Result<()> {
    let shown = mask_userinfo(value);
    let refuse = |why: String| {
        Err(Error::usage(
            format!("{flag} '{shown}' {why}"),
            format!(
                "pass {flag} as a URL such as http://127.0.0.1:4318 or http://127.0.0.1:4318/v1/traces"
            ),
        ))
    };
    let url = match reqwest::Url::parse(value.trim()) {
        Ok(url) => url,
        Err(e) => return refuse(format!("is not a valid URL: {e}")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse("is not an http:// or https:// URL".to_string());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return refuse("names no host".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refuse(
            "has a query or fragment (`?…` or `#…`), which an OTLP endpoint cannot carry"
                .to_string(),
        );
    }
    Ok(())
}

/// `value` with the userinfo of a URL (`user:password@`) masked.
fn mask_userinfo(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
        None => value.to_string(),
    }
}

/// `k=v,k2=v2` with percent-encoded values, as `OTEL_EXPORTER_OTLP_HEADERS` is written.
pub fn parse_headers(text: &str, source: &str) -> Result<Vec<Header>> {
    let mut headers = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            // Only the name is shown: what follows it is usually the credential.
            let name = pair
                .split(|c: char| c == ':' || c.is_whitespace())
                .next()
                .unwrap_or_default();
            return Err(Error::usage(
                format!("{source}: the header '{name}' has no '=' between name and value"),
                format!(
                    "write headers as name=value,name2=value2 (e.g. {name}=VALUE, not {name}: VALUE)"
                ),
            ));
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(Error::usage(
                format!("{source}: '{name}' is not a valid header name"),
                "header names are letters, digits, '-' and '_'".to_string(),
            ));
        }
        let value = percent_encoding::percent_decode_str(value.trim())
            .decode_utf8_lossy()
            .into_owned();
        headers.push(Header {
            name: name.to_ascii_lowercase(),
            value: Secret::new(value),
        });
    }
    Ok(headers)
}

/// `10s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (try 10s or 500ms)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("'{text}': unknown unit '{unit}' (use ms, s or m)")),
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 3600.0 {
        return Err(format!("'{text}' must be between 1ms and 1 hour"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Flags that override the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub endpoint: Option<String>,
    pub headers: Vec<(String, String)>,
    pub protocol: Option<Protocol>,
    pub compression: Option<Compression>,
    pub timeout: Option<Duration>,
}

/// Read the OTLP exporter variables (the traces-specific one first, then the generic one) and
/// apply the flags. Returns `None` when no endpoint is configured anywhere.
pub fn from_env(
    env: impl Fn(&str) -> Option<String>,
    flags: &Overrides,
) -> Result<Option<OtlpConfig>> {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let pick = |signal: &str, generic: &str| {
        var(signal)
            .map(|v| (signal.to_string(), v))
            .or_else(|| var(generic).map(|v| (generic.to_string(), v)))
    };

    let protocol = match flags.protocol {
        Some(p) => p,
        None => choice(
            pick(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            Protocol::HttpProtobuf,
            "use http/protobuf, http/json or grpc",
        )?,
    };
    if let Some(endpoint) = &flags.endpoint {
        check_endpoint("--endpoint", endpoint)?;
    }
    let url = match &flags.endpoint {
        Some(url) if url.trim_end_matches('/').ends_with("/v1/traces") => url.clone(),
        Some(base) => protocol.traces_url(base),
        None => match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(url), _) => url,
            (None, Some(base)) => protocol.traces_url(&base),
            (None, None) => return Ok(None),
        },
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::usage(
            format!("OTLP endpoint '{url}' is not an http:// or https:// URL"),
            "set --endpoint or OTEL_EXPORTER_OTLP_ENDPOINT to e.g. http://127.0.0.1:4318"
                .to_string(),
        ));
    }

    let mut headers = Vec::new();
    if let Some((name, text)) = pick(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ) {
        headers = parse_headers(&text, &name)?;
    }
    for (name, value) in &flags.headers {
        let parsed = parse_headers(&format!("{name}={value}"), "--header")?;
        headers.retain(|h| !parsed.iter().any(|p| p.name == h.name));
        headers.extend(parsed);
    }

    let compression = match flags.compression {
        Some(c) => c,
        None => choice(
            pick(
                "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                "OTEL_EXPORTER_OTLP_COMPRESSION",
            ),
            Compression::None,
            "use gzip or none",
        )?,
    };
    let timeout = match flags.timeout {
        Some(t) => t,
        None => match pick(
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ) {
            None => DEFAULT_TIMEOUT,
            Some((name, ms)) => ms
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
                .ok_or_else(|| {
                    Error::usage(format!("{name}={ms} is not a number of milliseconds"), None)
                })?,
        },
    };
    let certificate = pick(
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
    )
    .map(|(_, c)| c);
    Ok(Some(OtlpConfig {
        url,
        headers,
        protocol,
        compression,
        timeout,
        certificate,
    }))
}

/// The value of an enumerated variable (`(name, value)` as found), or `default` when unset.
fn choice<T: clap::ValueEnum>(
    found: Option<(String, String)>,
    default: T,
    hint: &str,
) -> Result<T> {
    match found {
        None => Ok(default),
        Some((name, value)) => T::from_str(&value, false).map_err(|_| {
            Error::usage(format!("{name}={value} is not supported"), hint.to_string())
        }),
    }
}

/// `OTEL_RESOURCE_ATTRIBUTES`: `k=v,k2=v2`, values percent-decoded.
pub fn resource_attributes(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| {
                (
                    k.to_string(),
                    percent_encoding::percent_decode_str(v.trim())
                        .decode_utf8_lossy()
                        .into_owned(),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_that_are_not_urls_are_refused_naming_the_value() {
        for ok in [
            "http://127.0.0.1:4318",
            "https://collector/v1/traces",
            "http://[::1]:4318/",
        ] {
            assert!(check_endpoint("--endpoint", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:99999",
            "http://[::1",
            "http://127.0.0.1:abc",
            "http://127.0.0.1:4318/v1/traces?x=1",
            "http://127.0.0.1:4318#f",
            "ftp://127.0.0.1:1",
            "127.0.0.1:4318",
            "http://",
        ] {
            let err = check_endpoint("--endpoint", bad).unwrap_err();
            assert_eq!(err.exit_status(), crate::error::ExitStatus::Usage);
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
        let err = check_endpoint("--endpoint", "http://u:pw123@h:99999").unwrap_err();
        assert!(err.to_string().contains("'http://…@h:99999'"), "{err}");
    }
    use crate::test_support::env;

    #[test]
    fn signal_endpoint_is_used_as_is_and_generic_gets_the_path() {
        let c = from_env(
            env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318/")]),
            &Overrides::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.url, "http://h:4318/v1/traces");
        let c = from_env(
            env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom"),
            ]),
            &Overrides::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.url, "http://t:1/custom");
        assert!(from_env(env(&[]), &Overrides::default()).unwrap().is_none());
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = from_env(
            env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h")]),
            &Overrides::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.compression, Compression::None);
        assert_eq!(c.timeout, Duration::from_secs(10));
    }

    #[test]
    fn headers_are_percent_decoded_and_signal_specific_wins() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "x-honeycomb-team=k%3D1, X-Other = two%20words",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ]);
        let c = from_env(e, &Overrides::default()).unwrap().unwrap();
        let h: Vec<_> = c
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.expose()))
            .collect();
        assert_eq!(h, [("x-honeycomb-team", "k=1"), ("x-other", "two words")]);
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.compression, Compression::Gzip);
        assert_eq!(c.protocol, Protocol::HttpJson);
    }

    #[test]
    fn flags_override_the_environment() {
        let flags = Overrides {
            endpoint: Some("http://flag:4318".into()),
            headers: vec![("a".into(), "flag".into())],
            protocol: Some(Protocol::HttpJson),
            compression: Some(Compression::Gzip),
            timeout: Some(Duration::from_secs(3)),
        };
        let c = from_env(
            env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "a=env,b=2"),
            ]),
            &flags,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.url, "http://flag:4318/v1/traces");
        let h: Vec<_> = c
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.expose()))
            .collect();
        assert_eq!(h, [("b", "2"), ("a", "flag")]);
        assert_eq!(c.timeout, Duration::from_secs(3));
    }

    #[test]
    fn grpc_endpoints_are_used_as_they_are() {
        let c = from_env(
            env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ]),
            &Overrides::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (c.url.as_str(), c.protocol),
            ("http://h:4317", Protocol::Grpc)
        );
        let flags = Overrides {
            endpoint: Some("https://api.honeycomb.io:443".into()),
            protocol: Some(Protocol::Grpc),
            ..Overrides::default()
        };
        let c = from_env(env(&[]), &flags).unwrap().unwrap();
        assert_eq!(c.url, "https://api.honeycomb.io:443");
        let c = from_env(
            env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318")]),
            &Overrides::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.url, "http://h:4318/v1/traces");
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for pairs in [
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "h:4318")][..],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc/json"),
            ],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
            ],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
            ],
        ] {
            assert!(
                from_env(env(pairs), &Overrides::default()).is_err(),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn a_malformed_header_names_itself_but_not_its_value() {
        for text in [
            "x-honeycomb-team: s3cr3tvalue",
            "x-honeycomb-team s3cr3tvalue",
        ] {
            let err = parse_headers(text, "OTEL_EXPORTER_OTLP_HEADERS").unwrap_err();
            let shown = format!("{err} {}", err.hint().unwrap_or_default());
            assert!(shown.contains("'x-honeycomb-team'"), "{shown}");
            assert!(!shown.contains("s3cr3tvalue"), "{shown}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn resource_attributes_are_decoded() {
        assert_eq!(
            resource_attributes("deployment.environment=dev,team=a%2Cb,=x"),
            [
                ("deployment.environment".to_string(), "dev".to_string()),
                ("team".to_string(), "a,b".to_string())
            ]
        );
    }
}
