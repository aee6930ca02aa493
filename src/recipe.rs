//! What the tracing recipe adds to a Flask backend: variables, packages, the daemon or the
//! collector, the snippets.

use crate::cli::XrayVia;
use crate::settings::InitSettings;

/// The Python packages the recipe's instrumentation imports.
pub const OTEL_PACKAGES: &[&str] = &[
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation-flask",
    "opentelemetry-instrumentation-requests",
];
pub const XRAY_PACKAGES: &[&str] = &["aws-xray-sdk"];

/// What `init --instrument code` adds to the app: the SDK, its OTLP/HTTP exporter and the
/// Flask instrumentation (requests' when the app imports requests).
pub const CODE_PACKAGES: &[&str] = &[
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation-flask",
];
/// What `init --instrument zero-code` needs: the agent (`opentelemetry-instrument`, with the
/// distro that configures the SDK from OTEL_* variables), the exporter and the instrumentations.
pub const ZERO_CODE_PACKAGES: &[&str] = &[
    "opentelemetry-distro",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation-flask",
];
pub const REQUESTS_INSTRUMENTATION: &str = "opentelemetry-instrumentation-requests";
/// The zero-code agent's command.
pub const WRAPPER: &str = "opentelemetry-instrument";

/// Whether the backend exports OpenTelemetry spans itself (to Honeycomb or the collector).
pub fn uses_otel(settings: &InitSettings) -> bool {
    settings.honeycomb.is_some() || via_collector(settings)
}

/// Whether the backend runs the X-Ray SDK (daemon mode), which has no zero-code agent.
pub fn uses_xray_sdk(settings: &InitSettings) -> bool {
    settings.xray.is_some() && !via_collector(settings)
}

/// What the zero-code agent reads besides the exporter's endpoint, headers and service name:
/// traces only, over OTLP/HTTP (the agent's default is gRPC).
pub fn zero_code_env() -> Vec<EnvVar> {
    vec![
        var("OTEL_TRACES_EXPORTER", "otlp"),
        var("OTEL_METRICS_EXPORTER", "none"),
        var("OTEL_LOGS_EXPORTER", "none"),
        var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ]
}

/// The health checks the Flask instrumentation leaves out (it reads this in both modes). It
/// searches each entry as a regex in the full URL (query included): each route is escaped and
/// anchored where the path ends, so `/healthcare/...` stays traced.
pub fn excluded_urls_env(health_routes: &[String]) -> Option<EnvVar> {
    (!health_routes.is_empty()).then(|| {
        let entries: Vec<String> = health_routes
            .iter()
            .map(|route| {
                let mut escaped = String::new();
                for c in route.chars() {
                    if "\\.+*?()|[]{}^$".contains(c) {
                        escaped.push('\\');
                    }
                    escaped.push(c);
                }
                // Followed by nothing or the query; no `$`, which Compose would interpolate.
                format!("{escaped}(?![^?])")
            })
            .collect();
        // Compose reads `$` as the start of a variable.
        var(
            "OTEL_PYTHON_FLASK_EXCLUDED_URLS",
            entries.join(",").replace('$', "$$"),
        )
    })
}

pub const DAEMON_SERVICE: &str = "xray-daemon";
pub const DAEMON_IMAGE: &str = "amazon/aws-xray-daemon";
pub const DAEMON_ADDRESS: &str = "xray-daemon:2000";

/// The collector: rotel, configured entirely by `ROTEL_*` variables, so compose holds all of it.
pub const COLLECTOR_SERVICE: &str = "otel-collector";
pub const COLLECTOR_IMAGE: &str = "streamfold/rotel";
/// Where the backend sends OTLP/HTTP in collector mode.
pub const COLLECTOR_ENDPOINT: &str = "http://otel-collector:4318";
/// The daemon's variables for the X-Ray SDK; collector mode has no use for them.
pub const XRAY_SDK_VARS: &[&str] = &["AWS_XRAY_URL", "AWS_XRAY_DAEMON_ADDRESS"];

/// One variable for the backend's environment. Values reference `${VARS}`; never a literal secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
}

fn var(key: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        key: key.to_string(),
        value: value.into(),
    }
}

/// Whether X-Ray goes through the collector.
pub fn via_collector(settings: &InitSettings) -> bool {
    settings
        .xray
        .as_ref()
        .is_some_and(|x| x.via == XrayVia::Collector)
}

/// The Honeycomb headers the OTLP exporter sends, as `${VARS}`.
fn honeycomb_headers(settings: &InitSettings) -> Option<String> {
    let hc = settings.honeycomb.as_ref()?;
    let mut headers = "x-honeycomb-team=${HONEYCOMB_API_KEY}".to_string();
    if hc.dataset.is_some() {
        headers.push_str(",x-honeycomb-dataset=${HONEYCOMB_DATASET}");
    }
    Some(headers)
}

/// The backend's service name: the `.env` variable when Honeycomb writes one, else the name.
fn service_name_value(settings: &InitSettings) -> String {
    match settings.honeycomb {
        Some(_) => "${HONEYCOMB_SERVICE_NAME}".to_string(),
        None => settings.service_name.clone(),
    }
}

pub fn backend_env(settings: &InitSettings) -> Vec<EnvVar> {
    if via_collector(settings) {
        // One exporter, to the collector; Honeycomb's key and AWS credentials stay with it.
        return vec![
            var("OTEL_EXPORTER_OTLP_ENDPOINT", COLLECTOR_ENDPOINT),
            var("OTEL_SERVICE_NAME", service_name_value(settings)),
        ];
    }
    let mut vars = Vec::new();
    if let (Some(hc), Some(headers)) = (&settings.honeycomb, honeycomb_headers(settings)) {
        vars.push(var("OTEL_EXPORTER_OTLP_ENDPOINT", hc.endpoint));
        vars.push(var("OTEL_EXPORTER_OTLP_HEADERS", headers));
        vars.push(var("OTEL_SERVICE_NAME", "${HONEYCOMB_SERVICE_NAME}"));
    }
    if let Some(xray) = &settings.xray {
        vars.push(var("AWS_XRAY_URL", xray.url.clone()));
        vars.push(var("AWS_XRAY_DAEMON_ADDRESS", DAEMON_ADDRESS));
    }
    vars
}

/// The daemon's environment: credentials come from the user's shell, never from a file we write.
/// AWS_SESSION_TOKEN defaults to empty so that long-lived keys work without a warning.
pub fn daemon_env() -> Vec<EnvVar> {
    vec![
        var("AWS_ACCESS_KEY_ID", "${AWS_ACCESS_KEY_ID}"),
        var("AWS_SECRET_ACCESS_KEY", "${AWS_SECRET_ACCESS_KEY}"),
        var("AWS_SESSION_TOKEN", "${AWS_SESSION_TOKEN:-}"),
        var("AWS_REGION", "${AWS_REGION}"),
    ]
}

/// Where the collector's Honeycomb exporter sends, when Honeycomb is chosen (`None`: X-Ray only).
pub struct CollectorHoneycomb {
    /// The base URL, written as `${HONEYCOMB_OTLP_ENDPOINT:-<url>}` so that one variable can
    /// point it elsewhere (a test's loopback server).
    pub endpoint: String,
    /// The `name=value,...` headers, as `${VARS}`.
    pub headers: String,
}

impl CollectorHoneycomb {
    pub fn from_settings(settings: &InitSettings) -> Option<Self> {
        let hc = settings.honeycomb.as_ref()?;
        Some(CollectorHoneycomb {
            endpoint: hc.endpoint.to_string(),
            headers: honeycomb_headers(settings)?,
        })
    }
}

/// The collector's environment. Every upstream address is `${OVERRIDE:-default}`: unset, it is
/// the real one; a test (or a user behind a proxy) points it elsewhere without editing the file.
/// Credentials and region come from the user's shell as for the daemon. The receivers are left to
/// the image's entrypoint (`rotel start --otlp-grpc-endpoint 0.0.0.0:4317 --otlp-http-endpoint
/// 0.0.0.0:4318`), whose flags win over any `ROTEL_OTLP_*_ENDPOINT` variable.
pub fn collector_env(honeycomb: Option<&CollectorHoneycomb>) -> Vec<EnvVar> {
    let mut vars = Vec::new();
    let (exporters, traces) = match honeycomb {
        Some(_) => ("xray:otlp,honeycomb:otlp", "xray,honeycomb"),
        None => ("xray:otlp", "xray"),
    };
    vars.push(var("ROTEL_EXPORTERS", exporters));
    vars.push(var("ROTEL_EXPORTERS_TRACES", traces));
    // rotel signs for the service and region it reads off the host name
    // (xray.<region>.amazonaws.com), so the override must keep that name.
    vars.push(var(
        "ROTEL_EXPORTER_XRAY_ENDPOINT",
        "${XRAY_OTLP_ENDPOINT:-https://xray.${AWS_REGION}.amazonaws.com}",
    ));
    vars.push(var("ROTEL_EXPORTER_XRAY_PROTOCOL", "http"));
    vars.push(var("ROTEL_EXPORTER_XRAY_AUTHENTICATOR", "sigv4auth"));
    if let Some(hc) = honeycomb {
        vars.push(var(
            "ROTEL_EXPORTER_HONEYCOMB_ENDPOINT",
            format!("${{HONEYCOMB_OTLP_ENDPOINT:-{}}}", hc.endpoint),
        ));
        vars.push(var("ROTEL_EXPORTER_HONEYCOMB_PROTOCOL", "http"));
        vars.push(var(
            "ROTEL_EXPORTER_HONEYCOMB_CUSTOM_HEADERS",
            hc.headers.clone(),
        ));
    }
    vars.extend(daemon_env());
    vars
}

/// The image's entrypoint already binds 0.0.0.0:2000; these are extra arguments, one per item:
/// local mode (no EC2 metadata lookup) and the region.
pub const DAEMON_COMMAND: &[&str] = &["-o", "-n", "${AWS_REGION}"];
pub const DAEMON_PORTS: &[&str] = &["2000:2000/udp"];

/// The `.env` entries, in the order they are appended. The key is the only secret.
pub fn dotenv_entries(settings: &InitSettings) -> Vec<(String, String, bool)> {
    let mut entries = Vec::new();
    if let Some(hc) = &settings.honeycomb {
        entries.push((
            "HONEYCOMB_API_KEY".to_string(),
            hc.api_key.expose().to_string(),
            true,
        ));
        if let Some(dataset) = &hc.dataset {
            entries.push(("HONEYCOMB_DATASET".to_string(), dataset.clone(), false));
        }
        entries.push((
            "HONEYCOMB_SERVICE_NAME".to_string(),
            settings.service_name.clone(),
            false,
        ));
    }
    if let Some(xray) = &settings.xray {
        entries.push(("AWS_REGION".to_string(), xray.region.clone(), false));
    }
    entries
}

/// A sampling rule name: letters, digits, '-' and '_', at most 32 characters.
fn rule_name(service: &str) -> String {
    let name: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(32)
        .collect();
    if name.is_empty() {
        "tracectl".to_string()
    } else {
        name
    }
}

/// The recipe's X-Ray sampling rule (`aws xray create-sampling-rule --cli-input-json`).
pub fn sampling_rule(service: &str) -> String {
    // Written by hand to keep the field order of the AWS documentation.
    let service = serde_json::Value::from(service);
    let name = serde_json::Value::from(rule_name(service.as_str().unwrap_or_default()));
    format!(
        r#"{{
  "SamplingRule": {{
    "RuleName": {name},
    "ResourceARN": "*",
    "Priority": 9000,
    "FixedRate": 0.1,
    "ReservoirSize": 5,
    "ServiceName": {service},
    "ServiceType": "*",
    "Host": "*",
    "HTTPMethod": "*",
    "URLPath": "*",
    "Version": 1
  }}
}}
"#
    )
}

/// The lines to add to app.py, as the recipe writes them.
pub fn python_snippet(settings: &InitSettings) -> String {
    let xray_sdk = settings
        .xray
        .as_ref()
        .filter(|_| !via_collector(settings))
        .map(|_| settings.service_name.as_str());
    snippet(
        settings.honeycomb.is_some() || via_collector(settings),
        xray_sdk,
    )
}

/// The OpenTelemetry lines (one OTLP exporter configured by `OTEL_*`) when `otel`, and the X-Ray
/// SDK's for the service named by `xray_sdk`.
pub fn snippet(otel: bool, xray_sdk: Option<&str>) -> String {
    let mut imports = String::new();
    let mut setup = String::new();
    let mut after_app = String::new();
    if otel {
        imports.push_str(
            "from opentelemetry import trace\n\
             from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n\
             from opentelemetry.instrumentation.flask import FlaskInstrumentor\n\
             from opentelemetry.instrumentation.requests import RequestsInstrumentor\n\
             from opentelemetry.sdk.trace import TracerProvider\n\
             from opentelemetry.sdk.trace.export import BatchSpanProcessor\n",
        );
        setup.push_str(
            "provider = TracerProvider()\n\
             provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))\n\
             trace.set_tracer_provider(provider)\n",
        );
        after_app.push_str(
            "FlaskInstrumentor().instrument_app(app)\nRequestsInstrumentor().instrument()\n",
        );
    }
    if let Some(service) = xray_sdk {
        imports.push_str(
            "import os\n\
             from aws_xray_sdk.core import xray_recorder\n\
             from aws_xray_sdk.ext.flask.middleware import XRayMiddleware\n",
        );
        setup.push_str(&format!(
            "xray_recorder.configure(service='{service}', dynamic_naming=os.getenv('AWS_XRAY_URL'))\n"
        ));
        after_app.push_str("XRayMiddleware(app, xray_recorder)\n");
    }
    format!("from flask import Flask\n{imports}\n{setup}\napp = Flask(__name__)\n{after_app}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{HoneycombSettings, XraySettings};

    fn settings(dataset: Option<&str>, xray: bool) -> InitSettings {
        let key = if dataset.is_some() {
            "430eb2f22c137f6ff63980a3a332b4ac"
        } else {
            "uOexnOwfIU3LecPs1cYpLC"
        };
        InitSettings {
            service_name: "backend-flask".to_string(),
            honeycomb: Some(HoneycombSettings {
                api_key: crate::secret::Secret::new(key),
                key: crate::honeycomb::classify(key),
                region: crate::cli::HoneycombRegion::Us,
                endpoint: crate::honeycomb::US_API,
                dataset: dataset.map(str::to_string),
            }),
            xray: xray.then(|| XraySettings {
                region: "eu-west-3".into(),
                url: "*".into(),
                via: XrayVia::Daemon,
            }),
            instrument: crate::cli::Instrument::ZeroCode,
            warnings: vec![],
        }
    }

    #[test]
    fn compose_values_reference_variables_not_secrets() {
        let s = settings(None, true);
        let vars = backend_env(&s);
        let keys: Vec<_> = vars.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "OTEL_EXPORTER_OTLP_HEADERS",
                "OTEL_SERVICE_NAME",
                "AWS_XRAY_URL",
                "AWS_XRAY_DAEMON_ADDRESS"
            ]
        );
        assert!(
            vars.iter()
                .all(|v| !v.value.contains("uOexnOwfIU3LecPs1cYpLC"))
        );
        assert_eq!(vars[1].value, "x-honeycomb-team=${HONEYCOMB_API_KEY}");
    }

    #[test]
    fn classic_keys_send_the_dataset_header() {
        let vars = backend_env(&settings(Some("cruddur"), false));
        assert_eq!(
            vars[1].value,
            "x-honeycomb-team=${HONEYCOMB_API_KEY},x-honeycomb-dataset=${HONEYCOMB_DATASET}"
        );
        let entries = dotenv_entries(&settings(Some("cruddur"), false));
        assert!(
            entries
                .iter()
                .any(|(k, v, _)| k == "HONEYCOMB_DATASET" && v == "cruddur")
        );
    }

    #[test]
    fn sampling_rule_matches_the_recipe() {
        let rule: serde_json::Value =
            serde_json::from_str(&sampling_rule("backend flask")).unwrap();
        let r = &rule["SamplingRule"];
        assert_eq!(r["RuleName"], "backend-flask");
        assert_eq!(r["Priority"], 9000);
        assert_eq!(r["FixedRate"], 0.1);
        assert_eq!(r["ReservoirSize"], 5);
        assert_eq!(r["ServiceName"], "backend flask");
        assert_eq!(r["Version"], 1);
        assert_eq!(rule_name(&"x".repeat(40)).len(), 32);
    }

    #[test]
    fn snippet_has_both_instrumentations() {
        let text = python_snippet(&settings(None, true));
        for needle in [
            "BatchSpanProcessor(OTLPSpanExporter())",
            "FlaskInstrumentor().instrument_app(app)",
            "RequestsInstrumentor().instrument()",
            "XRayMiddleware(app, xray_recorder)",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        assert!(!python_snippet(&settings(None, false)).contains("xray"));
    }
}
