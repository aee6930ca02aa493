//! Secrets: a value that cannot be printed by accident, the process-wide list of every value seen
//! that is or may be a credential, and the scanners that find them in argv, the environment and
//! project files before anything can fail and echo them.

use std::fmt;
use std::sync::RwLock;

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

    /// A prefix long enough to tell key kinds apart, never enough to use one: about a quarter of
    /// the key and at most seven characters, so no eight characters of a key are ever shown.
    pub fn masked(&self) -> String {
        let shown = (self.0.chars().count() / 4).min(7);
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

/// Shorter values are not masked: replacing them everywhere would garble ordinary words.
pub const MIN_MASKED_LEN: usize = 6;

/// Every secret the process has seen. It is process-wide because secrets are found before the
/// printer exists (in argv, before the command line is parsed) and deep inside parsers; the
/// printer scrubs everything it writes against this list.
static REGISTRY: RwLock<Vec<Secret>> = RwLock::new(Vec::new());

/// Every eight-byte piece of every registered key-like secret: a peer that echoes part of a key
/// (a gateway's "unknown key hcaik_01abc…" error) must not get that part printed either.
static PIECES: RwLock<Option<std::collections::HashSet<[u8; PIECE]>>> = RwLock::new(None);

/// No run of this many characters of a key-like secret is ever shown ([`Secret::masked`] shows
/// at most seven).
const PIECE: usize = 8;

/// Whether a secret is random enough that any eight of its characters are its own and not an
/// ordinary word: a credential by shape, or one long token of letters and digits in two cases
/// or more. A header list (`x-honeycomb-team=…`) or a URL is not: its pieces are common words,
/// and the key inside it is registered on its own.
fn masked_in_pieces(value: &str) -> bool {
    is_key_shaped(value)
        || (value.len() >= 16
            && classes(value) >= 2
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+/=".contains(&b)))
}

/// Remember a value so that no later output can show it. References such as `${VAR}` and values
/// too short to mask are ignored.
pub fn register(value: &str) {
    register_all([value.to_string()]);
}

/// Remember many values at once: one lock, one sort, whatever the number (a large compose file
/// may hold thousands).
pub fn register_all(values: impl IntoIterator<Item = String>) {
    let mut list = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let mut known: std::collections::HashSet<String> =
        list.iter().map(|s| s.expose().to_string()).collect();
    let before = list.len();
    for value in values {
        // A multi-line value (a PEM key in an env file) is shown line by line in diffs: each
        // line is masked on its own as well.
        let lines = value.lines().filter(|_| value.contains(['\n', '\r']));
        for value in std::iter::once(value.as_str()).chain(lines) {
            let value = value.trim();
            if value.chars().count() < MIN_MASKED_LEN || value.starts_with('$') {
                continue;
            }
            if known.insert(value.to_string()) {
                list.push(Secret::new(value));
            }
        }
    }
    if list.len() != before {
        let mut pieces = PIECES.write().unwrap_or_else(|e| e.into_inner());
        let pieces = pieces.get_or_insert_with(Default::default);
        for secret in &list[before..] {
            let bytes = secret.expose().as_bytes();
            if bytes.is_ascii() && masked_in_pieces(secret.expose()) {
                pieces.extend(
                    bytes
                        .windows(PIECE)
                        .filter_map(|w| <[u8; PIECE]>::try_from(w).ok()),
                );
            }
        }
        // Longest first, so that a secret containing another is masked as a whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
    }
}

/// `text` with every registered secret replaced by its mask, and every run of eight characters
/// or more taken from a key-like secret (a part of a key a peer echoed) masked the same way.
pub fn redact(text: &str) -> String {
    let list = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let mut text = text.to_string();
    for secret in list.iter() {
        if text.contains(secret.expose()) {
            text = text.replace(secret.expose(), &secret.masked());
        }
    }
    let pieces = PIECES.read().unwrap_or_else(|e| e.into_inner());
    match pieces.as_ref() {
        Some(pieces) if !pieces.is_empty() => redact_pieces(&text, pieces),
        _ => text,
    }
}

/// Mask every maximal run of `text` covered by pieces of secrets. Pieces are ASCII, so a run
/// starts and ends on character boundaries.
fn redact_pieces(text: &str, pieces: &std::collections::HashSet<[u8; PIECE]>) -> String {
    let bytes = text.as_bytes();
    let mut covered_to = 0;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, window) in bytes.windows(PIECE).enumerate() {
        let Ok(window) = <[u8; PIECE]>::try_from(window) else {
            continue;
        };
        if !pieces.contains(&window) {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if i <= covered_to => *end = i + PIECE,
            _ => runs.push((i, i + PIECE)),
        }
        covered_to = i + PIECE;
    }
    if runs.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in runs {
        out.push_str(&text[at..start]);
        out.push_str(&Secret::new(&text[start..end]).masked());
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Whether a variable's name says its value is a credential (`HONEYCOMB_API_KEY`,
/// `AWS_SECRET_ACCESS_KEY`, `OTEL_EXPORTER_OTLP_HEADERS`, …).
pub fn is_sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    [
        "KEY",
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "HEADERS",
        "CREDENTIAL",
        "SIGNATURE",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// Flags whose value is a credential, or may hold one (`--header "x-honeycomb-team=KEY"`).
const SECRET_FLAGS: &[&str] = &["--honeycomb-api-key", "--header"];

fn classes(word: &str) -> usize {
    [
        word.bytes().any(|b| b.is_ascii_lowercase()),
        word.bytes().any(|b| b.is_ascii_uppercase()),
        word.bytes().any(|b| b.is_ascii_digit()),
    ]
    .iter()
    .filter(|c| **c)
    .count()
}

/// Whether a word has the shape of a credential: a Honeycomb key of any kind, an AWS access key
/// id, an AWS secret access key or session token. Random-looking words only: a 22-letter name
/// in one case is not taken for a configuration key.
pub fn is_key_shaped(word: &str) -> bool {
    use crate::honeycomb::{KeyKind, classify};
    let base64 = |w: &str| {
        w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
    };
    // Real ingest and management keys are lower case; a key mangled to mixed case (pasted
    // through a tool, typed by hand) is still a key to hide.
    let lowered = classify(&word.to_ascii_lowercase()).kind;
    if matches!(
        lowered,
        KeyKind::Ingest | KeyKind::ClassicIngest | KeyKind::Management
    ) {
        return true;
    }
    match classify(word).kind {
        KeyKind::Ingest | KeyKind::ClassicIngest | KeyKind::Management => return true,
        KeyKind::Configuration => return classes(word) >= 2,
        KeyKind::Classic => return classes(word) >= 2,
        KeyKind::Unknown => {}
    }
    let aws_key_id = word.len() == 20
        && ["AKIA", "ASIA", "ABIA", "ACCA"]
            .iter()
            .any(|p| word.starts_with(p))
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    // AWS secrets are mixed-case base64; a 40-character git hash (lower case hex) is not one.
    let mixed_case = word.bytes().any(|b| b.is_ascii_lowercase())
        && word.bytes().any(|b| b.is_ascii_uppercase());
    let aws_secret_key = word.len() == 40 && base64(word) && mixed_case;
    let session_token = word.len() >= 100 && base64(word) && mixed_case;
    aws_key_id || aws_secret_key || session_token
}

/// Words that look like credentials, wherever they stand in `text`: as written and
/// percent-decoded (`x-honeycomb-team%3DKEY`), alone or glued to other letters (`3Dhcaik_…`).
pub fn key_shaped_words(text: &str) -> Vec<String> {
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    let mut found = Vec::new();
    for text in [text, decoded.as_ref()] {
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || "_+/=".contains(c))) {
            // Base64 padding and `NAME=value` both use '='; try the word whole and in parts.
            for part in std::iter::once(word).chain(word.split('=')) {
                found.extend(key_shaped_in(part).map(str::to_string));
            }
        }
        if decoded == text {
            break;
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The key-shaped pieces of one word: the word itself, and every known key prefix within it cut
/// to the lengths keys of that kind have.
fn key_shaped_in(word: &str) -> impl Iterator<Item = &str> {
    let starts = word
        .char_indices()
        .filter(|(i, _)| {
            // At the word's start too: a key with text glued after it (`KEY_r`, two keys
            // pasted together) is a key-length piece of a longer word.
            let rest = &word[*i..];
            rest.starts_with("hc")
                || ["AKIA", "ASIA", "ABIA", "ACCA"]
                    .iter()
                    .any(|p| rest.starts_with(p))
        })
        .map(|(i, _)| i);
    std::iter::once(word)
        .chain(starts.flat_map(move |i| {
            [64, 32, 20, usize::MAX]
                .into_iter()
                .filter_map(move |len| word.get(i..i.saturating_add(len).min(word.len())))
        }))
        .filter(|w| is_key_shaped(w))
}

/// The `user:password` part of every URL in `text`, the password alone, and the values of
/// query parameters whose names mark a credential (`?api_key=…`, `X-Amz-Signature=…`).
pub fn url_userinfo(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    for (i, _) in text.match_indices("://") {
        let rest = &text[i + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'<>,;".contains(c))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some((userinfo, _host)) = authority.rsplit_once('@') {
            found.push(userinfo.to_string());
            if let Some((_, password)) = userinfo.split_once(':') {
                found.push(password.to_string());
                found.push(decode(password));
            }
        }
        let url_end = rest
            .find(|c: char| c.is_whitespace() || "\"'<>".contains(c))
            .unwrap_or(rest.len());
        if let Some((_, query)) = rest[..url_end].split_once('?') {
            let query = query.split('#').next().unwrap_or_default();
            for pair in query.split(['&', ';']) {
                if let Some((name, value)) = pair.split_once('=')
                    && is_sensitive_name(&decode(name))
                {
                    found.push(value.to_string());
                    found.push(decode(value));
                }
            }
        }
    }
    found
}

/// The values of `name=value,name2=value2` (or a single `name: value`), raw and percent-decoded,
/// whether or not the text is well formed.
pub fn header_values(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for pair in text.split(',') {
        let value = match pair.split_once(['=', ':']) {
            Some((_, value)) => value,
            // `name value`: everything after the name. The name itself is no secret, and
            // masking it would garble every message that names the header.
            None => {
                pair.trim()
                    .split_once(char::is_whitespace)
                    .unwrap_or_default()
                    .1
            }
        };
        let value = value.trim().trim_matches(['"', '\'']).trim();
        found.push(value.to_string());
        found.push(
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned(),
        );
        // `Authorization: Bearer TOKEN`: the token alone may be echoed too (not the scheme).
        found.extend(value.split_whitespace().skip(1).map(str::to_string));
    }
    found
}

/// Every value a `name`/`value` pair may reveal: the value of a credential-named variable (and
/// each header in a `*_HEADERS` variable), URL passwords, and key-shaped words.
pub fn in_variable(name: &str, value: &str) -> Vec<String> {
    let mut found = Vec::new();
    if is_sensitive_name(name) {
        found.push(value.trim().to_string());
        if name.to_ascii_uppercase().contains("HEADERS") {
            found.extend(header_values(value));
        }
    }
    found.extend(url_userinfo(value));
    found.extend(key_shaped_words(value));
    found
}

/// Secrets on the command line, found before it is parsed so that no usage error can echo them:
/// values of secret flags, key-shaped words anywhere (a key given as a stray argument or to the
/// wrong flag), `NAME=value` with a credential name, and URL passwords.
pub fn in_args(args: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut previous: Option<&str> = None;
    for arg in args {
        // A header's name is shown in messages about it; only its value is a secret.
        match previous {
            Some("--header") => found.extend(header_values(arg)),
            Some(flag) if SECRET_FLAGS.contains(&flag) => found.push(arg.clone()),
            _ => {}
        }
        match arg.split_once('=') {
            Some(("--header", value)) => found.extend(header_values(value)),
            Some((flag, value)) if SECRET_FLAGS.contains(&flag) => found.push(value.to_string()),
            _ => {}
        }
        if let Some((name, value)) = arg.split_once('=') {
            found.extend(in_variable(name.trim_start_matches('-'), value));
        }
        found.extend(url_userinfo(arg));
        found.extend(key_shaped_words(arg));
        previous = Some(arg.as_str());
    }
    found
}

/// Secrets in the process environment: variables tracectl reads (HONEYCOMB_*, AWS_*, OTEL_*)
/// are searched whole; any other variable only when its name marks a credential.
pub fn in_env<K: AsRef<str>, V: AsRef<str>>(vars: impl IntoIterator<Item = (K, V)>) -> Vec<String> {
    vars.into_iter()
        .filter(|(name, _)| {
            let name = name.as_ref().to_ascii_uppercase();
            is_sensitive_name(&name)
                || ["HONEYCOMB_", "AWS_", "OTEL_"]
                    .iter()
                    .any(|p| name.starts_with(p))
        })
        .flat_map(|(name, value)| in_variable(name.as_ref(), value.as_ref()))
        .collect()
}

/// A `NAME: value` or `NAME=value` assignment on one line of a compose or env file (list item
/// dash, `export` and quotes stripped; a trailing ` #` comment and a flow collection's `,`
/// dropped).
pub fn assignment(line: &str) -> Option<(&str, &str)> {
    let (name, value) = raw_assignment(line)?;
    let value = value.trim_end_matches(',').trim_end();
    let value = value.trim_matches(['"', '\'']).trim();
    Some((name, value))
}

/// An assignment with its value as written (quotes kept).
fn raw_assignment(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let line = line.trim_start_matches(['"', '\'']);
    let end = line.find([':', '='])?;
    let name = line[..end].trim().trim_end_matches(['"', '\'']);
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return None;
    }
    let mut value = line[end + 1..].trim();
    if let Some(comment) = value.find(" #") {
        value = value[..comment].trim_end();
    }
    Some((name, value))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// How many of `rest` (the lines after an assignment whose value is `value`) continue it: lines
/// up to the closing quote of a quoted value left open, or the more-indented lines of a YAML
/// block scalar (`|`, `>`), an empty value or a plain scalar folded over several lines.
fn continued_lines(line: &str, value: &str, rest: &[&str]) -> usize {
    for quote in ['"', '\''] {
        if let Some(body) = value.strip_prefix(quote) {
            let closed = |s: &str| {
                let mut escaped = false;
                s.chars().any(|c| {
                    let close = c == quote && !escaped;
                    escaped = quote == '"' && c == '\\' && !escaped;
                    close
                })
            };
            if closed(body) {
                return 0;
            }
            return rest
                .iter()
                .position(|l| closed(l))
                .map_or(rest.len(), |i| i + 1);
        }
    }
    let own = indent(line);
    let deeper = |l: &&&str| l.trim().is_empty() || indent(l) > own;
    if value.is_empty() {
        // An empty value over more-indented `name: value` lines or `- items` is a nested
        // collection (`secrets:`, a service called `keycloak`), not one scalar.
        return rest
            .iter()
            .take_while(|l| {
                deeper(l) && raw_assignment(l).is_none() && !l.trim_start().starts_with('-')
            })
            .count();
    }
    rest.iter().take_while(deeper).count()
}

/// How deep [`flow_items`] looks into collections nested on one line: real files nest two or
/// three; each level rescans the line, and a hostile one nests thousands.
const MAX_FLOW_DEPTH: usize = 16;

/// The items of a flow collection on one line (`environment: {A: b, C: d}`, `[A=b, C=d]`).
fn flow_items(line: &str) -> Vec<&str> {
    flow_items_at(line, 0)
}

fn flow_items_at(line: &str, depth: usize) -> Vec<&str> {
    let Some(open) = line.find(['{', '[']).filter(|_| depth < MAX_FLOW_DEPTH) else {
        return Vec::new();
    };
    let inner = &line[open + 1..];
    let inner = inner
        .rfind(['}', ']'])
        .map_or(inner, |close| &inner[..close]);
    inner
        .split(',')
        .flat_map(|item| {
            // A nested collection: the items inside it.
            let nested = flow_items_at(item, depth + 1);
            if nested.is_empty() {
                vec![item]
            } else {
                nested
            }
        })
        .collect()
}

/// Every secret written into a file's text, by variable name and by shape; references such as
/// `${HONEYCOMB_API_KEY}` are not values and are left alone. A credential's value written over
/// several lines (a multi-line quoted value, a YAML block scalar) is found line by line.
pub fn in_text(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let mut assignments: Vec<(&str, &str)> = flow_items(line)
            .into_iter()
            .filter_map(assignment)
            .collect();
        assignments.extend(assignment(line));
        for (name, value) in assignments {
            if !value.contains("${") {
                found.extend(in_variable(name, value));
            }
        }
        if let Some((name, value)) = raw_assignment(line)
            && is_sensitive_name(name)
        {
            let more = continued_lines(line, value, &lines[i..]);
            let block = &lines[i..i + more];
            for part in block {
                found.extend(url_userinfo(part));
                found.extend(key_shaped_words(part));
                let part = part.trim().trim_matches(['"', '\'']).trim();
                found.push(part.to_string());
            }
            // Folded (`>`) and plain scalars join their lines with spaces; literal ones and
            // quoted env values with newlines.
            let parts: Vec<&str> = block.iter().map(|l| l.trim()).collect();
            if parts.len() > 1 {
                found.push(parts.join(" "));
                found.push(parts.join("\n"));
            }
            // The block is this value, read once: a file of many open quotes stays linear.
            i += more;
        }
        if let Some((_, after)) = line.split_once("x-honeycomb-team=") {
            let value: String = after
                .chars()
                .take_while(|c| !matches!(c, ',' | '"' | '\'' | ' '))
                .collect();
            if !value.starts_with('$') {
                found.push(value);
            }
        }
        found.extend(url_userinfo(line));
        found.extend(key_shaped_words(line));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";
    const CONFIG_KEY: &str = "uOexnOwfIU3LecPs1cYpLC";
    const AWS_ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn a_line_nested_a_hundred_thousand_times_is_read_in_linear_time() {
        let depth = 100_000;
        let line = format!("x: {}A={KEY}{}", "[".repeat(depth), "]".repeat(depth));
        let started = std::time::Instant::now();
        let found = in_text(&line);
        assert!(found.iter().any(|f| f == KEY), "{:?}", found.len());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_piece_of_a_key_a_peer_echoes_is_masked_but_words_of_a_header_list_are_not() {
        let key = "hcaik_01echoedpieceq7x2v9w3m4n5b6c7d8e9f0g1h2j3k4l5m6n7p8q9r0s1t2";
        register(key);
        register("x-honeycomb-team=plainheadervaluex,x-honeycomb-dataset=flask");
        for shown in [
            format!("unknown API key: {}...", &key[..20]),
            format!("key ending {} is revoked", &key[40..]),
            format!("glued{}glued", &key[10..30]),
        ] {
            let out = redact(&shown);
            for w in key.as_bytes().windows(PIECE) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!out.contains(w), "{w} of the key in {out:?}");
            }
            assert!(out.contains("…(redacted)"), "{out}");
        }
        // The words of a header list are not pieces of a secret.
        let hint = "send the x-honeycomb-team header with x-honeycomb-dataset";
        assert_eq!(redact(hint), hint);
        assert_eq!(redact("short hcaik_0 text"), "short hcaik_0 text");
    }

    #[test]
    fn a_key_with_text_glued_after_it_or_in_mixed_case_is_found() {
        let key = "hcaik_01gluedkeyq7x2v9w3m4n5b6c7d8e9f0g1h2j3k4l5m6n7p8q9r0s1t2u3";
        assert_eq!(key.len(), 64);
        for text in [
            format!("AWS_REGION: {key}_r"),
            format!("DATASET: {key}{key}"),
            format!("x={key}x"),
        ] {
            assert!(
                key_shaped_words(&text).iter().any(|w| w == key),
                "{text}: {:?}",
                key_shaped_words(&text)
            );
        }
        let mixed = "hcaik_01GluedKeyQ7x2V9w3M4n5B6c7D8e9F0g1H2j3K4l5M6n7P8q9R0s1T2u3";
        assert!(is_key_shaped(mixed));
        assert!(
            key_shaped_words(&format!("A: {mixed}_r"))
                .iter()
                .any(|w| w == mixed)
        );
    }

    #[test]
    fn every_rendering_masks_the_key() {
        let secret = Secret::new(KEY);
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            serde_json::to_string(&secret).unwrap(),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(shown.contains("hcaik_0…(redacted)"), "{shown}");
        }
        assert_eq!(secret.expose(), KEY);
    }

    #[test]
    fn no_eight_characters_of_a_key_are_shown() {
        for key in [
            KEY,
            CONFIG_KEY,
            AWS_ID,
            AWS_SECRET,
            "x".repeat(400).as_str(),
        ] {
            let masked = Secret::new(key).masked();
            let shown = masked.trim_end_matches("…(redacted)");
            assert!(shown.chars().count() < 8, "{masked}");
        }
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
        assert_eq!(Secret::new(CONFIG_KEY).masked(), "uOexn…(redacted)");
    }

    #[test]
    fn key_shapes() {
        for key in [
            KEY,
            CONFIG_KEY,
            AWS_ID,
            AWS_SECRET,
            "430eb2f22c137f6ff63980a3a332b4ac",
            "hcamk_01hqk4k20zjwzq9m8x4ztwbs6h",
        ] {
            assert!(is_key_shaped(key), "{key}");
        }
        for word in [
            "backend-flask",
            "configurationmanagement",
            "CONFIGURATIONMANAGEMEN",
            // A git commit hash is lower-case hex: not an AWS secret key.
            "38d86a2c1f6e0c0a7a2e5e6d7c8b9a0f1e2d3c4b",
            "eu-west-3",
        ] {
            assert!(!is_key_shaped(word), "{word}");
        }
    }

    #[test]
    fn args_reveal_flag_values_stray_keys_and_credential_pairs() {
        let args: Vec<String> = [
            "tracectl",
            "send-test",
            KEY,
            "--header",
            "x-honeycomb-team: notkeyshapedsecret",
            "--honeycomb-api-key=flagvalue123",
            "--endpoint",
            "https://user:hunter2hunter@collector:4318",
            "--attribute",
            "DB_PASSWORD=s3cretpw",
            "--service-name",
            "backend-flask",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let found = in_args(&args);
        for secret in [
            KEY,
            "notkeyshapedsecret",
            "flagvalue123",
            "hunter2hunter",
            "s3cretpw",
        ] {
            assert!(found.iter().any(|f| f == secret), "{secret} in {found:?}");
        }
        assert!(!found.iter().any(|f| f == "backend-flask"));
        assert!(
            !found.iter().any(|f| f.starts_with("x-honeycomb-team")),
            "{found:?}"
        );
    }

    #[test]
    fn header_values_leave_names_and_schemes_alone() {
        let found = header_values("x-honeycomb-team s3cretvalue,authorization: Bearer t0kenvalue");
        for secret in ["s3cretvalue", "Bearer t0kenvalue", "t0kenvalue"] {
            assert!(found.iter().any(|f| f == secret), "{secret} in {found:?}");
        }
        for name in ["x-honeycomb-team", "authorization", "Bearer"] {
            assert!(!found.iter().any(|f| f == name), "{name} in {found:?}");
        }
    }

    #[test]
    fn text_reveals_literal_values_not_references() {
        let text = format!(
            "services:\n  api:\n    environment:\n      AWS_SECRET_ACCESS_KEY: \"{AWS_SECRET}\"\n      \
             - AWS_SESSION_TOKEN=tok3nvalue # old\n      HONEYCOMB_API_KEY: ${{HONEYCOMB_API_KEY}}\n      \
             OTEL_EXPORTER_OTLP_HEADERS: x-honeycomb-team={CONFIG_KEY}\n      \
             - POSTGRES_PASSWORD=password\n"
        );
        let found = in_text(&text);
        for secret in [AWS_SECRET, "tok3nvalue", CONFIG_KEY, "password"] {
            assert!(found.iter().any(|f| f == secret), "{secret} in {found:?}");
        }
        assert!(!found.iter().any(|f| f.contains("${")), "{found:?}");
    }

    #[test]
    fn multi_line_and_flow_values_are_found_but_nested_collections_are_not_values() {
        let text = "services:\n  keycloak:\n    image: quay.io/keycloak/keycloak\n    \
                    environment: {REDIS_PASSWORD: fl0wpassword, A: b}\n    \
                    secrets:\n      - db_password_file\n  api:\n    environment:\n      \
                    DB_PASSWORD: >-\n        f0ldedpassword\n      TOKEN: \"open\n        \
                    quotedcontinued\"\n      - LIST_KEY=[li5tvalue]\n";
        let found = in_text(text);
        for secret in ["fl0wpassword", "f0ldedpassword", "quotedcontinued"] {
            assert!(found.iter().any(|f| f == secret), "{secret} in {found:?}");
        }
        for word in [
            "image: quay.io/keycloak/keycloak",
            "- db_password_file",
            "environment:",
        ] {
            assert!(!found.iter().any(|f| f == word), "{word} in {found:?}");
        }
        let env = "KEY=\"-----BEGIN\nline0ne-secret\n-----END\"\nNEXT=1\n";
        assert!(in_text(env).iter().any(|f| f == "line0ne-secret"));
        assert!(!in_text(env).iter().any(|f| f.contains("NEXT")));
    }

    #[test]
    fn keys_glued_to_other_text_or_percent_encoded_are_found() {
        for text in [
            format!("x-honeycomb-team%3D{KEY}"),
            format!("3D{KEY}"),
            format!("id={AWS_ID}XYZ"),
        ] {
            let found = key_shaped_words(&text);
            assert!(
                found.iter().any(|f| f == KEY || f == AWS_ID),
                "{text}: {found:?}"
            );
        }
        let found = url_userinfo("see https://h:4318/v1?api_key=qu3rysecret&x=1#f here");
        assert!(found.iter().any(|f| f == "qu3rysecret"), "{found:?}");
        assert!(!found.iter().any(|f| f == "1"), "{found:?}");
    }

    #[test]
    fn a_file_of_open_quotes_is_read_in_linear_time() {
        let text = "A_TOKEN=\"x\n".repeat(50_000);
        let started = std::time::Instant::now();
        in_text(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn environment_is_searched_where_tracectl_reads() {
        let found = in_env([
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=abc%3Ddef12"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://u:pa55word@h:4318"),
            ("PATH", "/usr/bin"),
        ]);
        for secret in ["abc%3Ddef12", "abc=def12", "pa55word"] {
            assert!(found.iter().any(|f| f == secret), "{secret} in {found:?}");
        }
    }

    #[test]
    fn registry_masks_longest_first_and_ignores_references() {
        register("registrytest-long-secret");
        register("registrytest");
        register("${NOT_A_VALUE}");
        let text = redact("a registrytest-long-secret b ${NOT_A_VALUE}");
        assert!(!text.contains("long-secret"), "{text}");
        assert!(text.contains("${NOT_A_VALUE}"), "{text}");
    }

    proptest::proptest! {
        /// Whatever surrounds a registered secret, no eight characters of it survive redaction.
        #[test]
        fn redaction_leaves_no_eight_characters(
            secret in "[A-Za-z0-9_/+]{8,80}",
            before in "[ -.:-@\n]{0,40}",
            after in "[ -.:-@\n]{0,40}",
            times in 1usize..4,
        ) {
            register(&secret);
            let text = format!("{before}{}{after}", secret.repeat(times));
            let shown = redact(&text);
            let chars: Vec<char> = secret.chars().collect();
            for window in chars.windows(8) {
                let piece: String = window.iter().collect();
                proptest::prop_assert!(!shown.contains(&piece), "{} in {}", piece, shown);
            }
        }

        /// A key-shaped word is found wherever it stands in an argument.
        #[test]
        fn key_shaped_words_are_found_in_any_argument(
            id in "[a-z0-9]{58}",
            before in "[ ,;:=\"'@]{0,3}[a-z-]{0,10}[ ,;:=\"'@]",
            after in "([ ,;:\"'@][a-z-]{0,10})?",
        ) {
            let key = format!("hcaik_{id}");
            let found = in_args(&[format!("{before}{key}{after}")]);
            proptest::prop_assert!(found.contains(&key), "{:?}", found);
        }
    }
}
