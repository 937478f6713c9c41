//! `microcred serve` as a real process: end to end through HTTP with offline verification by
//! `microcred verify`, and crash safety (SIGKILL during a batch, restart, check).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../microcred-service/tests/common/http.rs"]
mod http;
#[path = "common/serve.rs"]
mod serve;
#[path = "../../microcred-service/tests/common/setup.rs"]
mod setup;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use serve::{cli_verify, path_of, Serve, BIN};
use setup::{institution_with_achievement, read_json};

#[test]
fn serve_issue_fetch_verify_offline_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &["--init"], &[]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "--init creates the master key file private"
        );
    }
    let admin = server.admin_token_from_stderr();
    let c = &server.client;
    let tok = institution_with_achievement(c, "northbridge", &admin, &json!({}));

    // Single and batch issuance.
    let r = c.post(
        "/v1/institutions/northbridge/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "amara@example.org", "results": {"final-assessment": "86", "status": "Completed"},
                "evidence": ["https://portfolio.example/amara"], "activityStartDate": "2025-01-06T09:00:00Z", "activityEndDate": "2025-03-28T17:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let single_url = r.json()["url"].as_str().unwrap().to_owned();
    let rows: Vec<Value> = (0..25).map(|i| json!({"recipient": format!("did:example:learner{i}"), "results": {"status": "Completed"}})).collect();
    let r = c.post(
        "/v1/institutions/northbridge/credentials/batch",
        Some(&tok),
        &json!({"achievement": "df-101", "rows": rows}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["issued"], 25);
    let batch_url = r.json()["results"][24]["url"].as_str().unwrap().to_owned();

    // Fetch by URL like a wallet; save the DID document like an employer; verify offline.
    let before = dir.path().join("before.json");
    std::fs::write(&before, c.get(&path_of(&single_url), None).body).unwrap();
    let from_batch = dir.path().join("batch.json");
    std::fs::write(&from_batch, c.get(&path_of(&batch_url), None).body).unwrap();
    let doc1 = dir.path().join("did-1.json");
    std::fs::write(
        &doc1,
        c.get("/institutions/northbridge/did.json", None).body,
    )
    .unwrap();
    let (code, out) = cli_verify(&doc1, &[before.clone(), from_batch.clone()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VALID"), "{out}");

    // Rotate: the old credential still verifies with the new document; a new one uses key-2.
    let r = c.post(
        "/v1/institutions/northbridge/keys/rotate",
        Some(&tok),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.post(
        "/v1/institutions/northbridge/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "did:example:after"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let after = dir.path().join("after.json");
    std::fs::write(
        &after,
        c.get(&path_of(r.json()["url"].as_str().unwrap()), None)
            .body,
    )
    .unwrap();
    let method = read_json(&after)["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(method.ends_with("#key-2"), "{method}");
    let doc2 = dir.path().join("did-2.json");
    std::fs::write(
        &doc2,
        c.get("/institutions/northbridge/did.json", None).body,
    )
    .unwrap();
    let (code, out) = cli_verify(&doc2, &[before.clone(), from_batch, after.clone()]);
    assert_eq!(code, 0, "{out}");
    let (code, _) = cli_verify(&doc1, &[after]);
    assert_ne!(
        code, 0,
        "the pre-rotation document does not vouch for key-2"
    );

    // A tampered copy fails.
    let tampered = dir.path().join("tampered.json");
    std::fs::write(
        &tampered,
        std::fs::read_to_string(&before)
            .unwrap()
            .replace("\"86\"", "\"99\""),
    )
    .unwrap();
    assert_eq!(cli_verify(&doc2, &[tampered]).0, 1);

    let log = server.stderr.lock().unwrap().clone();
    assert_eq!(
        log.matches(&admin).count(),
        1,
        "the admin token is shown once"
    );
    assert!(!log.contains(&tok), "institution tokens are never logged");
    server.stop();

    // Restart: no new admin token, same data.
    let server = Serve::start(dir.path(), &[], &[]);
    assert!(!server
        .stderr
        .lock()
        .unwrap()
        .contains("administrator token"));
    assert_eq!(
        server.client.get(&path_of(&single_url), None).body,
        std::fs::read(&before).unwrap()
    );
    server.stop();

    // Refuses to start without a master key.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(dir.path().join("other.db"))
        .env_remove("MICROCRED_MASTER_KEY")
        .env_remove("MICROCRED_MASTER_KEY_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no master key"));
}

/// An acknowledged single issuance: its number, the response, the credential's bytes.
type Acked = (usize, Value, Vec<u8>);

#[test]
fn crash_during_batch_loses_nothing_acknowledged_and_duplicates_nothing() {
    const ADMIN: &str = "crash-test-admin-token-0123456789";
    const ROWS: usize = 2000;
    let dir = tempfile::tempdir().unwrap();
    let envs = [("MICROCRED_ADMIN_TOKEN", ADMIN)];
    let args = ["--init", "--base-url", "https://credentials.crash.example"];
    let server = Serve::start(dir.path(), &args, &envs);
    let c = server.client;
    let tok = institution_with_achievement(&c, "northbridge", ADMIN, &json!({}));
    let single_body = |n: usize| json!({"achievement": "df-101", "recipient": format!("did:example:single{n}"), "results": {"status": "Completed"}});
    let rows: Vec<Value> = (0..ROWS).map(|i| json!({"recipient": format!("did:example:cohort{i}"), "results": {"final-assessment": "77"}})).collect();
    let batch_body = json!({"achievement": "df-101", "rows": rows});

    // A batch in flight, and single issuances acknowledged one after another, then SIGKILL.
    let batch_ack: Arc<Mutex<Option<Value>>> = Arc::default();
    let batch_thread = {
        let (tok, body, ack) = (tok.clone(), batch_body.clone(), batch_ack.clone());
        std::thread::spawn(move || {
            if let Ok(r) = c.try_request(
                "POST",
                "/v1/institutions/northbridge/credentials/batch",
                &[
                    ("Authorization", &format!("Bearer {tok}")),
                    ("Content-Type", "application/json"),
                    ("Idempotency-Key", "cohort-2025"),
                ],
                Some(&serde_json::to_vec(&body).unwrap()),
            ) {
                if r.status == 200 {
                    *ack.lock().unwrap() = Some(r.json());
                }
            }
        })
    };
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let attempted = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let single_thread = {
        let (tok, acked, attempted, stop) =
            (tok.clone(), acked.clone(), attempted.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                attempted.store(n + 1, Ordering::SeqCst);
                let body = serde_json::to_vec(&single_body(n)).unwrap();
                let key = format!("single-{n}");
                match c.try_request(
                    "POST",
                    "/v1/institutions/northbridge/credentials",
                    &[
                        ("Authorization", &format!("Bearer {tok}")),
                        ("Content-Type", "application/json"),
                        ("Idempotency-Key", &key),
                    ],
                    Some(&body),
                ) {
                    Ok(r) if r.status == 201 => {
                        let v = r.json();
                        let text = r.text();
                        let start = text.find("\"credential\":").unwrap() + "\"credential\":".len();
                        let cred = text.as_bytes()[start..text.len() - 1].to_vec();
                        acked.lock().unwrap().push((n, v, cred));
                    }
                    _ => break,
                }
                n += 1;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(150));
    server.kill();
    stop.store(true, Ordering::SeqCst);
    single_thread.join().unwrap();
    batch_thread.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.load(Ordering::SeqCst);
    assert!(
        acked.len() >= 10,
        "singles were acknowledged before the kill"
    );
    eprintln!(
        "SIGKILL after {} acknowledged singles ({attempted} attempted); batch acknowledged before the kill: {}",
        acked.len(),
        batch_ack.lock().unwrap().is_some()
    );

    // Restart on the same database file.
    let server = Serve::start(dir.path(), &args, &envs);
    let c = server.client;
    let did_doc = dir.path().join("did.json");
    std::fs::write(
        &did_doc,
        c.get("/institutions/northbridge/did.json", None).body,
    )
    .unwrap();

    // Every acknowledged credential is there, byte for byte, and verifies.
    let mut files = Vec::new();
    for (n, v, cred) in &acked {
        let r = c.get(&path_of(v["url"].as_str().unwrap()), None);
        assert_eq!(r.status, 200, "acknowledged single {n} is stored");
        assert_eq!(&r.body, cred, "stored bytes are the acknowledged bytes");
        if files.len() < 40 {
            let f = dir.path().join(format!("single-{n}.json"));
            std::fs::write(&f, &r.body).unwrap();
            files.push(f);
        }
    }

    // Retrying everything that was attempted issues nothing twice.
    for n in 0..attempted {
        let r = c.send_json(
            "POST",
            "/v1/institutions/northbridge/credentials",
            Some(&tok),
            &single_body(n),
            &[("Idempotency-Key", &format!("single-{n}"))],
        );
        assert_eq!(r.status, 201, "{}", r.text());
        if let Some((_, v, _)) = acked.iter().find(|(m, _, _)| *m == n) {
            assert_eq!(
                r.json()["id"],
                v["id"],
                "a retry returns the acknowledged credential"
            );
            assert_eq!(r.header("idempotent-replayed"), Some("true"));
        }
    }
    let r = c.send_json(
        "POST",
        "/v1/institutions/northbridge/credentials/batch",
        Some(&tok),
        &batch_body,
        &[("Idempotency-Key", "cohort-2025")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let retry = r.json();
    assert_eq!(retry["failed"], 0);
    assert_eq!(
        retry["issued"].as_u64().unwrap() + retry["existing"].as_u64().unwrap(),
        ROWS as u64
    );
    if let Some(first) = batch_ack.lock().unwrap().as_ref() {
        assert_eq!(
            retry["existing"], ROWS,
            "the acknowledged batch is entirely there"
        );
        for i in 0..ROWS {
            assert_eq!(first["results"][i]["id"], retry["results"][i]["id"]);
        }
    } else {
        // One transaction per batch: after a crash it is either all there or not at all.
        assert!(
            retry["existing"] == 0 || retry["existing"] == ROWS,
            "{}",
            retry["existing"]
        );
    }
    eprintln!(
        "after restart the batch retry found {} rows stored, issued {}",
        retry["existing"], retry["issued"]
    );
    let total = c
        .get(
            "/v1/institutions/northbridge/credentials?limit=1",
            Some(ADMIN),
        )
        .json()["total"]
        .as_u64()
        .unwrap();
    assert_eq!(
        total,
        (attempted + ROWS) as u64,
        "each idempotency key has exactly one credential"
    );

    for i in [0, ROWS / 2, ROWS - 1] {
        let r = c.get(&path_of(retry["results"][i]["url"].as_str().unwrap()), None);
        let f = dir.path().join(format!("batch-{i}.json"));
        std::fs::write(&f, &r.body).unwrap();
        files.push(f);
    }
    let (code, out) = cli_verify(&did_doc, &files);
    assert_eq!(code, 0, "{out}");
    server.stop();
}

#[test]
fn the_cli_and_the_service_refuse_the_same_rows_with_the_same_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &["--init"], &[]);
    let admin = server.admin_token_from_stderr();
    let c = &server.client;
    let tok = institution_with_achievement(c, "northbridge", &admin, &json!({}));
    // One good row, then rows each wrong in one way (a blank line is not a row in CSV).
    let csv = "recipient,result:final-assessment,credits_earned,activity_start,activity_end,valid_from,valid_until,evidence\n\
        did:example:ok,91,2,,,,,\n\
        not a recipient,,,,,,,\n\
        did:example:2,,-1,,,,,\n\
        did:example:3,,lots,,,,,\n\
        did:example:4,,,yesterday,,,,\n\
        did:example:5,,,2025-03-01T00:00:00Z,2025-01-01T00:00:00Z,,,\n\
        did:example:6,,,,,2025-06-01T00:00:00Z,2025-01-01T00:00:00Z,\n\
        did:example:7,,,,,,,not-a-url\n\
        ,,,,,,,\n\
        did:example:9,,NaN,,,,,\n";
    let r = c.request(
        "POST",
        "/v1/institutions/northbridge/credentials/batch?achievement=df-101",
        &[
            ("Content-Type", "text/csv"),
            ("Authorization", &format!("Bearer {tok}")),
        ],
        Some(csv.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let results = r.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 10);
    assert_eq!(results[0]["status"], 201, "{}", r.text());
    std::fs::write(dir.path().join("rows.csv"), csv).unwrap();
    let key = dir.path().join("key.json");
    let o = Command::new(BIN)
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = Command::new(BIN)
        .arg("issue")
        .arg("--key")
        .arg(&key)
        .arg("--achievement")
        .arg(setup::examples().join("achievements/df-101.json"))
        .arg("--issuer")
        .arg(setup::examples().join("issuer-profile.json"))
        .arg("--recipients")
        .arg(dir.path().join("rows.csv"))
        .arg("--out-dir")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for (i, row) in results.iter().enumerate().skip(1) {
        let message = row["error"]
            .as_str()
            .unwrap_or_else(|| panic!("row {i}: {row}"));
        // The CLI numbers rows by CSV line (the header is line 1).
        let expected = format!("failed: row {}: {message}\n", i + 2);
        assert!(stderr.contains(&expected), "{expected}in\n{stderr}");
    }
    assert_eq!(stderr.matches("failed: row").count(), 9, "{stderr}");
    server.stop();
}
