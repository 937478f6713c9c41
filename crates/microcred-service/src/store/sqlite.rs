//! The SQLite store: one file, zero set-up (rusqlite with SQLite bundled).
//!
//! - WAL journal with `synchronous=FULL`: the WAL is fsynced at every commit, so a commit
//!   that returned survives a process kill *and* a power cut. (NORMAL would survive a process
//!   kill but could lose the last commits on power loss, which "durably stored before the
//!   response" rules out.) Group commit ([`crate::commit`]) pays one fsync for many inserts.
//! - One writer connection (SQLite has one writer at a time anyway) behind a mutex, and a
//!   pool of read-only connections: in WAL mode readers never wait for the writer.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use serde_json::Value;

use super::{
    AchievementRecord, CredentialRecord, IdentityKind, InsertOutcome, InstitutionRecord, KeyRecord,
    KeyStatus, NewCredential, Page, Scopes, SealedSecret, Store, StoreError, TokenRecord,
};

/// Schema version kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r"
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
CREATE TABLE IF NOT EXISTS keys (
    method_id TEXT PRIMARY KEY,
    institution TEXT NOT NULL REFERENCES institutions(slug),
    seq INTEGER NOT NULL,
    public_multibase TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    UNIQUE (institution, seq)
);
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
    revocation_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS credentials_idempotency
    ON credentials(institution, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS credentials_institution ON credentials(institution);
";

const CREDENTIAL_COLUMNS: &str = "id, institution, achievement, achievement_version, idempotency_key, request_hash, issued_at, method_id, body, revoked_at, revocation_reason";
const CREDENTIAL_META_COLUMNS: &str = "id, institution, achievement, achievement_version, idempotency_key, request_hash, issued_at, method_id, x'', revoked_at, revocation_reason";

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Connection::open(path).map_err(|e| {
            StoreError::Backend(format!("cannot open database {}: {e}", path.display()))
        })?;
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
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
        writer
            .execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
            .map_err(backend)?;
        writer.set_prepared_statement_cache_capacity(64);
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
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
        Ok(out)
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
    Ok(KeyRecord {
        method_id: row.get(0)?,
        institution: row.get(1)?,
        seq: row.get(2)?,
        public_multibase: row.get(3)?,
        status: KeyStatus::parse(&status).ok_or_else(|| conversion(4, "key status"))?,
        created_at: row.get(5)?,
        retired_at: row.get(6)?,
        sealed: SealedSecret {
            nonce: row.get(7)?,
            ciphertext: row.get(8)?,
        },
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
    })
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
        },
        revoked_at: row.get(9)?,
        revocation_reason: row.get(10)?,
    })
}

const KEY_COLUMNS: &str =
    "method_id, institution, seq, public_multibase, status, created_at, retired_at, nonce, ciphertext";
const TOKEN_COLUMNS: &str = "id, institution, scopes, label, hash, created_at, revoked";
const ACHIEVEMENT_COLUMNS: &str =
    "institution, slug, version, definition, content_hash, created_at";

fn insert_key(tx: &rusqlite::Transaction<'_>, k: &KeyRecord) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            k.method_id,
            k.institution,
            k.seq,
            k.public_multibase,
            k.status.as_str(),
            k.created_at,
            k.retired_at,
            k.sealed.nonce,
            k.sealed.ciphertext
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
                &format!("INSERT INTO achievements ({ACHIEVEMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![a.institution, a.slug, a.version, a.definition.to_string(), a.content_hash.as_slice(), a.created_at],
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
        // Keys in [prefix, prefix + U+10FFFF): a range scan on the idempotency index.
        let end = format!("{prefix}\u{10FFFF}");
        self.read(|c| {
            c.prepare_cached(
                "SELECT idempotency_key, id, request_hash FROM credentials
                 WHERE institution = ?1 AND idempotency_key >= ?2 AND idempotency_key < ?3",
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
        self.write(|tx| {
            let mut insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO credentials ({CREDENTIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL)
                     ON CONFLICT (institution, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
                ))
                .map_err(backend)?;
            let mut existing = tx
                .prepare_cached(&format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE institution = ?1 AND idempotency_key = ?2"
                ))
                .map_err(backend)?;
            let mut out = Vec::with_capacity(rows.len());
            for c in rows {
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
                        c.body
                    ])
                    .map_err(backend)?;
                if n == 1 {
                    out.push(InsertOutcome::Inserted);
                } else {
                    let rec = existing
                        .query_row(params![c.institution, c.idempotency_key], credential_row)
                        .map_err(backend)?;
                    out.push(InsertOutcome::Existing(Box::new(rec)));
                }
            }
            Ok(out)
        })
    }

    fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = ?1"
            ))?
            .query_row([id], credential_row)
            .optional()
        })
    }

    fn credential_body(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT body FROM credentials WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()
        })
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
        })
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

    fn revoke_credential(
        &self,
        institution: &str,
        id: &str,
        reason: &str,
        at: &str,
    ) -> Result<Option<bool>, StoreError> {
        self.write(|tx| {
            let revoked: Option<Option<String>> = tx
                .query_row(
                    "SELECT revoked_at FROM credentials WHERE institution = ?1 AND id = ?2",
                    params![institution, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            match revoked {
                None => Ok(None),
                Some(Some(_)) => Ok(Some(false)),
                Some(None) => {
                    tx.execute(
                        "UPDATE credentials SET revoked_at = ?3, revocation_reason = ?4 WHERE institution = ?1 AND id = ?2",
                        params![institution, id, at, reason],
                    )
                    .map_err(backend)?;
                    Ok(Some(true))
                }
            }
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
        }
    }

    #[test]
    fn idempotent_inserts_and_exact_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
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
            sealed: SealedSecret {
                nonce: vec![0; 24],
                ciphertext: vec![1; 48],
            },
        };
        s.create_institution(&inst, &key).unwrap();
        assert!(matches!(
            s.create_institution(&inst, &key),
            Err(StoreError::Conflict(_))
        ));
        let out = s
            .insert_credentials(&[
                cred("a", Some("k1")),
                cred("b", None),
                cred("c", Some("k1")),
            ])
            .unwrap();
        assert_eq!(out[0], InsertOutcome::Inserted);
        assert_eq!(out[1], InsertOutcome::Inserted);
        match &out[2] {
            InsertOutcome::Existing(rec) => assert_eq!(rec.credential.id, "a"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.credential_body("a").unwrap().unwrap(), b"{\"id\":\"a\"}");
        assert!(s.credential("c").unwrap().is_none());
        assert_eq!(s.credential_count("inst").unwrap(), 2);
        assert_eq!(
            s.revoke_credential("inst", "a", "r", "t").unwrap(),
            Some(true)
        );
        assert_eq!(
            s.revoke_credential("inst", "a", "r", "t").unwrap(),
            Some(false)
        );
        assert_eq!(s.revoke_credential("other", "a", "r", "t").unwrap(), None);
        assert_eq!(s.meta_set_if_absent("m", b"1").unwrap(), b"1");
        assert_eq!(s.meta_set_if_absent("m", b"2").unwrap(), b"1");
    }
}
