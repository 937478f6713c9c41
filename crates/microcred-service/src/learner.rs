//! Learners across credentials: a learner key ties the credentials issued to one recipient
//! (a DID or URL, or an e-mail address, each credential with its own salt) without storing
//! the recipient: HMAC-SHA-256 of the normalized recipient under a key derived from the
//! master key, so the same recipient gives the same key at every institution of the service
//! (credit transfer within a portal) and nobody without the master key can test a guessed
//! address against it. The recipient itself is kept only sealed (XChaCha20-Poly1305 under the
//! master key), and only while a stack check for the learner waits (see `stacking.rs`).

use zeroize::Zeroizing;

use crate::crypto::{CryptoError, MasterKey};

/// The label of the learner-key derivation (changing it changes every learner key).
const LEARNER_KEY_PURPOSE: &[u8] = b"microcred learner key v1";
/// The associated data of a sealed recipient.
const SEALED_RECIPIENT_AAD: &[u8] = b"microcred sealed recipient v1";

/// Whether a recipient is an e-mail address (credentials name it hashed, each with its own
/// salt) rather than a DID or URL (named as it is). The same test as the core's recipient
/// parsing: an `@` and no scheme.
pub(crate) fn is_email(recipient: &str) -> bool {
    let r = recipient.trim();
    r.contains('@') && !r.contains(':')
}

/// The identities a checker compares credentials of `recipient` with: its e-mail address, if
/// it is one (a DID is compared as the subject's id, with no help).
pub(crate) fn known_identities(recipient: &str) -> Vec<microcred_core::KnownIdentity> {
    if is_email(recipient) {
        vec![microcred_core::KnownIdentity {
            identity_type: "emailAddress".into(),
            value: recipient.trim().to_owned(),
        }]
    } else {
        Vec::new()
    }
}

/// The recipient as compared: an e-mail address trimmed and lower-cased (addresses are used
/// case-insensitively in practice), anything else (a DID or URL) as given.
fn normalized(recipient: &str) -> String {
    let r = recipient.trim();
    if is_email(r) {
        r.to_lowercase()
    } else {
        r.to_owned()
    }
}

/// The learner key of `recipient` (64 hex digits).
pub(crate) fn key(master: &MasterKey, recipient: &str) -> Result<String, CryptoError> {
    Ok(hex::encode(master.keyed_digest(
        LEARNER_KEY_PURPOSE,
        normalized(recipient).as_bytes(),
    )?))
}

/// The recipient sealed for the stack-check queue: nonce ‖ ciphertext.
pub(crate) fn seal(master: &MasterKey, recipient: &str) -> Result<Vec<u8>, CryptoError> {
    let (nonce, ct) = master.seal(recipient.trim().as_bytes(), SEALED_RECIPIENT_AAD)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a recipient sealed by [`seal`].
pub(crate) fn open(master: &MasterKey, sealed: &[u8]) -> Result<Zeroizing<String>, CryptoError> {
    let (nonce, ct) = sealed.split_at(sealed.len().min(24));
    let text = master.open(nonce, ct, SEALED_RECIPIENT_AAD)?;
    String::from_utf8(text.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Open)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_stable_normalized_and_keyed() {
        let a = MasterKey::generate().unwrap();
        let b = MasterKey::generate().unwrap();
        let k = key(&a, "Amara.Okafor@Example.org ").unwrap();
        assert_eq!(k.len(), 64);
        assert_eq!(k, key(&a, "amara.okafor@example.org").unwrap());
        assert_ne!(k, key(&b, "amara.okafor@example.org").unwrap());
        assert_ne!(
            key(&a, "did:example:Abc").unwrap(),
            key(&a, "did:example:abc").unwrap()
        );
        let sealed = seal(&a, "amara.okafor@example.org").unwrap();
        assert_eq!(
            open(&a, &sealed).unwrap().as_str(),
            "amara.okafor@example.org"
        );
        assert!(open(&b, &sealed).is_err());
    }
}
