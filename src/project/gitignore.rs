//! .gitignore: making sure the env file holding secrets is never committed.

/// How one pattern relates to the file name.
#[derive(PartialEq)]
enum Match {
    Yes,
    No,
    /// A pattern this reader does not evaluate (character classes, escapes, paths).
    Unknown,
}

/// Whether `pattern` (one line, already without `!`) matches `name`, a file beside the .gitignore.
fn matches(pattern: &str, name: &str) -> Match {
    // A pattern ending in `/` only matches folders.
    if pattern.ends_with('/') {
        return Match::No;
    }
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
    let pattern = pattern.strip_prefix("**/").unwrap_or(pattern);
    if pattern.contains('/') || unescaped_class(pattern.as_bytes()) {
        return Match::Unknown;
    }
    if glob(pattern.as_bytes(), name.as_bytes()) {
        Match::Yes
    } else {
        Match::No
    }
}

/// Whether a pattern holds a `[…]` character class (an escaped `\\[` is a plain `[`).
fn unescaped_class(pattern: &[u8]) -> bool {
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' => i += 2,
            b'[' => return true,
            _ => i += 1,
        }
    }
    false
}

/// `*` and `?` globbing within one path component; `\\` makes the next character plain.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'\\', rest)) => match rest.split_first() {
            Some((c, rest)) => name.first() == Some(c) && glob(rest, &name[1..]),
            None => false,
        },
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && glob(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob(rest, &name[1..]),
    }
}

/// The pattern a line holds, as git reads it: a trailing CR and unescaped trailing spaces are
/// dropped, leading spaces are part of the pattern; `None` for blank lines and comments.
fn pattern_of(line: &str) -> Option<&str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut end = line.len();
    while end > 0 && line.as_bytes()[end - 1] == b' ' && !line[..end - 1].ends_with('\\') {
        end -= 1;
    }
    let line = &line[..end];
    (!line.is_empty() && !line.starts_with('#')).then_some(line)
}

/// Whether the file's patterns ignore `name` (a file beside the .gitignore). Errs on the safe
/// side: a pattern it cannot evaluate ignores nothing, but a negation it cannot evaluate
/// un-ignores, so a doubtful case leads to one more `name` line, never to a committed secret.
pub fn ignores(text: &str, name: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ignored = false;
    for pattern in text.split('\n').filter_map(pattern_of) {
        match pattern.strip_prefix('!') {
            Some(negated) => {
                if matches(negated, name) != Match::No {
                    ignored = false;
                }
            }
            None => {
                if matches(pattern, name) == Match::Yes {
                    ignored = true;
                }
            }
        }
    }
    ignored
}

/// `name` as a pattern that matches exactly it.
fn escape(name: &str) -> String {
    let mut out = String::new();
    if name.starts_with(['#', '!']) {
        out.push('\\');
    }
    for c in name.chars() {
        if matches!(c, '*' | '?' | '[' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.insert(out.len() - 1, '\\');
    }
    out
}

/// The .gitignore text with `name` added when it is not ignored yet, in the file's own line
/// ending.
pub fn ensure_ignored(text: &str, name: &str) -> String {
    if ignores(text, name) {
        return text.to_string();
    }
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(eol);
    }
    out.push_str(&escape(name));
    out.push_str(eol);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_patterns() {
        for text in [
            ".env\n",
            "/.env",
            "**/.env",
            "*.env",
            ".env*",
            "node_modules\n.env\n",
            ".env\r\n",
            ".env  ",
            "\u{feff}.env",
            ".e?v",
            "*\n!.env\n.env",
        ] {
            assert!(ignores(text, ".env"), "{text}");
        }
        for text in [
            "",
            ".envrc",
            "env",
            ".env\n!.env\n",
            "# .env",
            " .env",
            ".env\t",
            ".env/",
            "\\#.env",
            ".env\n!.en[v]\n",
        ] {
            assert!(!ignores(text, ".env"), "{text}");
        }
    }

    #[test]
    fn appends_once() {
        assert_eq!(
            ensure_ignored("node_modules", ".env"),
            "node_modules\n.env\n"
        );
        assert_eq!(
            ensure_ignored("node_modules\n.env\n", ".env"),
            "node_modules\n.env\n"
        );
        assert_eq!(ensure_ignored("", ".env"), ".env\n");
        assert_eq!(ensure_ignored("a\r\nb", ".env"), "a\r\nb\r\n.env\r\n");
        assert_eq!(ensure_ignored("", "#my env*"), "\\#my env\\*\n");
    }

    proptest::proptest! {
        /// Any file: every byte kept as a prefix, the name then ignored, a second run a no-op.
        #[test]
        fn ensure_ignored_is_lossless_and_idempotent(
            body in proptest::collection::vec("[a-z.*?!#/\\\\ \r\u{feff}\u{0}]{0,12}", 0..10),
            end in proptest::bool::ANY,
            name in proptest::sample::select(vec![".env", "app.env", "#x env ", "!a*b?"]),
        ) {
            let mut text = body.join("\n");
            if end { text.push('\n'); }
            let out = ensure_ignored(&text, name);
            proptest::prop_assert!(out.starts_with(&text));
            proptest::prop_assert!(ignores(&out, name), "{:?}", out);
            proptest::prop_assert_eq!(ensure_ignored(&out, name), out.clone());
        }
    }

    #[test]
    fn a_huge_file_is_read_in_linear_time() {
        let text = "*a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*\n".repeat(20_000) + &"?".repeat(1 << 16);
        let started = std::time::Instant::now();
        ensure_ignored(&text, ".env");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
