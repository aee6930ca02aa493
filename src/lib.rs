//! tracectl as a library: `main.rs` parses the command line and runs it; the fuzz targets reach
//! the decoders of untrusted input through [`fuzzing`].

mod aws;
pub mod cli;
mod commands;
mod doctor;
mod error;
mod honeycomb;
mod init;
mod listen;
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
mod xray;

pub use commands::run;
pub use error::{Error, ExitStatus};
pub use output::Printer;

/// The decoders `listen` runs on bytes from the network, for fuzz targets.
pub mod fuzzing {
    pub use crate::listen::decode::{decode_otlp, decode_xray};

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
        ]
    }
}
