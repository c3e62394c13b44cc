//! Any bytes through the manifest reader and validation (`fox validate`): no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fox_operator::fuzz_targets::read_manifest_bytes(data);
});
