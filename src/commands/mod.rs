//! One module per subcommand: thin glue between the CLI, the pure logic and the printer.

mod completions;
mod doctor;
mod init;
mod listen;
mod send_test;
mod show;

use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::error::{Error, ExitStatus, Result};
use crate::output::Printer;

pub fn run(cli: Cli, printer: &Printer) -> Result<ExitStatus> {
    let dir = cli.global.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        return Err(Error::usage(
            format!("-C {}: no such folder", dir.display()),
            "pass the folder that holds the compose file".to_string(),
        ));
    }
    match cli.command {
        Command::Init(args) => init::run(*args, &dir, printer),
        Command::SendTest(args) => send_test::run(*args, &dir, printer),
        Command::Doctor(args) => doctor::run(*args, &dir, printer),
        Command::Listen(args) => listen::run(args, &dir, printer),
        Command::Show(args) => show::run(&args, printer),
        Command::Completions(args) => completions::run(&args, printer),
    }
}
