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

/// The normalised project names a requirements file lists; options (`-r`, `--index-url`),
/// comments, extras, markers and version pins are ignored.
pub fn listed(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
                return None;
            }
            let end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(line.len());
            (end > 0).then(|| normalize(&line[..end]))
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

/// The file with the missing packages appended, one per line.
pub fn add(text: &str, wanted: &[&str]) -> String {
    let missing = missing(text, wanted);
    if missing.is_empty() {
        return text.to_string();
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for name in missing {
        out.push_str(name);
        out.push('\n');
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
        assert_eq!(add("# c\r\nflask\r\n", &["b"]), "# c\r\nflask\r\nb\n");
    }
}
