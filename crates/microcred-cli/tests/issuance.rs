//! The CLI and the service issue through one path: the same inputs, credential id and
//! creation time give the same bytes from `microcred issue` as from the service's issuance
//! code (`microcred_service::conformance`, the service's template, signing and encoding,
//! without the status entries the service always adds).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, example_achievement, read_json, repo, run_issue, text};
use serde_json::{json, Value};

const SEED: [u8; 32] = [21u8; 32];

#[test]
fn cli_and_service_issue_byte_identical_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let key = microcred_core::IssuerKey::from_seed(&SEED).unwrap();
    std::fs::write(dir.path().join("key.json"), key.to_key_file().as_bytes()).unwrap();
    let achievement = read_json(&example_achievement("df-101.json"));
    let profile = read_json(&repo().join("examples/issuer-profile.json"));
    let created = "2025-06-02T10:30:00Z";
    let at = microcred_core::parse_datetime(created).unwrap();
    // (CLI options, the same row as the service takes it).
    let cases: Vec<(Vec<&str>, Value)> = vec![
        (
            vec!["--recipient", "did:example:amara"],
            json!({"recipient": "did:example:amara"}),
        ),
        (
            vec![
                "--recipient",
                "did:web:learners.example:u:7",
                "--result",
                "final-assessment=91",
                "--result",
                "status=Completed",
                "--credits-earned",
                "1.5",
                "--activity-start",
                "2025-01-06T09:00:00-05:00",
                "--activity-end",
                "2025-04-25T17:00:00Z",
                "--evidence",
                "https://portfolio.example/7",
                "--valid-from",
                "2025-05-01T00:00:00Z",
                "--valid-until",
                "2030-05-01T00:00:00Z",
            ],
            json!({"recipient": "did:web:learners.example:u:7",
                   "results": {"final-assessment": "91", "status": "Completed"},
                   "creditsEarned": 1.5,
                   "activityStartDate": "2025-01-06T09:00:00-05:00",
                   "activityEndDate": "2025-04-25T17:00:00Z",
                   "evidence": ["https://portfolio.example/7"],
                   "validFrom": "2025-05-01T00:00:00Z",
                   "validUntil": "2030-05-01T00:00:00Z"}),
        ),
        (
            vec!["--recipient", "did:example:b", "--credits-earned", "2"],
            json!({"recipient": "did:example:b", "creditsEarned": 2.0}),
        ),
    ];
    for (i, (options, row)) in cases.iter().enumerate() {
        let id = format!("urn:uuid:0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2{i}");
        let out = format!("c{i}.json");
        let mut args = options.clone();
        args.extend(["--id", &id, "--created", created, "--out", &out]);
        let o = run_issue(
            dir.path(),
            "key.json",
            &example_achievement("df-101.json"),
            &args,
        );
        assert_eq!(code(&o), 0, "{}", text(&o));
        let from_cli = std::fs::read(dir.path().join(&out)).unwrap();
        let from_service = microcred_service::conformance::issue_as_service(
            &achievement,
            &profile,
            &SEED,
            row,
            &id,
            "",
            at,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&from_cli),
            String::from_utf8_lossy(&from_service),
            "case {i}"
        );
        // And it is a credential that verifies.
        let o = common::run(&["verify", &out], dir.path());
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
}

#[test]
fn bad_rows_get_the_same_message_from_a_single_issuance_and_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let o = common::run(&["keygen", "--out", "key.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    std::fs::write(
        dir.path().join("bad.csv"),
        "recipient,credits_earned\ndid:example:a,-3\n",
    )
    .unwrap();
    let ach = example_achievement("df-101.json");
    let batch = run_issue(
        dir.path(),
        "key.json",
        &ach,
        &["--recipients", "bad.csv", "--out-dir", "out"],
    );
    assert_eq!(code(&batch), 1, "{}", text(&batch));
    let single = run_issue(
        dir.path(),
        "key.json",
        &ach,
        &["--recipient", "did:example:a", "--credits-earned=-3"],
    );
    assert_ne!(code(&single), 0, "{}", text(&single));
    let message = "creditsEarned must be a non-negative number";
    assert!(
        String::from_utf8_lossy(&batch.stderr).contains(&format!("failed: row 2: {message}")),
        "{}",
        text(&batch)
    );
    assert!(
        String::from_utf8_lossy(&single.stderr).contains(message),
        "{}",
        text(&single)
    );
    // NaN is refused too (it used to be signed).
    let nan = run_issue(
        dir.path(),
        "key.json",
        &ach,
        &["--recipient", "did:example:a", "--credits-earned", "NaN"],
    );
    assert_ne!(code(&nan), 0, "{}", text(&nan));
}
