//! Baked badge images served by the issuer service: a real server on a loopback port, on each
//! backend (SQLite; PostgreSQL when `MICROCRED_TEST_POSTGRES` is set, see `common/backend.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::server::{TestServer, ADMIN};
use common::setup::{examples, read_json};

use microcred_badge::{BakedSpec, ImageFormat};
use serde_json::json;

fn each_credential_has_a_baked_png_and_svg(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
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
        &json!({"scopes": ["issue", "manage"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();
    let ach = read_json(&examples().join("achievements/df-101.json"));
    let r = c.send_json(
        "PUT",
        "/v1/institutions/northbridge/achievements/df-101",
        Some(&token),
        &ach,
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
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let path = url
        .strip_prefix(&format!("http://{}", c.addr))
        .unwrap()
        .to_owned();
    let credential = c.get(&path, None).body;

    for (ext, format) in [("png", ImageFormat::Png), ("svg", ImageFormat::Svg)] {
        let r = c.get(&format!("{path}/badge.{ext}"), None);
        assert_eq!(r.status, 200, "{ext}: {}", r.text());
        assert_eq!(r.header("content-type"), Some(format.media_type()));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(ImageFormat::detect(&r.body), Some(format));
        let found = microcred_badge::unbake(&r.body).unwrap();
        assert_eq!(found.spec, BakedSpec::OpenBadges3);
        assert_eq!(found.text, credential, "{ext}: not the stored bytes");
        if format == ImageFormat::Svg {
            assert!(r
                .header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'"));
        }
    }

    let r = c.get(
        "/credentials/00000000-0000-0000-0000-000000000000/badge.png",
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = c.get("/credentials/nope/badge.svg", None);
    assert_eq!(r.status, 404, "{}", r.text());
}

on_each_backend!(each_credential_has_a_baked_png_and_svg);
