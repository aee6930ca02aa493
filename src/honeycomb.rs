//! Honeycomb API keys: what kind a key is, which region it belongs to, where its API lives.

use serde::Serialize;

use crate::cli::HoneycombRegion;

pub const US_API: &str = "https://api.honeycomb.io";
pub const EU_API: &str = "https://api.eu1.honeycomb.io";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// 64-character ingest key of an environment (`hcaik_…`).
    Ingest,
    /// 64-character ingest key of a Honeycomb Classic team (`hcaic_…`): needs a dataset.
    ClassicIngest,
    /// 22-character configuration key of an environment.
    Configuration,
    /// 32 hex characters: a Honeycomb Classic key; needs a dataset.
    Classic,
    /// A management key id (`hcamk_…`): it cannot send data.
    Management,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kind: KeyKind,
    /// The region encoded in an ingest key; other keys do not say.
    pub region: Option<HoneycombRegion>,
}

impl KeyKind {
    pub fn needs_dataset(self) -> bool {
        matches!(self, KeyKind::Classic | KeyKind::ClassicIngest)
    }

    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::Ingest => "ingest key",
            KeyKind::ClassicIngest => "Honeycomb Classic ingest key",
            KeyKind::Configuration => "configuration key",
            KeyKind::Classic => "Honeycomb Classic key",
            KeyKind::Management => "management key",
            KeyKind::Unknown => "unrecognised key",
        }
    }
}

fn is_lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Classify a key by its shape alone: no network, no secret leaves the process.
pub fn classify(key: &str) -> KeyInfo {
    let b = key.as_bytes();
    let unknown = KeyInfo {
        kind: KeyKind::Unknown,
        region: None,
    };
    if !key.is_ascii() {
        return unknown;
    }
    if key.len() == 64
        && key.starts_with("hc")
        && b[5] == b'_'
        && b[3] == b'i'
        && is_lower_alnum(&key[6..])
    {
        let kind = match b[4] {
            b'k' => KeyKind::Ingest,
            b'c' => KeyKind::ClassicIngest,
            _ => return unknown,
        };
        let region = match b[2] {
            b'a' => Some(HoneycombRegion::Us),
            b'b' => Some(HoneycombRegion::Eu),
            b'c'..=b'f' => None,
            _ => return unknown,
        };
        return KeyInfo { kind, region };
    }
    if key.len() == 32
        && key
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return KeyInfo {
            kind: KeyKind::Classic,
            region: None,
        };
    }
    if key.len() == 22 && key.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return KeyInfo {
            kind: KeyKind::Configuration,
            region: None,
        };
    }
    if key.len() == 32 && key.starts_with("hc") && &key[3..6] == "mk_" && is_lower_alnum(&key[6..])
    {
        return KeyInfo {
            kind: KeyKind::Management,
            region: None,
        };
    }
    unknown
}

pub fn api_base(region: HoneycombRegion) -> &'static str {
    match region {
        HoneycombRegion::Us => US_API,
        HoneycombRegion::Eu => EU_API,
    }
}

/// The region an OTLP endpoint URL points at, when it is one of Honeycomb's.
pub fn region_of_endpoint(url: &str) -> Option<HoneycombRegion> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()?;
    match host {
        "api.honeycomb.io" => Some(HoneycombRegion::Us),
        "api.eu1.honeycomb.io" => Some(HoneycombRegion::Eu),
        _ => None,
    }
}

pub fn region_name(region: HoneycombRegion) -> &'static str {
    match region {
        HoneycombRegion::Us => "US",
        HoneycombRegion::Eu => "EU",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(prefix: &str) -> String {
        format!("{prefix}{}", "0".repeat(64 - prefix.len()))
    }

    #[test]
    fn ingest_keys_carry_their_region() {
        assert_eq!(
            classify(&ingest("hcaik_01")),
            KeyInfo {
                kind: KeyKind::Ingest,
                region: Some(HoneycombRegion::Us)
            }
        );
        assert_eq!(
            classify(&ingest("hcbik_01")),
            KeyInfo {
                kind: KeyKind::Ingest,
                region: Some(HoneycombRegion::Eu)
            }
        );
        let classic = classify(&ingest("hcaic_01"));
        assert_eq!(classic.kind, KeyKind::ClassicIngest);
        assert!(classic.kind.needs_dataset());
    }

    #[test]
    fn other_shapes() {
        assert_eq!(
            classify("uOexnOwfIU3LecPs1cYpLC").kind,
            KeyKind::Configuration
        );
        assert_eq!(
            classify("430eb2f22c137f6ff63980a3a332b4ac").kind,
            KeyKind::Classic
        );
        assert!(KeyKind::Classic.needs_dataset());
        assert!(!KeyKind::Configuration.needs_dataset());
        assert_eq!(
            classify("hcamk_01j26qmcmy3t3fyh7zh536sh7z").kind,
            KeyKind::Management
        );
        for bad in [
            "",
            "short",
            "hcaik_UPPER",
            &ingest("hczik_"),
            &ingest("hcaix_"),
            "430eb2f22c137f6ff63980a3a332b4aG",
            "hcamk_é1j26qmcmy3t3fyh7zh536sh7",
        ] {
            assert_eq!(classify(bad).kind, KeyKind::Unknown, "{bad}");
        }
    }

    #[test]
    fn endpoints_map_to_regions() {
        assert_eq!(
            region_of_endpoint("https://api.eu1.honeycomb.io"),
            Some(HoneycombRegion::Eu)
        );
        assert_eq!(
            region_of_endpoint("https://api.honeycomb.io:443/v1/traces"),
            Some(HoneycombRegion::Us)
        );
        assert_eq!(region_of_endpoint("http://127.0.0.1:4318"), None);
    }
}

/// The parts of `GET /1/auth` tracectl uses.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct Auth {
    #[serde(default, rename = "type")]
    pub key_type: Option<String>,
    #[serde(default)]
    pub team: Named,
    #[serde(default)]
    pub environment: Named,
    #[serde(default)]
    pub api_key_access: Access,
}

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct Named {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct Access {
    #[serde(default)]
    pub events: bool,
    #[serde(default)]
    pub queries: bool,
}

/// The UI host that goes with an API host: `api.` becomes `ui.`; other hosts are kept.
pub fn ui_base(api_base: &str) -> String {
    let base = api_base.trim_end_matches('/');
    match base.split_once("://") {
        Some((scheme, rest)) if rest.starts_with("api.") => format!("{scheme}://ui.{}", &rest[4..]),
        _ => base.to_string(),
    }
}

/// A link to the trace in Honeycomb's UI: environment-scoped, or dataset-scoped for classic keys.
pub fn trace_link(
    api_base: &str,
    auth: &Auth,
    dataset: &str,
    trace_id: &str,
    start: u64,
    end: u64,
) -> Option<String> {
    if auth.team.slug.is_empty() {
        return None;
    }
    let ui = ui_base(api_base);
    let scope = if auth.environment.slug.is_empty() {
        format!("datasets/{dataset}")
    } else {
        format!("environments/{}/datasets/{dataset}", auth.environment.slug)
    };
    Some(format!(
        "{ui}/{}/{scope}/trace?trace_id={trace_id}&trace_start_ts={start}&trace_end_ts={}",
        auth.team.slug,
        end + 1
    ))
}

/// The dataset an environment puts a service's spans in.
pub fn dataset_for_service(service: &str) -> String {
    service.trim().to_ascii_lowercase().replace([' ', '/'], "-")
}

#[cfg(test)]
mod api_tests {
    use super::*;

    #[test]
    fn ui_host_follows_api_host() {
        assert_eq!(
            ui_base("https://api.honeycomb.io"),
            "https://ui.honeycomb.io"
        );
        assert_eq!(
            ui_base("https://api.eu1.honeycomb.io/"),
            "https://ui.eu1.honeycomb.io"
        );
        assert_eq!(ui_base("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }

    #[test]
    fn links_for_environments_and_classic_datasets() {
        let mut auth = Auth::default();
        assert_eq!(trace_link(US_API, &auth, "d", "t", 1, 2), None);
        auth.team.slug = "acme".into();
        assert_eq!(
            trace_link(US_API, &auth, "backend-flask", "abc", 100, 101).unwrap(),
            "https://ui.honeycomb.io/acme/datasets/backend-flask/trace?trace_id=abc&trace_start_ts=100&trace_end_ts=102"
        );
        auth.environment.slug = "test".into();
        assert!(
            trace_link(EU_API, &auth, "svc", "abc", 1, 2)
                .unwrap()
                .starts_with(
                    "https://ui.eu1.honeycomb.io/acme/environments/test/datasets/svc/trace?"
                )
        );
    }

    #[test]
    fn auth_body_parses() {
        let body = r#"{"id":"x","type":"ingest","api_key_access":{"events":true,"markers":false},"environment":{"name":"Test","slug":"test"},"team":{"name":"Acme","slug":"acme"}}"#;
        let auth: Auth = serde_json::from_str(body).unwrap();
        assert!(auth.api_key_access.events && !auth.api_key_access.queries);
        assert_eq!(auth.environment.slug, "test");
    }
}

async fn get_json(
    request: reqwest::RequestBuilder,
    key: &crate::secret::Secret,
    timeout: std::time::Duration,
) -> Result<serde_json::Value, crate::otlp::send::Failure> {
    use crate::otlp::send::{Failure, classify, read_body_into, status_failure};
    let response = request
        .header("X-Honeycomb-Team", key.expose())
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| {
            classify(&e).unwrap_or(Failure::Connect {
                message: "connection reset".into(),
            })
        })?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let location = crate::otlp::send::header(&response, "location");
    let mut body = Vec::new();
    // JSON that broke off (or whose read ran out of time) is no answer at all.
    read_body_into(response, &mut body).await.map_err(|e| {
        classify(&e).unwrap_or(Failure::Connect {
            message: "the answer broke off".into(),
        })
    })?;
    if !(200..300).contains(&status) {
        return Err(status_failure(
            status,
            &content_type,
            &body,
            location.as_deref(),
        ));
    }
    serde_json::from_slice(&body).map_err(|_| Failure::Http {
        status,
        message: Some(format!(
            "the answer is not Honeycomb's JSON ({})",
            crate::otlp::send::describe_body(&content_type, &body)
        )),
    })
}

/// `GET /1/auth`: the key's team, environment and permissions.
pub async fn auth(
    client: &reqwest::Client,
    base: &str,
    key: &crate::secret::Secret,
    timeout: std::time::Duration,
) -> Result<Auth, crate::otlp::send::Failure> {
    let url = format!("{}/1/auth", base.trim_end_matches('/'));
    let json = get_json(client.get(url), key, timeout).await?;
    serde_json::from_value(json).map_err(|_| crate::otlp::send::Failure::Http {
        status: 200,
        message: Some(
            "the /1/auth answer is not Honeycomb's: it lacks the team, environment or \
             api_key_access"
                .to_string(),
        ),
    })
}

/// Count the events of one trace with the Query Data API: create a query, run it, poll its result.
pub async fn count_trace_events(
    client: &reqwest::Client,
    base: &str,
    key: &crate::secret::Secret,
    dataset: &str,
    trace_id: &str,
    timeout: std::time::Duration,
) -> Result<u64, crate::otlp::send::Failure> {
    let base = base.trim_end_matches('/');
    let query = serde_json::json!({
        "calculations": [{ "op": "COUNT" }],
        "filters": [{ "column": "trace.trace_id", "op": "=", "value": trace_id }],
        "time_range": 7200,
    });
    let created = get_json(
        client
            .post(format!("{base}/1/queries/{dataset}"))
            .json(&query),
        key,
        timeout,
    )
    .await?;
    let query_id = created["id"].as_str().unwrap_or_default().to_string();
    let run = serde_json::json!({ "query_id": query_id, "disable_series": true, "limit": 10 });
    let mut result = get_json(
        client
            .post(format!("{base}/1/query_results/{dataset}"))
            .json(&run),
        key,
        timeout,
    )
    .await?;
    let result_id = result["id"].as_str().unwrap_or_default().to_string();
    let deadline = std::time::Instant::now() + timeout;
    while !result["complete"].as_bool().unwrap_or(false) {
        if std::time::Instant::now() >= deadline {
            return Err(crate::otlp::send::Failure::Timeout);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        result = get_json(
            client.get(format!("{base}/1/query_results/{dataset}/{result_id}")),
            key,
            timeout,
        )
        .await?;
    }
    Ok(result["data"]["results"]
        .as_array()
        .and_then(|rows| rows.first())
        .and_then(|row| row["data"]["COUNT"].as_u64())
        .unwrap_or(0))
}
