//! Is the instrumentation any good? Concrete problems in what arrived, each with what to change.
//! Pure: resource facts are observed as requests arrive, traces are checked as they are shown.

use std::collections::{BTreeMap, HashMap, HashSet};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use serde::Serialize;

use super::ReceivedSpan;
use super::render::escape;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable id: `unknown-service`, `no-service-version`, `orphan-span`, `client-root`,
    /// `legacy-semconv`, `instance-restart`, `xray-no-subsegments`.
    pub check: &'static str,
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    pub message: String,
    pub fix: String,
}

impl Finding {
    /// What makes two findings the same one, reported once: the same problem in the same
    /// service (a problem in the code repeats in every trace; once is enough to fix it).
    fn key(&self) -> String {
        match self.check {
            // Orphans of differently named spans may have different causes.
            "orphan-span" | "client-root" => {
                let name = self.message.split(" which ").next().unwrap_or("");
                let name = name.split(" name parent ").next().unwrap_or(name);
                format!("{}\0{}\0{name}", self.check, self.service)
            }
            _ => format!("{}\0{}", self.check, self.service),
        }
    }
}

/// Legacy semantic-convention names and the stable names that replaced them.
const RENAMED: &[(&str, &str)] = &[
    ("http.method", "http.request.method"),
    ("http.status_code", "http.response.status_code"),
    ("http.url", "url.full"),
    ("http.target", "url.path"),
    ("http.scheme", "url.scheme"),
    ("http.user_agent", "user_agent.original"),
    ("http.client_ip", "client.address"),
    ("net.peer.name", "server.address"),
    ("net.peer.port", "server.port"),
    ("net.host.name", "server.address"),
    ("net.host.port", "server.port"),
    ("db.statement", "db.query.text"),
    ("db.operation", "db.operation.name"),
    ("db.name", "db.namespace"),
];

/// Services remembered; past this, new services are not followed (their traces still are).
const MAX_SERVICES: usize = 1000;
/// Instances remembered per service.
const MAX_INSTANCES: usize = 16;
/// A new instance this soon after the last span of the previous one is a restart.
const RESTART_WITHIN_SECS: f64 = 60.0;
/// Findings remembered to report each once; past this, repeats may be reported again.
const MAX_REPORTED: usize = 10_000;

#[derive(Debug, Default)]
struct Instance {
    first_seen: f64,
    last_seen: f64,
}

#[derive(Debug, Default)]
struct ServiceFacts {
    /// Whether any resource of the service carried service.version (`None`: not OTLP, unknown).
    version: Option<bool>,
    instances: BTreeMap<String, Instance>,
}

#[derive(Debug, Default)]
pub struct Checker {
    services: HashMap<String, ServiceFacts>,
    reported: HashSet<String>,
}

fn string_attr<'a>(
    attributes: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

impl Checker {
    /// Record what the resources of one OTLP request say, at `now` (seconds, any epoch).
    pub fn observe(&mut self, request: &ExportTraceServiceRequest, now: f64) {
        for resource_spans in &request.resource_spans {
            let attributes = resource_spans
                .resource
                .as_ref()
                .map(|r| r.attributes.as_slice())
                .unwrap_or_default();
            let name = string_attr(attributes, "service.name").unwrap_or("unknown_service");
            // Nothing is copied for a service or instance already known: every request but the
            // first of each takes this path.
            let short;
            let service = if name.len() <= super::decode::MAX_SERVICE_BYTES {
                name
            } else {
                short = super::decode::short_service(name);
                short.as_str()
            };
            if !self.services.contains_key(service) {
                if self.services.len() >= MAX_SERVICES {
                    continue;
                }
                self.services
                    .insert(service.to_string(), ServiceFacts::default());
            }
            let Some(facts) = self.services.get_mut(service) else {
                continue;
            };
            let has_version =
                string_attr(attributes, "service.version").is_some_and(|v| !v.is_empty());
            facts.version = Some(facts.version.unwrap_or(false) || has_version);
            if let Some(id) = string_attr(attributes, "service.instance.id") {
                let id = id.char_indices().nth(128).map_or(id, |(end, _)| &id[..end]);
                if !facts.instances.contains_key(id) {
                    if facts.instances.len() >= MAX_INSTANCES {
                        continue;
                    }
                    let instance = Instance {
                        first_seen: now,
                        last_seen: now,
                    };
                    facts.instances.insert(id.to_string(), instance);
                }
                let Some(instance) = facts.instances.get_mut(id) else {
                    continue;
                };
                instance.last_seen = instance.last_seen.max(now);
            }
        }
    }

    /// Findings about services (names, versions, restarts) as things stand.
    pub fn service_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut services: Vec<_> = self.services.iter().collect();
        services.sort_by(|a, b| a.0.cmp(b.0));
        for (service, facts) in services {
            let shown = escape(service, 256);
            if service == "unknown_service" || service.starts_with("unknown_service:") {
                out.push(Finding {
                    check: "unknown-service",
                    service: service.clone(),
                    trace_id: None,
                    span_id: None,
                    message: format!("spans arrive as {shown}: the app never named its service"),
                    fix: "set OTEL_SERVICE_NAME=<your service> in the app's environment (or service.name in OTEL_RESOURCE_ATTRIBUTES)".to_string(),
                });
            } else if facts.version == Some(false) {
                out.push(Finding {
                    check: "no-service-version",
                    service: service.clone(),
                    trace_id: None,
                    span_id: None,
                    message: format!("{shown} sends no service.version: traces from before and after a deploy cannot be told apart"),
                    fix: "set OTEL_RESOURCE_ATTRIBUTES=service.version=<release or git sha> in the app's environment".to_string(),
                });
            }
            // A new instance that starts as the previous one stops, within seconds: the process
            // restarted. Instances that overlap (workers, replicas) are not restarts.
            let mut instances: Vec<(&String, &Instance)> = facts.instances.iter().collect();
            instances.sort_by(|a, b| a.1.first_seen.total_cmp(&b.1.first_seen));
            let restarts = instances
                .windows(2)
                .filter(|w| {
                    let (old, new) = (w[0].1, w[1].1);
                    new.first_seen >= old.last_seen
                        && new.first_seen - old.last_seen <= RESTART_WITHIN_SECS
                })
                .count();
            if restarts > 0 {
                out.push(Finding {
                    check: "instance-restart",
                    service: service.clone(),
                    trace_id: None,
                    span_id: None,
                    message: format!(
                        "{shown} came from {} processes one after another (service.instance.id changed {restarts} time(s) within {RESTART_WITHIN_SECS} s): the app restarts, as the Flask debug reloader does on every change",
                        instances.len()
                    ),
                    fix: "run Flask without the reloader (app.run(debug=True, use_reloader=False), or flask run --no-reload): the reloader runs the app in a child process, restarted on each change, and spans of a request cut by a restart are lost".to_string(),
                });
            }
        }
        out
    }

    /// Keep only findings not reported before, and remember them.
    pub fn fresh(&mut self, findings: Vec<Finding>) -> Vec<Finding> {
        if self.reported.len() >= MAX_REPORTED {
            self.reported.clear();
        }
        findings
            .into_iter()
            .filter(|f| self.reported.insert(f.key()))
            .collect()
    }
}

/// Findings about one trace's spans: orphans, a CLIENT root, legacy names beside stable ones,
/// X-Ray segments with no subsegments.
pub fn check_trace(spans: &[ReceivedSpan]) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(first) = spans.first() else {
        return out;
    };
    let trace_id = first.trace_id.clone();
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    // Orphans: a parent that never arrived; one finding per missing parent.
    let mut missing: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        if let Some(parent) = span.parent_id.as_deref()
            && !ids.contains(parent)
        {
            missing.entry(parent).or_default().push(span);
        }
    }
    for (parent, children) in missing {
        let child = children[0];
        let names: Vec<String> = children
            .iter()
            .take(3)
            .map(|s| escape(&s.name, 80))
            .collect();
        out.push(Finding {
            check: "orphan-span",
            service: child.service.clone(),
            trace_id: Some(trace_id.clone()),
            span_id: Some(child.span_id.clone()),
            message: format!(
                "{} span(s) ({}) name parent {} which never arrived",
                children.len(),
                names.join(", "),
                escape(parent, 32)
            ),
            fix: "end every span you start (a span never ended is never exported: use `with tracer.start_as_current_span(...)`), shut the provider down on exit (provider.shutdown() flushes the batch), and check that the caller's service exports to the same place".to_string(),
        });
    }
    // A CLIENT span with no parent: an outgoing call with no request span around it.
    for span in spans
        .iter()
        .filter(|s| s.parent_id.is_none() && s.kind == "client")
    {
        if span.source == "xray" {
            continue;
        }
        out.push(Finding {
            check: "client-root",
            service: span.service.clone(),
            trace_id: Some(trace_id.clone()),
            span_id: Some(span.span_id.clone()),
            message: format!(
                "the outgoing call {} starts its own trace: no SERVER span around it",
                escape(&span.name, 80)
            ),
            fix: "instrument the inbound side so calls hang under the request that made them: FlaskInstrumentor().instrument_app(app), or run the app under opentelemetry-instrument; for work outside requests (jobs, scripts), wrap it in a span of your own".to_string(),
        });
    }
    // Legacy names beside their stable replacements, within one service's spans of the trace.
    let mut by_service: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for span in spans.iter().filter(|s| s.source != "xray") {
        let keys = by_service.entry(span.service.as_str()).or_default();
        keys.extend(span.attributes.keys().map(String::as_str));
    }
    for (service, keys) in by_service {
        let pairs: Vec<String> = RENAMED
            .iter()
            .filter(|(old, new)| keys.contains(old) && keys.contains(new))
            .map(|(old, new)| format!("{old} beside {new}"))
            .collect();
        if !pairs.is_empty() {
            out.push(Finding {
                check: "legacy-semconv",
                service: service.to_string(),
                trace_id: Some(trace_id.clone()),
                span_id: None,
                message: format!(
                    "legacy and stable attribute names mixed ({}): queries and dashboards on either name miss the other half",
                    pairs.join(", ")
                ),
                fix: "use the stable names everywhere: set OTEL_SEMCONV_STABILITY_OPT_IN=http,database so instrumentations emit them, and rename attributes set by hand (http.method -> http.request.method, db.statement -> db.query.text)".to_string(),
            });
        }
    }
    // X-Ray segments with nothing inside.
    let parents: HashSet<&str> = spans
        .iter()
        .filter_map(|s| s.parent_id.as_deref())
        .collect();
    for span in spans.iter().filter(|s| {
        s.source == "xray" && s.parent_id.is_none() && !parents.contains(s.span_id.as_str())
    }) {
        out.push(Finding {
            check: "xray-no-subsegments",
            service: span.service.clone(),
            trace_id: Some(trace_id.clone()),
            span_id: Some(span.span_id.clone()),
            message: format!(
                "the segment {} has no subsegments: nothing inside the request is traced",
                escape(&span.name, 80)
            ),
            fix: "patch the libraries the app calls (from aws_xray_sdk.core import patch_all; patch_all()) and wrap your own functions with @xray_recorder.capture()".to_string(),
        });
    }
    out
}

/// Findings for a person: what is wrong, then what to change.
pub fn human(findings: &[Finding]) -> String {
    use colored::Colorize;
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{} {}  {}: {}\n  {} {}\n",
            "⚠".yellow().bold(),
            f.check.yellow(),
            escape(&f.service, 256),
            f.message,
            "fix:".cyan(),
            f.fix
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, kind: &'static str) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: "t".repeat(32),
            span_id: id.to_string(),
            parent_id: parent.map(str::to_string),
            service: "shop".into(),
            name: format!("span {id}"),
            kind,
            start_unix_nano: 1,
            end_unix_nano: 2,
            error: false,
            status_message: None,
            attributes: serde_json::Map::new(),
            source: "otlp",
        }
    }

    fn ids(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.check).collect()
    }

    #[test]
    fn a_whole_server_trace_has_no_findings() {
        let mut root = span("a", None, "server");
        root.attributes.insert("http.method".into(), "GET".into());
        let mut child = span("b", Some("a"), "client");
        child
            .attributes
            .insert("http.url".into(), "http://x".into());
        assert!(check_trace(&[root, child]).is_empty());
    }

    #[test]
    fn orphans_client_roots_and_mixed_names_are_found() {
        let orphan = span("b", Some("gone"), "internal");
        let other = span("c", Some("gone"), "internal");
        let client = span("d", None, "client");
        let mut mixed = span("e", Some("d"), "internal");
        mixed.attributes.insert("http.method".into(), "GET".into());
        mixed
            .attributes
            .insert("db.statement".into(), "SELECT 1".into());
        let mut stable = span("f", Some("d"), "internal");
        stable
            .attributes
            .insert("http.request.method".into(), "GET".into());
        let findings = check_trace(&[orphan, other, client, mixed, stable]);
        assert_eq!(
            ids(&findings),
            ["orphan-span", "client-root", "legacy-semconv"]
        );
        assert!(
            findings[0].message.starts_with("2 span(s)"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[2]
                .message
                .contains("http.method beside http.request.method")
        );
        assert!(!findings[2].message.contains("db.statement"));
        assert!(findings.iter().all(|f| !f.fix.is_empty()));
    }

    #[test]
    fn xray_segments_alone_are_found_and_with_subsegments_not() {
        let mut lonely = span("a", None, "server");
        lonely.source = "xray";
        assert_eq!(
            ids(&check_trace(std::slice::from_ref(&lonely))),
            ["xray-no-subsegments"]
        );
        let mut sub = span("b", Some("a"), "client");
        sub.source = "xray";
        assert!(check_trace(&[lonely, sub]).is_empty());
    }

    fn request(
        service: Option<&str>,
        version: Option<&str>,
        instance: &str,
    ) -> ExportTraceServiceRequest {
        let mut attributes = Vec::new();
        let mut kv = |k: &str, v: &str| {
            attributes.push(serde_json::json!({"key": k, "value": {"stringValue": v}}));
        };
        if let Some(s) = service {
            kv("service.name", s);
        }
        if let Some(v) = version {
            kv("service.version", v);
        }
        kv("service.instance.id", instance);
        serde_json::from_value(
            serde_json::json!({"resourceSpans": [{"resource": {"attributes": attributes}}]}),
        )
        .unwrap()
    }

    #[test]
    fn services_without_name_or_version_and_restarts_are_found_once() {
        let mut checker = Checker::default();
        checker.observe(&request(None, None, "1"), 0.0);
        checker.observe(&request(Some("web"), Some("1.0"), "a"), 0.0);
        checker.observe(&request(Some("api"), None, "x"), 0.0);
        let found = checker.service_findings();
        assert_eq!(ids(&found), ["no-service-version", "unknown-service"]);
        assert_eq!(found[0].service, "api");
        assert_eq!(checker.fresh(found.clone()).len(), 2);
        assert!(checker.fresh(found).is_empty(), "each reported once");
        // web restarts: a new instance as the old one stops.
        checker.observe(&request(Some("web"), Some("1.0"), "a"), 5.0);
        checker.observe(&request(Some("web"), Some("1.0"), "b"), 7.0);
        assert_eq!(
            ids(&checker.service_findings()),
            ["no-service-version", "unknown-service", "instance-restart"]
        );
    }

    #[test]
    fn overlapping_instances_are_workers_not_restarts() {
        let mut checker = Checker::default();
        for t in 0..10 {
            for worker in ["w1", "w2", "w3"] {
                checker.observe(&request(Some("web"), Some("1"), worker), f64::from(t));
            }
        }
        assert!(checker.service_findings().is_empty());
        // Far apart in time: a deploy, not a reloader.
        let mut checker = Checker::default();
        checker.observe(&request(Some("web"), Some("1"), "old"), 0.0);
        checker.observe(&request(Some("web"), Some("1"), "new"), 3600.0);
        assert!(checker.service_findings().is_empty());
    }
}
