//! The core's own signing rate, measured on the credential shape the service issues, so a
//! load test can compare the service's issuance rate with pure signing in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use microcred_core::{Achievement, IssuerKey, Profile};
use serde_json::{json, Map, Value};

use crate::issuer::{default_suite, ActiveKey, IssueRow, Template};

/// The sample achievement the benchmark and the load test use (DF-101 from `examples/`).
pub const SAMPLE_ACHIEVEMENT: &str = include_str!("../../../examples/achievements/df-101.json");
/// The sample issuer profile (from `examples/`).
pub const SAMPLE_ISSUER: &str = include_str!("../../../examples/issuer-profile.json");

/// The name of the suite used when a request names none.
pub fn default_suite_name() -> &'static str {
    default_suite().name()
}

/// Result of [`sign_rate`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SignRate {
    /// Signatures made.
    pub count: u64,
    /// Time taken.
    pub elapsed: Duration,
    /// Signatures per second on one thread with `microcred_core::sign`.
    pub per_second: f64,
    /// Signatures per second on one thread the way a batch signs its rows: one
    /// `microcred_core::ProofSetup` (proof options canonicalized once) and
    /// `ProofSetup::sign_owned` on a copy of the unsigned credential, measured for the same
    /// duration right after.
    pub batch_per_second: f64,
    /// Size of one signed credential in bytes.
    pub credential_bytes: usize,
}

/// Signs the credential the service issues for one learner of `achievement` (an OB
/// Achievement JSON) from `issuer` (a Profile JSON without `id`) over and over on the calling
/// thread for about `duration`: `microcred_core::sign` only (the prebuilt unsigned JSON in,
/// the signed JSON out); then as long again the way a batch signs (see
/// [`SignRate::batch_per_second`]).
///
/// The unsigned credential is made by the service's own issuing template, as a batch row of
/// the load test is: a DID recipient, one result per result description of the achievement,
/// and a revocation `credentialStatus` entry (as every credential the service issues has), so
/// the rate is the one the service's signing runs at.
pub fn sign_rate(
    achievement: &Value,
    issuer: &Value,
    suite: Option<&str>,
    duration: Duration,
) -> Result<SignRate, String> {
    let key = IssuerKey::from_seed(&[7u8; 32]).map_err(|e| e.to_string())?;
    let mut profile = issuer.clone();
    if let Some(o) = profile.as_object_mut() {
        o.insert("id".into(), key.controller().into());
    }
    let profile = Profile::from_value(profile).map_err(|e| e.to_string())?;
    let mut ach = achievement.clone();
    if let Some(o) = ach.as_object_mut() {
        o.entry("id")
            .or_insert_with(|| "https://example.org/achievements/x".into());
    }
    let ach = Achievement::from_value(ach).map_err(|e| e.to_string())?;
    let base: Arc<str> = Arc::from("https://credentials.example.org");
    let mut results = Map::new();
    for (i, rd) in ach.result_description.iter().enumerate() {
        let name = rd.id.rsplit('/').next().unwrap_or(&rd.id).to_owned();
        let value = if rd.result_type == "Status" {
            "Completed".to_owned()
        } else {
            format!("8{}", i % 10)
        };
        results.insert(name, value.into());
    }
    let template = Template::new(
        "bench",
        "bench",
        1,
        ach,
        profile,
        Arc::new(ActiveKey { key }),
        base.clone(),
        None,
    )
    .map_err(|e| e.message())?;
    let row = IssueRow {
        recipient: "did:example:learner1".into(),
        results,
        ..IssueRow::default()
    };
    let now = time::OffsetDateTime::now_utc();
    let (_, mut credential) = template.build(&row, now).map_err(|e| e.message())?;
    if let Some(o) = credential.as_object_mut() {
        let list = format!("{base}/status/0192e4a0-7c1b-7d3e-8f00-5a1b2c3d4e5f");
        o.insert(
            "credentialStatus".into(),
            json!({
                "id": format!("{list}#94321"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "94321",
                "statusListCredential": list,
            }),
        );
    }
    let key = &template.key.key;
    let suite = crate::issuer::parse_suite(suite)?;
    let first = microcred_core::sign(&credential, key, suite, now).map_err(|e| e.to_string())?;
    let credential_bytes = serde_json::to_vec(&first).map_err(|e| e.to_string())?.len();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration || count == 0 {
        for _ in 0..50 {
            let signed =
                microcred_core::sign(&credential, key, suite, now).map_err(|e| e.to_string())?;
            std::hint::black_box(signed);
        }
        count += 50;
    }
    let elapsed = start.elapsed();
    let contexts = microcred_core::bundled_contexts();
    let setup =
        microcred_core::ProofSetup::new(key, suite, now, credential.get("@context"), contexts)
            .map_err(|e| e.to_string())?;
    let batch_start = Instant::now();
    let mut batch_count = 0u64;
    while batch_start.elapsed() < duration || batch_count == 0 {
        for _ in 0..50 {
            let signed = setup
                .sign_owned(credential.clone(), key, contexts)
                .map_err(|e| e.to_string())?;
            std::hint::black_box(signed);
        }
        batch_count += 50;
    }
    Ok(SignRate {
        count,
        elapsed,
        per_second: count as f64 / elapsed.as_secs_f64(),
        batch_per_second: batch_count as f64 / batch_start.elapsed().as_secs_f64(),
        credential_bytes,
    })
}
