//! The SQLite store: one file, zero set-up (rusqlite with SQLite bundled).
//!
//! - WAL journal with `synchronous=FULL`: the WAL is fsynced at every commit, so a commit
//!   that returned survives a process kill *and* a power cut. (NORMAL would survive a process
//!   kill but could lose the last commits on power loss, which "durably stored before the
//!   response" rules out.) Group commit ([`crate::commit`]) pays one fsync for many inserts.
//! - One writer connection (SQLite has one writer at a time anyway) behind a mutex, and a
//!   pool of read-only connections: in WAL mode readers never wait for the writer.
//! - Checkpoints (copying the WAL back into the database file) run on their own connection
//!   and thread ([`Checkpointer`]), not inside the writer's commits: a commit appends to the
//!   WAL and returns, and the copy overlaps the next commits. They are still synchronous
//!   (`synchronous=FULL` on that connection too: the WAL is synced before the copy and the
//!   database file after it, before the WAL may be reused).
//! - New databases use 16 KiB pages: a signed credential (~7 KiB) then fits in its table
//!   page instead of spilling into overflow pages, which halves the pages written per
//!   credential. (Existing databases keep their page size.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use serde_json::Value;

use super::packed::PartSets;
use super::{
    prefix_range, AchievementRecord, BodyParts, CredentialRecord, IdentityKind, InsertOutcome,
    InstitutionRecord, KeyRecord, KeySecret, KeyStatus, LeasePlan, LeasePolicy, LeaseView,
    NewCredential, OfferRecord, OfferSecret, Page, RecognizedCredential, Scopes, SealedSecret,
    SlotState, StackCheck, StatusAction, StatusChange, StatusChangeOutcome, StatusEvent,
    StatusLease, StatusListRecord, StatusPurpose, StatusRule, StatusSettings, StatusSlot,
    StatusState, Store, StoreError, TokenRecord,
};

/// Schema version kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 9;

/// The columns and constraints of the `keys` table (version 5: a key's secret is sealed here,
/// or is a key in a PKCS#11 token, and the row holds exactly the columns of its kind).
macro_rules! keys_table {
    () => {
        r"(
    method_id TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    seq INTEGER NOT NULL,
    public_multibase TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT,
    storage TEXT NOT NULL DEFAULT 'sealed',
    nonce BLOB,
    ciphertext BLOB,
    token_label TEXT,
    token_key_id BLOB,
    UNIQUE (institution, seq),
    CHECK ((storage = 'sealed' AND nonce IS NOT NULL AND ciphertext IS NOT NULL
            AND token_label IS NULL AND token_key_id IS NULL)
        OR (storage = 'pkcs11' AND nonce IS NULL AND ciphertext IS NULL
            AND token_label IS NOT NULL AND token_key_id IS NOT NULL))
)"
    };
}

/// Version 5 rebuilds `keys` of older files (SQLite cannot relax `NOT NULL` in place): every
/// key they hold is sealed. One transaction: the file has the old table or the new one.
const KEYS_V5_MIGRATION: &str = concat!(
    "BEGIN IMMEDIATE;
CREATE TABLE keys_v5 ",
    keys_table!(),
    ";
INSERT INTO keys_v5 (method_id, institution, seq, public_multibase, status, created_at,
                     retired_at, storage, nonce, ciphertext)
    SELECT method_id, institution, seq, public_multibase, status, created_at, retired_at,
           'sealed', nonce, ciphertext
    FROM keys;
DROP TABLE keys;
ALTER TABLE keys_v5 RENAME TO keys;
CREATE UNIQUE INDEX keys_one_active ON keys(institution) WHERE status = 'active';
PRAGMA user_version = 5;
COMMIT;"
);

/// Columns added after a table was first created: `(table, column, declaration, version)`.
/// `SCHEMA` has them for new databases; older files get them by `ALTER TABLE` at open.
const ADDED_COLUMNS: &[(&str, &str, &str, i64)] = &[
    // 4: lint profiles (institution setting; per achievement version override).
    ("institution_settings", "lint_profile", "TEXT", 4),
    ("achievements", "lint_profile", "TEXT", 4),
    // 6: the learner key of a credential's recipient (stacking, learner records).
    ("credentials", "learner", "TEXT", 6),
    // 7: the issuers an institution recognizes (recognition of prior learning).
    ("institution_settings", "recognized_issuers", "TEXT", 7),
];

const SCHEMA: &str = concat!(
    r"
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS institutions (
    slug TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    identity TEXT NOT NULL,
    profile TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS keys ",
    keys_table!(),
    r";
CREATE UNIQUE INDEX IF NOT EXISTS keys_one_active ON keys(institution) WHERE status = 'active';
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    scopes INTEGER NOT NULL,
    label TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS achievements (
    institution TEXT NOT NULL REFERENCES institutions(slug),
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    lint_profile TEXT,
    PRIMARY KEY (institution, slug, version)
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT NOT NULL UNIQUE,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    achievement TEXT NOT NULL,
    achievement_version INTEGER NOT NULL,
    idempotency_key TEXT,
    request_hash BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    method_id TEXT NOT NULL,
    body BLOB NOT NULL,
    revoked_at TEXT,
    revocation_reason TEXT,
    learner TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS credentials_idempotency
    ON credentials(institution, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS credentials_institution ON credentials(institution);
CREATE TABLE IF NOT EXISTS body_parts (
    hash BLOB PRIMARY KEY,
    parts BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS institution_settings (
    institution TEXT PRIMARY KEY REFERENCES institutions(slug),
    suspension INTEGER NOT NULL DEFAULT 0,
    lint_profile TEXT,
    recognized_issuers TEXT
);
CREATE TABLE IF NOT EXISTS status_lists (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    purpose TEXT NOT NULL,
    seq INTEGER NOT NULL,
    issuer TEXT NOT NULL,
    size INTEGER NOT NULL,
    allocated INTEGER NOT NULL,
    permutation_key BLOB NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (institution, purpose, seq),
    CHECK (allocated >= 0 AND allocated <= size)
);
CREATE TABLE IF NOT EXISTS status_bits (
    list_id TEXT NOT NULL REFERENCES status_lists(id),
    idx INTEGER NOT NULL,
    PRIMARY KEY (list_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    credential_id TEXT NOT NULL,
    action TEXT NOT NULL,
    changed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_events_credential ON status_events(institution, credential_id);
CREATE TABLE IF NOT EXISTS recognized_credentials (
    institution TEXT NOT NULL REFERENCES institutions(slug),
    learner TEXT NOT NULL,
    id TEXT NOT NULL,
    issuer TEXT NOT NULL,
    achievement TEXT NOT NULL,
    body BLOB NOT NULL,
    verification BLOB,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (institution, learner, id)
);
CREATE INDEX IF NOT EXISTS recognized_credentials_learner ON recognized_credentials(learner);
CREATE TABLE IF NOT EXISTS learner_index (
    learner TEXT NOT NULL,
    credential INTEGER NOT NULL,
    PRIMARY KEY (learner, credential)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS learner_index_mark (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    upto INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stack_checks (
    learner TEXT PRIMARY KEY,
    recipient BLOB NOT NULL,
    version INTEGER NOT NULL,
    queued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS offers (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    version INTEGER NOT NULL,
    code_hash BLOB NOT NULL UNIQUE,
    token_hash BLOB UNIQUE,
    exchange_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS offers_institution ON offers(institution, created_at);
CREATE TABLE IF NOT EXISTS offer_nonces (
    hash BLOB PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS offer_nonces_expiry ON offer_nonces(expires_at);
"
);

/// Version 9 replaces version 6's index on `credentials(learner)` by `learner_index`, filled
/// in chunks (see [`LEARNER_INDEX_CHUNK`]).
const DROPPED_INDEXES: &str = "DROP INDEX IF EXISTS credentials_learner;";

/// Credentials are found by learner key (stack checks, a learner's record) through
/// `learner_index`, which the writer fills once this many credentials are not in it yet,
/// in one transaction, in learner order; until then a lookup also scans those credentials
/// (by rowid, past `learner_index_mark.upto`).
///
/// Why not an index on `credentials(learner)`: learner keys are HMACs, so each credential's
/// entry lands on a random page of the index, and a group commit of a thousand credentials
/// dirtied as many 16 KiB index pages, which the WAL then held and fsynced: the index took
/// issuance over HTTP from 80% to 70% of the cores' signing rate (`tests/load/run.sh`, batch
/// issuance, 200,000 credentials). Filled this many at a time, in order, each page is written
/// once per chunk instead of once per commit.
const LEARNER_INDEX_CHUNK: u64 = 10_000;

/// The highest credential rowid whose learner is in `learner_index` (0 before any).
const LEARNER_INDEXED_UPTO: &str = "coalesce((SELECT upto FROM learner_index_mark), 0)";

const CREDENTIAL_COLUMNS: &str = "id, institution, achievement, achievement_version, idempotency_key, request_hash, issued_at, method_id, body, revoked_at, revocation_reason, learner";
const CREDENTIAL_META_COLUMNS: &str = "id, institution, achievement, achievement_version, idempotency_key, request_hash, issued_at, method_id, x'', revoked_at, revocation_reason, learner";

/// Page size of new databases (see the module docs).
const PAGE_SIZE: u32 = 16 * 1024;
/// Page cache of the writer connection: a large group commit is written without spilling
/// pages to the WAL before it commits (which would write some pages twice).
const WRITER_CACHE_KIB: u32 = 64 * 1024;
/// Credential bytes committed between two checkpoints. (Small enough that a checkpoint
/// usually ends before the next commit, which lets that commit start the WAL over: the WAL
/// then stays small and its pages stay in the OS cache.)
const CHECKPOINT_BYTES: u64 = 32 << 20;
/// How often the checkpointer looks for other (small) committed changes.
const CHECKPOINT_IDLE: Duration = Duration::from_secs(2);
/// A WAL larger than this is checkpointed with `RESTART` (waits for the writer and readers,
/// then lets the next commit start the WAL over), so it cannot grow without bound when
/// commits keep overlapping passive checkpoints.
const WAL_RESTART_BYTES: u64 = 512 << 20;
/// The WAL file is truncated to this size when it starts over (only after it grew past
/// [`WAL_RESTART_BYTES`]: a WAL file kept at its usual size is rewritten in place).
const WAL_KEEP_BYTES: u64 = WAL_RESTART_BYTES;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    checkpoints: Checkpointer,
    /// Part sets of packed bodies known to be in `body_parts` (they never change).
    parts: PartSets,
    /// Credentials inserted and not yet in `learner_index` (an upper bound: skipped rows are
    /// counted too); the writer indexes them once there are [`LEARNER_INDEX_CHUNK`].
    unindexed: AtomicU64,
}

/// The checkpoint thread: woken after every [`CHECKPOINT_BYTES`] of credentials committed,
/// and every [`CHECKPOINT_IDLE`] when anything else was committed.
struct Checkpointer {
    /// Credential bytes committed since the last wake-up.
    pending: AtomicU64,
    /// Something was committed since the last checkpoint.
    dirty: Arc<AtomicBool>,
    wake: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts the thread; `None` when it cannot run (the writer then checkpoints itself).
    fn start(path: &Path) -> Option<Self> {
        let (tx, rx) = mpsc::channel::<()>();
        let dirty = Arc::new(AtomicBool::new(false));
        let conn = Connection::open(path).ok()?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -2048;",
        )
        .ok()?;
        let page_size: u64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
            .ok()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(4096);
        let flag = dirty.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || loop {
                match rx.recv_timeout(CHECKPOINT_IDLE) {
                    Ok(()) => {}
                    Err(mpsc::RecvTimeoutError::Timeout) if flag.load(Ordering::Relaxed) => {}
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                flag.store(false, Ordering::Relaxed);
                checkpoint(&conn, page_size);
            })
            .ok()?;
        Some(Self {
            pending: AtomicU64::new(0),
            dirty,
            wake: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Records a commit of `bytes` credential bytes (0 for other changes).
    fn committed(&self, bytes: u64) {
        self.dirty.store(true, Ordering::Relaxed);
        if bytes == 0 {
            return;
        }
        let total = self.pending.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total >= CHECKPOINT_BYTES {
            self.pending.store(0, Ordering::Relaxed);
            if let Ok(wake) = self.wake.lock() {
                if let Some(tx) = wake.as_ref() {
                    let _ = tx.send(());
                }
            }
        }
    }

    /// Stops the thread (closing the last connection then checkpoints everything).
    fn stop(&self) {
        if let Ok(mut wake) = self.wake.lock() {
            wake.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            if h.join().is_err() {
                tracing::error!("the SQLite checkpoint thread panicked");
            }
        }
    }
}

/// Adds the learners of the credentials past `learner_index_mark.upto` to `learner_index`,
/// in learner order, and moves the mark to the last credential. Run in a write transaction,
/// so the entries and the mark move together.
fn index_learners(tx: &rusqlite::Transaction<'_>) -> Result<(), rusqlite::Error> {
    tx.execute_batch(&format!(
        "INSERT OR IGNORE INTO learner_index (learner, credential)
             SELECT learner, rowid FROM credentials
             WHERE rowid > {LEARNER_INDEXED_UPTO}
               AND learner IS NOT NULL
             ORDER BY learner, rowid;
         INSERT INTO learner_index_mark (one, upto)
             VALUES (1, coalesce((SELECT max(rowid) FROM credentials), 0))
             ON CONFLICT (one) DO UPDATE SET upto = excluded.upto;"
    ))
}

/// One passive checkpoint (copies what it can without waiting for anyone); a `RESTART` one
/// when the WAL has grown past [`WAL_RESTART_BYTES`].
fn checkpoint(conn: &Connection, page_size: u64) {
    let run = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
    };
    match run("PASSIVE") {
        Ok((busy, log, done)) => {
            tracing::debug!(busy, log, done, "WAL checkpoint");
            let wal = u64::try_from(log).unwrap_or(0) * page_size;
            if wal > WAL_RESTART_BYTES {
                if let Err(e) = run("RESTART") {
                    tracing::warn!(error = %e, "restarting the WAL failed");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpoints.stop();
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The database holds token hashes, sealed signing keys and learners' credentials: only the
/// service's own user may read it. Creates the file with mode 0600 before SQLite opens it
/// (SQLite gives the `-wal` and `-shm` files it creates the database file's mode), and
/// tightens a database, `-wal` or `-shm` left readable by an earlier version or another tool.
#[cfg(unix)]
fn restrict_files(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // An in-memory database or a `file:` URI is not a file name: SQLite handles those.
    if path.as_os_str().is_empty()
        || path.as_os_str() == ":memory:"
        || path.to_str().is_some_and(|p| p.starts_with("file:"))
    {
        return Ok(());
    }
    let private = |file: &Path, e: std::io::Error| {
        StoreError::Backend(format!(
            "cannot make {} private (mode 0600): {e}",
            file.display()
        ))
    };
    // An empty file is a new, empty database to SQLite.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(private(path, e)),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let mode = match std::fs::metadata(&file) {
            Ok(m) => m.permissions().mode(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(private(&file, e)),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| private(&file, e))?;
            tracing::warn!(file = %file.display(), "the database file was readable by other users: its mode is now 0600");
        }
    }
    Ok(())
}

/// File modes are a Unix matter; elsewhere the directory's access rules apply.
#[cfg(not(unix))]
fn restrict_files(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date. On
    /// Unix the file and its `-wal` / `-shm` companions are made private (mode 0600).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        restrict_files(path)?;
        let mut writer = Connection::open(path).map_err(|e| {
            StoreError::Backend(format!("cannot open database {}: {e}", path.display()))
        })?;
        writer
            .execute_batch(&format!(
                // page_size only applies to a new (empty) database, before WAL is set.
                "PRAGMA page_size = {PAGE_SIZE};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;
                 PRAGMA cache_size = -{WRITER_CACHE_KIB};
                 PRAGMA journal_size_limit = {WAL_KEEP_BYTES};"
            ))
            .map_err(backend)?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "{} cannot use WAL journaling (got {mode}); put the database on a local file system",
                path.display()
            )));
        }
        let version: i64 = writer
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "{} has schema version {version}, newer than this build ({SCHEMA_VERSION}): upgrade microcred",
                path.display()
            )));
        }
        writer.execute_batch(SCHEMA).map_err(backend)?;
        for (table, column, decl, since) in ADDED_COLUMNS {
            if version < *since && !has_column(&writer, table, column).map_err(backend)? {
                writer
                    .execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl};"))
                    .map_err(backend)?;
            }
        }
        writer.execute_batch(DROPPED_INDEXES).map_err(backend)?;
        if version < 5 && !has_column(&writer, "keys", "storage").map_err(backend)? {
            if let Err(e) = writer.execute_batch(KEYS_V5_MIGRATION) {
                let _ = writer.execute_batch("ROLLBACK;");
                return Err(StoreError::Backend(format!(
                    "{}: moving keys to schema version 5 failed (the file is unchanged): {e}",
                    path.display()
                )));
            }
        }
        writer
            .execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
            .map_err(backend)?;
        writer.set_prepared_statement_cache_capacity(64);
        let checkpoints = match Checkpointer::start(path) {
            Some(c) => {
                writer
                    .execute_batch("PRAGMA wal_autocheckpoint = 0;")
                    .map_err(backend)?;
                c
            }
            None => {
                tracing::warn!("no checkpoint thread: the writer checkpoints the WAL itself");
                Checkpointer {
                    pending: AtomicU64::new(0),
                    dirty: Arc::new(AtomicBool::new(false)),
                    wake: Mutex::new(None),
                    thread: Mutex::new(None),
                }
            }
        };
        // Whatever is not indexed yet (all of a file older than version 9) is indexed now.
        let tx = writer
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        index_learners(&tx).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            checkpoints,
            parts: PartSets::default(),
            unindexed: AtomicU64::new(0),
        })
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(backend)?;
        conn.execute_batch("PRAGMA query_only = 1; PRAGMA busy_timeout = 5000;")
            .map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `f` on a pooled read connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let result = f(&conn).map_err(backend);
        if let Ok(mut pool) = self.readers.lock() {
            if pool.len() < 16 {
                pool.push(conn);
            }
        }
        result
    }

    /// Runs `f` in a write transaction.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().map_err(|_| poisoned())?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        self.checkpoints.committed(0);
        Ok(out)
    }
}

impl SqliteStore {
    /// Counts `inserted` new credentials, and indexes the learners of the unindexed ones when
    /// there are [`LEARNER_INDEX_CHUNK`] of them.
    fn count_unindexed(&self, inserted: u64) -> Result<(), StoreError> {
        let pending = self.unindexed.fetch_add(inserted, Ordering::Relaxed) + inserted;
        if pending < LEARNER_INDEX_CHUNK {
            return Ok(());
        }
        // Another commit may have indexed them while this one waited for the writer.
        let indexed = self.write(|tx| {
            let due = self.unindexed.load(Ordering::Relaxed) >= LEARNER_INDEX_CHUNK;
            if due {
                index_learners(tx).map_err(backend)?;
            }
            Ok(due)
        })?;
        if indexed {
            self.unindexed.store(0, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Puts every credential's learner into `learner_index` now (for tests of the index).
    #[cfg(test)]
    pub(crate) fn index_learners_now(&self) -> Result<(), StoreError> {
        self.write(|tx| index_learners(tx).map_err(backend))?;
        self.unindexed.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// A credential's bytes from what is stored (see [`super::Packer`]).
    fn whole(&self, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        self.parts.whole(stored, |hash| {
            self.read(|c| {
                c.prepare_cached("SELECT parts FROM body_parts WHERE hash = ?1")?
                    .query_row([hash.as_slice()], |r| r.get(0))
                    .optional()
            })
        })
    }

    fn whole_record(&self, mut rec: CredentialRecord) -> Result<CredentialRecord, StoreError> {
        rec.credential.body = self.whole(std::mem::take(&mut rec.credential.body))?;
        Ok(rec)
    }

    /// What to store for `c`: its packed form (its part set stored first, once) when it has
    /// one, else its bytes.
    fn stored_form<'a>(
        &self,
        tx: &rusqlite::Transaction<'_>,
        c: &'a NewCredential,
        added: &mut Vec<Arc<BodyParts>>,
    ) -> Result<&'a [u8], StoreError> {
        let Some(p) = &c.packed else {
            return Ok(&c.body);
        };
        let hash = p.parts.hash();
        if !self.parts.is_known(hash) && !added.iter().any(|a| a.hash() == hash) {
            tx.prepare_cached("INSERT OR IGNORE INTO body_parts (hash, parts) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![hash.as_slice(), p.parts.to_blob()]))
                .map_err(backend)?;
            added.push(p.parts.clone());
        }
        Ok(&p.stored)
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("a database connection lock was poisoned by an earlier panic".into())
}

fn json_col(row: &Row<'_>, idx: usize) -> Result<Value, rusqlite::Error> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

const OFFER_COLUMNS: &str =
    "id, institution, version, code_hash, token_hash, exchange_hash, created_at, expires_at, body";

fn offer_row(row: &Row<'_>) -> Result<OfferRecord, rusqlite::Error> {
    let token_hash = match row.get_ref(4)? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(hash_col(row, 4)?),
    };
    Ok(OfferRecord {
        id: row.get(0)?,
        institution: row.get(1)?,
        version: row.get(2)?,
        code_hash: hash_col(row, 3)?,
        token_hash,
        exchange_hash: hash_col(row, 5)?,
        created_at: row.get(6)?,
        expires_at: row.get(7)?,
        body: row.get(8)?,
    })
}

fn hash_col(row: &Row<'_>, idx: usize) -> Result<[u8; 32], rusqlite::Error> {
    let bytes: Vec<u8> = row.get(idx)?;
    bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Blob,
            "hash is not 32 bytes".into(),
        )
    })
}

fn conversion(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        format!("unknown {what}").into(),
    )
}

fn institution_row(row: &Row<'_>) -> Result<InstitutionRecord, rusqlite::Error> {
    let identity: String = row.get(2)?;
    Ok(InstitutionRecord {
        slug: row.get(0)?,
        did: row.get(1)?,
        identity: IdentityKind::parse(&identity).ok_or_else(|| conversion(2, "identity kind"))?,
        profile: json_col(row, 3)?,
        created_at: row.get(4)?,
    })
}

fn key_row(row: &Row<'_>) -> Result<KeyRecord, rusqlite::Error> {
    let status: String = row.get(4)?;
    let storage: String = row.get(7)?;
    let secret = match (
        storage.as_str(),
        row.get::<_, Option<Vec<u8>>>(8)?,
        row.get::<_, Option<Vec<u8>>>(9)?,
        row.get::<_, Option<String>>(10)?,
        row.get::<_, Option<Vec<u8>>>(11)?,
    ) {
        ("sealed", Some(nonce), Some(ciphertext), None, None) => {
            KeySecret::Sealed(SealedSecret { nonce, ciphertext })
        }
        ("pkcs11", None, None, Some(token), Some(key_id)) => KeySecret::Pkcs11 { token, key_id },
        _ => return Err(conversion(7, "key storage")),
    };
    Ok(KeyRecord {
        method_id: row.get(0)?,
        institution: row.get(1)?,
        seq: row.get(2)?,
        public_multibase: row.get(3)?,
        status: KeyStatus::parse(&status).ok_or_else(|| conversion(4, "key status"))?,
        created_at: row.get(5)?,
        retired_at: row.get(6)?,
        secret,
    })
}

fn token_row(row: &Row<'_>) -> Result<TokenRecord, rusqlite::Error> {
    let scopes: i64 = row.get(2)?;
    Ok(TokenRecord {
        id: row.get(0)?,
        institution: row.get(1)?,
        scopes: Scopes::from_bits(u8::try_from(scopes).unwrap_or(0)),
        label: row.get(3)?,
        hash: hash_col(row, 4)?,
        created_at: row.get(5)?,
        revoked: row.get::<_, i64>(6)? != 0,
    })
}

fn achievement_row(row: &Row<'_>) -> Result<AchievementRecord, rusqlite::Error> {
    Ok(AchievementRecord {
        institution: row.get(0)?,
        slug: row.get(1)?,
        version: row.get(2)?,
        definition: json_col(row, 3)?,
        content_hash: hash_col(row, 4)?,
        created_at: row.get(5)?,
        lint_profile: row.get(6)?,
    })
}

/// Whether `table` has `column` (for migrations that add columns).
fn has_column(c: &Connection, table: &str, column: &str) -> Result<bool, rusqlite::Error> {
    let mut stmt = c.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

fn credential_row(row: &Row<'_>) -> Result<CredentialRecord, rusqlite::Error> {
    Ok(CredentialRecord {
        credential: NewCredential {
            id: row.get(0)?,
            institution: row.get(1)?,
            achievement: row.get(2)?,
            achievement_version: row.get(3)?,
            idempotency_key: row.get(4)?,
            request_hash: hash_col(row, 5)?,
            issued_at: row.get(6)?,
            method_id: row.get(7)?,
            body: row.get(8)?,
            packed: None,
            learner: row.get(11)?,
            stack_check: None,
        },
        revoked_at: row.get(9)?,
        revocation_reason: row.get(10)?,
    })
}

/// Queues (or queues again) a learner's stack check.
const STACK_CHECK_UPSERT: &str = "INSERT INTO stack_checks (learner, recipient, version, queued_at) VALUES (?1, ?2, 1, ?3)
     ON CONFLICT (learner) DO UPDATE SET recipient = excluded.recipient, version = stack_checks.version + 1, queued_at = excluded.queued_at";

const KEY_COLUMNS: &str = "method_id, institution, seq, public_multibase, status, created_at, \
     retired_at, storage, nonce, ciphertext, token_label, token_key_id";
const TOKEN_COLUMNS: &str = "id, institution, scopes, label, hash, created_at, revoked";
const ACHIEVEMENT_COLUMNS: &str =
    "institution, slug, version, definition, content_hash, created_at, lint_profile";

fn insert_key(tx: &rusqlite::Transaction<'_>, k: &KeyRecord) -> Result<(), StoreError> {
    let (nonce, ciphertext, token, key_id) = match &k.secret {
        KeySecret::Sealed(s) => (Some(&s.nonce), Some(&s.ciphertext), None, None),
        KeySecret::Pkcs11 { token, key_id } => (None, None, Some(token), Some(key_id)),
    };
    tx.execute(
        &format!(
            "INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        ),
        params![
            k.method_id,
            k.institution,
            k.seq,
            k.public_multibase,
            k.status.as_str(),
            k.created_at,
            k.retired_at,
            k.secret.storage().as_str(),
            nonce,
            ciphertext,
            token,
            key_id
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!(
                "key {} already exists (a concurrent rotation?)",
                k.method_id
            ))
        } else {
            backend(e)
        }
    })?;
    Ok(())
}

const STATUS_LIST_COLUMNS: &str = "id, institution, purpose, seq, issuer, size, allocated, permutation_key, version, created_at, updated_at";

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("{v} does not fit the database")))
}

fn status_list_row(row: &Row<'_>) -> Result<StatusListRecord, rusqlite::Error> {
    let purpose: String = row.get(2)?;
    let unsigned = |idx: usize| -> Result<u64, rusqlite::Error> {
        u64::try_from(row.get::<_, i64>(idx)?).map_err(|_| conversion(idx, "negative count"))
    };
    let key: Vec<u8> = row.get(7)?;
    Ok(StatusListRecord {
        id: row.get(0)?,
        institution: row.get(1)?,
        purpose: StatusPurpose::parse(&purpose).ok_or_else(|| conversion(2, "status purpose"))?,
        seq: row.get(3)?,
        issuer: row.get(4)?,
        size: unsigned(5)?,
        allocated: unsigned(6)?,
        permutation_key: key.try_into().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                7,
                rusqlite::types::Type::Blob,
                "permutation key is not 32 bytes".into(),
            )
        })?,
        version: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

fn insert_status_list(
    tx: &rusqlite::Transaction<'_>,
    l: &StatusListRecord,
) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO status_lists ({STATUS_LIST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
        params![
            l.id,
            l.institution,
            l.purpose.as_str(),
            l.seq,
            l.issuer,
            to_i64(l.size)?,
            to_i64(l.allocated)?,
            l.permutation_key.as_slice(),
            l.version,
            l.created_at,
            l.updated_at
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("status list {} already exists", l.id))
        } else {
            backend(e)
        }
    })?;
    Ok(())
}

/// Sets or clears one bit; bumps the list's version when it changed. True if it changed.
fn set_status_bit(
    tx: &rusqlite::Transaction<'_>,
    slot: &StatusSlot,
    value: bool,
    at: &str,
) -> Result<bool, StoreError> {
    let index = to_i64(slot.index)?;
    let sql = if value {
        "INSERT OR IGNORE INTO status_bits (list_id, idx) VALUES (?1, ?2)"
    } else {
        "DELETE FROM status_bits WHERE list_id = ?1 AND idx = ?2"
    };
    let n = tx
        .prepare_cached(sql)
        .map_err(backend)?
        .execute(params![slot.list_id, index])
        .map_err(backend)?;
    if n > 0 {
        tx.prepare_cached(
            "UPDATE status_lists SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        )
        .map_err(backend)?
        .execute(params![slot.list_id, at])
        .map_err(backend)?;
    }
    Ok(n > 0)
}

/// One revocation / suspension / reinstatement inside the caller's transaction: reads the
/// state, asks `rule`, applies its decision.
fn apply_status_change(
    tx: &rusqlite::Transaction<'_>,
    ch: &StatusChange,
    rule: StatusRule<'_>,
) -> Result<StatusChangeOutcome, StoreError> {
    let revoked: Option<Option<String>> = tx
        .prepare_cached("SELECT revoked_at FROM credentials WHERE institution = ?1 AND id = ?2")
        .map_err(backend)?
        .query_row(params![ch.institution, ch.credential_id], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    let Some(revoked_at) = revoked else {
        return Ok(StatusChangeOutcome::NotFound);
    };
    let mut slots = Vec::with_capacity(ch.slots.len());
    for slot in &ch.slots {
        let list: Option<(String, i64)> = tx
            .prepare_cached(
                "SELECT purpose, size FROM status_lists WHERE id = ?1 AND institution = ?2",
            )
            .map_err(backend)?
            .query_row(params![slot.list_id, ch.institution], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(backend)?;
        let list = list.and_then(|(purpose, size)| {
            Some((StatusPurpose::parse(&purpose)?, u64::try_from(size).ok()?))
        });
        // An index beyond what the database holds cannot be set.
        let set = match (list, i64::try_from(slot.index)) {
            (Some(_), Ok(index)) => {
                tx.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM status_bits WHERE list_id = ?1 AND idx = ?2)",
                )
                .map_err(backend)?
                .query_row(params![slot.list_id, index], |r| r.get::<_, i64>(0))
                .map_err(backend)?
                    != 0
            }
            _ => false,
        };
        slots.push(SlotState { list, set });
    }
    let decision = rule(ch, &StatusState { revoked_at, slots });
    if decision.revoke {
        tx.prepare_cached(
            "UPDATE credentials SET revoked_at = ?3, revocation_reason = ?4 WHERE institution = ?1 AND id = ?2",
        )
        .map_err(backend)?
        .execute(params![ch.institution, ch.credential_id, ch.at, ch.reason])
        .map_err(backend)?;
    }
    for (i, value) in &decision.bits {
        let slot = ch.slots.get(*i).ok_or_else(|| {
            StoreError::Backend(format!(
                "a status decision names slot {i}, which the change does not have"
            ))
        })?;
        set_status_bit(tx, slot, *value, &ch.at)?;
    }
    if decision.audit {
        tx.prepare_cached(
            "INSERT INTO status_events (institution, credential_id, action, changed, reason, actor, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(backend)?
        .execute(params![
            ch.institution,
            ch.credential_id,
            ch.action.as_str(),
            i64::from(decision.outcome == StatusChangeOutcome::Changed),
            ch.reason,
            ch.actor,
            ch.at
        ])
        .map_err(backend)?;
    }
    Ok(decision.outcome)
}

impl Store for SqliteStore {
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT value FROM meta WHERE name = ?1")?
                .query_row([name], |r| r.get(0))
                .optional()
        })
    }

    fn meta_set_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![name, value],
            )
            .map_err(backend)?;
            tx.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .map_err(backend)
        })
    }

    fn create_institution(
        &self,
        inst: &InstitutionRecord,
        first_key: &KeyRecord,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO institutions (slug, did, identity, profile, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![inst.slug, inst.did, inst.identity.as_str(), inst.profile.to_string(), inst.created_at],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("an institution named \"{}\" already exists", inst.slug))
                } else {
                    backend(e)
                }
            })?;
            insert_key(tx, first_key)
        })
    }

    fn institution(&self, slug: &str) -> Result<Option<InstitutionRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT slug, did, identity, profile, created_at FROM institutions WHERE slug = ?1",
            )?
            .query_row([slug], institution_row)
            .optional()
        })
    }

    fn institutions(&self) -> Result<Vec<InstitutionRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT slug, did, identity, profile, created_at FROM institutions ORDER BY slug",
            )?
            .query_map([], institution_row)?
            .collect()
        })
    }

    fn update_institution(&self, inst: &InstitutionRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE institutions SET did = ?2, profile = ?3 WHERE slug = ?1",
                params![inst.slug, inst.did, inst.profile.to_string()],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn keys(&self, institution: &str) -> Result<Vec<KeyRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE institution = ?1 ORDER BY seq"
            ))?
            .query_map([institution], key_row)?
            .collect()
        })
    }

    fn rotate_key(
        &self,
        inst: &InstitutionRecord,
        new_key: &KeyRecord,
        at: &str,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE keys SET status = 'retired', retired_at = ?2 WHERE institution = ?1 AND status = 'active'",
                params![inst.slug, at],
            )
            .map_err(backend)?;
            insert_key(tx, new_key)?;
            tx.execute(
                "UPDATE institutions SET did = ?2, profile = ?3 WHERE slug = ?1",
                params![inst.slug, inst.did, inst.profile.to_string()],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn mark_compromised(
        &self,
        institution: &str,
        method_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE keys SET status = 'compromised', retired_at = COALESCE(retired_at, ?3)
                     WHERE institution = ?1 AND method_id = ?2 AND status != 'active'",
                    params![institution, method_id, at],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
    }

    fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    t.id,
                    t.institution,
                    i64::from(t.scopes.bits()),
                    t.label,
                    t.hash.as_slice(),
                    t.created_at,
                    i64::from(t.revoked)
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn insert_offer(&self, o: &OfferRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO offers (id, institution, version, code_hash, token_hash, exchange_hash, created_at, expires_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    o.id,
                    o.institution,
                    o.version,
                    o.code_hash.as_slice(),
                    o.token_hash.as_ref().map(|h| h.as_slice()),
                    o.exchange_hash.as_slice(),
                    o.created_at,
                    o.expires_at,
                    o.body
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn offer(&self, id: &str) -> Result<Option<OfferRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?1"))?
                .query_row([id], offer_row)
                .optional()
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
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {OFFER_COLUMNS} FROM offers WHERE {column} = ?1"
            ))?
            .query_row([hash.as_slice()], offer_row)
            .optional()
        })
    }

    fn offers(&self, institution: &str, page: Page) -> Result<Vec<OfferRecord>, StoreError> {
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {OFFER_COLUMNS} FROM offers WHERE institution = ?1
                 ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3"
            ))?
            .query_map(params![institution, limit, offset], offer_row)?
            .collect()
        })
    }

    fn offer_count(&self, institution: &str) -> Result<u64, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT COUNT(*) FROM offers WHERE institution = ?1")?
                .query_row([institution], |r| r.get::<_, i64>(0))
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    fn update_offer(&self, o: &OfferRecord, expected: i64) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE offers SET version = ?1, token_hash = ?2, body = ?3
                     WHERE id = ?4 AND version = ?5",
                    params![
                        o.version,
                        o.token_hash.as_ref().map(|h| h.as_slice()),
                        o.body,
                        o.id,
                        expected
                    ],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    fn insert_nonce(&self, hash: &[u8; 32], expires_at: &str, now: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM offer_nonces WHERE expires_at <= ?1", [now])
                .map_err(backend)?;
            tx.execute(
                "INSERT INTO offer_nonces (hash, expires_at) VALUES (?1, ?2)",
                params![hash.as_slice(), expires_at],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn take_nonce(&self, hash: &[u8; 32], now: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let expires: Option<String> = tx
                .query_row(
                    "DELETE FROM offer_nonces WHERE hash = ?1 RETURNING expires_at",
                    [hash.as_slice()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            Ok(expires.is_some_and(|e| e.as_str() > now))
        })
    }

    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1"
            ))?
            .query_row([hash.as_slice()], token_row)
            .optional()
        })
    }

    fn tokens(&self, institution: &str) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE institution = ?1 ORDER BY created_at, id"
            ))?
            .query_map([institution], token_row)?
            .collect()
        })
    }

    fn revoke_token(&self, institution: &str, id: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE tokens SET revoked = 1 WHERE institution = ?1 AND id = ?2",
                    params![institution, id],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
    }

    fn insert_achievement(&self, a: &AchievementRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                &format!("INSERT INTO achievements ({ACHIEVEMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![a.institution, a.slug, a.version, a.definition.to_string(), a.content_hash.as_slice(), a.created_at, a.lint_profile],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!(
                        "achievement \"{}\" version {} was created concurrently; retry",
                        a.slug, a.version
                    ))
                } else {
                    backend(e)
                }
            })?;
            Ok(())
        })
    }

    fn achievement(
        &self,
        institution: &str,
        slug: &str,
        version: Option<i64>,
    ) -> Result<Option<AchievementRecord>, StoreError> {
        self.read(|c| match version {
            Some(v) => c
                .prepare_cached(&format!(
                    "SELECT {ACHIEVEMENT_COLUMNS} FROM achievements WHERE institution = ?1 AND slug = ?2 AND version = ?3"
                ))?
                .query_row(params![institution, slug, v], achievement_row)
                .optional(),
            None => c
                .prepare_cached(&format!(
                    "SELECT {ACHIEVEMENT_COLUMNS} FROM achievements WHERE institution = ?1 AND slug = ?2 ORDER BY version DESC LIMIT 1"
                ))?
                .query_row(params![institution, slug], achievement_row)
                .optional(),
        })
    }

    fn achievements(&self, institution: &str) -> Result<Vec<AchievementRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {ACHIEVEMENT_COLUMNS} FROM achievements a WHERE institution = ?1
                 AND version = (SELECT MAX(version) FROM achievements b WHERE b.institution = a.institution AND b.slug = a.slug)
                 ORDER BY slug"
            ))?
            .query_map([institution], achievement_row)?
            .collect()
        })
    }

    fn latest_achievement_version(
        &self,
        institution: &str,
        slug: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT MAX(version) FROM achievements WHERE institution = ?1 AND slug = ?2",
            )?
            .query_row(params![institution, slug], |r| r.get(0))
        })
    }

    fn keyed_with_prefix(
        &self,
        institution: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String, [u8; 32])>, StoreError> {
        // A range scan on the idempotency index, compared byte-wise whatever the column's
        // collation (see `prefix_range`).
        let end = prefix_range(prefix);
        self.read(|c| {
            c.prepare_cached(
                "SELECT idempotency_key, id, request_hash FROM credentials
                 WHERE institution = ?1 AND idempotency_key >= ?2 COLLATE BINARY
                   AND (?3 IS NULL OR idempotency_key < ?3 COLLATE BINARY)",
            )?
            .query_map(params![institution, prefix, end], |r| {
                Ok((r.get(0)?, r.get(1)?, hash_col(r, 2)?))
            })?
            .collect()
        })
    }

    fn achievement_versions(&self, institution: &str, slug: &str) -> Result<Vec<i64>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT version FROM achievements WHERE institution = ?1 AND slug = ?2 ORDER BY version")?
                .query_map(params![institution, slug], |r| r.get(0))?
                .collect()
        })
    }

    fn insert_credentials(&self, rows: &[NewCredential]) -> Result<Vec<InsertOutcome>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut bytes = 0;
        let mut added = Vec::new();
        let out = self.write(|tx| {
            let mut insert = tx
                .prepare_cached(&format!(
                    // No conflict target: a taken idempotency key and a taken id both skip the
                    // row (told apart below) instead of failing the whole group commit.
                    "INSERT INTO credentials ({CREDENTIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, ?10)
                     ON CONFLICT DO NOTHING"
                ))
                .map_err(backend)?;
            let mut existing = tx
                .prepare_cached(&format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE institution = ?1 AND idempotency_key = ?2"
                ))
                .map_err(backend)?;
            let mut queue = tx
                .prepare_cached(STACK_CHECK_UPSERT)
                .map_err(backend)?;
            let mut out = Vec::with_capacity(rows.len());
            for c in rows {
                let stored = self.stored_form(tx, c, &mut added)?;
                bytes += stored.len();
                let n = insert
                    .execute(params![
                        c.id,
                        c.institution,
                        c.achievement,
                        c.achievement_version,
                        c.idempotency_key,
                        c.request_hash.as_slice(),
                        c.issued_at,
                        c.method_id,
                        stored,
                        c.learner
                    ])
                    .map_err(backend)?;
                if n == 1 {
                    if let (Some(learner), Some(recipient)) = (&c.learner, &c.stack_check) {
                        queue.execute(params![learner, recipient, c.issued_at]).map_err(backend)?;
                    }
                    out.push(InsertOutcome::Inserted);
                    continue;
                }
                // A retry under the same idempotency key wins over an id conflict: it gets
                // the credential it already has.
                let by_key = match &c.idempotency_key {
                    Some(key) => existing
                        .query_row(params![c.institution, key], credential_row)
                        .optional()
                        .map_err(backend)?,
                    None => None,
                };
                out.push(match by_key {
                    Some(rec) => InsertOutcome::Existing(Box::new(rec)),
                    None => InsertOutcome::IdTaken,
                });
            }
            Ok(out)
        })?;
        self.parts.remember(added);
        self.checkpoints
            .committed(u64::try_from(bytes).unwrap_or(u64::MAX));
        let inserted = out
            .iter()
            .filter(|o| matches!(o, InsertOutcome::Inserted))
            .count();
        // The credentials are stored whatever happens to the index: a failure to index is
        // logged, lookups scan what is not indexed, and the next chunk tries again.
        if let Err(e) = self.count_unindexed(u64::try_from(inserted).unwrap_or(u64::MAX)) {
            tracing::warn!(error = %e, "indexing learners failed; they are found by a scan until it succeeds");
        }
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
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = ?1"
            ))?
            .query_row([id], credential_row)
            .optional()
        })?
        .map(|r| self.whole_record(r))
        .transpose()
    }

    fn credential_body(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT body FROM credentials WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()
        })?
        .map(|b| self.whole(b))
        .transpose()
    }

    fn credential_by_key(
        &self,
        institution: &str,
        key: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE institution = ?1 AND idempotency_key = ?2"
            ))?
            .query_row([institution, key], credential_row)
            .optional()
        })?
        .map(|r| self.whole_record(r))
        .transpose()
    }

    fn credentials(
        &self,
        institution: &str,
        page: Page,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_META_COLUMNS} FROM credentials WHERE institution = ?1 ORDER BY rowid DESC LIMIT ?2 OFFSET ?3"
            ))?
            .query_map(params![institution, limit, offset], credential_row)?
            .collect()
        })
    }

    fn credential_count(&self, institution: &str) -> Result<u64, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT COUNT(*) FROM credentials WHERE institution = ?1")?
                .query_row([institution], |r| r.get::<_, i64>(0))
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    fn learner_credentials(&self, learner: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        // One statement, so one snapshot: the indexed credentials and the ones after them.
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials
                 WHERE rowid IN (SELECT credential FROM learner_index WHERE learner = ?1)
                 UNION ALL
                 SELECT {CREDENTIAL_COLUMNS} FROM credentials
                 WHERE rowid > {LEARNER_INDEXED_UPTO}
                   AND learner = ?1
                 ORDER BY issued_at, id"
            ))?
            .query_map([learner], credential_row)?
            .collect::<Result<Vec<_>, _>>()
        })?
        .into_iter()
        .map(|r| self.whole_record(r))
        .collect()
    }

    fn stack_checks(&self, limit: usize) -> Result<Vec<StackCheck>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            c.prepare_cached(
                "SELECT learner, recipient, version FROM stack_checks ORDER BY queued_at, learner LIMIT ?1",
            )?
            .query_map([limit], |r| {
                Ok(StackCheck {
                    learner: r.get(0)?,
                    recipient: r.get(1)?,
                    version: r.get(2)?,
                })
            })?
            .collect()
        })
    }

    fn finish_stack_check(&self, learner: &str, version: i64) -> Result<bool, StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM stack_checks WHERE learner = ?1 AND version = ?2",
                params![learner, version],
            )
            .map(|n| n == 1)
            .map_err(backend)
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
        self.write(|tx| {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO recognized_credentials (institution, learner, id, issuer, achievement, body, verification, recorded_at, recorded_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
                )
                .map_err(backend)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let n = insert
                    .execute(params![
                        r.institution,
                        r.learner,
                        r.id,
                        r.issuer,
                        r.achievement,
                        r.body,
                        r.verification,
                        r.recorded_at,
                        r.recorded_by
                    ])
                    .map_err(backend)?;
                out.push(n == 1);
            }
            if let Some((learner, recipient)) = check {
                tx.execute(STACK_CHECK_UPSERT, params![learner, recipient, at])
                    .map_err(backend)?;
            }
            Ok(out)
        })
    }

    fn learner_recognitions(&self, learner: &str) -> Result<Vec<RecognizedCredential>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT institution, learner, id, issuer, achievement, body, verification, recorded_at, recorded_by
                 FROM recognized_credentials WHERE learner = ?1 ORDER BY recorded_at, id",
            )?
            .query_map([learner], |r| {
                Ok(RecognizedCredential {
                    institution: r.get(0)?,
                    learner: r.get(1)?,
                    id: r.get(2)?,
                    issuer: r.get(3)?,
                    achievement: r.get(4)?,
                    body: r.get(5)?,
                    verification: r.get(6)?,
                    recorded_at: r.get(7)?,
                    recorded_by: r.get(8)?,
                })
            })?
            .collect()
        })
    }

    fn recognized_issuers(&self, institution: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT recognized_issuers FROM institution_settings WHERE institution = ?1",
            )?
            .query_row([institution], |r| r.get::<_, Option<String>>(0))
            .optional()
        })
        .map(Option::flatten)
    }

    fn set_recognized_issuers(&self, institution: &str, issuers: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO institution_settings (institution, recognized_issuers) VALUES (?1, ?2)
                 ON CONFLICT (institution) DO UPDATE SET recognized_issuers = excluded.recognized_issuers",
                params![institution, issuers],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn status_settings(&self, institution: &str) -> Result<StatusSettings, StoreError> {
        let flag: Option<i64> = self.read(|c| {
            c.prepare_cached("SELECT suspension FROM institution_settings WHERE institution = ?1")?
                .query_row([institution], |r| r.get(0))
                .optional()
        })?;
        Ok(StatusSettings {
            suspension: flag.unwrap_or(0) != 0,
        })
    }

    fn set_status_settings(
        &self,
        institution: &str,
        settings: &StatusSettings,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO institution_settings (institution, suspension) VALUES (?1, ?2)
                 ON CONFLICT (institution) DO UPDATE SET suspension = excluded.suspension",
                params![institution, i64::from(settings.suspension)],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn lint_profile(&self, institution: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT lint_profile FROM institution_settings WHERE institution = ?1",
            )?
            .query_row([institution], |r| r.get::<_, Option<String>>(0))
            .optional()
        })
        .map(Option::flatten)
    }

    fn set_lint_profile(&self, institution: &str, profile: Option<&str>) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO institution_settings (institution, lint_profile) VALUES (?1, ?2)
                 ON CONFLICT (institution) DO UPDATE SET lint_profile = excluded.lint_profile",
                params![institution, profile],
            )
            .map_err(backend)?;
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
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE achievements SET lint_profile = ?4
                     WHERE institution = ?1 AND slug = ?2 AND version = ?3",
                    params![institution, slug, version, profile],
                )
                .map_err(backend)?;
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
        self.write(|tx| {
            let current = tx
                .prepare_cached(&format!(
                    "SELECT {STATUS_LIST_COLUMNS} FROM status_lists
                     WHERE institution = ?1 AND purpose = ?2 AND issuer = ?3
                     ORDER BY seq DESC LIMIT 1"
                ))
                .map_err(backend)?
                .query_row(
                    params![institution, purpose.as_str(), issuer],
                    status_list_row,
                )
                .optional()
                .map_err(backend)?;
            let next_seq: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM status_lists WHERE institution = ?1 AND purpose = ?2",
                )
                .map_err(backend)?
                .query_row(params![institution, purpose.as_str()], |r| r.get(0))
                .map_err(backend)?;
            let view = LeaseView { current, next_seq };
            let (list, n) = match policy(&view)? {
                LeasePlan::Take(n) => match view.current {
                    Some(list) => (list, n),
                    None => {
                        return Err(StoreError::Backend(
                            "the lease policy took from a list that does not exist".into(),
                        ))
                    }
                },
                LeasePlan::Start { list, n } => {
                    insert_status_list(tx, &list)?;
                    (list, n)
                }
            };
            // The counter only moves forward, never past the size (also a CHECK), and by at
            // least one: a value is never leased twice.
            if n == 0 || n > list.size.saturating_sub(list.allocated) {
                return Err(StoreError::Backend(format!(
                    "a lease of {n} values does not fit status list {} ({} of {} leased)",
                    list.id, list.allocated, list.size
                )));
            }
            let moved = tx
                .prepare_cached(
                    "UPDATE status_lists SET allocated = allocated + ?3 WHERE id = ?1 AND allocated = ?2",
                )
                .map_err(backend)?
                .execute(params![list.id, to_i64(list.allocated)?, to_i64(n)?])
                .map_err(backend)?;
            if moved != 1 {
                return Err(StoreError::Backend(format!(
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
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {STATUS_LIST_COLUMNS} FROM status_lists WHERE id = ?1"
            ))?
            .query_row([id], status_list_row)
            .optional()
        })
    }

    fn status_lists(&self, institution: &str) -> Result<Vec<StatusListRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {STATUS_LIST_COLUMNS} FROM status_lists WHERE institution = ?1 ORDER BY purpose, seq"
            ))?
            .query_map([institution], status_list_row)?
            .collect()
        })
    }

    fn status_list_bits(&self, id: &str) -> Result<Option<(i64, Vec<u64>)>, StoreError> {
        self.read(|c| {
            // One read transaction: the version and the bits are from the same snapshot.
            let tx = c.unchecked_transaction()?;
            let version: Option<i64> = tx
                .prepare_cached("SELECT version FROM status_lists WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(version) = version else {
                return Ok(None);
            };
            let indexes: Vec<i64> = tx
                .prepare_cached("SELECT idx FROM status_bits WHERE list_id = ?1 ORDER BY idx")?
                .query_map([id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            tx.commit()?;
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
        let index = to_i64(index)?;
        self.read(|c| {
            c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM status_bits WHERE list_id = ?1 AND idx = ?2)",
            )?
            .query_row(params![id, index], |r| r.get::<_, i64>(0))
        })
        .map(|n| n != 0)
    }

    fn apply_status_changes(
        &self,
        changes: &[StatusChange],
        rule: StatusRule<'_>,
    ) -> Result<Vec<StatusChangeOutcome>, StoreError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            changes
                .iter()
                .map(|c| apply_status_change(tx, c, rule))
                .collect()
        })
    }

    fn status_events(
        &self,
        institution: &str,
        credential: Option<&str>,
        page: Page,
    ) -> Result<Vec<StatusEvent>, StoreError> {
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        self.read(|c| {
            c.prepare_cached(
                "SELECT credential_id, action, changed, reason, actor, at FROM status_events
                 WHERE institution = ?1 AND (?2 IS NULL OR credential_id = ?2)
                 ORDER BY seq DESC LIMIT ?3 OFFSET ?4",
            )?
            .query_map(params![institution, credential, limit, offset], |r| {
                let action: String = r.get(1)?;
                Ok(StatusEvent {
                    credential_id: r.get(0)?,
                    action: match action.as_str() {
                        "revoke" => StatusAction::Revoke,
                        "suspend" => StatusAction::Suspend,
                        "reinstate" => StatusAction::Reinstate,
                        _ => return Err(conversion(1, "status action")),
                    },
                    changed: r.get::<_, i64>(2)? != 0,
                    reason: r.get(3)?,
                    actor: r.get(4)?,
                    at: r.get(5)?,
                })
            })?
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(id: &str, key: Option<&str>) -> NewCredential {
        NewCredential {
            id: id.into(),
            institution: "inst".into(),
            achievement: "a".into(),
            achievement_version: 1,
            idempotency_key: key.map(str::to_owned),
            request_hash: [1; 32],
            issued_at: "2025-01-01T00:00:00Z".into(),
            method_id: "did:x#k".into(),
            body: format!("{{\"id\":\"{id}\"}}").into_bytes(),
            packed: None,
            learner: None,
            stack_check: None,
        }
    }

    fn sample_institution() -> (InstitutionRecord, KeyRecord) {
        let inst = InstitutionRecord {
            slug: "inst".into(),
            did: "did:web:x".into(),
            identity: IdentityKind::DidWeb,
            profile: serde_json::json!({"id": "did:web:x"}),
            created_at: "2025-01-01T00:00:00Z".into(),
        };
        let key = KeyRecord {
            method_id: "did:web:x#key-1".into(),
            institution: "inst".into(),
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
        (inst, key)
    }

    /// Credentials are found by learner whether their learner is in `learner_index` yet or
    /// not (indexed in a chunk, still after the mark, or both), in issuance order, each once;
    /// opening the file indexes what is left, and a file of version 8 (an index on
    /// `credentials(learner)`, no `learner_index`) loses that index and is indexed at open.
    #[test]
    fn learners_are_found_before_and_after_indexing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("learners.db");
        let s = SqliteStore::open(&path).unwrap();
        let (inst, key) = sample_institution();
        s.create_institution(&inst, &key).unwrap();
        let with_learner = |id: &str, learner: &str, at: &str| {
            let mut c = cred(id, None);
            c.learner = Some(learner.into());
            c.issued_at = at.into();
            c
        };
        let ids = |s: &SqliteStore, learner: &str| -> Vec<String> {
            s.learner_credentials(learner)
                .unwrap()
                .into_iter()
                .map(|r| r.credential.id)
                .collect()
        };
        s.insert_credentials(&[
            with_learner("c2", "L1", "2025-01-02T00:00:00Z"),
            with_learner("c1", "L1", "2025-01-01T00:00:00Z"),
            with_learner("x1", "L2", "2025-01-01T00:00:00Z"),
            cred("none", None),
        ])
        .unwrap();
        // Not indexed yet: found past the mark.
        assert_eq!(ids(&s, "L1"), ["c1", "c2"]);
        s.index_learners_now().unwrap();
        // Indexed: found through the index, and only once.
        assert_eq!(ids(&s, "L1"), ["c1", "c2"]);
        s.insert_credentials(&[with_learner("c3", "L1", "2025-01-03T00:00:00Z")])
            .unwrap();
        // Both: the indexed ones and the one past the mark.
        assert_eq!(ids(&s, "L1"), ["c1", "c2", "c3"]);
        assert_eq!(ids(&s, "L2"), ["x1"]);
        assert!(ids(&s, "nobody").is_empty());
        drop(s);
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(ids(&s, "L1"), ["c1", "c2", "c3"]);
        let count = |s: &SqliteStore, sql: &str| -> i64 {
            s.read(|c| c.query_row(sql, [], |r| r.get(0))).unwrap()
        };
        assert_eq!(count(&s, "SELECT count(*) FROM learner_index"), 4);
        assert_eq!(
            count(&s, "SELECT upto FROM learner_index_mark"),
            count(&s, "SELECT max(rowid) FROM credentials")
        );
        drop(s);
        // A version 8 file: its index on credentials(learner) goes, its learners are indexed.
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "DROP TABLE learner_index; DROP TABLE learner_index_mark;
                 CREATE INDEX credentials_learner ON credentials(learner) WHERE learner IS NOT NULL;
                 PRAGMA user_version = 8;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(ids(&s, "L1"), ["c1", "c2", "c3"]);
        assert_eq!(count(&s, "SELECT count(*) FROM learner_index"), 4);
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM sqlite_master WHERE name = 'credentials_learner'"
            ),
            0
        );
    }

    /// Inserting past [`LEARNER_INDEX_CHUNK`] credentials indexes their learners on the way.
    #[test]
    fn the_writer_indexes_learners_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("chunks.db")).unwrap();
        let (inst, key) = sample_institution();
        s.create_institution(&inst, &key).unwrap();
        let rows: Vec<NewCredential> = (0..LEARNER_INDEX_CHUNK + 5)
            .map(|i| {
                let mut c = cred(&format!("c{i}"), None);
                c.learner = Some(format!("L{}", i % 7));
                c
            })
            .collect();
        for chunk in rows.chunks(1000) {
            s.insert_credentials(chunk).unwrap();
        }
        let indexed: i64 = s
            .read(|c| c.query_row("SELECT count(*) FROM learner_index", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(indexed, 10_000, "the first chunk");
        let l3 = s.learner_credentials("L3").unwrap();
        let expected = (0..LEARNER_INDEX_CHUNK + 5).filter(|i| i % 7 == 3).count();
        assert_eq!(l3.len(), expected);
        assert!(l3
            .iter()
            .all(|r| r.credential.learner.as_deref() == Some("L3")));
    }

    /// A database made by schema version 3 gains the lint profile columns when opened, and
    /// keeps its rows.
    #[test]
    fn version_3_files_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE institution_settings (institution TEXT PRIMARY KEY, suspension INTEGER NOT NULL DEFAULT 0);
                 CREATE TABLE achievements (institution TEXT NOT NULL, slug TEXT NOT NULL, version INTEGER NOT NULL,
                     definition TEXT NOT NULL, content_hash BLOB NOT NULL, created_at TEXT NOT NULL,
                     PRIMARY KEY (institution, slug, version));
                 INSERT INTO institution_settings VALUES ('inst', 1);
                 INSERT INTO achievements VALUES ('inst', 'a', 1, '{}', zeroblob(32), '2025-01-01T00:00:00Z');
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert!(s.status_settings("inst").unwrap().suspension);
        assert_eq!(s.lint_profile("inst").unwrap(), None);
        let a = s.achievement("inst", "a", Some(1)).unwrap().unwrap();
        assert_eq!(a.lint_profile, None);
        assert!(s
            .set_achievement_lint_profile("inst", "a", 1, Some("heqco"))
            .unwrap());
        let a = s.achievement("inst", "a", None).unwrap().unwrap();
        assert_eq!(a.lint_profile.as_deref(), Some("heqco"));
        drop(s);
        // Opening again changes nothing.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            s.achievement("inst", "a", None)
                .unwrap()
                .unwrap()
                .lint_profile
                .as_deref(),
            Some("heqco")
        );
    }

    /// A database made by schema version 4 (every key sealed, `nonce` and `ciphertext` NOT
    /// NULL) gets the version 5 `keys` table when opened: its keys are read back as sealed and
    /// still open with the master key; token keys can then be stored, and a row holding both
    /// kinds of secret, or neither, is refused by the table itself.
    #[test]
    fn version_4_keys_are_migrated_and_still_open() {
        use crate::issuer::{new_key, open_key, Vault};
        use crate::store::KeyStorage;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        let master = crate::crypto::MasterKey::generate().unwrap();
        let vault = Vault {
            master: &master,
            token: None,
        };
        let (old, key) = new_key(
            vault,
            KeyStorage::Sealed,
            IdentityKind::DidWeb,
            Some("did:web:x"),
            "inst",
            1,
            "2025-01-01T00:00:00Z",
        )
        .unwrap();
        let KeySecret::Sealed(sealed) = &old.secret else {
            panic!("a sealed key");
        };
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE institutions (slug TEXT PRIMARY KEY, did TEXT NOT NULL, identity TEXT NOT NULL,
                     profile TEXT NOT NULL, created_at TEXT NOT NULL);
                 CREATE TABLE keys (method_id TEXT PRIMARY KEY, institution TEXT NOT NULL REFERENCES institutions(slug),
                     seq INTEGER NOT NULL, public_multibase TEXT NOT NULL, status TEXT NOT NULL,
                     created_at TEXT NOT NULL, retired_at TEXT, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL,
                     UNIQUE (institution, seq));
                 CREATE UNIQUE INDEX keys_one_active ON keys(institution) WHERE status = 'active';
                 INSERT INTO institutions VALUES ('inst', 'did:web:x', 'did:web', '{\"id\":\"did:web:x\"}', '2025-01-01T00:00:00Z');
                 PRAGMA user_version = 4;",
            )
            .unwrap();
            c.execute(
                "INSERT INTO keys VALUES (?1, 'inst', 1, ?2, 'active', '2025-01-01T00:00:00Z', NULL, ?3, ?4)",
                params![old.method_id, old.public_multibase, sealed.nonce, sealed.ciphertext],
            )
            .unwrap();
        }
        for _ in 0..2 {
            // Opening again changes nothing.
            let s = SqliteStore::open(&path).unwrap();
            let keys = s.keys("inst").unwrap();
            assert_eq!(keys, std::slice::from_ref(&old));
            let opened = open_key(vault, &keys[0]).unwrap();
            assert_eq!(opened.public_key(), key.public_key());
            assert_eq!(opened.id(), "did:web:x#key-1");
        }
        let s = SqliteStore::open(&path).unwrap();
        let version: i64 = s
            .read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        // One active key per institution still holds after the rebuild.
        let mut second = old.clone();
        second.method_id = "did:web:x#key-2".into();
        second.seq = 2;
        assert!(s.write(|tx| insert_key(tx, &second)).is_err());
        // A token key: stored with no sealed secret, read back as it was.
        let mut token_key = second.clone();
        token_key.status = KeyStatus::Retired;
        token_key.secret = KeySecret::Pkcs11 {
            token: "hsm".into(),
            key_id: vec![7; 16],
        };
        s.write(|tx| insert_key(tx, &token_key)).unwrap();
        assert_eq!(s.keys("inst").unwrap(), [old.clone(), token_key]);
        let (nonce_null, cipher_null): (bool, bool) = s
            .read(|c| {
                c.query_row(
                    "SELECT nonce IS NULL, ciphertext IS NULL FROM keys WHERE seq = 2",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .unwrap();
        assert!(nonce_null && cipher_null);
        for bad in [
            "INSERT INTO keys (method_id, institution, seq, public_multibase, status, created_at, storage, nonce, ciphertext, token_label, token_key_id)
             VALUES ('did:web:x#key-3', 'inst', 3, 'z', 'retired', 't', 'pkcs11', x'00', x'00', 'hsm', x'01')",
            "INSERT INTO keys (method_id, institution, seq, public_multibase, status, created_at, storage)
             VALUES ('did:web:x#key-3', 'inst', 3, 'z', 'retired', 't', 'sealed')",
            "INSERT INTO keys (method_id, institution, seq, public_multibase, status, created_at, storage, token_label, token_key_id)
             VALUES ('did:web:x#key-3', 'inst', 3, 'z', 'retired', 't', 'vault', 'hsm', x'01')",
        ] {
            assert!(
                s.write(|tx| tx.execute(bad, []).map_err(backend)).is_err(),
                "{bad}"
            );
        }
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // Whatever the umask would give (usually 0644), the files are the owner's only.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("new.db");
        let s = store_with_institution(&path);
        let wal = dir.path().join("new.db-wal");
        let shm = dir.path().join("new.db-shm");
        for p in [&path, &wal, &shm] {
            assert!(p.exists(), "{} missing", p.display());
            assert_eq!(mode(p), 0o600, "{}", p.display());
        }
        // Files left readable (an older version, a copy, a crash that left the WAL behind):
        // tightened at the next open.
        for p in [&path, &wal, &shm] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let again = SqliteStore::open(&path).unwrap();
        assert!(again.institution("inst").unwrap().is_some());
        for p in [&path, &wal, &shm] {
            assert_eq!(mode(p), 0o600, "{}", p.display());
        }
        drop((s, again));
    }

    fn store_with_institution(path: &Path) -> SqliteStore {
        let s = SqliteStore::open(path).unwrap();
        let (inst, key) = sample_institution();
        s.create_institution(&inst, &key).unwrap();
        s
    }

    #[test]
    fn packed_bodies_are_stored_small_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let shared = serde_json::to_vec(&serde_json::json!({"name": "x".repeat(5000)})).unwrap();
        let parts = Arc::new(BodyParts::new(vec![shared.clone()]));
        let packed_cred = |id: &str, key: Option<&str>| {
            let mut p = crate::store::Packer::new(parts.clone(), 6000);
            p.out()
                .extend_from_slice(format!("{{\"id\":\"{id}\",\"a\":").as_bytes());
            assert!(p.part(0));
            p.out().push(b'}');
            let (body, packed) = p.finish();
            NewCredential {
                body,
                packed: Some(packed),
                learner: None,
                stack_check: None,
                ..cred(id, key)
            }
        };
        let (a, b) = (packed_cred("a", Some("k")), packed_cred("b", None));
        let c = cred("c", None);
        {
            let s = store_with_institution(&path);
            let out = s
                .insert_credentials(&[a.clone(), b.clone(), c.clone()])
                .unwrap();
            assert!(out.iter().all(|o| *o == InsertOutcome::Inserted));
            assert_eq!(s.credential_body("a").unwrap().unwrap(), a.body);
            // The same key again: the record comes back whole.
            match &s
                .insert_credentials(&[packed_cred("z", Some("k"))])
                .unwrap()[0]
            {
                InsertOutcome::Existing(rec) => assert_eq!(rec.credential.body, a.body),
                other => panic!("{other:?}"),
            }
        }
        // Reopened (no part set in memory): every read gives the exact bytes.
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.credential_body("b").unwrap().unwrap(), b.body);
        assert_eq!(s.credential("a").unwrap().unwrap().credential.body, a.body);
        assert_eq!(
            s.credential_by_key("inst", "k")
                .unwrap()
                .unwrap()
                .credential
                .body,
            a.body
        );
        assert_eq!(s.credential_body("c").unwrap().unwrap(), c.body);
        // The shared bytes are stored once, not three times.
        let stored: i64 = s
            .read(|c| {
                c.query_row("SELECT SUM(length(body)) FROM credentials", [], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert!(stored < 2 * 5000 + 3 * 200, "{stored} bytes stored");
        // A damaged part set is reported, not served.
        let w = s.writer.lock().unwrap();
        w.execute("UPDATE body_parts SET parts = x'00'", [])
            .unwrap();
        drop(w);
        let fresh = SqliteStore::open(&path).unwrap();
        assert!(matches!(
            fresh.credential_body("a"),
            Err(StoreError::Corrupt(_))
        ));
    }

    /// A fresh, empty store on its own temporary file, for the conformance suite.
    fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("conformance.db")).unwrap();
        (dir, s)
    }

    crate::store::conformance::store_conformance!(fresh_store);

    /// The byte-wise prefix scan does not depend on the column's collation: a database whose
    /// `credentials` table was made case-insensitive (`NOCASE`) by another tool still finds
    /// exactly the keys that start with the prefix, byte for byte.
    #[test]
    fn prefix_scan_ignores_the_column_collation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nocase.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE credentials (
                    id TEXT NOT NULL UNIQUE,
                    institution TEXT NOT NULL,
                    achievement TEXT NOT NULL,
                    achievement_version INTEGER NOT NULL,
                    idempotency_key TEXT COLLATE NOCASE,
                    request_hash BLOB NOT NULL,
                    issued_at TEXT NOT NULL,
                    method_id TEXT NOT NULL,
                    body BLOB NOT NULL,
                    revoked_at TEXT,
                    revocation_reason TEXT
                );",
            )
            .unwrap();
        }
        let s = store_with_institution(&path);
        s.insert_credentials(&[cred("1", Some("Batch/1")), cred("2", Some("batch/2"))])
            .unwrap();
        let got = s.keyed_with_prefix("inst", "batch/").unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "batch/2");
    }
}
