//! The databases the HTTP tests run on: SQLite (a temporary file) and PostgreSQL (a scratch
//! schema on the database `MICROCRED_TEST_POSTGRES` names). `on_each_backend!` turns test
//! functions taking a [`Backend`] into one `#[test]` per backend (`sqlite::name`,
//! `postgres::name`). Without the variable, the PostgreSQL tests say they were skipped and
//! pass, except in CI (`CI=true`), where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the test database.
pub const POSTGRES_VAR: &str = "MICROCRED_TEST_POSTGRES";

/// Where a test server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One `#[test]` per backend for each function `fn name(backend: Backend)`.
#[allow(unused_macros)]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::common::backend::Backend::Sqlite);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if $crate::common::backend::postgres_url().is_some() {
                        super::$name($crate::common::backend::Backend::Postgres);
                    }
                }
            )*
        }
    };
}

/// The test database's URL; `None` (said on stderr) when the variable is unset, except in
/// CI (`CI=true`), where that is a failure.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let message = format!(
                "{POSTGRES_VAR} is not set (a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and {message}: the PostgreSQL tests must run in CI"
            );
            // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("skipped: {message}\n").as_bytes(),
            );
            None
        }
    }
}

/// A fresh database for one test server; removed on drop.
pub struct TestDatabase {
    /// The `database` setting that names it.
    pub setting: microcred_service::Database,
    place: Place,
}

enum Place {
    Sqlite {
        file: PathBuf,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        schema: String,
    },
}

impl TestDatabase {
    /// A new, empty database of `backend` (PostgreSQL: the test database must be set).
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("service.db");
                Self {
                    setting: file.clone().into(),
                    place: Place::Sqlite { file, _dir: dir },
                }
            }
            Backend::Postgres => {
                static N: AtomicU32 = AtomicU32::new(0);
                let url = postgres_url().expect("a PostgreSQL test runs only with a test database");
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let schema = format!(
                    "mc_http_{}_{}_{nanos}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                );
                let mut c = postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("{POSTGRES_VAR}={url}: {e}"));
                c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
                let sep = if url.contains('?') { '&' } else { '?' };
                let mut setting = microcred_service::Database::from(format!(
                    "{url}{sep}options=-c%20search_path%3D{schema}"
                ));
                setting.pool_size = 4;
                Self {
                    setting,
                    place: Place::Postgres { url, schema },
                }
            }
        }
    }

    /// The store, opened on its own (as another process would).
    pub fn store(&self) -> Box<dyn microcred_service::Store> {
        match &self.place {
            Place::Sqlite { file, .. } => {
                Box::new(microcred_service::SqliteStore::open(file).unwrap())
            }
            Place::Postgres { .. } => {
                Box::new(microcred_service::PgStore::open(&self.setting).unwrap())
            }
        }
    }

    /// Everything the database holds, as bytes to search: the SQLite file and its WAL, or
    /// every row of every table of the schema as text (`bytea` shows as hex).
    pub fn contents(&self) -> Vec<Vec<u8>> {
        match &self.place {
            Place::Sqlite { file, .. } => ["", "-wal"]
                .iter()
                .filter_map(|ext| std::fs::read(format!("{}{ext}", file.display())).ok())
                .collect(),
            Place::Postgres { url, schema } => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let tables: Vec<String> = c
                    .query(
                        "SELECT tablename::text FROM pg_tables WHERE schemaname = $1",
                        &[schema],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                tables
                    .iter()
                    .flat_map(|t| {
                        c.query(&format!("SELECT t::text FROM {schema}.\"{t}\" t"), &[])
                            .unwrap()
                    })
                    .map(|r| r.get::<_, String>(0).into_bytes())
                    .collect()
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Place::Postgres { url, schema } = &self.place {
            if let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}
