//! What this binary is, from build.rs: version, git commit, build date, target. No environment,
//! no paths, no secrets: safe to paste into a bug report.

use serde_json::{Value, json};

/// `0.1.0 (0123456789ab 2026-12-06)`: what `--version` prints after the name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TRACECTL_COMMIT_SHORT"),
    " ",
    env!("TRACECTL_BUILD_DATE"),
    ")"
);

pub const PACKAGE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The full commit id, or `unknown` when built outside a git checkout with no packaging record.
pub const COMMIT: &str = env!("TRACECTL_COMMIT");
/// `YYYY-MM-DD` (UTC) from SOURCE_DATE_EPOCH or the commit's date, or `unknown`.
pub const BUILD_DATE: &str = env!("TRACECTL_BUILD_DATE");
/// Where [`BUILD_DATE`] came from: `SOURCE_DATE_EPOCH`, `commit` or `unknown`.
pub const BUILD_DATE_SOURCE: &str = env!("TRACECTL_BUILD_DATE_SOURCE");
pub const TARGET: &str = env!("TRACECTL_TARGET");
pub const PROFILE: &str = env!("TRACECTL_PROFILE");
/// The repository URL from Cargo.toml (empty when unset).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// `tracectl version --format json`.
pub fn json() -> Value {
    json!({
        "version": 1,
        "name": "tracectl",
        "package_version": PACKAGE_VERSION,
        "commit": COMMIT,
        "build_date": BUILD_DATE,
        "build_date_source": BUILD_DATE_SOURCE,
        "target": TARGET,
        "profile": PROFILE,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    })
}

/// `tracectl version`: one fact per line.
pub fn human() -> String {
    format!(
        "tracectl {PACKAGE_VERSION}\ncommit: {COMMIT}\nbuild date: {BUILD_DATE} (from {BUILD_DATE_SOURCE})\n\
         target: {TARGET} ({PROFILE})\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_commit_and_date() {
        assert!(VERSION.starts_with(PACKAGE_VERSION));
        assert!(VERSION.contains(BUILD_DATE), "{VERSION}");
        let short = &COMMIT[..COMMIT.len().min(12)];
        assert!(VERSION.contains(short), "{VERSION}");
        assert!(["SOURCE_DATE_EPOCH", "commit", "unknown"].contains(&BUILD_DATE_SOURCE));
    }
}
