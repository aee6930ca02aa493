//! Turning flags, the environment and the project's env file into plain, validated settings.

use serde::Serialize;

use crate::aws;
use crate::cli::{HoneycombRegion, InitArgs};
use crate::error::{Error, Result};
use crate::honeycomb::{self, KeyInfo, KeyKind};
use crate::secret::Secret;

/// The recipe's dynamic naming pattern for a backend published on port 4567 of a Gitpod workspace.
pub const GITPOD_XRAY_URL: &str = "*4567-${GITPOD_WORKSPACE_ID}.${GITPOD_WORKSPACE_CLUSTER_HOST}*";

/// Every answer `init` needs, each possibly still open. Flags win over the environment, which wins
/// over what the project's env file already holds.
#[derive(Debug, Clone, Default)]
pub struct InitAnswers {
    pub honeycomb: bool,
    pub xray: bool,
    pub api_key: Option<Secret>,
    pub honeycomb_region: Option<HoneycombRegion>,
    pub dataset: Option<String>,
    pub service_name: Option<String>,
    pub aws_region: Option<String>,
    pub xray_url: Option<String>,
    pub xray_via: Option<crate::cli::XrayVia>,
    pub instrument: Option<crate::cli::Instrument>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoneycombSettings {
    pub api_key: Secret,
    pub key: KeyInfo,
    pub region: HoneycombRegion,
    pub endpoint: &'static str,
    pub dataset: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct XraySettings {
    pub region: String,
    pub url: String,
    pub via: crate::cli::XrayVia,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitSettings {
    pub service_name: String,
    pub honeycomb: Option<HoneycombSettings>,
    pub xray: Option<XraySettings>,
    pub instrument: crate::cli::Instrument,
    /// Things worth telling the user that do not stop the run.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Merge flags (clap already folded in their env vars), the rest of the environment and the env
/// file's current values. `env` and `dotenv` are lookups so that this stays pure.
pub fn gather(
    args: &InitArgs,
    env: impl Fn(&str) -> Option<String>,
    dotenv: impl Fn(&str) -> Option<String>,
) -> InitAnswers {
    let from = |flag: &Option<String>, names: &[&str]| {
        non_empty(flag.clone())
            .or_else(|| names.iter().find_map(|n| non_empty(env(n))))
            .or_else(|| names.iter().find_map(|n| non_empty(dotenv(n))))
    };
    let xray_url = non_empty(args.xray_url.clone())
        .or_else(|| non_empty(env("GITPOD_WORKSPACE_ID")).map(|_| GITPOD_XRAY_URL.to_string()));
    InitAnswers {
        honeycomb: !args.no_honeycomb,
        xray: !args.no_xray,
        api_key: from(&args.key.honeycomb_api_key, &["HONEYCOMB_API_KEY"]).map(Secret::new),
        honeycomb_region: args.honeycomb_region,
        dataset: from(&args.key.dataset, &["HONEYCOMB_DATASET"]),
        service_name: from(
            &args.service_name,
            &["HONEYCOMB_SERVICE_NAME", "OTEL_SERVICE_NAME"],
        ),
        aws_region: from(&args.aws_region, &["AWS_REGION", "AWS_DEFAULT_REGION"]),
        xray_url,
        xray_via: args.xray_via,
        instrument: args.instrument,
    }
}

/// Check every answer and fill in the defaults; a missing required value names its flag and
/// environment variable.
pub fn finalize(answers: InitAnswers, default_service_name: &str) -> Result<InitSettings> {
    if !answers.honeycomb && !answers.xray {
        return Err(Error::usage(
            "nothing to configure: both Honeycomb and X-Ray are switched off",
            "drop --no-honeycomb or --no-xray".to_string(),
        ));
    }
    let mut warnings = Vec::new();
    let service_name = answers
        .service_name
        .unwrap_or_else(|| default_service_name.to_string());
    if service_name
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '$')
    {
        return Err(Error::usage(
            format!("service name '{service_name}' may not contain spaces, quotes or '$'"),
            "pass --service-name with a name such as backend-flask".to_string(),
        ));
    }

    let honeycomb = if answers.honeycomb {
        let api_key = answers.api_key.ok_or_else(|| {
            Error::usage(
                "missing Honeycomb API key",
                "pass --honeycomb-api-key KEY or set HONEYCOMB_API_KEY (or --no-honeycomb)"
                    .to_string(),
            )
        })?;
        let key = honeycomb::classify(api_key.expose());
        match key.kind {
            KeyKind::Unknown => {
                return Err(Error::usage(
                    format!("{api_key} does not look like a Honeycomb API key"),
                    "use an ingest key (64 characters, hcaik_…) or a configuration key (22 characters) \
                     from Honeycomb's environment settings"
                        .to_string(),
                ));
            }
            KeyKind::Management => {
                return Err(Error::usage(
                    "a Honeycomb management key cannot send data",
                    "create an ingest key in the environment's API keys settings".to_string(),
                ));
            }
            _ => {}
        }
        let dataset = answers.dataset;
        if key.kind.needs_dataset() && dataset.is_none() {
            return Err(Error::usage(
                format!("a {} needs a dataset", key.kind.describe()),
                "pass --dataset NAME or set HONEYCOMB_DATASET".to_string(),
            ));
        }
        let region = answers
            .honeycomb_region
            .or(key.region)
            .unwrap_or(HoneycombRegion::Us);
        if let Some(key_region) = key.region.filter(|r| *r != region) {
            warnings.push(format!(
                "the Honeycomb key belongs to the {} region but {} was chosen: its data will be rejected",
                honeycomb::region_name(key_region),
                honeycomb::region_name(region),
            ));
        }
        Some(HoneycombSettings {
            api_key,
            key,
            region,
            endpoint: honeycomb::api_base(region),
            dataset: dataset.filter(|_| key.kind.needs_dataset()),
        })
    } else {
        None
    };

    let xray = if answers.xray {
        let region = answers.aws_region.ok_or_else(|| {
            Error::usage(
                "missing AWS region for X-Ray",
                "pass --aws-region REGION or set AWS_REGION (or --no-xray)".to_string(),
            )
        })?;
        match aws::check_region(&region) {
            aws::RegionCheck::Invalid { message, hint } => return Err(Error::usage(message, hint)),
            aws::RegionCheck::New { warning } => warnings.push(warning),
            aws::RegionCheck::Known => {}
        }
        let via = answers.xray_via.unwrap_or(crate::cli::XrayVia::Collector);
        if via == crate::cli::XrayVia::Collector && honeycomb.is_some() {
            return Err(Error::usage(
                "the collector tracectl writes sends traces to one destination, and both Honeycomb and X-Ray were chosen",
                "keep both with --xray-via daemon (supported until 2027-02-25), or send X-Ray alone through the collector with --no-honeycomb".to_string(),
            ));
        }
        Some(XraySettings {
            region,
            url: answers.xray_url.unwrap_or_else(|| "*".to_string()),
            via,
        })
    } else {
        None
    };

    Ok(InitSettings {
        service_name,
        honeycomb,
        xray,
        instrument: answers
            .instrument
            .unwrap_or(crate::cli::Instrument::ZeroCode),
        warnings,
    })
}

/// The hidden variable that sets tracectl's idea of "now", so that no test depends on the date it
/// runs on. Read in [`now`] only.
pub const NOW_VAR: &str = "TRACECTL_NOW";

/// The current time, or `TRACECTL_NOW` (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ`, or seconds since
/// the Unix epoch) when set. Only date-dependent verdicts use it; wire timestamps stay real.
pub fn now(env: impl Fn(&str) -> Option<String>) -> Result<std::time::SystemTime> {
    let Some(text) = non_empty(env(NOW_VAR)) else {
        return Ok(std::time::SystemTime::now());
    };
    parse_instant(&text)
        .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .ok_or_else(|| {
            Error::usage(
                format!("{NOW_VAR}='{text}' is not a date"),
                format!(
                    "write {NOW_VAR}=2027-03-01 or {NOW_VAR}=2027-03-01T12:00:00Z, or unset it"
                ),
            )
        })
}

/// Seconds since the epoch of `YYYY-MM-DD[THH:MM:SSZ]` or of a plain number of seconds.
fn parse_instant(text: &str) -> Option<u64> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z')?)),
        None => (text, None),
    };
    let mut parts = date.split('-').map(|p| p.parse::<u64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || y < 1970 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let seconds = match time {
        None => 0,
        Some(t) => {
            let mut hms = t.split(':').map(|p| p.parse::<u64>().ok());
            let (h, mi, s) = (hms.next()??, hms.next()??, hms.next()??);
            if hms.next().is_some() || h > 23 || mi > 59 || s > 60 {
                return None;
            }
            h * 3600 + mi * 60 + s
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm), March-based years.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + seconds)
}

#[cfg(test)]
mod now_tests {
    use super::*;
    use crate::test_support::env;

    #[test]
    fn injected_dates() {
        let at = |t: &str| {
            now(env(&[(NOW_VAR, t)]))
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        // Independent figures: `date -u -d 2027-02-25 +%s` and friends.
        assert_eq!(at("2027-02-25"), 1_803_513_600);
        assert_eq!(at("2000-03-01T12:30:05Z"), 951_913_805);
        assert_eq!(at("1970-01-01"), 0);
        assert_eq!(at("1803513600"), 1_803_513_600);
        for bad in ["2027-13-01", "tomorrow", "2027-02-25T10:00", "2027-02"] {
            let err = now(env(&[(NOW_VAR, bad)])).unwrap_err();
            assert!(err.to_string().contains(NOW_VAR), "{bad}");
        }
        assert!(now(env(&[])).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    const INGEST_US: &str = "hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";
    const INGEST_EU: &str = "hcbik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    fn args(extra: &[&str]) -> InitArgs {
        let cli = Cli::try_parse_from(["tracectl", "init"].iter().chain(extra)).unwrap();
        match cli.command {
            Command::Init(args) => *args,
            _ => unreachable!(),
        }
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_beat_environment_beat_env_file() {
        let a = args(&["--aws-region", "eu-west-3"]);
        let env = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "us-east-1".to_string());
        let dotenv = |k: &str| match k {
            "AWS_REGION" => Some("ap-south-1".to_string()),
            "HONEYCOMB_SERVICE_NAME" => Some("from-dotenv".to_string()),
            _ => None,
        };
        let answers = gather(&a, env, dotenv);
        assert_eq!(answers.aws_region.as_deref(), Some("eu-west-3"));
        assert_eq!(answers.service_name.as_deref(), Some("from-dotenv"));
        let answers = gather(&args(&[]), env, dotenv);
        assert_eq!(answers.aws_region.as_deref(), Some("us-east-1"));
        let answers = gather(&args(&[]), none, dotenv);
        assert_eq!(answers.aws_region.as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn gitpod_gets_the_recipe_pattern() {
        let env = |k: &str| (k == "GITPOD_WORKSPACE_ID").then(|| "ws-1".to_string());
        assert_eq!(
            gather(&args(&[]), env, none).xray_url.as_deref(),
            Some(GITPOD_XRAY_URL)
        );
        assert_eq!(gather(&args(&[]), none, none).xray_url, None);
    }

    #[test]
    fn missing_values_name_flag_and_variable() {
        let err = finalize(gather(&args(&[]), none, none), "api").unwrap_err();
        assert!(err.hint().unwrap().contains("--honeycomb-api-key"));
        assert!(err.hint().unwrap().contains("HONEYCOMB_API_KEY"));
        let a = args(&["--honeycomb-api-key", INGEST_US]);
        let err = finalize(gather(&a, none, none), "api").unwrap_err();
        assert!(err.hint().unwrap().contains("--aws-region"));
        assert!(err.hint().unwrap().contains("AWS_REGION"));
    }

    #[test]
    fn region_follows_key_and_mismatch_warns() {
        let a = args(&["--honeycomb-api-key", INGEST_EU, "--no-xray"]);
        let s = finalize(gather(&a, none, none), "api").unwrap();
        assert_eq!(s.honeycomb.unwrap().endpoint, honeycomb::EU_API);
        let a = args(&[
            "--honeycomb-api-key",
            INGEST_EU,
            "--no-xray",
            "--honeycomb-region",
            "us",
        ]);
        let s = finalize(gather(&a, none, none), "api").unwrap();
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].contains("EU region"));
    }

    #[test]
    fn classic_keys_need_a_dataset() {
        let a = args(&[
            "--honeycomb-api-key",
            "430eb2f22c137f6ff63980a3a332b4ac",
            "--no-xray",
        ]);
        let err = finalize(gather(&a, none, none), "api").unwrap_err();
        assert!(err.to_string().contains("needs a dataset"));
        let a = args(&[
            "--honeycomb-api-key",
            "430eb2f22c137f6ff63980a3a332b4ac",
            "--no-xray",
            "--dataset",
            "d",
        ]);
        let s = finalize(gather(&a, none, none), "api").unwrap();
        assert_eq!(s.honeycomb.unwrap().dataset.as_deref(), Some("d"));
    }

    #[test]
    fn bad_region_suggests_the_real_one() {
        let a = args(&["--no-honeycomb", "--aws-region", "eu-wset-3"]);
        let err = finalize(gather(&a, none, none), "api").unwrap_err();
        assert_eq!(err.hint().unwrap(), "did you mean eu-west-3?");
    }

    #[test]
    fn key_never_in_errors() {
        let bad = format!("{INGEST_US}x");
        let a = args(&["--honeycomb-api-key", &bad, "--no-xray"]);
        let err = finalize(gather(&a, none, none), "api").unwrap_err();
        assert!(!err.to_string().contains(&bad[..20]));
    }
}

#[derive(Debug, Clone)]
pub struct HoneycombTarget {
    pub base: String,
    pub key: Secret,
    pub info: KeyInfo,
    pub dataset: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SendTestSettings {
    pub destinations: Vec<crate::cli::Destination>,
    pub trace: crate::otlp::trace::TraceSpec,
    pub honeycomb: Option<HoneycombTarget>,
    pub otlp: Option<crate::otlp::config::OtlpConfig>,
    pub protocol: crate::otlp::config::Protocol,
    pub compression: crate::otlp::config::Compression,
    pub daemon_address: String,
    pub aws_region: Option<String>,
    pub timeout: std::time::Duration,
    pub wait: Option<std::time::Duration>,
    /// Load mode: how many traces, how many requests in flight.
    pub count: u64,
    pub concurrency: u64,
    /// The shared project facts with their sources, for `-v`.
    pub project: crate::project::model::Resolved,
    /// `--to collector`: where this machine reaches the project's collector.
    pub collector_url: Option<String>,
}

fn key_value(text: &str, flag: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Error::usage(
            format!("{flag} '{text}' is not KEY=VALUE"),
            format!("write {flag} name=value"),
        )),
    }
}

/// send-test's settings: the project facts in the model's one precedence (the same doctor reads),
/// then send-test's own flags.
pub fn resolve_send_test(
    args: &crate::cli::SendTestArgs,
    model: &crate::project::model::Model,
) -> Result<SendTestSettings> {
    use crate::cli::Destination;
    use crate::otlp::config::{self, Overrides};

    let facts = model.resolve(&crate::project::model::Flags {
        honeycomb_api_key: args.key.honeycomb_api_key.as_ref(),
        dataset: args.key.dataset.as_ref(),
        aws_region: args.aws_region.as_ref(),
        endpoint: args.endpoint.as_ref(),
    });
    let var = |name: &str| model.env(name);
    let dotenv = |name: &str| model.dotenv(name);

    let headers = args
        .headers
        .iter()
        .map(|h| key_value(h, "--header"))
        .collect::<Result<Vec<_>>>()?;
    let overrides = Overrides {
        endpoint: args.endpoint.clone(),
        headers,
        protocol: args.protocol,
        compression: args.compression,
        timeout: args.timeout,
    };
    let otlp = config::from_env(|n| model.exporter_var(facts.otlp_layer, n), &overrides)?;
    let timeout = args
        .timeout
        .or(otlp.as_ref().map(|o| o.timeout))
        .unwrap_or(config::DEFAULT_TIMEOUT);

    let otlp_is_honeycomb = otlp
        .as_ref()
        .is_some_and(|o| honeycomb::region_of_endpoint(&o.url).is_some());

    let honeycomb = match &facts.honeycomb_key {
        Some((key, _)) => {
            let info = honeycomb::classify(key.expose());
            let endpoints: Vec<&str> = otlp.iter().map(|o| o.url.as_str()).collect();
            let base = crate::project::model::honeycomb_base(
                var("HONEYCOMB_API_ENDPOINT"),
                Some(key.expose()),
                &endpoints,
            );
            Some(HoneycombTarget {
                base,
                key: key.clone(),
                info,
                dataset: facts.dataset.as_ref().map(|(d, _)| d.clone()),
            })
        }
        None => None,
    };

    let destinations = if args.to.is_empty() {
        let mut found = Vec::new();
        if honeycomb.is_some() {
            found.push(Destination::Honeycomb);
        }
        if otlp.is_some() && !(otlp_is_honeycomb && honeycomb.is_some()) {
            found.push(Destination::Otlp);
        }
        if facts.daemon_address.is_some() || facts.uses_daemon {
            found.push(Destination::XrayDaemon);
        }
        if found.is_empty() {
            // Nothing configured: prove the pipe locally, with no account at all.
            found.push(Destination::Local);
        }
        found
    } else {
        let mut to = args.to.clone();
        to.sort();
        to.dedup();
        to
    };

    if destinations.contains(&Destination::Honeycomb) && honeycomb.is_none() {
        return Err(Error::usage(
            "--to honeycomb needs a Honeycomb API key",
            "pass --honeycomb-api-key KEY or set HONEYCOMB_API_KEY".to_string(),
        ));
    }
    let needs_dataset = honeycomb
        .as_ref()
        .filter(|hc| hc.info.kind.needs_dataset() && hc.dataset.is_none())
        .filter(|_| destinations.contains(&Destination::Honeycomb));
    if let Some(hc) = needs_dataset {
        return Err(Error::usage(
            format!("a {} needs a dataset", hc.info.kind.describe()),
            "pass --dataset NAME or set HONEYCOMB_DATASET".to_string(),
        ));
    }
    if destinations.contains(&Destination::Otlp) && otlp.is_none() {
        return Err(Error::usage(
            "--to otlp needs an endpoint",
            "pass --endpoint URL or set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)".to_string(),
        ));
    }

    if args.count > 1
        && !matches!(
            destinations.as_slice(),
            [Destination::Otlp] | [Destination::Local]
        )
    {
        return Err(Error::usage(
            "load mode (--count) sends to one OTLP destination only",
            "add --to otlp (with --endpoint) or --to local".to_string(),
        ));
    }
    let daemon_address = match &facts.daemon_address {
        Some((address, _)) => crate::xray::daemon::udp_address(address)?,
        None => crate::xray::daemon::DEFAULT_ADDRESS.to_string(),
    };
    let aws_region = facts.aws_region.as_ref().map(|(r, _)| r.clone());
    if let Some(aws::RegionCheck::Invalid { message, hint }) =
        aws_region.as_deref().map(aws::check_region)
    {
        return Err(Error::usage(message, hint));
    }

    let resource_attributes = var("OTEL_RESOURCE_ATTRIBUTES")
        .map(|r| config::resource_attributes(&r))
        .unwrap_or_default();
    let service_name = non_empty(args.service_name.clone())
        .or_else(|| var("OTEL_SERVICE_NAME"))
        .or_else(|| {
            resource_attributes
                .iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
        })
        .or_else(|| var("HONEYCOMB_SERVICE_NAME"))
        .or_else(|| dotenv("HONEYCOMB_SERVICE_NAME"))
        .unwrap_or_else(|| "tracectl-test".to_string());
    let attributes = args
        .attributes
        .iter()
        .map(|a| key_value(a, "--attribute"))
        .collect::<Result<Vec<_>>>()?;

    let collector_url = match destinations.contains(&Destination::Collector) {
        true => Some(crate::send::collector_url(model, args.endpoint.as_deref())?),
        false => None,
    };
    Ok(SendTestSettings {
        collector_url,
        destinations,
        trace: crate::otlp::trace::TraceSpec {
            service_name,
            span_name: non_empty(args.span_name.clone()),
            attributes,
            resource_attributes,
        },
        protocol: otlp
            .as_ref()
            .map(|o| o.protocol)
            .or(args.protocol)
            .unwrap_or(crate::otlp::config::Protocol::HttpProtobuf),
        compression: otlp
            .as_ref()
            .map(|o| o.compression)
            .or(args.compression)
            .unwrap_or(crate::otlp::config::Compression::None),
        honeycomb,
        otlp,
        daemon_address,
        aws_region,
        timeout,
        wait: args.wait.map(std::time::Duration::from_secs),
        count: args.count,
        concurrency: args.concurrency,
        project: facts,
    })
}

#[cfg(test)]
mod send_test_tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command, Destination};
    use crate::project::model::Model;

    const KEY: &str = "hcbik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0";

    fn args(extra: &[&str]) -> crate::cli::SendTestArgs {
        let cli = Cli::try_parse_from(["tracectl", "send-test"].iter().chain(extra)).unwrap();
        match cli.command {
            Command::SendTest(args) => *args,
            _ => unreachable!(),
        }
    }

    fn process(pairs: &[(&str, &str)]) -> Model {
        Model::fake(pairs, &[], &[])
    }

    #[test]
    fn defaults_come_from_the_configuration() {
        let model = Model::fake(
            &[],
            &[
                ("HONEYCOMB_API_KEY", KEY),
                ("HONEYCOMB_SERVICE_NAME", "backend-flask"),
            ],
            &[("AWS_XRAY_DAEMON_ADDRESS", "10.0.0.9:2000")],
        );
        let s = resolve_send_test(&args(&[]), &model).unwrap();
        assert_eq!(
            s.destinations,
            [Destination::Honeycomb, Destination::XrayDaemon]
        );
        assert_eq!(s.honeycomb.as_ref().unwrap().base, honeycomb::EU_API);
        assert_eq!(s.trace.service_name, "backend-flask");
        assert_eq!(s.daemon_address, "10.0.0.9:2000");
    }

    #[test]
    fn the_backends_exporter_is_used_as_a_whole() {
        // Endpoint, dataset header and protocol only in the compose file's backend.
        let model = Model::fake(
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
            &[("HONEYCOMB_API_KEY", KEY)],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "x-honeycomb-team=${HONEYCOMB_API_KEY},x-honeycomb-dataset=flask",
                ),
            ],
        );
        let s = resolve_send_test(&args(&[]), &model).unwrap();
        let otlp = s.otlp.unwrap();
        assert_eq!(otlp.url, "http://127.0.0.1:4318/v1/traces");
        // The process environment's protocol belongs to no endpoint: not mixed in.
        assert_eq!(otlp.protocol, crate::otlp::config::Protocol::HttpProtobuf);
        assert_eq!(otlp.headers[0].value.expose(), KEY);
        assert_eq!(s.honeycomb.unwrap().dataset.as_deref(), Some("flask"));
    }

    #[test]
    fn honeycomb_endpoint_in_otel_env_is_not_sent_twice() {
        let m = process(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://api.honeycomb.io"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-honeycomb-team=abcdefghijklmnopqrstuv",
            ),
        ]);
        let s = resolve_send_test(&args(&[]), &m).unwrap();
        assert_eq!(s.destinations, [Destination::Honeycomb]);
        assert_eq!(s.honeycomb.unwrap().key.expose(), "abcdefghijklmnopqrstuv");
    }

    #[test]
    fn nothing_configured_sends_locally_and_named_destinations_need_settings() {
        let none = process(&[]);
        let s = resolve_send_test(&args(&[]), &none).unwrap();
        assert_eq!(s.destinations, [Destination::Local]);
        let err = resolve_send_test(&args(&["--to", "otlp"]), &none).unwrap_err();
        assert!(err.hint().unwrap().contains("OTEL_EXPORTER_OTLP_ENDPOINT"));
        let err = resolve_send_test(&args(&["--to", "honeycomb"]), &none).unwrap_err();
        assert!(err.hint().unwrap().contains("HONEYCOMB_API_KEY"));
    }

    #[test]
    fn service_name_precedence() {
        let m = process(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource"),
            ("HONEYCOMB_SERVICE_NAME", "hc"),
        ]);
        assert_eq!(
            resolve_send_test(&args(&[]), &m)
                .unwrap()
                .trace
                .service_name,
            "from-resource"
        );
        let s = resolve_send_test(&args(&["--service-name", "flag", "--attribute", "a=1"]), &m)
            .unwrap();
        assert_eq!(s.trace.service_name, "flag");
        assert_eq!(s.trace.attributes, [("a".to_string(), "1".to_string())]);
        assert!(resolve_send_test(&args(&["--attribute", "novalue"]), &m).is_err());
    }

    #[test]
    fn region_is_checked_and_wait_defaults_to_a_minute() {
        let m = process(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h")]);
        let err = resolve_send_test(&args(&["--aws-region", "us-est-1"]), &m).unwrap_err();
        assert_eq!(err.hint().unwrap(), "did you mean us-east-1?");
        let s = resolve_send_test(&args(&["--wait"]), &m).unwrap();
        assert_eq!(s.wait, Some(std::time::Duration::from_secs(60)));
        let s =
            resolve_send_test(&args(&["--wait", "5", "--to", "otlp", "--to", "otlp"]), &m).unwrap();
        assert_eq!(s.wait, Some(std::time::Duration::from_secs(5)));
        assert_eq!(s.destinations, [Destination::Otlp]);
    }
}
