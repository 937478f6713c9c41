//! The service under hostile requests, against a real server on a loopback port on each
//! backend (SQLite; PostgreSQL when `MICROCRED_TEST_POSTGRES` is set, see `common/backend.rs`):
//!
//! - `every_error_body_is_json`: invalid UTF-8 in a path, bad query strings, wrong content
//!   type, oversize bodies, unknown methods and paths all answer JSON `{"error": ...}`.
//! - `tokens_grant_only_scopes_they_hold`: a `manage` token cannot mint a more powerful token.
//! - `saturated_verification_answers_503_and_the_rest_still_answers`: with the public share of
//!   the CPU pool taken, an extra unauthenticated verification gets 503 + `Retry-After` at
//!   once, while `/healthz` and authenticated work (on the same pool) still answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN};
use common::setup::{
    create_institution, create_token, institution_with_achievement, put_achievement, token,
};
use serde_json::{json, Value};

/// POSTs the JSON `body` to `path` without a token.
fn post_json_bytes(c: &Client, path: &str, body: &[u8]) -> Response {
    c.request(
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(body),
    )
}

fn issue(c: &Client, slug: &str, tok: &str, recipient: &str) -> Response {
    c.post(
        &format!("/v1/institutions/{slug}/credentials"),
        Some(tok),
        &json!({"achievement": "df-101", "recipient": recipient, "results": {"final-assessment": 86, "status": "Completed"}}),
    )
}

/// Asserts a JSON error answer with `status` and returns its message.
#[track_caller]
fn json_error(r: &Response, status: u16) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "status {status}: content-type {ct:?}: {}",
        r.text()
    );
    let message = r.error();
    assert!(!message.is_empty(), "{}", r.text());
    message
}

fn every_error_body_is_json(backend: Backend) {
    let s = TestServer::start_on_with(backend, |c| c.limits.body_bytes = 4096);
    let c = &s.client;
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, &["issue", "revoke", "manage"]);
    let bearer = format!("Bearer {tok}");
    let auth: &[(&str, &str)] = &[("Authorization", &bearer)];

    // Invalid UTF-8 in a path segment: the service's own extractor, and axum's (badge route).
    let m = json_error(&c.get("/credentials/%FF", None), 400);
    assert!(m.contains("UTF-8"), "{m}");
    json_error(&c.get("/credentials/%FF/badge.png", None), 400);
    json_error(&c.get("/credentials/%C3%28/status", None), 400);
    json_error(&c.get("/v1/institutions/%FF", Some(ADMIN)), 400);
    json_error(
        &c.request("GET", "/v1/institutions/north/credentials/%FE", auth, None),
        400,
    );

    // Bad query strings.
    for q in [
        "limit=abc",
        "limit=99999999999999999999",
        "limit=-1",
        "offset=%FF",
    ] {
        json_error(
            &c.request(
                "GET",
                &format!("/v1/institutions/north/credentials?{q}"),
                auth,
                None,
            ),
            400,
        );
        let m = json_error(
            &c.request(
                "GET",
                &format!("/v1/institutions/north/status-events?{q}"),
                auth,
                None,
            ),
            400,
        );
        assert!(m.starts_with("bad query string"), "{m}");
    }

    // Wrong content type, and none.
    let r = c.request(
        "POST",
        "/v1/institutions",
        &[
            ("Authorization", &format!("Bearer {ADMIN}")),
            ("Content-Type", "text/plain"),
        ],
        Some(b"{}"),
    );
    json_error(&r, 415);
    let r = c.request(
        "POST",
        "/v1/institutions/north/tokens",
        auth,
        Some(br#"{"scopes": ["issue"]}"#),
    );
    json_error(&r, 415);

    // Bodies over the limit: on a JSON endpoint, a raw-body endpoint, and without reading it.
    let big = vec![b' '; 64 * 1024];
    for path in [
        "/v1/institutions/north/tokens",
        "/credentials/verify",
        "/presentations/verify",
    ] {
        let r = c.request(
            "POST",
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            Some(&big),
        );
        json_error(&r, 413);
    }

    // Unknown methods and paths.
    for method in ["DELETE", "PATCH", "BREW"] {
        let r = c.request(method, "/healthz", &[], None);
        json_error(&r, 405);
        assert!(
            r.header("allow").is_some_and(|a| a.contains("GET")),
            "{:?}",
            r.headers
        );
    }
    let r = c.request("PUT", "/credentials/verify", &[], Some(b"{}"));
    json_error(&r, 405);
    json_error(&c.get("/no/such/endpoint", None), 404);
    json_error(&c.get("/credentials/not-a-credential", None), 404);

    // Unauthenticated and forbidden stay JSON too, with their headers.
    let r = c.get("/v1/institutions", None);
    json_error(&r, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    json_error(&c.get("/v1/institutions", Some(&tok)), 403);
}

fn tokens_grant_only_scopes_they_hold(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    create_institution(c, "north", ADMIN, &json!({}));
    create_institution(c, "south", ADMIN, &json!({}));
    let count = |c: &Client| {
        c.get("/v1/institutions/north/tokens", Some(ADMIN)).json()["tokens"]
            .as_array()
            .unwrap()
            .len()
    };

    // The administrator grants anything.
    let manage = token(c, "north", ADMIN, &["manage"]);
    let all = token(c, "north", ADMIN, &["issue", "revoke", "manage"]);
    let manage_revoke = token(c, "north", ADMIN, &["manage", "revoke"]);
    let issue_only = token(c, "north", ADMIN, &["issue"]);
    let before = count(c);

    // A manage-only token cannot mint issue or revoke power; the 403 names what it lacks.
    let r = create_token(c, "north", &manage, &["issue"]);
    let m = json_error(&r, 403);
    assert!(m.contains("issue"), "{m}");
    let r = create_token(c, "north", &manage, &["issue", "revoke", "manage"]);
    let m = json_error(&r, 403);
    assert!(m.contains("issue") && m.contains("revoke"), "{m}");
    let r = create_token(c, "north", &manage_revoke, &["issue", "revoke"]);
    let m = json_error(&r, 403);
    assert!(m.contains("issue") && !m.contains("revoke"), "{m}");
    // Without manage, no token at all.
    json_error(&create_token(c, "north", &issue_only, &["issue"]), 403);
    // Nor for another institution.
    json_error(&create_token(c, "south", &all, &["manage"]), 403);
    assert_eq!(count(c), before, "a refused request created a token");

    // Its own scopes or fewer: allowed.
    let r = create_token(c, "north", &manage, &["manage"]);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = create_token(c, "north", &manage_revoke, &["revoke"]);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = create_token(c, "north", &all, &["issue", "revoke", "manage"]);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["scopes"], json!(["issue", "revoke", "manage"]));
    assert_eq!(count(c), before + 3);
}

fn saturated_verification_answers_503_and_the_rest_still_answers(backend: Backend) {
    // Two workers, no queue; unauthenticated work gets one of them and no waiting place.
    let s = TestServer::start_on_with(backend, |c| {
        c.limits.cpu_workers = Some(2);
        c.limits.cpu_queue = Some(0);
        c.limits.public_cpu_workers = Some(1);
        c.limits.public_cpu_queue = Some(0);
        c.limits.body_bytes = 32 << 20;
    });
    let c = s.client;
    let tok = institution_with_achievement(&c, "north", ADMIN, &json!({}));
    let r = issue(&c, "north", &tok, "did:example:amara");
    assert_eq!(r.status, 201, "{}", r.text());
    let credential: Value = r.json()["credential"].clone();
    assert!(credential.is_object(), "{}", r.text());

    // A light verification for probing; a heavy one (a presentation of many credentials) to
    // keep the public share busy.
    let light = serde_json::to_vec(&json!({"verifiableCredential": credential})).unwrap();
    let r = post_json_bytes(&c, "/credentials/verify", &light);
    assert_eq!(r.status, 200, "{}", r.text());
    let copies = 300;
    let heavy = serde_json::to_vec(&json!({"verifiablePresentation": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": vec![credential.clone(); copies],
    }}))
    .unwrap();
    let started = Instant::now();
    let r = post_json_bytes(&c, "/presentations/verify", &heavy);
    assert_eq!(r.status, 200, "{}", r.text());
    let heavy_time = started.elapsed();

    let stop = Arc::new(AtomicBool::new(false));
    let flood: Vec<_> = (0..2)
        .map(|_| {
            let (stop, heavy) = (stop.clone(), heavy.clone());
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = post_json_bytes(&c, "/presentations/verify", &heavy);
                    statuses.push(r.status);
                    if r.status == 503 {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                statuses
            })
        })
        .collect();

    // Probe until the public share is seen full: the extra verification is refused at once.
    let deadline = Instant::now() + Duration::from_secs(120);
    let refused = loop {
        assert!(
            Instant::now() < deadline,
            "the public share never filled (a heavy verification takes {heavy_time:?})"
        );
        let asked = Instant::now();
        let r = post_json_bytes(&c, "/credentials/verify", &light);
        if r.status == 503 {
            break (r, asked.elapsed());
        }
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    };
    let (r, waited) = refused;
    let m = json_error(&r, 503);
    assert!(m.contains("busy"), "{m}");
    let retry: u64 = r
        .header("retry-after")
        .expect("a 503 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=30).contains(&retry), "Retry-After: {retry}");
    assert!(
        waited < heavy_time.max(Duration::from_millis(200)),
        "the refusal waited {waited:?}"
    );

    // Meanwhile the rest answers: health, and authenticated work on the same CPU pool
    // (linting an achievement) and issuance.
    assert_eq!(c.get("/healthz", None).status, 200);
    let r = put_achievement(&c, "north", &tok, "df-102");
    assert_eq!(r.status, 201, "{}", r.text());
    let r = issue(&c, "north", &tok, "did:example:bo");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        c.get("/v1/institutions/north", Some(&tok)).status,
        200,
        "authenticated reads answer"
    );

    stop.store(true, Ordering::Relaxed);
    let statuses: Vec<u16> = flood.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    // The pool recovers: verification works again.
    let r = post_json_bytes(&c, "/credentials/verify", &light);
    assert_eq!(r.status, 200, "{}", r.text());
}

on_each_backend!(
    every_error_body_is_json,
    tokens_grant_only_scopes_they_hold,
    saturated_verification_answers_503_and_the_rest_still_answers
);
