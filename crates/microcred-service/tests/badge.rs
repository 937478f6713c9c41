//! Baked badge images served by the issuer service: a real server on a loopback port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::http::Client;
use microcred_core::{BakedSpec, ImageFormat};
use serde_json::{json, Value};

const ADMIN: &str = "test-admin-token-0123456789abcdef";
const MASTER_HEX: &str = "8f2c6b1e4d0a93b7c5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

struct TestServer {
    client: Client,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = microcred_service::Config::default();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database = dir.path().join("service.db");
        config.master_key = Some(zeroize::Zeroizing::new(MASTER_HEX.into()));
        config.admin_token = Some(zeroize::Zeroizing::new(ADMIN.into()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = microcred_service::Server::bind(config).await.unwrap();
                addr_tx.send(server.local_addr().unwrap()).unwrap();
                server
                    .run(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Self {
            client: Client::new(addr),
            _dir: dir,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn each_credential_has_a_baked_png_and_svg() {
    let s = TestServer::start();
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
        let found = microcred_core::unbake(&r.body).unwrap();
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
