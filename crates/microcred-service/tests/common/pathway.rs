//! Pathway helpers shared by the HTTP tests of pathways and pages: issuing one credential of
//! institution `north`, waiting for the certificates the service issues by itself, and an
//! industry council's endorsement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_core::{endorsement_credential, sign, Cryptosuite, IssuerKey, Profile};
use serde_json::{json, Value};

use super::http::Client;

/// Issues achievement `slug` of `north` to `recipient` (status Completed); its id.
pub fn issue_one(c: &Client, tok: &str, slug: &str, recipient: &str) -> String {
    let r = c.post(
        "/v1/institutions/north/credentials",
        Some(tok),
        &json!({"achievement": slug, "recipient": recipient, "results": {"status": "Completed"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The certificates (`df-certificate`) of `north` so far, newest first.
pub fn certificates(c: &Client, tok: &str) -> Vec<Value> {
    let r = c.get("/v1/institutions/north/credentials?limit=500", Some(tok));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["achievement"] == "df-certificate")
        .cloned()
        .collect()
}

/// Waits up to 20 s for `n` certificates (the stack worker issues them).
pub fn wait_for_certificates(c: &Client, tok: &str, n: usize) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let found = certificates(c, tok);
        if found.len() >= n || start.elapsed() > std::time::Duration::from_secs(20) {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The Acme Industry Council's signed endorsement of `subject`, with `comment`.
pub fn council_endorsement(subject: &str, comment: &str) -> Value {
    let council = IssuerKey::from_seed(&[9; 32]).unwrap();
    let endorser = Profile::new(council.controller(), "Acme Industry Council").unwrap();
    let unsigned = endorsement_credential(
        &endorser,
        subject,
        Some(comment),
        "urn:uuid:5b0e8a8e-2f0c-4c8e-9d57-1a3c2b4d5e6f",
        time::OffsetDateTime::now_utc() - time::Duration::days(1),
    )
    .unwrap();
    sign(
        &unsigned,
        &council,
        Cryptosuite::DEFAULT,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap()
}
