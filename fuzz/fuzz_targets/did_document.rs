//! DID documents and standalone verification methods as a verifier receives them: any bytes
//! give keys or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcred_core::KeyRing;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = microcred_core::parse_strict(data) else {
        return;
    };
    let mut ring = KeyRing::new();
    if let Ok(methods) = ring.add_controller_document(&doc) {
        for m in methods {
            let _ = ring.resolve(&m.id);
        }
    }
    let _ = KeyRing::new().add_method(&doc);
    if let Some(id) = doc.get("id").and_then(|v| v.as_str()) {
        let _ = ring.resolve(id);
    }
});
