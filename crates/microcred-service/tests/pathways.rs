//! Pathways in the service, on each backend: an achievement whose `stackingRequirement` names
//! achievements of this service (its own, or another institution's on the same service) is
//! stored only when every one exists; one published elsewhere is a warning; the public
//! catalogue shows each pathway's rule and, for each achievement, the pathways it stacks into.
//! Embedded endorsements are verified when a version is stored (a tampered one is refused).
//! The Digital Fluency series issued by the service stacks, offline, into its certificate
//! (credentials of versioned achievements satisfy a rule naming the achievement).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN};
use common::setup::{create_institution, examples, read_json, token, ALL_SCOPES};
use microcred_core::{
    check_stack, endorsement_credential, sign, Component, Cryptosuite, IssuerKey, KeyRing, Profile,
    Verdict, VerifyOptions,
};
use serde_json::{json, Value};

fn put(c: &Client, inst: &str, tok: &str, slug: &str, def: &Value) -> Response {
    c.send_json(
        "PUT",
        &format!("/v1/institutions/{inst}/achievements/{slug}"),
        Some(tok),
        def,
        &[],
    )
}

fn example(name: &str) -> Value {
    read_json(&examples().join(format!("achievements/{name}.json")))
}

/// The certificate, its rule naming `required`.
fn certificate(required: &[String]) -> Value {
    let mut cert = example("df-certificate");
    cert["stackingRequirement"]["requiredAchievement"] = json!(required);
    cert["stackingRequirement"]["minimumRequired"] = json!(required.len());
    cert
}

fn rules(r: &Response) -> Vec<String> {
    let v = r.json();
    let list = v["details"]["findings"]
        .as_array()
        .or_else(|| v["warnings"].as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn pathways(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let base = s.base();
    create_institution(c, "north", ADMIN, &json!({}));
    create_institution(c, "south", ADMIN, &json!({}));
    let north = token(c, "north", ADMIN, ALL_SCOPES);
    let south = token(c, "south", ADMIN, ALL_SCOPES);
    for name in ["df-101", "df-102"] {
        assert_eq!(put(c, "north", &north, name, &example(name)).status, 201);
    }
    // DF-103 is taught at the other college: credit transfer within the portal.
    assert_eq!(
        put(c, "south", &south, "df-103", &example("df-103")).status,
        201
    );
    let ours = |inst: &str, slug: &str| format!("{base}/institutions/{inst}/achievements/{slug}");

    // A reference that does not resolve is refused, naming it.
    let missing = certificate(&[ours("north", "df-101"), ours("north", "df-109")]);
    let r = put(c, "north", &north, "df-certificate", &missing);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        rules(&r).contains(&"mc.stackingRequirement.unresolved".to_owned()),
        "{}",
        r.text()
    );
    assert!(r.text().contains("df-109"), "{}", r.text());
    // As is a version that does not exist.
    let r = put(
        c,
        "north",
        &north,
        "df-certificate",
        &certificate(&[format!("{}/versions/7", ours("north", "df-101"))]),
    );
    assert_eq!(r.status, 422, "{}", r.text());

    // Resolving references (own, another institution's, a version) are stored; one published
    // elsewhere is a warning.
    let required = vec![
        ours("north", "df-101"),
        format!("{}/versions/1", ours("north", "df-102")),
        ours("south", "df-103"),
        "https://lakeshore.example/achievements/dc-200".to_owned(),
    ];
    let mut cert = certificate(&required);
    cert["stackingRequirement"]["minimumRequired"] = json!(3);
    let r = put(c, "north", &north, "df-certificate", &cert);
    assert_eq!(r.status, 201, "{}", r.text());
    let pathway_rules: Vec<String> = rules(&r)
        .into_iter()
        .filter(|r| r.starts_with("mc.stackingRequirement"))
        .collect();
    assert_eq!(
        pathway_rules,
        vec!["mc.stackingRequirement.external".to_owned()],
        "{}",
        r.text()
    );

    // The catalogue shows the pathway and what stacks into it.
    let r = c.get("/institutions/north/achievements?format=json", None);
    assert_eq!(r.status, 200);
    let items = r.json()["achievements"].as_array().unwrap().clone();
    let by = |slug: &str| items.iter().find(|i| i["slug"] == slug).unwrap().clone();
    assert_eq!(
        by("df-certificate")["stackingRequirement"]["requiredAchievement"],
        json!(required)
    );
    for slug in ["df-101", "df-102"] {
        assert_eq!(
            by(slug)["stacksInto"],
            json!([{"slug": "df-certificate", "url": ours("north", "df-certificate")}]),
            "{slug}"
        );
    }
    assert_eq!(by("df-certificate")["stacksInto"], json!([]));
}

fn endorsements_are_checked_when_stored(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, ALL_SCOPES);
    let council = IssuerKey::from_seed(&[9; 32]).unwrap();
    let endorser = Profile::new(council.controller(), "Acme Industry Council").unwrap();
    let subject = format!("{}/institutions/north/achievements/df-101", s.base());
    let unsigned = endorsement_credential(
        &endorser,
        &subject,
        Some("Meets our members' hiring needs"),
        "urn:uuid:5b0e8a8e-2f0c-4c8e-9d57-1a3c2b4d5e6f",
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
    )
    .unwrap();
    let endorsement = sign(
        &unsigned,
        &council,
        Cryptosuite::DEFAULT,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let mut def = example("df-101");
    def["endorsement"] = json!([endorsement.clone()]);
    let r = put(c, "north", &tok, "df-101", &def);
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        rules(&r).iter().all(|r| !r.starts_with("mc.endorsement")),
        "{}",
        r.text()
    );
    // Issued credentials carry it, and verify with it.
    let r = c.post(
        "/v1/institutions/north/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "did:example:learner", "results": {"status": "Completed"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let credential = r.json()["credential"].clone();
    let did_doc = c.get("/institutions/north/did.json", None).json();
    let mut ring = KeyRing::new();
    ring.add_controller_document(&did_doc).unwrap();
    let report = microcred_core::verify_value(
        &credential,
        &VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring),
    );
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(report.endorsements.len(), 1);
    assert_eq!(
        report.endorsements[0].verdict,
        Verdict::Valid,
        "{:#?}",
        report.endorsements
    );

    // A tampered endorsement is refused.
    let mut tampered = endorsement;
    tampered["credentialSubject"]["endorsementComment"] = json!("Something else");
    def["endorsement"] = json!([tampered]);
    def["name"] = json!("Digital Fluency 1 (second edition)");
    let r = put(c, "north", &tok, "df-101", &def);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        rules(&r).contains(&"mc.endorsement.invalid".to_owned()),
        "{}",
        r.text()
    );
}

/// The series issued by the service verifies as a stack offline, against the certificate's
/// rule naming the catalogue's (unversioned) achievements.
fn issued_series_stacks(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let base = s.base();
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, ALL_SCOPES);
    let names = ["df-101", "df-102", "df-103"];
    for name in names {
        assert_eq!(put(c, "north", &tok, name, &example(name)).status, 201);
    }
    let required: Vec<String> = names
        .iter()
        .map(|n| format!("{base}/institutions/north/achievements/{n}"))
        .collect();
    assert_eq!(
        put(c, "north", &tok, "df-certificate", &certificate(&required)).status,
        201
    );
    let mut issued = Vec::new();
    for name in names.iter().chain(&["df-certificate"]) {
        let r = c.post(
            "/v1/institutions/north/credentials",
            Some(&tok),
            &json!({"achievement": name, "recipient": "did:example:amara", "results": {"status": "Completed"}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        issued.push(r.json()["credential"].clone());
    }
    let did_doc = c.get("/institutions/north/did.json", None).json();
    let mut ring = KeyRing::new();
    ring.add_controller_document(&did_doc).unwrap();
    let options = VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring);
    let reports: Vec<_> = issued
        .iter()
        .map(|v| microcred_core::verify_value(v, &options))
        .collect();
    let components: Vec<Component<'_>> = (0..3)
        .map(|i| Component {
            credential: &issued[i],
            bytes: None,
            report: &reports[i],
        })
        .collect();
    let stack = check_stack(&issued[3], &reports[3], &components, &[]);
    assert_eq!(stack.verdict, Verdict::Valid, "{stack:#?}");
    assert!(issued[0]["credentialSubject"]["achievement"]["id"]
        .as_str()
        .unwrap()
        .ends_with("/achievements/df-101/versions/1"));
}

on_each_backend!(
    pathways,
    endorsements_are_checked_when_stored,
    issued_series_stacks
);
