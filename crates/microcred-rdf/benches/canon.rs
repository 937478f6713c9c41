//! Canonicalization speed on the sample credentials, with a warm (shared) context loader, as a
//! signer or verifier that reuses one `ContextLoader` sees it.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use microcred_rdf::{canonicalize, canonicalize_document, to_rdf, CanonicalOptions, ContextLoader};
use serde_json::Value;

const SAMPLES: &[(&str, &str)] = &[
    (
        "df-101",
        include_str!("../tests/data/vectors/samples/df-101-productivity-tools.json"),
    ),
    (
        "df-102",
        include_str!("../tests/data/vectors/samples/df-102-digital-content.json"),
    ),
    (
        "df-103",
        include_str!("../tests/data/vectors/samples/df-103-online-collaboration.json"),
    ),
    (
        "df-certificate",
        include_str!("../tests/data/vectors/samples/df-certificate-stacked.json"),
    ),
    (
        "clr-pathway",
        include_str!("../tests/data/vectors/samples/clr-digital-fluency-pathway.json"),
    ),
    (
        "ob-1edtech-vector",
        include_str!("../tests/data/vectors/1edtech-ob/linked-data-proof-ob.extracted.json"),
    ),
    (
        "vc-di-eddsa-vector",
        include_str!("../tests/data/vectors/w3c-vc-di-eddsa/TestVectors/unsigned.json"),
    ),
];

fn doc(name: &str, text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    if name == "ob-1edtech-vector" {
        v = v["unsignedCredential"].clone();
    }
    if name.starts_with("df-") || name.starts_with("clr") {
        // The samples' credentialSchema type is defined by the 1EdTech extensions context.
        v["@context"]
            .as_array_mut()
            .unwrap()
            .push("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json".into());
    }
    v
}

fn bench(c: &mut Criterion) {
    let loader = ContextLoader::bundled();
    let opts = CanonicalOptions::default();
    for (name, text) in SAMPLES {
        let d = doc(name, text);
        let quads = canonicalize_document(&d, &loader, &opts)
            .unwrap()
            .quad_count();
        c.bench_function(
            &format!("canonicalize_document/{name} ({quads} quads)"),
            |b| b.iter(|| canonicalize_document(black_box(&d), &loader, &opts).unwrap()),
        );
    }
    let d = doc("df-101", SAMPLES[0].1);
    c.bench_function("to_rdf/df-101", |b| {
        b.iter(|| to_rdf(black_box(&d), &loader, &opts).unwrap())
    });
    let ds = to_rdf(&d, &loader, &opts).unwrap();
    c.bench_function("canonicalize(dataset)/df-101", |b| {
        b.iter(|| canonicalize(black_box(&ds)).unwrap())
    });
    c.bench_function("cold loader + canonicalize_document/df-101", |b| {
        b.iter(|| {
            let l = ContextLoader::bundled();
            canonicalize_document(black_box(&d), &l, &opts).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
