//! The questions `init` asks on a terminal; each has a flag or variable that answers it instead.

use crate::aws;
use crate::cli::{HoneycombRegion, Instrument, XrayVia};
use crate::error::Result;
use crate::honeycomb::{self, KeyKind};
use crate::output::Printer;
use crate::prompt;
use crate::secret::Secret;
use crate::settings::InitAnswers;

pub fn wizard(answers: &mut InitAnswers, service: &str, printer: &Printer) -> Result<()> {
    let choices = [
        "Honeycomb and AWS X-Ray",
        "Honeycomb only",
        "AWS X-Ray only",
    ]
    .map(String::from);
    let default = match (answers.honeycomb, answers.xray) {
        (true, false) => 1,
        (false, true) => 2,
        _ => 0,
    };
    let choice = prompt::select("Send traces to", &choices, default)?;
    answers.honeycomb = choice != 2;
    answers.xray = choice != 1;

    if answers.honeycomb {
        loop {
            let current = answers.api_key.as_ref().map(|k| k.expose().to_string());
            let label = match &answers.api_key {
                Some(k) => format!("Honeycomb API key (Enter keeps {k})"),
                None => "Honeycomb API key".to_string(),
            };
            if let Some(key) = prompt::password(&label, current.as_deref())? {
                let key = Secret::new(key);
                printer.register_secret(&key);
                answers.api_key = Some(key);
            }
            let kind = answers
                .api_key
                .as_ref()
                .map(|k| honeycomb::classify(k.expose()).kind);
            match kind {
                Some(KeyKind::Unknown) => {
                    printer.warn("that does not look like a Honeycomb API key; try again")
                }
                Some(KeyKind::Management) => {
                    printer.warn("management keys cannot send data; use an ingest key")
                }
                _ => break,
            }
        }
        let key = answers
            .api_key
            .as_ref()
            .map(|k| honeycomb::classify(k.expose()));
        if key.is_some_and(|k| k.kind.needs_dataset()) {
            answers.dataset = Some(prompt::input(
                "Dataset (classic keys need one)",
                answers.dataset.as_deref(),
            )?);
        }
        let region = answers
            .honeycomb_region
            .or(key.and_then(|k| k.region))
            .unwrap_or(HoneycombRegion::Us);
        let regions = ["US (api.honeycomb.io)", "EU (api.eu1.honeycomb.io)"].map(String::from);
        let picked = prompt::select(
            "Honeycomb region",
            &regions,
            usize::from(region == HoneycombRegion::Eu),
        )?;
        answers.honeycomb_region = Some(if picked == 1 {
            HoneycombRegion::Eu
        } else {
            HoneycombRegion::Us
        });
        let name = answers
            .service_name
            .clone()
            .unwrap_or_else(|| service.to_string());
        answers.service_name = Some(prompt::input("Service name", Some(&name))?);
    }
    if answers.xray {
        loop {
            let region = prompt::input("AWS region", answers.aws_region.as_deref())?;
            let (message, hint) = match aws::check_region(&region) {
                aws::RegionCheck::Invalid { message, hint } => (message, hint),
                _ => {
                    answers.aws_region = Some(region);
                    break;
                }
            };
            printer.warn(&format!("{message}: {hint}"));
            answers.aws_region = aws::suggest_region(&region).map(str::to_string);
        }
        if answers.honeycomb {
            // The collector tracectl writes sends to one destination: with Honeycomb too, X-Ray
            // goes through the daemon.
            answers.xray_via = Some(XrayVia::Daemon);
            printer.warn(
                "with Honeycomb as well, X-Ray goes through the daemon (AWS support ends 2027-02-25); \
                 the collector sends to one destination",
            );
        } else {
            let choices = [
                "OpenTelemetry collector: OTLP to X-Ray, signed with SigV4 (supported path)",
                "X-Ray daemon and SDK (in maintenance; AWS support ends 2027-02-25)",
            ]
            .map(String::from);
            let default = usize::from(answers.xray_via == Some(XrayVia::Daemon));
            let picked = prompt::select("Send X-Ray traces through", &choices, default)?;
            answers.xray_via = Some(if picked == 1 {
                XrayVia::Daemon
            } else {
                XrayVia::Collector
            });
        }
    }
    let choices = [
        "zero-code: wrap the start command with opentelemetry-instrument (app.py unchanged)",
        "code: add the instrumentation to app.py",
        "none: change neither; print the lines to add",
    ]
    .map(String::from);
    let default = match answers.instrument {
        Some(Instrument::Code) => 1,
        Some(Instrument::None) => 2,
        _ => 0,
    };
    answers.instrument = Some(
        match prompt::select("Instrument the Flask app", &choices, default)? {
            1 => Instrument::Code,
            2 => Instrument::None,
            _ => Instrument::ZeroCode,
        },
    );
    Ok(())
}
