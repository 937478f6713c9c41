//! Institutions, tokens and achievements set up through the HTTP API, shared by the HTTP tests
//! (and, through `#[path]`, by the CLI's tests of `microcred serve`, which bring their own
//! `http` module: this one needs nothing but that client).

// Each test binary uses a different part of these helpers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::http::{Client, Response};

/// Every scope a token can hold.
pub const ALL_SCOPES: &[&str] = &["issue", "revoke", "manage"];

/// The repository's `examples` directory.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Creates institution `slug` as `admin`, with the example issuer profile and the members of
/// `extra` (e.g. `{"suspension": true}`) in the request body.
pub fn create_institution(c: &Client, slug: &str, admin: &str, extra: &Value) {
    let profile = read_json(&examples().join("issuer-profile.json"));
    let mut body = json!({"slug": slug, "profile": profile});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = c.post("/v1/institutions", Some(admin), &body);
    assert_eq!(r.status, 201, "{}", r.text());
}

/// Asks, with token `by`, for a new token of institution `slug` with `scopes`.
pub fn create_token(c: &Client, slug: &str, by: &str, scopes: &[&str]) -> Response {
    c.post(
        &format!("/v1/institutions/{slug}/tokens"),
        Some(by),
        &json!({"scopes": scopes}),
    )
}

/// A new token of institution `slug` with `scopes`, created with token `by`.
pub fn token(c: &Client, slug: &str, by: &str, scopes: &[&str]) -> String {
    let r = create_token(c, slug, by, scopes);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

/// Puts the example achievement `name` (e.g. `df-101`) into institution `slug`'s catalogue.
pub fn put_achievement(c: &Client, slug: &str, tok: &str, name: &str) -> Response {
    let ach = read_json(&examples().join(format!("achievements/{name}.json")));
    c.send_json(
        "PUT",
        &format!("/v1/institutions/{slug}/achievements/{name}"),
        Some(tok),
        &ach,
        &[],
    )
}

/// Institution `slug` (created as `admin`, with `extra` members as in [`create_institution`])
/// with the DF-101 achievement; returns a token with every scope.
pub fn institution_with_achievement(c: &Client, slug: &str, admin: &str, extra: &Value) -> String {
    create_institution(c, slug, admin, extra);
    let tok = token(c, slug, admin, ALL_SCOPES);
    let r = put_achievement(c, slug, &tok, "df-101");
    assert_eq!(r.status, 201, "{}", r.text());
    tok
}
