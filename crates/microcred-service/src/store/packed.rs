//! Credential bodies stored without the bytes they share with every other credential of
//! their template.
//!
//! Most of a credential's bytes (contexts, the issuer profile, the achievement) are the same
//! for every learner of one achievement version. The issuer writes those members from
//! [`BodyParts`] serialized once; a [`Packer`] records, while the credential's bytes are
//! written, which runs came from a part and which were written for this learner. The store
//! keeps each part set once (keyed by its SHA-256) and each credential as a list of segments,
//! a quarter of its size, so a batch writes (and checkpoints) a quarter of the bytes.
//! [`unpack`] gives back the exact bytes that were signed and served.
//!
//! Stored form: `0x00`, the 32-byte part-set hash, then segments, each a LEB128 header `h`:
//! `h` even: a literal of `h / 2` bytes follows; `h` odd: part number `h / 2` of the set.
//! A stored body that does not start with `0x00` is the credential's JSON itself (a JSON text
//! never starts with a NUL byte), as every credential not issued from a template is stored.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::StoreError;

/// First byte of a packed body.
const PACKED: u8 = 0x00;

/// Byte strings shared by every credential of one template, identified by their SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct BodyParts {
    hash: [u8; 32],
    parts: Vec<Vec<u8>>,
}

impl fmt::Debug for BodyParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyParts")
            .field("hash", &hex::encode(self.hash))
            .field("parts", &self.parts.len())
            .finish()
    }
}

impl BodyParts {
    /// A part set (numbered in the order given).
    pub fn new(parts: Vec<Vec<u8>>) -> Self {
        let blob = encode_parts(&parts);
        Self {
            hash: Sha256::digest(&blob).into(),
            parts,
        }
    }

    /// Reads a set stored with [`Self::to_blob`]; `None` if the blob is damaged or does not
    /// have the hash it is stored under.
    pub fn from_blob(hash: &[u8; 32], blob: &[u8]) -> Option<Self> {
        if <[u8; 32]>::from(Sha256::digest(blob)) != *hash {
            return None;
        }
        let mut parts = Vec::new();
        let mut rest = blob;
        while !rest.is_empty() {
            let (len, after) = read_varint(rest)?;
            let len = usize::try_from(len).ok()?;
            if after.len() < len {
                return None;
            }
            parts.push(after[..len].to_vec());
            rest = &after[len..];
        }
        Some(Self { hash: *hash, parts })
    }

    /// The set as stored: each part preceded by its length.
    pub fn to_blob(&self) -> Vec<u8> {
        encode_parts(&self.parts)
    }

    /// SHA-256 of [`Self::to_blob`].
    pub fn hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// Part `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.parts.get(i).map(Vec::as_slice)
    }
}

fn encode_parts(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(parts.iter().map(|p| p.len() + 3).sum());
    for p in parts {
        write_varint(&mut blob, p.len() as u64);
        blob.extend_from_slice(p);
    }
    blob
}

/// A credential body in packed form, with the part set it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedBody {
    /// The shared parts.
    pub parts: Arc<BodyParts>,
    /// What the store keeps for this credential (see the module documentation).
    pub stored: Vec<u8>,
}

impl PackedBody {
    /// Whether this packed form gives back exactly `body`. The commit writer checks it before
    /// a row reaches the store (`commit.rs`): a packed form that does not is dropped
    /// and the body stored whole, so a bug in packing can never change a served credential.
    pub fn gives_back(&self, body: &[u8]) -> bool {
        unpack(self.stored.clone(), Some(&self.parts)).as_deref() == Ok(body)
    }
}

/// The part sets a backend has stored, remembered (they never change), and the one way every
/// backend turns a stored body back into the credential's bytes.
#[derive(Default)]
pub(crate) struct PartSets {
    known: Mutex<HashMap<[u8; 32], Arc<BodyParts>>>,
}

impl PartSets {
    /// Whether the set named `hash` is known to be stored.
    pub(crate) fn is_known(&self, hash: &[u8; 32]) -> bool {
        self.known.lock().is_ok_and(|k| k.contains_key(hash))
    }

    /// Remembers sets that are now stored (after their transaction committed).
    pub(crate) fn remember(&self, sets: impl IntoIterator<Item = Arc<BodyParts>>) {
        if let Ok(mut known) = self.known.lock() {
            known.extend(sets.into_iter().map(|p| (*p.hash(), p)));
        }
    }

    /// The credential's bytes from what the backend stored: plain JSON as it is, a packed
    /// body with its part set (from memory, else `load` reads the set's blob by hash).
    pub(crate) fn whole(
        &self,
        stored: Vec<u8>,
        load: impl FnOnce(&[u8; 32]) -> Result<Option<Vec<u8>>, StoreError>,
    ) -> Result<Vec<u8>, StoreError> {
        let Some(hash) = parts_hash(&stored) else {
            return unpack(stored, None).map_err(StoreError::Corrupt);
        };
        let cached = self
            .known
            .lock()
            .map_err(|_| StoreError::Backend("the part set cache lock was poisoned".into()))?
            .get(&hash)
            .cloned();
        let parts = match cached {
            Some(p) => p,
            None => {
                let parts = load(&hash)?
                    .and_then(|blob| BodyParts::from_blob(&hash, &blob))
                    .ok_or_else(|| {
                        StoreError::Corrupt(
                            "the shared parts of a stored credential are missing or damaged".into(),
                        )
                    })?;
                let parts = Arc::new(parts);
                self.remember([parts.clone()]);
                parts
            }
        };
        unpack(stored, Some(&parts)).map_err(StoreError::Corrupt)
    }
}

/// Writes a credential's bytes and, at the same time, their packed form.
pub struct Packer {
    parts: Arc<BodyParts>,
    out: Vec<u8>,
    segments: Vec<u8>,
    /// Start in `out` of the bytes not yet recorded in `segments`.
    literal_from: usize,
}

impl Packer {
    /// Starts a body with room for `capacity` bytes.
    pub fn new(parts: Arc<BodyParts>, capacity: usize) -> Self {
        let mut segments = Vec::with_capacity(capacity / 4 + 64);
        segments.push(PACKED);
        segments.extend_from_slice(parts.hash());
        Self {
            parts,
            out: Vec::with_capacity(capacity),
            segments,
            literal_from: 0,
        }
    }

    /// The body written so far: write this credential's own bytes here.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Appends shared part `i`; false (and nothing written) if there is no such part.
    pub fn part(&mut self, i: usize) -> bool {
        if self.parts.get(i).is_none() {
            return false;
        }
        self.flush_literal();
        write_varint(&mut self.segments, ((i as u64) << 1) | 1);
        if let Some(bytes) = self.parts.get(i) {
            self.out.extend_from_slice(bytes);
        }
        self.literal_from = self.out.len();
        true
    }

    fn flush_literal(&mut self) {
        let literal = &self.out[self.literal_from..];
        if !literal.is_empty() {
            write_varint(&mut self.segments, (literal.len() as u64) << 1);
            self.segments.extend_from_slice(literal);
        }
    }

    /// The body's bytes and its packed form.
    pub fn finish(mut self) -> (Vec<u8>, PackedBody) {
        self.flush_literal();
        (
            self.out,
            PackedBody {
                parts: self.parts,
                stored: self.segments,
            },
        )
    }
}

/// The part-set hash of a stored body, or `None` if it is stored as plain JSON.
fn parts_hash(stored: &[u8]) -> Option<[u8; 32]> {
    match stored.split_first() {
        Some((&PACKED, rest)) => rest.get(..32)?.try_into().ok(),
        _ => None,
    }
}

/// The credential's bytes from its stored form (`parts` must be the set named by
/// [`parts_hash`]; plain JSON is returned as it is). An error names what is damaged.
pub(crate) fn unpack(stored: Vec<u8>, parts: Option<&BodyParts>) -> Result<Vec<u8>, String> {
    let Some(hash) = parts_hash(&stored) else {
        if stored.first() == Some(&PACKED) {
            return Err("a packed credential body is truncated".into());
        }
        return Ok(stored);
    };
    let parts = match parts {
        Some(p) if *p.hash() == hash => p,
        _ => {
            return Err(format!(
                "the shared parts {} are missing",
                hex::encode(hash)
            ))
        }
    };
    let mut out = Vec::with_capacity(stored.len() * 5);
    let mut rest = &stored[33..];
    while !rest.is_empty() {
        let (h, after) = read_varint(rest).ok_or("a packed credential body is damaged")?;
        let n = usize::try_from(h >> 1).map_err(|_| "a packed credential body is damaged")?;
        if h & 1 == 1 {
            out.extend_from_slice(
                parts
                    .get(n)
                    .ok_or("a packed credential body names a missing part")?,
            );
            rest = after;
        } else {
            let literal = after
                .get(..n)
                .ok_or("a packed credential body is truncated")?;
            out.extend_from_slice(literal);
            rest = &after[n..];
        }
    }
    Ok(out)
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample_parts() -> Arc<BodyParts> {
        Arc::new(BodyParts::new(vec![
            b"\"a\":1".to_vec(),
            vec![b'x'; 300],
            Vec::new(),
        ]))
    }

    #[test]
    fn packed_bodies_unpack_to_the_bytes_written() {
        let parts = sample_parts();
        let mut p = Packer::new(parts.clone(), 16);
        p.out().extend_from_slice(b"{");
        assert!(p.part(0));
        p.out().extend_from_slice(&[b'y'; 200]);
        assert!(p.part(1));
        assert!(p.part(1));
        assert!(p.part(2));
        assert!(!p.part(3));
        p.out().extend_from_slice(b"}");
        let (body, packed) = p.finish();
        assert_eq!(body.len(), 1 + 5 + 200 + 600 + 1);
        assert!(packed.stored.len() < 260);
        assert_eq!(parts_hash(&packed.stored), Some(*parts.hash()));
        assert_eq!(unpack(packed.stored.clone(), Some(&parts)).unwrap(), body);
        // The set survives storage.
        let again = BodyParts::from_blob(parts.hash(), &parts.to_blob()).unwrap();
        assert_eq!(again, *parts);
        assert_eq!(unpack(packed.stored, Some(&again)).unwrap(), body);
    }

    #[test]
    fn plain_json_is_stored_as_it_is() {
        let json = b"{\"id\":\"a\"}".to_vec();
        assert_eq!(parts_hash(&json), None);
        assert_eq!(unpack(json.clone(), None).unwrap(), json);
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let parts = sample_parts();
        let mut p = Packer::new(parts.clone(), 16);
        p.out().extend_from_slice(b"{\"k\":");
        p.part(1);
        p.out().extend_from_slice(b"}");
        let (_, packed) = p.finish();
        // Every truncation and every single-byte change either fails or (for a changed
        // literal byte) yields different bytes; none panics.
        for n in 0..packed.stored.len() {
            let _ = unpack(packed.stored[..n].to_vec(), Some(&parts));
        }
        for i in 0..packed.stored.len() {
            for b in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut s = packed.stored.clone();
                s[i] = b;
                let _ = unpack(s, Some(&parts));
            }
        }
        assert!(unpack(packed.stored.clone(), None).is_err());
        let other = BodyParts::new(vec![b"z".to_vec()]);
        assert!(unpack(packed.stored, Some(&other)).is_err());
        assert!(BodyParts::from_blob(parts.hash(), b"\x05ab").is_none());
        assert!(BodyParts::from_blob(&[0; 32], &parts.to_blob()).is_none());
    }
}
