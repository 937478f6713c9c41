//! No log line, at any level, carries a token or a request's concrete path or query: a real
//! server logs at `RUST_LOG=trace` through the service's own filter into a buffer while it
//! is sent bearer tokens and token-looking values in query strings and paths.
//!
//! Its own test binary: the subscriber it installs is global to the process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::server::{TestServer, ADMIN};
use common::setup::{create_institution, examples, read_json, token, ALL_SCOPES};
use serde_json::json;

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_never_carry_tokens_or_queries() {
    std::env::remove_var("MICROCRED_LOG");
    std::env::set_var("RUST_LOG", "trace");
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(microcred_service::log_filter())
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .init();

    let server = TestServer::start();
    let c = &server.client;
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, ALL_SCOPES);
    // Values that must never reach the log, as a client might send them by mistake.
    let secret_query = "mc_QUERYSECRETzzzz0123456789abcdefghijklmnopq";
    let secret_path = "mc_PATHSECRETyyyy0123456789abcdefghijklmnopqr";
    let ach = read_json(&examples().join("achievements/df-101.json"));
    let r = c.send_json(
        "PUT",
        &format!("/v1/institutions/north/achievements/df-101?access_token={secret_query}"),
        Some(&tok),
        &ach,
        &[],
    );
    assert!(r.status < 500, "{}", r.text());
    let bearer = format!("Bearer {tok}");
    for path in [
        format!("/v1/institutions/north/credentials?limit=5&token={secret_query}"),
        format!("/v1/institutions/north/credentials?limit={secret_query}"),
        format!("/v1/institutions/north/status-events?credential={secret_query}"),
        format!("/v1/institutions/north/status-events?limit={secret_query}"),
        format!("/v1/institutions/north/credentials/{secret_path}"),
        format!("/credentials/{secret_path}?access_token={secret_query}"),
        format!("/credentials/{secret_path}/badge.png?t={secret_query}"),
        format!("/institutions/north/achievements?format=json&key={secret_query}"),
        format!("/no/such/{secret_path}?q={secret_query}"),
        format!("/v1/institutions/{secret_path}"),
    ] {
        let r = c.request("GET", &path, &[("Authorization", &bearer)], None);
        assert!(r.status < 500, "{path}: {}", r.text());
    }
    // A wrong token, the administrator's, and one in a body that fails to parse.
    let r = c.get(
        &format!("/v1/institutions?x={secret_query}"),
        Some(secret_path),
    );
    assert_eq!(r.status, 401);
    assert_eq!(c.get("/v1/institutions", Some(ADMIN)).status, 200);
    let r = c.request(
        "POST",
        &format!("/credentials/verify?{secret_query}"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        Some(format!("{{\"verifiableCredential\": \"{secret_query}").as_bytes()),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    drop(server);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works, at trace level, and requests are logged by route template.
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "{log}");
    assert!(
        log.contains("route=/v1/institutions/{inst}/credentials"),
        "{log}"
    );
    assert!(log.contains("status=401"), "{log}");
    for secret in [ADMIN, tok.as_str(), secret_query, secret_path] {
        assert!(!log.contains(secret), "the log holds {secret}:\n{log}");
    }
    assert!(
        !log.contains("limit=5"),
        "a query string reached the log:\n{log}"
    );
    assert!(!log.contains("uri="), "a URI reached the log:\n{log}");
}
