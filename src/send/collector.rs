//! The project's collector over OTLP/HTTP: the address the backend exports to, as this machine
//! reaches it (the service's published port), then proof at what the collector exports to.

use std::time::Instant;

use super::{Context, DestinationResult, State};
use crate::cli::Destination;
use crate::error::{Error, Result};
use crate::otlp::config::{Compression, Protocol};
use crate::project::collector::split_url;
use crate::project::model::Model;

/// The host port that publishes `container_port` in one compose `ports:` entry (short syntax:
/// `4318`, `4318:4318`, `127.0.0.1:14318:4318/tcp`, `[::1]:4318:4318`, `4317-4318:4317-4318`;
/// the protocol in any case, as Compose reads it), with the host address when one is bound. A bare
/// container port publishes to a random host port, which cannot be known from the file:
/// `Ok(None)`. A range Compose refuses (reversed, or of another length than its counterpart) is
/// an error saying why.
pub fn published(
    spec: &str,
    container_port: u16,
) -> std::result::Result<Option<(Option<String>, u16)>, String> {
    let spec = spec.trim().trim_matches(['"', '\'']);
    let (spec, protocol) = spec.split_once('/').unwrap_or((spec, "tcp"));
    if !protocol.eq_ignore_ascii_case("tcp") {
        return Ok(None);
    }
    // The container side is after the last ':' outside brackets.
    let Some((host_part, container)) = spec.rsplit_once(':') else {
        return Ok(None);
    };
    let (ip, host) = match host_part.rfind([']', ':']) {
        Some(i) if host_part.as_bytes()[i] == b':' => (
            Some(host_part[..i].trim_matches(['[', ']'])),
            &host_part[i + 1..],
        ),
        Some(_) => return Ok(None),
        None => (None, host_part),
    };
    let range = |text: &str| -> std::result::Result<Option<(u16, u16)>, String> {
        let (lo, hi) = text.split_once('-').unwrap_or((text, text));
        let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) else {
            return Ok(None);
        };
        if lo > hi {
            return Err(format!("the port range {text} is reversed"));
        }
        Ok(Some((lo, hi)))
    };
    let (Some((c_lo, c_hi)), Some((h_lo, h_hi))) = (range(container)?, range(host)?) else {
        return Ok(None);
    };
    if h_hi - h_lo != c_hi - c_lo && c_lo != c_hi {
        return Err(format!(
            "the host range {host} and the container range {container} differ in length"
        ));
    }
    if !(c_lo..=c_hi).contains(&container_port) || h_hi - h_lo != c_hi - c_lo {
        return Ok(None);
    }
    let ip = ip
        .filter(|i| !i.is_empty() && *i != "0.0.0.0" && *i != "::")
        .map(str::to_string);
    Ok(Some((ip, h_lo + (container_port - c_lo))))
}

/// Where send-test reaches the collector: `--endpoint` as given, else the backend's OTLP endpoint
/// with a compose service's host and port replaced by what that service publishes.
pub fn url(model: &Model, endpoint: Option<&str>) -> Result<String> {
    if let Some(e) = endpoint {
        crate::otlp::config::check_endpoint("--endpoint", e)?;
        return Ok(traces_url(e.trim()));
    }
    // The collector is found through the compose file: one that cannot be read is the reason.
    match &model.layout {
        Err(Error::Parse {
            path,
            line,
            column,
            message,
        }) => return Err(Error::parse(path, *line, *column, message.clone())),
        Err(Error::Project { path, message, .. }) => {
            return Err(Error::project(
                path,
                message.clone(),
                "fix the compose file, or pass --endpoint URL".to_string(),
            ));
        }
        _ => {}
    }
    let written = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .find_map(|name| Some((*name, model.backend(name)?)));
    let no_collector = |why: String| {
        Error::usage(
            why,
            "move the project to a collector (`tracectl init --migrate` or `tracectl init --xray-via collector`), or pass --endpoint URL".to_string(),
        )
    };
    let Some((name, value)) = written else {
        return Err(no_collector(
            "the backend sets no OTLP endpoint, so there is no collector to send to".into(),
        ));
    };
    // Interpolated as Compose does: the environment tracectl runs in, then the env file.
    let value =
        crate::project::model::interpolate(&value, |n| model.compose_var(n)).ok_or_else(|| {
            Error::usage(
                format!("the backend's {name} ({value}) uses a variable that is not set"),
                "set it in .env, or pass --endpoint URL".to_string(),
            )
        })?;
    let full = if name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" {
        value.clone()
    } else {
        traces_url(&value)
    };
    let Some((scheme, host, port, path)) = split_url(&full) else {
        return Err(no_collector(format!(
            "the backend's {name} ({value}) is not a URL"
        )));
    };
    // The service the name reaches: its own name, a network alias or its container_name.
    let Some(service) = model
        .layout()
        .and_then(|l| l.compose.service_reached_as(host))
    else {
        return Err(no_collector(format!(
            "the backend exports to {host}, not to a collector service of the compose file"
        )));
    };
    let Some(layout) = model.layout() else {
        return Err(no_collector(format!(
            "the backend exports to {host}, not to a collector service of the compose file"
        )));
    };
    let mut found = None;
    for (spec, line) in layout.compose.port_entries(&service) {
        let Some(spec) = crate::project::model::interpolate(&spec, |n| model.compose_var(n)) else {
            continue;
        };
        match published(&spec, port) {
            Ok(Some(p)) => {
                found = Some(p);
                break;
            }
            Ok(None) => {}
            Err(why) => {
                return Err(Error::parse(
                    layout.compose.path(),
                    line,
                    1,
                    format!(
                        "the '{host}' service's port \"{spec}\" cannot be published: {why} (Docker Compose refuses it too)"
                    ),
                ));
            }
        }
    }
    match found {
        Some((ip, host_port)) => {
            let ip = ip.unwrap_or_else(|| "127.0.0.1".into());
            let ip = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip
            };
            Ok(format!("{scheme}://{ip}:{host_port}{path}"))
        }
        None => Err(Error::usage(
            format!(
                "the collector service '{host}' does not publish port {port}, so this machine cannot reach it"
            ),
            format!(
                "add `ports: [\"{port}:{port}\"]` to the '{host}' service, or pass --endpoint URL"
            ),
        )),
    }
}

fn traces_url(endpoint: &str) -> String {
    if endpoint.trim_end_matches('/').ends_with("/v1/traces") {
        endpoint.to_string()
    } else {
        crate::otlp::config::traces_url(endpoint)
    }
}

/// Send to the collector; with --wait, look for the trace where the collector sends it: X-Ray
/// when an AWS region is configured, Honeycomb when a key is. Arrived only when found in each.
pub async fn send(ctx: &Context<'_>, deadline: Instant) -> DestinationResult {
    let Some(url) = ctx.settings.collector_url.clone() else {
        unreachable!("checked in settings")
    };
    let outcome = ctx
        .send_otlp(
            &url,
            Vec::new(),
            Protocol::HttpProtobuf,
            Compression::None,
            deadline,
        )
        .await;
    let mut result =
        DestinationResult::new(Destination::Collector, url.clone()).with_outcome(&outcome, &url);
    if !result.ok {
        if result.hint.is_none() {
            result.hint = Some(
                "start the collector (docker compose up -d) and check its published port, or pass --endpoint".to_string(),
            );
        }
        return result;
    }
    let Some(wait) = ctx.settings.wait else {
        return result;
    };
    let until = super::after(wait);
    let xray = async {
        ctx.settings.aws_region.as_ref()?;
        let mut r = result.clone();
        match ctx.aws(until).await {
            Ok(aws) => super::xray::wait(&mut r, ctx, aws, until).await,
            Err(f) => {
                r.ok = false;
                r.state = State::Failed;
                r.detail = Some(format!("arrival not checked: {}: {}", f.code, f.message));
            }
        }
        Some(r)
    };
    let honeycomb = async {
        let hc = ctx.settings.honeycomb.as_ref()?;
        let mut r = result.clone();
        super::honeycomb::follow_up(&mut r, hc, ctx, deadline).await;
        Some(r)
    };
    let (xray, honeycomb) = tokio::join!(xray, honeycomb);
    let proofs: Vec<(&str, DestinationResult)> = [("X-Ray", xray), ("Honeycomb", honeycomb)]
        .into_iter()
        .filter_map(|(name, r)| Some((name, r?)))
        .collect();
    combine(result, &proofs)
}

/// One result from the collector's acknowledgement and each backend's proof: arrived only when
/// every backend found it; the worst state otherwise, each backend's detail and hint named.
fn combine(mut sent: DestinationResult, proofs: &[(&str, DestinationResult)]) -> DestinationResult {
    if proofs.is_empty() {
        sent.state = State::Unverified;
        sent.detail = Some(
            "accepted by the collector; no X-Ray region or Honeycomb key is configured to look the trace up"
                .to_string(),
        );
        return sent;
    }
    let rank = |s: State| match s {
        State::Failed => 0,
        State::Unverified => 1,
        _ => 2,
    };
    let worst = proofs
        .iter()
        .map(|(_, r)| r.state)
        .min_by_key(|s| rank(*s))
        .unwrap_or(State::Arrived);
    sent.state = if rank(worst) == 2 {
        State::Arrived
    } else {
        worst
    };
    sent.ok = proofs.iter().all(|(_, r)| r.ok);
    let join = |f: &dyn Fn(&DestinationResult) -> Option<String>| {
        let parts: Vec<String> = proofs
            .iter()
            .filter_map(|(name, r)| f(r).map(|t| format!("{name}: {t}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    };
    sent.detail = join(&|r| r.detail.clone());
    sent.hint = join(&|r| r.hint.clone());
    sent.warning = join(&|r| r.warning.clone());
    sent.link = proofs.iter().find_map(|(_, r)| r.link.clone());
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_in_every_short_form() {
        let some = |ip: Option<&str>, port| Ok(Some((ip.map(str::to_string), port)));
        assert_eq!(published("4318:4318", 4318), some(None, 4318));
        assert_eq!(published("\"14318:4318\"", 4318), some(None, 14318));
        assert_eq!(
            published("127.0.0.1:14318:4318/tcp", 4318),
            some(Some("127.0.0.1"), 14318)
        );
        assert_eq!(published("[::1]:4318:4318", 4318), some(Some("::1"), 4318));
        assert_eq!(published("0.0.0.0:4318:4318", 4318), some(None, 4318));
        assert_eq!(published("4317-4318:4317-4318", 4318), some(None, 4318));
        assert_eq!(published("5317-5318:4317-4318", 4318), some(None, 5318));
        // Not this port, random host port (a bare port, or one of a host range), UDP, nonsense.
        for spec in [
            "4317:4317",
            "4318",
            "4318:4318/udp",
            "14318-14320:4318",
            "a:b",
            "",
        ] {
            assert_eq!(published(spec, 4318), Ok(None), "{spec}");
        }
    }

    #[test]
    fn reversed_ranges_and_upper_case_protocols() {
        assert_eq!(published("14318:4318/TCP", 4318), Ok(Some((None, 14318))));
        assert_eq!(published("14318:4318/Udp", 4318), Ok(None));
        for (spec, named) in [
            ("4319-4318:4317-4318", "4319-4318"),
            ("4318:4319-4317", "4319-4317"),
            ("1-65535:0-65535", "1-65535"),
        ] {
            let err = published(spec, 4318).unwrap_err();
            assert!(err.contains(named), "{spec}: {err}");
        }
    }

    proptest::proptest! {
        /// Any text, and text shaped like a port spec: an answer or an error, never a panic.
        #[test]
        fn published_never_panics(
            any in ".{0,40}",
            spec in "(\\[?[0-9a-f:.]{0,8}\\]?:)?([0-9]{1,6}(-[0-9]{1,6})?:)?[0-9]{1,6}(-[0-9]{1,6})?(/[a-zA-Z]{0,4})?",
            port in proptest::num::u16::ANY,
        ) {
            let _ = published(&any, port);
            let _ = published(&spec, port);
            let _ = published(&spec, 4318);
        }
    }

    #[test]
    fn urls_split_with_default_ports() {
        assert_eq!(
            split_url("http://collector:4318/v1/traces"),
            Some(("http", "collector", 4318, "/v1/traces"))
        );
        assert_eq!(
            split_url("https://collector/v1/traces"),
            Some(("https", "collector", 443, "/v1/traces"))
        );
        assert_eq!(split_url("collector:4318"), None);
    }

    fn proof(state: State, ok: bool, detail: &str) -> DestinationResult {
        let mut r = DestinationResult::new(Destination::Collector, "c".into());
        r.state = state;
        r.ok = ok;
        r.detail = Some(detail.into());
        r
    }

    #[test]
    fn arrived_only_when_every_backend_found_it() {
        let sent = proof(State::Accepted, true, "");
        let both = combine(
            sent.clone(),
            &[
                ("X-Ray", proof(State::Arrived, true, "found")),
                ("Honeycomb", proof(State::Arrived, true, "found")),
            ],
        );
        assert_eq!((both.state, both.ok), (State::Arrived, true));
        let one = combine(
            sent.clone(),
            &[
                ("X-Ray", proof(State::Arrived, true, "found")),
                ("Honeycomb", proof(State::Failed, false, "not found")),
            ],
        );
        assert_eq!((one.state, one.ok), (State::Failed, false));
        assert_eq!(
            one.detail.as_deref(),
            Some("X-Ray: found; Honeycomb: not found")
        );
        let none = combine(sent, &[]);
        assert_eq!((none.state, none.ok), (State::Unverified, true));
    }
}
