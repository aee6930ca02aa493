//! The collector service the backend exports to, as its compose environment configures it: where
//! it receives OTLP and where it sends traces. rotel's `ROTEL_*` variables are read; a collector
//! configured another way (a config file) is named but not looked into.

/// One variable of the collector's environment: its name, as written, and as Compose interpolates
/// it (`None`: it names a variable that is not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub var: String,
    pub written: String,
    pub resolved: Option<String>,
}

impl Value {
    /// The interpolated value, else the written one (for matching host names and words).
    pub fn text(&self) -> &str {
        self.resolved.as_deref().unwrap_or(&self.written)
    }
}

/// An OTLP receiver: the address it binds inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    pub var: &'static str,
    /// The address as resolved (or rotel's default when the variable is absent).
    pub address: String,
    pub port: Option<u16>,
    /// Bound to a loopback address: nothing outside the container reaches it.
    pub loopback: bool,
}

/// One exporter that the collector sends traces through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exporter {
    /// The name in `ROTEL_EXPORTERS` (`None`: the single `ROTEL_EXPORTER`).
    pub name: Option<String>,
    pub kind: String,
    pub endpoint: Option<Value>,
    pub protocol: Option<Value>,
    pub authenticator: Option<Value>,
    pub headers: Option<Value>,
    /// The `aws-xray` exporter's region.
    pub region: Option<Value>,
}

impl Exporter {
    /// The endpoint's host: from the resolved value, lower-cased, when there is one; else as
    /// written (a `${VAR}` kept as it is).
    pub fn host(&self) -> Option<String> {
        let endpoint = self.endpoint.as_ref()?;
        let url = endpoint.text();
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next()?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        };
        Some(match endpoint.resolved {
            Some(_) => host.to_ascii_lowercase(),
            None => host.to_string(),
        })
    }

    /// The AWS region of an X-Ray destination: `xray.<region>.amazonaws.com`, or the region of
    /// rotel's `aws-xray` exporter. `None`: this exporter does not send to X-Ray.
    pub fn xray_region(&self) -> Option<String> {
        if self.kind == "aws-xray" {
            return Some(
                self.region
                    .as_ref()
                    .map(|r| r.text().to_string())
                    .unwrap_or_default(),
            );
        }
        let endpoint = self.endpoint.as_ref()?;
        if endpoint.resolved.is_none() {
            // `https://xray.${AWS_REGION}.amazonaws.com` with the region not set here: X-Ray,
            // in a region only the shell running Compose knows.
            let w = &endpoint.written;
            return (w.contains("://xray.") && w.contains(".amazonaws.com")).then(String::new);
        }
        let host = self.host()?;
        let region = host.strip_prefix("xray.")?.strip_suffix(".amazonaws.com")?;
        Some(region.to_string())
    }

    pub fn sends_to_xray(&self) -> bool {
        self.xray_region().is_some()
    }

    pub fn sends_to_honeycomb(&self) -> bool {
        self.host()
            .is_some_and(|h| h == "honeycomb.io" || h.ends_with(".honeycomb.io"))
    }

    /// The variable an option of this exporter is read from, for messages.
    pub fn var(&self, option: &str) -> String {
        match &self.name {
            Some(name) => format!("ROTEL_EXPORTER_{}_{option}", name.to_ascii_uppercase()),
            None if self.kind == "aws-xray" => format!("ROTEL_XRAY_EXPORTER_{option}"),
            None => format!("ROTEL_OTLP_EXPORTER_{option}"),
        }
    }
}

/// `scheme://host:port/path` split, the port defaulted by scheme.
pub fn split_url(url: &str) -> Option<(&str, &str, u16, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, p.parse().ok()?)
        }
        _ => (authority, if scheme == "https" { 443 } else { 80 }),
    };
    Some((scheme, host, port, path))
}

/// Where the backend sends OTLP, when that is a service of the compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The variable that names it (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `..._ENDPOINT`).
    pub var: String,
    /// The URL as the container sees it.
    pub url: String,
    pub scheme: String,
    pub port: u16,
    /// `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` as the backend sets it.
    pub protocol: Option<String>,
    /// The path the backend's exporter posts traces to.
    pub path: String,
}

/// The collector as its environment configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collector {
    pub service: String,
    pub image: Option<String>,
    /// Configured by `ROTEL_*` variables or rotel's image: the fields below were read. Otherwise
    /// they are rotel's defaults and say nothing of this collector.
    pub rotel: bool,
    pub http: Receiver,
    pub grpc: Receiver,
    /// `ROTEL_OTLP_RECEIVER_TRACES_DISABLED` is true.
    pub traces_disabled: bool,
    /// Where the OTLP/HTTP receiver takes traces (`ROTEL_OTLP_RECEIVER_TRACES_HTTP_PATH`).
    pub traces_path: String,
    /// `ROTEL_EXPORTERS` declares exporters but `ROTEL_EXPORTERS_TRACES` names none: rotel
    /// starts no trace pipeline (it refuses to start).
    pub traces_unnamed: bool,
    /// The exporters traces go through.
    pub exporters: Vec<Exporter>,
    /// Names in `ROTEL_EXPORTERS_TRACES` that `ROTEL_EXPORTERS` does not declare.
    pub undeclared: Vec<String>,
    /// The AWS variables the container receives.
    pub aws: Vec<Value>,
}

const DEFAULT_HTTP: &str = "localhost:4318";
const DEFAULT_GRPC: &str = "localhost:4317";

/// A receiver's address: the variable's, else rotel's default; or, `from_image`, what the image's
/// entrypoint binds (all interfaces, the default's port).
fn receiver(var: &'static str, value: Option<&Value>, default: &str, from_image: bool) -> Receiver {
    let address = match (from_image, value) {
        (true, _) => default.replacen("localhost", "0.0.0.0", 1),
        (false, Some(v)) => v.text().to_string(),
        (false, None) => default.to_string(),
    };
    let (host, port) = match address.rsplit_once(':') {
        Some((h, p)) => (h.trim_matches(['[', ']']), p.parse().ok()),
        None => (address.as_str(), None),
    };
    let loopback = matches!(host, "localhost" | "::1") || host.starts_with("127.");
    Receiver {
        var,
        port,
        loopback,
        address,
    }
}

impl Collector {
    /// Read a collector service from its image and environment (as written); `lookup` gives the
    /// variables Compose interpolates from (the shell, then `.env`).
    pub fn read(
        service: &str,
        image: Option<String>,
        own_entrypoint: bool,
        env: &[(String, Option<String>)],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Collector {
        let get = |name: &str| -> Option<Value> {
            let (_, written) = env.iter().rev().find(|(k, _)| k == name)?;
            let written = written
                .clone()
                .unwrap_or_else(|| lookup(name).unwrap_or_default());
            let resolved = super::model::interpolate(&written, &lookup);
            Some(Value {
                var: name.to_string(),
                written,
                resolved,
            })
        };
        let rotel_image = image.as_deref().is_some_and(|i| i.contains("rotel"));
        let rotel = rotel_image || env.iter().any(|(k, _)| k.starts_with("ROTEL_"));
        // rotel's image starts it with both receivers on 0.0.0.0 by flags, which win over the
        // environment; only a compose `entrypoint:` of its own changes that.
        let image_receivers = rotel_image && !own_entrypoint;
        let bound = |var: &'static str, default: &str| match image_receivers {
            true => receiver(var, None, default, true),
            false => receiver(var, get(var).as_ref(), default, false),
        };
        let truthy = |v: Option<Value>| {
            v.is_some_and(|v| matches!(v.text().trim().to_ascii_lowercase().as_str(), "true" | "1"))
        };
        let mut exporters = Vec::new();
        let mut undeclared = Vec::new();
        let mut traces_unnamed = false;
        match get("ROTEL_EXPORTERS") {
            Some(declared) => {
                let declared: Vec<(String, String)> = declared
                    .text()
                    .split(',')
                    .filter_map(|item| {
                        let (name, kind) = item.trim().split_once(':')?;
                        Some((name.trim().to_string(), kind.trim().to_string()))
                    })
                    .collect();
                // Declared exporters carry nothing until a pipeline names them.
                let traces: Vec<String> = get("ROTEL_EXPORTERS_TRACES")
                    .map(|v| {
                        v.text()
                            .split(',')
                            .map(|n| n.trim().to_string())
                            .filter(|n| !n.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                traces_unnamed = traces.is_empty();
                for name in traces {
                    let Some((_, kind)) = declared.iter().find(|(n, _)| *n == name) else {
                        undeclared.push(name);
                        continue;
                    };
                    let option =
                        |o: &str| get(&format!("ROTEL_EXPORTER_{}_{o}", name.to_ascii_uppercase()));
                    exporters.push(Exporter {
                        kind: kind.clone(),
                        endpoint: option("ENDPOINT").or_else(|| option("CUSTOM_ENDPOINT")),
                        protocol: option("PROTOCOL"),
                        authenticator: option("AUTHENTICATOR"),
                        headers: option("CUSTOM_HEADERS"),
                        region: option("REGION"),
                        name: Some(name),
                    });
                }
            }
            None if rotel => {
                let kind = get("ROTEL_EXPORTER")
                    .map(|v| v.text().trim().to_string())
                    .unwrap_or_else(|| "otlp".to_string());
                let exporter = if kind == "aws-xray" {
                    Exporter {
                        endpoint: get("ROTEL_XRAY_EXPORTER_CUSTOM_ENDPOINT"),
                        protocol: None,
                        authenticator: None,
                        headers: None,
                        region: get("ROTEL_XRAY_EXPORTER_REGION"),
                        name: None,
                        kind,
                    }
                } else {
                    let option = |o: &str| {
                        get(&format!("ROTEL_OTLP_EXPORTER_TRACES_{o}"))
                            .or_else(|| get(&format!("ROTEL_OTLP_EXPORTER_{o}")))
                    };
                    Exporter {
                        endpoint: option("ENDPOINT"),
                        protocol: option("PROTOCOL"),
                        authenticator: get("ROTEL_OTLP_EXPORTER_AUTHENTICATOR"),
                        headers: option("CUSTOM_HEADERS"),
                        region: None,
                        name: None,
                        kind,
                    }
                };
                exporters.push(exporter);
            }
            None => {}
        }
        let aws = [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ]
        .iter()
        .filter_map(|n| get(n))
        .collect();
        Collector {
            service: service.to_string(),
            image,
            rotel,
            http: bound("ROTEL_OTLP_HTTP_ENDPOINT", DEFAULT_HTTP),
            grpc: bound("ROTEL_OTLP_GRPC_ENDPOINT", DEFAULT_GRPC),
            traces_disabled: truthy(get("ROTEL_OTLP_RECEIVER_TRACES_DISABLED")),
            traces_path: get("ROTEL_OTLP_RECEIVER_TRACES_HTTP_PATH")
                .map(|v| v.text().trim().to_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "/v1/traces".to_string()),
            traces_unnamed,
            exporters,
            undeclared,
            aws,
        }
    }

    /// The AWS variable the container receives, when it has one.
    pub fn aws(&self, name: &str) -> Option<&Value> {
        self.aws.iter().find(|v| v.var == name)
    }

    /// The exporter that sends to X-Ray, if any.
    pub fn xray(&self) -> Option<&Exporter> {
        self.exporters.iter().find(|e| e.sends_to_xray())
    }

    pub fn sends_to_honeycomb(&self) -> bool {
        self.exporters.iter().any(Exporter::sends_to_honeycomb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect()
    }

    fn written() -> Vec<(String, Option<String>)> {
        recipe::collector_env(None)
            .into_iter()
            .map(|v| (v.key, Some(v.value)))
            .collect()
    }

    fn region(name: &str) -> Option<String> {
        (name == "AWS_REGION").then(|| "eu-west-3".to_string())
    }

    #[test]
    fn what_init_writes_reads_back_as_one_signed_xray_exporter() {
        let c = Collector::read(
            "otel-collector",
            Some(recipe::COLLECTOR_IMAGE.into()),
            false,
            &written(),
            region,
        );
        assert!(c.rotel);
        assert_eq!(c.http.port, Some(4318));
        assert!(!c.http.loopback);
        assert_eq!(c.grpc.port, Some(4317));
        assert_eq!(c.exporters.len(), 1);
        let x = c.xray().expect("an X-Ray exporter");
        assert_eq!(x.name.as_deref(), Some("xray"));
        assert_eq!(x.xray_region().as_deref(), Some("eu-west-3"));
        assert_eq!(x.protocol.as_ref().map(Value::text), Some("http"));
        assert_eq!(x.authenticator.as_ref().map(Value::text), Some("sigv4auth"));
        assert_eq!(x.var("ENDPOINT"), "ROTEL_EXPORTER_XRAY_ENDPOINT");
        assert!(c.aws("AWS_ACCESS_KEY_ID").is_some());
        assert!(!c.sends_to_honeycomb());
        assert!(c.undeclared.is_empty());
    }

    #[test]
    fn an_unset_region_leaves_the_endpoint_unresolved_but_still_xray() {
        let c = Collector::read("otel-collector", None, false, &written(), |_| None);
        let x = &c.exporters[0];
        assert_eq!(x.endpoint.as_ref().unwrap().resolved, None);
        // The written text still names X-Ray; the region is not known here.
        assert_eq!(x.xray_region().as_deref(), Some(""));
    }

    #[test]
    fn the_single_exporter_form_and_aws_xray_exporter() {
        let c = Collector::read(
            "c",
            Some("streamfold/rotel:v0.1".into()),
            true,
            &env(&[
                ("ROTEL_OTLP_EXPORTER_ENDPOINT", "https://api.honeycomb.io"),
                (
                    "ROTEL_OTLP_EXPORTER_CUSTOM_HEADERS",
                    "x-honeycomb-team=${K}",
                ),
            ]),
            |_| None,
        );
        assert_eq!(c.exporters[0].kind, "otlp");
        assert!(c.sends_to_honeycomb());
        assert!(c.xray().is_none());
        assert_eq!(c.http.address, DEFAULT_HTTP);
        assert!(
            c.http.loopback,
            "rotel binds localhost by default when compose replaces the entrypoint"
        );
        let c = Collector::read(
            "c",
            None,
            false,
            &env(&[
                ("ROTEL_EXPORTER", "aws-xray"),
                ("ROTEL_XRAY_EXPORTER_REGION", "us-east-2"),
            ]),
            |_| None,
        );
        assert_eq!(
            c.xray().unwrap().xray_region().as_deref(),
            Some("us-east-2")
        );
        assert_eq!(
            c.xray().unwrap().var("REGION"),
            "ROTEL_XRAY_EXPORTER_REGION"
        );
    }

    #[test]
    fn fan_out_undeclared_names_and_receiver_settings() {
        let c = Collector::read(
            "c",
            None,
            false,
            &env(&[
                ("ROTEL_EXPORTERS", "xray:otlp, hc:otlp ,junk"),
                ("ROTEL_EXPORTERS_TRACES", "xray,hc,missing"),
                (
                    "ROTEL_EXPORTER_XRAY_ENDPOINT",
                    "https://XRAY.us-west-2.amazonaws.com:443/",
                ),
                ("ROTEL_EXPORTER_HC_ENDPOINT", "https://api.eu1.honeycomb.io"),
                ("ROTEL_OTLP_HTTP_ENDPOINT", "127.0.0.1:9999"),
                ("ROTEL_OTLP_RECEIVER_TRACES_DISABLED", "True"),
                ("ROTEL_OTLP_RECEIVER_TRACES_HTTP_PATH", "/traces"),
            ]),
            |_| None,
        );
        assert_eq!(c.exporters.len(), 2);
        assert_eq!(c.undeclared, ["missing"]);
        assert_eq!(
            c.xray().unwrap().xray_region().as_deref(),
            Some("us-west-2")
        );
        assert!(c.sends_to_honeycomb());
        assert!(c.http.loopback);
        assert_eq!(c.http.port, Some(9999));
        assert!(c.traces_disabled);
        assert_eq!(c.traces_path, "/traces");
    }

    #[test]
    fn the_images_entrypoint_binds_the_receivers_whatever_the_environment_says() {
        let vars = env(&[("ROTEL_OTLP_HTTP_ENDPOINT", "127.0.0.1:4319")]);
        let c = Collector::read(
            "c",
            Some("streamfold/rotel:latest".into()),
            false,
            &vars,
            |_| None,
        );
        assert_eq!(c.http.address, "0.0.0.0:4318");
        assert_eq!(c.grpc.address, "0.0.0.0:4317");
        assert!(!c.http.loopback);
        let c = Collector::read("c", Some("streamfold/rotel".into()), true, &vars, |_| None);
        assert_eq!(c.http.address, "127.0.0.1:4319");
        assert!(c.http.loopback);
    }

    #[test]
    fn another_collector_is_named_not_read() {
        let c = Collector::read(
            "otel",
            Some("otel/opentelemetry-collector-contrib".into()),
            false,
            &env(&[("AWS_REGION", "eu-west-1")]),
            |_| None,
        );
        assert!(!c.rotel);
        assert!(c.exporters.is_empty());
    }
}
