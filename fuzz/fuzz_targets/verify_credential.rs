//! Whole verification of received bytes (strict parse, proofs, JSON-LD, RDFC, JCS, keys,
//! status, dates): a report for any input, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcred_core::{KeyRing, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = microcred_core::parse_strict(data) else {
        return;
    };
    let ring = KeyRing::new();
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let report = microcred_core::verify_value(&doc, &VerifyOptions::new(at, &ring));
    let _ = report.verdict;
});
