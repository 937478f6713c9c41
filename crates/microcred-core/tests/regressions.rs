//! Regression tests for core bugs found while writing the vector and property tests.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_core::{IssuerKey, KeyRing, ResolveError};
use serde_json::json;

/// `KeyRing::add_controller_document` used to refuse a whole DID document when any of its
/// verification methods held a key other than Ed25519 (an X25519 key-agreement key, a P-256
/// Multikey, an X25519 JWK), which real `did:key` and `did:web` documents routinely list next to
/// the Ed25519 assertion key. Such methods are now skipped.
#[test]
fn controller_document_with_other_key_types_still_yields_its_ed25519_key() {
    let key = IssuerKey::from_seed(&[9u8; 32]).unwrap();
    let doc = json!({
        "id": "did:web:college.example",
        "verificationMethod": [
            {"id": "#x25519", "type": "X25519KeyAgreementKey2020", "controller": "did:web:college.example",
             "publicKeyMultibase": "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"},
            {"id": "#p256", "type": "Multikey", "controller": "did:web:college.example",
             "publicKeyMultibase": "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"},
            {"id": "#x25519-jwk", "type": "JsonWebKey2020", "controller": "did:web:college.example",
             "publicKeyJwk": {"kty": "OKP", "crv": "X25519", "x": "jRIz3oriXDNZmnb35XQb7K1UIlz3ae1ao1YSqLeBXHs"}},
            {"id": "#key-1", "type": "Multikey", "controller": "did:web:college.example",
             "publicKeyMultibase": key.public_key().to_multibase()}
        ],
        "assertionMethod": ["#key-1"],
        "keyAgreement": ["#x25519", "#x25519-jwk"]
    });
    let mut ring = KeyRing::new();
    let added = ring.add_controller_document(&doc).unwrap();
    assert_eq!(added.len(), 1, "{added:?}");
    let m = ring.resolve("did:web:college.example#key-1").unwrap();
    assert_eq!(m.key, key.public_key());
    assert!(m.assertion);
    assert!(matches!(
        ring.resolve("did:web:college.example#p256"),
        Err(ResolveError::Unresolvable(_))
    ));
}

/// Skipping other key types must not hide a broken Ed25519 method, nor make a document with
/// no Ed25519 key acceptable.
#[test]
fn controller_document_errors_are_still_reported() {
    let broken = json!({
        "id": "did:web:college.example",
        "verificationMethod": [{"id": "#key-1", "type": "Ed25519VerificationKey2020", "publicKeyMultibase": "not-multibase"}]
    });
    assert!(matches!(
        KeyRing::new().add_controller_document(&broken),
        Err(ResolveError::BadMethod { .. })
    ));
    let no_ed25519 = json!({
        "id": "did:web:college.example",
        "verificationMethod": [{"id": "#p256", "type": "Multikey", "publicKeyMultibase": "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"}]
    });
    assert!(matches!(
        KeyRing::new().add_controller_document(&no_ed25519),
        Err(ResolveError::BadDocument(_))
    ));
}
