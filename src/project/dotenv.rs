//! The env file: reading its values and setting keys without losing any other byte.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

fn column_of(text: &str, offset: usize) -> usize {
    let start = text[..offset.min(text.len())]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1);
    text[start..offset.min(text.len())].chars().count() + 1
}

/// What is wrong, in the words of someone editing the file; never the line's text, which may
/// hold a secret.
fn explain(code: adotenv::DiagnosticCode) -> &'static str {
    use adotenv::DiagnosticCode as C;
    match code {
        C::InvalidKey => {
            "not a valid NAME=value line: a name uses letters, digits and _, with no spaces, \
             followed by = (quote a value that has spaces)"
        }
        C::UnterminatedQuote => "this quote is never closed: add the closing quote",
        C::TrailingText => {
            "text after the closing quote: put all of the value inside the quotes, or start a \
             comment with ' #'"
        }
        C::InvalidEscape => "a backslash escape that is not allowed here",
        C::ForbiddenBareKey => "a name without = and a value",
        C::ForbiddenByteOrderMark => "the file starts with a byte-order mark",
        C::LineTooLong => "this line is too long",
        _ => "this line cannot be read as NAME=value",
    }
}

fn parse<'a>(path: &Path, text: &'a str) -> Result<adotenv::Document<'a>> {
    adotenv::parse_strict(text).map_err(|d| {
        Error::parse(
            path,
            d.line(),
            column_of(text, d.span().start),
            explain(d.code()),
        )
    })
}

/// Every key the file defines, with its decoded value (the last declaration wins).
pub fn values(path: &Path, text: &str) -> Result<BTreeMap<String, String>> {
    let doc = parse(path, text)?;
    Ok(doc
        .entries()
        .filter_map(|e| e.value().map(|v| (e.key().to_string(), v.to_string())))
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyChange {
    Added,
    Updated,
    Unchanged,
}

/// The file with every `(key, value)` set: existing keys are changed in place (quotes, `export`
/// and comments kept), new ones appended. Returns the new text and what happened to each key.
pub fn set_all(
    path: &Path,
    text: &str,
    entries: &[(String, String)],
) -> Result<(String, Vec<KeyChange>)> {
    let mut current = text.to_string();
    let mut changes = Vec::new();
    for (key, value) in entries {
        let doc = parse(path, &current)?;
        let existing: Vec<_> = doc.entries().filter(|e| e.key() == key).collect();
        if existing.len() > 1 {
            return Err(Error::parse(
                path,
                existing[1].line(),
                1,
                format!(
                    "{key} is defined {} times; keep one and run again",
                    existing.len()
                ),
            ));
        }
        let edited = match existing.first() {
            Some(entry) if entry.value() == Some(value.as_str()) => {
                changes.push(KeyChange::Unchanged);
                continue;
            }
            Some(_) => {
                changes.push(KeyChange::Updated);
                doc.set(key, value)
            }
            None => {
                changes.push(KeyChange::Added);
                doc.edit(&[adotenv::Edit::Insert {
                    key,
                    value: Some(value),
                    position: adotenv::InsertPosition::End,
                }])
            }
        };
        current = edited
            .map_err(|e| {
                let why = match e {
                    adotenv::EditError::InvalidKey => "it is not a valid variable name",
                    _ => "its value cannot be written so that it reads back the same",
                };
                Error::project(
                    path,
                    format!("cannot set {key}: {why}"),
                    Some(format!("set {key} in this file yourself")),
                )
            })?
            .into_string();
    }
    // A file tracectl starts, or one that ended its last line, keeps ending in a newline.
    if (text.is_empty() || text.ends_with('\n')) && !current.is_empty() && !current.ends_with('\n')
    {
        current.push('\n');
    }
    Ok((current, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new(".env")
    }

    #[test]
    fn keeps_comments_quotes_and_export() {
        let text = "# local secrets\nexport DB_URL='postgres://x'  # db\nHONEYCOMB_API_KEY=old\n";
        let entries = [
            ("HONEYCOMB_API_KEY".to_string(), "new".to_string()),
            ("AWS_REGION".to_string(), "eu-west-3".to_string()),
            ("DB_URL".to_string(), "postgres://x".to_string()),
        ];
        let (out, changes) = set_all(p(), text, &entries).unwrap();
        assert_eq!(
            out,
            "# local secrets\nexport DB_URL='postgres://x'  # db\nHONEYCOMB_API_KEY=new\nAWS_REGION=eu-west-3\n"
        );
        assert_eq!(
            changes,
            [KeyChange::Updated, KeyChange::Added, KeyChange::Unchanged]
        );
    }

    #[test]
    fn quotes_values_that_need_it_and_reads_them_back() {
        let entries = [("NAME".to_string(), "a b#c".to_string())];
        let (out, _) = set_all(p(), "", &entries).unwrap();
        assert!(out.ends_with('\n'));
        let (out, _) = set_all(p(), "A=1", &entries).unwrap();
        assert!(out.starts_with("A=1\n") && !out.ends_with('\n'), "{out:?}");
        assert_eq!(values(p(), &out).unwrap()["NAME"], "a b#c");
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        let err = values(p(), "OK=1\nBAD KEY=value\n").unwrap_err();
        let Error::Parse { line, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 2);
        assert!(err.to_string().starts_with(".env:2:"), "{err}");
        assert!(err.to_string().contains("letters, digits and _"), "{err}");
    }

    #[test]
    fn parse_errors_speak_the_users_words_and_never_echo_the_line() {
        for (text, line, words) in [
            ("A=1\nKEY=\"hcaik_secret\n", 2, "never closed"),
            ("KEY='hcaik_secret'x\n", 1, "after the closing quote"),
            ("# c\nhcaik secret=1\n", 2, "not a valid NAME=value"),
        ] {
            let err = values(p(), text).unwrap_err().to_string();
            assert!(err.starts_with(&format!(".env:{line}:")), "{err}");
            assert!(err.contains(words), "{err}");
            assert!(
                !err.contains("dialect") && !err.contains("dotenv."),
                "{err}"
            );
            assert!(!err.contains("hcaik"), "{err}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let entries = [("A".to_string(), "3".to_string())];
        let err = set_all(p(), "A=1\nA=2\n", &entries).unwrap_err();
        assert!(err.to_string().contains(".env:2:"), "{err}");
    }

    proptest::proptest! {
        /// Any file the parser accepts: every original line kept in order, the keys then read
        /// back with their values, other values unchanged, a second run a no-op.
        #[test]
        fn set_all_is_lossless_and_idempotent(
            body in proptest::collection::vec(
                "(# [a-z =#'\"]{0,10}|(export )?[A-Z_]{1,6}=([a-z0-9 #]{0,8}|'[a-z =#]{0,8}'|\"[a-z =#]{0,8}\")|)",
                0..10,
            ),
            eol in proptest::sample::select(vec!["\n", "\r\n"]),
            value in "[ -~]{0,12}",
        ) {
            let text = body.join(eol) + eol;
            let Ok(before) = values(p(), &text) else { return Ok(()); };
            let entries = [("HONEYCOMB_API_KEY".to_string(), value.clone())];
            let Ok((out, _)) = set_all(p(), &text, &entries) else { return Ok(()); };
            let kept: Vec<&str> = out.lines().collect();
            let mut at = 0;
            for line in text.lines().filter(|l| !l.contains("HONEYCOMB_API_KEY")) {
                let found = kept[at..].iter().position(|k| *k == line);
                proptest::prop_assert!(found.is_some(), "{:?} lost from {:?}", line, out);
                at += found.unwrap_or(0) + 1;
            }
            let after = values(p(), &out).unwrap();
            proptest::prop_assert_eq!(after.get("HONEYCOMB_API_KEY"), Some(&value));
            for (k, v) in before.iter().filter(|(k, _)| *k != "HONEYCOMB_API_KEY") {
                proptest::prop_assert_eq!(after.get(k), Some(v));
            }
            proptest::prop_assert_eq!(set_all(p(), &out, &entries).unwrap().0, out.clone());
        }
    }

    #[test]
    fn a_file_of_100k_lines_is_edited_in_linear_time() {
        let text = "SOME_VARIABLE=some value\n".repeat(100_000);
        let entries = [("HONEYCOMB_API_KEY".to_string(), "k".to_string())];
        let started = std::time::Instant::now();
        let (out, _) = set_all(p(), &text, &entries).unwrap();
        assert!(out.ends_with("HONEYCOMB_API_KEY=k\n"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}
