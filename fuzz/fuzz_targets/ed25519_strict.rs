//! microcred's strict Ed25519 verification (`PublicKey::verify_strict`, written on
//! curve25519-dalek) against ed25519-dalek's `verify_strict`: for any signature bytes, whole or
//! as the `R` or `s` half of a valid signature, both give the same answer.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use microcred_core::PublicKey;

fuzz_target!(|data: &[u8]| {
    let (Some(&seed), Some(&mode)) = (data.first(), data.get(1)) else {
        return;
    };
    let mut given = [0u8; 64];
    let rest = data.get(2..).unwrap_or_default();
    let n = rest.len().min(64);
    given[..n].copy_from_slice(&rest[..n]);
    let message = rest.get(64..).unwrap_or_default();

    let signing = SigningKey::from_bytes(&[seed; 32]);
    let verifying = signing.verifying_key();
    let Ok(public) = PublicKey::from_bytes(&verifying.to_bytes()) else {
        return;
    };
    let mut sig = signing.sign(message).to_bytes();
    match mode % 3 {
        0 => sig = given,
        1 => sig[..32].copy_from_slice(&given[..32]),
        _ => sig[32..].copy_from_slice(&given[32..]),
    }
    let dalek = verifying
        .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok();
    assert_eq!(public.verify_strict(message, &sig), dalek);
});
