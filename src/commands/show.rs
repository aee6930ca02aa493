//! `tracectl show FILE...`: saved traces (OTLP/JSON lines) drawn as listen draws them.

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{ShowArgs, View};
use crate::error::{Error, ExitStatus, Result};
use crate::listen::decode;
use crate::listen::server::{Collector, Mode};
use crate::listen::waterfall::Style;
use crate::output::Printer;

pub fn run(args: &ShowArgs, printer: &Printer) -> Result<ExitStatus> {
    let stdout_is_terminal = std::io::stdout().is_terminal();
    // Traces wait in listen's bounded store until the files are read (or it is full): a trace
    // whose spans are spread over many lines is drawn whole, and a huge file is drawn in pieces
    // rather than held.
    let flush_after = Duration::from_secs(24 * 3600);
    let mode = if !printer.is_human() {
        Mode::JsonLines
    } else if super::listen::view(args.view, stdout_is_terminal) == View::Tree {
        Mode::Trees { flush_after }
    } else {
        let terminal = stdout_is_terminal
            .then(|| dialoguer::console::Term::stdout().size_checked())
            .flatten()
            .map(|(_rows, columns)| columns);
        Mode::Waterfalls {
            flush_after,
            style: Style {
                width: super::listen::width(args.width, std::env::var("COLUMNS").ok(), terminal),
                verbose: printer.verbosity() > 0,
            },
        }
    };
    let collector = Collector::new(mode, Some(printer.line_sink()));
    let (mut good, mut bad) = (0usize, 0usize);
    for path in &args.files {
        super::read_saved(path, "show", printer, &mut bad, |request| {
            good += 1;
            if let Ok(spans) = decode::spans_of(&request) {
                collector.accept(spans);
            }
        })?;
    }
    collector.flush(true);
    let stats = collector.stats();
    if bad > 0 {
        printer.warn(&format!(
            "{bad} line(s) skipped: not OTLP/JSON export requests (each line must be one ExportTraceServiceRequest)"
        ));
    }
    printer.note(&format!("{} traces, {} spans", stats.traces, stats.spans));
    if good == 0 && bad > 0 {
        return Err(Error::usage(
            "no line of the file(s) could be read".to_string(),
            "show reads OTLP/JSON lines: listen --save writes them, and so does the Collector's file exporter (format: json)".to_string(),
        ));
    }
    Ok(ExitStatus::Success)
}
