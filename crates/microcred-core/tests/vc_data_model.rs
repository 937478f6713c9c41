//! The W3C VC Data Model 2.0 test suite's credential inputs (`tests/input/credential-*.json`,
//! data copied from w3c/vc-data-model-2.0-test-suite; see `vectors/SOURCES.md`): an issuer
//! must refuse each `-fail` input and accept each `-ok` one. microcred's issuers refuse what
//! `lint` reports as an error, so: no error for `-ok`, at least one for `-fail`.
//!
//! The suite's issuer client fills in `issuer` (with the issuer's id) when the input has none,
//! and its `PAST DATE`/`FUTURE DATE` placeholders; so does this test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use microcred_core::lint;
use serde_json::Value;

const DIR: &str = "tests/vectors/w3c-vc-data-model-2.0-test-suite/tests/input";

#[test]
fn w3c_vc_data_model_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 50,
        "{} inputs in {}",
        files.len(),
        dir.display()
    );
    let mut wrong = Vec::new();
    let (mut ok, mut fail) = (0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        // As the suite's issuer client does: fill in the issuer's id, and its placeholder dates.
        if let Value::Object(o) = &mut doc {
            if let Value::Object(issuer) = o
                .entry("issuer")
                .or_insert_with(|| "did:example:issuer".into())
            {
                issuer
                    .entry("id")
                    .or_insert_with(|| "did:example:issuer".into());
            }
            for (_, v) in o.iter_mut() {
                match v.as_str() {
                    Some("PAST DATE") => *v = "2020-01-01T00:00:00Z".into(),
                    Some("FUTURE DATE") => *v = "2040-01-01T00:00:00Z".into(),
                    _ => {}
                }
            }
        }
        let errors: Vec<String> = lint(&doc)
            .errors()
            .map(|f| format!("{} {}", f.rule, f.message))
            .collect();
        if name.ends_with("-ok.json") {
            ok += 1;
            if !errors.is_empty() {
                wrong.push(format!("{name}: should be accepted, but: {errors:?}"));
            }
        } else if name.ends_with("-fail.json") {
            fail += 1;
            if errors.is_empty() {
                wrong.push(format!(
                    "{name}: should be refused, but lint finds no error"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} inputs ({ok} ok, {fail} fail):\n{}",
        wrong.len(),
        files.len(),
        wrong.join("\n")
    );
}
