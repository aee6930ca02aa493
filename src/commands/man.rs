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
    write_all(&args.dir)?;
    printer.note(&format!("man pages written to {}", args.dir.display()));
    Ok(ExitStatus::Success)
}

fn write_all(dir: &Path) -> Result<()> {
    fs_err::create_dir_all(dir).map_err(Error::from)?;
    for (name, text) in pages() {
        fs_err::write(dir.join(name), text).map_err(Error::from)?;
    }
    Ok(())
}
