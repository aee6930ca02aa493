//! The command-line interface, declared with clap; no behaviour lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Set up, test and diagnose tracing for a docker compose backend (Honeycomb, AWS X-Ray).
#[derive(Debug, Parser)]
#[command(
    name = "tracectl",
    version = crate::build_info::VERSION,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to use colours
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Output format
    #[arg(long, global = true, value_name = "FORMAT", default_value = "human")]
    pub format: Format,

    /// Print only errors and the result
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Run as if started in DIR
    #[arg(short = 'C', long = "dir", global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it)
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text, coloured on a terminal
    Human,
    /// One stable JSON object on stdout (JSON lines for `listen`)
    Json,
    /// GitHub Actions annotations (doctor); other commands print human output
    Github,
    /// SARIF 2.1.0 for code scanning (doctor); other commands print human output
    Sarif,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the env and compose configuration for Honeycomb and X-Ray
    Init(Box<InitArgs>),
    /// Send a realistic synthetic trace to every configured destination and prove it arrived
    SendTest(Box<SendTestArgs>),
    /// Check keys, credentials, regions, endpoints, clocks and the project's configuration
    Doctor(Box<DoctorArgs>),
    /// Receive traces locally (OTLP/HTTP, OTLP/gRPC and X-Ray daemon UDP) and show them, no account needed
    Listen(ListenArgs),
    /// Show traces saved by `listen --save` or the OpenTelemetry Collector's file exporter
    Show(ShowArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the version, git commit, build date and target, for bug reports
    Version,
    /// Write the man pages (tracectl.1 and one per command) into DIR
    #[command(hide = true)]
    Man(ManArgs),
}

/// Where `send-test` sends the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    /// Honeycomb over OTLP/HTTP
    Honeycomb,
    /// Any OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_* or --endpoint)
    Otlp,
    /// The X-Ray API (PutTraceSegments)
    Xray,
    /// An X-Ray daemon over UDP (AWS_XRAY_DAEMON_ADDRESS)
    XrayDaemon,
    /// X-Ray's OTLP endpoint, signed with SigV4
    XrayOtlp,
    /// A receiver started in-process on a free loopback port: proves the whole pipe, no account
    Local,
    /// The project's collector over OTLP/HTTP (the port its service publishes, or --endpoint);
    /// --wait looks in X-Ray and Honeycomb, where it forwards
    Collector,
}

impl Destination {
    pub fn name(self) -> &'static str {
        match self {
            Destination::Honeycomb => "honeycomb",
            Destination::Otlp => "otlp",
            Destination::Xray => "xray",
            Destination::XrayDaemon => "xray-daemon",
            Destination::XrayOtlp => "xray-otlp",
            Destination::Local => "local",
            Destination::Collector => "collector",
        }
    }
}

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// Where to send (repeatable) [default: every configured destination, else local]
    #[arg(long = "to", value_name = "DEST")]
    pub to: Vec<Destination>,

    #[command(flatten)]
    pub key: HoneycombKeyArgs,

    /// OTLP endpoint: a base URL (/v1/traces is appended) or the full traces URL
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// Extra OTLP header (repeatable)
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,

    /// OTLP encoding [default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf]
    #[arg(long, value_name = "PROTOCOL")]
    pub protocol: Option<crate::otlp::config::Protocol>,

    /// OTLP compression [default: OTEL_EXPORTER_OTLP_COMPRESSION, else none]
    #[arg(long, value_name = "COMPRESSION")]
    pub compression: Option<crate::otlp::config::Compression>,

    /// Time allowed per destination, retries included (e.g. 10s, 500ms) [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = crate::otlp::config::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// Service name of the test trace [default: OTEL_SERVICE_NAME, HONEYCOMB_SERVICE_NAME, or the project's]
    #[arg(long, value_name = "NAME")]
    pub service_name: Option<String>,

    /// Name of the root span [default: GET /api/activities/home]
    #[arg(long, value_name = "NAME")]
    pub span_name: Option<String>,

    /// Extra attribute on the root span (repeatable)
    #[arg(long = "attribute", value_name = "KEY=VALUE")]
    pub attributes: Vec<String>,

    /// AWS region for X-Ray [default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, or the project's .env]
    #[arg(long, value_name = "REGION", env = "AWS_REGION")]
    pub aws_region: Option<String>,

    /// Wait up to SECONDS (at most 3600) for proof that the trace arrived
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "60", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wait: Option<u64>,

    #[command(flatten)]
    pub project: ProjectArgs,

    /// Load mode: send N traces of 3 spans each and report throughput and latency (otlp, local)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,

    /// Load mode: requests in flight at once
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,

    /// Replay the spans saved in FILE (OTLP/JSON lines: listen --save, the Collector's file
    /// exporter) instead of the test trace, with new ids and times (otlp, honeycomb, local, collector)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["wait", "count", "service_name", "span_name", "attributes"])]
    pub from: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoneycombRegion {
    /// api.honeycomb.io
    Us,
    /// api.eu1.honeycomb.io
    Eu,
}

/// How X-Ray traces leave the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XrayVia {
    /// An OpenTelemetry collector (rotel) that sends OTLP to X-Ray, signed with SigV4
    Collector,
    /// The X-Ray SDK and daemon (AWS support ends 2027-02-25)
    Daemon,
}

/// How the Flask app gets its OpenTelemetry instrumentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Instrument {
    /// Wrap the backend's start command with opentelemetry-instrument; app.py is not edited
    ZeroCode,
    /// Add the instrumentation to app.py
    Code,
    /// Leave the app and its start command alone; init prints the lines to add
    None,
}

/// Where the project's files are, when not where tracectl looks by default.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Compose file [default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml]
    #[arg(long, value_name = "FILE")]
    pub compose_file: Option<PathBuf>,

    /// Compose service that runs the backend [default: the one whose build folder holds a Flask app]
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Env file that holds the secrets [default: .env beside the compose file]
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

/// The Honeycomb key, and the dataset Honeycomb Classic keys need.
#[derive(Debug, Args)]
pub struct HoneycombKeyArgs {
    /// Honeycomb API key (ingest or configuration key)
    #[arg(
        long,
        value_name = "KEY",
        env = "HONEYCOMB_API_KEY",
        hide_env_values = true
    )]
    pub honeycomb_api_key: Option<String>,

    /// Honeycomb dataset, required by classic keys
    #[arg(long, value_name = "NAME", env = "HONEYCOMB_DATASET")]
    pub dataset: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub project: ProjectArgs,

    /// Send traces to Honeycomb over OTLP/HTTP
    #[arg(long, overrides_with = "no_honeycomb")]
    pub honeycomb: bool,

    /// Do not configure Honeycomb
    #[arg(long, overrides_with = "honeycomb")]
    pub no_honeycomb: bool,

    /// Add the AWS X-Ray SDK settings and an X-Ray daemon service
    #[arg(long, overrides_with = "no_xray")]
    pub xray: bool,

    /// Do not configure X-Ray
    #[arg(long, overrides_with = "xray")]
    pub no_xray: bool,

    #[command(flatten)]
    pub key: HoneycombKeyArgs,

    /// Honeycomb region [default: from the key, else us]
    #[arg(long, value_name = "REGION")]
    pub honeycomb_region: Option<HoneycombRegion>,

    /// Service name shown in Honeycomb [default: the compose service's name]
    #[arg(long, value_name = "NAME", env = "HONEYCOMB_SERVICE_NAME")]
    pub service_name: Option<String>,

    /// AWS region for X-Ray [default: AWS_DEFAULT_REGION or the AWS profile's region]
    #[arg(long, value_name = "REGION", env = "AWS_REGION")]
    pub aws_region: Option<String>,

    /// X-Ray dynamic naming pattern (AWS_XRAY_URL) [default: the recipe's Gitpod pattern on Gitpod, else *]
    #[arg(long, value_name = "PATTERN")]
    pub xray_url: Option<String>,

    /// How traces reach X-Ray [default: the daemon when the project already runs one, else collector]
    #[arg(long, value_name = "VIA")]
    pub xray_via: Option<XrayVia>,

    /// How the app is instrumented: wrap its start command (zero-code), edit app.py (code), or
    /// neither (none) [default: zero-code]
    #[arg(long, value_name = "MODE")]
    pub instrument: Option<Instrument>,

    /// Move an X-Ray daemon setup to an OpenTelemetry collector (edits compose only)
    #[arg(long, conflicts_with_all = ["xray_via", "no_xray", "sampling_rule", "instrument"])]
    pub migrate: bool,

    /// Also write the X-Ray sampling rule to aws/json/xray.json
    #[arg(long)]
    pub sampling_rule: bool,

    /// Replace existing values that differ instead of keeping them
    #[arg(long)]
    pub force: bool,

    /// Print the changes as a diff and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Never prompt; take every answer from flags, the environment and the env file
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// List the checks and exit
    #[arg(long)]
    pub list: bool,

    /// Run only this check (repeatable; see --list)
    #[arg(long = "check", value_name = "ID", value_parser = check_id)]
    pub check: Vec<String>,

    /// Do not run this check (repeatable)
    #[arg(long = "skip", value_name = "ID", value_parser = check_id)]
    pub skip: Vec<String>,

    /// Skip every check that needs the network
    #[arg(long)]
    pub offline: bool,

    /// Treat warnings as failures
    #[arg(long)]
    pub strict: bool,

    /// Fail, not warn, when the project is set up for the X-Ray daemon and it does not answer
    #[arg(long)]
    pub require_daemon: bool,

    /// Fail, not skip, when the folder holds no compose file (unless only checks that read none
    /// were asked for with --check); the GitHub Action passes it
    #[arg(long)]
    pub require_compose: bool,

    /// Time allowed for each network check (e.g. 5s, 500ms)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::otlp::config::parse_duration)]
    pub timeout: std::time::Duration,

    #[command(flatten)]
    pub key: HoneycombKeyArgs,

    /// AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the project's .env, the AWS profile's]
    #[arg(long, value_name = "REGION", env = "AWS_REGION")]
    pub aws_region: Option<String>,

    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address of the OTLP/HTTP receiver
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4318")]
    pub otlp_http: std::net::SocketAddr,

    /// Address of the OTLP/gRPC receiver
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4317")]
    pub otlp_grpc: std::net::SocketAddr,

    /// Address of the X-Ray daemon-compatible UDP receiver
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2000")]
    pub xray_udp: std::net::SocketAddr,

    /// Do not receive OTLP (neither HTTP nor gRPC)
    #[arg(long)]
    pub no_otlp: bool,

    /// Do not receive OTLP/gRPC (OTLP/HTTP stays on)
    #[arg(long)]
    pub no_otlp_grpc: bool,

    /// Do not receive X-Ray segments
    #[arg(long)]
    pub no_xray: bool,

    /// Largest OTLP request body accepted, compressed or not (e.g. 4MiB, 512KiB)
    #[arg(long, value_name = "SIZE", default_value = "4MiB", value_parser = parse_size)]
    pub max_body: usize,

    /// Show a trace once no span of it arrived for this long
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::otlp::config::parse_duration)]
    pub flush_after: std::time::Duration,

    /// Exit once this many spans have arrived
    #[arg(long, value_name = "N")]
    pub exit_after_spans: Option<u64>,

    /// Exit after this long (e.g. 30, 30s, 2m)
    #[arg(long, value_name = "SECONDS", value_parser = crate::otlp::config::parse_duration)]
    pub exit_after: Option<std::time::Duration>,

    /// How traces are drawn [default: waterfall when stdout is a terminal, else tree]
    #[arg(long, value_name = "VIEW")]
    pub view: Option<View>,

    /// Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal's width, else 80]
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(1..))]
    pub width: Option<u16>,

    /// Append every received request to FILE as OTLP/JSON lines (the Collector file exporter's layout)
    #[arg(long, value_name = "FILE")]
    pub save: Option<std::path::PathBuf>,

    /// Report instrumentation problems after each trace, not only when listen stops
    #[arg(long)]
    pub check: bool,

    /// With --check: exit 1 when any problem was found (for CI)
    #[arg(long, requires = "check")]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// OTLP/JSON lines files: one ExportTraceServiceRequest per line
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,

    /// How traces are drawn [default: waterfall when stdout is a terminal, else tree]
    #[arg(long, value_name = "VIEW")]
    pub view: Option<View>,

    /// Waterfall width in columns, at least 40 [default: COLUMNS, else the terminal's width, else 80]
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(1..))]
    pub width: Option<u16>,
}

/// How `listen` draws a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum View {
    /// An indented tree with kinds and key attributes
    Tree,
    /// One line per span with a bar on the trace's time axis
    Waterfall,
}

/// `4MiB`, `512KiB`, `1MB`, or a number of bytes.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: usize = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (try 4MiB)"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1_000_000,
        "mib" | "m" => 1024 * 1024,
        other => return Err(format!("unknown size unit '{other}' (use KiB or MiB)")),
    };
    n.checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{text}' is out of range"))
}

fn check_id(id: &str) -> Result<String, String> {
    match crate::doctor::CHECKS.iter().find(|(i, _, _)| *i == id) {
        Some(_) => Ok(id.to_string()),
        None => Err(format!(
            "unknown check; the checks are: {}",
            crate::doctor::CHECKS
                .iter()
                .map(|(i, _, _)| *i)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder to write the pages into (created if missing)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4MiB"), Ok(4 * 1024 * 1024));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("4GB").is_err());
    }

    #[test]
    fn no_and_yes_flags_override_each_other() {
        let cli = Cli::parse_from(["tracectl", "init", "--no-xray", "--xray"]);
        let Command::Init(args) = cli.command else {
            panic!("init expected")
        };
        assert!(args.xray && !args.no_xray);
    }
}
