//! Credentials built to make RDF canonicalization slow or large (security review: 55,000
//! look-alike blank nodes in 1 MiB took 32 s and 9.5 GB): verification stops at the
//! canonicalization limits and says it could not check the credential, never that it is
//! invalid, and never takes long.

// Test helpers (outside #[test] functions) may unwrap and panic too: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use microcred_core::{
    sign, verify, CheckKind, Cryptosuite, IssuerKey, KeyRing, Outcome, Report, Verdict,
    VerifyOptions, OB_CONTEXT, VC_V2_CONTEXT,
};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

use common::outcomes;

const CREATED: OffsetDateTime = datetime!(2025-03-01 08:00 UTC);
const AT: OffsetDateTime = datetime!(2025-06-01 12:00 UTC);

fn key() -> IssuerKey {
    IssuerKey::from_seed(&[23u8; 32]).unwrap()
}

/// A small OB 3.0 credential signed with eddsa-rdfc-2022 by `key()`.
fn signed() -> Value {
    let doc = json!({
        "@context": [VC_V2_CONTEXT, OB_CONTEXT],
        "id": "urn:uuid:7d1c0f4e-2b9a-4e1f-8c3d-5a6b7c8d9e0f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": key().controller(), "type": ["Profile"], "name": "Hochschule Süd"},
        "validFrom": "2025-02-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-9",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://hs-sued.example/achievements/stat-101",
                "type": ["Achievement"],
                "name": "Introduction to statistics",
                "criteria": {"narrative": "Passed the exam."}
            }
        }
    });
    sign(&doc, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap()
}

/// The security review's shape: `n` blank nodes under the subject sharing three values.
fn with_look_alike_nodes(mut v: Value, n: usize) -> Value {
    let nodes: Vec<Value> = (0..n)
        .map(|i| {
            let value = ["a", "b", "c"][i % 3];
            json!({ "http://e/v": value })
        })
        .collect();
    v["credentialSubject"]["http://e/x"] = Value::Array(nodes);
    v
}

fn check(doc: &Value) -> Report {
    let keys = KeyRing::new();
    verify(
        &serde_json::to_vec(doc).unwrap(),
        &VerifyOptions::new(AT, &keys),
    )
}

fn proof_reason(report: &Report) -> &str {
    report
        .checks
        .iter()
        .find(|c| c.check == CheckKind::Proof)
        .map(|c| c.reason.as_str())
        .unwrap()
}

#[test]
fn the_unmodified_credential_verifies() {
    let report = check(&signed());
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
}

#[test]
fn look_alike_blank_node_flood_cannot_be_checked() {
    let report = check(&with_look_alike_nodes(signed(), 10_000));
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:?}");
    assert_eq!(outcomes(&report, CheckKind::Proof), [Outcome::Unknown]);
    assert_eq!(
        outcomes(&report, CheckKind::Signature),
        [Outcome::NotChecked]
    );
    let why = proof_reason(&report);
    assert!(why.contains("too complex to canonicalize"), "{why}");
    assert!(why.contains("indistinguishable blank nodes"), "{why}");
    assert!(why.contains("N-degree hashing limit"), "{why}");
}

#[test]
fn signing_a_look_alike_blank_node_flood_is_refused_as_too_complex() {
    let mut doc = with_look_alike_nodes(signed(), 10_000);
    doc.as_object_mut().unwrap().remove("proof");
    let err = sign(&doc, &key(), Cryptosuite::EddsaRdfc2022, CREATED).unwrap_err();
    assert!(err.is_work_limit(), "{err}");
    assert!(!err.is_missing_context(), "{err}");
}

#[test]
fn too_much_context_processing_cannot_be_checked() {
    // An embedded @context array of 5,000 one-term maps: each copies every term so far.
    let mut v = signed();
    let ctx: Vec<Value> = (0..5_000)
        .map(|i| {
            let mut m = serde_json::Map::new();
            m.insert(format!("t{i}"), format!("http://e/t{i}").into());
            Value::Object(m)
        })
        .collect();
    v["credentialSubject"]["http://e/q"] = json!({"@context": ctx, "t1": "x"});
    let report = check(&v);
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:?}");
    assert_eq!(outcomes(&report, CheckKind::Proof), [Outcome::Unknown]);
    let why = proof_reason(&report);
    assert!(why.contains("too complex to expand"), "{why}");
}
