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
