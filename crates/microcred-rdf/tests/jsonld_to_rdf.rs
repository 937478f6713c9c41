//! The W3C JSON-LD 1.1 toRdf test suite (w3c/json-ld-api `tests/toRdf-manifest.jsonld`).
//!
//! Runs with safe mode off (the suite exercises silent drops) and with each test's own base IRI.
//! The suite's remote contexts (`toRdf/*.jsonld` files with an `@context`) are added to the loader
//! under their test-suite URLs, so no network is used. Skipped tests and the reasons are listed in
//! `skip_reason` below.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use microcred_rdf::{
    canonicalize, parse_nquads, to_rdf, CanonicalOptions, ContextLoader, Error, RdfDirection,
};
use serde_json::Value;

const BASE: &str = "https://w3c.github.io/json-ld-api/tests/";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/json-ld-api/tests")
}

fn read(p: &str) -> String {
    std::fs::read_to_string(dir().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn loader() -> ContextLoader {
    let mut l = ContextLoader::empty();
    let mut add_dir = |sub: &str| {
        for entry in std::fs::read_dir(dir().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if !name.ends_with(".jsonld") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Files that are not context documents are simply not registered.
            let _ = l.add(&format!("{BASE}{sub}/{name}"), &text);
        }
    };
    add_dir("toRdf");
    add_dir("toRdf/c031");
    l
}

/// Why a test is not run, or `None` to run it.
fn skip_reason(e: &Value) -> Option<&'static str> {
    let opt = &e["option"];
    if opt["specVersion"] == "json-ld-1.0" || opt["processingMode"] == "json-ld-1.0" {
        return Some("JSON-LD 1.0 processing mode (only 1.1 is implemented)");
    }
    if opt["produceGeneralizedRdf"] == true {
        return Some("generalized RDF (blank-node predicates) is not produced");
    }
    if !opt["expandContext"].is_null() {
        return Some("expandContext option is not offered");
    }
    if let Some(reason) = KNOWN
        .iter()
        .find(|(id, _)| e["@id"] == *id)
        .map(|(_, r)| *r)
    {
        return Some(reason);
    }
    None
}

/// Individually skipped tests.
const KNOWN: &[(&str, &str)] = &[(
    "#ter05",
    "a remote document without @context is rejected when it is added to the loader \
     (Error::InvalidContextDocument from ContextLoader::add), so it cannot be loaded later",
)];

/// JSON-LD error codes this crate reports under another name.
fn same_code(want: &str, err: &Error) -> bool {
    match err {
        Error::JsonLd { code, .. } => *code == want,
        Error::UnknownContext { .. } | Error::InvalidContextDocument { .. } => {
            matches!(
                want,
                "loading remote context failed" | "loading document failed"
            )
        }
        _ => false,
    }
}

#[test]
fn to_rdf_manifest() {
    let manifest: Value = serde_json::from_str(&read("toRdf-manifest.jsonld")).unwrap();
    let loader = loader();
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), Vec::new());
    for e in manifest["sequence"].as_array().unwrap() {
        let id = e["@id"].as_str().unwrap();
        if let Some(r) = skip_reason(e) {
            skipped.push(format!("{id} ({}): {r}", e["name"].as_str().unwrap_or("")));
            continue;
        }
        let input_name = e["input"].as_str().unwrap();
        let input: Value = serde_json::from_str(&read(input_name)).unwrap();
        let base = e["option"]["base"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{BASE}{input_name}"));
        let dir = match e["option"]["rdfDirection"].as_str() {
            Some("i18n-datatype") => RdfDirection::I18nDatatype,
            Some("compound-literal") => RdfDirection::CompoundLiteral,
            _ => RdfDirection::Drop,
        };
        let opts = CanonicalOptions::default()
            .with_rdf_direction(dir)
            .with_safe_mode(false)
            .with_base_iri(&base)
            .unwrap();
        let types: Vec<&str> = e["@type"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let result = to_rdf(&input, &loader, &opts).and_then(|ds| canonicalize(&ds));
        if types.contains(&"jld:NegativeEvaluationTest") {
            let want = e["expectErrorCode"].as_str().unwrap();
            match result {
                Err(err) if same_code(want, &err) => passed += 1,
                Err(err) => failed.push(format!("{id}: want error \"{want}\", got {err}")),
                Ok(got) => failed.push(format!("{id}: want error \"{want}\", got output\n{got}")),
            }
        } else if types.contains(&"jld:PositiveSyntaxTest") {
            match result {
                Ok(_) => passed += 1,
                Err(err) => failed.push(format!("{id}: {err}")),
            }
        } else {
            let expect = read(e["expect"].as_str().unwrap());
            let want =
                canonicalize(&parse_nquads(&expect).unwrap_or_else(|err| panic!("{id}: {err}")))
                    .unwrap();
            match result {
                Ok(got) if got == want => passed += 1,
                Ok(got) => failed.push(format!(
                    "{id} ({}):\n--- got\n{got}--- want\n{want}",
                    e["name"]
                )),
                Err(err) => failed.push(format!("{id} ({}): {err}", e["name"])),
            }
        }
    }
    println!(
        "JSON-LD toRdf: {passed} passed, {} failed, {} skipped",
        failed.len(),
        skipped.len()
    );
    for s in &skipped {
        println!("  skipped {s}");
    }
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}
