//! The one printer: human or JSON, colour decided once, secrets scrubbed from everything written.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};

use colored::Colorize;

use crate::cli::{ColorChoice, Format, GlobalArgs};
use crate::error::Error;
use crate::secret::Secret;

pub struct Printer {
    format: Format,
    quiet: bool,
    verbose: u8,
    /// Every secret the run has seen; any text printed has them replaced by their mask.
    secrets: RefCell<Vec<Secret>>,
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
            secrets: RefCell::default(),
        }
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
        if secret.expose().len() >= 6 {
            self.secrets.borrow_mut().push(secret.clone());
        }
    }

    /// Remember every value of `vars` whose name marks it as a credential.
    pub fn register_env_secrets<'a>(
        &self,
        vars: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) {
        for (name, value) in vars {
            if crate::secret::is_sensitive_name(name) {
                self.register_secret(&Secret::new(value.clone()));
            }
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in self.secrets.borrow().iter() {
            if text.contains(secret.expose()) {
                text = text.replace(secret.expose(), &secret.masked());
            }
        }
        text
    }

    /// The command's result, on stdout.
    pub fn out(&self, text: &str) {
        write_stdout(&self.redact(text));
    }

    /// The command's result as JSON, on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_default();
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
        if self.format == Format::Github {
            write_stdout(&format!(
                "::error title=tracectl::{}\n",
                message.replace('\n', "%0A")
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
pub struct LineSink {
    out: std::sync::Mutex<std::io::BufWriter<std::io::Stdout>>,
    secrets: Vec<Secret>,
}

impl LineSink {
    /// Write bytes that hold no secret (span data received, not read from the user's files).
    pub fn write_bytes(&self, bytes: &[u8]) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = out.write_all(bytes) {
            exit_on_write_error(err);
        }
    }

    pub fn write(&self, text: &str) {
        let mut text = std::borrow::Cow::Borrowed(text);
        for secret in &self.secrets {
            if text.contains(secret.expose()) {
                text = std::borrow::Cow::Owned(text.replace(secret.expose(), &secret.masked()));
            }
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = out.write_all(text.as_bytes()) {
            exit_on_write_error(err);
        }
    }

    pub fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = out.flush() {
            exit_on_write_error(err);
        }
    }
}

impl Printer {
    pub fn line_sink(&self) -> LineSink {
        LineSink {
            out: std::sync::Mutex::new(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stdout(),
            )),
            secrets: self.secrets.borrow().clone(),
        }
    }

    /// A note on stderr: what the command is doing. Silenced by -q; stdout stays for results.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}", self.redact(message));
        }
    }
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
            secrets: RefCell::default(),
        };
        let secret = Secret::new("0123456789abcdef0123456789abcdef");
        printer.register_secret(&secret);
        let text = printer.redact("key=0123456789abcdef0123456789abcdef!");
        assert_eq!(text, "key=01234567…(redacted)!");
    }
}
