//! The store: everything the service keeps, behind the [`Store`] trait.
//!
//! **Domain above, persistence below.** The [`Store`] trait only persists and queries. Every
//! rule of the service lives in modules above it that every backend shares: the
//! revoke / suspend / reinstate state machine and its messages, and the lease policy (list
//! size, block size, when a list is full and the next one starts) in [`crate::status`];
//! checking that a packed body gives back its exact bytes in [`crate::commit`]; identities
//! and keys in [`crate::issuer`]. A backend implements the trait without copying any of them,
//! and one conformance suite (`store/conformance.rs`, run by every backend's tests) checks
//! what the trait promises. [`open`] picks the backend from the `database` setting, so the
//! rest of the service only ever holds an `Arc<dyn Store>`.
//!
//! **Design.** The trait is synchronous: SQLite (rusqlite) is synchronous, and the PostgreSQL
//! implementation (`store/postgres.rs`) uses the synchronous `postgres` client with a pool. The service
//! never calls it on an async worker thread: handlers go through
//! `tokio::task::spawn_blocking`, and credential inserts go through one dedicated writer
//! thread ([`crate::commit`]) that batches concurrent inserts into one transaction (group
//! commit). What an implementation must guarantee:
//!
//! - [`Store::insert_credentials`] is **one transaction**, durable when it returns `Ok`
//!   (SQLite: WAL with `synchronous=FULL`; PostgreSQL: `synchronous_commit=on`), and
//!   idempotent per `(institution, idempotency key)`: a row whose key already exists is not
//!   inserted; the existing credential is returned instead (a unique index decides races).
//!   Credential ids are unique across the store (a primary or unique key, not a prior read):
//!   a row whose id is taken is not inserted and is reported as
//!   [`InsertOutcome::IdTaken`], without failing the other rows of the transaction.
//! - Credential bodies are stored and returned byte for byte. A row may come with a packed
//!   form ([`PackedBody`]): the store keeps `stored` and the part set's blob under its hash
//!   (once), and gives back the whole bytes with the shared codec
//!   ([`packed::PartSets::whole`]); it does not judge the packed form (the commit writer
//!   checked it before).
//! - Secrets arrive sealed ([`SealedSecret`]) or as a reference to a key that lives in a
//!   PKCS#11 token ([`KeySecret::Pkcs11`]); the store never sees a plaintext key, and tokens
//!   arrive as hashes.
//!
//! **Transactions that need a decision.** Two operations must read and write in one
//! transaction, and what to write is a domain rule. The store owns the transaction and the
//! reading; the domain passes a *pure function* that turns what was read into what to write.
//! The store calls it inside the transaction, on state it has locked, and may call it again
//! if it retries the transaction (so the function must not have side effects beyond
//! building its answer):
//!
//! - [`Store::lease_status_block`]: the store reads the newest list of
//!   `(institution, purpose, issuer)` and the next free `seq` ([`LeaseView`]); the policy
//!   answers [`LeasePlan::Take`] (advance that list's counter) or [`LeasePlan::Start`] (insert
//!   a new list, then advance its counter). The store guarantees that a counter value is
//!   never leased twice: the counter only moves forward, never past the list's size, and the
//!   lease is durable before it returns. SQLite: one `IMMEDIATE` transaction (one writer).
//!   PostgreSQL (several instances): `SELECT … ORDER BY seq DESC LIMIT 1 FOR UPDATE` on the
//!   newest list, `UPDATE … SET allocated = allocated + n WHERE id = $1 AND allocated = $old`
//!   (compare-and-set; zero rows means another instance moved it: retry), and a new list's
//!   `UNIQUE (institution, purpose, seq)` makes a second instance starting the same list fail
//!   and retry with a fresh view.
//! - [`Store::apply_status_changes`]: for each change, in order, the store reads the
//!   credential (none: [`StatusChangeOutcome::NotFound`], nothing recorded) and, for each of
//!   the change's slots, whether its list is the institution's (purpose, size) and whether
//!   the bit is set ([`StatusState`]); the state machine answers a [`StatusDecision`]
//!   (outcome, whether to mark the credential revoked, bits to set or clear, whether to
//!   record an audit event), which the store applies. A list's `version` is bumped exactly
//!   when one of its bits actually changes (the published list and its ETag follow it, on
//!   every instance). All changes of a group commit in one durable transaction. PostgreSQL:
//!   `SELECT revoked_at FROM credentials … FOR UPDATE` locks the credential (its bits are its
//!   own, see [`crate::status`]), so concurrent changes from two instances are serialized and
//!   none is lost; a deadlock or serialization failure retries the group, re-reading state.
//!
//! Times are RFC 3339 UTC strings (`2025-06-01T12:00:00Z`), which sort chronologically.

#[cfg(test)]
pub(crate) mod conformance;
pub(crate) mod packed;
mod postgres;
mod sqlite;

use std::sync::Arc;

pub use self::postgres::PgStore;
#[cfg(test)]
pub(crate) use packed::unpack;
pub use packed::{BodyParts, PackedBody, Packer};
pub use sqlite::SqliteStore;

use crate::config::Database;

use serde_json::Value;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. the institution name is taken).
    #[error("{0}")]
    Conflict(String),
    /// Stored data does not read back (corruption, or a newer schema).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database: {0}")]
    Backend(String),
}

/// How an institution is identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityKind {
    /// `did:web` served by this service; keys rotate under a stable DID.
    DidWeb,
    /// `did:key` of the current key (small set-ups); rotation changes the DID.
    DidKey,
}

impl IdentityKind {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DidWeb => "did:web",
            Self::DidKey => "did:key",
        }
    }

    /// Reads the stored and API name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "did:web" => Some(Self::DidWeb),
            "did:key" => Some(Self::DidKey),
            _ => None,
        }
    }
}

/// An institution (issuer).
#[derive(Debug, Clone, PartialEq)]
pub struct InstitutionRecord {
    /// URL-safe short name, unique (`northbridge`).
    pub slug: String,
    /// The issuer id: a `did:web` or the current `did:key`.
    pub did: String,
    /// How it is identified.
    pub identity: IdentityKind,
    /// The OB `Profile` as published (with `id` = `did`).
    pub profile: Value,
    /// Creation time.
    pub created_at: String,
}

/// Lifecycle of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStatus {
    /// Signs new credentials (one per institution).
    Active,
    /// No longer signs; still listed in the DID document so old credentials verify.
    Retired,
    /// Must not be trusted: removed from the DID document.
    Compromised,
}

impl KeyStatus {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Compromised => "compromised",
        }
    }

    /// Reads the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "retired" => Some(Self::Retired),
            "compromised" => Some(Self::Compromised),
            _ => None,
        }
    }
}

/// A secret sealed under the master key (XChaCha20-Poly1305).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The 24-byte nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

/// Where a key's secret lives (the API's `keyStorage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStorage {
    /// The seed, sealed under the master key, in the database.
    Sealed,
    /// In the configured PKCS#11 token (HSM); it never leaves the token.
    Pkcs11,
}

impl KeyStorage {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sealed => "sealed",
            Self::Pkcs11 => "pkcs11",
        }
    }

    /// Reads the stored and API name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sealed" => Some(Self::Sealed),
            "pkcs11" => Some(Self::Pkcs11),
            _ => None,
        }
    }
}

/// A key's secret as the store keeps it: sealed, or a reference to a token's key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySecret {
    /// The 32-byte seed sealed under the master key (associated data: the method id).
    Sealed(SealedSecret),
    /// A key pair generated in a PKCS#11 token, which holds the private key (not
    /// extractable); only where to find it is kept.
    Pkcs11 {
        /// The label of the token.
        token: String,
        /// The key pair's `CKA_ID`.
        key_id: Vec<u8>,
    },
}

impl KeySecret {
    /// Where the secret lives.
    pub fn storage(&self) -> KeyStorage {
        match self {
            Self::Sealed(_) => KeyStorage::Sealed,
            Self::Pkcs11 { .. } => KeyStorage::Pkcs11,
        }
    }
}

/// One signing key of an institution.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    /// The verification method id (`did:web:...#key-1`, or a `did:key` method id).
    pub method_id: String,
    /// The institution.
    pub institution: String,
    /// Sequence number within the institution (1, 2, ...).
    pub seq: i64,
    /// Multikey public key (`z6Mk...`).
    pub public_multibase: String,
    /// Lifecycle.
    pub status: KeyStatus,
    /// Creation time.
    pub created_at: String,
    /// When it stopped signing.
    pub retired_at: Option<String>,
    /// Where its secret lives: sealed here, or in a PKCS#11 token.
    pub secret: KeySecret,
}

/// Token scopes (a small bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Issue credentials.
    pub const ISSUE: Self = Self(1);
    /// Revoke credentials.
    pub const REVOKE: Self = Self(2);
    /// Manage the institution: profile, keys, achievements, tokens.
    pub const MANAGE: Self = Self(4);
    /// The names, in order.
    pub const NAMES: [(&'static str, Self); 3] = [
        ("issue", Self::ISSUE),
        ("revoke", Self::REVOKE),
        ("manage", Self::MANAGE),
    ];

    /// Whether every scope of `other` is here.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// The union.
    pub fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
    /// The scopes here that are not in `other`.
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
    /// Whether there is no scope at all.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The stored form.
    pub fn bits(self) -> u8 {
        self.0
    }
    /// From the stored form (unknown bits dropped).
    pub fn from_bits(bits: u8) -> Self {
        Self(bits & 7)
    }
    /// Scope names.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(_, s)| self.contains(*s))
            .map(|(n, _)| *n)
            .collect()
    }
    /// Parses one name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
}

/// An API token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public id of the token (to list and revoke it).
    pub id: String,
    /// The institution it acts for.
    pub institution: String,
    /// What it may do.
    pub scopes: Scopes,
    /// A label for people.
    pub label: String,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// Creation time.
    pub created_at: String,
    /// Revoked tokens no longer authenticate.
    pub revoked: bool,
}

/// One version of an achievement definition.
#[derive(Debug, Clone, PartialEq)]
pub struct AchievementRecord {
    /// The institution.
    pub institution: String,
    /// URL-safe short name, unique within the institution (`df-101`).
    pub slug: String,
    /// 1, 2, ...: a change makes a new version.
    pub version: i64,
    /// The definition as published (with its minted `id`).
    pub definition: Value,
    /// SHA-256 of the definition as submitted, to detect "no change".
    pub content_hash: [u8; 32],
    /// Creation time.
    pub created_at: String,
    /// The lint profile issuance of this version follows, overriding the institution's:
    /// `None` follows the institution's setting, `"none"` no profile, else a profile name.
    pub lint_profile: Option<String>,
}

/// A signed credential to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The id in its URL (`/credentials/{id}`), a UUID.
    pub id: String,
    /// The institution.
    pub institution: String,
    /// Achievement slug and version issued against (empty slug for VC API credentials).
    pub achievement: String,
    /// The achievement version.
    pub achievement_version: i64,
    /// The client's idempotency key (per institution).
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request that produced it (to detect a key reused for another request).
    pub request_hash: [u8; 32],
    /// Issue time.
    pub issued_at: String,
    /// The verification method that signed it.
    pub method_id: String,
    /// The signed credential, byte for byte as served.
    pub body: Vec<u8>,
    /// The same bytes without the parts shared with the other credentials of its template,
    /// when it was made from one: what the store keeps (see [`Packer`]); the commit writer
    /// has checked that it gives back `body`. Always `None` in records read back (their
    /// `body` is whole).
    pub packed: Option<PackedBody>,
    /// The learner key of its recipient (see the service's `learner.rs`), when known: every
    /// credential of one learner, at any institution of the service, has the same.
    pub learner: Option<String>,
    /// When set, a stack check for `learner` is queued in the same transaction as the
    /// credential, with this sealed recipient (see [`StackCheck`]). Always `None` in records
    /// read back.
    pub stack_check: Option<Vec<u8>>,
}

/// A credential of another institution recorded for a learner (recognition of prior learning):
/// verified when it was submitted, counted towards the recording institution's pathways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecognizedCredential {
    /// The institution that recorded it.
    pub institution: String,
    /// The learner key.
    pub learner: String,
    /// The credential's own `id`.
    pub id: String,
    /// Its issuer's id.
    pub issuer: String,
    /// Its achievement's id.
    pub achievement: String,
    /// The credential (JSON).
    pub body: Vec<u8>,
    /// The issuer's DID document it was verified with, when not a `did:key` (JSON).
    pub verification: Option<Vec<u8>>,
    /// When it was recorded.
    pub recorded_at: String,
    /// Who recorded it (a token id, or `admin`).
    pub recorded_by: String,
}

/// A learner whose credentials may now satisfy a pathway: queued with a credential, in its
/// transaction; done when the service has issued what the pathways call for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackCheck {
    /// The learner key.
    pub learner: String,
    /// The recipient, sealed under the master key.
    pub recipient: Vec<u8>,
    /// Bumped each time the learner is queued again: finishing an older version leaves the
    /// newer one queued.
    pub version: i64,
}

/// An offer of credentials to a learner's wallet (OpenID for Verifiable Credential Issuance,
/// VC API exchanges). The store keeps the secrets' hashes as columns to find an offer by them,
/// and the rest as `body`, which only the service's `offers.rs` reads; `version` makes every
/// change a compare-and-swap ([`Store::update_offer`]), so that two instances never both
/// redeem a code or issue an item.
#[derive(Clone, PartialEq, Eq)]
pub struct OfferRecord {
    /// The offer's id (random; its `credential_offer_uri` ends with it).
    pub id: String,
    /// The institution that made it.
    pub institution: String,
    /// Bumped by every update.
    pub version: i64,
    /// SHA-256 of the pre-authorized code.
    pub code_hash: [u8; 32],
    /// SHA-256 of the access token, once one was handed out.
    pub token_hash: Option<[u8; 32]>,
    /// SHA-256 of the VC API exchange's id.
    pub exchange_hash: [u8; 32],
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When its codes stop working (RFC 3339).
    pub expires_at: String,
    /// Everything else (JSON, the service's format).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for OfferRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfferRecord")
            .field("id", &self.id)
            .field("institution", &self.institution)
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Which secret of an offer to look it up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferSecret {
    /// The pre-authorized code.
    Code,
    /// The access token.
    Token,
    /// The VC API exchange id.
    Exchange,
}

/// A stored credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// As stored.
    pub credential: NewCredential,
    /// Revocation time, if revoked.
    pub revoked_at: Option<String>,
    /// Revocation reason.
    pub revocation_reason: Option<String>,
}

/// What inserting one credential did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored.
    Inserted,
    /// A credential with the same idempotency key already existed; it is returned.
    Existing(Box<CredentialRecord>),
    /// Another credential already has this id (a caller-chosen `urn:uuid:` id used twice):
    /// nothing was stored for this row.
    IdTaken,
}

/// What a status list (and a bit in it) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusPurpose {
    /// Cancels the credential for good.
    Revocation,
    /// Suspends the credential until it is reinstated.
    Suspension,
}

impl StatusPurpose {
    /// The `statusPurpose` value (and stored name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }

    /// Reads a `statusPurpose` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revocation" => Some(Self::Revocation),
            "suspension" => Some(Self::Suspension),
            _ => None,
        }
    }
}

/// An institution's status settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusSettings {
    /// Credentials issued from now on also get a `suspension` entry (revocation is always on).
    pub suspension: bool,
}

/// A Bitstring Status List of an institution, published at `/status/{id}`.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusListRecord {
    /// Public id (a UUID): the list's URL is `<base>/status/<id>`.
    pub id: String,
    /// The institution.
    pub institution: String,
    /// What its bits mean.
    pub purpose: StatusPurpose,
    /// 1, 2, ... per (institution, purpose): a new list starts when one is full.
    pub seq: i64,
    /// The issuer id the list is published under (the institution's DID when it was made).
    pub issuer: String,
    /// Entries (bits); a power of two, at least 131,072.
    pub size: u64,
    /// Allocation counter values handed out so far (never handed out again).
    pub allocated: u64,
    /// Key of the pseudo-random permutation from counter values to indexes (so indexes say
    /// nothing about issue order).
    pub permutation_key: [u8; 32],
    /// Bumped at every change of a bit (the published list is regenerated on the next read).
    pub version: i64,
    /// Creation time.
    pub created_at: String,
    /// Time of the last change of a bit.
    pub updated_at: String,
}

impl std::fmt::Debug for StatusListRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusListRecord")
            .field("id", &self.id)
            .field("institution", &self.institution)
            .field("purpose", &self.purpose)
            .field("seq", &self.seq)
            .field("size", &self.size)
            .field("allocated", &self.allocated)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Counter values `start..end` of `list`, leased for allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLease {
    /// The list, as it was before the lease.
    pub list: StatusListRecord,
    /// First counter value leased.
    pub start: u64,
    /// One past the last.
    pub end: u64,
}

/// A credential's bit in one of its institution's lists (read from the signed credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSlot {
    /// The list's id.
    pub list_id: String,
    /// The index (`statusListIndex`).
    pub index: u64,
    /// The list's purpose, as the credential states it.
    pub purpose: StatusPurpose,
}

/// What to do to a credential's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusAction {
    /// Revoke for good (sets the revocation bit).
    Revoke,
    /// Suspend (sets the suspension bit).
    Suspend,
    /// Lift a suspension (clears the suspension bit).
    Reinstate,
}

impl StatusAction {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
        }
    }
}

/// One requested status change, with who asked and why (for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The institution acting.
    pub institution: String,
    /// The credential.
    pub credential_id: String,
    /// What to do.
    pub action: StatusAction,
    /// The credential's entries in the institution's lists.
    pub slots: Vec<StatusSlot>,
    /// Why (free text, audited).
    pub reason: String,
    /// Who: the API token's id.
    pub actor: String,
    /// When.
    pub at: String,
}

/// What a status change did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusChangeOutcome {
    /// Applied (and audited).
    Changed,
    /// Already in that state (audited, nothing changed).
    Unchanged,
    /// The institution has no such credential.
    NotFound,
    /// Not possible in the current state (e.g. reinstating a revoked credential).
    Conflict(String),
}

/// One audited status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// The credential.
    pub credential_id: String,
    /// What was asked.
    pub action: StatusAction,
    /// Whether it changed anything.
    pub changed: bool,
    /// Why.
    pub reason: String,
    /// Who (API token id).
    pub actor: String,
    /// When.
    pub at: String,
}

/// What a status change finds, read in its transaction (see [`Store::apply_status_changes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusState {
    /// When the credential was revoked (`None`: it is not).
    pub revoked_at: Option<String>,
    /// One per slot of the change, in the same order.
    pub slots: Vec<SlotState>,
}

/// One slot of a status change as the store finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotState {
    /// The purpose and size of the slot's list, when a list with that id belongs to the
    /// acting institution (`None`: no such list of this institution).
    pub list: Option<(StatusPurpose, u64)>,
    /// Whether the slot's bit is set now (false when there is no such list).
    pub set: bool,
}

/// What to do about one status change: decided by the state machine
/// (`status::decide`), applied by the store as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDecision {
    /// What the caller is told.
    pub outcome: StatusChangeOutcome,
    /// Mark the credential revoked, at the change's time and with its reason.
    pub revoke: bool,
    /// Bits to set (`true`) or clear (`false`), by position in the change's `slots`.
    pub bits: Vec<(usize, bool)>,
    /// Record an audit event (its `changed` is whether `outcome` is
    /// [`StatusChangeOutcome::Changed`]).
    pub audit: bool,
}

/// The state machine a status change goes through (see [`Store::apply_status_changes`]).
pub type StatusRule<'a> = &'a dyn Fn(&StatusChange, &StatusState) -> StatusDecision;

/// What a lease finds, read in its transaction (see [`Store::lease_status_block`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseView {
    /// The newest list of `(institution, purpose, issuer)`, full or not.
    pub current: Option<StatusListRecord>,
    /// One more than the highest `seq` of the institution's lists of that purpose (any
    /// issuer): the `seq` a new list takes.
    pub next_seq: i64,
}

/// What a lease takes: decided by the lease policy (`status::plan_lease`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeasePlan {
    /// Take this many counter values (at least one, within its size) from
    /// [`LeaseView::current`].
    Take(u64),
    /// Store this new list (as given: `seq` from [`LeaseView::next_seq`], nothing
    /// allocated), then take `n` counter values from it.
    Start {
        /// The new list.
        list: StatusListRecord,
        /// Counter values to take (at least one).
        n: u64,
    },
}

/// The lease policy a lease follows (see [`Store::lease_status_block`]).
pub type LeasePolicy<'a> = &'a dyn Fn(&LeaseView) -> Result<LeasePlan, StoreError>;

/// Listing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u64,
}

/// The persistence interface (see the module docs for the guarantees).
pub trait Store: Send + Sync + 'static {
    /// Reads a small metadata value.
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets a metadata value if it is absent; returns the value now stored.
    fn meta_set_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// Creates an institution with its first (active) key. `Conflict` if the slug is taken.
    fn create_institution(
        &self,
        inst: &InstitutionRecord,
        first_key: &KeyRecord,
    ) -> Result<(), StoreError>;
    /// One institution.
    fn institution(&self, slug: &str) -> Result<Option<InstitutionRecord>, StoreError>;
    /// All institutions, by slug.
    fn institutions(&self) -> Result<Vec<InstitutionRecord>, StoreError>;
    /// Replaces the DID and profile of an institution.
    fn update_institution(&self, inst: &InstitutionRecord) -> Result<(), StoreError>;

    /// The keys of an institution, oldest first.
    fn keys(&self, institution: &str) -> Result<Vec<KeyRecord>, StoreError>;
    /// In one transaction: the active key becomes retired, `new_key` becomes active, and the
    /// institution is updated (its DID changes for `did:key`).
    fn rotate_key(
        &self,
        inst: &InstitutionRecord,
        new_key: &KeyRecord,
        at: &str,
    ) -> Result<(), StoreError>;
    /// Marks a non-active key compromised. Returns false if there is no such retired key.
    fn mark_compromised(
        &self,
        institution: &str,
        method_id: &str,
        at: &str,
    ) -> Result<bool, StoreError>;

    /// Stores a token.
    fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// The token with this hash, if any (revoked ones too).
    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;
    /// The tokens of an institution.
    fn tokens(&self, institution: &str) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token; false if the institution has no such token.
    fn revoke_token(&self, institution: &str, id: &str) -> Result<bool, StoreError>;

    /// Stores a new achievement version. `Conflict` if that version exists.
    fn insert_achievement(&self, rec: &AchievementRecord) -> Result<(), StoreError>;
    /// One version, or the latest when `version` is `None`.
    fn achievement(
        &self,
        institution: &str,
        slug: &str,
        version: Option<i64>,
    ) -> Result<Option<AchievementRecord>, StoreError>;
    /// The latest version of each achievement of an institution.
    fn achievements(&self, institution: &str) -> Result<Vec<AchievementRecord>, StoreError>;
    /// The latest version number of an achievement.
    fn latest_achievement_version(
        &self,
        institution: &str,
        slug: &str,
    ) -> Result<Option<i64>, StoreError>;
    /// All version numbers of an achievement.
    fn achievement_versions(&self, institution: &str, slug: &str) -> Result<Vec<i64>, StoreError>;

    /// Inserts credentials in ONE durable transaction (see the module docs).
    fn insert_credentials(&self, rows: &[NewCredential]) -> Result<Vec<InsertOutcome>, StoreError>;
    /// One credential.
    fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError>;
    /// Only the body of a credential (the wallet fetch path).
    fn credential_body(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// The credential stored under an idempotency key.
    fn credential_by_key(
        &self,
        institution: &str,
        key: &str,
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// `(idempotency key, credential id, request hash)` of every credential of an institution
    /// whose idempotency key starts with `prefix` (a retried batch finds its stored rows in
    /// one range scan), in no particular order.
    ///
    /// "Starts with" is **byte-wise**: the key's UTF-8 bytes begin with the prefix's bytes.
    /// No character is special (`%`, `_` and `\` match themselves: no `LIKE`), and no
    /// collation, case folding or normalization applies. A range scan must use the bounds of
    /// `prefix_range` under a byte-order (binary, PostgreSQL `"C"`) comparison.
    fn keyed_with_prefix(
        &self,
        institution: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String, [u8; 32])>, StoreError>;
    /// Credentials of an institution, newest first (bodies left empty).
    fn credentials(
        &self,
        institution: &str,
        page: Page,
    ) -> Result<Vec<CredentialRecord>, StoreError>;
    /// How many credentials an institution has.
    fn credential_count(&self, institution: &str) -> Result<u64, StoreError>;

    /// Every credential of the learner `learner`, at every institution, oldest first.
    fn learner_credentials(&self, learner: &str) -> Result<Vec<CredentialRecord>, StoreError>;
    /// Up to `limit` queued stack checks, oldest first.
    fn stack_checks(&self, limit: usize) -> Result<Vec<StackCheck>, StoreError>;
    /// Removes the stack check of `learner` if it is still at `version`; whether it did.
    fn finish_stack_check(&self, learner: &str, version: i64) -> Result<bool, StoreError>;

    /// Records `rows` (credentials of other institutions, for one learner) and, when
    /// `check` is given (learner key, sealed recipient), queues a stack check, in one
    /// transaction; one flag per row: newly recorded (false: it was already).
    fn record_recognitions(
        &self,
        rows: &[RecognizedCredential],
        check: Option<(&str, &[u8])>,
    ) -> Result<Vec<bool>, StoreError>;
    /// The recognized credentials of `learner`, at every institution, oldest first.
    fn learner_recognitions(&self, learner: &str) -> Result<Vec<RecognizedCredential>, StoreError>;
    /// The institution's recognized issuers (a JSON array, as the service stored it).
    fn recognized_issuers(&self, institution: &str) -> Result<Option<String>, StoreError>;
    /// Stores the institution's recognized issuers (a JSON array).
    fn set_recognized_issuers(&self, institution: &str, issuers: &str) -> Result<(), StoreError>;
    /// The status settings of an institution (defaults when never set).
    /// Stores a new offer.
    fn insert_offer(&self, offer: &OfferRecord) -> Result<(), StoreError>;
    /// An offer by id.
    fn offer(&self, id: &str) -> Result<Option<OfferRecord>, StoreError>;
    /// An offer by the hash of one of its secrets.
    fn offer_by_secret(
        &self,
        secret: OfferSecret,
        hash: &[u8; 32],
    ) -> Result<Option<OfferRecord>, StoreError>;
    /// A page of an institution's offers, newest first.
    fn offers(&self, institution: &str, page: Page) -> Result<Vec<OfferRecord>, StoreError>;
    /// How many offers an institution has.
    fn offer_count(&self, institution: &str) -> Result<u64, StoreError>;
    /// Replaces the offer (its token hash and body) if its version is still `expected`,
    /// storing `offer.version`: false when another request changed it first.
    fn update_offer(&self, offer: &OfferRecord, expected: i64) -> Result<bool, StoreError>;
    /// Stores a fresh nonce (its hash) until `expires_at`; drops expired ones.
    fn insert_nonce(&self, hash: &[u8; 32], expires_at: &str, now: &str) -> Result<(), StoreError>;
    /// Uses a nonce up: true when it existed and had not expired at `now` (it is gone either
    /// way), so each nonce is accepted once across every instance.
    fn take_nonce(&self, hash: &[u8; 32], now: &str) -> Result<bool, StoreError>;

    fn status_settings(&self, institution: &str) -> Result<StatusSettings, StoreError>;
    /// Replaces the status settings of an institution.
    fn set_status_settings(
        &self,
        institution: &str,
        settings: &StatusSettings,
    ) -> Result<(), StoreError>;
    /// The institution's lint profile name (`None`: no profile).
    fn lint_profile(&self, institution: &str) -> Result<Option<String>, StoreError>;
    /// Sets (or, with `None`, clears) the institution's lint profile.
    fn set_lint_profile(&self, institution: &str, profile: Option<&str>) -> Result<(), StoreError>;
    /// Sets the lint profile override of one achievement version (see
    /// [`AchievementRecord::lint_profile`]); false if there is no such version.
    fn set_achievement_lint_profile(
        &self,
        institution: &str,
        slug: &str,
        version: i64,
        profile: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Leases allocation counter values of `(institution, purpose, issuer)` as `policy`
    /// decides from what it finds (see the module docs). **One durable transaction**: a
    /// value leased is never leased again, even after a crash, so an index is never handed
    /// out twice. Returns the list as it was before the lease (as stored, for a new one) and
    /// the values leased.
    fn lease_status_block(
        &self,
        institution: &str,
        purpose: StatusPurpose,
        issuer: &str,
        policy: LeasePolicy<'_>,
    ) -> Result<StatusLease, StoreError>;
    /// One status list.
    fn status_list(&self, id: &str) -> Result<Option<StatusListRecord>, StoreError>;
    /// The status lists of an institution, oldest first.
    fn status_lists(&self, institution: &str) -> Result<Vec<StatusListRecord>, StoreError>;
    /// The list's version and its set indexes, ascending, read together (one snapshot).
    fn status_list_bits(&self, id: &str) -> Result<Option<(i64, Vec<u64>)>, StoreError>;
    /// Whether the bit at `index` of list `id` is set.
    fn status_bit(&self, id: &str, index: u64) -> Result<bool, StoreError>;
    /// Applies revocations, suspensions and reinstatements in ONE durable transaction, in
    /// order (a change sees the ones before it): for each, reads its [`StatusState`], asks
    /// `rule` and applies the [`StatusDecision`] (see the module docs). A credential that
    /// is not the institution's gets [`StatusChangeOutcome::NotFound`] without asking `rule`.
    fn apply_status_changes(
        &self,
        changes: &[StatusChange],
        rule: StatusRule<'_>,
    ) -> Result<Vec<StatusChangeOutcome>, StoreError>;
    /// Audit events of an institution (optionally of one credential), newest first.
    fn status_events(
        &self,
        institution: &str,
        credential: Option<&str>,
        page: Page,
    ) -> Result<Vec<StatusEvent>, StoreError>;
}

/// Opens the store the `database` setting names: a PostgreSQL database for a `postgres://`
/// or `postgresql://` URL (migrations applied, pool filled), else a SQLite file (created if
/// missing).
pub(crate) fn open(database: &Database) -> Result<Arc<dyn Store>, StoreError> {
    match database.postgres_url() {
        Some(_) => Ok(Arc::new(PgStore::open(database)?)),
        None => Ok(Arc::new(SqliteStore::open(database.sqlite_path())?)),
    }
}

/// The keys that start with `prefix` byte-wise (see [`Store::keyed_with_prefix`]) are exactly
/// those `k` with `prefix <= k` and, when there is an end, `k < end`, in byte order (which is
/// also code point order). The end is the prefix with its last character replaced by the
/// next one (skipping surrogates; a last U+10FFFF is dropped and the one before it is
/// replaced); `None` when there is no such string (the prefix is empty, or all U+10FFFF).
pub(crate) fn prefix_range(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}
