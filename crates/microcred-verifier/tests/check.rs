//! `check_file` end to end on signed credentials: what the CLI prints and the page shows for a
//! valid, tampered, baked, revoked credential, a presentation and unusable evidence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_core::{
    sign, status_list_credential, Bitstring, Cryptosuite, IssuerKey, StatusEntry, Verdict,
    MIN_STATUS_LIST_ENTRIES,
};
use microcred_verifier::{check_file, Evidence, Hints, Settings};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

const LIST: &str = "https://college.example/status/1";

fn key() -> IssuerKey {
    IssuerKey::from_seed(&[7u8; 32]).unwrap()
}

fn now() -> OffsetDateTime {
    datetime!(2025-06-01 12:00 UTC)
}

fn credential(key: &IssuerKey, name: &str, status: Option<u64>) -> Value {
    let mut unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:uuid:0b7c1e2a-6a43-4b6e-9a55-7d1f1f6f3a1{}", name.len() % 10),
        "type": ["VerifiableCredential"],
        "name": name,
        "issuer": {"id": key.controller(), "name": "Northbridge College"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    });
    if let Some(i) = status {
        unsigned["credentialStatus"] = StatusEntry::new(LIST, "revocation", i).to_value();
    }
    sign(
        &unsigned,
        key,
        Cryptosuite::EddsaRdfc2022,
        datetime!(2025-01-01 00:00 UTC),
    )
    .unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn revocation_list(key: &IssuerKey, set: &[u64]) -> Value {
    let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    for i in set {
        bits.set(*i, true).unwrap();
    }
    let unsigned = status_list_credential(
        LIST,
        key.controller(),
        "revocation",
        &bits,
        datetime!(2025-05-01 00:00 UTC),
        None,
    );
    sign(
        &unsigned,
        key,
        Cryptosuite::EddsaRdfc2022,
        datetime!(2025-05-01 00:00 UTC),
    )
    .unwrap()
}

fn cli() -> Settings {
    Settings::new(Hints::CLI)
}

#[test]
fn a_valid_credential() {
    let c = credential(&key(), "Web Accessibility", None);
    let r = check_file("a.json", &bytes(&c), &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 0);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(r.headline, "VALID");
    assert_eq!(
        r.subject,
        format!(
            " \"Web Accessibility\" issued by Northbridge College ({})",
            key().controller()
        )
    );
    assert!(r.explanation.is_none());
    assert!(r.text.starts_with("a.json: VALID \"Web Accessibility\""));
    assert_eq!(r.json["file"], "a.json");
    assert_eq!(r.json["exit_code"], 0);
    assert_eq!(r.json["verdict"], "valid");
    let labels: Vec<&str> = r.lines.iter().map(|l| l.label.as_str()).collect();
    assert!(labels.contains(&"signature") && labels.contains(&"validity"));
    assert!(r.lines.iter().all(|l| l.mark != "FAIL"));
}

#[test]
fn a_tampered_credential_is_invalid_with_exit_code_1_in_its_json() {
    let mut c = credential(&key(), "Web Accessibility", None);
    c["name"] = json!("Web Accessibility (Honours)");
    let r = check_file("t.json", &bytes(&c), &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 1);
    assert_eq!(r.headline, "INVALID");
    // The per-file JSON says what the process exits with for this file: 1, not an internal rank.
    assert_eq!(r.json["exit_code"], 1);
    let signature = r.lines.iter().find(|l| l.label == "signature").unwrap();
    assert_eq!(signature.mark, "FAIL");
    assert!(r
        .explanation
        .as_deref()
        .unwrap()
        .contains("does not prove the content"));
}

#[test]
fn an_unsigned_credential_lists_each_check_once() {
    let mut c = credential(&key(), "Unsigned", None);
    c.as_object_mut().unwrap().remove("proof");
    let r = check_file("u.json", &bytes(&c), &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 1);
    for label in ["validity", "status", "signature"] {
        assert_eq!(
            r.lines.iter().filter(|l| l.label == label).count(),
            1,
            "{label}: {:?}",
            r.lines
        );
    }
}

#[test]
fn a_baked_badge_is_unbaked_and_verified() {
    let c = credential(&key(), "Baked", None);
    let png = microcred_badge::generated_badge("Baked", microcred_badge::ImageFormat::Png).unwrap();
    let baked = microcred_badge::bake(&png, &bytes(&c)).unwrap();
    let r = check_file("b.png", &baked, &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 0, "{}", r.text);
    let source = r.source.as_deref().unwrap();
    assert!(source.contains("PNG"), "{source}");
    assert_eq!(r.json["baked_image"], source);
    assert!(r
        .text
        .starts_with("b.png: credential extracted from a baked PNG image"));
    // An image without a credential cannot be checked.
    let r = check_file("plain.png", &png, &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 2);
    assert_eq!(r.json["verdict"], "indeterminate");
}

#[test]
fn revocation_from_a_status_list_or_bundle() {
    let k = key();
    let c = bytes(&credential(&k, "Revoked", Some(42)));
    // No list: valid, but the status is unknown, and the verdict line says so.
    let r = check_file("r.json", &c, &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 0);
    assert_eq!(r.headline, "VALID, BUT REVOCATION STATUS UNKNOWN");
    assert!(r.explanation.as_deref().unwrap().contains("--online"));
    let mut strict = cli();
    strict.require_status = true;
    assert_eq!(
        check_file("r.json", &c, &Evidence::new(), now(), &strict).exit_code,
        1
    );
    // The page words its advice in its own terms.
    let page = check_file(
        "r.json",
        &c,
        &Evidence::new(),
        now(),
        &Settings::new(Hints::PAGE),
    );
    let advice = page.explanation.unwrap();
    assert!(!advice.contains("--"), "{advice}");
    assert!(advice.contains("Revocation status"), "{advice}");

    // The saved list says revoked.
    let mut e = Evidence::new();
    e.add_status_list_file(revocation_list(&k, &[42])).unwrap();
    let r = check_file("r.json", &c, &e, now(), &cli());
    assert_eq!(r.exit_code, 1, "{}", r.text);
    assert_eq!(r.json["status"], "fail");
    // The same list in a bundle.
    let bundle = json!({
        "type": "MicrocredVerificationBundle", "version": 1,
        "statusLists": [{"url": LIST, "capturedAt": "2025-05-02T00:00:00Z",
                         "credential": revocation_list(&k, &[42])}],
    });
    let mut e = Evidence::new();
    e.add_bundle(&bundle).unwrap();
    assert_eq!(check_file("r.json", &c, &e, now(), &cli()).exit_code, 1);
    // Not revoked.
    let mut e = Evidence::new();
    e.add_status_list_file(revocation_list(&k, &[7])).unwrap();
    let r = check_file("r.json", &c, &e, now(), &cli());
    assert_eq!((r.exit_code, r.headline.as_str()), (0, "VALID"));
}

#[test]
fn a_presentation_is_as_good_as_its_credentials() {
    let k = key();
    let good = credential(&k, "One", None);
    let mut bad = credential(&k, "Two", None);
    bad["name"] = json!("Three");
    let vp = |creds: Vec<Value>| {
        bytes(&json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": "did:example:learner",
            "verifiableCredential": creds,
        }))
    };
    let r = check_file(
        "vp.json",
        &vp(vec![good.clone()]),
        &Evidence::new(),
        now(),
        &cli(),
    );
    assert_eq!(
        (r.exit_code, r.headline.as_str()),
        (0, "PRESENTATION VALID"),
        "{}",
        r.text
    );
    assert_eq!(r.lines[0].label, "holder proof");
    assert_eq!(r.lines[0].mark, "not checked");
    assert_eq!(r.json["credentials"][0]["exit_code"], 0);
    assert!(r.text.contains("vp.json [credential 1]: VALID \"One\""));

    let r = check_file(
        "vp.json",
        &vp(vec![good, bad]),
        &Evidence::new(),
        now(),
        &cli(),
    );
    assert_eq!(
        (r.exit_code, r.headline.as_str()),
        (1, "PRESENTATION INVALID")
    );
    assert_eq!(r.json["credentials"][1]["verdict"], "invalid");

    let r = check_file("vp.json", &vp(vec![]), &Evidence::new(), now(), &cli());
    assert_eq!(r.exit_code, 2);
    assert_eq!(r.json["problem"], "the presentation holds no credential");
}

#[test]
fn evidence_that_cannot_be_used_is_refused_whole() {
    let mut e = Evidence::new();
    let err = e
        .add_bundle(&json!({"type": "MicrocredVerificationBundle", "version": 2}))
        .unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
    let err = e
        .add_bundle(&json!({"type": "MicrocredVerificationBundle", "version": 1,
            "statusLists": [{"url": LIST, "credential": revocation_list(&key(), &[])},
                            {"url": LIST, "credential": {"type": "nope"}}]}))
        .unwrap_err();
    assert!(err.to_string().contains("statusLists[1]"), "{err}");
    // All or nothing: the good list of that bundle was not added either.
    assert!(e.status_lists().is_empty());
    let err = e
        .add_bundle(&json!({"type": "MicrocredVerificationBundle", "version": 1,
            "didDocuments": [{"id": "did:web:x.example", "verificationMethod": []}]}))
        .unwrap_err();
    assert!(err.to_string().contains("DID document"), "{err}");
    let err = e
        .add_status_list_file(json!({"type": "MicrocredVerificationBundle"}))
        .unwrap_err();
    assert!(err.to_string().contains("bundle"), "{err}");
    assert!(e.pin_key("z6MkNotAKey").is_err());
    assert!(e.set_trust_list("[").is_err());
    e.pin_key(&key().public_key().to_multibase()).unwrap();
}

#[test]
fn a_pinned_key_refuses_other_signers() {
    let other = IssuerKey::from_seed(&[9u8; 32]).unwrap();
    let mut e = Evidence::new();
    e.pin_key(&other.public_key().to_multibase()).unwrap();
    let c = credential(&key(), "Pinned", None);
    let r = check_file("p.json", &bytes(&c), &e, now(), &cli());
    assert_eq!(r.exit_code, 1, "{}", r.text);
}
