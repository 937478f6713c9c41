//! Bitstring Status List decoding: an `encodedList` string (multibase base64url of GZIP) and a
//! whole status list credential; errors, never a panic or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcred_core::{Bitstring, StatusListCredential};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(list) = Bitstring::decode(text) {
            let _ = list.get(0);
            let _ = list.count_set();
            let again = Bitstring::decode(&list.encode());
            assert!(again.is_ok_and(|l| l.as_bytes() == list.as_bytes()));
        }
    }
    let _ = StatusListCredential::from_bytes(data);
});
