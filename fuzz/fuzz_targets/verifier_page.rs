//! What the verifier page hands the WebAssembly module (`microcred-wasm`'s session, natively):
//! the same bytes as each kind of evidence an employer can add (trust list, DID document, pinned
//! key, bundle, status list, file name), then as the file verified — a credential's JSON, a
//! baked PNG/SVG, a presentation or a CLR — and again as a stacked credential checked with the
//! same bytes as its component and learner. An answer for any input, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcred_wasm::Session;

fuzz_target!(|data: &[u8]| {
    let mut session = Session::default();
    for kind in [1, 2, 3, 4, 5, 9] {
        let _ = session.add(kind, data);
    }
    let (code, result) = session.verify(data, 1.7e12, 0b11);
    assert!(code <= 2);
    assert!(result.get("report").is_some());
    // Components (kind 6) and the learner (kind 7): the stack check.
    for kind in [6, 7] {
        let _ = session.add(kind, data);
    }
    let (code, result) = session.verify(data, 1.7e12, 0);
    assert!(code <= 2);
    assert!(result.get("report").is_some());
});
