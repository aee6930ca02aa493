//! tracectl: from "no tracing" to verified traces arriving.

use std::process::ExitCode;

use clap::Parser;
use tracectl::Printer;

// listen allocates for every span it decodes and writes, from every worker thread: mimalloc
// keeps that off the profile where the system allocator was a fifth of it (scripts/bench.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Secrets are known before anything can fail and echo one, the command line included.
    Printer::register_process_secrets(&args);
    let cli = match tracectl::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return Printer::usage_error(&err, &args),
    };
    let printer = Printer::new(&cli.global);
    match tracectl::run(cli, &printer) {
        Ok(status) => status.into(),
        Err(err) => {
            printer.error(&err);
            err.exit_status().into()
        }
    }
}
