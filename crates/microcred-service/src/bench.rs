//! The core's own signing rate, measured on the credential shape the service issues, so a
//! load test can compare the service's issuance rate with pure signing in the same run.

use std::time::{Duration, Instant};

use microcred_core::{
    Achievement, AchievementSubject, IssuerKey, OpenBadgeCredential, Profile, Recipient,
};
use serde_json::Value;

use crate::issuer::default_suite;

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
    /// Signatures per second on one thread.
    pub per_second: f64,
    /// Size of one signed credential in bytes.
    pub credential_bytes: usize,
}

/// Signs the credential built from `achievement` (an OB Achievement JSON) for `issuer`
/// (a Profile JSON without `id`) over and over on the calling thread for about `duration`:
/// `microcred_core::sign` only (the prebuilt unsigned JSON in, the signed JSON out).
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
    let recipient = Recipient::parse("did:example:learner", "").map_err(|e| e.to_string())?;
    let subject = AchievementSubject::new(&recipient, ach);
    let now = time::OffsetDateTime::now_utc();
    let credential = OpenBadgeCredential::new(
        "urn:uuid:00000000-0000-4000-8000-000000000000",
        profile,
        now,
        subject,
    )
    .map_err(|e| e.to_string())?
    .to_value();
    let suite = crate::issuer::parse_suite(suite)?;
    let first = microcred_core::sign(&credential, &key, suite, now).map_err(|e| e.to_string())?;
    let credential_bytes = serde_json::to_vec(&first).map_err(|e| e.to_string())?.len();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration || count == 0 {
        for _ in 0..50 {
            let signed =
                microcred_core::sign(&credential, &key, suite, now).map_err(|e| e.to_string())?;
            std::hint::black_box(signed);
        }
        count += 50;
    }
    let elapsed = start.elapsed();
    Ok(SignRate {
        count,
        elapsed,
        per_second: count as f64 / elapsed.as_secs_f64(),
        credential_bytes,
    })
}
