//! # microcred-service
//!
//! The issuer service behind `microcred serve`: institutions with encrypted Ed25519 keys and
//! `did:web` (or `did:key`) identities, a versioned achievement catalogue linted by the core,
//! single and batch issuance with idempotent retries, stable credential URLs for wallets,
//! revocation and suspension through W3C Bitstring Status Lists (signed, cacheable lists at
//! `/status/{id}`; audited changes), and the W3C VC API (`/credentials/issue`,
//! `/credentials/verify`, `/presentations/verify`).
//!
//! ```text
//!  HTTP ─> axum router ─> auth (bearer, scopes) ─> handler
//!                                                   │ spawn_blocking / rayon: build, lint, sign
//!                                                   v
//!                        CommitQueue ─> writer thread: one transaction per group of requests
//!                                                   │ (committed durably before the answer)
//!                                                   v
//!                                       Store trait ─> SQLite file, or PostgreSQL
//! ```
//!
//! **Architecture invariants.** A response that acknowledges a credential is sent only after
//! the transaction that stores it has committed durably. Stored credential bytes are served
//! exactly as signed. Signing keys are sealed at rest under the master key (XChaCha20-Poly1305),
//! or live in a PKCS#11 token (`[pkcs11]`) that signs and never lets them out; no key, PIN
//! or token is ever logged; API tokens are stored as SHA-256 hashes. One institution's token can
//! never issue, read private data of, or revoke for another.
//!
//! Start a server on a loopback port (as the tests do):
//!
//! ```no_run
//! # async fn demo() -> Result<(), microcred_service::Error> {
//! let mut config = microcred_service::Config::default();
//! config.listen = "127.0.0.1:0".parse().map_err(|_| microcred_service::Error::Config("addr".into()))?;
//! config.database = "microcred.db".into();
//! config.master_key_file = Some("master.key".into());
//! let mut server = microcred_service::Server::bind(config).await?;
//! if let Some(token) = server.take_generated_admin_token() {
//!     eprintln!("admin token (shown once): {}", token.as_str());
//! }
//! server.run(microcred_service::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! With the default `mimalloc` feature this crate sets [mimalloc](https://docs.rs/mimalloc)
//! as the global allocator of every program linking it (the `microcred` binary): signing
//! allocates heavily, and mimalloc signs about a quarter faster than the system allocator.
//! Build with `default-features = false` to keep the program's own allocator.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod app;
mod auth;
mod bench;
mod cache;
mod commit;
mod config;
mod cpu;
mod crypto;
mod error;
mod issuer;
mod keyring;
mod learner;
mod lint_profile;
mod offers;
mod pathway;
mod pkcs11;
mod recognition;
mod routes;
mod stacking;
mod state;
mod status;
mod store;

/// Entry points for the coverage-guided fuzz targets in `fuzz/` (parsers of untrusted bytes
/// that are otherwise private). Not part of the supported API.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads a batch-issuance CSV body as `POST .../credentials/batch` does (up to 1,000
    /// rows); returns how many rows parsed and how many were refused, or `None` if the whole
    /// body was refused.
    pub fn batch_csv(body: &[u8]) -> Option<(usize, usize)> {
        let rows = crate::routes::issue::parse_csv(body, 1000).ok()?;
        let bad = rows.iter().filter(|r| r.is_err()).count();
        Some((rows.len() - bad, bad))
    }
}

/// Hooks for tests that compare the service with the CLI. Not part of the supported API.
#[doc(hidden)]
pub mod conformance {
    pub use crate::issuer::issue_as_service;
}

pub use app::{app, init_tracing, log_filter, shutdown_signal, Server};
pub use bench::{default_suite_name, sign_rate, SignRate, SAMPLE_ACHIEVEMENT, SAMPLE_ISSUER};
pub use cache::{KEY_CACHE_TTL, TEMPLATE_CACHE_TTL, TOKEN_CACHE_TTL};
pub use config::{Config, Database, Limits, Pkcs11Config};
pub use crypto::{CryptoError, MasterKey};
pub use error::{ApiError, AppJson, Error};
pub use state::{AppState, Background};
pub use store::{
    AchievementRecord, BodyParts, CredentialRecord, IdentityKind, InsertOutcome, InstitutionRecord,
    KeyRecord, KeySecret, KeyStatus, KeyStorage, LeasePlan, LeasePolicy, LeaseView, NewCredential,
    PackedBody, Packer, Page, PgStore, RecognizedCredential, Scopes, SealedSecret, SlotState,
    SqliteStore, StackCheck, StatusAction, StatusChange, StatusChangeOutcome, StatusDecision,
    StatusEvent, StatusLease, StatusListRecord, StatusPurpose, StatusRule, StatusSettings,
    StatusSlot, StatusState, Store, StoreError, TokenRecord,
};
