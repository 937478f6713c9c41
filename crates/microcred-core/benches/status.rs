//! Bitstring Status List costs on a full 131,072-entry list: `encodedList` encoding (GZIP +
//! base64url) and decoding, with few bits set (the usual case) and with half the bits set at
//! random (the worst case for compression), and producing a signed list credential
//! (encode + eddsa-rdfc-2022), which is what the service does when it regenerates a list.
//!
//! The `gzip_level_*` groups time GZIP alone at levels 1 (= `Compression::fast()`), 2, 3, 6
//! (= `Compression::default()`) and 9 on the same lists, and print each level's
//! `encodedList` length: the figures behind the level `Bitstring::encode` uses.
//!
//! Run: `cargo bench -p microcred-core --bench status -- --warm-up-time 1 --measurement-time 4`
//!
//! Runs on mimalloc, the global allocator of the shipped binaries (microcred-service's default
//! `mimalloc` feature), so the figures are the product's.

// A benchmark's fixed set-up either works or the benchmark is meaningless: unwrap is the point.
#![allow(clippy::unwrap_used)]

/// The allocator the product ships with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::io::Write;

use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use microcred_core::{
    sign, status_list_credential, Bitstring, Cryptosuite, IssuerKey, MIN_STATUS_LIST_ENTRIES,
};
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::OffsetDateTime;

/// A full list with `set` pseudo-random bits set (deterministic: SHA-256 counter stream).
fn list(set: usize) -> Bitstring {
    let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    let mut n = 0u64;
    while bits.count_set() < set {
        let d = Sha256::digest(n.to_be_bytes());
        let i = u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
            % MIN_STATUS_LIST_ENTRIES as u64;
        bits.set(i, true).unwrap();
        n += 1;
    }
    bits
}

/// GZIP at `level`, as `Bitstring::encode` does it, without the base64url step.
fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8 + 64),
        flate2::Compression::new(level),
    );
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The signed list credential the service publishes for `bits`.
fn encode_and_sign(bits: &Bitstring, key: &IssuerKey, at: OffsetDateTime) -> serde_json::Value {
    let doc = status_list_credential(
        "https://college.example/status/0b7c1e2a-6a43-4b6e-9a55-7d1f1f6f3a11",
        key.controller(),
        "revocation",
        bits,
        at,
        Some(60_000),
    );
    sign(&doc, key, Cryptosuite::EddsaRdfc2022, at).unwrap()
}

fn bench(c: &mut Criterion) {
    let key = IssuerKey::from_seed(&[42u8; 32]).unwrap();
    let at = datetime!(2025-06-01 12:00 UTC);

    // The usual case, named as issue #11 states its target (< 200 µs).
    let sparse = list(2_000);
    let mut g = c.benchmark_group("status_list");
    g.bench_function("encode+sign sparse list", |b| {
        b.iter(|| encode_and_sign(black_box(&sparse), &key, at))
    });
    g.finish();

    for (label, set) in [
        ("300_set", 300),
        ("2k_set", 2_000),
        ("half_set", MIN_STATUS_LIST_ENTRIES / 2),
    ] {
        let bits = list(set);
        let mut g = c.benchmark_group(format!("gzip_level_{label}"));
        for level in [1, 2, 3, 6, 9] {
            let compressed = gzip(bits.as_bytes(), level);
            let chars = 1 + base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(&compressed)
                .len();
            eprintln!("{label}: level {level}: encodedList is {chars} characters");
            g.bench_function(format!("level_{level}"), |b| {
                b.iter(|| gzip(black_box(bits.as_bytes()), level))
            });
        }
        g.finish();
    }

    for (label, set) in [("2k_set", 2_000), ("half_set", MIN_STATUS_LIST_ENTRIES / 2)] {
        let bits = list(set);
        let encoded = bits.encode();
        eprintln!("{label}: encodedList is {} characters", encoded.len());
        let mut g = c.benchmark_group(format!("status_list_{label}"));
        g.bench_function("encode", |b| b.iter(|| black_box(&bits).encode()));
        g.bench_function("decode", |b| {
            b.iter(|| Bitstring::decode(black_box(&encoded)).unwrap())
        });
        g.bench_function("encode_and_sign_rdfc", |b| {
            b.iter(|| encode_and_sign(black_box(&bits), &key, at))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
