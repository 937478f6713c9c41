//! The PostgreSQL store: several service instances on one database.
//!
//! - **Client.** The synchronous `postgres` client (sfackler's; it drives `tokio-postgres` on a
//!   small runtime of its own per connection). [`Store`] is synchronous and the service calls
//!   it only from blocking threads (`spawn_blocking`, the commit and status writer threads),
//!   never on an async worker, where the client's `block_on` would panic; a test checks that
//!   a call from `spawn_blocking` works.
//! - **Pool.** `r2d2` with a small manager of our own ([`Manager`]) instead of
//!   `r2d2_postgres`: each pooled connection keeps its prepared statements
//!   ([`PgConn::statements`]), so a query costs one round trip, not a parse and an execute.
//!   `pool_size` connections per instance (`[database] pool_size`, default 8), a connect
//!   timeout (`connect_timeout_secs`, default 5 s), a connection checked before it is handed
//!   out. Every connection sets `synchronous_commit = on`: a commit that returned is on disk
//!   (acknowledged means committed), whatever the server's default.
//! - **Migrations** (`store/postgres/*.sql`, embedded in the binary) run at open in one
//!   transaction holding `pg_advisory_xact_lock` on the schema, so instances starting together
//!   apply each exactly once; `microcred_migrations` records the versions applied. A database
//!   newer than this build is refused.
//! - **Isolation: READ COMMITTED with explicit locks** (set on every write transaction, whatever
//!   the server's default). Every invariant rests on a lock or a constraint, not on snapshot
//!   isolation: a status change locks its credentials (`FOR UPDATE`) and lists (`FOR NO KEY
//!   UPDATE`), all of a group's, in id order, before reading them, so concurrent changes from
//!   two instances run one after the other and each reads what the other committed; a lease
//!   locks the newest list (`FOR UPDATE`) and moves its counter by compare-and-set; a list
//!   started by two instances at once, an id or an idempotency key inserted twice, are decided
//!   by unique constraints. SERIALIZABLE would add nothing to these and would abort whole group
//!   commits on false conflicts (predicate locks over large inserts). Deadlocks (`40P01`) and
//!   serialization failures (`40001`) are still retried, as is a lease that lost a race, up to
//!   [`ATTEMPTS`] times: the transaction is rolled back and run again from the start, reading
//!   afresh (the decision functions are pure, so calling them again is safe).
//! - Bodies are `BYTEA`, stored and returned byte for byte (packed ones through the shared
//!   codec, as in SQLite). Every text column is `COLLATE "C"`: orderings and the byte-wise
//!   prefix scan are byte order.
//! - A status list's `version` is a column bumped in the transaction that changes a bit:
//!   every instance reads the same version (the ETag of the published list follows it).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, IsolationLevel, Row, Statement, Transaction};

use super::packed::PartSets;
use super::{
    prefix_range, AchievementRecord, BodyParts, CredentialRecord, IdentityKind, InsertOutcome,
    InstitutionRecord, KeyRecord, KeySecret, KeyStatus, LeasePlan, LeasePolicy, LeaseView,
    NewCredential, OfferRecord, OfferSecret, Page, RecognizedCredential, Scopes, SealedSecret,
    SlotState, StackCheck, StatusAction, StatusChange, StatusChangeOutcome, StatusEvent,
    StatusLease, StatusListRecord, StatusPurpose, StatusRule, StatusSettings, StatusSlot,
    StatusState, Store, StoreError, TokenRecord,
};
use crate::config::{redact_url, Database};

mod tls;

/// The migrations, in order: `(version, SQL)`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("postgres/0001_schema.sql")),
    (2, include_str!("postgres/0002_learners.sql")),
    (3, include_str!("postgres/0003_recognition.sql")),
    (4, include_str!("postgres/0004_offers.sql")),
];

/// First key of the advisory lock migrations hold (the second is the schema's name).
const MIGRATION_LOCK: i32 = 0x6d63_7231; // "mcr1"

/// Runs of a write transaction before giving up (deadlock, serialization failure, a lease
/// that lost a race with another instance).
const ATTEMPTS: u32 = 10;

/// Connections kept open when idle (more are opened on demand, up to the pool size).
const MIN_IDLE: u32 = 1;

const CREDENTIAL_COLUMNS: &str = "id, institution, achievement, achievement_version, \
     idempotency_key, request_hash, issued_at, method_id, body, revoked_at, revocation_reason, \
     learner";
const CREDENTIAL_META_COLUMNS: &str = "id, institution, achievement, achievement_version, \
     idempotency_key, request_hash, issued_at, method_id, ''::bytea, revoked_at, revocation_reason, \
     learner";
/// Queues (or queues again) a learner's stack check: `$1` learner, `$2` sealed recipient,
/// `$3` time.
const STACK_CHECK_UPSERT: &str =
    "INSERT INTO stack_checks (learner, recipient, version, queued_at) VALUES ($1, $2, 1, $3)
     ON CONFLICT (learner) DO UPDATE SET recipient = excluded.recipient,
         version = stack_checks.version + 1, queued_at = excluded.queued_at";
const KEY_COLUMNS: &str = "method_id, institution, seq, public_multibase, status, created_at, \
     retired_at, storage, nonce, ciphertext, token_label, token_key_id";
const TOKEN_COLUMNS: &str = "id, institution, scopes, label, hash, created_at, revoked";
const ACHIEVEMENT_COLUMNS: &str =
    "institution, slug, version, definition, content_hash, created_at, lint_profile";
const STATUS_LIST_COLUMNS: &str = "id, institution, purpose, seq, issuer, size, allocated, \
     permutation_key, version, created_at, updated_at";

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    /// The URL without its password, for messages.
    shown: String,
    /// Part sets of packed bodies known to be in `body_parts` (they never change).
    parts: PartSets,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

/// Opens connections for the pool.
struct Manager {
    config: postgres::Config,
    /// TLS as the URL's `sslmode` asks (see `tls.rs`).
    tls: tokio_postgres_rustls::MakeRustlsConnect,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("ssl_mode", &self.config.get_ssl_mode())
            .finish_non_exhaustive()
    }
}

/// A pooled connection and the statements prepared on it.
struct PgConn {
    /// Always `Some` until dropped.
    client: Option<Client>,
    /// Prepared statements by SQL text (they live as long as the connection).
    statements: HashMap<String, Statement>,
}

impl PgConn {
    /// The client and the statement cache, borrowed together.
    fn parts(&mut self) -> Result<(&mut Client, &mut HashMap<String, Statement>), StoreError> {
        match self.client.as_mut() {
            Some(c) => Ok((c, &mut self.statements)),
            None => Err(StoreError::Backend(
                "a PostgreSQL connection was used after it was closed".into(),
            )),
        }
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        self.statements.clear();
        if tokio::runtime::Handle::try_current().is_err() {
            return drop(client);
        }
        // The service's last handle on the store may go on an async worker thread (when
        // the server stops), where closing a connection, which blocks on the client's own
        // runtime, would panic: close it on a thread of its own.
        let closing = std::thread::Builder::new()
            .name("postgres-close".into())
            .spawn(move || drop(client));
        if let Err(e) = closing {
            tracing::warn!(error = %e, "no thread to close a PostgreSQL connection");
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let mut client = self.config.connect(self.tls.clone())?;
        // A commit returns once it is durable, whatever the server's or role's default.
        client.batch_execute("SET synchronous_commit = on")?;
        Ok(PgConn {
            client: Some(client),
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        match conn.client.as_mut() {
            Some(c) => c.simple_query("").map(|_| ()),
            None => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.as_ref().is_none_or(Client::is_closed)
    }
}

/// Why a transaction stopped.
enum Fail {
    /// The database said no.
    Pg(postgres::Error),
    /// A store rule said no (not retried).
    Store(StoreError),
    /// Another instance got there first: run the transaction again.
    Retry(String),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Self::Pg(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

fn backend(e: &postgres::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn corrupt(what: impl std::fmt::Display) -> Fail {
    Fail::Store(StoreError::Corrupt(what.to_string()))
}

impl Fail {
    fn into_store(self) -> StoreError {
        match self {
            Self::Pg(e) => backend(&e),
            Self::Store(e) => e,
            Self::Retry(why) => StoreError::Backend(why),
        }
    }
}

/// Whether `e` says the transaction may succeed if run again.
fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The constraint a unique violation broke, if `e` is one.
fn unique_violation(e: &postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    (*db.code() == SqlState::UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or(""))
}

/// The statement for `sql`, prepared once per connection.
fn prepared(
    client: &mut impl GenericClient,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql)?;
    statements.insert(sql.to_owned(), s.clone());
    Ok(s)
}

/// Queries through a connection's statement cache.
struct Q<'a, C: GenericClient> {
    client: &'a mut C,
    statements: &'a mut HashMap<String, Statement>,
}

impl<C: GenericClient> Q<'_, C> {
    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Fail> {
        let s = prepared(self.client, self.statements, sql)?;
        Ok(self.client.query(&s, params)?)
    }

    fn opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, Fail> {
        let s = prepared(self.client, self.statements, sql)?;
        Ok(self.client.query_opt(&s, params)?)
    }

    fn one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Fail> {
        let s = prepared(self.client, self.statements, sql)?;
        Ok(self.client.query_one(&s, params)?)
    }

    fn exec(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Fail> {
        let s = prepared(self.client, self.statements, sql)?;
        Ok(self.client.execute(&s, params)?)
    }

    /// Like [`Self::exec`], with a unique violation kept apart: `Ok(Err(constraint))`.
    fn exec_unique(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Result<u64, String>, Fail> {
        let s = prepared(self.client, self.statements, sql)?;
        match self.client.execute(&s, params) {
            Ok(n) => Ok(Ok(n)),
            Err(e) => match unique_violation(&e) {
                Some(c) => Ok(Err(c.to_owned())),
                None => Err(Fail::Pg(e)),
            },
        }
    }
}

type Tx<'a, 'b> = Q<'a, Transaction<'b>>;

impl PgStore {
    /// Connects to the database `database` names (a `postgres://` URL), applies the
    /// migrations this build has and the database lacks, and fills the pool.
    pub fn open(database: &Database) -> Result<Self, StoreError> {
        let url = database.postgres_url().ok_or_else(|| {
            StoreError::Backend(format!(
                "{} is not a PostgreSQL URL (postgres://user@host/database)",
                database.display()
            ))
        })?;
        let shown = redact_url(url);
        let invalid = |e: &dyn std::fmt::Display| {
            StoreError::Backend(format!(
                "{shown} is not a valid PostgreSQL URL: {e} (e.g. postgres://user:password@host:5432/database?sslmode=verify-full)"
            ))
        };
        let (url, tls) = tls::split_url(url).map_err(|e| invalid(&e))?;
        let mut config = postgres::Config::from_str(&url).map_err(|e| invalid(&e))?;
        config.ssl_mode(tls.postgres_mode());
        let tls = tls
            .connector()
            .map_err(|e| StoreError::Backend(format!("{shown}: {e}")))?;
        let timeout = Duration::from_secs(database.connect_timeout_secs.max(1));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("microcred");
        }
        let unreachable = |e: &dyn std::error::Error| {
            // rust-postgres says "error performing TLS handshake" and keeps the why as the
            // source: give the whole chain.
            let mut why = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                why.push_str(": ");
                why.push_str(&s.to_string());
                source = s.source();
            }
            let advice = if why.contains("TLS") || why.contains("certificate") {
                "Check the server's TLS certificate: with sslmode=verify-ca or verify-full it must chain to a root in sslrootcert=FILE (the provider's CA bundle) or, without it, to a public root; sslmode=require encrypts without checking whose certificate it is"
            } else {
                "Check that the server is running and reachable, and the user, password and database name in the URL"
            };
            StoreError::Backend(format!(
                "cannot connect to PostgreSQL at {shown}: {why}. {advice}"
            ))
        };
        let manager = Manager { config, tls };
        {
            let mut first =
                r2d2::ManageConnection::connect(&manager).map_err(|e| unreachable(&e))?;
            let (client, _) = first.parts()?;
            migrate(client).map_err(|e| {
                StoreError::Backend(format!(
                    "{shown}: applying the schema migrations failed: {}",
                    e.into_store()
                ))
            })?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(database.pool_size.max(1))
            .min_idle(Some(MIN_IDLE.min(database.pool_size.max(1))))
            .connection_timeout(timeout.max(Duration::from_secs(30)))
            .build(manager)
            .map_err(|e| unreachable(&e))?;
        tracing::info!(url = %shown, pool_size = database.pool_size, "PostgreSQL store open");
        Ok(Self {
            pool,
            shown,
            parts: PartSets::default(),
        })
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        self.pool.get().map_err(|e| {
            StoreError::Backend(format!(
                "no connection to PostgreSQL at {} became free or could be opened in time: {e}. Check the server, or raise [database] pool_size",
                self.shown
            ))
        })
    }

    /// Runs `f` outside a transaction (each statement sees what is committed when it starts).
    fn read<T>(
        &self,
        f: impl FnOnce(&mut Q<'_, Client>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let (client, statements) = conn.parts()?;
        f(&mut Q { client, statements }).map_err(Fail::into_store)
    }

    /// The count `sql` (one `COUNT(*)` with `$1` the institution) gives for `institution`.
    fn institution_count(&self, sql: &str, institution: &str) -> Result<u64, StoreError> {
        self.read(|q| {
            let n: i64 = q.one(sql, &[&institution])?.try_get(0)?;
            to_u64(n, "count")
        })
    }

    /// Runs `f` in a READ COMMITTED transaction and commits it; runs it again (from a fresh
    /// transaction) after a deadlock, a serialization failure or a lost race, up to
    /// [`ATTEMPTS`] times.
    fn write<T>(
        &self,
        what: &str,
        mut f: impl FnMut(&mut Tx<'_, '_>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                // Let the other transaction finish before trying again.
                std::thread::sleep(Duration::from_millis(u64::from(attempt) * 3));
            }
            let (client, statements) = conn.parts()?;
            match run_once(client, statements, &mut f) {
                Ok(out) => return Ok(out),
                Err(Fail::Pg(e)) if retryable(&e) => last = e.to_string(),
                Err(Fail::Retry(why)) => last = why,
                Err(e) => return Err(e.into_store()),
            }
            tracing::debug!(attempt, what, reason = %last, "retrying a PostgreSQL transaction");
        }
        Err(StoreError::Backend(format!(
            "{what}: gave up after {ATTEMPTS} attempts on a busy database ({last}); retry the request"
        )))
    }

    /// A credential's bytes from what is stored (see [`super::Packer`]).
    fn whole(&self, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        self.parts.whole(stored, |hash| {
            self.read(|q| {
                q.opt(
                    "SELECT parts FROM body_parts WHERE hash = $1",
                    &[&hash.as_slice()],
                )?
                .map(|r| r.try_get::<_, Vec<u8>>(0).map_err(Fail::Pg))
                .transpose()
            })
        })
    }

    fn whole_record(&self, mut rec: CredentialRecord) -> Result<CredentialRecord, StoreError> {
        rec.credential.body = self.whole(std::mem::take(&mut rec.credential.body))?;
        Ok(rec)
    }
}

/// One run of a write transaction: begins it (READ COMMITTED), runs `f`, commits.
fn run_once<T>(
    client: &mut Client,
    statements: &mut HashMap<String, Statement>,
    f: &mut impl FnMut(&mut Tx<'_, '_>) -> Result<T, Fail>,
) -> Result<T, Fail> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()?;
    let out = f(&mut Q {
        client: &mut tx,
        statements,
    })?;
    tx.commit()?;
    Ok(out)
}

/// Applies the migrations the database lacks, in one transaction under an advisory lock.
fn migrate(client: &mut Client) -> Result<(), Fail> {
    let mut tx = client.transaction()?;
    let schema: Option<String> = tx.query_one("SELECT current_schema()", &[])?.try_get(0)?;
    let Some(schema) = schema else {
        return Err(Fail::Store(StoreError::Backend(
            "the search_path names no existing schema: create it, or fix the URL's options".into(),
        )));
    };
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MIGRATION_LOCK, &schema],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS microcred_migrations (
             version BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM microcred_migrations",
            &[],
        )?
        .try_get(0)?;
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > newest {
        return Err(Fail::Store(StoreError::Corrupt(format!(
            "schema {schema} has migration version {current}, newer than this build ({newest}): upgrade microcred"
        ))));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO microcred_migrations (version) VALUES ($1)",
            &[version],
        )?;
        tracing::info!(version, schema = %schema, "applied PostgreSQL migration");
    }
    tx.commit()?;
    Ok(())
}

fn to_i64(v: u64) -> Result<i64, Fail> {
    i64::try_from(v).map_err(|_| {
        Fail::Store(StoreError::Backend(format!(
            "{v} does not fit the database"
        )))
    })
}

fn to_u64(v: i64, what: &str) -> Result<u64, Fail> {
    u64::try_from(v).map_err(|_| corrupt(format!("negative {what}: {v}")))
}

fn json_text(text: &str, what: &str) -> Result<serde_json::Value, Fail> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("stored {what} is not JSON: {e}")))
}

fn hash32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], Fail> {
    bytes
        .try_into()
        .map_err(|_| corrupt(format!("{what} is not 32 bytes")))
}

fn institution_row(r: &Row) -> Result<InstitutionRecord, Fail> {
    let identity: String = r.try_get(2)?;
    Ok(InstitutionRecord {
        slug: r.try_get(0)?,
        did: r.try_get(1)?,
        identity: IdentityKind::parse(&identity)
            .ok_or_else(|| corrupt(format!("unknown identity kind {identity}")))?,
        profile: json_text(r.try_get(3)?, "profile")?,
        created_at: r.try_get(4)?,
    })
}

fn key_row(r: &Row) -> Result<KeyRecord, Fail> {
    let status: String = r.try_get(4)?;
    let storage: String = r.try_get(7)?;
    let secret = match (
        storage.as_str(),
        r.try_get::<_, Option<Vec<u8>>>(8)?,
        r.try_get::<_, Option<Vec<u8>>>(9)?,
        r.try_get::<_, Option<String>>(10)?,
        r.try_get::<_, Option<Vec<u8>>>(11)?,
    ) {
        ("sealed", Some(nonce), Some(ciphertext), None, None) => {
            KeySecret::Sealed(SealedSecret { nonce, ciphertext })
        }
        ("pkcs11", None, None, Some(token), Some(key_id)) => KeySecret::Pkcs11 { token, key_id },
        _ => return Err(corrupt(format!("unknown key storage {storage}"))),
    };
    Ok(KeyRecord {
        method_id: r.try_get(0)?,
        institution: r.try_get(1)?,
        seq: r.try_get(2)?,
        public_multibase: r.try_get(3)?,
        status: KeyStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("unknown key status {status}")))?,
        created_at: r.try_get(5)?,
        retired_at: r.try_get(6)?,
        secret,
    })
}

const OFFER_COLUMNS: &str =
    "id, institution, version, code_hash, token_hash, exchange_hash, created_at, expires_at, body";

fn offer_row(r: &Row) -> Result<OfferRecord, Fail> {
    Ok(OfferRecord {
        id: r.try_get(0)?,
        institution: r.try_get(1)?,
        version: r.try_get(2)?,
        code_hash: hash32(r.try_get(3)?, "offer code hash")?,
        token_hash: r
            .try_get::<_, Option<Vec<u8>>>(4)?
            .map(|h| hash32(h, "offer token hash"))
            .transpose()?,
        exchange_hash: hash32(r.try_get(5)?, "offer exchange hash")?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        body: r.try_get(8)?,
    })
}

fn token_row(r: &Row) -> Result<TokenRecord, Fail> {
    let scopes: i64 = r.try_get(2)?;
    Ok(TokenRecord {
        id: r.try_get(0)?,
        institution: r.try_get(1)?,
        scopes: Scopes::from_bits(u8::try_from(scopes).unwrap_or(0)),
        label: r.try_get(3)?,
        hash: hash32(r.try_get(4)?, "token hash")?,
        created_at: r.try_get(5)?,
        revoked: r.try_get(6)?,
    })
}

fn achievement_row(r: &Row) -> Result<AchievementRecord, Fail> {
    Ok(AchievementRecord {
        institution: r.try_get(0)?,
        slug: r.try_get(1)?,
        version: r.try_get(2)?,
        definition: json_text(r.try_get(3)?, "achievement")?,
        content_hash: hash32(r.try_get(4)?, "achievement hash")?,
        created_at: r.try_get(5)?,
        lint_profile: r.try_get(6)?,
    })
}

fn credential_row(r: &Row) -> Result<CredentialRecord, Fail> {
    Ok(CredentialRecord {
        credential: NewCredential {
            id: r.try_get(0)?,
            institution: r.try_get(1)?,
            achievement: r.try_get(2)?,
            achievement_version: r.try_get(3)?,
            idempotency_key: r.try_get(4)?,
            request_hash: hash32(r.try_get(5)?, "request hash")?,
            issued_at: r.try_get(6)?,
            method_id: r.try_get(7)?,
            body: r.try_get(8)?,
            packed: None,
            learner: r.try_get(11)?,
            stack_check: None,
        },
        revoked_at: r.try_get(9)?,
        revocation_reason: r.try_get(10)?,
    })
}

fn status_list_row(r: &Row) -> Result<StatusListRecord, Fail> {
    let purpose: String = r.try_get(2)?;
    Ok(StatusListRecord {
        id: r.try_get(0)?,
        institution: r.try_get(1)?,
        purpose: StatusPurpose::parse(&purpose)
            .ok_or_else(|| corrupt(format!("unknown status purpose {purpose}")))?,
        seq: r.try_get(3)?,
        issuer: r.try_get(4)?,
        size: to_u64(r.try_get(5)?, "list size")?,
        allocated: to_u64(r.try_get(6)?, "allocation counter")?,
        permutation_key: hash32(r.try_get(7)?, "permutation key")?,
        version: r.try_get(8)?,
        created_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
    })
}

fn insert_key(q: &mut Tx<'_, '_>, k: &KeyRecord) -> Result<(), Fail> {
    let (nonce, ciphertext, token, key_id) = match &k.secret {
        KeySecret::Sealed(s) => (Some(&s.nonce), Some(&s.ciphertext), None, None),
        KeySecret::Pkcs11 { token, key_id } => (None, None, Some(token), Some(key_id)),
    };
    let inserted = q.exec_unique(
        &format!(
            "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        &[
            &k.method_id,
            &k.institution,
            &k.seq,
            &k.public_multibase,
            &k.status.as_str(),
            &k.created_at,
            &k.retired_at,
            &k.secret.storage().as_str(),
            &nonce,
            &ciphertext,
            &token,
            &key_id,
        ],
    )?;
    match inserted {
        Ok(_) => Ok(()),
        Err(_) => Err(Fail::Store(StoreError::Conflict(format!(
            "key {} already exists (a concurrent rotation?)",
            k.method_id
        )))),
    }
}

/// Sets or clears one bit; bumps the list's version when it changed.
fn set_status_bit(
    q: &mut Tx<'_, '_>,
    slot: &StatusSlot,
    value: bool,
    at: &str,
) -> Result<(), Fail> {
    let index = to_i64(slot.index)?;
    let sql = if value {
        "INSERT INTO status_bits (list_id, idx) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM status_bits WHERE list_id = $1 AND idx = $2"
    };
    if q.exec(sql, &[&slot.list_id, &index])? > 0 {
        q.exec(
            "UPDATE status_lists SET version = version + 1, updated_at = $2 WHERE id = $1",
            &[&slot.list_id, &at],
        )?;
    }
    Ok(())
}

/// One revocation / suspension / reinstatement inside the caller's transaction (which holds
/// the credential's and its lists' locks): reads the state, asks `rule`, applies its decision.
fn apply_status_change(
    q: &mut Tx<'_, '_>,
    ch: &StatusChange,
    rule: StatusRule<'_>,
) -> Result<StatusChangeOutcome, Fail> {
    let Some(row) = q.opt(
        "SELECT revoked_at FROM credentials WHERE institution = $1 AND id = $2",
        &[&ch.institution, &ch.credential_id],
    )?
    else {
        return Ok(StatusChangeOutcome::NotFound);
    };
    let revoked_at: Option<String> = row.try_get(0)?;
    let mut slots = Vec::with_capacity(ch.slots.len());
    for slot in &ch.slots {
        let list = q
            .opt(
                "SELECT purpose, size FROM status_lists WHERE id = $1 AND institution = $2",
                &[&slot.list_id, &ch.institution],
            )?
            .map(|r| -> Result<_, Fail> {
                Ok((r.try_get::<_, String>(0)?, r.try_get::<_, i64>(1)?))
            })
            .transpose()?
            .and_then(|(purpose, size)| {
                Some((StatusPurpose::parse(&purpose)?, u64::try_from(size).ok()?))
            });
        // An index beyond what the database holds cannot be set.
        let set = match (list, i64::try_from(slot.index)) {
            (Some(_), Ok(index)) => q
                .one(
                    "SELECT EXISTS (SELECT 1 FROM status_bits WHERE list_id = $1 AND idx = $2)",
                    &[&slot.list_id, &index],
                )?
                .try_get(0)?,
            _ => false,
        };
        slots.push(SlotState { list, set });
    }
    let decision = rule(ch, &StatusState { revoked_at, slots });
    if decision.revoke {
        q.exec(
            "UPDATE credentials SET revoked_at = $3, revocation_reason = $4 WHERE institution = $1 AND id = $2",
            &[&ch.institution, &ch.credential_id, &ch.at, &ch.reason],
        )?;
    }
    for (i, value) in &decision.bits {
        let slot = ch.slots.get(*i).ok_or_else(|| {
            Fail::Store(StoreError::Backend(format!(
                "a status decision names slot {i}, which the change does not have"
            )))
        })?;
        set_status_bit(q, slot, *value, &ch.at)?;
    }
    if decision.audit {
        q.exec(
            "INSERT INTO status_events (institution, credential_id, action, changed, reason, actor, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &ch.institution,
                &ch.credential_id,
                &ch.action.as_str(),
                &(decision.outcome == StatusChangeOutcome::Changed),
                &ch.reason,
                &ch.actor,
                &ch.at,
            ],
        )?;
    }
    Ok(decision.outcome)
}

fn page_bounds(page: Page) -> (i64, i64) {
    (
        i64::try_from(page.limit).unwrap_or(i64::MAX),
        i64::try_from(page.offset).unwrap_or(i64::MAX),
    )
}

impl Store for PgStore {
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|q| {
            q.opt("SELECT value FROM meta WHERE name = $1", &[&name])?
                .map(|r| r.try_get(0).map_err(Fail::Pg))
                .transpose()
        })
    }

    fn meta_set_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.write("meta", |q| {
            q.exec(
                "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &value],
            )?;
            Ok(q.one("SELECT value FROM meta WHERE name = $1", &[&name])?
                .try_get(0)?)
        })
    }

    fn create_institution(
        &self,
        inst: &InstitutionRecord,
        first_key: &KeyRecord,
    ) -> Result<(), StoreError> {
        self.write("create institution", |q| {
            let inserted = q.exec_unique(
                "INSERT INTO institutions (slug, did, identity, profile, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&inst.slug, &inst.did, &inst.identity.as_str(), &inst.profile.to_string(), &inst.created_at],
            )?;
            if inserted.is_err() {
                return Err(Fail::Store(StoreError::Conflict(format!(
                    "an institution named \"{}\" already exists",
                    inst.slug
                ))));
            }
            insert_key(q, first_key)
        })
    }

    fn institution(&self, slug: &str) -> Result<Option<InstitutionRecord>, StoreError> {
        self.read(|q| {
            q.opt(
                "SELECT slug, did, identity, profile, created_at FROM institutions WHERE slug = $1",
                &[&slug],
            )?
            .as_ref()
            .map(institution_row)
            .transpose()
        })
    }

    fn institutions(&self) -> Result<Vec<InstitutionRecord>, StoreError> {
        self.read(|q| {
            q.query(
                "SELECT slug, did, identity, profile, created_at FROM institutions ORDER BY slug",
                &[],
            )?
            .iter()
            .map(institution_row)
            .collect()
        })
    }

    fn update_institution(&self, inst: &InstitutionRecord) -> Result<(), StoreError> {
        self.write("update institution", |q| {
            q.exec(
                "UPDATE institutions SET did = $2, profile = $3 WHERE slug = $1",
                &[&inst.slug, &inst.did, &inst.profile.to_string()],
            )?;
            Ok(())
        })
    }

    fn keys(&self, institution: &str) -> Result<Vec<KeyRecord>, StoreError> {
        self.read(|q| {
            q.query(
                &format!("SELECT {KEY_COLUMNS} FROM keys WHERE institution = $1 ORDER BY seq"),
                &[&institution],
            )?
            .iter()
            .map(key_row)
            .collect()
        })
    }

    fn rotate_key(
        &self,
        inst: &InstitutionRecord,
        new_key: &KeyRecord,
        at: &str,
    ) -> Result<(), StoreError> {
        self.write("rotate key", |q| {
            q.exec(
                "UPDATE keys SET status = 'retired', retired_at = $2 WHERE institution = $1 AND status = 'active'",
                &[&inst.slug, &at],
            )?;
            insert_key(q, new_key)?;
            q.exec(
                "UPDATE institutions SET did = $2, profile = $3 WHERE slug = $1",
                &[&inst.slug, &inst.did, &inst.profile.to_string()],
            )?;
            Ok(())
        })
    }

    fn mark_compromised(
        &self,
        institution: &str,
        method_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        self.write("mark key compromised", |q| {
            let n = q.exec(
                "UPDATE keys SET status = 'compromised', retired_at = COALESCE(retired_at, $3)
                 WHERE institution = $1 AND method_id = $2 AND status <> 'active'",
                &[&institution, &method_id, &at],
            )?;
            Ok(n > 0)
        })
    }

    fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.write("insert token", |q| {
            q.exec(
                &format!(
                    "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[
                    &t.id,
                    &t.institution,
                    &i64::from(t.scopes.bits()),
                    &t.label,
                    &t.hash.as_slice(),
                    &t.created_at,
                    &t.revoked,
                ],
            )?;
            Ok(())
        })
    }

    fn insert_offer(&self, o: &OfferRecord) -> Result<(), StoreError> {
        self.write("insert offer", |q| {
            q.exec(
                &format!("INSERT INTO offers ({OFFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
                &[
                    &o.id,
                    &o.institution,
                    &o.version,
                    &o.code_hash.as_slice(),
                    &o.token_hash.as_ref().map(|h| h.as_slice()),
                    &o.exchange_hash.as_slice(),
                    &o.created_at,
                    &o.expires_at,
                    &o.body,
                ],
            )?;
            Ok(())
        })
    }

    fn offer(&self, id: &str) -> Result<Option<OfferRecord>, StoreError> {
        self.read(|q| {
            q.opt(
                &format!("SELECT {OFFER_COLUMNS} FROM offers WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(offer_row)
            .transpose()
        })
    }

    fn offer_by_secret(
        &self,
        secret: OfferSecret,
        hash: &[u8; 32],
    ) -> Result<Option<OfferRecord>, StoreError> {
        let column = match secret {
            OfferSecret::Code => "code_hash",
            OfferSecret::Token => "token_hash",
            OfferSecret::Exchange => "exchange_hash",
        };
        self.read(|q| {
            q.opt(
                &format!("SELECT {OFFER_COLUMNS} FROM offers WHERE {column} = $1"),
                &[&hash.as_slice()],
            )?
            .as_ref()
            .map(offer_row)
            .transpose()
        })
    }

    fn offers(&self, institution: &str, page: Page) -> Result<Vec<OfferRecord>, StoreError> {
        let (limit, offset) = page_bounds(page);
        self.read(|q| {
            q.query(
                &format!(
                    "SELECT {OFFER_COLUMNS} FROM offers WHERE institution = $1
                     ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
                ),
                &[&institution, &limit, &offset],
            )?
            .iter()
            .map(offer_row)
            .collect()
        })
    }

    fn offer_count(&self, institution: &str) -> Result<u64, StoreError> {
        self.institution_count(
            "SELECT COUNT(*) FROM offers WHERE institution = $1",
            institution,
        )
    }

    fn update_offer(&self, o: &OfferRecord, expected: i64) -> Result<bool, StoreError> {
        self.write("update offer", |q| {
            let n = q.exec(
                "UPDATE offers SET version = $1, token_hash = $2, body = $3
                 WHERE id = $4 AND version = $5",
                &[
                    &o.version,
                    &o.token_hash.as_ref().map(|h| h.as_slice()),
                    &o.body,
                    &o.id,
                    &expected,
                ],
            )?;
            Ok(n == 1)
        })
    }

    fn insert_nonce(&self, hash: &[u8; 32], expires_at: &str, now: &str) -> Result<(), StoreError> {
        self.write("insert nonce", |q| {
            q.exec("DELETE FROM offer_nonces WHERE expires_at <= $1", &[&now])?;
            q.exec(
                "INSERT INTO offer_nonces (hash, expires_at) VALUES ($1, $2)",
                &[&hash.as_slice(), &expires_at],
            )?;
            Ok(())
        })
    }

    fn take_nonce(&self, hash: &[u8; 32], now: &str) -> Result<bool, StoreError> {
        self.write("take nonce", |q| {
            let row = q.opt(
                "DELETE FROM offer_nonces WHERE hash = $1 RETURNING expires_at",
                &[&hash.as_slice()],
            )?;
            Ok(match row {
                Some(r) => {
                    let expires: String = r.try_get(0)?;
                    expires.as_str() > now
                }
                None => false,
            })
        })
    }

    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.read(|q| {
            q.opt(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1"),
                &[&hash.as_slice()],
            )?
            .as_ref()
            .map(token_row)
            .transpose()
        })
    }

    fn tokens(&self, institution: &str) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|q| {
            q.query(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE institution = $1 ORDER BY created_at, id"
                ),
                &[&institution],
            )?
            .iter()
            .map(token_row)
            .collect()
        })
    }

    fn revoke_token(&self, institution: &str, id: &str) -> Result<bool, StoreError> {
        self.write("revoke token", |q| {
            let n = q.exec(
                "UPDATE tokens SET revoked = TRUE WHERE institution = $1 AND id = $2",
                &[&institution, &id],
            )?;
            Ok(n > 0)
        })
    }

    fn insert_achievement(&self, a: &AchievementRecord) -> Result<(), StoreError> {
        self.write("insert achievement", |q| {
            let inserted = q.exec_unique(
                &format!("INSERT INTO achievements ({ACHIEVEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
                &[
                    &a.institution,
                    &a.slug,
                    &a.version,
                    &a.definition.to_string(),
                    &a.content_hash.as_slice(),
                    &a.created_at,
                    &a.lint_profile,
                ],
            )?;
            match inserted {
                Ok(_) => Ok(()),
                Err(_) => Err(Fail::Store(StoreError::Conflict(format!(
                    "achievement \"{}\" version {} was created concurrently; retry",
                    a.slug, a.version
                )))),
            }
        })
    }

    fn achievement(
        &self,
        institution: &str,
        slug: &str,
        version: Option<i64>,
    ) -> Result<Option<AchievementRecord>, StoreError> {
        self.read(|q| {
            let row = match version {
                Some(v) => q.opt(
                    &format!("SELECT {ACHIEVEMENT_COLUMNS} FROM achievements WHERE institution = $1 AND slug = $2 AND version = $3"),
                    &[&institution, &slug, &v],
                )?,
                None => q.opt(
                    &format!("SELECT {ACHIEVEMENT_COLUMNS} FROM achievements WHERE institution = $1 AND slug = $2 ORDER BY version DESC LIMIT 1"),
                    &[&institution, &slug],
                )?,
            };
            row.as_ref().map(achievement_row).transpose()
        })
    }

    fn achievements(&self, institution: &str) -> Result<Vec<AchievementRecord>, StoreError> {
        self.read(|q| {
            q.query(
                &format!(
                    "SELECT DISTINCT ON (slug) {ACHIEVEMENT_COLUMNS} FROM achievements
                     WHERE institution = $1 ORDER BY slug, version DESC"
                ),
                &[&institution],
            )?
            .iter()
            .map(achievement_row)
            .collect()
        })
    }

    fn latest_achievement_version(
        &self,
        institution: &str,
        slug: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.read(|q| {
            Ok(q.one(
                "SELECT MAX(version) FROM achievements WHERE institution = $1 AND slug = $2",
                &[&institution, &slug],
            )?
            .try_get(0)?)
        })
    }

    fn achievement_versions(&self, institution: &str, slug: &str) -> Result<Vec<i64>, StoreError> {
        self.read(|q| {
            q.query(
                "SELECT version FROM achievements WHERE institution = $1 AND slug = $2 ORDER BY version",
                &[&institution, &slug],
            )?
            .iter()
            .map(|r| r.try_get(0).map_err(Fail::Pg))
            .collect()
        })
    }

    fn insert_credentials(&self, rows: &[NewCredential]) -> Result<Vec<InsertOutcome>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Transactions of several instances that insert the same idempotency keys (a retried
        // batch sent to two instances) wait on each other's unique index entries: taking them
        // in one order everywhere (institution, key; rows without a key by id) means they
        // never deadlock. The sort is stable, so among rows of one group with the same key
        // the first still wins; outcomes go back to the rows' own order. Shared body parts
        // are written first, in hash order, for the same reason.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        fn lock_order(c: &NewCredential) -> (&str, Option<&str>, &str) {
            let id = if c.idempotency_key.is_none() {
                c.id.as_str()
            } else {
                ""
            };
            (c.institution.as_str(), c.idempotency_key.as_deref(), id)
        }
        order.sort_by(|&i, &j| lock_order(&rows[i]).cmp(&lock_order(&rows[j])));
        let mut added: Vec<Arc<BodyParts>> = Vec::new();
        let out = self.write("store credentials", |q| {
            added.clear();
            for c in rows {
                if let Some(p) = &c.packed {
                    let hash = p.parts.hash();
                    if !self.parts.is_known(hash) && !added.iter().any(|a| a.hash() == hash) {
                        added.push(p.parts.clone());
                    }
                }
            }
            added.sort_by(|x, y| x.hash().cmp(y.hash()));
            for p in &added {
                q.exec(
                    "INSERT INTO body_parts (hash, parts) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
                    &[&p.hash().as_slice(), &p.to_blob()],
                )?;
            }
            // Listing order is the rows' own order (`seq`), whatever order they are written
            // in: one block of identity values, handed to the rows by their position.
            let seqs: Vec<i64> = q
                .query(
                    "SELECT nextval(pg_get_serial_sequence('credentials', 'seq')) AS seq
                     FROM generate_series(1, $1::bigint) ORDER BY seq",
                    &[&to_i64(rows.len() as u64)?],
                )?
                .iter()
                .map(|r| r.try_get::<_, i64>(0))
                .collect::<Result<_, _>>()?;
            let mut out: Vec<Option<InsertOutcome>> = vec![None; rows.len()];
            let mut checks: Vec<(&str, &[u8], &str)> = Vec::new();
            for &i in &order {
                let (Some(c), Some(seq)) = (rows.get(i), seqs.get(i)) else {
                    continue;
                };
                let stored: &[u8] = match &c.packed {
                    None => &c.body,
                    Some(p) => &p.stored,
                };
                // No conflict target: a taken idempotency key and a taken id both skip the
                // row (told apart below) instead of failing the whole group commit. A row
                // another transaction is inserting with the same key or id waits for it.
                let n = q.exec(
                    "INSERT INTO credentials (id, institution, achievement, achievement_version, idempotency_key,
                                              request_hash, issued_at, method_id, body, seq, learner)
                     OVERRIDING SYSTEM VALUE
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
                    &[
                        &c.id,
                        &c.institution,
                        &c.achievement,
                        &c.achievement_version,
                        &c.idempotency_key,
                        &c.request_hash.as_slice(),
                        &c.issued_at,
                        &c.method_id,
                        &stored,
                        seq,
                        &c.learner,
                    ],
                )?;
                let outcome = if n == 1 {
                    if let (Some(learner), Some(recipient)) = (&c.learner, &c.stack_check) {
                        checks.push((learner.as_str(), recipient.as_slice(), c.issued_at.as_str()));
                    }
                    InsertOutcome::Inserted
                } else {
                    // A retry under the same idempotency key wins over an id conflict: it
                    // gets the credential it already has.
                    let by_key = match &c.idempotency_key {
                        Some(key) => q
                            .opt(
                                &format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE institution = $1 AND idempotency_key = $2"),
                                &[&c.institution, key],
                            )?
                            .as_ref()
                            .map(credential_row)
                            .transpose()?,
                        None => None,
                    };
                    match by_key {
                        Some(rec) => InsertOutcome::Existing(Box::new(rec)),
                        None => InsertOutcome::IdTaken,
                    }
                };
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(outcome);
                }
            }
            // Queued learners in one order everywhere (two instances' batches for the same
            // learners would otherwise wait on each other's rows the other way round).
            checks.sort_by(|a, b| a.0.cmp(b.0));
            checks.dedup_by(|a, b| a.0 == b.0);
            for (learner, recipient, at) in &checks {
                q.exec(
                    STACK_CHECK_UPSERT,
                    &[learner, recipient, at],
                )?;
            }
            out.into_iter()
                .map(|o| {
                    o.ok_or_else(|| {
                        Fail::Store(StoreError::Backend(
                            "a row of the group was not written".into(),
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        self.parts.remember(added);
        out.into_iter()
            .map(|o| match o {
                InsertOutcome::Existing(rec) => {
                    Ok(InsertOutcome::Existing(Box::new(self.whole_record(*rec)?)))
                }
                inserted => Ok(inserted),
            })
            .collect()
    }

    fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(|q| {
            q.opt(
                &format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(credential_row)
            .transpose()
        })?
        .map(|r| self.whole_record(r))
        .transpose()
    }

    fn credential_body(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|q| {
            q.opt("SELECT body FROM credentials WHERE id = $1", &[&id])?
                .map(|r| r.try_get::<_, Vec<u8>>(0).map_err(Fail::Pg))
                .transpose()
        })?
        .map(|b| self.whole(b))
        .transpose()
    }

    fn credential_by_key(
        &self,
        institution: &str,
        key: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(|q| {
            q.opt(
                &format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE institution = $1 AND idempotency_key = $2"),
                &[&institution, &key],
            )?
            .as_ref()
            .map(credential_row)
            .transpose()
        })?
        .map(|r| self.whole_record(r))
        .transpose()
    }

    fn keyed_with_prefix(
        &self,
        institution: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String, [u8; 32])>, StoreError> {
        // A range scan on the idempotency index, compared byte-wise (see `prefix_range`).
        let end = prefix_range(prefix);
        self.read(|q| {
            let rows = match &end {
                Some(end) => q.query(
                    "SELECT idempotency_key, id, request_hash FROM credentials
                     WHERE institution = $1 AND idempotency_key >= $2 COLLATE \"C\"
                       AND idempotency_key < $3 COLLATE \"C\"",
                    &[&institution, &prefix, end],
                )?,
                None => q.query(
                    "SELECT idempotency_key, id, request_hash FROM credentials
                     WHERE institution = $1 AND idempotency_key >= $2 COLLATE \"C\"",
                    &[&institution, &prefix],
                )?,
            };
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        hash32(r.try_get(2)?, "request hash")?,
                    ))
                })
                .collect()
        })
    }

    fn credentials(
        &self,
        institution: &str,
        page: Page,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let (limit, offset) = page_bounds(page);
        self.read(|q| {
            q.query(
                &format!("SELECT {CREDENTIAL_META_COLUMNS} FROM credentials WHERE institution = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"),
                &[&institution, &limit, &offset],
            )?
            .iter()
            .map(credential_row)
            .collect()
        })
    }

    fn credential_count(&self, institution: &str) -> Result<u64, StoreError> {
        self.institution_count(
            "SELECT COUNT(*) FROM credentials WHERE institution = $1",
            institution,
        )
    }

    fn learner_credentials(&self, learner: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        self.read(|q| {
            q.query(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE learner = $1 ORDER BY issued_at, id"
                ),
                &[&learner],
            )?
            .iter()
            .map(credential_row)
            .collect::<Result<Vec<_>, _>>()
        })?
        .into_iter()
        .map(|r| self.whole_record(r))
        .collect()
    }

    fn stack_checks(&self, limit: usize) -> Result<Vec<StackCheck>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|q| {
            q.query(
                "SELECT learner, recipient, version FROM stack_checks ORDER BY queued_at, learner LIMIT $1",
                &[&limit],
            )?
            .iter()
            .map(|r| {
                Ok(StackCheck {
                    learner: r.try_get(0)?,
                    recipient: r.try_get(1)?,
                    version: r.try_get(2)?,
                })
            })
            .collect()
        })
    }

    fn finish_stack_check(&self, learner: &str, version: i64) -> Result<bool, StoreError> {
        self.write("finish a stack check", |q| {
            Ok(q.exec(
                "DELETE FROM stack_checks WHERE learner = $1 AND version = $2",
                &[&learner, &version],
            )? == 1)
        })
    }

    fn record_recognitions(
        &self,
        rows: &[RecognizedCredential],
        check: Option<(&str, &[u8])>,
    ) -> Result<Vec<bool>, StoreError> {
        let at = rows
            .first()
            .map(|r| r.recorded_at.clone())
            .unwrap_or_default();
        // In id order: two instances recording the same credentials never wait on each
        // other the other way round.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&i, &j| rows[i].id.cmp(&rows[j].id));
        self.write("record recognized credentials", |q| {
            let mut out = vec![false; rows.len()];
            for &i in &order {
                let r = &rows[i];
                let n = q.exec(
                    "INSERT INTO recognized_credentials (institution, learner, id, issuer, achievement, body, verification, recorded_at, recorded_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                    &[
                        &r.institution,
                        &r.learner,
                        &r.id,
                        &r.issuer,
                        &r.achievement,
                        &r.body,
                        &r.verification,
                        &r.recorded_at,
                        &r.recorded_by,
                    ],
                )?;
                if let Some(slot) = out.get_mut(i) {
                    *slot = n == 1;
                }
            }
            if let Some((learner, recipient)) = check {
                q.exec(
                    STACK_CHECK_UPSERT,
                    &[&learner, &recipient, &at],
                )?;
            }
            Ok(out)
        })
    }

    fn learner_recognitions(&self, learner: &str) -> Result<Vec<RecognizedCredential>, StoreError> {
        self.read(|q| {
            q.query(
                "SELECT institution, learner, id, issuer, achievement, body, verification, recorded_at, recorded_by
                 FROM recognized_credentials WHERE learner = $1 ORDER BY recorded_at, id",
                &[&learner],
            )?
            .iter()
            .map(|r| {
                Ok(RecognizedCredential {
                    institution: r.try_get(0)?,
                    learner: r.try_get(1)?,
                    id: r.try_get(2)?,
                    issuer: r.try_get(3)?,
                    achievement: r.try_get(4)?,
                    body: r.try_get(5)?,
                    verification: r.try_get(6)?,
                    recorded_at: r.try_get(7)?,
                    recorded_by: r.try_get(8)?,
                })
            })
            .collect()
        })
    }

    fn recognized_issuers(&self, institution: &str) -> Result<Option<String>, StoreError> {
        self.read(|q| {
            Ok(q.opt(
                "SELECT recognized_issuers FROM institution_settings WHERE institution = $1",
                &[&institution],
            )?
            .map(|r| r.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten())
        })
    }

    fn set_recognized_issuers(&self, institution: &str, issuers: &str) -> Result<(), StoreError> {
        self.write("recognized issuers", |q| {
            q.exec(
                "INSERT INTO institution_settings (institution, recognized_issuers) VALUES ($1, $2)
                 ON CONFLICT (institution) DO UPDATE SET recognized_issuers = excluded.recognized_issuers",
                &[&institution, &issuers],
            )?;
            Ok(())
        })
    }

    fn status_settings(&self, institution: &str) -> Result<StatusSettings, StoreError> {
        let flag: Option<bool> = self.read(|q| {
            q.opt(
                "SELECT suspension FROM institution_settings WHERE institution = $1",
                &[&institution],
            )?
            .map(|r| r.try_get(0).map_err(Fail::Pg))
            .transpose()
        })?;
        Ok(StatusSettings {
            suspension: flag.unwrap_or(false),
        })
    }

    fn set_status_settings(
        &self,
        institution: &str,
        settings: &StatusSettings,
    ) -> Result<(), StoreError> {
        self.write("status settings", |q| {
            q.exec(
                "INSERT INTO institution_settings (institution, suspension) VALUES ($1, $2)
                 ON CONFLICT (institution) DO UPDATE SET suspension = excluded.suspension",
                &[&institution, &settings.suspension],
            )?;
            Ok(())
        })
    }

    fn lint_profile(&self, institution: &str) -> Result<Option<String>, StoreError> {
        self.read(|q| {
            Ok(q.opt(
                "SELECT lint_profile FROM institution_settings WHERE institution = $1",
                &[&institution],
            )?
            .map(|r| r.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten())
        })
    }

    fn set_lint_profile(&self, institution: &str, profile: Option<&str>) -> Result<(), StoreError> {
        self.write("lint profile", |q| {
            q.exec(
                "INSERT INTO institution_settings (institution, lint_profile) VALUES ($1, $2)
                 ON CONFLICT (institution) DO UPDATE SET lint_profile = excluded.lint_profile",
                &[&institution, &profile],
            )?;
            Ok(())
        })
    }

    fn set_achievement_lint_profile(
        &self,
        institution: &str,
        slug: &str,
        version: i64,
        profile: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.write("achievement lint profile", |q| {
            let n = q.exec(
                "UPDATE achievements SET lint_profile = $4
                 WHERE institution = $1 AND slug = $2 AND version = $3",
                &[&institution, &slug, &version, &profile],
            )?;
            Ok(n > 0)
        })
    }

    fn lease_status_block(
        &self,
        institution: &str,
        purpose: StatusPurpose,
        issuer: &str,
        policy: LeasePolicy<'_>,
    ) -> Result<StatusLease, StoreError> {
        let newest = format!(
            "SELECT {STATUS_LIST_COLUMNS} FROM status_lists
             WHERE institution = $1 AND purpose = $2 AND issuer = $3
             ORDER BY seq DESC LIMIT 1"
        );
        let locked = format!("{newest} FOR UPDATE");
        self.write("lease status indexes", |q| {
            let params: [&(dyn ToSql + Sync); 3] = [&institution, &purpose.as_str(), &issuer];
            let current = q.opt(&locked, &params)?.as_ref().map(status_list_row).transpose()?;
            let next_seq: i64 = q
                .one(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM status_lists WHERE institution = $1 AND purpose = $2",
                    &[&institution, &purpose.as_str()],
                )?
                .try_get(0)?;
            // Each statement reads its own snapshot. Another instance may have started a list
            // while the lock waited (the locking statement did not see it), or, when there was
            // no list to lock, before `next_seq` was read (which would then skip a sequence
            // number and leave that list half used): the newest list, read now, after
            // `next_seq`, must still be the one the plan is made from. A list started after
            // this read makes the insert below hit the unique sequence number, and retry.
            let now = q.opt(&newest, &params)?;
            let now_id: Option<String> = now.map(|r| r.try_get(0)).transpose()?;
            if now_id.as_deref() != current.as_ref().map(|c| c.id.as_str()) {
                return Err(Fail::Retry(
                    "another instance started a status list during this lease".into(),
                ));
            }
            let view = LeaseView { current, next_seq };
            let (list, n) = match policy(&view)? {
                LeasePlan::Take(n) => match view.current {
                    Some(list) => (list, n),
                    None => {
                        return Err(Fail::Store(StoreError::Backend(
                            "the lease policy took from a list that does not exist".into(),
                        )))
                    }
                },
                LeasePlan::Start { list, n } => {
                    let inserted = q.exec_unique(
                        &format!("INSERT INTO status_lists ({STATUS_LIST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
                        &[
                            &list.id,
                            &list.institution,
                            &list.purpose.as_str(),
                            &list.seq,
                            &list.issuer,
                            &to_i64(list.size)?,
                            &to_i64(list.allocated)?,
                            &list.permutation_key.as_slice(),
                            &list.version,
                            &list.created_at,
                            &list.updated_at,
                        ],
                    )?;
                    match inserted {
                        Ok(_) => {}
                        // Another instance started list `seq` first: lease from a fresh view.
                        Err(c) if c == "status_lists_seq_unique" => {
                            return Err(Fail::Retry(format!(
                                "another instance started status list {} of {institution} at the same time",
                                list.seq
                            )))
                        }
                        Err(_) => {
                            return Err(Fail::Store(StoreError::Conflict(format!(
                                "status list {} already exists",
                                list.id
                            ))))
                        }
                    }
                    (list, n)
                }
            };
            // The counter only moves forward, never past the size (also a CHECK), and by at
            // least one: a value is never leased twice.
            if n == 0 || n > list.size.saturating_sub(list.allocated) {
                return Err(Fail::Store(StoreError::Backend(format!(
                    "a lease of {n} values does not fit status list {} ({} of {} leased)",
                    list.id, list.allocated, list.size
                ))));
            }
            let moved = q.exec(
                "UPDATE status_lists SET allocated = allocated + $3 WHERE id = $1 AND allocated = $2",
                &[&list.id, &to_i64(list.allocated)?, &to_i64(n)?],
            )?;
            if moved != 1 {
                return Err(Fail::Retry(format!(
                    "status list {} changed during its lease",
                    list.id
                )));
            }
            Ok(StatusLease {
                start: list.allocated,
                end: list.allocated + n,
                list,
            })
        })
    }

    fn status_list(&self, id: &str) -> Result<Option<StatusListRecord>, StoreError> {
        self.read(|q| {
            q.opt(
                &format!("SELECT {STATUS_LIST_COLUMNS} FROM status_lists WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(status_list_row)
            .transpose()
        })
    }

    fn status_lists(&self, institution: &str) -> Result<Vec<StatusListRecord>, StoreError> {
        self.read(|q| {
            q.query(
                &format!("SELECT {STATUS_LIST_COLUMNS} FROM status_lists WHERE institution = $1 ORDER BY purpose, seq"),
                &[&institution],
            )?
            .iter()
            .map(status_list_row)
            .collect()
        })
    }

    fn status_list_bits(&self, id: &str) -> Result<Option<(i64, Vec<u64>)>, StoreError> {
        // One statement, so one snapshot: the version and the bits agree.
        self.read(|q| {
            let Some(row) = q.opt(
                "SELECT version, ARRAY(SELECT idx FROM status_bits WHERE list_id = l.id ORDER BY idx)
                 FROM status_lists l WHERE id = $1",
                &[&id],
            )?
            else {
                return Ok(None);
            };
            let version: i64 = row.try_get(0)?;
            let indexes: Vec<i64> = row.try_get(1)?;
            Ok(Some((
                version,
                indexes
                    .into_iter()
                    .filter_map(|i| u64::try_from(i).ok())
                    .collect(),
            )))
        })
    }

    fn status_bit(&self, id: &str, index: u64) -> Result<bool, StoreError> {
        let Ok(index) = i64::try_from(index) else {
            return Ok(false);
        };
        self.read(|q| {
            Ok(q.one(
                "SELECT EXISTS (SELECT 1 FROM status_bits WHERE list_id = $1 AND idx = $2)",
                &[&id, &index],
            )?
            .try_get(0)?)
        })
    }

    fn apply_status_changes(
        &self,
        changes: &[StatusChange],
        rule: StatusRule<'_>,
    ) -> Result<Vec<StatusChangeOutcome>, StoreError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        // Everything the group may touch, locked up front in one order (credentials, then
        // lists, each by id), so two instances' groups never wait on each other in a cycle.
        let mut credentials: Vec<&str> = changes.iter().map(|c| c.credential_id.as_str()).collect();
        credentials.sort_unstable();
        credentials.dedup();
        let mut lists: Vec<&str> = changes
            .iter()
            .flat_map(|c| c.slots.iter().map(|s| s.list_id.as_str()))
            .collect();
        lists.sort_unstable();
        lists.dedup();
        self.write("status change", |q| {
            q.query(
                "SELECT id FROM credentials WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                &[&credentials],
            )?;
            if !lists.is_empty() {
                q.query(
                    "SELECT id FROM status_lists WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
                    &[&lists],
                )?;
            }
            changes
                .iter()
                .map(|c| apply_status_change(q, c, rule))
                .collect()
        })
    }

    fn status_events(
        &self,
        institution: &str,
        credential: Option<&str>,
        page: Page,
    ) -> Result<Vec<StatusEvent>, StoreError> {
        let (limit, offset) = page_bounds(page);
        self.read(|q| {
            let rows = match credential {
                Some(c) => q.query(
                    "SELECT credential_id, action, changed, reason, actor, at FROM status_events
                     WHERE institution = $1 AND credential_id = $2
                     ORDER BY seq DESC LIMIT $3 OFFSET $4",
                    &[&institution, &c, &limit, &offset],
                )?,
                None => q.query(
                    "SELECT credential_id, action, changed, reason, actor, at FROM status_events
                     WHERE institution = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3",
                    &[&institution, &limit, &offset],
                )?,
            };
            rows.iter()
                .map(|r| {
                    let action: String = r.try_get(1)?;
                    Ok(StatusEvent {
                        credential_id: r.try_get(0)?,
                        action: match action.as_str() {
                            "revoke" => StatusAction::Revoke,
                            "suspend" => StatusAction::Suspend,
                            "reinstate" => StatusAction::Reinstate,
                            _ => return Err(corrupt(format!("unknown status action {action}"))),
                        },
                        changed: r.try_get(2)?,
                        reason: r.try_get(3)?,
                        actor: r.try_get(4)?,
                        at: r.try_get(5)?,
                    })
                })
                .collect()
        })
    }
}

/// Scratch schemas for tests: each test gets its own schema (`search_path` set through the
/// URL's `options`), dropped when the guard goes, so tests run in parallel on one database.
#[cfg(test)]
pub(crate) mod scratch {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::{Database, PgStore};

    /// The variable naming the test database.
    pub(crate) const VAR: &str = "MICROCRED_TEST_POSTGRES";

    /// The test database's URL; `None` (said on stderr) when [`VAR`] is unset, except in CI
    /// (`CI=true`), where a PostgreSQL test that cannot run fails.
    pub(crate) fn url() -> Option<String> {
        match std::env::var(VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                let message = format!(
                    "{VAR} is not set (a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test)"
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

    /// A schema of its own on the test database, dropped with the guard.
    pub(crate) struct Schema {
        url: String,
        pub(crate) name: String,
    }

    impl Schema {
        /// A new, empty schema; `None` when there is no test database.
        pub(crate) fn new() -> Option<Self> {
            static N: AtomicU32 = AtomicU32::new(0);
            let url = url()?;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!(
                "mc_test_{}_{}_{nanos}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let mut c = postgres::Client::connect(&url, postgres::NoTls)
                .unwrap_or_else(|e| panic!("{VAR}={url}: {e}"));
            c.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap();
            Some(Self { url, name })
        }

        /// The test URL with this schema as the `search_path`.
        pub(crate) fn url(&self) -> String {
            let sep = if self.url.contains('?') { '&' } else { '?' };
            format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
        }

        /// A store (one "instance") on this schema with `pool_size` connections.
        pub(crate) fn store(&self, pool_size: u32) -> PgStore {
            let mut db = Database::from(self.url());
            db.pool_size = pool_size;
            PgStore::open(&db).unwrap()
        }
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};
    use std::sync::Arc;

    use super::scratch::Schema;
    use super::*;
    use crate::status::{decide, plan_lease};

    fn fresh_store() -> Option<(Schema, PgStore)> {
        let schema = Schema::new()?;
        let store = schema.store(4);
        Some((schema, store))
    }

    crate::store::conformance::store_conformance!(maybe: fresh_store);

    fn institution(s: &PgStore, slug: &str) {
        let did = format!("did:web:{slug}.example");
        let inst = InstitutionRecord {
            slug: slug.into(),
            did: did.clone(),
            identity: IdentityKind::DidWeb,
            profile: serde_json::json!({"id": did}),
            created_at: "2025-01-01T00:00:00Z".into(),
        };
        let key = KeyRecord {
            method_id: format!("{did}#key-1"),
            institution: slug.into(),
            seq: 1,
            public_multibase: "z6Mk".into(),
            status: KeyStatus::Active,
            created_at: "2025-01-01T00:00:00Z".into(),
            retired_at: None,
            secret: KeySecret::Sealed(SealedSecret {
                nonce: vec![0; 24],
                ciphertext: vec![1; 48],
            }),
        };
        s.create_institution(&inst, &key).unwrap();
    }

    fn cred(id: &str, key: Option<&str>) -> NewCredential {
        NewCredential {
            id: id.into(),
            institution: "a".into(),
            achievement: "x".into(),
            achievement_version: 1,
            idempotency_key: key.map(str::to_owned),
            request_hash: [3; 32],
            issued_at: "2025-01-01T00:00:00Z".into(),
            method_id: "did:web:a.example#key-1".into(),
            body: format!("{{\"id\":\"{id}\"}}").into_bytes(),
            packed: None,
            learner: None,
            stack_check: None,
        }
    }

    /// A small deterministic generator (xorshift), one per thread.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Whether the pool's connection is encrypted (the server's own view).
    fn encrypted(store: &PgStore) -> bool {
        let mut conn = store.conn().unwrap();
        let (client, _) = conn.parts().unwrap();
        client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    }

    /// `sslmode` means what it means to libpq: `disable` is plain; `prefer` (the default) and
    /// `require` encrypt when the server offers TLS; `verify-full` refuses a server whose
    /// certificate no trusted root vouches for (the test server's is self-signed).
    #[test]
    fn tls_as_sslmode_asks() {
        let Some(schema) = Schema::new() else { return };
        let open = |params: &str| {
            let mut db = Database::from(format!("{}&{params}", schema.url()));
            db.pool_size = 1;
            db.connect_timeout_secs = 5;
            PgStore::open(&db)
        };
        let plain = open("sslmode=disable").unwrap();
        assert!(!encrypted(&plain));
        let offered = {
            let mut conn = plain.conn().unwrap();
            let (client, _) = conn.parts().unwrap();
            client
                .query_one("SHOW ssl", &[])
                .unwrap()
                .get::<_, String>(0)
                == "on"
        };
        let default = schema.store(1);
        assert_eq!(encrypted(&default), offered);
        if !offered {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"skipped: the test server does not offer TLS (ssl = off): only sslmode=disable and the default were checked\n",
            );
            return;
        }
        assert!(encrypted(&open("sslmode=require").unwrap()));
        let e = open("sslmode=verify-full").unwrap_err().to_string();
        assert!(e.contains("invalid peer certificate"), "{e}");
        assert!(e.contains("sslrootcert=FILE"), "{e}");
        // The server's own (self-signed) certificate as the trusted root, when this machine can
        // read it (the test server is local): verify-ca accepts the chain.
        let cert_file: String = {
            let mut conn = plain.conn().unwrap();
            let (client, _) = conn.parts().unwrap();
            client.query_one("SHOW ssl_cert_file", &[]).unwrap().get(0)
        };
        if std::fs::read(&cert_file).is_ok() {
            let root = percent_encoding::utf8_percent_encode(
                &cert_file,
                percent_encoding::NON_ALPHANUMERIC,
            );
            let checked = open(&format!("sslmode=verify-ca&sslrootcert={root}")).unwrap();
            assert!(encrypted(&checked));
        }
    }

    /// The unreachable database is named in the error, without its password, and quickly.
    #[test]
    fn unreachable_database_is_named_without_password() {
        let mut db = Database::from("postgres://mc:s3cret@127.0.0.1:1/nowhere");
        db.connect_timeout_secs = 2;
        let started = std::time::Instant::now();
        let e = PgStore::open(&db).unwrap_err().to_string();
        assert!(e.contains("postgres://mc:***@127.0.0.1:1/nowhere"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        assert!(e.contains("running and reachable"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// The service calls the store from `spawn_blocking`: the synchronous client works there,
    /// and the store may be dropped on an async worker thread (when the server stops).
    #[test]
    fn works_from_spawn_blocking_and_drops_in_async_code() {
        let Some((_schema, store)) = fresh_store() else {
            return;
        };
        let store: Arc<dyn Store> = Arc::new(store);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let got = rt.block_on(async move {
            let s = store.clone();
            let got = tokio::task::spawn_blocking(move || {
                s.meta_set_if_absent("k", b"v").unwrap();
                s.meta("k").unwrap()
            })
            .await
            .unwrap();
            drop(store);
            got
        });
        assert_eq!(got.as_deref(), Some(&b"v"[..]));
    }

    /// Instances starting together on an empty schema apply each migration once.
    #[test]
    fn migrations_apply_once_when_instances_start_together() {
        let Some(schema) = Schema::new() else {
            return;
        };
        let stores: Vec<PgStore> = std::thread::scope(|t| {
            let handles: Vec<_> = (0..4).map(|_| t.spawn(|| schema.store(1))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let versions: Vec<i64> = stores[0]
            .read(|q| {
                q.query(
                    "SELECT version FROM microcred_migrations ORDER BY version",
                    &[],
                )?
                .iter()
                .map(|r| r.try_get(0).map_err(Fail::Pg))
                .collect()
            })
            .unwrap();
        assert_eq!(
            versions,
            MIGRATIONS.iter().map(|(v, _)| *v).collect::<Vec<_>>()
        );
        // A database newer than this build is refused.
        stores[0]
            .write("test", |q| {
                q.exec(
                    "INSERT INTO microcred_migrations (version) VALUES (999)",
                    &[],
                )?;
                Ok(())
            })
            .unwrap();
        drop(stores);
        let mut db = Database::from(schema.url());
        db.pool_size = 1;
        let e = PgStore::open(&db).unwrap_err().to_string();
        assert!(e.contains("newer than this build"), "{e}");
    }

    /// Two instances (two pools) leasing from many threads: no counter value is handed out
    /// twice, none is lost, and lists roll over once each.
    #[test]
    fn leases_from_two_instances_never_overlap() {
        let Some(schema) = Schema::new() else {
            return;
        };
        let (a, b) = (schema.store(3), schema.store(3));
        institution(&a, "a");
        let r = StatusPurpose::Revocation;
        let leases: Vec<StatusLease> = std::thread::scope(|t| {
            let handles: Vec<_> = (0..8u64)
                .map(|i| {
                    let s = if i % 2 == 0 { &a } else { &b };
                    t.spawn(move || {
                        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i + 1));
                        (0..25)
                            .map(|_| {
                                let want = 1 + rng.below(3000);
                                s.lease_status_block("a", r, "did:web:a.example", &|view| {
                                    plan_lease(view, "a", r, "did:web:a.example", want)
                                })
                                .unwrap()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut by_list: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
        for l in &leases {
            assert!(l.start < l.end, "{l:?}");
            by_list
                .entry(l.list.id.clone())
                .or_default()
                .push((l.start, l.end));
        }
        let lists = a.status_lists("a").unwrap();
        assert!(lists.len() >= 2, "the lists rolled over: {}", lists.len());
        assert_eq!(
            lists.iter().map(|l| l.seq).collect::<Vec<_>>(),
            (1..=lists.len() as i64).collect::<Vec<_>>()
        );
        for list in &lists {
            let mut ranges = by_list.remove(&list.id).unwrap_or_default();
            ranges.sort_unstable();
            // Contiguous from 0 to what the list says is allocated: no overlap, no gap.
            let mut next = 0;
            for (start, end) in ranges {
                assert_eq!(start, next, "list {} seq {}", list.id, list.seq);
                next = end;
            }
            assert_eq!(next, list.allocated, "list {}", list.seq);
        }
        assert!(by_list.is_empty(), "leases from unknown lists: {by_list:?}");
        // Every list but the newest is full.
        for list in &lists[..lists.len() - 1] {
            assert_eq!(list.allocated, list.size);
        }
    }

    /// Revoke, suspend and reinstate from two instances on the same credentials: nothing is
    /// lost, every accepted change is audited once, and each list's version counts its bit
    /// changes exactly.
    #[test]
    fn status_changes_from_two_instances_lose_nothing() {
        let Some(schema) = Schema::new() else {
            return;
        };
        let (a, b) = (schema.store(3), schema.store(3));
        institution(&a, "a");
        const N: u64 = 12;
        let ids: Vec<String> = (0..N).map(|i| format!("c{i}")).collect();
        let rows: Vec<NewCredential> = ids.iter().map(|id| cred(id, None)).collect();
        a.insert_credentials(&rows).unwrap();
        let (rp, sp) = (StatusPurpose::Revocation, StatusPurpose::Suspension);
        let start = |id: &'static str, p: StatusPurpose| {
            a.lease_status_block("a", p, "did:web:a.example", &move |view| {
                let mut plan = plan_lease(view, "a", p, "did:web:a.example", N)?;
                if let LeasePlan::Start { list, .. } = &mut plan {
                    list.id = id.into();
                }
                Ok(plan)
            })
            .unwrap()
        };
        start("r1", rp);
        start("s1", sp);
        let slots = |i: u64| {
            vec![
                StatusSlot {
                    list_id: "r1".into(),
                    index: i,
                    purpose: rp,
                },
                StatusSlot {
                    list_id: "s1".into(),
                    index: i,
                    purpose: sp,
                },
            ]
        };
        let results: Vec<(StatusChange, StatusChangeOutcome)> = std::thread::scope(|t| {
            let handles: Vec<_> = (0..6u64)
                .map(|n| {
                    let s = if n % 2 == 0 { &a } else { &b };
                    t.spawn(move || {
                        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (n + 7));
                        let mut done = Vec::new();
                        for round in 0..30 {
                            let group: Vec<StatusChange> = (0..1 + rng.below(4))
                                .map(|_| {
                                    let i = rng.below(N);
                                    // Revocations are rare, so most credentials keep
                                    // changing to the end.
                                    let action = match rng.below(20) {
                                        0 => StatusAction::Revoke,
                                        1..=10 => StatusAction::Suspend,
                                        _ => StatusAction::Reinstate,
                                    };
                                    StatusChange {
                                        institution: "a".into(),
                                        credential_id: format!("c{i}"),
                                        action,
                                        slots: slots(i),
                                        reason: format!("thread {n} round {round}"),
                                        actor: format!("tok_{n}"),
                                        at: format!("2025-03-01T00:00:{round:02}Z"),
                                    }
                                })
                                .collect();
                            let out = s.apply_status_changes(&group, &decide).unwrap();
                            done.extend(group.into_iter().zip(out));
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let changed = |f: &dyn Fn(&StatusChange) -> bool| {
            results
                .iter()
                .filter(|(c, o)| *o == StatusChangeOutcome::Changed && f(c))
                .count()
        };
        let accepted = results
            .iter()
            .filter(|(_, o)| {
                matches!(
                    o,
                    StatusChangeOutcome::Changed | StatusChangeOutcome::Unchanged
                )
            })
            .count();
        let events = a
            .status_events(
                "a",
                None,
                Page {
                    offset: 0,
                    limit: 100_000,
                },
            )
            .unwrap();
        assert_eq!(events.len(), accepted, "every accepted change audited once");
        assert_eq!(
            events.iter().filter(|e| e.changed).count(),
            changed(&|_| true),
            "every change audited as a change once"
        );
        let revokes = changed(&|c| c.action == StatusAction::Revoke);
        let flips = changed(&|c| c.action != StatusAction::Revoke);
        assert_eq!(
            a.status_list("r1").unwrap().unwrap().version,
            revokes as i64
        );
        assert_eq!(b.status_list("s1").unwrap().unwrap().version, flips as i64);
        let (_, revoked_bits) = b.status_list_bits("r1").unwrap().unwrap();
        let (_, suspended_bits) = a.status_list_bits("s1").unwrap().unwrap();
        // Each credential's final state is what its own changes, in the order they were
        // applied (the audit trail, oldest first), lead to.
        let mut per_credential: HashMap<&str, (bool, bool, usize)> = HashMap::new();
        for e in events.iter().rev().filter(|e| e.changed) {
            let st = per_credential.entry(e.credential_id.as_str()).or_default();
            match e.action {
                StatusAction::Revoke => {
                    st.0 = true;
                    st.2 += 1;
                }
                StatusAction::Suspend => st.1 = true,
                StatusAction::Reinstate => st.1 = false,
            }
        }
        for (i, id) in ids.iter().enumerate() {
            let (revoked, suspended, revocations) =
                per_credential.get(id.as_str()).copied().unwrap_or_default();
            assert!(revocations <= 1, "{id} revoked {revocations} times");
            assert_eq!(revoked_bits.contains(&(i as u64)), revoked, "{id}");
            assert_eq!(suspended_bits.contains(&(i as u64)), suspended, "{id}");
            let rec = a.credential(id).unwrap().unwrap();
            assert_eq!(rec.revoked_at.is_some(), revoked, "{id}");
        }
        assert!(revokes <= N as usize && flips > 0);
    }

    /// Group inserts from two instances with the same idempotency keys (in different orders,
    /// so transactions wait on each other): exactly one row wins each key; every other
    /// gets the winner's credential.
    #[test]
    fn colliding_group_inserts_from_two_instances_have_one_winner() {
        let Some(schema) = Schema::new() else {
            return;
        };
        let (a, b) = (schema.store(3), schema.store(3));
        institution(&a, "a");
        const KEYS: u64 = 10;
        let outcomes: Vec<(String, String, InsertOutcome)> = std::thread::scope(|t| {
            let handles: Vec<_> = (0..6u64)
                .map(|n| {
                    let s = if n % 2 == 0 { &a } else { &b };
                    t.spawn(move || {
                        let mut rng = Rng(0xdead_beef ^ (n + 3));
                        let mut done = Vec::new();
                        for round in 0..5 {
                            let mut keys: Vec<u64> = (0..KEYS).collect();
                            for i in (1..keys.len()).rev() {
                                keys.swap(i, rng.below(i as u64 + 1) as usize);
                            }
                            let rows: Vec<NewCredential> = keys
                                .iter()
                                .map(|k| {
                                    cred(&format!("t{n}-r{round}-k{k}"), Some(&format!("key-{k}")))
                                })
                                .collect();
                            let out = s.insert_credentials(&rows).unwrap();
                            done.extend(
                                rows.into_iter()
                                    .zip(out)
                                    .map(|(r, o)| (r.idempotency_key.unwrap_or_default(), r.id, o)),
                            );
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let mut winners: HashMap<String, String> = HashMap::new();
        for (key, id, o) in &outcomes {
            if *o == InsertOutcome::Inserted {
                assert!(
                    winners.insert(key.clone(), id.clone()).is_none(),
                    "{key} won twice"
                );
            }
        }
        assert_eq!(winners.len(), KEYS as usize);
        for (key, _, o) in &outcomes {
            match o {
                InsertOutcome::Inserted => {}
                InsertOutcome::Existing(rec) => assert_eq!(&rec.credential.id, &winners[key]),
                InsertOutcome::IdTaken => panic!("no id was reused"),
            }
        }
        assert_eq!(a.credential_count("a").unwrap(), KEYS);
        let stored: HashSet<String> = b
            .credentials(
                "a",
                Page {
                    offset: 0,
                    limit: 100,
                },
            )
            .unwrap()
            .into_iter()
            .map(|r| r.credential.id)
            .collect();
        assert_eq!(stored, winners.values().cloned().collect());
    }
}
