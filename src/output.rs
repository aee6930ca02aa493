//! The one printer: human or JSON, colour decided once, secrets scrubbed from everything written.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use colored::Colorize;

use crate::cli::{ColorChoice, Format, GlobalArgs};
use crate::error::Error;
use crate::secret::{self, Secret};

/// Every text written goes through [`secret::redact`]: secrets registered anywhere in the
/// process (argv, environment, project files, parsed settings) never reach the user's screen.
pub struct Printer {
    format: Format,
    quiet: bool,
    verbose: u8,
}

/// `--color` wins, then NO_COLOR, then FORCE_COLOR / CLICOLOR_FORCE, then whether stderr is a terminal.
pub fn use_color(choice: ColorChoice, env: impl Fn(&str) -> Option<String>, is_tty: bool) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if env("FORCE_COLOR").is_some_and(|v| !v.is_empty() && v != "0") => true,
        ColorChoice::Auto if env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") => {
            true
        }
        ColorChoice::Auto => is_tty,
    }
}

impl Printer {
    pub fn new(args: &GlobalArgs) -> Self {
        let color = use_color(
            args.color,
            |k| std::env::var(k).ok(),
            std::io::stderr().is_terminal(),
        );
        colored::control::set_override(color);
        Printer {
            format: args.format,
            quiet: args.quiet,
            verbose: args.verbose,
        }
    }

    /// Remember every secret on the command line and in the environment. Runs before the
    /// command line is parsed, so that not even a usage error can echo one.
    pub fn register_process_secrets(args: &[OsString]) {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        secret::register_all(secret::in_args(&args));
        secret::register_all(secret::in_env(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })));
    }

    /// Report a command line clap refused: its own text for humans (secrets masked), the JSON
    /// error object, SARIF log or `::error` annotation when `--format json`, `sarif` or `github`
    /// was asked for. `--help` and `--version` print as usual.
    pub fn usage_error(err: &clap::Error, args: &[OsString]) -> ExitCode {
        use clap::error::ErrorKind;
        if matches!(
            err.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        ) {
            err.exit();
        }
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let wants = |flag: &str, value: &str| option_in_args(&args, flag).as_deref() == Some(value);
        let plain = err.render().to_string();
        let machine = [
            ("json", Format::Json),
            ("sarif", Format::Sarif),
            ("github", Format::Github),
        ]
        .into_iter()
        .find(|(name, _)| wants("--format", name));
        if let Some((_, format)) = machine {
            let (message, hint) = clap_message(&plain);
            let printer = Printer {
                format,
                quiet: false,
                verbose: 0,
            };
            printer.error(&Error::usage(message, hint));
            return ExitCode::from(crate::error::ExitStatus::Usage as u8);
        }
        let choice = if wants("--color", "always") {
            ColorChoice::Always
        } else if wants("--color", "never") {
            ColorChoice::Never
        } else {
            ColorChoice::Auto
        };
        let color = use_color(
            choice,
            |k| std::env::var(k).ok(),
            std::io::stderr().is_terminal(),
        );
        let text = if color {
            err.render().ansi().to_string()
        } else {
            plain
        };
        eprint!("{}", secret::redact(&text));
        ExitCode::from(crate::error::ExitStatus::Usage as u8)
    }

    /// Human-readable output: `human`, and `github` for commands without annotations.
    pub fn is_human(&self) -> bool {
        self.format != Format::Json
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether progress may be drawn: a human on a terminal, not silenced.
    pub fn progress_allowed(&self) -> bool {
        self.format == Format::Human && !self.quiet && std::io::stderr().is_terminal()
    }

    /// Remember a secret so that no later output can show it.
    pub fn register_secret(&self, secret: &Secret) {
        secret::register(secret.expose());
    }

    /// Remember every value of `vars` that is or may be a credential: by name, by shape, and
    /// passwords in URLs.
    pub fn register_env_secrets<'a>(
        &self,
        vars: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) {
        for (name, value) in vars {
            secret::register_all(secret::in_variable(name, value));
        }
    }

    /// Remember every secret written into a project file's text (compose, env file), so that
    /// diffs and messages quoting the file mask them on both sides.
    pub fn register_text_secrets(&self, text: &str) {
        secret::register_all(secret::in_text(text));
    }

    pub fn redact(&self, text: &str) -> String {
        secret::redact(text)
    }

    /// The command's result, on stdout.
    pub fn out(&self, text: &str) {
        write_stdout(&self.redact(text));
    }

    /// The command's result as JSON, on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        // Each string is scrubbed before it is escaped: a secret holding `"` or `\\` no longer
        // matches itself once written as JSON.
        let text = serde_json::to_string_pretty(&redact_json(value)).unwrap_or_default();
        write_stdout(&format!("{}\n", self.redact(&text)));
    }

    pub fn warn(&self, message: &str) {
        if self.quiet {
            return;
        }
        eprintln!("{} {}", "warning:".yellow().bold(), self.redact(message));
    }

    /// -q: only errors, warnings and a command's one-line summary.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// How many times -v was given: 1 shows settings and requests, 2 adds headers.
    pub fn verbosity(&self) -> u8 {
        self.verbose
    }

    pub fn debug(&self, message: &str) {
        if self.verbose > 0 {
            eprintln!("{} {}", "debug:".dimmed(), self.redact(message));
        }
    }

    pub fn error(&self, err: &Error) {
        let message = self.redact(&err.to_string());
        let hint = err.hint().map(|h| self.redact(&h));
        if self.format == Format::Json {
            let value = serde_json::json!({
                "version": 1,
                "error": { "message": message, "hint": hint, "exit_code": err.exit_status() as u8 },
            });
            self.json(&value);
        }
        if self.format == Format::Sarif {
            self.json(&crate::doctor::sarif::error_log(
                &message,
                hint.as_deref(),
                err.exit_status() as u8,
            ));
        }
        if self.format == Format::Github {
            write_stdout(&crate::doctor::github_error(
                "tracectl",
                &message,
                hint.as_deref(),
            ));
        }
        if matches!(err, Error::Interrupted) {
            eprintln!("{}", "interrupted: nothing was written".yellow());
            return;
        }
        eprintln!("{} {message}", "error:".red().bold());
        if let Some(hint) = hint {
            eprintln!("  {} {hint}", "hint:".cyan().bold());
        }
    }
}

/// A thread-safe, buffered line writer to stdout for streams of results (`listen`), with the
/// printer's secrets scrubbed. Call `flush` when a batch is done.
pub struct StdoutLines {
    out: std::sync::Mutex<std::io::BufWriter<std::io::Stdout>>,
}

impl crate::listen::LineSink for StdoutLines {
    /// Write bytes that hold no secret (span data received, not read from the user's files).
    fn write_bytes(&self, bytes: &[u8]) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = out.write_all(bytes) {
            exit_on_write_error(err);
        }
    }

    fn write(&self, text: &str) {
        let text = secret::redact(text);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = out.write_all(text.as_bytes()) {
            exit_on_write_error(err);
        }
    }

    fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = out.flush() {
            exit_on_write_error(err);
        }
    }
}

impl Printer {
    pub fn line_sink(&self) -> Box<StdoutLines> {
        Box::new(StdoutLines {
            out: std::sync::Mutex::new(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stdout(),
            )),
        })
    }

    /// A note on stderr: what the command is doing. Silenced by -q; stdout stays for results.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}", self.redact(message));
        }
    }
}

/// `value` with every string in it, object keys included, scrubbed of secrets.
fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(secret::redact(s)),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (secret::redact(k), redact_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The value of `--flag VALUE` or `--flag=VALUE` in raw arguments (the last one wins, as in clap);
/// nothing after `--`.
fn option_in_args(args: &[String], flag: &str) -> Option<String> {
    let mut found = None;
    let mut iter = args.iter().take_while(|a| *a != "--");
    while let Some(arg) = iter.next() {
        if arg == flag {
            found = iter.next().cloned();
        } else if let Some(value) = arg.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            found = Some(value.to_string());
        }
    }
    found
}

/// clap's rendered error as a message and a hint: the `error:` line(s), then its tips and the
/// usage line.
fn clap_message(rendered: &str) -> (String, Option<String>) {
    let mut message = Vec::new();
    let mut tips = Vec::new();
    let mut usage = None;
    for block in rendered.split("\n\n") {
        let block = block.trim();
        if let Some(text) = block.strip_prefix("error:") {
            message.push(text.trim().to_string());
        } else if let Some(text) = block.strip_prefix("tip:") {
            tips.push(text.trim().to_string());
        } else if let Some(text) = block.strip_prefix("Usage:") {
            usage = Some(text.trim().to_string());
        } else if !block.is_empty() && !block.starts_with("For more information") {
            message.push(block.to_string());
        }
    }
    tips.push(match usage {
        Some(usage) => format!("usage: {usage} (see --help)"),
        None => "see tracectl --help".to_string(),
    });
    let message = secret::redact(&message.join("\n"));
    (message, Some(secret::redact(&tips.join("; "))))
}

fn exit_on_write_error(err: std::io::Error) -> ! {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to stdout: {err}");
    std::process::exit(1);
}

/// Write to stdout; a closed pipe (`tracectl … | head`) ends the process quietly.
fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::env;

    #[test]
    fn colour_precedence() {
        assert!(use_color(
            ColorChoice::Always,
            env(&[("NO_COLOR", "1")]),
            false
        ));
        assert!(!use_color(
            ColorChoice::Never,
            env(&[("FORCE_COLOR", "1")]),
            true
        ));
        assert!(!use_color(
            ColorChoice::Auto,
            env(&[("NO_COLOR", "1"), ("FORCE_COLOR", "1")]),
            true
        ));
        assert!(use_color(ColorChoice::Auto, env(&[("NO_COLOR", "")]), true));
        assert!(use_color(
            ColorChoice::Auto,
            env(&[("FORCE_COLOR", "1")]),
            false
        ));
        assert!(use_color(
            ColorChoice::Auto,
            env(&[("CLICOLOR_FORCE", "1")]),
            false
        ));
        assert!(!use_color(
            ColorChoice::Auto,
            env(&[("FORCE_COLOR", "0")]),
            false
        ));
        assert!(use_color(ColorChoice::Auto, env(&[]), true));
        assert!(!use_color(ColorChoice::Auto, env(&[]), false));
    }

    #[test]
    fn redact_replaces_registered_secrets() {
        let printer = Printer {
            format: Format::Human,
            quiet: false,
            verbose: 0,
        };
        let secret = Secret::new("0123456789abcdef0123456789abcdefXY");
        printer.register_secret(&secret);
        let text = printer.redact("key=0123456789abcdef0123456789abcdefXY!");
        assert_eq!(text, "key=0123456…(redacted)!");
    }

    #[test]
    fn options_are_read_from_raw_arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = args(&["tracectl", "doctor", "--format", "json", "--x"]);
        assert_eq!(option_in_args(&a, "--format").as_deref(), Some("json"));
        let a = args(&["tracectl", "--format=github", "doctor"]);
        assert_eq!(option_in_args(&a, "--format").as_deref(), Some("github"));
        let a = args(&["tracectl", "send-test", "--", "--format", "json"]);
        assert_eq!(option_in_args(&a, "--format"), None);
    }

    #[test]
    fn clap_errors_become_message_and_hint() {
        let rendered = "error: unexpected argument 'x' found\n\n  tip: to pass 'x' as a value, use '-- x'\n\nUsage: tracectl send-test [OPTIONS]\n\nFor more information, try '--help'.\n";
        let (message, hint) = clap_message(rendered);
        assert_eq!(message, "unexpected argument 'x' found");
        let hint = hint.unwrap();
        assert!(hint.contains("use '-- x'"), "{hint}");
        assert!(hint.contains("tracectl send-test [OPTIONS]"), "{hint}");
    }
}
