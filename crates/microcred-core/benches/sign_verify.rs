//! Signing and verification throughput of a realistic ~3 KB OB 3.0 microcredential, compared
//! with raw Ed25519 over a 64-byte message (the size of the message a Data Integrity proof
//! signs: SHA-256(proof config) ‖ SHA-256(document)).
//!
//! Run: `cargo bench -p microcred-core --bench sign_verify -- --warm-up-time 1 --measurement-time 3`

// A benchmark's fixed set-up either works or the benchmark is meaningless: unwrap is the point.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signer, SigningKey};
use microcred_core::{
    sign, verify, Achievement, AchievementSubject, Cryptosuite, IssuerKey, KeyRing,
    OpenBadgeCredential, Profile, Recipient, Verdict, VerifyOptions,
};
use serde_json::Value;
use time::macros::datetime;
use time::OffsetDateTime;

/// A fixed seed: benchmarks need no randomness.
const SEED: [u8; 32] = [42u8; 32];
const VALID_FROM: OffsetDateTime = datetime!(2025-05-01 09:00 UTC);
const CREATED: OffsetDateTime = datetime!(2025-05-01 09:00:05 UTC);
const AT: OffsetDateTime = datetime!(2025-06-01 12:00 UTC);

const ACHIEVEMENT: &str = include_str!("../../../examples/achievements/df-103.json");
const ISSUER: &str = include_str!("../../../examples/issuer-profile.json");

/// The DF-103 microcredential from `examples/`, built through the core model types and trimmed
/// to about 3 KB signed: without its alignments, result descriptions, quality-assurance
/// statement, stackability, creator, image, tags, entry requirement and field of study.
fn credential(key: &IssuerKey) -> Value {
    let mut achievement: Value = serde_json::from_str(ACHIEVEMENT).unwrap();
    let fields = achievement.as_object_mut().unwrap();
    for drop in [
        "alignment",
        "resultDescription",
        "qualityAssurance",
        "stackability",
        "creator",
        "image",
        "tag",
        "entryRequirement",
        "fieldOfStudy",
        "specialization",
    ] {
        fields.shift_remove(drop);
    }
    let achievement = Achievement::from_value(achievement).unwrap();

    let mut issuer: Value = serde_json::from_str(ISSUER).unwrap();
    issuer["id"] = key.controller().into();
    let issuer = Profile::from_value(issuer).unwrap();

    let recipient = Recipient::parse("jordan.lee@learner.example", "bench-salt-0001").unwrap();
    let subject = AchievementSubject::new(&recipient, achievement);
    OpenBadgeCredential::new(
        "urn:uuid:6f0c1b1e-3d5a-4c7e-9b2a-1f4e5d6c7b8a",
        issuer,
        VALID_FROM,
        subject,
    )
    .unwrap()
    .to_value()
}

fn benches(c: &mut Criterion) {
    // Raw Ed25519 over 64 bytes, with the same strict verification the core uses.
    let signing = SigningKey::from_bytes(&SEED);
    let verifying = signing.verifying_key();
    let message = [7u8; 64];
    let signature = signing.sign(&message);
    let mut raw = c.benchmark_group("raw_ed25519");
    raw.bench_function("sign_64B", |b| b.iter(|| signing.sign(black_box(&message))));
    raw.bench_function("verify_64B", |b| {
        b.iter(|| verifying.verify_strict(black_box(&message), black_box(&signature)))
    });
    raw.finish();

    // The full pipeline on a realistic credential.
    let key = IssuerKey::from_seed(&SEED).unwrap();
    let unsigned = credential(&key);
    let signed = sign(&unsigned, &key, Cryptosuite::EddsaJcs2022, CREATED).unwrap();
    let bytes = serde_json::to_vec(&signed).unwrap();
    let keys = KeyRing::new();
    let options = VerifyOptions::new(AT, &keys);
    let report = verify(&bytes, &options);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    println!(
        "signed credential: {} bytes (unsigned {} bytes)",
        bytes.len(),
        serde_json::to_vec(&unsigned).unwrap().len()
    );

    let mut jcs = c.benchmark_group("jcs");
    jcs.bench_function("sign_3KB", |b| {
        b.iter(|| {
            sign(
                black_box(&unsigned),
                &key,
                Cryptosuite::EddsaJcs2022,
                CREATED,
            )
            .unwrap()
        })
    });
    jcs.bench_function("verify_3KB", |b| {
        b.iter(|| verify(black_box(&bytes), &options))
    });
    jcs.finish();
}

criterion_group!(sign_verify, benches);
criterion_main!(sign_verify);
