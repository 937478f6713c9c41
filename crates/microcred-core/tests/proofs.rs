//! Proof-level behaviour beyond the published vectors: legacy Ed25519Signature2020 proofs,
//! proof sets mixing suites, proof chains, and eddsa-rdfc-2022's JSON-LD safe mode.

// Test helpers (outside #[test] functions) may unwrap and panic too: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use microcred_core::{
    hash_data, sign, sign_with_contexts, verify, verify_value, CheckKind, ContextLoader,
    Cryptosuite, IssuerKey, JsonLdError, KeyRing, Outcome, ProofError, Report, Verdict,
    VerifyOptions, OB_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT,
};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

use common::{ed25519_sign, outcomes, z_base58};

const CREATED: OffsetDateTime = datetime!(2025-03-01 08:00 UTC);
const AT: OffsetDateTime = datetime!(2025-06-01 12:00 UTC);
const SEED: [u8; 32] = [11u8; 32];

fn key() -> IssuerKey {
    IssuerKey::from_seed(&SEED).unwrap()
}

fn reasons(report: &Report, kind: CheckKind) -> Vec<&str> {
    report
        .checks
        .iter()
        .filter(|c| c.check == kind)
        .map(|c| c.reason.as_str())
        .collect()
}

fn check(doc: &Value) -> Report {
    let keys = KeyRing::new();
    verify(
        &serde_json::to_vec(doc).unwrap(),
        &VerifyOptions::new(AT, &keys),
    )
}

/// A small OB 3.0 credential issued by `key()` (only terms the contexts define).
fn ob_credential() -> Value {
    json!({
        "@context": [VC_V2_CONTEXT, OB_CONTEXT],
        "id": "urn:uuid:2b0f4b8e-6a53-4c51-9d6e-0f1c2e3d4a5b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction à la statistique",
        "issuer": {"id": key().controller(), "type": ["Profile"], "name": "Hochschule Süd"},
        "validFrom": "2025-02-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-7",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://hs-sued.example/achievements/stat-101",
                "type": ["Achievement"],
                "name": "Introduction à la statistique",
                "description": "Descriptive statistics — 統計学入門.",
                "criteria": {"narrative": "Passed the exam."}
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// legacy Ed25519Signature2020 (verify only)

/// A VC 1.1 credential with an Ed25519Signature2020 proof by `key()`, made the way
/// jsonld-signatures makes one: the proof options (type, created, verificationMethod,
/// proofPurpose) with the document's `@context`, URDNA2015 (= RDFC-1.0) canonical N-Quads,
/// SHA-256 of each, options ‖ document, Ed25519, base58btc multibase. `hash_data` with
/// eddsa-rdfc-2022 is exactly that hashing.
fn legacy_signed() -> Value {
    let key = key();
    let doc = json!({
        "@context": [VC_V1_CONTEXT, "https://w3id.org/security/suites/ed25519-2020/v1"],
        "id": "urn:uuid:8a3c1f52-1d7e-4b2a-9c61-5e0f7d2b9a13",
        "type": ["VerifiableCredential"],
        "issuer": key.controller(),
        "issuanceDate": "2024-09-01T10:00:00Z",
        "expirationDate": "2029-09-01T10:00:00Z",
        "credentialSubject": {"id": "did:example:alumna-3"}
    });
    let config = json!({
        "type": "Ed25519Signature2020",
        "created": "2024-09-01T10:00:05Z",
        "verificationMethod": key.id(),
        "proofPurpose": "assertionMethod"
    });
    let data = hash_data(
        Cryptosuite::EddsaRdfc2022,
        doc.as_object().unwrap(),
        config.as_object().unwrap(),
    )
    .unwrap();
    // The proof options were interpreted with the document's context (security terms).
    let canon_config = String::from_utf8(data.canonical_config.clone()).unwrap();
    assert!(
        canon_config.contains("<https://w3id.org/security#Ed25519Signature2020>"),
        "{canon_config}"
    );
    let mut proof = config;
    proof["proofValue"] = z_base58(&ed25519_sign(&SEED, &data.hash)).into();
    let mut signed = doc;
    signed["proof"] = proof;
    signed
}

#[test]
fn legacy_ed25519_signature_2020_verifies() {
    let signed = legacy_signed();
    let report = check(&signed);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(
        reasons(&report, CheckKind::Proof)[0].contains("Ed25519Signature2020"),
        "{report:#?}"
    );
    assert!(
        reasons(&report, CheckKind::WellFormed)[0].contains("VC 1.1"),
        "{report:#?}"
    );
    // VC 1.1 dates are the ones checked.
    let keys = KeyRing::new();
    let bytes = serde_json::to_vec(&signed).unwrap();
    let early = verify(
        &bytes,
        &VerifyOptions::new(datetime!(2024-08-31 00:00 UTC), &keys),
    );
    assert_eq!(
        outcomes(&early, CheckKind::Validity),
        [Outcome::Fail],
        "{early:#?}"
    );
    let late = verify(
        &bytes,
        &VerifyOptions::new(datetime!(2030-01-01 00:00 UTC), &keys),
    );
    assert_eq!(
        outcomes(&late, CheckKind::Validity),
        [Outcome::Fail],
        "{late:#?}"
    );
}

/// One named change to a document.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn legacy_ed25519_signature_2020_tampered_is_invalid() {
    let signed = legacy_signed();
    let changes: Vec<(&str, Change)> = vec![
        (
            "credentialSubject.id",
            Box::new(|d| d["credentialSubject"]["id"] = "did:example:alumna-4".into()),
        ),
        (
            "issuanceDate",
            Box::new(|d| d["issuanceDate"] = "2024-09-01T10:00:01Z".into()),
        ),
        (
            "id",
            Box::new(|d| d["id"] = "urn:uuid:8a3c1f52-1d7e-4b2a-9c61-5e0f7d2b9a14".into()),
        ),
        (
            "proof.created",
            Box::new(|d| d["proof"]["created"] = "2024-09-01T10:00:06Z".into()),
        ),
        (
            "proof.proofPurpose",
            Box::new(|d| d["proof"]["proofPurpose"] = "authentication".into()),
        ),
        (
            "proof.proofValue",
            Box::new(|d| {
                let pv = d["proof"]["proofValue"].as_str().unwrap();
                let flipped = if pv.ends_with('A') { "B" } else { "A" };
                d["proof"]["proofValue"] = format!("{}{flipped}", &pv[..pv.len() - 1]).into();
            }),
        ),
        (
            "proof relabelled as eddsa-rdfc-2022",
            Box::new(|d| {
                d["proof"]["type"] = "DataIntegrityProof".into();
                d["proof"]["cryptosuite"] = "eddsa-rdfc-2022".into();
            }),
        ),
    ];
    for (what, change) in &changes {
        let mut doc = signed.clone();
        change(&mut doc);
        let report = check(&doc);
        assert_eq!(report.verdict, Verdict::Invalid, "{what}: {report:#?}");
        assert_ne!(
            outcomes(&report, CheckKind::Signature),
            [Outcome::Pass],
            "{what}: {report:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// proof sets

/// Signed with eddsa-rdfc-2022, then the result with eddsa-jcs-2022: a proof set of two.
fn proof_set() -> Value {
    let once = sign(
        &ob_credential(),
        &key(),
        Cryptosuite::EddsaRdfc2022,
        CREATED,
    )
    .unwrap();
    sign(&once, &key(), Cryptosuite::EddsaJcs2022, CREATED).unwrap()
}

#[test]
fn proof_set_rdfc_then_jcs_is_valid() {
    let set = proof_set();
    let proofs = set["proof"].as_array().unwrap();
    assert_eq!(proofs.len(), 2);
    assert_eq!(proofs[0]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(proofs[1]["cryptosuite"], "eddsa-jcs-2022");
    // Each proof signs the document without any proof: the rdfc proof is the one that
    // signing alone makes.
    let alone = sign(
        &ob_credential(),
        &key(),
        Cryptosuite::EddsaRdfc2022,
        CREATED,
    )
    .unwrap();
    assert_eq!(proofs[0], alone["proof"]);
    let report = check(&set);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::Proof),
        [Outcome::Pass, Outcome::Pass]
    );
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass, Outcome::Pass]
    );
    assert_eq!(
        outcomes(&report, CheckKind::IssuerKey),
        [Outcome::Pass, Outcome::Pass]
    );
    let suites = reasons(&report, CheckKind::Proof);
    assert!(suites[0].starts_with("proof 1 of the set") && suites[0].contains("eddsa-rdfc-2022"));
    assert!(suites[1].starts_with("proof 2 of the set") && suites[1].contains("eddsa-jcs-2022"));
    // The other order works too.
    let once = sign(&ob_credential(), &key(), Cryptosuite::EddsaJcs2022, CREATED).unwrap();
    let other = sign(&once, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap();
    assert_eq!(check(&other).verdict, Verdict::Valid);
}

#[test]
fn proof_set_tampered_document_is_invalid_for_both_proofs() {
    let mut set = proof_set();
    set["credentialSubject"]["achievement"]["name"] = "Introduction à la statistique II".into();
    let report = check(&set);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Fail, Outcome::Fail],
        "{report:#?}"
    );
}

#[test]
fn proof_set_with_one_proof_removed_is_still_valid() {
    let set = proof_set();
    for keep in 0..2 {
        let proof = set["proof"][keep].clone();
        // As a one-element set and as a single proof object.
        for form in [json!([proof.clone()]), proof.clone()] {
            let mut doc = set.clone();
            doc["proof"] = form;
            let report = check(&doc);
            assert_eq!(
                report.verdict,
                Verdict::Valid,
                "kept proof {keep}: {report:#?}"
            );
            assert_eq!(outcomes(&report, CheckKind::Signature), [Outcome::Pass]);
        }
    }
}

#[test]
fn proof_set_with_one_proof_value_changed_is_invalid() {
    let set = proof_set();
    for bad in 0..2 {
        let mut doc = set.clone();
        // Another valid signature (of another document), so only the signature check can tell.
        let other = sign(
            &json!({"@context": [VC_V2_CONTEXT], "type": ["VerifiableCredential"], "issuer": key().controller(), "credentialSubject": {"id": "did:example:other"}}),
            &key(),
            Cryptosuite::EddsaJcs2022,
            CREATED,
        )
        .unwrap();
        doc["proof"][bad]["proofValue"] = other["proof"]["proofValue"].clone();
        let report = check(&doc);
        assert_eq!(report.verdict, Verdict::Invalid, "proof {bad}: {report:#?}");
        let mut want = [Outcome::Pass, Outcome::Pass];
        want[bad] = Outcome::Fail;
        assert_eq!(
            outcomes(&report, CheckKind::Signature),
            want,
            "proof {bad}: {report:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// proof chains

/// A chained proof (`previousProof`, Data Integrity §4.5) signs the document holding the
/// proofs it names; both proofs are checked, and the credential is Valid. A `previousProof`
/// that names no proof of the credential, or a changed previous proof, makes it Invalid.
#[test]
fn proof_chain_verifies() {
    let key = key();
    let unsigned = ob_credential();
    let doc = unsigned.as_object().unwrap();
    let mut first = json!({
        "id": "urn:uuid:0d5bd8d4-1f43-4a43-9a0a-4c1c3c6b8a01",
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-03-01T08:00:00Z",
        "verificationMethod": key.id(),
        "proofPurpose": "assertionMethod"
    });
    let data = hash_data(Cryptosuite::EddsaRdfc2022, doc, first.as_object().unwrap()).unwrap();
    first["proofValue"] = z_base58(&ed25519_sign(&SEED, &data.hash)).into();
    // The chained proof signs the document with the proof it follows (Data Integrity §4.3).
    let mut with_first = unsigned.clone();
    with_first["proof"] = json!([first.clone()]);
    let mut second = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-03-02T08:00:00Z",
        "verificationMethod": key.id(),
        "proofPurpose": "assertionMethod",
        "previousProof": "urn:uuid:0d5bd8d4-1f43-4a43-9a0a-4c1c3c6b8a01"
    });
    let loader = microcred_core::bundled_contexts();
    let opts = microcred_rdf::CanonicalOptions::default();
    let mut config = second.clone();
    config["@context"] = unsigned["@context"].clone();
    let mut message = microcred_rdf::canonicalize_document(&config, loader, &opts)
        .unwrap()
        .sha256()
        .to_vec();
    message.extend_from_slice(
        &microcred_rdf::canonicalize_document(&with_first, loader, &opts)
            .unwrap()
            .sha256(),
    );
    second["proofValue"] = z_base58(&ed25519_sign(&SEED, &message)).into();
    let mut chained = unsigned;
    chained["proof"] = json!([first, second]);

    let report = check(&chained);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Pass, Outcome::Pass]
    );

    let mut unknown_previous = chained.clone();
    unknown_previous["proof"][1]["previousProof"] = "urn:uuid:somewhere-else".into();
    let report = check(&unknown_previous);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::Proof),
        [Outcome::Pass, Outcome::Fail]
    );
    assert!(reasons(&report, CheckKind::Proof)[1].contains("urn:uuid:somewhere-else"));

    // The first proof's id changed in both places: the first proof fails (its `id` is part
    // of the configuration it signed), and so does the second (it signed the first as it was).
    let mut changed = chained;
    changed["proof"][0]["id"] = "urn:uuid:11111111-1f43-4a43-9a0a-4c1c3c6b8a01".into();
    changed["proof"][1]["previousProof"] = "urn:uuid:11111111-1f43-4a43-9a0a-4c1c3c6b8a01".into();
    let report = check(&changed);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::Fail, Outcome::Fail]
    );
}

// ---------------------------------------------------------------------------------------------
// safe mode (eddsa-rdfc-2022)

fn minimal_vc2(subject: Value) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "id": "urn:uuid:5c2d8f4e-7b1a-4e3c-8d9f-0a1b2c3d4e5f",
        "type": ["VerifiableCredential"],
        "issuer": key().controller(),
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": subject
    })
}

#[test]
fn signing_an_undefined_term_fails_naming_its_path() {
    // VC 2.0 has no @vocab: an undefined term would be dropped, so not signed.
    let credential = minimal_vc2(json!({"id": "did:example:x", "fooBar": 1}));
    let err = sign(&credential, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(
        matches!(&err, ProofError::JsonLd(JsonLdError::UndefinedTerm { path, term, .. })
            if path == "credentialSubject.fooBar" && term == "fooBar"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("credentialSubject.fooBar"), "{message}");
    assert!(!err.is_missing_context(), "{err:?}");

    // Deeper, in an OB credential.
    let mut ob = ob_credential();
    ob["credentialSubject"]["achievement"]["criteria"]["fooBar"] = "x".into();
    let err = sign(&ob, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(
        err.to_string()
            .contains("credentialSubject.achievement.criteria.fooBar"),
        "{err}"
    );
    // An undefined type, and a relative IRI, are refused too.
    let mut ob = ob_credential();
    ob["type"] = json!([
        "VerifiableCredential",
        "OpenBadgeCredential",
        "FooCredential"
    ]);
    let err = sign(&ob, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(
        matches!(err, ProofError::JsonLd(_)) && err.to_string().contains("FooCredential"),
        "{err}"
    );
    let mut ob = ob_credential();
    ob["credentialSubject"]["achievement"]["id"] = "achievements/stat-101".into();
    let err = sign(&ob, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(
        matches!(&err, ProofError::JsonLd(JsonLdError::RelativeIri { path, .. }) if path.contains("achievement")),
        "{err:?}"
    );
    // eddsa-jcs-2022 signs the JSON as it is and has no such rule.
    assert!(sign(&credential, &key(), Cryptosuite::EddsaJcs2022, CREATED).is_ok());
}

#[test]
fn signing_with_an_unknown_context_fails_naming_the_url() {
    let url = "https://unknown.example/contexts/v7.jsonld";
    let mut credential = minimal_vc2(json!({"id": "did:example:x"}));
    credential["@context"] = json!([VC_V2_CONTEXT, url]);
    let err = sign(&credential, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(err.is_missing_context(), "{err:?}");
    assert!(
        matches!(&err, ProofError::JsonLd(JsonLdError::UnknownContext { url: u }) if u == url),
        "{err:?}"
    );
    assert!(err.to_string().contains(url), "{err}");
}

#[test]
fn undefined_term_added_after_signing_is_not_valid() {
    let signed = sign(
        &ob_credential(),
        &key(),
        Cryptosuite::EddsaRdfc2022,
        CREATED,
    )
    .unwrap();
    assert_eq!(check(&signed).verdict, Verdict::Valid);
    for (path, place) in [
        (
            "credentialSubject.achievement.fooBar",
            vec!["credentialSubject", "achievement"],
        ),
        ("issuer.fooBar", vec!["issuer"]),
        ("fooBar", vec![]),
    ] {
        let mut doc = signed.clone();
        let mut target = &mut doc;
        for seg in &place {
            target = &mut target[*seg];
        }
        target["fooBar"] = json!({"anything": [1, 2]});
        let report = check(&doc);
        assert_ne!(report.verdict, Verdict::Valid, "{path}: {report:#?}");
        assert_eq!(report.verdict, Verdict::Invalid, "{path}: {report:#?}");
        assert_eq!(
            outcomes(&report, CheckKind::Proof),
            [Outcome::Fail],
            "{path}: {report:#?}"
        );
        let why = reasons(&report, CheckKind::Proof)[0];
        assert!(
            why.contains(path) && why.contains("covered by the signature"),
            "{why}"
        );
    }
}

/// A custom context: signing and verifying need the loader that has it.
#[test]
fn custom_context_via_verify_options_contexts() {
    const URL: &str = "https://college.example/contexts/grades-v1.jsonld";
    let context = json!({"@context": {"@protected": true, "gradePoints": {"@id": "https://college.example/vocab#gradePoints", "@type": "http://www.w3.org/2001/XMLSchema#decimal"}}}).to_string();
    let mut loader = ContextLoader::bundled();
    loader.add(URL, &context).unwrap();

    let mut credential = ob_credential();
    credential["@context"]
        .as_array_mut()
        .unwrap()
        .push(URL.into());
    credential["credentialSubject"]["gradePoints"] = "3.7".into();
    // The bundled set alone does not know the context.
    let err = sign(&credential, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(
        err.is_missing_context() && err.to_string().contains(URL),
        "{err}"
    );
    let signed = sign_with_contexts(
        &credential,
        &key(),
        Cryptosuite::EddsaRdfc2022,
        CREATED,
        &loader,
    )
    .unwrap();

    let keys = KeyRing::new();
    let bytes = serde_json::to_vec(&signed).unwrap();
    // Without it: cannot be checked here (Indeterminate), and the report names the URL.
    let report = verify(&bytes, &VerifyOptions::new(AT, &keys));
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(outcomes(&report, CheckKind::Proof), [Outcome::Unknown]);
    assert!(
        reasons(&report, CheckKind::Proof)[0].contains(URL),
        "{report:#?}"
    );
    // With it: Valid.
    let report = verify(&bytes, &VerifyOptions::new(AT, &keys).contexts(&loader));
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let report = verify_value(&signed, &VerifyOptions::new(AT, &keys).contexts(&loader));
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // A verifier whose copy of the context says something else gets other N-Quads: Invalid.
    let mut other = ContextLoader::bundled();
    other
        .add(URL, &context.replace("vocab#gradePoints", "vocab#gpa"))
        .unwrap();
    let report = verify(&bytes, &VerifyOptions::new(AT, &keys).contexts(&other));
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(outcomes(&report, CheckKind::Signature), [Outcome::Fail]);
}

/// The proof configuration must be processable too: an undefined term in an rdfc proof
/// (other than proofValue) is reported, not ignored.
#[test]
fn undefined_term_in_an_rdfc_proof_is_not_valid() {
    let mut signed = sign(
        &ob_credential(),
        &key(),
        Cryptosuite::EddsaRdfc2022,
        CREATED,
    )
    .unwrap();
    signed["proof"]["fooBar"] = "x".into();
    let report = check(&signed);
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(
        outcomes(&report, CheckKind::Proof),
        [Outcome::Fail],
        "{report:#?}"
    );
    assert!(
        reasons(&report, CheckKind::Proof)[0].contains("fooBar"),
        "{report:#?}"
    );
}

/// A proof setup made once (a batch) signs exactly as one-off signing does, for documents with
/// its `@context` and for one with another, and refuses a key it was not made for.
#[test]
fn proof_setup_signs_as_one_off_signing_does() {
    let loader = microcred_core::bundled_contexts();
    let base = ob_credential();
    let mut other_context = base.clone();
    other_context["@context"] =
        json!([VC_V2_CONTEXT, OB_CONTEXT, {"@vocab": "https://example.org/vocab#"}]);
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let setup =
            microcred_core::ProofSetup::new(&key(), suite, CREATED, base.get("@context"), loader)
                .unwrap();
        for (i, doc) in [base.clone(), other_context.clone()]
            .into_iter()
            .enumerate()
        {
            let mut doc = doc;
            doc["name"] = json!(format!("Credential {i}"));
            let batch = setup.sign_owned(doc.clone(), &key(), loader).unwrap();
            let one_off = sign(&doc, &key(), suite, CREATED).unwrap();
            assert_eq!(batch, one_off, "{suite} document {i}");
            assert_eq!(
                check(&batch).verdict,
                Verdict::Valid,
                "{suite} document {i}"
            );
        }
        let other_key = IssuerKey::from_seed(&[12u8; 32]).unwrap();
        assert!(matches!(
            setup.sign_owned(base.clone(), &other_key, loader),
            Err(ProofError::Malformed(_))
        ));
    }
}

/// A proof set with the issuer's proof and a co-signer's (another key) is valid: every proof
/// verifies, one is the issuer's, and the report names the co-signer. Tampering still fails.
#[test]
fn co_signed_proof_set_is_valid_when_the_issuer_signed_too() {
    let cosigner = IssuerKey::from_seed(&[99u8; 32]).unwrap();
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let issued = sign(&ob_credential(), &key(), suite, CREATED).unwrap();
        let both = sign(&issued, &cosigner, Cryptosuite::EddsaRdfc2022, CREATED).unwrap();
        let report = check(&both);
        assert_eq!(report.verdict, Verdict::Valid, "{suite}: {report:#?}");
        let reasons = reasons(&report, CheckKind::IssuerKey);
        assert!(reasons[1].contains("co-signed by") && reasons[1].contains(cosigner.controller()));
        let mut tampered = both.clone();
        tampered["name"] = json!("Changed");
        assert_eq!(check(&tampered).verdict, Verdict::Invalid);
        // Pinning the institution's key constrains the issuer's proof, not the co-signer's;
        // pinning only the co-signer's key leaves no proof that speaks for the issuer.
        let keys = KeyRing::new();
        let bytes = serde_json::to_vec(&both).unwrap();
        let pinned = [key().public_key()];
        let report = verify(&bytes, &VerifyOptions::new(AT, &keys).pinned_keys(&pinned));
        assert_eq!(report.verdict, Verdict::Valid, "{suite}: {report:#?}");
        let wrong = [cosigner.public_key()];
        let report = verify(&bytes, &VerifyOptions::new(AT, &keys).pinned_keys(&wrong));
        assert_eq!(report.verdict, Verdict::Invalid, "{suite}: {report:#?}");
    }
}

/// An OB credential with the microcredential extension's inline context after the OB one.
fn ob_credential_with_inline_context() -> Value {
    let mut doc = ob_credential();
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push(microcred_core::microcred_context());
    doc["credentialSubject"]["achievement"]["volumeOfLearning"] = json!("PT15H");
    doc
}

/// VC Data Integrity: a proof may carry its own `@context` when it is a prefix of the
/// document's. For eddsa-rdfc-2022 the proof configuration is still interpreted with the
/// document's whole `@context`, so terms defined by later entries stay defined.
#[test]
fn rdfc_proof_with_its_own_prefix_context_verifies() {
    let doc = ob_credential_with_inline_context();
    let signed = sign(&doc, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap();
    assert!(
        signed["proof"].get("@context").is_none(),
        "rdfc proofs carry no @context"
    );
    for prefix in [
        json!([VC_V2_CONTEXT]),
        json!(VC_V2_CONTEXT),
        json!([VC_V2_CONTEXT, OB_CONTEXT]),
        doc["@context"].clone(),
    ] {
        let mut with_ctx = signed.clone();
        with_ctx["proof"]["@context"] = prefix.clone();
        let report = check(&with_ctx);
        assert_eq!(
            report.verdict,
            Verdict::Valid,
            "proof @context {prefix}: {report:#?}"
        );
    }
}

#[test]
fn proof_context_that_is_not_a_prefix_is_invalid() {
    let doc = ob_credential_with_inline_context();
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let signed = sign(&doc, &key(), suite, CREATED).unwrap();
        for wrong in [json!([OB_CONTEXT]), json!([OB_CONTEXT, VC_V2_CONTEXT])] {
            let mut bad = signed.clone();
            bad["proof"]["@context"] = wrong;
            let report = check(&bad);
            assert_eq!(report.verdict, Verdict::Invalid, "{suite}: {report:#?}");
            assert!(
                reasons(&report, CheckKind::Proof)
                    .iter()
                    .any(|r| r.contains("not a prefix")),
                "{report:#?}"
            );
        }
    }
}

/// eddsa-jcs-2022 hashes the document with the proof's `@context` (vc-di-eddsa §3.3): a
/// context appended after signing is allowed, one changed inside the prefix is not.
#[test]
fn jcs_proof_context_is_the_signed_prefix() {
    let doc = ob_credential_with_inline_context();
    let signed = sign(&doc, &key(), Cryptosuite::EddsaJcs2022, CREATED).unwrap();
    assert_eq!(signed["proof"]["@context"], doc["@context"]);
    let mut appended = signed.clone();
    appended["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!("https://www.w3.org/ns/credentials/examples/v2"));
    assert_eq!(check(&appended).verdict, Verdict::Valid);
}

/// Credentials signed by microcred 0.1 name the placeholder context URL (nobody serves it):
/// they still verify in microcred, which bundles it, but lint refuses to sign such a document.
#[test]
fn legacy_placeholder_context_still_verifies_but_is_not_signed_again() {
    let mut doc = ob_credential();
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!(microcred_core::MICROCRED_LEGACY_CONTEXT));
    doc["credentialSubject"]["achievement"]["volumeOfLearning"] = json!("PT15H");
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let signed = sign(&doc, &key(), suite, CREATED).unwrap();
        assert_eq!(check(&signed).verdict, Verdict::Valid, "{suite}");
    }
    let report = microcred_core::lint(&doc);
    assert!(
        report.errors().any(|f| f.rule == "mc.context.placeholder"),
        "{report:#?}"
    );
}
