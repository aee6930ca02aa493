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

/// Docker Compose v2's env-file rules (`KEY: value` and `KEY = value` read as `KEY=value`, `#`
/// a comment only after a space, and so on): the files are Compose's, so they are read as it
/// reads them.
const DIALECT: adotenv::Dialect = adotenv::Dialect::COMPOSE;

fn parse<'a>(path: &Path, text: &'a str) -> Result<adotenv::Document<'a>> {
    adotenv::parse_strict_with(text, DIALECT).map_err(|d| {
        Error::parse(
            path,
            d.line(),
            column_of(text, d.span().start),
            explain(d.code()),
        )
    })
}

/// Every key the file defines, with its decoded value as written, uninterpolated (the last
/// declaration wins); what tracectl reads is [`resolved`].
#[cfg(test)]
pub fn values(path: &Path, text: &str) -> Result<BTreeMap<String, String>> {
    let doc = parse(path, text)?;
    Ok(doc
        .entries()
        .filter_map(|e| e.value().map(|v| (e.key().to_string(), v.to_string())))
        .collect())
}

/// Every key with its value as Docker Compose v2 reads it: `$VAR`, `${VAR}` and their operators
/// (`:-`, `-`, `:?`, `?`, `:+`, `+`) interpolated from `lookup` (the environment Compose runs
/// in) first, then from the file's earlier lines; single-quoted values stay literal; a variable
/// set nowhere is empty. A `${VAR:?message}` that fails stops Compose, and is an error here naming
/// the line.
pub fn resolved(
    path: &Path,
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>> {
    use adotenv::{ExpandOptions, LookupOrder, ResolveError, Unresolved};
    let doc = parse(path, text)?;
    let options = ExpandOptions::compose()
        .with_lookup_order(LookupOrder::CallerFirst)
        .with_unresolved(Unresolved::Empty);
    let resolved = doc.resolve(lookup, &options).map_err(|e| {
        let at = |offset: usize| {
            let line = text[..offset.min(text.len())].matches('\n').count() + 1;
            (line, column_of(text, offset))
        };
        let (span, why) = match &e {
            ResolveError::Required {
                key, name, span, ..
            } => (
                Some(span.start),
                format!("{key} needs {name} to be set (its ${{{name}:?…}} requires it)"),
            ),
            ResolveError::DepthExceeded { key, span, .. }
            | ResolveError::ValueTooLarge { key, span, .. }
            | ResolveError::OutputTooLarge { key, span, .. } => (
                Some(span.start),
                format!("{key}'s value cannot be interpolated: it nests or grows too far"),
            ),
            ResolveError::Unresolved { key, span, .. } => (
                Some(span.start),
                format!("{key} uses a variable that is not set"),
            ),
            _ => (None, "a value cannot be interpolated".to_string()),
        };
        let (line, column) = span.map_or((1, 1), at);
        Error::parse(path, line, column, why)
    })?;
    // adotenv keeps `$$` as written where Compose writes one `$` (outside single quotes), so
    // each value is put together again from its parts, a reference to an earlier line taking
    // that line's value as Compose read it. The last declaration wins, as in `values`.
    let mut read: Vec<Option<String>> = Vec::new();
    let mut out = BTreeMap::new();
    for entry in resolved.entries() {
        let single = doc
            .entry(entry.entry)
            .is_some_and(|e| e.quote() == adotenv::Quote::Single);
        let value = entry
            .value
            .as_ref()
            .map(|_| compose_value(&entry.segments, single, &read));
        if read.len() <= entry.entry {
            read.resize(entry.entry + 1, None);
        }
        read[entry.entry] = value.clone();
        if let Some(value) = value {
            out.insert(entry.key.clone(), value);
        }
    }
    Ok(out)
}

fn compose_value(
    segments: &[adotenv::ResolvedSegment],
    single_quoted: bool,
    read: &[Option<String>],
) -> String {
    use adotenv::{ResolvedSegmentKind as Kind, ValueOrigin};
    segments
        .iter()
        .map(|segment| match &segment.kind {
            Kind::Literal { .. } if !single_quoted => segment.value.replace("$$", "$"),
            Kind::Variable {
                origin: Some(ValueOrigin::File { entry, .. }),
                ..
            } => read
                .get(*entry)
                .cloned()
                .flatten()
                .unwrap_or_else(|| segment.value.clone()),
            _ => segment.value.clone(),
        })
        .collect()
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
    // A last line without its line end gets one before a key is appended after it: Compose
    // would read `A='x'B=y` as two statements, but every other reader would not.
    let unended = !text.is_empty() && !text.ends_with('\n');
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    for (key, value) in entries {
        if !current.ends_with('\n')
            && !current.is_empty()
            && !parse(path, &current)?.entries().any(|e| e.key() == key)
        {
            current.push_str(eol);
        }
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
    // One that did not end its last line still does not.
    if unended && let Some(stripped) = current.strip_suffix('\n') {
        current = stripped.strip_suffix('\r').unwrap_or(stripped).to_string();
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

    /// What Docker Compose v2 (compose-go) makes of each file, as `docker-compose config` shows it.
    #[test]
    fn values_are_read_and_interpolated_as_compose_does() {
        let shell = crate::test_support::env(&[("SHELL_ONLY", "shell"), ("BOTH", "shell")]);
        for (text, key, want) in [
            (
                "REGION=eu-west-3\nAWS_REGION=${REGION}\n",
                "AWS_REGION",
                "eu-west-3",
            ),
            ("AWS_REGION: eu-west-3\n", "AWS_REGION", "eu-west-3"),
            ("AWS_REGION:eu\n", "AWS_REGION", "eu"),
            ("AWS_REGION = eu\n", "AWS_REGION", "eu"),
            // Later lines are not seen; a variable set nowhere is empty.
            ("AWS_REGION=${REGION}\nREGION=eu\n", "AWS_REGION", ""),
            // The environment Compose runs in wins over the file.
            ("A=${SHELL_ONLY}\n", "A", "shell"),
            ("BOTH=file\nA=${BOTH}\n", "A", "shell"),
            ("R=eu\nA='${R}'\n", "A", "${R}"),
            ("R=eu\nA=\"${R}-x\"\n", "A", "eu-x"),
            ("R=eu\nA=$R-y\n", "A", "eu-y"),
            ("A=${R:-dflt}\n", "A", "dflt"),
            ("A=x\r\n", "A", "x"),
        ] {
            let values = resolved(p(), text, &shell).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(values.get(key).map(String::as_str), Some(want), "{text:?}");
        }
        let err = resolved(p(), "A=1\nB=${R:?set R}\n", &shell).unwrap_err();
        assert!(err.to_string().starts_with(".env:2:"), "{err}");
        assert!(err.to_string().contains("R"), "{err}");
    }

    #[test]
    fn a_key_is_appended_on_its_own_line_after_an_unended_quoted_one() {
        let entries = [("B".to_string(), "2".to_string())];
        for (text, want) in [
            ("A='x'", "A='x'\nB=2"),
            ("A='x'\r\nC=\"y\"", "A='x'\r\nC=\"y\"\r\nB=2"),
            ("A='x'\n", "A='x'\nB=2\n"),
        ] {
            let (out, _) = set_all(p(), text, &entries).unwrap();
            assert_eq!(out, want, "{text:?}");
            assert_eq!(set_all(p(), &out, &entries).unwrap().0, out);
        }
    }

    #[test]
    fn text_after_a_closing_quote_starts_another_statement_as_in_compose() {
        let values = resolved(p(), "KEY='v'x\nB=\"w\" C=2\n", |_| None).unwrap();
        assert_eq!(values["KEY"], "v");
        assert_eq!((values["B"].as_str(), values["C"].as_str()), ("w", "2"));
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
