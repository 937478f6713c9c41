//! Endorsements (OB 3.0 `EndorsementCredential`): an industry council endorses the DF-101
//! achievement (`examples/achievements/df-101.json`), the signed endorsement is embedded in
//! the achievement, a credential is issued from it through the core's issuance path, and the
//! credential is verified. The endorsement is reported valid and `unknown` without a trust
//! list, `trusted` with one listing the council, and `invalid` (the credential staying valid)
//! when it was altered after signing or endorses another achievement. Both cryptosuites.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use microcred_core::{
    bundled_contexts, check_endorsements, endorsement_credential, lint_achievement, sign, verify,
    Achievement, CredentialTemplate, Cryptosuite, Endorsed, EndorserTrust, IssueCheck, IssueRow,
    IssuerKey, KeyRing, LintOptions, Profile, Report, Spare, TrustList, TrustedIssuer, Verdict,
    VerifyOptions,
};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

const DF_101: &str = "https://credentials.northbridge.example/achievements/df-101";
const COMMENT: &str = "Meets the digital skills our members hire for.";

fn read(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn northbridge() -> IssuerKey {
    IssuerKey::from_seed(&[1u8; 32]).unwrap()
}

fn council() -> IssuerKey {
    IssuerKey::from_seed(&[7u8; 32]).unwrap()
}

fn now() -> OffsetDateTime {
    datetime!(2026-01-15 12:00 UTC)
}

/// The council's signed endorsement of `subject`.
fn endorsement(subject: &str, suite: Cryptosuite) -> Value {
    let key = council();
    let endorser = Profile::new(key.controller(), "Acme Industry Council").unwrap();
    let unsigned = endorsement_credential(
        &endorser,
        subject,
        Some(COMMENT),
        "urn:uuid:5d1c3a2e-8f47-4b6a-9c0d-2e1f3a4b5c6d",
        datetime!(2025-12-01 00:00 UTC),
    )
    .unwrap();
    sign(&unsigned, &key, suite, datetime!(2025-12-01 00:00 UTC)).unwrap()
}

/// A DF-101 credential by Northbridge whose achievement embeds `endorsements`.
fn credential(endorsements: Vec<Value>, suite: Cryptosuite) -> Vec<u8> {
    let key = northbridge();
    let mut achievement = read("achievements/df-101.json");
    achievement["endorsement"] = Value::Array(endorsements);
    // Lint and the data model accept an achievement that embeds signed endorsements.
    let lint = lint_achievement(&achievement);
    assert!(!lint.has_errors(), "{lint:?}");
    let achievement = Achievement::from_value(achievement).unwrap();
    let issuer = Profile::new(key.controller(), "Northbridge College").unwrap();
    let t = CredentialTemplate::new(achievement, issuer, &LintOptions::new()).unwrap();
    assert!(!t.report().has_errors(), "{:?}", t.report());
    let setup = t
        .proof_setup(&key, suite, now(), bundled_contexts())
        .unwrap();
    let mut row = IssueRow::for_recipient("did:example:learner");
    row.results.insert("status".into(), json!("Completed"));
    let unsigned = t
        .build(
            &row,
            "urn:uuid:0b8e5a4c-3d2f-4e1a-8b7c-6d5e4f3a2b1c",
            "",
            now(),
            &mut Spare::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let (signed, _) = t
        .sign(unsigned, IssueCheck::Full, &setup, &key, bundled_contexts())
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_vec(&signed).unwrap()
}

fn check(bytes: &[u8], trust: Option<&TrustList>) -> Report {
    let keys = KeyRing::new();
    let mut options = VerifyOptions::new(now(), &keys);
    if let Some(t) = trust {
        options = options.trust_list(t);
    }
    verify(bytes, &options)
}

fn council_list() -> TrustList {
    TrustList::new(vec![TrustedIssuer {
        name: "Acme Industry Council".into(),
        id: council().controller().into(),
        keys: vec![council().public_key()],
    }])
}

#[test]
fn endorsement_is_valid_and_unknown_without_a_trust_list() {
    for &suite in Cryptosuite::ALL {
        let bytes = credential(vec![endorsement(DF_101, suite)], suite);
        let report = check(&bytes, None);
        assert_eq!(report.verdict, Verdict::Valid, "{suite:?}: {report:#?}");
        let [e] = report.endorsements.as_slice() else {
            panic!("one endorsement expected: {:#?}", report.endorsements);
        };
        assert_eq!(e.path, "credentialSubject.achievement.endorsement[0]");
        assert_eq!(e.endorses, Endorsed::Achievement);
        assert_eq!(e.verdict, Verdict::Valid, "{e:#?}");
        assert_eq!(e.trust, EndorserTrust::Unknown, "{e:#?}");
        assert_eq!(e.endorser.as_deref(), Some(council().controller()));
        assert_eq!(e.endorser_name.as_deref(), Some("Acme Industry Council"));
        assert_eq!(e.subject.as_deref(), Some(DF_101));
        assert!(e.subject_matches);
        assert_eq!(e.comment.as_deref(), Some(COMMENT));
        assert!(e.reason.contains("trust list"), "{}", e.reason);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["endorsements"][0]["trust"], "unknown");
    }
}

#[test]
fn endorsement_by_a_listed_endorser_is_trusted() {
    let bytes = credential(
        vec![endorsement(DF_101, Cryptosuite::DEFAULT)],
        Cryptosuite::DEFAULT,
    );
    let list = council_list();
    let report = check(&bytes, Some(&list));
    // The issuer (Northbridge) is not on the list: the credential stays valid, its issuer
    // unknown; the endorser is trusted.
    assert_eq!(report.verdict, Verdict::Valid);
    let e = &report.endorsements[0];
    assert_eq!(e.trust, EndorserTrust::Trusted, "{e:#?}");
    assert!(e.reason.contains("Acme Industry Council"), "{}", e.reason);
}

#[test]
fn altered_endorsement_is_invalid_and_the_credential_stays_valid() {
    for &suite in Cryptosuite::ALL {
        let mut e = endorsement(DF_101, suite);
        e["credentialSubject"]["endorsementComment"] = json!("The best course there is.");
        let bytes = credential(vec![e], suite);
        let report = check(&bytes, Some(&council_list()));
        assert_eq!(report.verdict, Verdict::Valid, "{suite:?}: {report:#?}");
        let e = &report.endorsements[0];
        assert_eq!(e.verdict, Verdict::Invalid, "{e:#?}");
        assert_eq!(e.trust, EndorserTrust::Invalid);
        assert!(e.reason.starts_with("signature"), "{}", e.reason);
    }
}

#[test]
fn endorsement_of_another_achievement_is_invalid() {
    for &suite in Cryptosuite::ALL {
        let other = "https://credentials.northbridge.example/achievements/df-102";
        let bytes = credential(vec![endorsement(other, suite)], suite);
        let report = check(&bytes, Some(&council_list()));
        assert_eq!(report.verdict, Verdict::Valid);
        let e = &report.endorsements[0];
        assert_eq!(e.verdict, Verdict::Invalid, "{e:#?}");
        assert_eq!(e.trust, EndorserTrust::Invalid);
        assert!(!e.subject_matches);
        assert!(e.reason.contains(other), "{}", e.reason);
    }
}

#[test]
fn check_endorsements_alone_does_not_follow_nested_endorsements() {
    let mut outer = endorsement(DF_101, Cryptosuite::EddsaJcs2022);
    // An endorsement inside the (already signed) endorsement: it breaks the outer proof, and
    // is itself never looked at.
    outer["endorsement"] = json!([endorsement(DF_101, Cryptosuite::EddsaJcs2022)]);
    let doc = json!({
        "id": "urn:example:vc",
        "credentialSubject": {"achievement": {"id": DF_101, "endorsement": outer}}
    });
    let keys = KeyRing::new();
    let reports = check_endorsements(&doc, &VerifyOptions::new(now(), &keys));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].path, "credentialSubject.achievement.endorsement");
    assert_eq!(reports[0].trust, EndorserTrust::Invalid);
}
