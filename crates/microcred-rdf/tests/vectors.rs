//! Official and project test vectors: canonical N-Quads must match byte for byte.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use microcred_rdf::{canonicalize_document, CanonicalOptions, ContextLoader, Error};
use serde_json::Value;

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors")
        .join(p)
}

fn read(p: &str) -> String {
    std::fs::read_to_string(data(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn json(p: &str) -> Value {
    serde_json::from_str(&read(p)).unwrap()
}

fn canon(doc: &Value) -> String {
    let loader = ContextLoader::bundled();
    canonicalize_document(doc, &loader, &CanonicalOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .nquads
}

/// The proof configuration is canonicalized like a document: the proof options with the
/// document's `@context`.
fn proof_config(proof: &Value, doc: &Value) -> Value {
    let mut p = proof.as_object().unwrap().clone();
    p.remove("proofValue");
    p.insert("@context".into(), doc["@context"].clone());
    Value::Object(p)
}

#[test]
fn w3c_vc_di_eddsa_rdfc_2022_document() {
    let doc = json("w3c-vc-di-eddsa/TestVectors/unsigned.json");
    assert_eq!(
        canon(&doc),
        read("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/canonDocDataInt.txt")
    );
}

#[test]
fn w3c_vc_di_eddsa_rdfc_2022_proof_config() {
    let cfg = json("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/proofConfigDataInt.json");
    assert_eq!(
        canon(&cfg),
        read("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/proofCanonDataInt.txt")
    );
}

#[test]
fn w3c_vc_di_eddsa_rdfc_2022_hashes() {
    let loader = ContextLoader::bundled();
    let doc = json("w3c-vc-di-eddsa/TestVectors/unsigned.json");
    let c = canonicalize_document(&doc, &loader, &CanonicalOptions::default()).unwrap();
    let hex: String = c.sha256().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        read("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/docHashDataInt.txt").trim()
    );
    let cfg = json("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/proofConfigDataInt.json");
    let c = canonicalize_document(&cfg, &loader, &CanonicalOptions::default()).unwrap();
    let hex: String = c.sha256().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        read("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/proofHashDataInt.txt").trim()
    );
}

#[test]
fn w3c_vc_di_eddsa_signed_proof_config_from_signed_document() {
    // Rebuild the proof configuration from the signed document, as a verifier does.
    let signed = json("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json");
    let cfg = proof_config(&signed["proof"], &signed);
    assert_eq!(
        canon(&cfg),
        read("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/proofCanonDataInt.txt")
    );
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    assert_eq!(
        canon(&unsigned),
        read("w3c-vc-di-eddsa/TestVectors/eddsa-rdfc-2022/canonDocDataInt.txt")
    );
}

#[test]
fn openbadges_3_0_document_and_proof() {
    let v = json("1edtech-ob/linked-data-proof-ob.extracted.json");
    let doc = &v["unsignedCredential"];
    assert_eq!(canon(doc), read("1edtech-ob/document-canon.txt"));
    let cfg = proof_config(&v["proofOptions"], doc);
    assert_eq!(canon(&cfg), read("1edtech-ob/proof-canon.txt"));
}

#[test]
fn ob30_microcredential_min() {
    let doc = json("obv3-min/unsigned.json");
    assert_eq!(canon(&doc), read("obv3-min/canonDoc-rdfc.nq"));
    let signed = json("obv3-min/signed-eddsa-rdfc-2022.json");
    let cfg = proof_config(&signed["proof"], &signed);
    assert_eq!(canon(&cfg), read("obv3-min/canonProof-rdfc.nq"));
    let hashes = json("obv3-min/hashes.json");
    let loader = ContextLoader::bundled();
    let c = canonicalize_document(&doc, &loader, &CanonicalOptions::default()).unwrap();
    let hex: String = c.sha256().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, hashes["eddsa-rdfc-2022"]["docHash"].as_str().unwrap());
}

const SAMPLES: &[&str] = &[
    "df-101-productivity-tools.json",
    "df-102-digital-content.json",
    "df-103-online-collaboration.json",
    "df-certificate-stacked.json",
    "clr-digital-fluency-pathway.json",
];

/// The samples plus the 1EdTech extensions context, which defines `1EdTechJsonSchemaValidator2019`.
fn with_extensions_context(mut doc: Value) -> Value {
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json".into());
    doc
}

#[test]
fn samples_canonicalize_in_safe_mode() {
    let loader = ContextLoader::bundled();
    for s in SAMPLES {
        let doc = with_extensions_context(json(&format!("samples/{s}")));
        let c = canonicalize_document(&doc, &loader, &CanonicalOptions::default())
            .unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(c.quad_count() > 100, "{s}: only {} quads", c.quad_count());
        assert!(c.nquads.ends_with('\n'));
        assert!(c.nquads.contains(
            "<https://purl.imsglobal.org/spec/vccs/v1p0/context.json#1EdTechJsonSchemaValidator2019>"
        ));
        // Deterministic, and the cached contexts give the same result as a fresh loader.
        let again = canonicalize_document(
            &doc,
            &ContextLoader::bundled(),
            &CanonicalOptions::default(),
        )
        .unwrap();
        assert_eq!(c, again, "{s}");
        // Safe mode changes nothing for a document that passes it.
        let lax = canonicalize_document(
            &doc,
            &loader,
            &CanonicalOptions::default().with_safe_mode(false),
        )
        .unwrap();
        assert_eq!(c, lax, "{s}");
    }
}

#[test]
fn samples_as_shipped_have_one_undefined_type() {
    // The final VC 2.0 context has no @vocab, so the 1EdTech `credentialSchema` type
    // `1EdTechJsonSchemaValidator2019` (not defined by OB 3.0.3 or CLR 2.0.1) expands to a
    // relative IRI and its rdf:type triple is dropped. Safe mode reports exactly that.
    let loader = ContextLoader::bundled();
    for s in SAMPLES {
        let doc = json(&format!("samples/{s}"));
        let err = canonicalize_document(&doc, &loader, &CanonicalOptions::default()).unwrap_err();
        match &err {
            Error::UndefinedTerm { path, term, .. } => {
                assert!(path.ends_with("credentialSchema[0].type"), "{s}: {err}");
                assert_eq!(term, "1EdTechJsonSchemaValidator2019");
            }
            other => panic!("{s}: {other}"),
        }
        assert!(
            err.to_string()
                .contains("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"),
            "{err}"
        );
        // Without safe mode the type is silently dropped, as other JSON-LD processors do.
        let lax = canonicalize_document(
            &doc,
            &loader,
            &CanonicalOptions::default().with_safe_mode(false),
        )
        .unwrap();
        assert!(!lax.nquads.contains("1EdTechJsonSchemaValidator2019"));
        assert!(lax.quad_count() > 100);
    }
}

#[test]
fn unknown_context_names_the_url() {
    let doc: Value = serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://x.example/y"],
        "type": "VerifiableCredential"
    });
    let err = canonicalize_document(
        &doc,
        &ContextLoader::bundled(),
        &CanonicalOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::UnknownContext {
            url: "https://x.example/y".into()
        }
    );
    assert!(err.to_string().contains("https://x.example/y"));
    assert!(err.to_string().contains("--context URL=FILE"));
}

#[test]
fn samples_match_pyld() {
    // Expected output made with pyld 3.3.0 (URDNA2015, which equals RDFC-1.0 for these inputs)
    // and the bundled contexts; see tests/data/SOURCES.md.
    let loader = ContextLoader::bundled();
    let lax = CanonicalOptions::default().with_safe_mode(false);
    for s in SAMPLES {
        let stem = s.trim_end_matches(".json");
        let doc = json(&format!("samples/{s}"));
        let got = canonicalize_document(&doc, &loader, &lax).unwrap().nquads;
        assert_eq!(got, read(&format!("samples-pyld/{stem}.nq")), "{s}");
        let doc = with_extensions_context(doc);
        let got = canonicalize_document(&doc, &loader, &CanonicalOptions::default())
            .unwrap()
            .nquads;
        assert_eq!(
            got,
            read(&format!("samples-pyld/{stem}.ext.nq")),
            "{s} + extensions context"
        );
    }
}

#[test]
fn direction_language_and_escapes_match_jsonld_js() {
    // Expected output from jsonld.js 9.0.0 + rdf-canonize 5.0.0 with rdfDirection
    // "i18n-datatype", as Digital Bazaar's eddsa-rdfc-2022 cryptosuite canonicalizes.
    let doc = json("jsonld-js/direction-language.json");
    assert_eq!(canon(&doc), read("jsonld-js/direction-language.nq"));
    // With rdfDirection null the direction would be lost: safe mode refuses.
    let opts = CanonicalOptions::default().with_rdf_direction(microcred_rdf::RdfDirection::Drop);
    let err = canonicalize_document(&doc, &ContextLoader::bundled(), &opts).unwrap_err();
    assert!(matches!(err, Error::Dropped { .. }), "{err}");
}

#[test]
fn one_loader_shared_by_threads() {
    let loader = std::sync::Arc::new(ContextLoader::bundled());
    let doc = with_extensions_context(json("samples/df-102-digital-content.json"));
    let want = canon(&doc);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let loader = loader.clone();
            let doc = doc.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| {
                        canonicalize_document(&doc, &loader, &CanonicalOptions::default())
                            .unwrap()
                            .nquads
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for got in h.join().unwrap() {
            assert_eq!(got, want);
        }
    }
}
