//! One module per subcommand: thin glue between the CLI, the pure logic and the printer.

mod completions;
mod doctor;
mod init;
mod listen;
mod man;
mod send_test;
mod show;
mod version;

use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::error::{Error, ExitStatus, Result};
use crate::output::Printer;

pub fn run(cli: Cli, printer: &Printer) -> Result<ExitStatus> {
    let dir = || project_dir(cli.global.dir.clone());
    match cli.command {
        Command::Init(args) => init::run(*args, &dir()?, printer),
        Command::SendTest(args) => send_test::run(*args, &dir()?, printer),
        Command::Doctor(args) => doctor::run(*args, &dir()?, printer),
        Command::Listen(args) => listen::run(args, &dir()?, printer),
        // About tracectl itself, not a project: no folder needed.
        Command::Show(args) => show::run(&args, printer),
        Command::Completions(args) => completions::run(&args, printer),
        Command::Version => version::run(printer),
        Command::Man(args) => man::run(&args, printer),
    }
}

/// `-C DIR`, else the current folder; it must exist and be readable. A current folder that was
/// deleted or cannot be read is said to be that, not mistaken for a project without files.
fn project_dir(dir: Option<PathBuf>) -> Result<PathBuf> {
    let Some(dir) = dir else {
        let unreadable = |err: std::io::Error| {
            let kind = err.kind();
            Error::Io {
                source: std::io::Error::new(kind, format!("cannot read the current folder: {err}")),
                hint: Some(if kind == std::io::ErrorKind::NotFound {
                    "it was deleted or moved: cd into the project folder again, or pass -C DIR"
                        .to_string()
                } else {
                    "check the folder's permissions, or pass -C DIR with the project folder"
                        .to_string()
                }),
            }
        };
        let here = std::env::current_dir().map_err(unreadable)?;
        std::fs::metadata(".").map_err(|e| {
            unreadable(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", here.display()),
            ))
        })?;
        return Ok(PathBuf::from("."));
    };
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => Ok(dir),
        Ok(_) => Err(Error::usage(
            format!("-C {}: not a folder", dir.display()),
            "pass the folder that holds the compose file".to_string(),
        )),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(Error::usage(
            format!("-C {}: no such folder", dir.display()),
            "pass the folder that holds the compose file".to_string(),
        )),
        Err(err) => Err(Error::usage(
            format!("-C {}: cannot read it: {err}", dir.display()),
            "check the folder's permissions, or pass another folder".to_string(),
        )),
    }
}

/// Every export request of a saved file (`listen --save`, the Collector's file exporter), in
/// order, to `each`. A line that is not one is skipped: the first ten overall are named as
/// `FILE:LINE`, and `bad` counts them all. `what` says who reads such files, for the hint when
/// the file cannot be opened.
pub(crate) fn read_saved(
    path: &std::path::Path,
    what: &str,
    printer: &Printer,
    bad: &mut usize,
    mut each: impl FnMut(opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest),
) -> Result<()> {
    use crate::listen::saved::{self, Line};
    const NAMED_BAD_LINES: usize = 10;
    let file = fs_err::File::open(path).map_err(|e| Error::Io {
        source: e,
        hint: Some(format!(
            "{what} reads files written by listen --save or the Collector's file exporter"
        )),
    })?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    saved::for_each_line(reader, |number, line| match line {
        Line::Request(request) => each(request),
        Line::Empty => {}
        Line::Bad(why) => {
            *bad += 1;
            if *bad <= NAMED_BAD_LINES {
                printer.warn(&format!(
                    "{}:{number}: skipped: {}",
                    path.display(),
                    crate::otlp::send::excerpt(&why, 200)
                ));
            }
        }
    })
    .map_err(|e| Error::Io {
        source: std::io::Error::new(e.kind(), format!("{}: {e}", path.display())),
        hint: None,
    })
}
