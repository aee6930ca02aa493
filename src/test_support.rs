//! Helpers shared by unit tests.

/// An environment lookup over fixed pairs, for the pure functions that take one.
pub fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[path = "../tests/support/hermetic.rs"]
mod hermetic;
