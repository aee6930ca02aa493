//! Spans from any bytes (decoded OTLP bodies, or made-up spans with colliding ids, parent loops
//! and control characters) go through the collector and the tree renderer: every span must be
//! drawn exactly once, nothing a terminal acts on may come out, and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tracectl::fuzzing::collector(data);
});
