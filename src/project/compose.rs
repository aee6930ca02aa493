//! The compose file: finding services and their environment, and editing them losslessly.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use yaml_edit::{Document, Mapping, ScalarValue, YamlNode};

use crate::error::{Error, Result};
use crate::recipe::{self, EnvVar};

pub struct Compose {
    path: PathBuf,
    text: String,
    doc: Document,
}

/// How a service writes its environment: `KEY: value` or `- KEY=value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvStyle {
    Map,
    List,
}

/// What happened to one variable of the backend's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EnvOutcome {
    Added,
    Unchanged,
    /// `--force` replaced a different value.
    Replaced {
        previous: String,
    },
    /// A different value was already there and stays.
    Kept {
        existing: String,
        proposed: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceOutcome {
    Added,
    Replaced,
    /// The service exists; tracectl leaves it alone.
    Kept,
}

/// Quote a value the way the surrounding entries are quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Double,
    Single,
    Plain,
}

fn scalar_text(node: &YamlNode) -> Option<String> {
    node.as_scalar().map(|s| s.as_string())
}

/// A plain scalar that YAML reads back as the same string, and never as a number, bool or null.
fn plain_is_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    let reserved = matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
    );
    (first.is_ascii_alphabetic() || first == '$' || first == '/' || first == '.')
        && !reserved
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.ends_with(':')
        && !value.ends_with(' ')
        && value.chars().all(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '\'' | '"' | '`' | '[' | ']' | ',' | '&' | '*' | '!' | '|' | '>' | '%' | '@'
                )
        })
}

fn quoted(value: &str, quoting: Quoting) -> ScalarValue {
    match quoting {
        Quoting::Plain if plain_is_safe(value) => ScalarValue::plain(value),
        Quoting::Single => ScalarValue::single_quoted(value),
        _ => ScalarValue::double_quoted(value),
    }
}

/// The quoting style of the first existing entry; `default` when there are none.
fn quoting_in_use<'a>(mut raw: impl Iterator<Item = &'a str>, default: Quoting) -> Quoting {
    match raw.next() {
        Some(text) if text.starts_with('"') => Quoting::Double,
        Some(text) if text.starts_with('\'') => Quoting::Single,
        Some(_) => Quoting::Plain,
        None => default,
    }
}

/// A service's environment as written: its style (none when absent) and each key with its
/// value (`None` for a bare `- KEY`).
pub type Environment = (Option<EnvStyle>, Vec<(String, Option<String>)>);

impl Compose {
    pub fn parse(path: &Path, text: String) -> Result<Self> {
        let doc = Document::from_str(&text).map_err(|err| match err {
            yaml_edit::YamlError::Parse {
                message,
                line,
                column,
            } => Error::parse(path, line.unwrap_or(1), column.unwrap_or(1), message),
            other => Error::parse(path, 1, 1, other.to_string()),
        })?;
        let compose = Compose {
            path: path.to_path_buf(),
            text,
            doc,
        };
        compose.services()?;
        Ok(compose)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn services(&self) -> Result<Mapping> {
        let root = self.doc.as_mapping().ok_or_else(|| {
            Error::project(
                &self.path,
                "is not a compose file: the top level is not a mapping",
                None,
            )
        })?;
        root.get_mapping("services").ok_or_else(|| {
            Error::project(
                &self.path,
                "has no `services` mapping",
                "a compose file lists its containers under `services:`; pass --compose-file to pick another file".to_string(),
            )
        })
    }

    fn service(&self, name: &str) -> Result<Mapping> {
        self.services()?.get_mapping(name).ok_or_else(|| {
            Error::usage(
                format!("{} has no service '{name}'", self.path.display()),
                format!("services there: {}", self.service_names().join(", ")),
            )
        })
    }

    pub fn service_names(&self) -> Vec<String> {
        self.services()
            .map(|s| s.keys().filter_map(|k| scalar_text(&k)).collect())
            .unwrap_or_default()
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.services().is_ok_and(|s| s.contains_key(name))
    }

    /// The build folder of a service (`build: DIR` or `build: {context: DIR}`), as written.
    pub fn build_context(&self, name: &str) -> Option<String> {
        let build = self.service(name).ok()?.get("build")?;
        match &build {
            YamlNode::Scalar(s) => Some(s.as_string()),
            YamlNode::Mapping(m) => m.get("context").as_ref().and_then(scalar_text),
            _ => None,
        }
    }

    /// The service's environment as written.
    pub fn environment(&self, name: &str) -> Result<Environment> {
        let service = self.service(name)?;
        let Some(env) = service.get("environment") else {
            return Ok((None, Vec::new()));
        };
        match &env {
            YamlNode::Mapping(m) => Ok((
                Some(EnvStyle::Map),
                m.entries()
                    .filter_map(|e| {
                        let key = scalar_text(&e.key_node()?)?;
                        let value = e.value_node().as_ref().and_then(scalar_text);
                        Some((key, value))
                    })
                    .collect(),
            )),
            YamlNode::Sequence(s) => Ok((
                Some(EnvStyle::List),
                s.values()
                    .filter_map(|v| scalar_text(&v))
                    .map(|item| match item.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (item, None),
                    })
                    .collect(),
            )),
            YamlNode::Scalar(s) if s.is_null() || s.value().trim().is_empty() => {
                Ok((None, Vec::new()))
            }
            _ => Err(Error::project(
                &self.path,
                format!(
                    "the environment of service '{name}' is neither a mapping nor a list (an alias or a tag?)"
                ),
                "write it out as `KEY: value` entries, then run tracectl init again".to_string(),
            )),
        }
    }

    /// Set the variables in the service's environment, keeping its style and quoting. A different
    /// existing value stays unless `force`.
    pub fn set_env(&self, name: &str, vars: &[EnvVar], force: bool) -> Result<Vec<EnvOutcome>> {
        let (style, existing) = self.environment(name)?;
        let service = self.service(name)?;
        let mut outcomes = Vec::with_capacity(vars.len());
        match style {
            None => {
                let env = Mapping::new();
                for var in vars {
                    env.set(var.key.as_str(), quoted(&var.value, Quoting::Double));
                    outcomes.push(EnvOutcome::Added);
                }
                service.set("environment", env);
            }
            Some(EnvStyle::Map) => {
                let env = service.get_mapping("environment").expect("checked above");
                let raw: Vec<String> = env
                    .values()
                    .filter_map(|v| v.as_scalar().map(|s| s.value()))
                    .collect();
                let quoting = quoting_in_use(raw.iter().map(String::as_str), Quoting::Double);
                for var in vars {
                    let current = existing
                        .iter()
                        .find(|(k, _)| *k == var.key)
                        .map(|(_, v)| v.clone());
                    let outcome = decide(current, &var.value, force);
                    if matches!(outcome, EnvOutcome::Added | EnvOutcome::Replaced { .. }) {
                        env.set(var.key.as_str(), quoted(&var.value, quoting));
                    }
                    outcomes.push(outcome);
                }
            }
            Some(EnvStyle::List) => {
                let env = service.get_sequence("environment").expect("checked above");
                let raw: Vec<String> = env
                    .values()
                    .filter_map(|v| v.as_scalar().map(|s| s.value()))
                    .collect();
                let quoting = quoting_in_use(raw.iter().map(String::as_str), Quoting::Plain);
                for var in vars {
                    let index = existing.iter().position(|(k, _)| *k == var.key);
                    let current = index.map(|i| existing[i].1.clone());
                    let outcome = decide(current, &var.value, force);
                    let item = quoted(&format!("{}={}", var.key, var.value), quoting);
                    match (&outcome, index) {
                        (EnvOutcome::Added, _) => env.push(item),
                        (EnvOutcome::Replaced { .. }, Some(i)) => {
                            env.set(i, item);
                        }
                        _ => {}
                    }
                    outcomes.push(outcome);
                }
            }
        }
        Ok(outcomes)
    }

    /// The file's text with the X-Ray daemon service added after service `after` (or, with
    /// `force`, put in place of an existing one), written with the file's own indentation.
    pub fn with_daemon(
        &self,
        after: &str,
        style: EnvStyle,
        force: bool,
    ) -> Result<(String, ServiceOutcome)> {
        let text = self.render();
        let exists = self.has_service(recipe::DAEMON_SERVICE);
        if exists && !force {
            return Ok((text, ServiceOutcome::Kept));
        }
        let target = if exists {
            recipe::DAEMON_SERVICE
        } else {
            after
        };
        let Some((indent, range)) = service_block(&text, target) else {
            return Err(Error::project(
                &self.path,
                format!(
                    "cannot place service {} here (is `services` written in flow style?)",
                    recipe::DAEMON_SERVICE
                ),
                "add the service by hand, or rewrite `services:` as a block mapping".to_string(),
            ));
        };
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut snippet = String::new();
        for line in self.daemon_snippet(style).lines() {
            snippet.push_str(&" ".repeat(indent));
            snippet.push_str(line);
            snippet.push_str(newline);
        }
        let mut out = String::with_capacity(text.len() + snippet.len());
        if exists {
            out.push_str(&text[..range.start]);
            out.push_str(&snippet);
        } else {
            out.push_str(&text[..range.end]);
            if !out.ends_with('\n') {
                out.push_str(newline);
            }
            out.push_str(&snippet);
        }
        out.push_str(&text[range.end..]);
        let outcome = if exists {
            ServiceOutcome::Replaced
        } else {
            ServiceOutcome::Added
        };
        Ok((out, outcome))
    }

    /// The command of an existing daemon service when it is one string: the image's entrypoint
    /// then receives it as a single argument it does not understand.
    pub fn daemon_single_string_command(&self) -> Option<String> {
        let service = self.services().ok()?.get_mapping(recipe::DAEMON_SERVICE)?;
        let command = service.get("command")?;
        match &command {
            YamlNode::Scalar(s) if s.as_string().contains(' ') => Some(s.as_string()),
            YamlNode::Sequence(seq) if seq.len() == 1 => seq
                .first()
                .as_ref()
                .and_then(scalar_text)
                .filter(|c| c.contains(' ')),
            _ => None,
        }
    }

    /// (indent of a nested level, extra indent of a block sequence's dashes), read off the file.
    fn indentation(&self) -> (usize, usize) {
        let indent_of = |line: &str| line.len() - line.trim_start_matches(' ').len();
        let lines: Vec<&str> = self
            .text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .collect();
        let mut unit = None;
        let mut seq_extra = None;
        for pair in lines.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (ia, ib) = (indent_of(a), indent_of(b));
            if !a.trim_end().ends_with(':') {
                continue;
            }
            if b.trim_start().starts_with("- ") {
                seq_extra.get_or_insert(ib.saturating_sub(ia));
            } else if ib > ia {
                unit.get_or_insert(ib - ia);
            }
        }
        let unit = unit.unwrap_or(2);
        (unit, seq_extra.unwrap_or(unit))
    }

    fn daemon_snippet(&self, style: EnvStyle) -> String {
        let (unit, seq_extra) = self.indentation();
        let i1 = " ".repeat(unit);
        let i2 = " ".repeat(unit * 2);
        let dash = " ".repeat(unit + seq_extra);
        let q = |v: &str| format!("\"{v}\"");
        let mut s = format!("{}:\n", recipe::DAEMON_SERVICE);
        s += &format!("{i1}image: {}\n", q(recipe::DAEMON_IMAGE));
        s += &format!("{i1}environment:\n");
        for var in recipe::daemon_env() {
            match style {
                EnvStyle::Map => s += &format!("{i2}{}: {}\n", var.key, q(&var.value)),
                EnvStyle::List => {
                    s += &format!("{dash}- {}\n", q(&format!("{}={}", var.key, var.value)))
                }
            }
        }
        s += &format!("{i1}command:\n");
        for arg in recipe::DAEMON_COMMAND {
            s += &format!("{dash}- {}\n", q(arg));
        }
        s += &format!("{i1}ports:\n");
        for port in recipe::DAEMON_PORTS {
            s += &format!("{dash}- {}\n", q(port));
        }
        s
    }

    /// The text as read from disk.
    pub fn source(&self) -> &str {
        &self.text
    }

    /// The 1-based line of `needle` inside service `service`'s block, or of the service's key.
    pub fn line_in_service(&self, service: &str, needle: &str) -> Option<usize> {
        let (_, range) = service_block(&self.text, service)?;
        let block = &self.text[range.clone()];
        let offset = range.start + block.find(needle).unwrap_or(0);
        Some(self.text[..offset].matches('\n').count() + 1)
    }

    /// The published ports of a service, as written.
    pub fn ports(&self, name: &str) -> Vec<String> {
        self.service(name)
            .ok()
            .and_then(|s| s.get_sequence("ports"))
            .map(|seq| seq.values().filter_map(|v| scalar_text(&v)).collect())
            .unwrap_or_default()
    }

    pub fn render(&self) -> String {
        self.doc.to_string()
    }
}

/// Where service `name` stands in a block-style `services:` mapping: the indentation of its key,
/// and the bytes from its key line to the end of its last line. Blank lines and comments after
/// that belong to what follows.
fn service_block(text: &str, name: &str) -> Option<(usize, std::ops::Range<usize>)> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        lines.push((offset, line));
        offset += line.len();
    }
    let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let is_content = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let key_line = |l: &str| {
        let t = l.trim_start();
        let t = t.split('#').next().unwrap_or("").trim_end();
        let key = t
            .strip_suffix(':')
            .or_else(|| t.split_once(": ").map(|(k, _)| k))?;
        Some(key.trim_matches(['"', '\'']).to_string())
    };
    let start = lines
        .iter()
        .position(|(_, l)| indent_of(l) == 0 && key_line(l).as_deref() == Some("services"))?;
    let first = lines[start + 1..].iter().find(|(_, l)| is_content(l))?;
    let indent = indent_of(first.1);
    if indent == 0 {
        return None;
    }
    let mut i = start + 1;
    while i < lines.len() {
        let l = lines[i].1;
        if is_content(l) && indent_of(l) < indent {
            return None;
        }
        if is_content(l) && indent_of(l) == indent && key_line(l).as_deref() == Some(name) {
            break;
        }
        i += 1;
    }
    let begin = lines.get(i)?.0;
    let mut last = i;
    for (j, (_, l)) in lines.iter().enumerate().skip(i + 1) {
        if l.trim().is_empty() {
            continue;
        }
        if indent_of(l) <= indent {
            break;
        }
        last = j;
    }
    let (off, l) = lines[last];
    Some((indent, begin..off + l.len()))
}

fn decide(current: Option<Option<String>>, wanted: &str, force: bool) -> EnvOutcome {
    match current {
        None => EnvOutcome::Added,
        Some(Some(v)) if v == wanted => EnvOutcome::Unchanged,
        Some(v) if force => EnvOutcome::Replaced {
            previous: v.unwrap_or_default(),
        },
        Some(v) => EnvOutcome::Kept {
            existing: v.unwrap_or_default(),
            proposed: wanted.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Compose {
        Compose::parse(Path::new("c.yml"), text.to_string()).unwrap()
    }

    fn var(key: &str, value: &str) -> EnvVar {
        EnvVar {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn plain_scalars_only_when_they_read_back_the_same() {
        for safe in [
            "https://api.honeycomb.io",
            "x-honeycomb-team=${HONEYCOMB_API_KEY}",
            "xray-daemon:2000",
            "${AWS_REGION}",
        ] {
            assert!(plain_is_safe(safe), "{safe}");
        }
        for unsafe_ in [
            "*4567*", "true", "no", "a: b", "a #b", "'q'", "", "-o", "1234", "x:",
        ] {
            assert!(!plain_is_safe(unsafe_), "{unsafe_}");
        }
    }

    #[test]
    fn map_env_keeps_quoting_and_reports_conflicts() {
        let c = parse(
            "services:\n  api:\n    environment:\n      A: 'one'   # note\n      OTEL_SERVICE_NAME: mine\n",
        );
        let outcomes = c
            .set_env(
                "api",
                &[
                    var("B", "two"),
                    var("OTEL_SERVICE_NAME", "${X}"),
                    var("A", "one"),
                ],
                false,
            )
            .unwrap();
        assert_eq!(outcomes[0], EnvOutcome::Added);
        assert_eq!(
            outcomes[1],
            EnvOutcome::Kept {
                existing: "mine".into(),
                proposed: "${X}".into()
            }
        );
        assert_eq!(outcomes[2], EnvOutcome::Unchanged);
        assert_eq!(
            c.render(),
            "services:\n  api:\n    environment:\n      A: 'one'   # note\n      OTEL_SERVICE_NAME: mine\n      B: 'two'\n"
        );
    }

    #[test]
    fn list_env_is_extended_in_list_style_and_forced_values_replace() {
        let c = parse(
            "services:\n  api:\n    environment:\n      - A=1\n      - OTEL_SERVICE_NAME=old\n",
        );
        let outcomes = c
            .set_env(
                "api",
                &[var("OTEL_SERVICE_NAME", "new"), var("AWS_XRAY_URL", "*")],
                true,
            )
            .unwrap();
        assert_eq!(
            outcomes[0],
            EnvOutcome::Replaced {
                previous: "old".into()
            }
        );
        assert_eq!(
            c.render(),
            "services:\n  api:\n    environment:\n      - A=1\n      - OTEL_SERVICE_NAME=new\n      - \"AWS_XRAY_URL=*\"\n"
        );
    }

    #[test]
    fn aliased_environment_is_refused() {
        let c = parse("x-env: &env\n  A: 1\nservices:\n  api:\n    environment: *env\n");
        let err = c.set_env("api", &[var("B", "2")], false).unwrap_err();
        assert!(
            err.to_string().contains("neither a mapping nor a list"),
            "{err}"
        );
    }

    #[test]
    fn daemon_goes_after_the_backend_in_the_files_indentation() {
        let c = parse(
            "services:\n    api:\n        image: a\n\n    # the database\n    db:\n        image: b\n",
        );
        let (text, outcome) = c.with_daemon("api", EnvStyle::Map, false).unwrap();
        assert_eq!(outcome, ServiceOutcome::Added);
        let expected_start = "services:\n    api:\n        image: a\n    xray-daemon:\n        image: \"amazon/aws-xray-daemon\"\n        environment:\n            AWS_ACCESS_KEY_ID:";
        assert!(text.starts_with(expected_start), "{text}");
        assert!(
            text.ends_with(
                "            - \"2000:2000/udp\"\n\n    # the database\n    db:\n        image: b\n"
            ),
            "{text}"
        );
        assert!(
            Compose::parse(Path::new("c.yml"), text)
                .unwrap()
                .has_service("xray-daemon")
        );
    }

    #[test]
    fn flow_style_services_cannot_take_the_daemon() {
        let c = parse("services: {api: {image: a}}\n");
        let err = c.with_daemon("api", EnvStyle::Map, false).unwrap_err();
        assert!(err.to_string().contains("flow style"), "{err}");
    }

    #[test]
    fn service_blocks_end_before_trailing_comments() {
        let text =
            "services:\n  a:\n    x: 1\n    # inside\n    y: 2\n\n  # about b\n  b:\n    z: 3\n";
        let (indent, range) = service_block(text, "a").unwrap();
        assert_eq!(indent, 2);
        assert_eq!(&text[range], "  a:\n    x: 1\n    # inside\n    y: 2\n");
        assert!(service_block(text, "missing").is_none());
    }
}
