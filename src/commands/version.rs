//! `tracectl version`: the build facts, for bug reports.

use crate::build_info;
use crate::cli::Format;
use crate::error::{ExitStatus, Result};
use crate::output::Printer;

pub fn run(printer: &Printer) -> Result<ExitStatus> {
    if printer.format() == Format::Json {
        printer.json(&build_info::json());
    } else {
        printer.out(&build_info::human());
    }
    Ok(ExitStatus::Success)
}
