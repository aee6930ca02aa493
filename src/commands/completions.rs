//! `tracectl completions SHELL`: the completion script on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{ExitStatus, Result};
use crate::output::Printer;

pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tracectl", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn run(args: &CompletionsArgs, printer: &Printer) -> Result<ExitStatus> {
    printer.out(&script(args.shell));
    Ok(ExitStatus::Success)
}
