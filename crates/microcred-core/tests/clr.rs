//! CLR 2.0 (`clr_credential`, `check_clr`): the Digital Fluency series bundled into a signed
//! `ClrCredential` with `isPartOf` (from the certificate's rule) and `precedes` associations,
//! checked offline: valid; and refused for an embedded credential that does not verify, a
//! credential of another learner, an association towards an achievement the record does not
//! hold or one the certificate's rule does not list, and a certificate the record's other
//! credentials do not satisfy. Building refuses credentials of different learners.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::series::*;
use microcred_core::{
    check_clr, clr_credential, is_clr, sign, ClrCheckKind, ClrOptions, ClrReport, Cryptosuite,
    KeyRing, KnownIdentity, Outcome, Verdict, VerifyOptions,
};
use serde_json::{json, Value};
use time::macros::datetime;

const DF101: &str = "https://credentials.northbridge.example/achievements/df-101";
const DF102: &str = "https://credentials.northbridge.example/achievements/df-102";
const CERT: &str = "https://credentials.northbridge.example/achievements/df-certificate";

fn values(parts: &[Vec<u8>]) -> Vec<Value> {
    parts
        .iter()
        .map(|p| serde_json::from_slice(p).unwrap())
        .collect()
}

fn series_values() -> Vec<Value> {
    let parts = three();
    let cert = certificate_for(&parts);
    let mut all = values(&parts);
    all.push(serde_json::from_slice(&cert).unwrap());
    all
}

fn record(
    credentials: &[Value],
    precedes: &[(String, String)],
    learner: &[KnownIdentity],
) -> Value {
    let mut issuer = read("issuer-profile.json");
    issuer["id"] = json!(northbridge().controller());
    clr_credential(
        credentials,
        &ClrOptions {
            id: "urn:uuid:e64aa4a7-b785-4e55-ac26-2df32472cf9d",
            issuer: &issuer,
            name: "Digital Fluency pathway record",
            description: None,
            valid_from: datetime!(2025-05-23 17:05 UTC),
            precedes,
            partial: false,
            learner,
        },
    )
    .unwrap()
}

fn signed(unsigned: &Value, suite: Cryptosuite) -> Value {
    sign(
        unsigned,
        &northbridge(),
        suite,
        datetime!(2025-05-23 17:05 UTC),
    )
    .unwrap()
}

fn check(record: &Value) -> ClrReport {
    let keys = KeyRing::new();
    let options = VerifyOptions::new(now(), &keys);
    let bytes = serde_json::to_vec(record).unwrap();
    let report = microcred_core::verify(&bytes, &options);
    check_clr(record, &report, &options, &[])
}

fn outcome(r: &ClrReport, kind: ClrCheckKind) -> Outcome {
    r.checks
        .iter()
        .find(|c| c.check == kind)
        .unwrap_or_else(|| panic!("no {kind:?}: {r:#?}"))
        .outcome
}

#[test]
fn the_series_as_a_record_verifies_in_both_suites() {
    let creds = series_values();
    let unsigned = record(&creds, &[(DF101.into(), DF102.into())], &[]);
    assert!(is_clr(&unsigned));
    let subject = &unsigned["credentialSubject"];
    assert_eq!(subject["id"], LEARNER);
    assert_eq!(subject["type"], json!(["ClrSubject"]));
    // The credentials are embedded unchanged.
    assert_eq!(subject["verifiableCredential"], Value::Array(creds.clone()));
    assert_eq!(subject["achievement"].as_array().unwrap().len(), 4);
    let kinds: Vec<(&str, &str, &str)> = subject["association"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["associationType"].as_str().unwrap(),
                a["sourceId"].as_str().unwrap(),
                a["targetId"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&("isPartOf", DF101, CERT)), "{kinds:?}");
    assert!(kinds.contains(&("precedes", DF101, DF102)), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| k.0 == "isPartOf").count(), 3);
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let r = check(&signed(&unsigned, suite));
        assert_eq!(r.verdict, Verdict::Valid, "{suite:?}: {r:#?}");
        assert_eq!(r.credentials.len(), 4);
        assert_eq!(r.stacks.len(), 1);
        assert_eq!(r.stacks[0].verdict, Verdict::Valid);
        assert_eq!(r.associations.len(), 4);
    }
}

#[test]
fn what_does_not_hold_is_said() {
    let creds = series_values();

    // An embedded credential altered before the record was signed: the record verifies, the
    // credential does not, and the certificate's rule is no longer met.
    let mut altered = creds.clone();
    altered[2]["credentialSubject"]["result"][0]["status"] = json!("Complete");
    let r = check(&signed(&record(&altered, &[], &[]), Cryptosuite::DEFAULT));
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(outcome(&r, ClrCheckKind::Record), Outcome::Pass);
    assert_eq!(outcome(&r, ClrCheckKind::Credentials), Outcome::Fail);
    assert_eq!(outcome(&r, ClrCheckKind::Pathways), Outcome::Fail);

    // A record whose own proof fails.
    let mut tampered = signed(&record(&creds, &[], &[]), Cryptosuite::DEFAULT);
    tampered["name"] = json!("Another record");
    let r = check(&tampered);
    assert_eq!(outcome(&r, ClrCheckKind::Record), Outcome::Fail);
    assert_eq!(r.verdict, Verdict::Invalid);

    // Associations the record cannot back: towards an achievement it does not hold, and an
    // isPartOf the certificate's rule does not list.
    let mut unsigned = record(&creds, &[], &[]);
    let list = unsigned["credentialSubject"]["association"]
        .as_array_mut()
        .unwrap();
    list.push(json!({"type": "Association", "associationType": "precedes",
        "sourceId": DF101, "targetId": "https://elsewhere.example/achievements/x"}));
    list.push(json!({"type": "Association", "associationType": "isPartOf",
        "sourceId": CERT, "targetId": CERT}));
    list.push(
        json!({"type": "Association", "associationType": "isSimilarTo",
        "sourceId": DF101, "targetId": DF102}),
    );
    let r = check(&signed(&unsigned, Cryptosuite::DEFAULT));
    assert_eq!(outcome(&r, ClrCheckKind::Associations), Outcome::Fail);
    let failed: Vec<&str> = r
        .associations
        .iter()
        .filter(|a| a.outcome == Outcome::Fail)
        .map(|a| a.reason.as_str())
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed[0].contains("not an achievement"), "{failed:?}");
    assert!(failed[1].contains("not among its required"), "{failed:?}");
    assert!(failed[2].contains("associationType"), "{failed:?}");

    // A record missing a component: the certificate's rule is not met within it.
    let partial: Vec<Value> = vec![creds[0].clone(), creds[1].clone(), creds[3].clone()];
    let r = check(&signed(&record(&partial, &[], &[]), Cryptosuite::DEFAULT));
    assert_eq!(outcome(&r, ClrCheckKind::Pathways), Outcome::Fail);
    assert!(r.stacks[0].requirements[2]
        .reason
        .contains("no credential given"));
}

#[test]
fn one_learner_per_record() {
    let mut creds = series_values();
    creds[1] = serde_json::from_slice(&issue(
        &northbridge(),
        read("achievements/df-102.json"),
        "did:example:someone-else",
        "2025-03-28T17:00:00Z",
        json!({}),
    ))
    .unwrap();
    let mut issuer = read("issuer-profile.json");
    issuer["id"] = json!(northbridge().controller());
    let options = ClrOptions {
        id: "urn:uuid:e64aa4a7-b785-4e55-ac26-2df32472cf9d",
        issuer: &issuer,
        name: "Record",
        description: None,
        valid_from: now(),
        precedes: &[],
        partial: false,
        learner: &[],
    };
    let e = clr_credential(&creds, &options).unwrap_err();
    assert!(e.to_string().contains("another learner"), "{e}");
    // Signed anyway (by hand): the check says so.
    let mut forged = record(&series_values(), &[], &[]);
    forged["credentialSubject"]["verifiableCredential"][1] = creds[1].clone();
    let r = check(&signed(&forged, Cryptosuite::DEFAULT));
    assert_eq!(outcome(&r, ClrCheckKind::Learner), Outcome::Fail);
    assert_eq!(r.verdict, Verdict::Invalid);

    // E-mail recipients, each credential with its own salt: tied by the address given.
    let email = "amara.okafor@example.org";
    let mail: Vec<Value> = [("df-101", "a"), ("df-102", "b")]
        .iter()
        .map(|(n, salt)| {
            serde_json::from_slice(&issue_salted(
                &northbridge(),
                read(&format!("achievements/{n}.json")),
                email,
                "2025-03-28T17:00:00Z",
                json!({}),
                salt,
            ))
            .unwrap()
        })
        .collect();
    let e = clr_credential(&mail, &options).unwrap_err();
    assert!(e.to_string().contains("e-mail"), "{e}");
    let known = [KnownIdentity {
        identity_type: "emailAddress".into(),
        value: email.into(),
    }];
    let unsigned = record(&mail, &[], &known);
    assert!(unsigned["credentialSubject"].get("id").is_none());
    let rec = signed(&unsigned, Cryptosuite::DEFAULT);
    let keys = KeyRing::new();
    let opts = VerifyOptions::new(now(), &keys);
    let report = microcred_core::verify(&serde_json::to_vec(&rec).unwrap(), &opts);
    assert_eq!(
        check_clr(&rec, &report, &opts, &[]).verdict,
        Verdict::Indeterminate
    );
    assert_eq!(
        check_clr(&rec, &report, &opts, &known).verdict,
        Verdict::Valid
    );
}

#[test]
fn building_refuses_what_cannot_be_a_record() {
    let mut issuer = read("issuer-profile.json");
    issuer["id"] = json!(northbridge().controller());
    let base = ClrOptions {
        id: "urn:uuid:e64aa4a7-b785-4e55-ac26-2df32472cf9d",
        issuer: &issuer,
        name: "Record",
        description: None,
        valid_from: now(),
        precedes: &[],
        partial: false,
        learner: &[],
    };
    assert!(clr_credential(&[], &base).is_err());
    let creds = series_values();
    let bad_precedes = [(DF101.to_owned(), "https://elsewhere.example/x".to_owned())];
    let e = clr_credential(
        &creds,
        &ClrOptions {
            precedes: &bad_precedes,
            ..base.clone()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("precedes"), "{e}");
    let e = clr_credential(
        &creds,
        &ClrOptions {
            id: "not an iri",
            ..base.clone()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("IRI"), "{e}");
    let no_achievement = vec![json!({"credentialSubject": {"id": LEARNER}})];
    assert!(clr_credential(&no_achievement, &base).is_err());
}
