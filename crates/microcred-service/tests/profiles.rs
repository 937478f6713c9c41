//! Lint profiles through HTTP: a real server on a loopback port, on each backend (SQLite;
//! PostgreSQL when `MICROCRED_TEST_POSTGRES` is set, see `common/backend.rs`).
//!
//! - `vc_api_issue_follows_the_institution_profile`: a MicroCredential without the EU Annex I
//!   elements is issued (201) without a profile and refused (422, one finding per missing
//!   element) once the institution chooses `eu-2022` (in its settings, or at creation).
//! - `v1_issuance_follows_the_achievement_override`: `?profile=` on an achievement overrides
//!   the institution's profile for `/v1` issuance, single and batch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN};
use common::setup::{examples, read_json};
use serde_json::{json, Value};

fn token(c: &Client, slug: &str) -> String {
    let r = c.post(
        &format!("/v1/institutions/{slug}/tokens"),
        Some(ADMIN),
        &json!({"scopes": ["issue", "manage"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

/// Institution `slug` (created with `extra` members, e.g. a lint profile); returns a token.
fn institution(c: &Client, slug: &str, extra: Value) -> String {
    let mut body =
        json!({"slug": slug, "profile": read_json(&examples().join("issuer-profile.json"))});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = c.post("/v1/institutions", Some(ADMIN), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    token(c, slug)
}

fn settings(c: &Client, slug: &str, tok: &str, body: Value) -> Response {
    c.send_json(
        "PUT",
        &format!("/v1/institutions/{slug}/settings"),
        Some(tok),
        &body,
        &[],
    )
}

/// A MicroCredential that is valid Open Badges 3.0 but has none of the EU Annex I elements
/// beyond those OB requires.
fn bare_microcredential() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.org/achievements/teamwork",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Teamwork",
                "description": "Collaboration within a group.",
                "criteria": {"narrative": "Nominated by peers, reviewed by staff."}
            }
        }
    })
}

/// Issues [`bare_microcredential`] through the VC API as institution `slug` (its published
/// Profile as the issuer).
fn vc_issue(c: &Client, slug: &str, tok: &str) -> Response {
    let mut credential = bare_microcredential();
    credential["issuer"] = c.get(&format!("/institutions/{slug}"), None).json();
    assert!(credential["issuer"]["id"].is_string(), "{credential}");
    c.post(
        "/credentials/issue",
        Some(tok),
        &json!({"credential": credential}),
    )
}

/// The `(severity, rule)` of each finding of a 422 answer.
fn findings(r: &Response) -> Vec<(String, String)> {
    r.json()["details"]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {}", r.text()))
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn errors(r: &Response) -> Vec<String> {
    findings(r)
        .into_iter()
        .filter(|(s, _)| s == "error")
        .map(|(_, rule)| rule)
        .collect()
}

fn vc_api_issue_follows_the_institution_profile(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let tok = institution(c, "north", json!({}));
    let r = vc_issue(c, "north", &tok);
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json()["verifiableCredential"]["proof"].is_object());

    // The institution chooses the EU profile: the same credential is refused, each missing
    // element named once (the issuer profile has its name and country).
    let r = settings(c, "north", &tok, json!({"lintProfile": "eu-2022"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["lintProfile"], "eu-2022");
    assert_eq!(r.json()["suspension"], false, "left out: unchanged");
    let r = c.get("/v1/institutions/north/settings", Some(&tok));
    assert_eq!(r.json()["lintProfile"], "eu-2022");
    let r = vc_issue(c, "north", &tok);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["details"]["lintProfile"], "eu-2022");
    assert_eq!(
        errors(&r),
        [
            "eu.workload",
            "eu.assessmentType",
            "eu.formOfParticipation",
            "eu.qualityAssurance"
        ]
    );
    // Settings change one member at a time; unknown profiles are refused, naming the known.
    let r = settings(c, "north", &tok, json!({"suspension": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["lintProfile"], "eu-2022");
    let r = settings(c, "north", &tok, json!({"lintProfile": "eu-2021"}));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("eu-2021"), "{}", r.text());
    assert_eq!(
        r.json()["details"]["available"],
        json!(["eu-2022", "heqco", "au-nmf", "nzqa"])
    );
    assert_eq!(settings(c, "north", &tok, json!({})).status, 422);
    // No profile again (null, or "none").
    for none in [Value::Null, json!("none")] {
        let r = settings(c, "north", &tok, json!({"lintProfile": none}));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["lintProfile"], Value::Null);
        assert_eq!(vc_issue(c, "north", &tok).status, 201);
    }

    // Chosen when the institution is created.
    let tok = institution(c, "south", json!({"lintProfile": "eu-2022"}));
    let r = c.get("/v1/institutions/south", Some(&tok));
    assert_eq!(r.json()["lintProfile"], "eu-2022", "{}", r.text());
    assert_eq!(vc_issue(c, "south", &tok).status, 422);
    let r = c.post(
        "/v1/institutions",
        Some(ADMIN),
        &json!({"slug": "west", "profile": {"name": "West"}, "lintProfile": "nope"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(c.get("/v1/institutions/west", Some(ADMIN)).status, 404);
}

fn v1_issuance_follows_the_achievement_override(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let tok = institution(c, "north", json!({}));
    let path = "/v1/institutions/north/achievements/df-101";
    let put = |query: &str, def: &Value| {
        c.send_json("PUT", &format!("{path}{query}"), Some(&tok), def, &[])
    };
    let issue = || {
        c.post(
            "/v1/institutions/north/credentials",
            Some(&tok),
            &json!({"achievement": "df-101", "recipient": "did:example:a"}),
        )
    };
    let batch = || {
        c.post(
            "/v1/institutions/north/credentials/batch",
            Some(&tok),
            &json!({"achievement": "df-101", "rows": [{"recipient": "did:example:b"}, {"recipient": "did:example:c"}]}),
        )
    };
    // A MicroCredential without quality assurance: a warning without a profile.
    let mut def = read_json(&examples().join("achievements/df-101.json"));
    def.as_object_mut().unwrap().remove("qualityAssurance");
    let r = put("", &def);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["lintProfile"], Value::Null);
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "eu.qualityAssurance" && f["severity"] == "warning"));
    assert_eq!(issue().status, 201);

    // Overriding with eu-2022 is refused: the definition fails it; nothing changes.
    let r = put("?profile=eu-2022", &def);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(errors(&r), ["eu.qualityAssurance"]);
    assert_eq!(issue().status, 201);
    let r = put("?profile=eu-2021", &def);
    assert_eq!(r.status, 422, "{}", r.text());

    // The institution chooses eu-2022: its issuance of this achievement is refused.
    assert_eq!(
        settings(c, "north", &tok, json!({"lintProfile": "eu-2022"})).status,
        200
    );
    let r = issue();
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["details"]["lintProfile"], "eu-2022");
    assert_eq!(errors(&r), ["eu.qualityAssurance"]);
    assert_eq!(batch().status, 422);

    // The achievement overrides it with no profile: same version, issuance follows it.
    let r = put("?profile=none", &def);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (
            &v["created"],
            &v["version"],
            &v["lintProfileOverride"],
            &v["lintProfile"]
        ),
        (&json!(false), &json!(1), &json!("none"), &Value::Null)
    );
    assert_eq!(issue().status, 201);
    let r = batch();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["issued"], 2, "{}", r.text());
    // A PUT without ?profile keeps the override.
    let r = put("", &def);
    assert_eq!(
        (r.status, &r.json()["lintProfileOverride"]),
        (200, &json!("none"))
    );

    // Back to the institution's profile: refused again while quality assurance is missing;
    // the complete definition passes and becomes version 2, following eu-2022.
    assert_eq!(put("?profile=inherit", &def).status, 422);
    let full = read_json(&examples().join("achievements/df-101.json"));
    let r = put("?profile=inherit", &full);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (&v["version"], &v["lintProfileOverride"], &v["lintProfile"]),
        (&json!(2), &Value::Null, &json!("eu-2022"))
    );
    assert_eq!(issue().status, 201);
    let r = c.get("/v1/institutions/north/achievements", Some(&tok));
    assert_eq!(
        r.json()["achievements"][0]["lintProfileOverride"],
        Value::Null
    );
}

on_each_backend!(
    vc_api_issue_follows_the_institution_profile,
    v1_issuance_follows_the_achievement_override
);
