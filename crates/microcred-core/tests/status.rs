//! Verification of `credentialStatus` (Bitstring Status List v1.0) against lists the caller
//! supplies: pass (not revoked / not suspended), fail (revoked / suspended), and every way the
//! status becomes *unknown* (never *pass*): no list, list unavailable, list for another URL,
//! list not genuine (tampered, another issuer, expired), wrong purpose, too short, index out
//! of range, unsupported entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_core::{
    sign, status_list_credential, verify, Bitstring, CheckKind, Cryptosuite, IssuerKey, KeyRing,
    Outcome, Report, StatusEntry, StatusListCredential, Verdict, VerifyOptions,
    MIN_STATUS_LIST_ENTRIES,
};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

const LIST: &str = "https://college.example/status/1";
const SUSPENSION_LIST: &str = "https://college.example/status/2";

fn key() -> IssuerKey {
    IssuerKey::from_seed(&[7u8; 32]).unwrap()
}

fn now() -> OffsetDateTime {
    datetime!(2025-06-01 12:00 UTC)
}

fn credential(key: &IssuerKey, status: Value) -> Vec<u8> {
    credential_in(key, status, json!(["https://www.w3.org/ns/credentials/v2"]))
}

fn credential_in(key: &IssuerKey, status: Value, context: Value) -> Vec<u8> {
    let unsigned = json!({
        "@context": context,
        "id": "urn:uuid:0b7c1e2a-6a43-4b6e-9a55-7d1f1f6f3a11",
        "type": ["VerifiableCredential"],
        "issuer": key.controller(),
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
        "credentialStatus": status,
    });
    let signed = sign(
        &unsigned,
        key,
        Cryptosuite::EddsaRdfc2022,
        datetime!(2025-01-01 00:00 UTC),
    )
    .unwrap();
    serde_json::to_vec(&signed).unwrap()
}

fn entry(list: &str, purpose: &str, index: u64) -> Value {
    StatusEntry::new(list, purpose, index).to_value()
}

/// A signed list with `set` bits, published at 2025-05-01.
fn list_value(key: &IssuerKey, url: &str, purpose: &str, set: &[u64]) -> Value {
    let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    for i in set {
        bits.set(*i, true).unwrap();
    }
    let unsigned = status_list_credential(
        url,
        key.controller(),
        purpose,
        &bits,
        datetime!(2025-05-01 00:00 UTC),
        Some(60_000),
    );
    sign(
        &unsigned,
        key,
        Cryptosuite::EddsaRdfc2022,
        datetime!(2025-05-01 00:00 UTC),
    )
    .unwrap()
}

fn list(key: &IssuerKey, url: &str, purpose: &str, set: &[u64]) -> StatusListCredential {
    StatusListCredential::from_value(list_value(key, url, purpose, set))
        .unwrap()
        .fetched_from(url)
        .captured_at(datetime!(2025-06-01 11:00 UTC))
}

fn check(bytes: &[u8], lists: &[StatusListCredential]) -> Report {
    let keys = KeyRing::new();
    verify(bytes, &VerifyOptions::new(now(), &keys).status_lists(lists))
}

fn status_checks(r: &Report) -> Vec<(Outcome, String)> {
    r.checks
        .iter()
        .filter(|c| c.check == CheckKind::Status)
        .map(|c| (c.outcome, c.reason.clone()))
        .collect()
}

fn only_status(r: &Report) -> (Outcome, String) {
    let s = status_checks(r);
    assert_eq!(s.len(), 1, "{r:#?}");
    s.into_iter().next().unwrap()
}

#[test]
fn not_revoked_passes_with_publication_and_capture_time() {
    let k = key();
    let cred = credential(&k, entry(LIST, "revocation", 94_567));
    let r = check(&cred, &[list(&k, LIST, "revocation", &[1, 94_566, 94_568])]);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    let (o, reason) = only_status(&r);
    assert_eq!(o, Outcome::Pass);
    assert!(reason.contains("not revoked"), "{reason}");
    assert!(
        reason.contains("published 2025-05-01T00:00:00Z"),
        "{reason}"
    );
    assert!(reason.contains("captured 2025-06-01T11:00:00Z"), "{reason}");
    assert_eq!(r.status(), Outcome::Pass);
}

#[test]
fn revoked_and_suspended_fail() {
    let k = key();
    let cred = credential(&k, entry(LIST, "revocation", 94_567));
    let r = check(&cred, &[list(&k, LIST, "revocation", &[94_567])]);
    assert_eq!(r.verdict, Verdict::Invalid, "{r:#?}");
    let (o, reason) = only_status(&r);
    assert_eq!(o, Outcome::Fail);
    assert!(reason.contains("REVOKED"), "{reason}");
    assert_eq!(r.first_problem().unwrap().check, CheckKind::Status);

    // Two entries: not revoked, but suspended.
    let cred = credential(
        &k,
        json!([
            entry(LIST, "revocation", 5),
            entry(SUSPENSION_LIST, "suspension", 9)
        ]),
    );
    let lists = [
        list(&k, LIST, "revocation", &[]),
        list(&k, SUSPENSION_LIST, "suspension", &[9]),
    ];
    let r = check(&cred, &lists);
    assert_eq!(r.verdict, Verdict::Invalid, "{r:#?}");
    let s = status_checks(&r);
    assert_eq!(s[0].0, Outcome::Pass);
    assert_eq!(s[1].0, Outcome::Fail);
    assert!(s[1].1.contains("SUSPENDED"), "{}", s[1].1);
    assert_eq!(r.status(), Outcome::Fail);
    // Reinstated: the suspension bit is clear again.
    let lists = [
        list(&k, LIST, "revocation", &[]),
        list(&k, SUSPENSION_LIST, "suspension", &[]),
    ];
    assert_eq!(check(&cred, &lists).verdict, Verdict::Valid);
}

#[test]
fn no_list_or_unavailable_list_is_unknown_not_valid_status() {
    let k = key();
    let cred = credential(&k, entry(LIST, "revocation", 3));
    let r = check(&cred, &[]);
    // Status is not a required check: the verdict stands, the status says unknown.
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    let (o, reason) = only_status(&r);
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("no copy of the status list"), "{reason}");
    assert_eq!(r.status(), Outcome::Unknown);

    let down = StatusListCredential::unavailable(LIST, "connection refused");
    let (o, reason) = only_status(&check(&cred, &[down]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("connection refused"), "{reason}");

    // A list for another URL does not count.
    let other = list(&k, SUSPENSION_LIST, "revocation", &[]);
    let (o, reason) = only_status(&check(&cred, &[other]));
    assert_eq!(o, Outcome::Unknown, "{reason}");
    // Nor does a list fetched from the right URL that says it is another list.
    let swapped =
        StatusListCredential::from_value(list_value(&k, SUSPENSION_LIST, "revocation", &[]))
            .unwrap()
            .fetched_from(LIST);
    let (o, reason) = only_status(&check(&cred, &[swapped]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("another list"), "{reason}");
}

#[test]
fn lists_that_are_not_genuine_are_unknown() {
    let k = key();
    let cred = credential(&k, entry(LIST, "revocation", 3));

    // Bit 3 cleared after signing (an attacker "un-revoking"): the list's proof fails.
    let mut tampered = list_value(&k, LIST, "revocation", &[3]);
    let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    bits.set(4, true).unwrap();
    tampered["credentialSubject"]["encodedList"] = bits.encode().into();
    let l = StatusListCredential::from_value(tampered).unwrap();
    let (o, reason) = only_status(&check(&cred, &[l]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("cannot be relied on"), "{reason}");

    // Signed by someone else (a genuine list of another issuer).
    let mallory = IssuerKey::from_seed(&[9u8; 32]).unwrap();
    let l = list(&mallory, LIST, "revocation", &[]);
    let (o, reason) = only_status(&check(&cred, &[l]));
    assert_eq!(o, Outcome::Unknown);
    assert!(
        reason.contains("not by the credential's issuer"),
        "{reason}"
    );

    // Expired list.
    let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    bits.set(0, true).unwrap();
    let mut unsigned = status_list_credential(
        LIST,
        k.controller(),
        "revocation",
        &bits,
        datetime!(2025-01-01 00:00 UTC),
        None,
    );
    unsigned["validUntil"] = "2025-02-01T00:00:00Z".into();
    let signed = sign(
        &unsigned,
        &k,
        Cryptosuite::EddsaJcs2022,
        datetime!(2025-01-01 00:00 UTC),
    )
    .unwrap();
    let l = StatusListCredential::from_value(signed).unwrap();
    let (o, reason) = only_status(&check(&cred, &[l]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("expired"), "{reason}");

    // Unsigned.
    let l = StatusListCredential::from_value(status_list_credential(
        LIST,
        k.controller(),
        "revocation",
        &bits,
        datetime!(2025-01-01 00:00 UTC),
        None,
    ))
    .unwrap();
    assert_eq!(only_status(&check(&cred, &[l])).0, Outcome::Unknown);
}

#[test]
fn wrong_purpose_short_list_out_of_range_and_unsupported_entries_are_unknown() {
    let k = key();
    let cred = credential(&k, entry(LIST, "revocation", 3));
    let (o, reason) = only_status(&check(&cred, &[list(&k, LIST, "suspension", &[3])]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("not revocation"), "{reason}");

    // A list shorter than 131,072 entries gives too little group privacy.
    let short = Bitstring::from_bytes(vec![0; 1024]);
    let unsigned = status_list_credential(
        LIST,
        k.controller(),
        "revocation",
        &short,
        datetime!(2025-01-01 00:00 UTC),
        None,
    );
    let signed = sign(
        &unsigned,
        &k,
        Cryptosuite::EddsaJcs2022,
        datetime!(2025-01-01 00:00 UTC),
    )
    .unwrap();
    let l = StatusListCredential::from_value(signed).unwrap();
    let (o, reason) = only_status(&check(&cred, &[l]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("fewer than the 131072"), "{reason}");

    let far = credential(&k, entry(LIST, "revocation", 131_072));
    let (o, reason) = only_status(&check(&far, &[list(&k, LIST, "revocation", &[])]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("outside the status list"), "{reason}");

    let mut two_bits = entry(LIST, "message", 3);
    two_bits["statusSize"] = json!(2);
    let cred = credential(&k, two_bits);
    let (o, reason) = only_status(&check(&cred, &[list(&k, LIST, "message", &[])]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("statusSize 2"), "{reason}");

    let cred = credential_in(
        &k,
        json!({"id": "https://x.example/s#1", "type": "StatusList2021Entry", "statusPurpose": "revocation", "statusListIndex": "1", "statusListCredential": LIST}),
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://w3id.org/vc/status-list/2021/v1"
        ]),
    );
    let (o, reason) = only_status(&check(&cred, &[list(&k, LIST, "revocation", &[])]));
    assert_eq!(o, Outcome::Unknown);
    assert!(reason.contains("StatusList2021Entry"), "{reason}");
}

#[test]
fn the_freshest_usable_copy_decides() {
    let k = key();
    let cred = credential(&k, entry(LIST, "revocation", 3));
    let old = list(&k, LIST, "revocation", &[]).captured_at(datetime!(2025-05-02 00:00 UTC));
    let new = list(&k, LIST, "revocation", &[3]).captured_at(datetime!(2025-06-01 00:00 UTC));
    let down = StatusListCredential::unavailable(LIST, "timed out");
    let r = check(&cred, &[old.clone(), down.clone(), new]);
    assert_eq!(only_status(&r).0, Outcome::Fail, "{r:#?}");
    // The server is down but a saved copy exists: it decides, with its capture time.
    let r = check(&cred, &[down, old]);
    let (o, reason) = only_status(&r);
    assert_eq!(o, Outcome::Pass);
    assert!(reason.contains("captured 2025-05-02T00:00:00Z"), "{reason}");
}

#[test]
fn no_credential_status_is_nothing_to_check() {
    let k = key();
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": k.controller(),
        "credentialSubject": {"id": "did:example:learner"},
    });
    let signed = sign(&unsigned, &k, Cryptosuite::EddsaJcs2022, now()).unwrap();
    let r = check(&serde_json::to_vec(&signed).unwrap(), &[]);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(only_status(&r).0, Outcome::NotChecked);
    assert_eq!(r.status(), Outcome::NotChecked);
}
