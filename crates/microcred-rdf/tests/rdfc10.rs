//! The W3C RDF Dataset Canonicalization (RDFC-1.0) test suite (w3c/rdf-canon `tests/`).
//!
//! Every evaluation and map test runs (SHA-256, and SHA-384 where the manifest asks for it).
//! The negative (poison) test must fail with `Error::TooComplex` quickly.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use microcred_rdf::{
    canonicalize, canonicalize_with_hash, canonicalize_with_map, parse_nquads, Error, HashAlgorithm,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/rdf-canon/tests")
}

fn read(p: &str) -> String {
    std::fs::read_to_string(dir().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn rdfc10_manifest() {
    let manifest: Value = serde_json::from_str(&read("manifest.jsonld")).unwrap();
    let mut passed = 0;
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    for e in manifest["entries"].as_array().unwrap() {
        let id = e["id"].as_str().unwrap();
        let ty = e["type"].as_str().unwrap();
        let alg = match e.get("hashAlgorithm").and_then(Value::as_str) {
            None | Some("SHA256") => HashAlgorithm::Sha256,
            Some("SHA384") => HashAlgorithm::Sha384,
            Some(other) => {
                skipped.push(format!("{id}: hash algorithm {other} not offered"));
                continue;
            }
        };
        let input = read(e["action"].as_str().unwrap());
        let ds = parse_nquads(&input).unwrap_or_else(|err| panic!("{id}: {err}"));
        match ty {
            "rdfc:RDFC10EvalTest" => {
                let want = read(e["result"].as_str().unwrap());
                match canonicalize_with_hash(&ds, alg) {
                    Ok(got) if got == want => passed += 1,
                    Ok(got) => failed.push(format!("{id}:\n--- got\n{got}--- want\n{want}")),
                    Err(err) => failed.push(format!("{id}: {err}")),
                }
            }
            "rdfc:RDFC10MapTest" => {
                let want: BTreeMap<String, String> =
                    serde_json::from_str(&read(e["result"].as_str().unwrap())).unwrap();
                match canonicalize_with_map(&ds, alg) {
                    Ok((_, got)) if got == want => passed += 1,
                    Ok((_, got)) => failed.push(format!("{id}: map {got:?} != {want:?}")),
                    Err(err) => failed.push(format!("{id}: {err}")),
                }
            }
            "rdfc:RDFC10NegativeEvalTest" => {
                let start = Instant::now();
                match canonicalize(&ds) {
                    Err(Error::TooComplex { .. }) if start.elapsed() < Duration::from_secs(20) => {
                        passed += 1
                    }
                    other => {
                        failed.push(format!("{id}: expected TooComplex quickly, got {other:?}"))
                    }
                }
            }
            other => skipped.push(format!("{id}: unknown test type {other}")),
        }
    }
    println!("RDFC-1.0: {passed} passed, {} skipped", skipped.len());
    for s in &skipped {
        println!("  skipped {s}");
    }
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert_eq!(passed, 86);
    assert!(skipped.is_empty());
}

#[test]
fn relabelling_input_blank_nodes_changes_nothing() {
    let input = read("rdfc10/test020-in.nq");
    let want = canonicalize(&parse_nquads(&input).unwrap()).unwrap();
    let relabelled = input.replace("_:e", "_:zz");
    assert_eq!(
        canonicalize(&parse_nquads(&relabelled).unwrap()).unwrap(),
        want
    );
}

#[test]
fn nquads_syntax_errors_name_the_line() {
    let err = parse_nquads("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> \"x .\n").unwrap_err();
    assert!(matches!(err, Error::NQuadsSyntax { line: 2, .. }), "{err}");
    assert!(
        parse_nquads("<a> <urn:b> <urn:c> .").is_err(),
        "relative IRI"
    );
    assert!(
        parse_nquads("\"lit\" <urn:b> <urn:c> .").is_err(),
        "literal subject"
    );
}

#[test]
fn work_limit_stops_a_blank_node_clique() {
    // Every blank node linked to every other: exponential N-degree hashing without a limit.
    let mut text = String::new();
    for a in 0..12 {
        for b in 0..12 {
            if a != b {
                text.push_str(&format!("_:n{a} <urn:ex:p> _:n{b} .\n"));
            }
        }
    }
    let ds = parse_nquads(&text).unwrap();
    let start = Instant::now();
    let err = canonicalize(&ds).unwrap_err();
    assert!(matches!(err, Error::TooComplex { .. }), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}
