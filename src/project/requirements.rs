//! requirements.txt: which packages are listed, and adding the missing ones without touching the rest.

/// PEP 503 normalisation: lower case, runs of '-', '_' and '.' become one '-'.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// The physical lines of a file, as Python's `splitlines` would give them for a
/// requirements file (LF, CRLF or a lone CR end a line); a leading BOM is not part of the text.
fn physical_lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix(['\n', '\r']))
        .unwrap_or(text);
    let mut rest = Some(text).filter(|t| !t.is_empty());
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(i) => {
                let skip = if current[i..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[i + skip..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Where a comment starts, as pip sees it: a `#` at the start of the line or after whitespace.
fn comment_start(line: &str) -> Option<usize> {
    line.char_indices().find_map(|(i, c)| {
        let after_space = line[..i]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        (c == '#' && after_space).then_some(i)
    })
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// pip's logical lines: a line ending in `\` (not a comment) continues on the next one.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in physical_lines(text) {
        if line.ends_with('\\') && !is_comment(line) {
            pending
                .get_or_insert_with(String::new)
                .push_str(line.trim_end_matches('\\'));
        } else {
            let mut joined = pending.take().unwrap_or_default();
            joined.push_str(line);
            out.push(joined);
        }
    }
    out.extend(pending);
    out
}

/// The normalised project names a requirements file lists; options (`-r`, `--index-url`, `-e`),
/// comments, extras, markers, version pins and bare URLs or paths are ignored.
pub fn listed(text: &str) -> Vec<String> {
    logical_lines(text)
        .iter()
        .filter_map(|line| {
            let line = line[..comment_start(line).unwrap_or(line.len())].trim();
            if line.is_empty() || line.starts_with('-') {
                return None;
            }
            if !line.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return None;
            }
            let end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(line.len());
            // `https://…` or `C:…` is a location, not a name.
            if line[end..].starts_with(':') {
                return None;
            }
            Some(normalize(&line[..end]))
        })
        .collect()
}

/// The packages of `wanted` that the file does not list yet.
pub fn missing<'a>(text: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    let have = listed(text);
    wanted
        .iter()
        .copied()
        .filter(|w| !have.contains(&normalize(w)))
        .collect()
}

/// The line ending the file already uses (its first one); LF for a file without any.
fn line_ending(text: &str) -> &'static str {
    match text.find(['\r', '\n']) {
        Some(i) if text[i..].starts_with("\r\n") => "\r\n",
        Some(i) if text[i..].starts_with('\r') => "\r",
        _ => "\n",
    }
}

/// The file with the missing packages appended, one per line, in the file's own line ending.
/// Every byte already there stays (BOM included).
pub fn add(text: &str, wanted: &[&str]) -> String {
    let missing = missing(text, wanted);
    if missing.is_empty() {
        return text.to_string();
    }
    let eol = line_ending(text);
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with(['\n', '\r']) {
        out.push_str(eol);
    }
    // A last line ending in `\` would swallow the first package: an empty line ends it.
    if physical_lines(text)
        .last()
        .is_some_and(|l| l.ends_with('\\') && !is_comment(l))
    {
        out.push_str(eol);
    }
    for name in missing {
        out.push_str(name);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_follows_pep_503() {
        assert_eq!(normalize("Flask_Cors"), "flask-cors");
        assert_eq!(normalize("aws.xray__sdk"), "aws-xray-sdk");
    }

    #[test]
    fn pins_extras_comments_and_options_are_ignored() {
        let text = "# deps\nFlask==3.0\nopentelemetry_api>=1.20 # pinned\nrequests[socks] ; python_version>'3'\n-r base.txt\n--index-url https://x\n\n";
        assert_eq!(listed(text), ["flask", "opentelemetry-api", "requests"]);
        assert_eq!(
            missing(text, &["opentelemetry-api", "aws-xray-sdk"]),
            ["aws-xray-sdk"]
        );
    }

    #[test]
    fn add_keeps_every_byte_and_fixes_a_missing_newline() {
        assert_eq!(
            add("flask", &["flask", "aws-xray-sdk"]),
            "flask\naws-xray-sdk\n"
        );
        assert_eq!(add("flask\n", &["FLASK"]), "flask\n");
        assert_eq!(add("", &["a"]), "a\n");
    }

    #[test]
    fn new_lines_use_the_files_line_ending_and_keep_its_bom() {
        assert_eq!(add("# c\r\nflask\r\n", &["b"]), "# c\r\nflask\r\nb\r\n");
        assert_eq!(add("flask\r\nx", &["b"]), "flask\r\nx\r\nb\r\n");
        assert_eq!(
            add("\u{feff}flask\n", &["flask", "b"]),
            "\u{feff}flask\nb\n"
        );
        assert_eq!(listed("\u{feff}Flask\n"), ["flask"]);
    }

    #[test]
    fn continuations_comments_urls_and_options_are_understood() {
        let text = "flask \\\n  >=3.0\nreq\t#pinned later\n#x \\\nafter-comment\n\
                    name @ https://h/x.whl\nhttps://h/y.whl\n-e ./local\n./dir\nfoo#bar\n";
        assert_eq!(
            listed(text),
            ["flask", "req", "after-comment", "name", "foo"]
        );
        // A last line that continues would swallow the first package added.
        assert_eq!(add("flask \\\n", &["b"]), "flask \\\n\nb\n");
        assert_eq!(add("flask \\", &["b"]), "flask \\\n\nb\n");
    }

    /// The lines of `text` split on any line ending, for "every original line kept in order".
    fn lines(text: &str) -> Vec<&str> {
        text.split(['\n', '\r']).filter(|l| !l.is_empty()).collect()
    }

    proptest::proptest! {
        /// Any file (CRLF, CR, BOM, NUL, continuations, no final newline): every line kept in
        /// order, each package then listed, and a second run changes nothing.
        #[test]
        fn add_is_lossless_and_idempotent(
            body in proptest::collection::vec("[a-z0-9_.=<>#\\\\ \t\u{0}\u{feff}é-]{0,20}", 0..12),
            eol in proptest::sample::select(vec!["\n", "\r\n", "\r"]),
            end in proptest::bool::ANY,
        ) {
            let mut text = body.join(eol);
            if end { text.push_str(eol); }
            let out = add(&text, &["opentelemetry-api", "flask"]);
            proptest::prop_assert!(out.starts_with(&text));
            proptest::prop_assert_eq!(&lines(&out)[..lines(&text).len()], &lines(&text)[..]);
            proptest::prop_assert!(listed(&out).contains(&"opentelemetry-api".to_string()), "{:?}", out);
            proptest::prop_assert_eq!(add(&out, &["opentelemetry-api", "flask"]), out.clone());
        }
    }

    #[test]
    fn a_huge_file_is_read_in_linear_time() {
        let text = "a-package==1.0 \\\n".repeat(100_000) + &"x".repeat(1 << 20);
        let started = std::time::Instant::now();
        let out = add(&text, &["opentelemetry-api"]);
        assert!(out.ends_with("\n\nopentelemetry-api\n") || out.ends_with("opentelemetry-api\n"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
