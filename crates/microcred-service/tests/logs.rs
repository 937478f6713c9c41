//! No log line, at any level, carries a token or a request's concrete path or query: a real
//! server logs at `RUST_LOG=trace` through the service's own filter into a buffer while it
//! is sent bearer tokens and token-looking values in query strings and paths.
//!
//! The test runs on each backend (SQLite; PostgreSQL when `MICROCRED_TEST_POSTGRES` is set,
//! see `common/backend.rs`); on PostgreSQL the database URL carries a password, which must not
//! reach the log either.
//!
//! Its own test binary: the subscriber it installs is global to the process, so the two
//! backends' tests share it and run one at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use common::backend::Backend;
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

/// The process's log, captured from the first call on at `RUST_LOG=trace` through the
/// service's own filter.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        std::env::remove_var("MICROCRED_LOG");
        std::env::set_var("RUST_LOG", "trace");
        let captured = Captured::default();
        let sink = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter(microcred_service::log_filter())
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .init();
        captured
    })
}

/// A password for the PostgreSQL URL; trust authentication (the tests' database) ignores it.
const PG_PASSWORD: &str = "mc_PGPASSWORDxxxx0123456789abcdefghijklmnop";

/// `url` with a password that must never reach the log, and that password as it would show
/// in the log if the URL did: the URL's own (`user:password@`), or else [`PG_PASSWORD`]
/// added to it.
fn with_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((user_info, _)) if user_info.contains(':') => {
            (url.to_owned(), format!("{user_info}@"))
        }
        Some((user, host)) => (
            format!("{scheme}://{user}:{PG_PASSWORD}@{host}{tail}"),
            PG_PASSWORD.to_owned(),
        ),
        None => {
            let sep = if url.contains('?') { '&' } else { '?' };
            (
                format!("{url}{sep}password={PG_PASSWORD}"),
                PG_PASSWORD.to_owned(),
            )
        }
    }
}

fn logs_never_carry_tokens_or_queries(backend: Backend) {
    // One backend at a time: the log is the process's.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let captured = captured();
    captured.0.lock().unwrap().clear();

    let mut password = None;
    let server = TestServer::start_on_with(backend, |config| {
        if let Some(url) = config.database.postgres_url() {
            let (url, secret) = with_password(url);
            config.database.set_location(url);
            password = Some(secret);
        }
    });
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
    assert_eq!(password.is_some(), backend == Backend::Postgres);
    if let Some(password) = password {
        assert!(
            !log.contains(&password),
            "the log holds the database password:\n{log}"
        );
    }
    assert!(
        !log.contains("limit=5"),
        "a query string reached the log:\n{log}"
    );
    assert!(!log.contains("uri="), "a URI reached the log:\n{log}");
}

on_each_backend!(logs_never_carry_tokens_or_queries);
