//! Tenant isolation, for every route at once: each operation of `openapi.json` whose path has
//! `{inst}` and that requires a token is sent to a running service
//!
//! - with no token: 401 JSON;
//! - with a token of another institution holding every scope: 403 JSON, the same answer for
//!   an existing institution (with an achievement, a credential and a token to find) as for
//!   one that does not exist, so a 403 reveals nothing.
//!
//! The service runs on each backend (SQLite; PostgreSQL when `MICROCRED_TEST_POSTGRES` is set,
//! see `common/backend.rs`).
//!
//! `tests/openapi.rs` checks that `openapi.json` lists exactly the routes the router serves,
//! so a new route is walked here too; the check itself is `auth::Authorized` (see `auth.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN};
use common::setup::{create_institution, create_token, institution_with_achievement, ALL_SCOPES};
use serde_json::{json, Value};

const OPENAPI: &str = include_str!("../openapi.json");

/// An operation of the document: method and path template.
struct Operation {
    method: String,
    path: String,
    authenticated: bool,
}

/// Whether a security requirement list demands an API token (the `bearer` scheme): not
/// empty, and every requirement names it (an empty one, `{}`, makes authentication optional).
/// The wallet endpoints' OID4VCI access tokens (`oid4vciAccessToken`) are another scheme: a
/// wallet's token for one offer, checked by those endpoints themselves (`tests/wallets.rs`).
fn demands_token(security: &Value) -> bool {
    security.as_array().is_some_and(|reqs| {
        !reqs.is_empty()
            && reqs
                .iter()
                .all(|r| r.as_object().is_some_and(|o| o.contains_key("bearer")))
    })
}

/// Every operation whose path has `{inst}`, with whether it requires a token (its own
/// `security`, else the document's).
fn institution_operations(doc: &Value) -> Vec<Operation> {
    let default = doc.get("security").cloned().unwrap_or(json!([]));
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.contains("{inst}") {
            continue;
        }
        for (method, op) in item.as_object().expect("a path item") {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            out.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                authenticated: demands_token(op.get("security").unwrap_or(&default)),
            });
        }
    }
    out
}

/// The concrete path of `template` for institution `inst`, with ids of things that exist in
/// the existing institution.
fn concrete(template: &str, inst: &str, credential: &str, token: &str, offer: &str) -> String {
    let mut out = Vec::new();
    let mut previous = "";
    for segment in template.split('/') {
        let value = match segment {
            "{inst}" => inst,
            "{id}" if previous == "tokens" => token,
            "{id}" if previous == "offers" => offer,
            "{index}" => "0",
            "{id}" => credential,
            "{ach}" => "df-101",
            s if s.starts_with('{') => panic!("{template}: no value for {s}"),
            s => s,
        };
        out.push(value.to_owned());
        previous = segment;
    }
    out.join("/")
}

fn send(c: &Client, method: &str, path: &str, token: Option<&str>) -> Response {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let body: Option<&[u8]> = match method {
        "POST" | "PUT" | "PATCH" => Some(b"{}"),
        _ => None,
    };
    c.request(method, path, &headers, body)
}

fn assert_json_error(r: &Response, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{what}: not JSON: {:?}",
        r.header("content-type")
    );
    assert!(
        !r.error().is_empty(),
        "{what}: no error message: {}",
        r.text()
    );
}

fn every_institution_route_refuses_strangers_and_reveals_nothing(backend: Backend) {
    let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    let operations = institution_operations(&doc);
    // Public operations with `{inst}` are the published pages (profile, DID document,
    // catalogue), never the private `/v1` API.
    for op in operations.iter().filter(|op| !op.authenticated) {
        assert!(
            !op.path.starts_with("/v1/"),
            "{} {} is documented as public",
            op.method,
            op.path
        );
    }
    let private: Vec<_> = operations.iter().filter(|op| op.authenticated).collect();
    assert!(
        private.len() >= 20,
        "only {} authenticated {{inst}} operations found",
        private.len()
    );

    let server = TestServer::start_on(backend);
    let c = &server.client;
    // The target: an institution with an achievement, a credential and a token.
    let own = institution_with_achievement(c, "target", ADMIN, &json!({}));
    let r = c.post(
        "/v1/institutions/target/credentials",
        Some(&own),
        &json!({"achievement": "df-101", "recipient": "learner@example.org", "results": {"final-assessment": 86, "status": "Completed"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let credential = r.json()["id"].as_str().unwrap().to_owned();
    let r = create_token(c, "target", ADMIN, &["issue"]);
    assert_eq!(r.status, 201, "{}", r.text());
    let token_id = r.json()["id"].as_str().unwrap().to_owned();
    let r = c.post(
        "/v1/institutions/target/offers",
        Some(&own),
        &json!({"credentials": [{"achievement": "df-101", "recipient": "learner@example.org", "pending": true}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let offer = r.json()["id"].as_str().unwrap().to_owned();
    // The stranger: another institution's token with every scope.
    create_institution(c, "stranger", ADMIN, &json!({}));
    let r = create_token(c, "stranger", ADMIN, ALL_SCOPES);
    assert_eq!(r.status, 201, "{}", r.text());
    let stranger = r.json()["token"].as_str().unwrap().to_owned();

    for op in private {
        let what = format!("{} {}", op.method, op.path);
        let existing = concrete(&op.path, "target", &credential, &token_id, &offer);
        let missing = concrete(
            &op.path,
            "no-such-institution",
            &credential,
            &token_id,
            &offer,
        );

        let r = send(c, &op.method, &existing, None);
        assert_json_error(&r, 401, &format!("{what} without a token"));

        let to_existing = send(c, &op.method, &existing, Some(&stranger));
        assert_json_error(&to_existing, 403, &format!("{what} by another institution"));
        let to_missing = send(c, &op.method, &missing, Some(&stranger));
        assert_eq!(
            (to_missing.status, to_missing.json()),
            (to_existing.status, to_existing.json()),
            "{what}: another institution's token tells an existing institution from a missing one"
        );
    }

    // Nothing was changed: the target's credential and token are still there.
    let r = c.get(
        &format!("/v1/institutions/target/credentials/{credential}"),
        Some(&own),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["revoked"], json!(false), "{}", r.text());
    let r = c.get(
        &format!("/v1/institutions/target/offers/{offer}"),
        Some(&own),
    );
    assert_eq!(r.json()["state"], "offered", "{}", r.text());
    assert_eq!(r.json()["items"][0]["state"], "pending", "{}", r.text());
    let r = c.get("/v1/institutions/target/tokens", Some(ADMIN));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked"] == json!(false)),
        "{}",
        r.text()
    );
}

on_each_backend!(every_institution_route_refuses_strangers_and_reveals_nothing);
