//! N-Quads parsing and RDFC-1.0 on arbitrary datasets (blank-node graphs the JSON-LD path
//! rarely builds): canonical output or a "too complex" error, never a panic or a hang; the
//! canonical form is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcred_rdf::{canonicalize, parse_nquads};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ds) = parse_nquads(text) else {
        return;
    };
    if let Ok(canon) = canonicalize(&ds) {
        if let Ok(again) = parse_nquads(&canon) {
            if let Ok(twice) = canonicalize(&again) {
                assert_eq!(canon, twice, "canonical N-Quads are not a fixed point");
            }
        }
    }
});
