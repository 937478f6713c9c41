//! Helpers shared by the test binaries (`vectors`, `properties`, `proofs`).

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

pub(crate) mod series;

use microcred_core::{CheckKind, Outcome, Report};

/// The outcomes of the report's checks of `kind`, in order.
pub(crate) fn outcomes(report: &Report, kind: CheckKind) -> Vec<Outcome> {
    report
        .checks
        .iter()
        .filter(|c| c.check == kind)
        .map(|c| c.outcome)
        .collect()
}

/// Ed25519 over the 64-byte message, for proofs `sign` does not make (a proof `id`, a chain,
/// a legacy suite). Deterministic (RFC 8032), so the result is comparable byte for byte.
pub(crate) fn ed25519_sign(seed: &[u8; 32], message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer as _;
    ed25519_dalek::SigningKey::from_bytes(seed)
        .sign(message)
        .to_bytes()
}

/// Base58btc multibase (`z...`).
pub(crate) fn z_base58(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}
