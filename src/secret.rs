//! A secret value that cannot be printed by accident.

use std::fmt;

/// An API key or other credential. `Debug`, `Display` and `Serialize` all show only a short,
/// safe prefix; the value itself is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A prefix long enough to tell keys apart, never enough to use one: about a quarter of the
    /// key and at most eight characters.
    pub fn masked(&self) -> String {
        let shown = (self.0.chars().count() / 4).min(8);
        let prefix: String = self.0.chars().take(shown).collect();
        format!("{prefix}…(redacted)")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

/// Whether a variable's name says its value is a credential (`HONEYCOMB_API_KEY`,
/// `AWS_SECRET_ACCESS_KEY`, `OTEL_EXPORTER_OTLP_HEADERS`, …).
pub fn is_sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["KEY", "SECRET", "TOKEN", "PASSWORD", "HEADERS"]
        .iter()
        .any(|w| name.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    #[test]
    fn every_rendering_masks_the_key() {
        let secret = Secret::new(KEY);
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            serde_json::to_string(&secret).unwrap(),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(shown.contains("hcaik_01…(redacted)"), "{shown}");
        }
        assert_eq!(secret.expose(), KEY);
    }

    #[test]
    fn sensitive_names() {
        for name in [
            "HONEYCOMB_API_KEY",
            "aws_secret_access_key",
            "AWS_SESSION_TOKEN",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "DB_PASSWORD",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        assert!(!is_sensitive_name("AWS_REGION"));
    }

    #[test]
    fn short_values_show_little_or_nothing() {
        assert_eq!(Secret::new("abc").masked(), "…(redacted)");
        assert_eq!(
            Secret::new("uOexnOwfIU3LecPs1cYpLC").masked(),
            "uOexn…(redacted)"
        );
    }
}
