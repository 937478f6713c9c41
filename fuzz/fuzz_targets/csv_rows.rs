//! Batch-issuance CSV as the service reads it (header row, `result:NAME` columns, dates,
//! credits, evidence URLs): rows or a refusal, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((good, bad)) = microcred_service::fuzzing::batch_csv(data) {
        assert!(good + bad <= 1000, "more rows than the batch limit");
    }
});
