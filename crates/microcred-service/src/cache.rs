//! A bounded in-memory cache of credential bodies for the wallet-fetch path.
//!
//! Stored credentials never change (revocation is recorded beside them), so a cached body is
//! always the stored bytes. Each shard keeps two generations: lookups hit the current one or
//! promote from the previous one; when the current generation outgrows half the shard's
//! budget it becomes the previous one and the oldest generation is dropped (an O(1)
//! approximation of least-recently-used).
//!
//! # Several instances: how stale a cache may be
//!
//! Several service instances may share one database, so every in-memory cache says how long
//! a change made through another instance can go unseen. The bounds are here, together:
//!
//! | cache | holds | rule | bound |
//! |---|---|---|---|
//! | bodies (this module) | signed credential bytes by id | immutable: never expire | none needed |
//! | tokens (`app.rs`) | token records by hash | trusted for [`TOKEN_CACHE_TTL`] | [`TOKEN_CACHE_TTL`] |
//! | keys (`app.rs`) | each institution's active signing key | after [`KEY_CACHE_TTL`], the store is asked which key is active (the key is opened again only if it changed) | [`KEY_CACHE_TTL`] |
//! | templates (`app.rs`) | issuing templates by institution, achievement, version | rebuilt [`TEMPLATE_CACHE_TTL`] after the oldest thing in them (key, profile, settings) was read | [`TEMPLATE_CACHE_TTL`] |
//! | published status lists (`status.rs`) | signed lists by id | served only while the list's version in the store (read on every request) is the cached one, and re-signed when the signing key changed (checked after [`KEY_CACHE_TTL`]) | bits: none; signing key: [`KEY_CACHE_TTL`] |
//!
//! Which version of an achievement is the latest is read from the store on every issuance
//! (no bound); a version, once published, never changes. A change made through the instance
//! itself is seen at once (it clears what it changed).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Bytes;

/// How long a bearer token read from the store is trusted without reading it again: a token
/// revoked through another instance stops working there within this time. (Revoking through
/// an instance takes effect on it at once.)
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// How long an institution's active signing key is used without asking the store which key is
/// active: a rotation, or a key marked compromised, through another instance is followed
/// within this time (by issuance and by status lists signed from then on).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// How long an issuing template is used, counted from the oldest thing it holds (its key's
/// last check, the institution's profile and DID, its lint profile and status settings): a
/// change of any of them through another instance reaches credentials issued here within
/// this time.
pub const TEMPLATE_CACHE_TTL: Duration = Duration::from_secs(5);

const SHARDS: usize = 16;

#[derive(Default)]
struct Shard {
    current: HashMap<String, Bytes>,
    previous: HashMap<String, Bytes>,
    current_bytes: usize,
}

pub(crate) struct BodyCache {
    shards: Vec<Mutex<Shard>>,
    generation_bytes: usize,
}

impl BodyCache {
    /// A cache holding about `budget` bytes of bodies (0 disables it).
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            generation_bytes: budget / SHARDS / 2,
        }
    }

    fn shard(&self, id: &str) -> Option<&Mutex<Shard>> {
        let h = id.bytes().fold(0usize, |a, b| {
            a.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        self.shards.get(h % SHARDS)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Bytes> {
        if self.generation_bytes == 0 {
            return None;
        }
        let mut shard = self.shard(id)?.lock().ok()?;
        if let Some(b) = shard.current.get(id) {
            return Some(b.clone());
        }
        let b = shard.previous.remove(id)?;
        Self::put(&mut shard, id, b.clone(), self.generation_bytes);
        Some(b)
    }

    pub(crate) fn insert(&self, id: &str, body: Bytes) {
        if self.generation_bytes == 0 || body.len() > self.generation_bytes {
            return;
        }
        if let Some(Ok(mut shard)) = self.shard(id).map(Mutex::lock) {
            Self::put(&mut shard, id, body, self.generation_bytes);
        }
    }

    fn put(shard: &mut Shard, id: &str, body: Bytes, limit: usize) {
        shard.current_bytes += body.len();
        shard.current.insert(id.to_owned(), body);
        if shard.current_bytes > limit {
            shard.previous = std::mem::take(&mut shard.current);
            shard.current_bytes = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_promoting() {
        let c = BodyCache::new(SHARDS * 2 * 100);
        c.insert("a", Bytes::from_static(b"0123456789"));
        assert_eq!(c.get("a").unwrap(), Bytes::from_static(b"0123456789"));
        for i in 0..1000 {
            c.insert(&format!("k{i}"), Bytes::from(vec![0u8; 10]));
        }
        let held: usize = c
            .shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap();
                s.current.len() + s.previous.len()
            })
            .sum();
        assert!(held <= SHARDS * 2 * 11, "{held}");
        assert!(BodyCache::new(0).get("a").is_none());
    }
}
