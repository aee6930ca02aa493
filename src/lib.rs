//! tracectl as a library: `main.rs` parses the command line and runs it; the fuzz targets reach
//! the decoders, the collector and the renderer of untrusted input through [`fuzzing`].

mod aws;
mod build_info;
pub mod cli;
mod commands;
mod doctor;
mod error;
mod honeycomb;
mod init;
mod otlp;
mod output;
mod project;
mod prompt;
mod recipe;
mod secret;
mod send;
mod settings;
#[cfg(test)]
mod test_support;
mod tls;
mod xray;

use tracectl_listen as listen;

pub use commands::run;
pub use error::{Error, ExitStatus};
pub use output::Printer;

/// Pure functions the integration tests hold against the real program they imitate.
pub mod judged {
    /// An env file's values as Compose reads them (its dotenv rules, `${VAR}` interpolated).
    pub use crate::project::dotenv::resolved as env_file;
    /// Compose's `${VAR}` interpolation, as the project model reads compose values.
    pub use crate::project::model::interpolate;
}

/// What `listen` runs on bytes from the network, for fuzz targets.
pub mod fuzzing {
    use crate::listen::ReceivedSpan;
    pub use crate::listen::decode::{decode_otlp, decode_xray};
    use crate::listen::server::{Collector, Mode};

    /// Characters a hostile client would send, for the spans [`collector`] builds: C1 controls,
    /// bidi overrides and isolates, zero-width and line-separator characters, and harmless ones.
    const ODD_CHARS: &[char] = &[
        '\u{9b}',
        '\u{85}',
        '\u{202e}',
        '\u{2066}',
        '\u{200b}',
        '\u{feff}',
        '\u{2028}',
        'é',
        '✓',
        '日',
        '\u{1F600}',
        '\\',
    ];

    fn odd_text(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| {
                if *b < 0x80 {
                    char::from(*b)
                } else {
                    ODD_CHARS[usize::from(*b) % ODD_CHARS.len()]
                }
            })
            .collect()
    }

    /// Spans from bytes, 6 per span, over a small id space so that duplicate ids, parent cycles
    /// and missing parents are common: trace, id, parent, start, and two bytes of name. A zero
    /// first byte ends a request.
    fn synthetic_requests(data: &[u8]) -> Vec<Vec<ReceivedSpan>> {
        let mut requests = vec![Vec::new()];
        for chunk in data.chunks(6) {
            let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
            if byte(0) == 0 {
                requests.push(Vec::new());
                continue;
            }
            let parent = match byte(2) % 18 {
                16 => None,
                17 => Some("missing".to_string()),
                p => Some(format!("{p:x}")),
            };
            requests.last_mut().into_iter().for_each(|r| {
                r.push(ReceivedSpan {
                    trace_id: format!("{:032x}", byte(0) % 4),
                    span_id: format!("{:x}", byte(1) % 16),
                    parent_id: parent.clone(),
                    service: odd_text(&[byte(0) >> 4]),
                    name: odd_text(&chunk[chunk.len().min(4)..]),
                    kind: "internal",
                    start_unix_nano: u64::from(byte(3)),
                    end_unix_nano: u64::from(byte(3)) + 1000,
                    error: byte(0) & 0x80 != 0,
                    status_message: Some(odd_text(&[byte(1), byte(2)])),
                    attributes: serde_json::Map::from_iter([(
                        "http.route".to_string(),
                        serde_json::Value::String(odd_text(chunk)),
                    )]),
                    source: "otlp",
                })
            });
        }
        requests
    }

    /// Feed spans through the collector in tree mode (ingest, flush, render) and check what it
    /// shows: every span drawn exactly once, no character a terminal would act on. The first
    /// byte picks the source: bit 0 set decodes the rest as an OTLP body (bit 1: JSON), else
    /// [`synthetic_requests`]; bit 2 flushes between requests.
    pub fn collector(data: &[u8]) {
        colored::control::set_override(false);
        let Some((&selector, rest)) = data.split_first() else {
            return;
        };
        let requests = if selector & 1 == 1 {
            let content_type = if selector & 2 == 0 {
                "application/x-protobuf"
            } else {
                "application/json"
            };
            match decode_otlp(content_type, None, rest, 1 << 20) {
                Ok((spans, _)) => vec![spans],
                Err(_) => return,
            }
        } else {
            synthetic_requests(rest)
        };
        let collector = Collector::capturing(Mode::Trees {
            flush_after: std::time::Duration::ZERO,
        });
        let mut total = 0;
        for spans in requests {
            total += spans.len();
            collector.accept(spans);
            if selector & 4 != 0 {
                collector.flush(false);
            }
        }
        collector.flush(true);
        let shown = String::from_utf8(collector.take_output()).expect("trees are UTF-8");
        if let Some(c) = shown.chars().find(|c| *c != '\n' && c.is_control()) {
            panic!("{c:?} reached the terminal: {shown:?}");
        }
        let drawn = shown
            .lines()
            .filter(|l| !l.starts_with('●') && !l.is_empty())
            .count();
        assert_eq!(drawn, total, "every span drawn once: {shown}");
    }

    /// Starting inputs: (target, file name, bytes). The OTLP target's first byte picks the
    /// content type (bit 0: JSON) and gzip (bit 1).
    pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
        use crate::otlp::config::Protocol;
        use crate::otlp::send::{encode, gzip};
        let spec = crate::otlp::trace::TraceSpec {
            service_name: "backend-flask".into(),
            span_name: None,
            attributes: vec![("deploy".into(), "blue".into())],
            resource_attributes: vec![],
        };
        let mut n = 1u64;
        let trace = crate::otlp::trace::SyntheticTrace::build(
            &spec,
            std::time::SystemTime::now(),
            &mut || {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                n
            },
        );
        let request = trace.to_request();
        let with = |selector: u8, body: Vec<u8>| [vec![selector], body].concat();
        let protobuf = encode(&request, Protocol::HttpProtobuf);
        let json = encode(&request, Protocol::HttpJson);
        let datagram = crate::xray::daemon::datagram(&crate::xray::segment::document(&trace))
            .unwrap_or_default();
        vec![
            ("otlp_http", "protobuf", with(0, protobuf.clone())),
            ("otlp_http", "json", with(1, json.clone())),
            ("otlp_http", "protobuf-gzip", with(2, gzip(&protobuf))),
            ("otlp_http", "json-gzip", with(3, gzip(&json))),
            ("xray_udp", "segment", datagram),
            ("collector", "protobuf", with(1, protobuf)),
            ("collector", "json", with(3, json)),
            // Two ids used twice with crossing parents, a self-parent, and a loop of three.
            (
                "collector",
                "cycles",
                with(
                    4,
                    [
                        [1u8, 1, 16, 0, b'r', b'o'],
                        [1, 2, 1, 1, 0x1b, b'['],
                        [1, 2, 1, 2, 0x9b, b'2'],
                        [1, 1, 2, 3, 0x07, 0xa2],
                        [1, 2, 2, 4, b's', b'e'],
                        [0, 0, 0, 0, 0, 0],
                        [2, 3, 5, 9, b'a', b'b'],
                        [2, 4, 3, 8, b'c', b'd'],
                        [2, 5, 4, 7, b'e', b'f'],
                        [3, 6, 17, 1, b'o', b'r'],
                    ]
                    .concat(),
                ),
            ),
        ]
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_collector_seeds_pass_its_checks() {
            let seeds: Vec<_> = super::seeds()
                .into_iter()
                .filter(|(target, _, _)| *target == "collector")
                .collect();
            assert_eq!(seeds.len(), 3);
            for (_, _, bytes) in seeds {
                super::collector(&bytes);
            }
        }

        proptest::proptest! {
            #[test]
            fn any_bytes_pass_the_collector_checks(
                data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)
            ) {
                super::collector(&data);
            }
        }
    }
}
