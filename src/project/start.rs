//! The backend's start command: where it is written (the compose service's `command:` /
//! `entrypoint:`, else the build's Dockerfile `CMD` / `ENTRYPOINT`), its words with their
//! places in that text, and which server it runs.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::project::compose::{CommandValue, Compose};

/// One word of a command, unquoted, with its byte range in the text it was read from (a
/// Dockerfile's text, or a compose string's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Range<usize>,
}

/// How a command is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// A JSON array (Dockerfile) or a YAML list (compose): each word its own item.
    Exec,
    /// A Dockerfile line run by `/bin/sh -c`.
    Shell,
    /// A compose string, split into words by Compose (no shell).
    Words,
}

/// Where a part of the command is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "file", rename_all = "snake_case")]
pub enum Origin {
    Compose {
        /// `command` or `entrypoint`.
        key: &'static str,
        line: usize,
        /// The anchor of the `<<` block it is inherited from.
        #[serde(skip_serializing_if = "Option::is_none")]
        inherited: Option<String>,
    },
    Dockerfile {
        #[serde(skip)]
        path: PathBuf,
        /// `CMD` or `ENTRYPOINT`.
        instruction: &'static str,
        line: usize,
        /// Byte range of the instruction's arguments in the Dockerfile (continuations included).
        #[serde(skip)]
        args: Range<usize>,
        /// Byte offset in the file of each byte of the joined logical line.
        #[serde(skip)]
        map: Vec<usize>,
    },
}

/// One part of the start command: the entrypoint or the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub origin: Origin,
    pub form: Form,
    pub words: Vec<Word>,
    /// A compose string written over several lines (`>`, `|`, or a folded plain scalar): a
    /// rewrite would lose its lines.
    pub multiline: bool,
    /// The text the words' ranges point into: the instruction's arguments joined across lines,
    /// or the compose string (empty for a list).
    pub text: String,
    /// Shell syntax beyond words (`&&`, `;`, `|`, redirections, `$(...)`): the shell runs it.
    pub shell_syntax: bool,
}

/// The server a start command runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Server {
    /// `flask run` or `python -m flask run`; `run` is the word index of `run`.
    FlaskRun {
        run: usize,
        reload: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        app: Option<String>,
    },
    /// `python FILE.py`.
    Script {
        file: String,
    },
    /// gunicorn (or `python -m gunicorn`) with its APP_MODULE.
    Gunicorn {
        #[serde(skip_serializing_if = "Option::is_none")]
        app: Option<String>,
        preload: bool,
    },
    Uwsgi,
    /// Already wrapped by `opentelemetry-instrument`.
    Instrumented,
    /// Something else; `opentelemetry-instrument` still reaches any Python it starts.
    Other {
        program: String,
    },
}

/// The backend's start command as Docker runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCommand {
    pub entrypoint: Option<Part>,
    pub command: Option<Part>,
    /// The Dockerfile read, with its text, when the build has one.
    pub dockerfile: Option<(PathBuf, String)>,
    /// The compose file's `build.target`: the Dockerfile stage that runs.
    pub target: Option<String>,
}

impl StartCommand {
    /// The part that names the program: the entrypoint when there is one, else the command.
    pub fn program_part(&self) -> Option<&Part> {
        self.entrypoint
            .as_ref()
            .filter(|p| !p.words.is_empty())
            .or(self.command.as_ref().filter(|p| !p.words.is_empty()))
    }

    /// Every word Docker runs, in order (a shell-form entrypoint drops the command, as Docker does).
    pub fn argv(&self) -> Vec<&str> {
        let mut words: Vec<&str> = Vec::new();
        if let Some(e) = &self.entrypoint {
            words.extend(e.words.iter().map(|w| w.text.as_str()));
            if e.form == Form::Shell {
                return words;
            }
        }
        if let Some(c) = &self.command {
            words.extend(c.words.iter().map(|w| w.text.as_str()));
        }
        words
    }

    /// The server the command runs.
    pub fn server(&self) -> Server {
        server_of(&self.argv())
    }

    /// The server `opentelemetry-instrument` runs, when it wraps one; else [`Self::server`].
    pub fn inner_server(&self) -> Server {
        let argv = self.argv();
        match self.server() {
            Server::Instrumented => {
                let at = program_index(&argv);
                server_of(argv.get(at + 1..).unwrap_or_default())
            }
            other => other,
        }
    }
}

/// The words before the program that a shell-form line may hold: `exec` and `VAR=value`.
pub fn program_index(words: &[&str]) -> usize {
    words
        .iter()
        .position(|w| {
            *w != "exec"
                && !w
                    .split_once('=')
                    .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(is_name_char))
        })
        .unwrap_or(words.len())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

pub fn is_python(word: &str) -> bool {
    basename(word)
        .strip_prefix("python")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Which server `argv` runs.
pub fn server_of(argv: &[&str]) -> Server {
    let start = program_index(argv);
    let Some(&program) = argv.get(start) else {
        return Server::Other {
            program: String::new(),
        };
    };
    let rest = &argv[start + 1..];
    match basename(program) {
        "opentelemetry-instrument" => return Server::Instrumented,
        "flask" => return flask(rest, start + 1),
        "gunicorn" => return gunicorn(rest),
        "uwsgi" => return Server::Uwsgi,
        _ => {}
    }
    if is_python(program) {
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            match *word {
                "-m" => {
                    return match rest.get(i + 1).copied() {
                        Some("flask") => flask(&rest[i + 2..], start + 1 + i + 2),
                        Some("gunicorn") => gunicorn(&rest[i + 2..]),
                        Some("opentelemetry.instrumentation.auto_instrumentation") => {
                            Server::Instrumented
                        }
                        Some(other) => Server::Other {
                            program: format!("{program} -m {other}"),
                        },
                        None => Server::Other {
                            program: program.to_string(),
                        },
                    };
                }
                // Options that take a value.
                "-W" | "-X" | "-c" => {
                    if *word == "-c" {
                        break;
                    }
                    i += 2;
                }
                w if w.starts_with('-') => i += 1,
                file => {
                    return Server::Script {
                        file: file.to_string(),
                    };
                }
            }
        }
    }
    Server::Other {
        program: program.to_string(),
    }
}

fn flask(rest: &[&str], offset: usize) -> Server {
    let mut app = None;
    let mut i = 0;
    while let Some(word) = rest.get(i) {
        match *word {
            "--app" | "-A" => {
                app = rest.get(i + 1).map(|s| s.to_string());
                i += 2;
            }
            w if w.starts_with("--app=") => {
                app = Some(w["--app=".len()..].to_string());
                i += 1;
            }
            "run" => {
                let after = &rest[i + 1..];
                let reload = after.iter().rev().find_map(|w| match *w {
                    "--reload" => Some(true),
                    "--no-reload" => Some(false),
                    _ => None,
                });
                return Server::FlaskRun {
                    run: offset + i,
                    reload,
                    app,
                };
            }
            w if w.starts_with('-') => i += 1,
            other => {
                return Server::Other {
                    program: format!("flask {other}"),
                };
            }
        }
    }
    Server::Other {
        program: "flask".to_string(),
    }
}

fn gunicorn(rest: &[&str]) -> Server {
    let preload = rest.contains(&"--preload");
    // APP_MODULE is the positional argument, wherever it stands among the options.
    let mut app = None;
    let mut i = 0;
    while let Some(word) = rest.get(i) {
        i += match *word {
            "--" => {
                app = rest.get(i + 1).map(|s| s.to_string());
                break;
            }
            w if w.starts_with("--") => {
                if w.contains('=') || is_flag(w) {
                    1
                } else {
                    2
                }
            }
            // Short flags without a value (daemon, stdio inheritance, version, help).
            "-D" | "-R" | "-v" | "-h" => 1,
            w if w.starts_with('-') && w.len() == 2 => 2,
            w if w.starts_with('-') => 1,
            w => {
                app = Some(w.to_string());
                1
            }
        };
    }
    Server::Gunicorn { app, preload }
}

/// gunicorn's long options that take no value.
fn is_flag(option: &str) -> bool {
    matches!(
        option,
        "--preload"
            | "--reload"
            | "--daemon"
            | "--check-config"
            | "--print-config"
            | "--spew"
            | "--capture-output"
            | "--enable-stdio-inheritance"
            | "--no-sendfile"
            | "--reuse-port"
            | "--strip-header-spaces"
            | "--suppress-ragged-eofs"
    )
}

/// Split a command into words as a POSIX shell would (quotes, backslashes), with each word's
/// byte range; `true` when it holds shell syntax beyond words.
pub fn split_words(text: &str) -> (Vec<Word>, bool) {
    let mut words = Vec::new();
    let mut syntax = false;
    let mut current: Option<(String, usize)> = None;
    let mut chars = text.char_indices().peekable();
    let mut end = 0;
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some((w, start)) = current.take() {
                    words.push(Word {
                        text: w,
                        span: start..end,
                    });
                }
                continue;
            }
            '\'' => {
                let (w, _) = current.get_or_insert((String::new(), i));
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let (w, _) = current.get_or_insert((String::new(), i));
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&(_, n @ ('"' | '\\' | '$' | '`'))) => {
                                w.push(n);
                                chars.next();
                            }
                            _ => w.push('\\'),
                        },
                        '`' => {
                            syntax = true;
                            w.push(c)
                        }
                        '$' if chars.peek().is_some_and(|&(_, n)| n == '(') => {
                            syntax = true;
                            w.push(c)
                        }
                        c => w.push(c),
                    }
                }
            }
            '\\' => {
                let (w, _) = current.get_or_insert((String::new(), i));
                if let Some((_, n)) = chars.next() {
                    w.push(n);
                }
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '`' => {
                syntax = true;
                current.get_or_insert((String::new(), i)).0.push(c);
            }
            '#' if current.is_none() => {
                syntax = true;
                current.get_or_insert((String::new(), i)).0.push(c);
            }
            '$' if chars.peek().is_some_and(|&(_, n)| n == '(') => {
                syntax = true;
                current.get_or_insert((String::new(), i)).0.push(c);
            }
            c => current.get_or_insert((String::new(), i)).0.push(c),
        }
        end = chars.peek().map_or(text.len(), |&(j, _)| j);
    }
    if let Some((w, start)) = current {
        words.push(Word {
            text: w,
            span: start..end,
        });
    }
    (words, syntax)
}

/// A JSON array of strings with each element's range (quotes included); `None` when the text
/// is not one (Docker then runs the line in the shell form).
pub fn json_words(text: &str) -> Option<Vec<Word>> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && matches!(bytes[*i], b' ' | b'\t' | b'\r' | b'\n') {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if bytes.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut words = Vec::new();
    skip_ws(&mut i);
    if bytes.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            skip_ws(&mut i);
            if bytes.get(i) != Some(&b'"') {
                return None;
            }
            let start = i;
            i += 1;
            let mut value = String::new();
            loop {
                let c = text[i..].chars().next()?;
                i += c.len_utf8();
                match c {
                    '"' => break,
                    '\\' => {
                        let e = *bytes.get(i)?;
                        i += 1;
                        value.push(match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let hex = text.get(i..i + 4)?;
                                i += 4;
                                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                            }
                            _ => return None,
                        });
                    }
                    c if c.is_control() => return None,
                    c => value.push(c),
                }
            }
            words.push(Word {
                text: value,
                span: start..i,
            });
            skip_ws(&mut i);
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(b']') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    skip_ws(&mut i);
    (i == bytes.len()).then_some(words)
}

/// One instruction of a Dockerfile: its keyword (upper case), the 1-based line it starts on,
/// its arguments joined across continuation lines, and where each byte of them is in the file.
#[derive(Debug, Clone)]
struct Instruction {
    keyword: String,
    line: usize,
    args: String,
    map: Vec<usize>,
}

/// A Dockerfile's instructions, continuation lines joined as the builder joins them (the escape
/// character at the end of a line; comment lines inside are dropped).
fn instructions(text: &str) -> Vec<Instruction> {
    // A parser directive on the first lines may change the escape character.
    let mut escape = '\\';
    for line in text.lines() {
        let t = line.trim();
        let Some(directive) = t.strip_prefix('#') else {
            break;
        };
        let directive = directive.trim();
        match directive.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("escape") => {
                if v.trim() == "`" {
                    escape = '`';
                }
            }
            Some((k, _)) if k.trim().eq_ignore_ascii_case("syntax") => {}
            _ => break,
        }
    }
    let mut out = Vec::new();
    let mut offset = 0;
    let mut current: Option<Instruction> = None;
    // The words ending the here-documents (`RUN <<EOF`) still open: their lines are data.
    let mut heredocs: Vec<String> = Vec::new();
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let mut line_start = offset;
        offset += raw.len();
        let mut body = raw.trim_end_matches(['\n', '\r']);
        if index == 0
            && let Some(rest) = body.strip_prefix('\u{feff}')
        {
            // The builder ignores a byte-order mark.
            body = rest;
            line_start += '\u{feff}'.len_utf8();
        }
        if let Some(end) = heredocs.first() {
            let word = if end.starts_with('-') {
                body.trim_start_matches('\t')
            } else {
                body
            };
            if word == end.trim_start_matches('-') {
                heredocs.remove(0);
            }
            continue;
        }
        let trimmed = body.trim_start();
        let lead = body.len() - trimmed.len();
        if current.is_some() && (trimmed.starts_with('#') || trimmed.is_empty()) {
            // Inside a continuation, comments and empty lines are dropped.
            continue;
        }
        let (content, content_start) = match &current {
            Some(_) => (body, line_start),
            None => {
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                let keyword_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
                let keyword = trimmed[..keyword_len].to_ascii_uppercase();
                let after = &trimmed[keyword_len..];
                let args = after.trim_start();
                let start = line_start + lead + keyword_len + (after.len() - args.len());
                current = Some(Instruction {
                    keyword,
                    line: index + 1,
                    args: String::new(),
                    map: Vec::new(),
                });
                (args, start)
            }
        };
        if current
            .as_ref()
            .is_some_and(|i| matches!(i.keyword.as_str(), "RUN" | "COPY" | "ADD"))
        {
            heredocs.extend(heredoc_words(content));
        }
        let continued = content.trim_end().ends_with(escape);
        let content = if continued {
            let t = content.trim_end();
            &t[..t.len() - escape.len_utf8()]
        } else {
            content
        };
        let instruction = current.as_mut().expect("set above");
        instruction.args.push_str(content);
        instruction
            .map
            .extend((0..content.len()).map(|i| content_start + i));
        if !continued {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// The working directory a Dockerfile's last `WORKDIR`s leave (relative ones joined).
pub fn workdir(text: &str) -> Option<String> {
    let mut dir: Option<String> = None;
    for i in instructions(text) {
        match i.keyword.as_str() {
            "WORKDIR" => {
                let arg = i
                    .args
                    .trim()
                    .trim_matches(['"', '\''])
                    .trim_end_matches('/');
                dir = Some(if arg.starts_with('/') {
                    arg.to_string()
                } else {
                    format!("{}/{arg}", dir.as_deref().unwrap_or(""))
                });
            }
            "FROM" => dir = None,
            _ => {}
        }
    }
    dir
}

/// The `RUN` lines (line, arguments) of a Dockerfile that install Python packages by name
/// (`pip install flask`, poetry, pipenv, uv, pdm) when no instruction names requirements.txt:
/// packages added to requirements.txt never reach such an image. Empty when the build reads
/// requirements.txt, or installs nothing tracectl can see.
pub fn inline_installs(text: &str) -> Vec<(usize, String)> {
    let all = instructions(text);
    if all
        .iter()
        .any(|i| i.args.contains("requirements.txt") || i.args.contains("requirements*"))
    {
        return Vec::new();
    }
    all.into_iter()
        .filter(|i| i.keyword == "RUN")
        .filter(|i| {
            let words: Vec<&str> = i.args.split_whitespace().collect();
            words.windows(2).any(|w| {
                matches!(w[1], "install" | "sync" | "add")
                    && (matches!(basename(w[0]), "pip" | "poetry" | "pipenv" | "pdm" | "uv")
                        || basename(w[0])
                            .strip_prefix("pip")
                            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')))
            })
        })
        .map(|i| {
            (
                i.line,
                i.args.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// The first `RUN` line (line, arguments) that installs packages inline when the build never
/// reads requirements.txt and those lines lack one of `wanted`: what requirements.txt lists
/// does not reach that image.
pub fn inline_install_lacking(text: &str, wanted: &[&str]) -> Option<(usize, String)> {
    use crate::project::requirements::normalize;
    let installs = inline_installs(text);
    let names: Vec<String> = installs
        .iter()
        .flat_map(|(_, args)| args.split_whitespace())
        .map(|w| {
            let end = w
                .find(['=', '<', '>', '~', '!', '[', ';', '@'])
                .unwrap_or(w.len());
            normalize(w[..end].trim_matches(['"', '\'']))
        })
        .collect();
    let lacking = wanted.iter().any(|p| !names.contains(&normalize(p)));
    installs.into_iter().next().filter(|_| lacking)
}

/// The words that end the here-documents a line of RUN/COPY/ADD opens, in order, as BuildKit
/// reads them: a shell word (quotes kept) that is `[n]<<[-]WORD`, WORD one word, maybe quoted
/// (`<<EOF`, `<<-EOF`, `<<"EOF"`); a `<<` inside quotes or inside a word opens none. A leading
/// `-` is kept (tabs before the word are allowed then).
fn heredoc_words(line: &str) -> Vec<String> {
    let (words, _) = split_words(line);
    words
        .iter()
        .filter_map(|w| {
            let raw = &line[w.span.clone()];
            let rest = raw
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .strip_prefix("<<")?;
            let dash = rest.starts_with('-');
            let rest = rest.strip_prefix('-').unwrap_or(rest);
            if rest.is_empty() || rest.contains('<') {
                return None;
            }
            let (name, _) = split_words(rest);
            match name.as_slice() {
                [one] if !one.text.is_empty() => Some(if dash {
                    format!("-{}", one.text)
                } else {
                    one.text.clone()
                }),
                _ => None,
            }
        })
        .collect()
}

/// The `CMD` and `ENTRYPOINT` in effect in a Dockerfile's stage `target` (the last stage when
/// `None`), following stages built `FROM` an earlier one as Docker does. An `ENTRYPOINT` clears
/// a `CMD` inherited from the base.
pub fn dockerfile_parts(
    path: &Path,
    text: &str,
    target: Option<&str>,
) -> Result<(Option<Part>, Option<Part>)> {
    type Stage = (Option<String>, Option<Part>, Option<Part>);
    let mut stages: Vec<Stage> = Vec::new();
    for ins in instructions(text) {
        match ins.keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = ins
                    .args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let base = words.first().map(|w| w.to_ascii_lowercase());
                let name = match words.as_slice() {
                    [_, as_, name, ..] if as_.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let inherited = base
                    .and_then(|b| stages.iter().rev().find(|s| s.0.as_deref() == Some(&b)))
                    .map(|s| (s.1.clone(), s.2.clone()))
                    .unwrap_or((None, None));
                stages.push((name, inherited.0, inherited.1));
            }
            keyword @ ("CMD" | "ENTRYPOINT") => {
                let instruction = if keyword == "CMD" {
                    "CMD"
                } else {
                    "ENTRYPOINT"
                };
                let (form, words, shell_syntax) = match json_words(&ins.args) {
                    Some(words) => (Form::Exec, words, false),
                    None => {
                        let (words, syntax) = split_words(&ins.args);
                        (Form::Shell, words, syntax)
                    }
                };
                let part = Part {
                    origin: Origin::Dockerfile {
                        path: path.to_path_buf(),
                        instruction,
                        line: ins.line,
                        args: ins.map.first().copied().unwrap_or(0)
                            ..ins.map.last().map_or(0, |l| l + 1),
                        map: ins.map.clone(),
                    },
                    form,
                    words,
                    multiline: false,
                    text: ins.args.clone(),
                    shell_syntax,
                };
                let Some(stage) = stages.last_mut() else {
                    return Err(Error::parse(
                        path,
                        ins.line,
                        1,
                        format!("{instruction} before any FROM"),
                    ));
                };
                if keyword == "CMD" {
                    stage.1 = Some(part);
                } else {
                    stage.2 = Some(part);
                    stage.1 = None;
                }
            }
            _ => {}
        }
    }
    let stage = match target {
        Some(t) => stages
            .iter()
            .find(|s| s.0.as_deref() == Some(&t.to_ascii_lowercase()))
            .ok_or_else(|| {
                Error::project(
                    path,
                    format!("has no stage named {t} (the compose file's build target)"),
                    "check `build.target` in the compose file".to_string(),
                )
            })?,
        None => match stages.last() {
            Some(s) => s,
            None => return Ok((None, None)),
        },
    };
    Ok((stage.2.clone(), stage.1.clone()))
}

fn compose_part(c: crate::project::compose::ComposeCommand) -> Part {
    let multiline = c.multiline;
    let origin = Origin::Compose {
        key: c.key,
        line: c.line,
        inherited: c.inherited,
    };
    match c.value {
        CommandValue::String(s) => {
            let (words, _) = split_words(&s);
            // Compose splits the string into words; no shell sees it.
            Part {
                origin,
                form: Form::Words,
                words,
                multiline,
                text: s,
                shell_syntax: false,
            }
        }
        CommandValue::List(items) => Part {
            origin,
            form: Form::Exec,
            words: items
                .into_iter()
                .enumerate()
                .map(|(i, text)| Word {
                    text,
                    span: i..i + 1,
                })
                .collect(),
            multiline: false,
            text: String::new(),
            shell_syntax: false,
        },
    }
}

/// The backend's start command: compose's `entrypoint:`/`command:` over the Dockerfile's, as
/// Docker applies them (a compose entrypoint also drops the image's CMD). `None` when nothing
/// names one (an image's own command is not visible here).
pub fn resolve(
    compose: &Compose,
    service: &str,
    context: Option<&Path>,
) -> Result<Option<StartCommand>> {
    let compose_entry = compose.command(service, "entrypoint")?.map(compose_part);
    let compose_cmd = compose.command(service, "command")?.map(compose_part);
    let mut dockerfile = None;
    let target = compose.build_option(service, "target");
    let (mut image_entry, mut image_cmd) = (None, None);
    if let Some(context) = context.filter(|c| c.is_dir()) {
        let name = compose
            .build_option(service, "dockerfile")
            .unwrap_or_else(|| "Dockerfile".to_string());
        let path = context.join(name);
        // Named as the user would write it: `./api/Dockerfile`, not `././api/Dockerfile`.
        let shown: PathBuf = path
            .components()
            .filter(|c| *c != std::path::Component::CurDir)
            .collect();
        if let Some(text) = crate::project::write::read_text(&path, &shown.display().to_string())? {
            // Before anything can show a line of it (a diff's context).
            crate::secret::register_all(crate::secret::in_text(&text));
            (image_entry, image_cmd) = dockerfile_parts(&shown, &text, target.as_deref())?;
            let fix_path = |part: Option<Part>| {
                part.map(|mut p| {
                    if let Origin::Dockerfile { path: at, .. } = &mut p.origin {
                        *at = path.clone();
                    }
                    p
                })
            };
            (image_entry, image_cmd) = (fix_path(image_entry), fix_path(image_cmd));
            dockerfile = Some((path, text));
        }
    }
    let (entrypoint, command) = match (compose_entry, compose_cmd) {
        (Some(e), c) => (Some(e), c),
        (None, Some(c)) => (image_entry, Some(c)),
        (None, None) => (image_entry, image_cmd),
    };
    if entrypoint.is_none() && command.is_none() {
        return Ok(None);
    }
    Ok(Some(StartCommand {
        entrypoint,
        command,
        dockerfile,
        target,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn shell_words_keep_their_places() {
        let line = r#"gunicorn -b "0.0.0.0:$PORT" 'app:create_app()' a\ b"#;
        let (words, syntax) = split_words(line);
        assert!(!syntax);
        assert_eq!(
            texts(&words),
            ["gunicorn", "-b", "0.0.0.0:$PORT", "app:create_app()", "a b"]
        );
        for w in &words {
            assert!(!line[w.span.clone()].is_empty());
        }
        assert_eq!(&line[words[2].span.clone()], "\"0.0.0.0:$PORT\"");
        assert_eq!(&line[words[4].span.clone()], "a\\ b");
        for hostile in [
            "cd app && flask run",
            "flask run; echo",
            "flask run | tee",
            "flask run > log",
            "gunicorn $(cat args)",
            "gunicorn `cat args`",
            "flask run # comment",
        ] {
            assert!(split_words(hostile).1, "{hostile}");
        }
        assert!(!split_words("flask run --port=$PORT a#b").1);
        // Unterminated quotes end the word at the end of the text, never panic.
        assert_eq!(texts(&split_words("a 'b c").0), ["a", "b c"]);
        assert_eq!(texts(&split_words("a \"b\\").0), ["a", "b\\"]);
        assert_eq!(texts(&split_words("é 'ü'").0), ["é", "ü"]);
    }

    #[test]
    fn json_arrays_and_what_is_not_one() {
        let w = json_words(r#"[ "python3", "-m" , "flask", "a\"b\u00e9"]"#).unwrap();
        assert_eq!(texts(&w), ["python3", "-m", "flask", "a\"bé"]);
        assert!(json_words("[]").unwrap().is_empty());
        for bad in [
            "['a']",
            "[\"a\",]",
            "[\"a\"] x",
            "[\"a\"",
            "\"a\"",
            "[1]",
            "[\"\\x\"]",
            "[\"\\u12\"]",
            "[\"é",
        ] {
            assert_eq!(json_words(bad), None, "{bad}");
        }
    }

    fn parts(text: &str, target: Option<&str>) -> (Option<Part>, Option<Part>) {
        dockerfile_parts(Path::new("Dockerfile"), text, target).unwrap()
    }

    fn words_of(p: &Option<Part>) -> Vec<String> {
        p.as_ref()
            .map(|p| p.words.iter().map(|w| w.text.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn dockerfile_cmd_in_both_forms_with_continuations() {
        let text = "FROM python:3.12\nARG PORT=1\nENV A=b\ncmd [ \"python3\", \"-m\" , \\\n  # a comment\n  \"flask\", \"run\"]\n";
        let (e, c) = parts(text, None);
        assert!(e.is_none());
        let c = c.unwrap();
        assert_eq!(c.form, Form::Exec);
        assert_eq!(
            words_of(&Some(c.clone())),
            ["python3", "-m", "flask", "run"]
        );
        let Origin::Dockerfile { line, map, .. } = &c.origin else {
            panic!()
        };
        assert_eq!(*line, 4);
        // Each word's range maps back to the same text in the file.
        for w in &c.words {
            let (a, b) = (map[w.span.start], map[w.span.end - 1] + 1);
            assert_eq!(&text[a..b], format!("\"{}\"", w.text));
        }
        let (_, c) = parts(
            "FROM x\nCMD gunicorn \\\r\n -b 0.0.0.0:80 app:app\r\n",
            None,
        );
        let c = c.unwrap();
        assert_eq!(c.form, Form::Shell);
        assert_eq!(
            words_of(&Some(c)),
            ["gunicorn", "-b", "0.0.0.0:80", "app:app"]
        );
        // Not JSON: the shell form, as Docker does.
        let (_, c) = parts("FROM x\nCMD ['flask', 'run']\n", None);
        assert_eq!(c.unwrap().form, Form::Shell);
    }

    /// BuildKit reads a here-document only from a shell word of RUN/COPY/ADD that is
    /// `<<[-]WORD` (quotes around WORD allowed): a `<<` inside quotes, in an expression, or in
    /// another instruction opens none, and the lines after it are instructions.
    #[test]
    fn only_a_heredoc_word_opens_a_heredoc() {
        let text = "FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n\nFROM base AS prod\nRUN python -c \"print(1<<4)\"\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n";
        assert_eq!(
            words_of(&parts(text, None).1),
            ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
        );
        for run in [
            "RUN echo 'a <<EOF b'",
            "RUN x=$((1<<EOF))",
            "RUN cat<<EOF",
            "LABEL a=<<EOF",
            "RUN echo \"<<EOF\"",
        ] {
            let text = format!("FROM x\n{run}\nCMD [\"flask\", \"run\"]\nEOF\n");
            assert_eq!(words_of(&parts(&text, None).1), ["flask", "run"], "{run}");
        }
        for run in [
            "RUN <<EOF",
            "RUN cat <<'EOF' > /x",
            "RUN cat <<\"EOF\"",
            "RUN 3<<EOF cat",
            "COPY <<EOF /x",
            "RUN <<-EOF",
        ] {
            let text = format!("FROM x\nCMD [\"flask\", \"run\"]\n{run}\nCMD fake\nEOF\n");
            assert_eq!(words_of(&parts(&text, None).1), ["flask", "run"], "{run}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// RUN lines whose `<<` is inside quotes or inside a word never hide the CMD after them;
        /// with one `<<WORD` word added, the lines up to WORD are data, and the CMD after it runs.
        #[test]
        fn quoted_shifts_never_hide_the_cmd(
            pieces in proptest::collection::vec(proptest::sample::select(&[
                "python", "-c", "\"print(1<<4)\"", "'a<<EOF'", "$((x<<2))", "cat<<EOF", "echo",
                "\"<<EOF\"", "&&", "x=1", "'<<'",
            ][..]), 1..8),
            heredoc in proptest::bool::ANY,
        ) {
            let run = format!("RUN {}", pieces.join(" "));
            let text = if heredoc {
                format!("FROM x\nCMD [\"flask\", \"run\"]\n{run} <<END\nCMD fake\nEOF\nEND\n")
            } else {
                format!("FROM x\nCMD fake\n{run}\nCMD [\"flask\", \"run\"]\nEOF\n")
            };
            proptest::prop_assert_eq!(words_of(&parts(&text, None).1), ["flask", "run"]);
        }
    }

    #[test]
    fn the_last_stage_or_the_target_and_inheritance() {
        let text = "FROM python AS base\nCMD [\"flask\", \"run\"]\nFROM base AS dev\nFROM python AS prod\nENTRYPOINT [\"gunicorn\"]\nCMD [\"app:app\"]\nFROM node\n";
        assert_eq!(parts(text, None), (None, None));
        assert_eq!(words_of(&parts(text, Some("dev")).1), ["flask", "run"]);
        let (e, c) = parts(text, Some("PROD"));
        assert_eq!(words_of(&e), ["gunicorn"]);
        assert_eq!(words_of(&c), ["app:app"]);
        // ENTRYPOINT clears an inherited CMD.
        let (e, c) = parts(
            "FROM python AS a\nCMD [\"x\"]\nFROM a\nENTRYPOINT [\"y\"]\n",
            None,
        );
        assert_eq!((words_of(&e), c), (vec!["y".to_string()], None));
        assert!(
            dockerfile_parts(Path::new("D"), "FROM a\n", Some("nope"))
                .unwrap_err()
                .to_string()
                .contains("no stage named nope")
        );
        assert!(dockerfile_parts(Path::new("D"), "CMD x\n", None).is_err());
        // Here-documents hold data, not instructions; a byte-order mark is ignored.
        let (_, c) = parts(
            "\u{feff}FROM x\nRUN <<EOF cat > /a && <<-\"END\" cat > /b\nCMD [\"fake\"]\nEOF\n\tCMD [\"fake2\"]\n\tEND\nCMD [\"gunicorn\", \"app:app\"]\n",
            None,
        );
        assert_eq!(words_of(&c), ["gunicorn", "app:app"]);
        let Origin::Dockerfile { line, .. } = c.unwrap().origin else {
            panic!()
        };
        assert_eq!(line, 7);
        // The escape directive.
        let (_, c) = parts("# escape=`\nFROM x\nCMD flask `\n run\n", None);
        assert_eq!(words_of(&c), ["flask", "run"]);
    }

    fn server(line: &str) -> Server {
        let (words, _) = split_words(line);
        server_of(&texts(&words))
    }

    #[test]
    fn servers_are_recognised() {
        assert_eq!(
            server("python3 -m flask run --host=0.0.0.0"),
            Server::FlaskRun {
                run: 3,
                reload: None,
                app: None
            }
        );
        assert_eq!(
            server("exec FLASK_DEBUG=1 flask --app api run --no-reload"),
            Server::FlaskRun {
                run: 5,
                reload: Some(false),
                app: Some("api".into())
            }
        );
        assert_eq!(
            server("/usr/local/bin/python3.12 -u app.py"),
            Server::Script {
                file: "app.py".into()
            }
        );
        assert_eq!(
            server("gunicorn -w 2 -b 0.0.0.0:80 'api:create_app()'"),
            Server::Gunicorn {
                app: Some("api:create_app()".into()),
                preload: false
            }
        );
        assert_eq!(
            server("python -m gunicorn --preload -b 0.0.0.0:80"),
            Server::Gunicorn {
                app: None,
                preload: true
            }
        );
        assert_eq!(server("uwsgi --ini app.ini"), Server::Uwsgi);
        assert_eq!(
            server("opentelemetry-instrument flask run"),
            Server::Instrumented
        );
        assert_eq!(
            server("./start.sh"),
            Server::Other {
                program: "./start.sh".into()
            }
        );
        assert_eq!(
            server("flask db upgrade"),
            Server::Other {
                program: "flask db".into()
            }
        );
        assert_eq!(
            server(""),
            Server::Other {
                program: String::new()
            }
        );
    }
}
