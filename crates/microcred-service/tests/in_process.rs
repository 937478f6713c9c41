//! The service built in process, without a socket: [`AppState::open`] from a configuration,
//! [`app`] called through `tower::ServiceExt::oneshot`, and [`Background::finish`] to stop.
//! It issues a credential, checks the authorization extractors against the router's state,
//! stops, opens the same database again and finds the credential unchanged.
//!
//! [`AppState::open`]: microcred_service::AppState::open
//! [`app`]: microcred_service::app
//! [`Background::finish`]: microcred_service::Background::finish
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::backend::{Backend, TestDatabase};
use common::server::{test_config, ADMIN};
use common::setup::{examples, read_json};
use microcred_core::{KeyRing, Verdict, VerifyOptions};
use serde_json::{json, Value};
use tower::ServiceExt;

const BASE: &str = "https://issuer.example.edu";

/// Sends one request to `router`; returns the status and the body's bytes.
async fn call(
    router: &axum::Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(b).unwrap())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn config(db: &TestDatabase) -> microcred_service::Config {
    let mut config = test_config(db.setting.clone());
    config.base_url = Some(BASE.into());
    config
}

/// An institution with the DF-101 achievement; returns a token with every scope.
async fn institution(router: &axum::Router, slug: &str) -> String {
    let profile = read_json(&examples().join("issuer-profile.json"));
    let (s, b) = call(
        router,
        Method::POST,
        "/v1/institutions",
        Some(ADMIN),
        Some(&json!({"slug": slug, "profile": profile})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let (s, b) = call(
        router,
        Method::POST,
        &format!("/v1/institutions/{slug}/tokens"),
        Some(ADMIN),
        Some(&json!({"scopes": ["issue", "revoke", "manage"]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let token = json(&b)["token"].as_str().unwrap().to_owned();
    let achievement = read_json(&examples().join("achievements/df-101.json"));
    let (s, b) = call(
        router,
        Method::PUT,
        &format!("/v1/institutions/{slug}/achievements/df-101"),
        Some(&token),
        Some(&achievement),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    token
}

async fn issue_and_reopen(db: &TestDatabase) {
    let (state, background) = microcred_service::AppState::open(config(db)).await.unwrap();
    let router = microcred_service::app(state);

    let (s, b) = call(&router, Method::GET, "/healthz", None, None).await;
    assert_eq!((s, json(&b)), (StatusCode::OK, json!({"status": "ok"})));

    let token = institution(&router, "north").await;
    let other = institution(&router, "south").await;
    let issue = json!({"achievement": "df-101", "recipient": "learner@example.org", "results": {"final-assessment": 86, "status": "Completed"}});
    let (s, b) = call(
        &router,
        Method::POST,
        "/v1/institutions/north/credentials",
        Some(&token),
        Some(&issue),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let issued = json(&b);
    let id = issued["id"].as_str().unwrap().to_owned();
    assert_eq!(
        issued["url"].as_str().unwrap(),
        format!("{BASE}/credentials/{id}")
    );

    // The extractors take the tokens sub-state from the router's state: no token is 401,
    // another institution's token 403, and neither issues anything.
    let (s, _) = call(
        &router,
        Method::POST,
        "/v1/institutions/north/credentials",
        None,
        Some(&issue),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &router,
        Method::POST,
        "/v1/institutions/north/credentials",
        Some(&other),
        Some(&issue),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A domain error reaches the client with its HTTP status: an achievement that does not
    // exist is 404.
    let (s, b) = call(
        &router,
        Method::POST,
        "/v1/institutions/north/credentials",
        Some(&token),
        Some(&json!({"achievement": "no-such", "recipient": "learner@example.org"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["error"].as_str().unwrap().contains("no-such"));

    let (s, stored) = call(
        &router,
        Method::GET,
        &format!("/credentials/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, did_doc) = call(
        &router,
        Method::GET,
        "/institutions/north/did.json",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let did_doc = json(&did_doc);
    let mut ring = KeyRing::new();
    ring.add_controller_document(&did_doc).unwrap();
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(
        microcred_core::verify(&stored, &VerifyOptions::new(now, &ring)).verdict,
        Verdict::Valid
    );

    // Stop: the writers finish once the router (the last state handle) is gone.
    drop(router);
    background.finish().await.unwrap();

    // The same database, opened again: the credential is there byte for byte.
    let (state, background) = microcred_service::AppState::open(config(db)).await.unwrap();
    let router = microcred_service::app(state);
    let (s, again) = call(
        &router,
        Method::GET,
        &format!("/credentials/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, stored);
    drop(router);
    background.finish().await.unwrap();
}

fn in_process(backend: Backend) {
    // Made and removed outside the runtime: the PostgreSQL client of `TestDatabase` blocks.
    let db = TestDatabase::new(backend);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(issue_and_reopen(&db));
}

/// Without a base URL there is nothing to issue credentials under: refused at start.
#[test]
fn base_url_is_required() {
    let db = TestDatabase::new(Backend::Sqlite);
    let mut config = config(&db);
    config.base_url = None;
    let err = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(microcred_service::AppState::open(config))
        .unwrap_err();
    assert!(err.to_string().contains("base_url"), "{err}");
}

on_each_backend!(in_process);

/// Sends a GET and returns the whole response.
async fn get(router: &axum::Router, path: &str) -> axum::response::Response {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    router.clone().oneshot(req).await.unwrap()
}

async fn verifier_page() {
    let db = TestDatabase::new(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("index.html", "<!doctype html><title>v</title>"),
        ("verifier.js", "// page"),
        ("verifier.css", "body{}"),
        ("verifier-wasm.js", "globalThis.MICROCRED_WASM = \"\";"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }

    // Not configured: a JSON 404 that says how to install it.
    let (state, background) = microcred_service::AppState::open(config(&db))
        .await
        .unwrap();
    let router = microcred_service::app(state);
    let (s, b) = call(&router, Method::GET, "/verify/", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(json(&b)["error"]
        .as_str()
        .unwrap()
        .contains("build-verifier.sh"));
    drop(router);
    background.finish().await.unwrap();

    let mut c = config(&db);
    c.verifier_dir = Some(dir.path().to_owned());
    let (state, background) = microcred_service::AppState::open(c).await.unwrap();
    let router = microcred_service::app(state);
    let r = get(&router, "/verify").await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()[header::LOCATION], "/verify/");
    for (path, media_type, body) in [
        ("/verify/", "text/html", "<!doctype html>"),
        ("/verify/verifier.js", "text/javascript", "// page"),
        ("/verify/verifier.css", "text/css", "body{}"),
        ("/verify/verifier-wasm.js", "text/javascript", "globalThis"),
    ] {
        let r = get(&router, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        assert!(h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(media_type));
        // The page may connect nowhere, on every file it is made of.
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("connect-src 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(bytes.starts_with(body.as_bytes()), "{path}");
    }
    // A credential page points employers at it.
    let token = institution(&router, "north").await;
    let issue = json!({"achievement": "df-101", "recipient": "learner@example.org"});
    let (s, b) = call(
        &router,
        Method::POST,
        "/v1/institutions/north/credentials",
        Some(&token),
        Some(&issue),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&b));
    let id = json(&b)["id"].as_str().unwrap().to_owned();
    let req = Request::builder()
        .uri(format!("/credentials/{id}"))
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let r = router.clone().oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&html);
    assert!(
        html.contains(&format!("href=\"{BASE}/verify/\">offline verifier</a>")),
        "{html}"
    );
    for path in [
        "/verify/microcred.db",
        "/verify/..%2Fmicrocred.db",
        "/verify/index.html%00",
    ] {
        let (s, _) = call(&router, Method::GET, path, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    drop(router);
    background.finish().await.unwrap();

    // An incomplete folder is a configuration mistake, refused at start with what to do.
    std::fs::remove_file(dir.path().join("verifier-wasm.js")).unwrap();
    let mut c = config(&db);
    c.verifier_dir = Some(dir.path().to_owned());
    let err = microcred_service::AppState::open(c).await.unwrap_err();
    assert!(err.to_string().contains("verifier-wasm.js"), "{err}");
    assert!(err.to_string().contains("build-verifier.sh"), "{err}");
}

/// The employer's verifier page at `/verify/`: served from the built folder with its
/// Content-Security-Policy, nothing else from that folder, and a clear answer without it.
#[test]
fn the_verifier_page() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(verifier_page());
}
