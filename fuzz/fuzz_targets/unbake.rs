//! Unbaking PNG (chunk reader: lengths, CRC-32, sizes) and SVG (scanner that never reads a
//! DTD or expands an entity): any bytes give the baked text or an error, never a panic; what
//! is unbaked bakes back into the same image format and unbakes to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(found) = microcred_badge::unbake(data) {
        if let Ok(again) = microcred_badge::bake(data, &found.text) {
            let twice = microcred_badge::unbake(&again);
            assert!(
                twice.is_ok_and(|t| t.text == found.text),
                "bake(unbake(x)) loses the text"
            );
        }
    }
});
