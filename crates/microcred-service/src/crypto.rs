//! Secrets: the master key, sealed signing keys, API tokens.
//!
//! - Signing key seeds are sealed with XChaCha20-Poly1305 under the 32-byte master key, a
//!   fresh random 24-byte nonce per key, and the key's identity as associated data (so a
//!   sealed seed copied onto another key's row does not open).
//! - API tokens are 32 random bytes (`mc_` + base64url), shown once; the store keeps only
//!   SHA-256 of the token (they are high-entropy, so a fast hash suffices) and the hash is
//!   compared in constant time.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The key that seals every signing key at rest. Zeroized on drop, never printed.
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Why a master key or sealed value is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The master key text is not 32 bytes in hex, base64 or raw form.
    #[error("expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)")]
    BadMasterKey,
    /// Opening a sealed value failed: wrong master key, or the data was altered.
    #[error("cannot decrypt: the master key is not the one this database was created with, or the data was altered")]
    Open,
    /// The operating system's random generator failed.
    #[error("no randomness available")]
    Random,
}

impl MasterKey {
    /// Reads a key from text: 64 hex digits, base64 (standard or url-safe) of 32 bytes, or
    /// exactly 32 raw bytes. Surrounding whitespace is ignored.
    pub fn from_text(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() == 32 {
            key.copy_from_slice(bytes);
            return Ok(Self { key });
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| CryptoError::BadMasterKey)?
            .trim();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            // Straight into the zeroized buffer (either case).
            hex::decode_to_slice(text, key.as_mut()).map_err(|_| CryptoError::BadMasterKey)?;
            return Ok(Self { key });
        }
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
                .map_err(|_| CryptoError::BadMasterKey)?,
        );
        if decoded.len() != 32 {
            return Err(CryptoError::BadMasterKey);
        }
        key.copy_from_slice(&decoded);
        Ok(Self { key })
    }

    /// A new random key (for `serve --init` and tests).
    pub fn generate() -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(key.as_mut()).map_err(|_| CryptoError::Random)?;
        Ok(Self { key })
    }

    /// The key as 64 hex digits, for writing a new key file.
    pub fn to_hex(&self) -> Zeroizing<String> {
        // `hex::encode` sizes the string exactly (one allocation, no stray copies to free).
        Zeroizing::new(hex::encode(self.key.as_ref()))
    }

    /// HMAC-SHA-256 under a key derived from this one for `purpose` (a fixed label): keyed
    /// digests that cannot be computed, or tested against guesses, without the master key.
    pub(crate) fn keyed_digest(
        &self,
        purpose: &[u8],
        message: &[u8],
    ) -> Result<[u8; 32], CryptoError> {
        use hmac::{Hmac, Mac};
        // HMAC accepts keys of any length; the error exists only for other MACs.
        let mac = |key: &[u8], data: &[u8]| -> Result<[u8; 32], CryptoError> {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
                .map_err(|_| CryptoError::BadMasterKey)?;
            mac.update(data);
            Ok(mac.finalize().into_bytes().into())
        };
        // The purpose's own key, HMAC(master, purpose), then HMAC(that key, message).
        let sub = Zeroizing::new(mac(self.key.as_ref(), purpose)?);
        mac(sub.as_ref(), message)
    }

    /// Seals `plaintext` bound to `aad`; returns (nonce, ciphertext with tag).
    pub(crate) fn seal(
        &self,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<([u8; 24], Vec<u8>), CryptoError> {
        let cipher = XChaCha20Poly1305::new(self.key.as_ref().into());
        let mut nonce = [0u8; 24];
        getrandom::getrandom(&mut nonce).map_err(|_| CryptoError::Random)?;
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Random)?;
        Ok((nonce, ct))
    }

    /// Opens a sealed value.
    pub(crate) fn open(
        &self,
        nonce: &[u8],
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if nonce.len() != 24 {
            return Err(CryptoError::Open);
        }
        let cipher = XChaCha20Poly1305::new(self.key.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }
}

/// A new API token (`mc_` + 43 base64url characters, 256 bits).
pub(crate) fn new_token() -> Result<Zeroizing<String>, CryptoError> {
    let mut raw = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(raw.as_mut()).map_err(|_| CryptoError::Random)?;
    let body =
        Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_ref()));
    Ok(Zeroizing::new(format!("mc_{}", body.as_str())))
}

/// SHA-256 of a token: what the store keeps.
pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two token hashes.
pub(crate) fn hashes_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// 32 random bytes (a signing key seed), zeroized on drop.
pub(crate) fn random_seed() -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(seed.as_mut()).map_err(|_| CryptoError::Random)?;
    Ok(seed)
}

/// `n` random bytes as hex (salts, ids).
pub(crate) fn random_hex(n: usize) -> Result<String, CryptoError> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(hex::encode(b))
}

/// A new credential id: a UUID in the version 7 layout, 48 bits of Unix time in
/// milliseconds then 74 random bits.
///
/// Ids minted later sort later, so the store's unique index on ids grows at its end: with
/// random (version 4) ids every insert landed on a random index page, and each commit rewrote
/// about one index page per credential, which made storing cost more the larger the
/// database grew. The 74 random bits keep ids unguessable (a credential's URL is public but
/// cannot be found by enumeration), and the time they reveal is the issue time the
/// credential states anyway.
pub(crate) fn new_credential_id() -> Result<String, CryptoError> {
    let mut random = [0u8; 10];
    getrandom::getrandom(&mut random).map_err(|_| CryptoError::Random)?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Ok(uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string())
}

/// SHA-256.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_ids_are_uuids_that_sort_by_time() {
        let a = new_credential_id().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_credential_id().unwrap();
        assert!(a < b, "{a} {b}");
        for id in [&a, &b] {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 7);
            assert_eq!(u.hyphenated().to_string(), *id);
        }
        assert_ne!(new_credential_id().unwrap(), new_credential_id().unwrap());
    }

    #[test]
    fn master_key_forms_and_sealing() {
        let hex_text = "00".repeat(31) + "ff";
        let k = MasterKey::from_text(hex_text.as_bytes()).unwrap();
        assert_eq!(k.to_hex().as_str(), hex_text);
        let upper = MasterKey::from_text(format!(" {}\n", hex_text.to_uppercase()).as_bytes());
        assert_eq!(upper.unwrap().to_hex().as_str(), hex_text);
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let k2 = MasterKey::from_text(format!("{b64}\n").as_bytes()).unwrap();
        assert!(MasterKey::from_text(b"short").is_err());
        let (nonce, ct) = k.seal(b"seed", b"aad-1").unwrap();
        assert_eq!(k.open(&nonce, &ct, b"aad-1").unwrap().as_slice(), b"seed");
        assert_eq!(
            k.open(&nonce, &ct, b"aad-2").unwrap_err(),
            CryptoError::Open
        );
        assert_eq!(
            k2.open(&nonce, &ct, b"aad-1").unwrap_err(),
            CryptoError::Open
        );
        assert_eq!(format!("{k:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn tokens() {
        let t = new_token().unwrap();
        assert!(t.starts_with("mc_") && t.len() == 46, "{}", t.as_str());
        let h = token_hash(&t);
        assert!(hashes_equal(&h, &token_hash(&t)));
        assert!(!hashes_equal(&h, &token_hash("mc_other")));
    }
}
