//! Any datagram must decode to spans or be counted as bad, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tracectl::fuzzing::decode_xray(data);
});
