//! A real service on a loopback port with a fresh database (a temporary SQLite file, or a
//! scratch PostgreSQL schema), shared by the HTTP tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use super::backend::{Backend, TestDatabase};
use super::http::Client;

pub const ADMIN: &str = "test-admin-token-0123456789abcdef";
pub const MASTER_HEX: &str = "8f2c6b1e4d0a93b7c5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

/// A service bound to a free loopback port and served on a runtime thread of its own until
/// dropped (a graceful stop, waited for).
pub struct Running {
    pub client: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Binds `config` and serves it.
    pub fn spawn(config: microcred_service::Config) -> Self {
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
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.client.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The tests' configuration: a free loopback port, the test master key and administrator
/// token, and `database`.
pub fn test_config(database: microcred_service::Database) -> microcred_service::Config {
    let mut config = microcred_service::Config::default();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database = database;
    config.master_key = Some(zeroize::Zeroizing::new(MASTER_HEX.into()));
    config.admin_token = Some(zeroize::Zeroizing::new(ADMIN.into()));
    config
}

/// A running service on a fresh database of its own.
pub struct TestServer {
    pub client: Client,
    // Declared before `db`: the service stops before its database is removed.
    running: Running,
    /// The database.
    pub db: TestDatabase,
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_on(Backend::Sqlite)
    }

    /// Starts on a fresh database of `backend`.
    pub fn start_on(backend: Backend) -> Self {
        Self::start_on_with(backend, |_| {})
    }

    /// Starts with a configuration changed by `tweak` (limits, pool sizes).
    pub fn start_with(tweak: impl FnOnce(&mut microcred_service::Config)) -> Self {
        Self::start_on_with(Backend::Sqlite, tweak)
    }

    /// Starts on a fresh database of `backend`, with a configuration changed by `tweak`.
    pub fn start_on_with(
        backend: Backend,
        tweak: impl FnOnce(&mut microcred_service::Config),
    ) -> Self {
        let db = TestDatabase::new(backend);
        let mut config = test_config(db.setting.clone());
        tweak(&mut config);
        let running = Running::spawn(config);
        Self {
            client: running.client,
            running,
            db,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        self.running.base()
    }
}
