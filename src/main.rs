//! tracectl: from "no tracing" to verified traces arriving.

mod aws;
mod cli;
mod commands;
mod doctor;
mod error;
mod honeycomb;
mod listen;
mod otlp;
mod output;
mod project;
mod prompt;
mod recipe;
mod secret;
mod settings;
mod xray;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let printer = output::Printer::new(&cli.global);
    match commands::run(cli, &printer) {
        Ok(status) => status.into(),
        Err(err) => {
            printer.error(&err);
            err.exit_status().into()
        }
    }
}
