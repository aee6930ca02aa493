//! `tracectl man DIR` (hidden): the man pages, generated from the clap definitions.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::{Error, ExitStatus, Result};
use crate::output::Printer;

/// Every page as (file name, roff text): `tracectl.1`, then `tracectl-COMMAND.1` for each visible
/// command. The pages carry the package version only, not the commit or date, so that the
/// committed pages change when the interface does and not on every commit.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) {
        let man = clap_mangen::Man::new(cmd.clone())
            .source(format!("tracectl {}", crate::build_info::PACKAGE_VERSION))
            .manual("tracectl manual");
        let mut text = Vec::new();
        // Rendering into memory cannot fail.
        let _ = man.render(&mut text);
        out.push((man.get_filename(), text));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out);
        }
    }
    let mut cmd = Cli::command()
        .version(crate::build_info::PACKAGE_VERSION)
        .disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out);
    out
}

pub fn run(args: &ManArgs, printer: &Printer) -> Result<ExitStatus> {
    let written = write_all(&args.dir)?;
    printer.note(&format!(
        "{} man pages written to {}",
        written,
        args.dir.display()
    ));
    Ok(ExitStatus::Success)
}

/// DIR must be a folder, or nothing yet (it is created); a file, a device or a link to nothing
/// cannot hold pages.
fn check_dir(dir: &Path) -> Result<()> {
    let hint = "pass a folder, e.g. `tracectl man ./man` (it is created if missing)".to_string();
    match (std::fs::symlink_metadata(dir), std::fs::metadata(dir)) {
        (Ok(_), Ok(meta)) if meta.is_dir() => Ok(()),
        (Ok(_), Ok(_)) => Err(Error::usage(
            format!("{} is not a folder", dir.display()),
            hint,
        )),
        (Ok(link), Err(_)) if link.file_type().is_symlink() => {
            let target = std::fs::read_link(dir)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            Err(Error::usage(
                format!(
                    "{} is a link to {target}, which does not exist",
                    dir.display()
                ),
                format!("create {target} first, or {hint}"),
            ))
        }
        _ => Ok(()),
    }
}

/// Write every page; the number written. A failure part-way names the pages already written
/// (they are complete), never "nothing was changed".
fn write_all(dir: &Path) -> Result<usize> {
    check_dir(dir)?;
    fs_err::create_dir_all(dir).map_err(Error::from)?;
    let pages = pages();
    let total = pages.len();
    let mut written: Vec<String> = Vec::new();
    for (name, text) in pages {
        if let Err(source) = fs_err::write(dir.join(&name), text) {
            let err = Error::from(source);
            let Error::Io { source, hint } = err else {
                return Err(err);
            };
            let hint = if written.is_empty() {
                hint
            } else {
                Some(format!(
                    "wrote {} of {total} pages before that ({}); fix the cause and run again",
                    written.len(),
                    written.join(", ")
                ))
            };
            return Err(Error::Io { source, hint });
        }
        written.push(name);
    }
    Ok(written.len())
}
