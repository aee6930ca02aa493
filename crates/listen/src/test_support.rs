//! Helpers shared by unit tests.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

// No environment guard as tracectl's tests have (tests/support/hermetic.rs): the receiver reads
// no environment variable, and a file outside this crate would be missing from its package.

/// `bytes` gzipped, as a client compresses a body.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The export `tracectl send-test` sends (captured as OTLP/JSON with `--service-name api`): a
/// server span, its handler and a database client span.
pub struct Trace(ExportTraceServiceRequest);

pub fn trace() -> Trace {
    Trace(serde_json::from_str(include_str!("testdata/export.json")).unwrap())
}

impl Trace {
    pub fn to_request(&self) -> ExportTraceServiceRequest {
        self.0.clone()
    }
}
