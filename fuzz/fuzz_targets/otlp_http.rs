//! Any body, with any of the content types and encodings `listen` accepts, must decode or be
//! refused, never panic or allocate past the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = if selector & 1 == 0 {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    let encoding = if selector & 2 == 0 {
        None
    } else {
        Some("gzip")
    };
    let _ = tracectl::fuzzing::decode_otlp(content_type, encoding, body, 1 << 20);
});
