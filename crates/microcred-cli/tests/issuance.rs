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
    std::fs::write(
        dir.path().join("key.json"),
        key.to_key_file().unwrap().as_bytes(),
    )
    .unwrap();
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

#[test]
fn a_batch_killed_midway_leaves_whole_files_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let o = common::run(&["keygen", "--out", "key.json"], dir.path());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let rows = 3000;
    let mut csv = String::from("recipient\n");
    for i in 0..rows {
        csv.push_str(&format!("did:example:l{i}\n"));
    }
    std::fs::write(dir.path().join("c.csv"), csv).unwrap();
    let ach = example_achievement("df-101.json");
    let profile = repo().join("examples/issuer-profile.json");
    let mut child = common::bin()
        .current_dir(dir.path())
        .args(["issue", "--key", "key.json", "--achievement"])
        .arg(&ach)
        .arg("--issuer")
        .arg(&profile)
        .args(["--recipients", "c.csv", "--out-dir", "out", "--jobs", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some files are named (or when it is about to finish).
    let out = dir.path().join("out");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let named = std::fs::read_dir(&out)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))
                })
                .count()
            })
            .unwrap_or(0);
        if named > 0 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut whole = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('.') {
            let v: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
            assert!(v["proof"]["proofValue"].is_string(), "{name}");
            whole += 1;
        }
    }
    assert!(whole > 0);
    // Re-running issues exactly the missing ones and removes what the killed run left.
    let o = run_issue(
        dir.path(),
        "key.json",
        &ach,
        &["--recipients", "c.csv", "--out-dir", "out"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        report.contains(&format!(
            "{} issued, {whole} already present (kept), 0 failed",
            rows - whole
        )),
        "{report}"
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), rows, "no temporary files are left");
    assert!(names
        .iter()
        .all(|n| n.ends_with(".json") && !n.starts_with('.')));
}
