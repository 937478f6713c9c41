//! The Digital Fluency series of `examples/achievements` issued through the core's issuance
//! path, for the stacking and CLR tests.

// Each test binary uses a different part of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use base64::Engine as _;
use microcred_core::{
    bundled_contexts, verify, Achievement, CredentialTemplate, Cryptosuite, IssueCheck, IssueRow,
    IssuerKey, KeyRing, LintOptions, Profile, Report, Spare, StatusListCredential, TrustList,
    VerifyOptions,
};
use serde_json::{json, Value};
use sha2::Digest;
use time::macros::datetime;
use time::OffsetDateTime;

pub(crate) const LEARNER: &str = "did:example:4a7c1e9b2d5f48c0a1e3b6d9f2c8a0e5";
pub(crate) const LIST: &str = "https://credentials.northbridge.example/status/1";

pub(crate) fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

pub(crate) fn read(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(examples().join(name)).unwrap()).unwrap()
}

pub(crate) fn northbridge() -> IssuerKey {
    IssuerKey::from_seed(&[1u8; 32]).unwrap()
}

pub(crate) fn lakeshore() -> IssuerKey {
    IssuerKey::from_seed(&[2u8; 32]).unwrap()
}

pub(crate) fn now() -> OffsetDateTime {
    datetime!(2026-01-15 12:00 UTC)
}

/// A signed credential of `key` for achievement `achievement` (a file of
/// `examples/achievements`, or a value), awarded at `at`, with `extra` top-level members.
pub(crate) fn issue(
    key: &IssuerKey,
    achievement: Value,
    recipient: &str,
    at: &str,
    extra: Value,
) -> Vec<u8> {
    issue_salted(key, achievement, recipient, at, extra, "c7e1d0f4a9b2")
}

/// [`issue`] with `salt` for a hashed e-mail recipient.
pub(crate) fn issue_salted(
    key: &IssuerKey,
    achievement: Value,
    recipient: &str,
    at: &str,
    extra: Value,
    salt: &str,
) -> Vec<u8> {
    let mut profile = read("issuer-profile.json");
    profile["id"] = json!(key.controller());
    let issuer = Profile::from_value(profile).unwrap();
    let achievement = Achievement::from_value(achievement).unwrap();
    let t = CredentialTemplate::new(achievement, issuer, &LintOptions::new()).unwrap();
    let setup = t
        .proof_setup(key, Cryptosuite::DEFAULT, now(), bundled_contexts())
        .unwrap();
    let mut row = IssueRow::for_recipient(recipient);
    row.results.insert("status".into(), json!("Completed"));
    row.valid_from = Some(at.into());
    let id = format!("urn:uuid:{}", uuid_for(recipient, at, &t));
    let mut unsigned = t
        .build(&row, &id, salt, now(), &mut Spare::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in extra.as_object().unwrap() {
        unsigned[k] = v.clone();
    }
    let (signed, _) = t
        .sign(unsigned, IssueCheck::Full, &setup, key, bundled_contexts())
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_vec(&signed).unwrap()
}

/// A stable UUID-shaped id from what makes a credential different.
pub(crate) fn uuid_for(recipient: &str, at: &str, t: &CredentialTemplate) -> String {
    let digest = sha2::Sha256::digest(format!("{recipient}{at}{}", t.achievement().id).as_bytes());
    let h = hex::encode(&digest[..16]);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

pub(crate) fn component(name: &str, at: &str) -> Vec<u8> {
    issue(
        &northbridge(),
        read(&format!("achievements/{name}.json")),
        LEARNER,
        at,
        json!({}),
    )
}

/// The certificate for `parts`, listing them as evidence and pinning their bytes.
pub(crate) fn certificate(achievement: Value, parts: &[&[u8]], at: &str) -> Vec<u8> {
    let evidence: Vec<Value> = parts
        .iter()
        .map(|p| {
            let v: Value = serde_json::from_slice(p).unwrap();
            json!({"id": v["id"], "type": ["Evidence"], "name": v["name"], "genre": "Verifiable credential"})
        })
        .collect();
    let related: Vec<Value> = parts
        .iter()
        .map(|p| {
            let v: Value = serde_json::from_slice(p).unwrap();
            let sri = format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(p))
            );
            json!({"id": v["id"], "digestSRI": sri, "mediaType": "application/vc"})
        })
        .collect();
    issue(
        &northbridge(),
        achievement,
        LEARNER,
        at,
        json!({"evidence": evidence, "relatedResource": related}),
    )
}

pub(crate) fn df_certificate() -> Value {
    read("achievements/df-certificate.json")
}

pub(crate) struct Checked {
    pub(crate) bytes: Vec<u8>,
    pub(crate) value: Value,
    pub(crate) report: Report,
}

pub(crate) fn verified(
    bytes: Vec<u8>,
    trust: Option<&TrustList>,
    lists: &[StatusListCredential],
) -> Checked {
    let keys = KeyRing::new();
    let mut options = VerifyOptions::new(now(), &keys).status_lists(lists);
    if let Some(t) = trust {
        options = options.trust_list(t);
    }
    let report = verify(&bytes, &options);
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Checked {
        bytes,
        value,
        report,
    }
}

pub(crate) fn three() -> Vec<Vec<u8>> {
    vec![
        component("df-101", "2025-02-21T17:00:00Z"),
        component("df-102", "2025-03-28T17:00:00Z"),
        component("df-103", "2025-05-02T17:00:00Z"),
    ]
}

pub(crate) fn certificate_for(parts: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    certificate(df_certificate(), &refs, "2025-05-23T17:00:00Z")
}
