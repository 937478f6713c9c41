//! The pages people look at, served by a real server on a loopback port: a credential's page
//! and an institution's catalogue as HTML for browsers, while programs keep getting the exact
//! stored JSON. (The headless-browser check and HTML validation are `tests/pages/run.sh`.)
//! Every test runs on each backend (SQLite; PostgreSQL when `MICROCRED_TEST_POSTGRES` is set,
//! see `common/backend.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::server::{TestServer, ADMIN};
use common::setup::{create_institution, examples, read_json, token, ALL_SCOPES};

use common::http::{Client, Response};
use common::pathway::{council_endorsement, issue_one, wait_for_certificates};
use serde_json::{json, Value};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const EVIL: &str = "Data <script>alert(1)</script> & \"Friends\"";

fn get(c: &Client, path: &str, accept: Option<&str>) -> Response {
    let h: Vec<(&str, &str)> = accept.map(|a| vec![("Accept", a)]).unwrap_or_default();
    c.request("GET", path, &h, None)
}

/// An institution with one achievement (its name and description hostile markup, its
/// language French) and one credential; returns (token, credential path, stored salt).
fn setup(c: &Client) -> (String, String, String) {
    let profile = read_json(&examples().join("issuer-profile.json"));
    let r = c.post(
        "/v1/institutions",
        Some(ADMIN),
        &json!({"slug": "northbridge", "profile": profile}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.post(
        "/v1/institutions/northbridge/tokens",
        Some(ADMIN),
        &json!({"scopes": ["issue", "manage", "revoke"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();
    let mut ach = read_json(&examples().join("achievements/df-101.json"));
    ach["name"] = json!(EVIL);
    ach["description"] = json!("<img src=x onerror=alert(2)> learns things");
    ach["inLanguage"] = json!("fr-CA");
    let r = c.send_json(
        "PUT",
        "/v1/institutions/northbridge/achievements/df-101",
        Some(&token),
        &ach,
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let plain = read_json(&examples().join("achievements/df-102.json"));
    let r = c.send_json(
        "PUT",
        "/v1/institutions/northbridge/achievements/df-102",
        Some(&token),
        &plain,
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.post(
        "/v1/institutions/northbridge/credentials",
        Some(&token),
        &json!({"achievement": "df-101", "recipient": "amara@example.org",
                "results": {"final-assessment": 86, "status": "Completed"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    let url = body["url"].as_str().unwrap().to_owned();
    let salt = body["credential"]["credentialSubject"]["identifier"][0]["salt"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url
        .strip_prefix(&format!("http://{}", c.addr))
        .unwrap()
        .to_owned();
    (token, path, salt)
}

fn credential_page_shows_the_credential_escaped_and_verified(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let (_, path, salt) = setup(c);
    let stored = get(c, &path, None);
    assert_eq!(stored.status, 200);
    let vc: Value = serde_json::from_slice(&stored.body).unwrap();

    let r = get(c, &path, Some(BROWSER));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("vary"), Some("accept"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    let html = r.text();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<html lang=\"fr-CA\">"));

    // Untrusted content is text, never markup.
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(html
        .contains("<h1>Data &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Friends&quot;</h1>"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt; learns things"));

    // What people look for.
    for needle in [
        "<header class=\"site\">",
        "<main class=\"wrap\">",
        "Northbridge College of Applied Arts and Technology</a>, Canada",
        "<span>Microcredential</span>",
        "Code DF-101",
        "class=\"badge-img\"",
        "Issued to a hashed e-mail identity",
        "Competencies and frameworks",
        "ESCO - European Skills, Competences, Qualifications and Occupations",
        "<code>1973c966-f236-40c9-b2d4-5d71a89019be</code>",
        "<th scope=\"col\">Framework</th>",
        "Final performance assessment",
        "<td data-label=\"Required\">70 %</td>",
        "<strong>86 %</strong>",
        "<strong>Completed</strong>",
        "<dt>Workload</dt><dd>15 hours</dd>",
        "<dt>Credits</dt><dd>1 ",
        "<dt>Learning mode</dt><dd>Online</dd>",
        "Northbridge College micro-credential approval process",
        "Stackable: stacks into",
        "✓ Verified",
        "<th scope=\"row\">Signature</th><td class=\"o-pass\" data-label=\"Result\">✓ Passed</td>",
        "<th scope=\"row\">Status</th><td class=\"o-pass\" data-label=\"Result\">✓ Passed</td>",
        "<th scope=\"row\">Validity</th><td class=\"o-pass\" data-label=\"Result\">✓ Passed</td>",
        "No expiry date",
        "Add to LinkedIn profile",
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&amp;name=Data%20%3Cscript%3E",
        "&amp;organizationName=Northbridge%20College%20of%20Applied%20Arts%20and%20Technology",
        "Download credential (JSON)",
        "/badge.png\" download=",
        "<meta property=\"og:type\" content=\"website\">",
        "<meta property=\"og:title\" content=\"Data &lt;script&gt;",
        "<meta property=\"og:image\" content=\"https://credentials.northbridge.example/images/df-101.png\">",
        "<link rel=\"alternate\" type=\"application/vc+ld+json\" href=\"",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    let url = vc["id"].as_str().unwrap();
    assert!(html.contains(&format!("<meta property=\"og:url\" content=\"{url}\">")));
    assert!(html.contains(&format!("href=\"{url}?format=json\"")));
    let year = &vc["validFrom"].as_str().unwrap()[..4];
    assert!(html.contains(&format!("&amp;issueYear={year}&amp;issueMonth=")));
    // The learner's salt and hash never appear.
    let hash = vc["credentialSubject"]["identifier"][0]["identityHash"]
        .as_str()
        .unwrap();
    assert!(!html.contains(&salt) && !html.contains(hash.trim_start_matches("sha256$")));
    assert!(!html.contains("amara"));
    // No JavaScript anywhere, no external style sheets or scripts.
    assert!(!html.contains("javascript:") && !html.contains("<link rel=\"stylesheet\""));
}

fn content_negotiation_never_alters_the_json(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let (_, path, _) = setup(c);
    let stored = get(c, &path, None);
    assert_eq!(stored.status, 200);
    assert_eq!(stored.header("vary"), Some("accept"));
    let json_url = format!("{path}?format=json");
    for (accept, p, ct) in [
        (Some("application/json"), path.as_str(), "application/json"),
        (
            Some("application/vc+ld+json"),
            path.as_str(),
            "application/vc+ld+json",
        ),
        (Some("*/*"), path.as_str(), "application/json"),
        (
            Some("text/html;q=0.5, application/json"),
            path.as_str(),
            "application/json",
        ),
        (
            Some("text/html, application/json"),
            path.as_str(),
            "application/json",
        ),
        (Some(BROWSER), json_url.as_str(), "application/json"),
        (None, json_url.as_str(), "application/json"),
    ] {
        let r = get(c, p, accept);
        assert_eq!(r.status, 200, "{accept:?} {p}");
        assert_eq!(r.body, stored.body, "{accept:?} {p}: bytes differ");
        assert_eq!(r.header("content-type"), Some(ct), "{accept:?} {p}");
        assert_eq!(r.header("vary"), Some("accept"), "{accept:?} {p}");
    }
    // The page is served after the JSON was (cached body) and before (fresh): same bytes.
    let _ = get(c, &path, Some(BROWSER));
    assert_eq!(get(c, &path, Some("application/json")).body, stored.body);

    // Unknown credentials are 404 for browsers too.
    let r = get(
        c,
        "/credentials/00000000-0000-0000-0000-000000000000",
        Some(BROWSER),
    );
    assert_eq!(r.status, 404);
    let r = get(c, "/credentials/nope", Some(BROWSER));
    assert_eq!(r.status, 404);
}

fn revoked_credentials_show_as_not_valid_live(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let (token, path, _) = setup(c);
    let id = path.rsplit('/').next().unwrap();
    let before = get(c, &path, None).body;
    let r = c.post(
        &format!("/v1/institutions/northbridge/credentials/{id}/revoke"),
        Some(&token),
        &json!({"reason": "issued in error"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let html = get(c, &path, Some(BROWSER)).text();
    assert!(html.contains("✗ Not valid"), "{html}");
    assert!(html.contains(
        "<th scope=\"row\">Status</th><td class=\"o-fail\" data-label=\"Result\">✗ Failed</td>"
    ));
    assert!(!html.contains("✓ Verified"));
    // The celebratory badge image is not shown on a credential that does not verify.
    assert!(!html.contains("class=\"badge-img\""));
    // Revocation changes the status list, never the credential.
    assert_eq!(get(c, &path, None).body, before);
}

fn catalogue_page_lists_the_microcredentials(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    setup(c);
    let r = get(c, "/institutions/northbridge/achievements", Some(BROWSER));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("vary"), Some("accept"));
    let html = r.text();
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    for needle in [
        "<html lang=\"en\">",
        "<h1>Microcredentials</h1>",
        "2 microcredentials on offer",
        "Data &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Friends&quot;</a>",
        "/institutions/northbridge/achievements/df-101\">",
        "/institutions/northbridge/achievements/df-102\">",
        "<td class=\"nowrap\" data-label=\"Code\">DF-101</td>",
        "<td data-label=\"Workload\">15 hours</td>",
        "<td data-label=\"Mode\">Online</td>",
        "<th scope=\"col\">Competencies</th>",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    // Programs keep the JSON catalogue.
    for accept in [None, Some("application/json"), Some("*/*")] {
        let r = get(c, "/institutions/northbridge/achievements", accept);
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["achievements"].as_array().unwrap().len(), 2);
    }
    let r = get(
        c,
        "/institutions/northbridge/achievements?format=json",
        Some(BROWSER),
    );
    assert_eq!(r.json()["achievements"].as_array().unwrap().len(), 2);
    let r = get(c, "/institutions/nobody/achievements", Some(BROWSER));
    assert_eq!(r.status, 404);
}

/// Credentials carry the extension terms in an inline context (no URL nobody serves), and
/// every term IRI has its definition at `/ns/microcred/v1#term`.
fn extension_terms_are_inline_and_defined_at_the_vocabulary_page(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let (_, path, _) = setup(c);
    let vc: Value = serde_json::from_slice(&get(c, &path, None).body).unwrap();
    let contexts = vc["@context"].as_array().unwrap();
    assert_eq!(
        vc["credentialSubject"]["@context"],
        microcred_core::microcred_context()
    );
    assert!(contexts.iter().all(Value::is_string), "{contexts:?}");
    for ctx in contexts.iter().filter_map(Value::as_str) {
        assert!(
            !ctx.contains("microcredential.example"),
            "placeholder context URL in {contexts:?}"
        );
    }

    let r = get(c, "/ns/microcred/v1", Some(BROWSER));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = r.text();
    for t in microcred_core::MICROCRED_VOCABULARY {
        assert!(
            html.contains(&format!("<tr id=\"{}\">", t.term)),
            "{} has no anchor",
            t.term
        );
    }
    assert!(html.contains(microcred_core::MICROCRED_VOCAB));

    for accept in [None, Some("application/ld+json")] {
        let r = get(c, "/ns/microcred/v1", accept);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/ld+json"));
        assert_eq!(
            r.json(),
            json!({"@context": microcred_core::microcred_context()})
        );
    }
}

fn put_achievement(c: &Client, tok: &str, slug: &str, def: &Value) {
    let r = c.send_json(
        "PUT",
        &format!("/v1/institutions/north/achievements/{slug}"),
        Some(tok),
        def,
        &[],
    );
    assert_eq!(r.status, 201, "{slug}: {}", r.text());
}

/// The Digital Fluency series and its certificate: a component's page says what it stacks
/// into and what the holder still lacks; the certificate the service issues by itself shows
/// what it is stacked from (linked) and its pathway record; the catalogue shows the pathway;
/// an industry council's endorsement of DF-101 shows as valid on its credentials' pages.
fn stacked_credentials_and_endorsements_on_the_pages(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let base = s.base();
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, ALL_SCOPES);
    let ach = |slug: &str| format!("{base}/institutions/north/achievements/{slug}");

    let endorsement = council_endorsement(&ach("df-101"), "Meets our members' <hiring> needs");
    for slug in ["df-101", "df-102", "df-103"] {
        let mut def = read_json(&examples().join(format!("achievements/{slug}.json")));
        if slug == "df-101" {
            def["endorsement"] = json!([endorsement.clone()]);
        }
        put_achievement(c, &tok, slug, &def);
    }
    let mut cert = read_json(&examples().join("achievements/df-certificate.json"));
    let required: Vec<String> = ["df-101", "df-102", "df-103"].map(ach).to_vec();
    cert["stackingRequirement"]["requiredAchievement"] = json!(required);
    cert["stackingRequirement"]["minimumRequired"] = json!(3);
    put_achievement(c, &tok, "df-certificate", &cert);

    let amara = "did:example:amara";
    let mut parts = vec![
        issue_one(c, &tok, "df-101", amara),
        issue_one(c, &tok, "df-102", amara),
    ];
    let link = |slug: &str, name: &str| format!("<a href=\"{}\">{name}</a>", ach(slug));
    let html = get(c, &format!("/credentials/{}", parts[0]), Some(BROWSER)).text();
    for needle in [
        "<h2 id=\"stacks-into\">Stacks into</h2>".to_owned(),
        format!(
            "<strong>{}</strong>, which requires all 3 of: ",
            link("df-certificate", "Digital Fluency Certificate")
        ),
        format!(
            "Still missing for the holder of this credential: {}.",
            link("df-103", "Digital Fluency 3: Online Collaboration")
        ),
        "awarded within 3 years".to_owned(),
        // The endorsement: valid, by its endorser, its comment as text.
        "<h2 id=\"endorsements\">Endorsements</h2>".to_owned(),
        "Acme Industry Council".to_owned(),
        format!(
            "<code>{}</code>",
            microcred_core::IssuerKey::from_seed(&[9; 32])
                .unwrap()
                .controller()
        ),
        "<td data-label=\"Endorses\">The achievement</td>".to_owned(),
        "Meets our members' &lt;hiring&gt; needs".to_owned(),
        "✓ Valid (the endorser is not on a list of trusted endorsers)".to_owned(),
    ] {
        assert!(html.contains(&needle), "missing {needle:?} in\n{html}");
    }
    assert!(!html.contains("Stacked from"), "{html}");
    assert!(!html.contains("/clr"), "{html}");

    // The last part: the service issues the certificate by itself.
    parts.push(issue_one(c, &tok, "df-103", amara));
    let cert_id = wait_for_certificates(c, &tok, 1)
        .first()
        .and_then(|m| m["id"].as_str().map(str::to_owned))
        .expect("the certificate was not issued");
    let html = get(c, &format!("/credentials/{cert_id}"), Some(BROWSER)).text();
    assert!(html.contains("✓ Verified"), "{html}");
    assert!(
        html.contains("<h2 id=\"stacked-from\">Stacked from</h2>"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "its pathway requires all 3 of: {}, {}, {}",
        link("df-101", "Digital Fluency 1: Productivity Tools"),
        link("df-102", "Digital Fluency 2: Creating Digital Content"),
        link("df-103", "Digital Fluency 3: Online Collaboration"),
    )));
    for id in &parts {
        assert!(
            html.contains(&format!("<a href=\"{base}/credentials/{id}\">")),
            "no link to component {id} in\n{html}"
        );
    }
    for needle in [
        format!("<a href=\"{base}/credentials/{cert_id}/clr\">Pathway record (CLR 2.0)"),
        format!(
            "href=\"{base}/credentials/{cert_id}/clr\" download=\"pathway-record-{cert_id}.json\""
        ),
    ] {
        assert!(html.contains(&needle), "missing {needle:?} in\n{html}");
    }
    // The components' pages now say nothing is missing.
    let html = get(c, &format!("/credentials/{}", parts[1]), Some(BROWSER)).text();
    assert!(
        html.contains("The holder of this credential has every achievement it requires."),
        "{html}"
    );

    let html = get(c, "/institutions/north/achievements", Some(BROWSER)).text();
    for needle in [
        format!(
            "Pathway: requires all 3 of: {}, {}, {}, awarded within 3 years.",
            link("df-101", "Digital Fluency 1: Productivity Tools"),
            link("df-102", "Digital Fluency 2: Creating Digital Content"),
            link("df-103", "Digital Fluency 3: Online Collaboration"),
        ),
        format!(
            "Stacks into: {}.",
            link("df-certificate", "Digital Fluency Certificate")
        ),
    ] {
        assert!(html.contains(&needle), "missing {needle:?} in\n{html}");
    }
    assert_eq!(html.matches("Stacks into: ").count(), 3, "{html}");
}

on_each_backend!(
    credential_page_shows_the_credential_escaped_and_verified,
    content_negotiation_never_alters_the_json,
    revoked_credentials_show_as_not_valid_live,
    catalogue_page_lists_the_microcredentials,
    extension_terms_are_inline_and_defined_at_the_vocabulary_page,
    stacked_credentials_and_endorsements_on_the_pages
);
