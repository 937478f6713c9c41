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
use common::pathway::{certificates, council_endorsement, issue_one, wait_for_certificates};
use common::server::{TestServer, ADMIN};
use common::setup::{create_institution, examples, read_json, token, ALL_SCOPES};
use microcred_core::{
    check_stack, Component, Cryptosuite, IssuerKey, KeyRing, Profile, Verdict, VerifyOptions,
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
    let subject = format!("{}/institutions/north/achievements/df-101", s.base());
    let endorsement = council_endorsement(&subject, "Meets our members' hiring needs");
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

/// The service issues the certificate itself when a learner's last component arrives (in a
/// batch here), exactly once, listing and pinning the components; not for a learner missing a
/// part, whose part was revoked, or whose parts were not earned within the window; and for
/// e-mail recipients too.
fn stacked_credentials_are_issued_automatically(backend: Backend) {
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

    // Amara: two parts one by one, the last in a batch with other learners.
    let amara = "did:example:amara";
    let mut parts = vec![
        issue_one(c, &tok, "df-101", amara),
        issue_one(c, &tok, "df-102", amara),
    ];
    let r = c.post(
        "/v1/institutions/north/credentials/batch",
        Some(&tok),
        &json!({"achievement": "df-103", "rows": [
            {"recipient": "did:example:someone", "results": {"status": "Completed"}},
            {"recipient": amara, "results": {"status": "Completed"}},
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    parts.push(r.json()["results"][1]["id"].as_str().unwrap().to_owned());
    let found = wait_for_certificates(c, &tok, 1);
    assert_eq!(found.len(), 1, "{found:?}");
    let cert_id = found[0]["id"].as_str().unwrap().to_owned();
    let cert = c.get(&format!("/credentials/{cert_id}"), None);
    let cert_value = cert.json();
    assert_eq!(cert_value["credentialSubject"]["id"], amara);
    let evidence: Vec<String> = cert_value["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let mut part_bytes = Vec::new();
    for id in &parts {
        let body = c.get(&format!("/credentials/{id}"), None).body;
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            evidence.contains(&v["id"].as_str().unwrap().to_owned()),
            "{evidence:?}"
        );
        part_bytes.push(body);
    }
    assert_eq!(cert_value["relatedResource"].as_array().unwrap().len(), 3);

    // It verifies as a stack offline, the pins checked against the components' bytes.
    let did_doc = c.get("/institutions/north/did.json", None).json();
    let mut ring = KeyRing::new();
    ring.add_controller_document(&did_doc).unwrap();
    let options = VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring);
    let cert_report = microcred_core::verify(&cert.body, &options);
    assert_eq!(cert_report.verdict, Verdict::Valid, "{cert_report:#?}");
    let values: Vec<Value> = part_bytes
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap())
        .collect();
    let reports: Vec<_> = part_bytes
        .iter()
        .map(|b| microcred_core::verify(b, &options))
        .collect();
    let components: Vec<Component<'_>> = (0..3)
        .map(|i| Component {
            credential: &values[i],
            bytes: Some(&part_bytes[i]),
            report: &reports[i],
        })
        .collect();
    let stack = check_stack(&cert_value, &cert_report, &components, &[]);
    assert_eq!(stack.verdict, Verdict::Valid, "{stack:#?}");

    // Exactly once: another DF-101 for Amara issues no second certificate.
    issue_one(c, &tok, "df-101", amara);
    // Bea (e-mail, each credential with its own salt) misses DF-103 at first.
    let bea = "bea@example.org";
    issue_one(c, &tok, "df-101", bea);
    issue_one(c, &tok, "df-102", bea);
    // Chen's DF-101 is revoked before the rest arrive.
    let chen = "did:example:chen";
    let revoked = issue_one(c, &tok, "df-101", chen);
    let r = c.post(
        &format!("/v1/institutions/north/credentials/{revoked}/revoke"),
        Some(&tok),
        &json!({"reason": "issued in error"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    issue_one(c, &tok, "df-102", chen);
    issue_one(c, &tok, "df-103", chen);
    // Dan's DF-101 was awarded four years before the rest: outside the P3Y window.
    let dan = "did:example:dan";
    let r = c.post(
        "/v1/institutions/north/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": dan, "results": {"status": "Completed"},
                "validFrom": "2021-05-01T12:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    issue_one(c, &tok, "df-102", dan);
    issue_one(c, &tok, "df-103", dan);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(certificates(c, &tok).len(), 1);
    // Bea's last part: her certificate, to her (hashed) address.
    issue_one(c, &tok, "df-103", bea);
    let found = wait_for_certificates(c, &tok, 2);
    assert_eq!(found.len(), 2, "{found:?}");
    let bea_cert = found.iter().find(|m| m["id"] != cert_id.as_str()).unwrap();
    let v = c
        .get(
            &format!("/credentials/{}", bea_cert["id"].as_str().unwrap()),
            None,
        )
        .json();
    assert_eq!(
        v["credentialSubject"]["identifier"][0]["identityType"], "emailAddress",
        "{v:#}"
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(certificates(c, &tok).len(), 2);

    // The certificate's page links its pathway record, which verifies offline as a CLR:
    // the certificate and its three components, the rule met within it.
    let page = c.request(
        "GET",
        &format!("/credentials/{cert_id}"),
        &[("Accept", "text/html")],
        None,
    );
    assert!(
        page.text()
            .contains(&format!("{base}/credentials/{cert_id}/clr")),
        "{}",
        page.text()
    );
    let record = c.get(&format!("/credentials/{cert_id}/clr"), None);
    assert_eq!(record.status, 200, "{}", record.text());
    assert_eq!(
        record.header("content-type"),
        Some("application/vc+ld+json")
    );
    let record_value = record.json();
    // Verified as of now (the record was made after `options` was).
    let options = VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring);
    let record_report = microcred_core::verify(&record.body, &options);
    let clr = microcred_core::check_clr(&record_value, &record_report, &options, &[]);
    assert_eq!(clr.verdict, Verdict::Valid, "{clr:#?}");
    assert_eq!(clr.credentials.len(), 4);
    assert_eq!(clr.stacks.len(), 1);
    // A component has no pathway record of its own.
    assert_eq!(
        c.get(&format!("/credentials/{}/clr", parts[0]), None)
            .status,
        404
    );

    // The learner's record for staff: every credential of Bea (by her address), verified
    // with the address.
    let r = c.post(
        "/v1/institutions/north/learners/clr",
        Some(&tok),
        &json!({"recipient": bea}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let options = VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring);
    let report = microcred_core::verify(&r.body, &options);
    let known = [microcred_core::KnownIdentity {
        identity_type: "emailAddress".into(),
        value: bea.into(),
    }];
    let clr = microcred_core::check_clr(&v, &report, &options, &known);
    assert_eq!(clr.verdict, Verdict::Valid, "{clr:#?}");
    assert_eq!(clr.credentials.len(), 4);
    // Chen's revoked DF-101 is left out; nobody's record is 404.
    let r = c.post(
        "/v1/institutions/north/learners/clr",
        Some(&tok),
        &json!({"recipient": chen}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["credentialSubject"]["verifiableCredential"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = c.post(
        "/v1/institutions/north/learners/clr",
        Some(&tok),
        &json!({"recipient": "nobody@example.org"}),
    );
    assert_eq!(r.status, 404);
}

/// A credential of Lakeshore College for its DC-200, issued to `recipient` by the core's
/// issuance path (as another institution's issuer would).
fn lakeshore_credential(recipient: &str) -> Value {
    let key = IssuerKey::from_seed(&[7; 32]).unwrap();
    let achievement = microcred_core::Achievement::from_value(json!({
        "id": "https://lakeshore.example/achievements/dc-200",
        "type": ["Achievement"],
        "name": "Digital Collaboration 200",
        "description": "Collaborates online with shared documents and video meetings.",
        "criteria": {"narrative": "Passed the practical assessment."},
    }))
    .unwrap();
    let issuer = Profile::from_value(json!({
        "id": key.controller(), "type": ["Profile"], "name": "Lakeshore College",
    }))
    .unwrap();
    let t = microcred_core::CredentialTemplate::new(
        achievement,
        issuer,
        &microcred_core::LintOptions::new(),
    )
    .unwrap();
    let at = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let setup = t
        .proof_setup(
            &key,
            Cryptosuite::DEFAULT,
            at,
            microcred_core::bundled_contexts(),
        )
        .unwrap();
    let unsigned = t
        .build(
            &microcred_core::IssueRow::for_recipient(recipient),
            "urn:uuid:9a7f1c3e-2b4d-4e6f-8a1b-3c5d7e9f1a2b",
            "5a1t",
            at,
            &mut microcred_core::Spare::default(),
        )
        .unwrap();
    let (signed, _) = t
        .sign(
            unsigned,
            microcred_core::IssueCheck::Full,
            &setup,
            &key,
            microcred_core::bundled_contexts(),
        )
        .unwrap();
    signed
}

fn presentation(credentials: &[Value]) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": credentials,
    })
}

fn recognize(c: &Client, tok: &str, recipient: &str, credentials: &[Value]) -> Response {
    c.post(
        "/v1/institutions/north/learners/recognitions",
        Some(tok),
        &json!({"recipient": recipient, "presentation": presentation(credentials)}),
    )
}

/// Recognition of prior learning: a credential of another college, submitted as a
/// presentation, is recorded only once its issuer is recognized, only if it verifies and is
/// the learner's; recorded, it counts towards the pathway (the certificate is issued when the
/// learner's last own component arrives) and is part of the learner's record.
fn recognition_of_prior_learning(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let base = s.base();
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, ALL_SCOPES);
    for name in ["df-101", "df-102"] {
        assert_eq!(put(c, "north", &tok, name, &example(name)).status, 201);
    }
    let external = "https://lakeshore.example/achievements/dc-200";
    let required = vec![
        format!("{base}/institutions/north/achievements/df-101"),
        format!("{base}/institutions/north/achievements/df-102"),
        external.to_owned(),
    ];
    assert_eq!(
        put(c, "north", &tok, "df-certificate", &certificate(&required)).status,
        201
    );
    let amara = "did:example:amara";
    let dc200 = lakeshore_credential(amara);

    // Not recognized yet.
    let r = recognize(c, &tok, amara, std::slice::from_ref(&dc200));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["recorded"], 0);
    assert!(
        r.text().contains("not one this institution recognizes"),
        "{}",
        r.text()
    );

    let lakeshore = IssuerKey::from_seed(&[7; 32]).unwrap();
    let r = c.send_json(
        "PUT",
        "/v1/institutions/north/settings",
        Some(&tok),
        &json!({"recognizedIssuers": [{"id": lakeshore.controller(), "name": "Lakeshore College"}]}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["recognizedIssuers"][0]["name"],
        "Lakeshore College"
    );
    let bad = c.send_json(
        "PUT",
        "/v1/institutions/north/settings",
        Some(&tok),
        &json!({"recognizedIssuers": [{"id": "not an id", "name": "X"}]}),
        &[],
    );
    assert_eq!(bad.status, 422, "{}", bad.text());

    // Tampered, and another learner's: refused with the reason; the genuine one recorded.
    let mut tampered = dc200.clone();
    tampered["name"] = json!("Digital Collaboration 300");
    let someone = lakeshore_credential("did:example:someone");
    let r = recognize(c, &tok, amara, &[tampered, someone, dc200.clone()]);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["recorded"], 1, "{v:#}");
    assert!(v["credentials"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("does not verify"));
    assert!(v["credentials"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("not the learner's"));
    assert_eq!(v["credentials"][2]["reason"], "recorded");
    let r = recognize(c, &tok, amara, std::slice::from_ref(&dc200));
    assert_eq!(r.json()["credentials"][0]["reason"], "already recorded");

    // Amara's own parts: the certificate follows, counting DC-200.
    issue_one(c, &tok, "df-101", amara);
    assert!(wait_for_certificates_quietly(c, &tok));
    issue_one(c, &tok, "df-102", amara);
    let found = wait_for_certificates(c, &tok, 1);
    assert_eq!(found.len(), 1, "{found:?}");
    let cert = c
        .get(
            &format!("/credentials/{}", found[0]["id"].as_str().unwrap()),
            None,
        )
        .json();
    let evidence: Vec<&str> = cert["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert!(
        evidence.contains(&dc200["id"].as_str().unwrap()),
        "{evidence:?}"
    );

    // The learner's record holds the recognized credential unchanged, and verifies (trusting
    // both colleges).
    let r = c.post(
        "/v1/institutions/north/learners/clr",
        Some(&tok),
        &json!({"recipient": amara}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let record = r.json();
    let held = record["credentialSubject"]["verifiableCredential"]
        .as_array()
        .unwrap();
    assert!(held.contains(&dc200));
    let did_doc = c.get("/institutions/north/did.json", None).json();
    let mut ring = KeyRing::new();
    ring.add_controller_document(&did_doc).unwrap();
    let trust = microcred_core::TrustList::new(vec![
        microcred_core::TrustedIssuer {
            name: "Lakeshore".into(),
            id: lakeshore.controller().into(),
            keys: vec![],
        },
        microcred_core::TrustedIssuer {
            name: "North".into(),
            id: did_doc["id"].as_str().unwrap().into(),
            keys: vec![],
        },
    ]);
    let options = VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring).trust_list(&trust);
    let report = microcred_core::verify(&r.body, &options);
    let clr = microcred_core::check_clr(&record, &report, &options, &[]);
    assert_eq!(clr.verdict, Verdict::Valid, "{clr:#?}");
}

/// No certificate within 2 s (the learner's parts are not all there yet).
fn wait_for_certificates_quietly(c: &Client, tok: &str) -> bool {
    std::thread::sleep(std::time::Duration::from_secs(2));
    certificates(c, tok).is_empty()
}

on_each_backend!(
    pathways,
    endorsements_are_checked_when_stored,
    issued_series_stacks,
    stacked_credentials_are_issued_automatically,
    recognition_of_prior_learning
);
