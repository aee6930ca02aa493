//! tracectl: from "no tracing" to verified traces arriving.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tracectl::cli::Cli::parse();
    let printer = tracectl::Printer::new(&cli.global);
    match tracectl::run(cli, &printer) {
        Ok(status) => status.into(),
        Err(err) => {
            printer.error(&err);
            err.exit_status().into()
        }
    }
}
