//! The strict JSON parser every verification and request body goes through: any bytes give a
//! value or an error, never a panic; a value it accepts serializes and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = microcred_core::parse_strict(data) {
        let text = serde_json::to_vec(&value).unwrap_or_default();
        let again = microcred_core::parse_strict(&text);
        assert!(
            again.is_ok_and(|v| v == value),
            "strict JSON does not round-trip"
        );
    }
});
