//! A bounded in-memory cache of credential bodies for the wallet-fetch path.
//!
//! Stored credentials never change (revocation is recorded beside them), so a cached body is
//! always the stored bytes. Each shard keeps two generations: lookups hit the current one or
//! promote from the previous one; when the current generation outgrows half the shard's
//! budget it becomes the previous one and the oldest generation is dropped (an O(1)
//! approximation of least-recently-used).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;

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
