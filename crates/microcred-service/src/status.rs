//! Bitstring Status List v1.0 in the service: allocating indexes, applying revocations and
//! suspensions through one writer, and publishing signed lists.
//!
//! **Allocation.** Every credential gets one index per purpose (revocation, and suspension
//! where the institution enabled it) in the institution's current list of that purpose
//! (131,072 entries; a new list starts when one is full). Indexes come from a *counter*
//! passed through a keyed pseudo-random permutation of `0..size` ([`permute`], a Feistel
//! network with the list's secret key): counter values never repeat, so indexes never
//! collide, and an index says nothing about when the credential was issued (the spec's
//! privacy advice). Counter values are leased from the store in blocks, durably, before they
//! are used (`Store::lease_status_block`, following [`plan_lease`], the lease policy): a crash
//! loses at most the unused rest of a block, and nothing is ever handed out twice. Leases are
//! cached in memory, so issuance pays one database write per [`LEASE_BLOCK`] credentials, not
//! one per credential.
//!
//! **Changes.** Revoke / suspend / reinstate requests go to one writer thread
//! ([`StatusQueue`], a [`GroupCommit`] writer as for issuance) that applies every waiting
//! request in one transaction (group commit): bits are rows (`status_bits`), so there is no read-modify-write of a shared
//! bitstring and no lost update; each request is audited in the same transaction. What a
//! request does is decided here ([`decide`], the state machine and its messages); the store
//! reads the state and applies the decision in its transaction. Which bit belongs to a
//! credential is read from the credential's own signed `credentialStatus`, so a
//! change can only ever land on the bit verifiers will read for that credential; and issuance
//! signs only entries allocated here for that credential (a request cannot bring one, see
//! `routes/vcapi.rs`), so that bit is the credential's alone.
//!
//! **Publishing.** `GET /status/{id}` answers the list as a `BitstringStatusListCredential`
//! signed by the institution. A list is regenerated (bits read in one snapshot, GZIP, sign)
//! only when its version changed since the copy in memory; answers carry an `ETag` and
//! `Cache-Control: max-age` matching the list's `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use microcred_core::{status_entries, Bitstring, StatusEntry, MIN_STATUS_LIST_ENTRIES};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::app::{now, now_text};
use crate::cache::KEY_CACHE_TTL;
use crate::commit::{GroupCommit, GroupSettings, GroupWriter};
use crate::error::DomainError;
use crate::issuer::{self, ActiveKey};
use crate::state::Inner;
use crate::store::{
    KeyRecord, KeyStatus, LeasePlan, LeaseView, StatusAction, StatusChange, StatusChangeOutcome,
    StatusDecision, StatusListRecord, StatusPurpose, StatusSlot, StatusState, Store, StoreError,
};

/// Entries per list: the spec's minimum, 2^17.
pub(crate) const LIST_SIZE: u64 = MIN_STATUS_LIST_ENTRIES as u64;
/// Counter values leased from the store at a time.
pub(crate) const LEASE_BLOCK: u64 = 1024;
/// How long a published list may be cached (HTTP `max-age`, and the list's `ttl`).
pub(crate) const MAX_AGE_SECS: u64 = 60;
/// Status changes merged into one transaction at most.
const MAX_CHANGES_PER_COMMIT: usize = 4096;
/// Status change requests that may wait for the writer.
const QUEUE_DEPTH: usize = 8192;

/// The public URL of a list.
pub(crate) fn list_url(base: &str, id: &str) -> String {
    format!("{base}/status/{id}")
}

/// List ids are UUIDs.
pub(crate) fn valid_list_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A keyed pseudo-random permutation of `0..size`: a 4-round Feistel network (round function
/// SHA-256 of key, round and half) over the smallest even number of bits that covers `size`,
/// with cycle walking back into range. A bijection for any key, so distinct counters always
/// give distinct indexes.
///
/// **Never change this function**: lists in existing databases continue their counters with
/// it, and a different permutation would hand out indexes already in use. (A pinned test
/// checks its outputs.)
pub(crate) fn permute(key: &[u8; 32], size: u64, counter: u64) -> u64 {
    debug_assert!(counter < size);
    let bits = 64 - size.saturating_sub(1).leading_zeros();
    let half = bits.div_ceil(2).max(1);
    let mask = (1u64 << half) - 1;
    let mut x = counter;
    loop {
        let (mut left, mut right) = (x >> half, x & mask);
        for round in 0..4u8 {
            let mut h = Sha256::new();
            h.update(key);
            h.update([round]);
            h.update(right.to_be_bytes());
            let digest = h.finalize();
            let mut word = [0u8; 8];
            word.copy_from_slice(&digest[..8]);
            let f = u64::from_be_bytes(word) & mask;
            (left, right) = (right, left ^ f);
        }
        x = (left << half) | right;
        // The walk stays on the cycle of `counter`, which is in range: it ends.
        if x < size {
            return x;
        }
    }
}

struct Lease {
    list_id: String,
    issuer: String,
    size: u64,
    key: [u8; 32],
    next: u64,
    end: u64,
}

/// The current lease of one institution's list of one purpose (none before the first).
type LeaseSlot = Arc<Mutex<Option<Lease>>>;

/// Hands out indexes from leased counter blocks (see the module docs).
///
/// Each institution and purpose has its own lease behind its own lock: leasing a new block is
/// a durable write to the store, and while it runs only allocations for that same list wait
/// (they need the block); every other institution goes on issuing. The map of leases is
/// locked only to find or add an entry, never across a store call.
#[derive(Default)]
pub(crate) struct Allocator {
    leases: Mutex<HashMap<(String, StatusPurpose), LeaseSlot>>,
}

impl Allocator {
    /// The lease slot of `institution`'s `purpose` list.
    fn slot(&self, institution: &str, purpose: StatusPurpose) -> Result<LeaseSlot, StoreError> {
        let mut leases = self.leases.lock().map_err(|_| poisoned())?;
        Ok(leases
            .entry((institution.to_owned(), purpose))
            .or_default()
            .clone())
    }

    /// `n` fresh `(list id, index)` pairs in `institution`'s current `purpose` list published
    /// under `issuer`.
    pub(crate) fn allocate(
        &self,
        store: &dyn Store,
        institution: &str,
        issuer: &str,
        purpose: StatusPurpose,
        n: u64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let slot = self.slot(institution, purpose)?;
        let mut lease = slot.lock().map_err(|_| poisoned())?;
        let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        while (out.len() as u64) < n {
            let missing = n - out.len() as u64;
            match lease.as_mut() {
                Some(l) if l.issuer == issuer && l.next < l.end => {
                    let take = missing.min(l.end - l.next);
                    for counter in l.next..l.next + take {
                        out.push((l.list_id.clone(), permute(&l.key, l.size, counter)));
                    }
                    l.next += take;
                }
                _ => {
                    let want = missing.max(LEASE_BLOCK);
                    let block =
                        store.lease_status_block(institution, purpose, issuer, &|view| {
                            plan_lease(view, institution, purpose, issuer, want)
                        })?;
                    *lease = Some(Lease {
                        list_id: block.list.id,
                        issuer: issuer.to_owned(),
                        size: block.list.size,
                        key: block.list.permutation_key,
                        next: block.start,
                        end: block.end,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The lease policy: take `want` counter values (at least one) from the newest list of
/// `(institution, purpose, issuer)`, or what is left of it; when it is full (or there is
/// none), start the next list ([`LIST_SIZE`] entries, a fresh permutation key, the next
/// `seq`) and take them from it.
pub(crate) fn plan_lease(
    view: &LeaseView,
    institution: &str,
    purpose: StatusPurpose,
    issuer: &str,
    want: u64,
) -> Result<LeasePlan, StoreError> {
    let want = want.max(1);
    match &view.current {
        Some(list) if list.allocated < list.size => {
            Ok(LeasePlan::Take(want.min(list.size - list.allocated)))
        }
        _ => {
            let list = StatusListRecord {
                institution: institution.to_owned(),
                purpose,
                seq: view.next_seq,
                issuer: issuer.to_owned(),
                ..fresh_list(purpose)?
            };
            let n = want.min(list.size);
            Ok(LeasePlan::Start { list, n })
        }
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("the status index allocator lock was poisoned".into())
}

/// A new, empty list of [`LIST_SIZE`] entries with a fresh id and permutation key.
fn fresh_list(purpose: StatusPurpose) -> Result<StatusListRecord, StoreError> {
    let seed = crate::crypto::random_seed().map_err(|e| StoreError::Backend(e.to_string()))?;
    let at = now_text();
    Ok(StatusListRecord {
        id: uuid::Uuid::new_v4().to_string(),
        institution: String::new(),
        purpose,
        seq: 0,
        issuer: String::new(),
        size: LIST_SIZE,
        allocated: 0,
        permutation_key: *seed,
        version: 0,
        created_at: at.clone(),
        updated_at: at,
    })
}

/// What the issuing path needs to give each credential its `credentialStatus`.
#[derive(Clone)]
pub(crate) struct StatusPlan {
    pub(crate) allocator: Arc<Allocator>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) base_url: Arc<str>,
    pub(crate) institution: String,
    pub(crate) issuer: String,
    pub(crate) purposes: Vec<StatusPurpose>,
}

impl StatusPlan {
    /// The plan for `institution` as it is configured now.
    pub(crate) fn for_institution(inner: &Inner, institution: &str) -> Result<Self, DomainError> {
        let inst = inner.institution(institution)?;
        let settings = inner.store.status_settings(institution)?;
        let mut purposes = vec![StatusPurpose::Revocation];
        if settings.suspension {
            purposes.push(StatusPurpose::Suspension);
        }
        Ok(Self {
            allocator: inner.status.allocator.clone(),
            store: inner.store.clone(),
            base_url: inner.site.base_url.clone(),
            institution: institution.to_owned(),
            issuer: inst.did,
            purposes,
        })
    }

    /// One fresh entry for `purpose` (whether or not the institution's settings include it:
    /// the caller decides).
    pub(crate) fn entry(&self, purpose: StatusPurpose) -> Result<Value, StoreError> {
        let slots =
            self.allocator
                .allocate(&*self.store, &self.institution, &self.issuer, purpose, 1)?;
        let (list, index) = slots
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Backend("the allocator handed out no index".into()))?;
        let url = list_url(&self.base_url, &list);
        Ok(StatusEntry::new(&url, purpose.as_str(), index).to_value())
    }

    /// A fresh `credentialStatus` value: one entry (an object), or an array with one entry
    /// per purpose.
    pub(crate) fn credential_status(&self) -> Result<Value, StoreError> {
        let mut entries = Vec::with_capacity(self.purposes.len());
        for purpose in &self.purposes {
            let slots = self.allocator.allocate(
                &*self.store,
                &self.institution,
                &self.issuer,
                *purpose,
                1,
            )?;
            for (list, index) in slots {
                let url = list_url(&self.base_url, &list);
                entries.push(StatusEntry::new(&url, purpose.as_str(), index).to_value());
            }
        }
        Ok(match entries.len() {
            1 => entries.pop().unwrap_or_default(),
            _ => Value::Array(entries),
        })
    }
}

/// A credential's bits in this service's lists, read from its signed `credentialStatus`.
pub(crate) fn slots(body: &[u8]) -> Vec<StatusSlot> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    status_entries(&value)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let purpose = StatusPurpose::parse(&e.purpose)?;
            let (_, id) = e.list.rsplit_once("/status/")?;
            valid_list_id(id).then(|| StatusSlot {
                list_id: id.to_owned(),
                index: e.index,
                purpose,
            })
        })
        .collect()
}

/// A signed list, ready to serve.
#[derive(Clone)]
pub(crate) struct Published {
    pub(crate) version: i64,
    pub(crate) body: Bytes,
    pub(crate) etag: String,
}

/// A published list as kept in memory: the key that signed it, and when the store last
/// confirmed that this key is still the one to sign the list with.
struct Signed {
    institution: String,
    published: Published,
    signer: String,
    checked: Instant,
}

/// Allocation, change queue and published copies, shared by the handlers.
pub(crate) struct StatusService {
    pub(crate) allocator: Arc<Allocator>,
    pub(crate) queue: StatusQueue,
    published: Mutex<HashMap<String, Signed>>,
}

impl StatusService {
    pub(crate) fn new(queue: StatusQueue) -> Self {
        Self {
            allocator: Arc::new(Allocator::default()),
            queue,
            published: Mutex::new(HashMap::new()),
        }
    }

    /// The list `id` as a signed `BitstringStatusListCredential`: the copy in memory if the
    /// list has not changed since (its version is read from the store on every call, so a
    /// change made through any instance is served at once) and is signed by the key that
    /// signs the list now (asked again after [`KEY_CACHE_TTL`]); else regenerated now.
    pub(crate) fn published(&self, inner: &Inner, id: &str) -> Result<Published, DomainError> {
        let missing = || DomainError::NotFound("no such status list".into());
        let rec = inner.store.status_list(id)?.ok_or_else(missing)?;
        let cached = self.published.lock().ok().and_then(|m| {
            m.get(id)
                .filter(|c| c.published.version == rec.version)
                .map(|c| (c.published.clone(), c.signer.clone(), c.checked))
        });
        let mut signer = None;
        if let Some((p, signed_by, checked)) = cached {
            if checked.elapsed() < KEY_CACHE_TTL {
                return Ok(p);
            }
            let (current, now_checked) = list_signer(inner, &rec)?;
            if current.method_id() == signed_by {
                if let Ok(mut m) = self.published.lock() {
                    if let Some(c) = m.get_mut(id).filter(|c| c.published.version == p.version) {
                        c.checked = c.checked.max(now_checked);
                    }
                }
                return Ok(p);
            }
            signer = Some((current, now_checked));
        }
        let (signer, checked) = match signer {
            Some(s) => s,
            None => list_signer(inner, &rec)?,
        };
        let (version, set) = inner.store.status_list_bits(id)?.ok_or_else(missing)?;
        let method_id = signer.method_id().to_owned();
        let key = signer.open(inner)?;
        let p = self.generate(inner, &rec, version, &set, &key)?;
        if let Ok(mut m) = self.published.lock() {
            let newer = m
                .get(id)
                .is_none_or(|old| old.published.version <= p.version);
            if newer {
                m.insert(
                    id.to_owned(),
                    Signed {
                        institution: rec.institution.clone(),
                        published: p.clone(),
                        signer: method_id,
                        checked,
                    },
                );
            }
        }
        Ok(p)
    }

    /// Forgets the signed lists of `institution` (its key or DID changed through this
    /// instance): they are signed again when next asked for.
    pub(crate) fn forget(&self, institution: &str) {
        if let Ok(mut m) = self.published.lock() {
            m.retain(|_, c| c.institution != institution);
        }
    }

    /// Builds and signs the list credential for `rec` with bits `set` (at `version`).
    fn generate(
        &self,
        inner: &Inner,
        rec: &StatusListRecord,
        version: i64,
        set: &[u64],
        key: &ActiveKey,
    ) -> Result<Published, DomainError> {
        let size = usize::try_from(rec.size)
            .map_err(|_| DomainError::Internal(format!("status list {} is too large", rec.id)))?;
        let mut bits = Bitstring::new(size)
            .map_err(|e| DomainError::Internal(format!("status list {}: {e}", rec.id)))?;
        for i in set {
            bits.set(*i, true)
                .map_err(|e| DomainError::Internal(format!("status list {}: {e}", rec.id)))?;
        }
        let at = now();
        // Valid from the last change: the list states the status as of then, and a verifier
        // whose clock is a little behind does not see a list "not yet valid".
        let valid_from = microcred_core::parse_datetime(&rec.updated_at).unwrap_or(at);
        let doc = microcred_core::status_list_credential(
            &list_url(&inner.site.base_url, &rec.id),
            &rec.issuer,
            rec.purpose.as_str(),
            &bits,
            valid_from,
            Some(MAX_AGE_SECS * 1000),
        );
        let signed = microcred_core::sign(&doc, &key.key, issuer::default_suite(), at).map_err(
            |e| match e {
                microcred_core::ProofError::Signer(e) => {
                    DomainError::Unavailable(format!("signing status list {}: {e}", rec.id))
                }
                e => DomainError::Internal(format!("signing status list {}: {e}", rec.id)),
            },
        )?;
        let body = serde_json::to_vec(&signed).map_err(|e| DomainError::Internal(e.to_string()))?;
        let digest = crate::crypto::sha256(&body);
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        Ok(Published {
            version,
            body: Bytes::from(body),
            etag,
        })
    }
}

/// The key that signs a list, not yet opened unless it is the (cached) active key.
enum ListSigner {
    /// The institution's active key.
    Active(Arc<ActiveKey>),
    /// A former key of a `did:key` institution, for the lists published under its DID.
    Former(Box<KeyRecord>),
}

impl ListSigner {
    /// The verification method id of the key.
    fn method_id(&self) -> &str {
        match self {
            Self::Active(k) => k.key.id(),
            Self::Former(rec) => &rec.method_id,
        }
    }

    /// The key, ready to sign.
    fn open(self, inner: &Inner) -> Result<Arc<ActiveKey>, DomainError> {
        match self {
            Self::Active(k) => Ok(k),
            Self::Former(rec) => Ok(Arc::new(ActiveKey {
                key: issuer::open_key(inner.keys.vault(), &rec)?,
            })),
        }
    }
}

/// The key that signs a list: the institution's active key while its DID is the one the list
/// was published under (always, for `did:web`); for a `did:key` institution that rotated, the
/// key of the list's own DID, unless it was marked compromised. Also returns since when this
/// answer is known to hold (the store was read then).
fn list_signer(
    inner: &Inner,
    rec: &StatusListRecord,
) -> Result<(ListSigner, Instant), DomainError> {
    let read = Instant::now();
    let inst = inner.institution(&rec.institution)?;
    if inst.did == rec.issuer {
        let (key, checked) = inner.keys.active_checked(&rec.institution)?;
        return Ok((ListSigner::Active(key), read.min(checked)));
    }
    let prefix = format!("{}#", rec.issuer);
    let keys = inner.store.keys(&rec.institution)?;
    let found = keys
        .into_iter()
        .find(|k| k.method_id.starts_with(&prefix) && k.status != KeyStatus::Compromised)
        .ok_or_else(|| {
            DomainError::Unavailable(format!(
                "status list {} was published under {}, whose key is compromised: it can no longer be signed",
                rec.id, rec.issuer
            ))
        })?;
    Ok((ListSigner::Former(Box::new(found)), read))
}

/// Whether a status change changed anything; a credential the store did not find, or one whose
/// state refuses the change, as a domain error.
pub(crate) fn changed(outcome: StatusChangeOutcome) -> Result<bool, DomainError> {
    match outcome {
        StatusChangeOutcome::Changed => Ok(true),
        StatusChangeOutcome::Unchanged => Ok(false),
        StatusChangeOutcome::NotFound => Err(DomainError::NotFound("no such credential".into())),
        StatusChangeOutcome::Conflict(m) => Err(DomainError::Conflict(m)),
    }
}

/// The status state machine: what a revoke / suspend / reinstate does to a credential in
/// the state the store found it in (see [`Store::apply_status_changes`]).
///
/// - Every slot (read from the signed credential) must point into one of the institution's
///   lists, with the purpose the credential states, and in range; else a conflict.
/// - Revocation is permanent: revoking marks the credential revoked and sets its revocation
///   bit (if it has one); revoking again changes nothing.
/// - Suspending sets, reinstating clears, the suspension bit; a credential without a
///   suspension entry, or revoked, cannot be suspended or reinstated.
/// - Accepted changes (changed or not) are audited; refused ones are not.
pub(crate) fn decide(ch: &StatusChange, state: &StatusState) -> StatusDecision {
    let refuse = |message: String| StatusDecision {
        outcome: StatusChangeOutcome::Conflict(message),
        revoke: false,
        bits: Vec::new(),
        audit: false,
    };
    let accept = |changed: bool, revoke: bool, bits: Vec<(usize, bool)>| StatusDecision {
        outcome: if changed {
            StatusChangeOutcome::Changed
        } else {
            StatusChangeOutcome::Unchanged
        },
        revoke,
        bits,
        audit: true,
    };
    for (i, slot) in ch.slots.iter().enumerate() {
        let fits = matches!(state.slots.get(i).and_then(|s| s.list),
            Some((purpose, size)) if purpose == slot.purpose && slot.index < size);
        if !fits {
            return refuse(format!(
                "the credential's {} entry does not point into one of this institution's status lists",
                slot.purpose.as_str()
            ));
        }
    }
    let slot = |p: StatusPurpose| ch.slots.iter().position(|s| s.purpose == p);
    let revoked = state.revoked_at.is_some();
    match ch.action {
        StatusAction::Revoke if revoked => accept(false, false, Vec::new()),
        StatusAction::Revoke => {
            let bits = slot(StatusPurpose::Revocation)
                .map(|i| (i, true))
                .into_iter()
                .collect();
            accept(true, true, bits)
        }
        StatusAction::Suspend | StatusAction::Reinstate => {
            let suspend = ch.action == StatusAction::Suspend;
            match slot(StatusPurpose::Suspension) {
                None => refuse(if suspend {
                    "this credential was issued without a suspension entry (suspension was not enabled for the institution then): it can only be revoked".into()
                } else {
                    "this credential has no suspension entry, so there is nothing to reinstate (revocation is permanent)".into()
                }),
                Some(_) if revoked => refuse(
                    "the credential is revoked, and revocation is permanent: it cannot be suspended or reinstated".into(),
                ),
                Some(i) if state.slots.get(i).is_some_and(|s| s.set == suspend) => {
                    accept(false, false, Vec::new())
                }
                Some(i) => accept(true, false, vec![(i, suspend)]),
            }
        }
    }
}

/// The handle through which status changes are applied (a [`GroupCommit`] writer).
#[derive(Clone)]
pub(crate) struct StatusQueue {
    group: GroupCommit<StatusChange, StatusChangeOutcome>,
}

/// The status writer thread; dropping every [`StatusQueue`] lets it drain and stop.
pub(crate) type StatusWriter = GroupWriter;

impl StatusQueue {
    /// Starts the writer thread.
    pub(crate) fn start(store: Arc<dyn Store>) -> std::io::Result<(Self, StatusWriter)> {
        let settings = GroupSettings {
            thread: "status-writer",
            name: "status writer",
            max_items: MAX_CHANGES_PER_COMMIT,
            queue_depth: QUEUE_DEPTH,
        };
        let (group, writer) = GroupCommit::start(
            store,
            settings,
            Box::new(|store: &dyn Store, changes: &mut Vec<StatusChange>| {
                store.apply_status_changes(changes, &decide)
            }),
        )?;
        Ok((Self { group }, writer))
    }

    /// Applies `change` durably (with other waiting changes, in one transaction).
    pub(crate) async fn apply(
        &self,
        change: StatusChange,
    ) -> Result<StatusChangeOutcome, StoreError> {
        self.group
            .submit(vec![change])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Backend("the store returned no outcome".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection_that_hides_order() {
        let key = [42u8; 32];
        let size = LIST_SIZE;
        let mut seen = vec![false; usize::try_from(size).unwrap()];
        let mut ascending = 0;
        let mut prev = 0;
        for c in 0..size {
            let i = permute(&key, size, c);
            assert!(i < size);
            let slot = &mut seen[usize::try_from(i).unwrap()];
            assert!(!*slot, "index {i} handed out twice");
            *slot = true;
            if i > prev {
                ascending += 1;
            }
            prev = i;
        }
        // Consecutive counters land anywhere: about half the steps go up.
        assert!((50_000..80_000).contains(&ascending), "{ascending}");
        // Another key, another order.
        assert_ne!(
            (0..8).map(|c| permute(&key, size, c)).collect::<Vec<_>>(),
            (0..8)
                .map(|c| permute(&[7; 32], size, c))
                .collect::<Vec<_>>()
        );
        // Odd bit widths and tiny domains work too.
        for size in [2u64, 8, 1000, 262_144] {
            let mut all: Vec<u64> = (0..size).map(|c| permute(&key, size, c)).collect();
            all.sort_unstable();
            assert_eq!(all, (0..size).collect::<Vec<_>>());
        }
    }

    #[test]
    fn permutation_is_pinned() {
        // Stored lists depend on these exact values: see `permute`.
        let got: Vec<u64> = (0..6).map(|c| permute(&[1; 32], LIST_SIZE, c)).collect();
        assert_eq!(got, PINNED);
    }

    const PINNED: [u64; 6] = [76_908, 46_520, 10_373, 28_810, 104_300, 31_596];

    /// The lease policy alone: what is left of the newest list, else the next list.
    #[test]
    fn leases_take_what_is_left_then_start_the_next_list() {
        let r = StatusPurpose::Revocation;
        let mut list = fresh_list(r).unwrap();
        list.seq = 4;
        list.allocated = LIST_SIZE - 10;
        let view = |current: Option<StatusListRecord>| LeaseView {
            current,
            next_seq: 7,
        };
        let plan = |v: &LeaseView, want| plan_lease(v, "inst", r, "did:web:x", want).unwrap();
        assert_eq!(plan(&view(Some(list.clone())), 1024), LeasePlan::Take(10));
        assert_eq!(plan(&view(Some(list.clone())), 0), LeasePlan::Take(1));
        list.allocated = LIST_SIZE;
        for v in [view(Some(list.clone())), view(None)] {
            match plan(&v, LIST_SIZE + 5) {
                LeasePlan::Start { list: new, n } => {
                    assert_eq!(n, LIST_SIZE);
                    assert_eq!((new.seq, new.allocated, new.size), (7, 0, LIST_SIZE));
                    assert_eq!(
                        (new.institution.as_str(), new.issuer.as_str()),
                        ("inst", "did:web:x")
                    );
                    assert_eq!(new.purpose, r);
                    assert_ne!(new.id, list.id);
                    assert_ne!(new.permutation_key, list.permutation_key);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// The state machine alone (the store conformance suite runs it through a store).
    #[test]
    fn status_decisions() {
        use crate::store::SlotState;
        let (rp, sp) = (StatusPurpose::Revocation, StatusPurpose::Suspension);
        let slots = vec![
            StatusSlot {
                list_id: "r".into(),
                index: 3,
                purpose: rp,
            },
            StatusSlot {
                list_id: "s".into(),
                index: 4,
                purpose: sp,
            },
        ];
        let change = |action| StatusChange {
            institution: "i".into(),
            credential_id: "c".into(),
            action,
            slots: slots.clone(),
            reason: String::new(),
            actor: String::new(),
            at: "t".into(),
        };
        let state = |revoked: bool, suspended: bool| StatusState {
            revoked_at: revoked.then(|| "t0".to_owned()),
            slots: vec![
                SlotState {
                    list: Some((rp, LIST_SIZE)),
                    set: revoked,
                },
                SlotState {
                    list: Some((sp, LIST_SIZE)),
                    set: suspended,
                },
            ],
        };
        let d = decide(&change(StatusAction::Revoke), &state(false, true));
        assert_eq!(
            (d.outcome, d.revoke, d.bits, d.audit),
            (StatusChangeOutcome::Changed, true, vec![(0, true)], true)
        );
        let d = decide(&change(StatusAction::Revoke), &state(true, false));
        assert_eq!(
            (d.outcome, d.revoke, d.bits, d.audit),
            (StatusChangeOutcome::Unchanged, false, vec![], true)
        );
        let d = decide(&change(StatusAction::Suspend), &state(false, false));
        assert_eq!(
            (d.outcome, d.bits),
            (StatusChangeOutcome::Changed, vec![(1, true)])
        );
        let d = decide(&change(StatusAction::Reinstate), &state(false, true));
        assert_eq!(
            (d.outcome, d.bits),
            (StatusChangeOutcome::Changed, vec![(1, false)])
        );
        let d = decide(&change(StatusAction::Reinstate), &state(false, false));
        assert_eq!(
            (d.outcome, d.bits, d.audit),
            (StatusChangeOutcome::Unchanged, vec![], true)
        );
        for action in [StatusAction::Suspend, StatusAction::Reinstate] {
            let d = decide(&change(action), &state(true, false));
            assert!(
                matches!(d.outcome, StatusChangeOutcome::Conflict(ref m) if m.contains("revocation is permanent"))
            );
            assert!(!d.revoke && d.bits.is_empty() && !d.audit);
        }
        let mut foreign = state(false, false);
        foreign.slots[1].list = None;
        let d = decide(&change(StatusAction::Revoke), &foreign);
        assert!(
            matches!(d.outcome, StatusChangeOutcome::Conflict(ref m) if m.contains("suspension entry does not point"))
        );
        assert!(!d.revoke && d.bits.is_empty() && !d.audit);
    }

    /// While one institution's lease is held (a durable lease write in progress), another
    /// institution still gets its indexes: the allocator does not stall every institution.
    #[test]
    fn a_lease_held_for_one_institution_does_not_stall_another() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(crate::store::SqliteStore::open(&dir.path().join("t.db")).unwrap());
        for slug in ["a", "b"] {
            let did = format!("did:web:{slug}");
            let inst = crate::store::InstitutionRecord {
                slug: slug.into(),
                did: did.clone(),
                identity: crate::store::IdentityKind::DidWeb,
                profile: serde_json::json!({ "id": did }),
                created_at: "2025-01-01T00:00:00Z".into(),
            };
            let key = crate::store::KeyRecord {
                method_id: format!("{did}#key-1"),
                institution: slug.into(),
                seq: 1,
                public_multibase: "z6Mk".into(),
                status: KeyStatus::Active,
                created_at: "2025-01-01T00:00:00Z".into(),
                retired_at: None,
                secret: crate::store::KeySecret::Sealed(crate::store::SealedSecret {
                    nonce: vec![0; 24],
                    ciphertext: vec![1; 48],
                }),
            };
            store.create_institution(&inst, &key).unwrap();
        }
        let allocator = Arc::new(Allocator::default());
        let r = StatusPurpose::Revocation;
        let first = allocator.allocate(&*store, "a", "did:web:a", r, 2).unwrap();
        assert_eq!(first.len(), 2);
        let slot = allocator.slot("a", r).unwrap();
        let held = slot.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (other, other_store) = (allocator.clone(), store.clone());
        let worker = std::thread::spawn(move || {
            let got = other.allocate(&*other_store, "b", "did:web:b", r, 3);
            let _ = tx.send(got.map(|v| v.len()));
        });
        // A deadlock guard, not a speed target: "b" must not wait for "a".
        let got = rx.recv_timeout(std::time::Duration::from_secs(60));
        drop(held);
        assert_eq!(got.unwrap().unwrap(), 3);
        worker.join().unwrap();
        // "a" goes on from its own lease once released.
        let next = allocator.allocate(&*store, "a", "did:web:a", r, 2).unwrap();
        assert!(next.iter().all(|n| !first.contains(n)));
    }

    #[test]
    fn slots_are_read_from_the_signed_entries() {
        let id = "0b7c1e2a-6a43-4b6e-9a55-7d1f1f6f3a11";
        let body = serde_json::json!({"credentialStatus": [
            StatusEntry::new(&format!("https://old.example/status/{id}"), "revocation", 5).to_value(),
            StatusEntry::new("https://elsewhere.example/list", "suspension", 6).to_value(),
            StatusEntry::new(&format!("https://x.example/status/{id}"), "refresh", 7).to_value(),
        ]});
        let got = slots(&serde_json::to_vec(&body).unwrap());
        assert_eq!(
            got,
            [StatusSlot {
                list_id: id.into(),
                index: 5,
                purpose: StatusPurpose::Revocation
            }]
        );
        assert!(slots(b"not json").is_empty());
    }
}
