//! .gitignore: making sure the env file holding secrets is never committed.

/// Whether one of the file's patterns ignores `name` (a file beside the .gitignore). Only the
/// common spellings are recognised; a negation after them un-ignores it again.
pub fn ignores(text: &str, name: &str) -> bool {
    let mut ignored = false;
    for line in text.lines() {
        let line = line.trim();
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
        let pattern = pattern.strip_prefix("**/").unwrap_or(pattern);
        let matches = pattern == name
            || pattern == "*"
            || (pattern.starts_with('*')
                && name.ends_with(&pattern[1..])
                && !pattern[1..].contains('*'))
            || (pattern.ends_with('*')
                && name.starts_with(&pattern[..pattern.len() - 1])
                && !pattern[..pattern.len() - 1].contains('*'));
        if matches {
            ignored = !negated;
        }
    }
    ignored
}

/// The .gitignore text with `name` added when it is not ignored yet.
pub fn ensure_ignored(text: &str, name: &str) -> String {
    if ignores(text, name) {
        return text.to_string();
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(name);
    out.push('\n');
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
        ] {
            assert!(ignores(text, ".env"), "{text}");
        }
        for text in ["", ".envrc", "env", ".env\n!.env\n", "# .env"] {
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
    }
}
