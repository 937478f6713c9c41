//! Two `microcred serve` processes on one PostgreSQL database, as behind a load balancer:
//! issuance (single and batch) and revocations spread over both, then one is SIGKILLed in the
//! middle of a batch. Through the survivor, every acknowledged credential is stored byte for
//! byte, every acknowledged revocation is set in the status list it serves, and no status
//! index was handed out twice.
//!
//! The database comes from `MICROCRED_TEST_POSTGRES` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`); the test works in a scratch schema it drops.
//! Without the variable it says it was skipped, except in CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../microcred-service/tests/common/http.rs"]
mod http;
#[path = "common/serve.rs"]
mod serve;
#[path = "../../microcred-service/tests/common/setup.rs"]
mod setup;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Client;
use microcred_core::{status_entries, Bitstring};
use serde_json::{json, Value};
use serve::{path_of, Serve};
use setup::institution_with_achievement;

const VAR: &str = "MICROCRED_TEST_POSTGRES";
const ADMIN: &str = "instances-test-admin-token-0123456789";
const BASE: &str = "https://credentials.instances.example";
const INST: &str = "/v1/institutions/northbridge";
const BATCH_ROWS: usize = 1500;

/// The test database's URL, or `None` (said on stderr) outside CI.
fn postgres_url() -> Option<String> {
    match std::env::var(VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and {VAR} is not set: the PostgreSQL tests must run in CI"
            );
            eprintln!(
                "skipped: {VAR} is not set (a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A scratch schema, dropped at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str) -> Self {
        let name = format!("mc_instances_{}", std::process::id());
        let mut c = postgres::Client::connect(url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{VAR}={url}: {e}"));
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .unwrap();
        Self {
            url: url.to_owned(),
            name,
        }
    }

    /// The `--database` setting that puts the service in this schema.
    fn setting(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A credential acknowledged with 201: its URL and the exact bytes returned.
#[derive(Clone)]
struct Acked {
    url: String,
    bytes: Vec<u8>,
}

fn issue_single(c: &Client, tok: &str, key: &str) -> Option<Acked> {
    let body = json!({"achievement": "df-101", "recipient": format!("did:example:{key}"), "results": {"status": "Completed"}});
    let r = c
        .try_request(
            "POST",
            &format!("{INST}/credentials"),
            &[
                ("Authorization", &format!("Bearer {tok}")),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", key),
            ],
            Some(&serde_json::to_vec(&body).unwrap()),
        )
        .ok()?;
    if r.status != 201 {
        return None;
    }
    let text = r.text();
    let start = text.find("\"credential\":").unwrap() + "\"credential\":".len();
    Some(Acked {
        url: r.json()["url"].as_str().unwrap().to_owned(),
        bytes: text.as_bytes()[start..text.len() - 1].to_vec(),
    })
}

/// Revokes the credential at `url` through `c`; true when acknowledged.
fn revoke(c: &Client, tok: &str, url: &str) -> bool {
    let id = url.rsplit('/').next().unwrap();
    let body = serde_json::to_vec(&json!({"reason": "instances test"})).unwrap();
    c.try_request(
        "POST",
        &format!("{INST}/credentials/{id}/revoke"),
        &[
            ("Authorization", &format!("Bearer {tok}")),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    )
    .is_ok_and(|r| r.status == 200)
}

#[test]
fn two_instances_on_one_database_lose_nothing_acknowledged_when_one_is_killed() {
    let Some(url) = postgres_url() else { return };
    let schema = Schema::new(&url);
    let database = schema.setting();
    let dir = tempfile::tempdir().unwrap();
    let envs = [("MICROCRED_ADMIN_TOKEN", ADMIN)];
    let args = ["--init", "--base-url", BASE];
    // Both share the database, the master key file and the public base URL.
    let a = Serve::start_on(database.as_ref(), dir.path(), &args, &envs);
    let b = Serve::start_on(database.as_ref(), dir.path(), &args, &envs);
    let (ca, cb) = (a.client, b.client);
    let tok = institution_with_achievement(&ca, "northbridge", ADMIN, &json!({}));

    // Phase 1: single issuance on both at once, then revocations of every third credential,
    // each sent to both instances at the same time.
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    std::thread::scope(|s| {
        for (name, c) in [("a", ca), ("b", cb)] {
            let (tok, acked) = (&tok, &acked);
            s.spawn(move || {
                for n in 0..40 {
                    let got = issue_single(&c, tok, &format!("p1-{name}-{n}"));
                    acked
                        .lock()
                        .unwrap()
                        .push(got.expect("both instances issue"));
                }
            });
        }
    });
    let phase1 = acked.lock().unwrap().clone();
    let targets: Vec<&Acked> = phase1.iter().step_by(3).collect();
    let revoked: Mutex<BTreeSet<String>> = Mutex::default();
    std::thread::scope(|s| {
        for c in [ca, cb] {
            let (tok, targets, revoked) = (&tok, &targets, &revoked);
            s.spawn(move || {
                for t in targets {
                    if revoke(&c, tok, &t.url) {
                        revoked.lock().unwrap().insert(t.url.clone());
                    }
                }
            });
        }
    });
    assert_eq!(revoked.lock().unwrap().len(), targets.len());

    // Phase 2: a batch in flight on B, singles and revocations on A, then SIGKILL B.
    let rows: Vec<Value> = (0..BATCH_ROWS)
        .map(|i| json!({"recipient": format!("did:example:cohort{i}"), "results": {"final-assessment": "77"}}))
        .collect();
    let batch_body = json!({"achievement": "df-101", "rows": rows});
    let batch_ack: Arc<Mutex<Option<Value>>> = Arc::default();
    let batch_thread = {
        let (tok, body, ack) = (tok.clone(), batch_body.clone(), batch_ack.clone());
        std::thread::spawn(move || {
            if let Ok(r) = cb.try_request(
                "POST",
                &format!("{INST}/credentials/batch"),
                &[
                    ("Authorization", &format!("Bearer {tok}")),
                    ("Content-Type", "application/json"),
                    ("Idempotency-Key", "cohort-on-b"),
                ],
                Some(&serde_json::to_vec(&body).unwrap()),
            ) {
                if r.status == 200 {
                    *ack.lock().unwrap() = Some(r.json());
                }
            }
        })
    };
    let stop = Arc::new(AtomicBool::new(false));
    let on_b: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let singles_on_b = {
        let (tok, stop, on_b) = (tok.clone(), stop.clone(), on_b.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                match issue_single(&cb, &tok, &format!("p2-b-{n}")) {
                    Some(got) => on_b.lock().unwrap().push(got),
                    None => break,
                }
                n += 1;
            }
        })
    };
    let mut phase2_a = Vec::new();
    let more_revoked: Vec<&Acked> = phase1.iter().skip(1).step_by(3).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut n = 0;
    while (on_b.lock().unwrap().len() < 10 || phase2_a.len() < 10) && Instant::now() < deadline {
        phase2_a.push(issue_single(&ca, &tok, &format!("p2-a-{n}")).expect("A issues"));
        if let Some(t) = more_revoked.get(n) {
            assert!(revoke(&ca, &tok, &t.url), "A revokes");
            revoked.lock().unwrap().insert(t.url.clone());
        }
        n += 1;
    }
    std::thread::sleep(Duration::from_millis(100));
    b.kill();
    stop.store(true, Ordering::SeqCst);
    singles_on_b.join().unwrap();
    batch_thread.join().unwrap();
    let on_b = on_b.lock().unwrap().clone();
    assert!(on_b.len() >= 10, "B acknowledged singles before the kill");
    eprintln!(
        "SIGKILL of B after {} singles acknowledged by B; B's batch acknowledged: {}",
        on_b.len(),
        batch_ack.lock().unwrap().is_some()
    );

    // A, the survivor, still issues and revokes.
    let after = issue_single(&ca, &tok, "after-kill").expect("A issues after B died");
    assert!(revoke(&ca, &tok, &after.url));
    revoked.lock().unwrap().insert(after.url.clone());

    // Every acknowledged credential, from either instance, is stored byte for byte.
    let all_acked: Vec<Acked> = phase1
        .iter()
        .chain(&phase2_a)
        .chain(&on_b)
        .chain([&after])
        .cloned()
        .collect();
    for c in &all_acked {
        let r = ca.get(&path_of(&c.url), None);
        assert_eq!(r.status, 200, "{} is stored", c.url);
        assert_eq!(
            r.body, c.bytes,
            "{}: stored bytes are the acknowledged bytes",
            c.url
        );
    }

    // B's batch is all there or not at all; retried on A, it completes without duplicates.
    let r = ca.send_json(
        "POST",
        &format!("{INST}/credentials/batch"),
        Some(&tok),
        &batch_body,
        &[("Idempotency-Key", "cohort-on-b")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let retry = r.json();
    assert_eq!(retry["failed"], 0);
    let existing = retry["existing"].as_u64().unwrap();
    if batch_ack.lock().unwrap().is_some() {
        assert_eq!(
            existing, BATCH_ROWS as u64,
            "the acknowledged batch is entirely there"
        );
    } else {
        assert!(existing == 0 || existing == BATCH_ROWS as u64, "{existing}");
    }

    // Every acknowledged revocation is set in the list A serves (lists by URL path).
    let mut lists: BTreeMap<String, Bitstring> = BTreeMap::new();
    for url in revoked.lock().unwrap().iter() {
        let body: Value = serde_json::from_slice(&ca.get(&path_of(url), None).body).unwrap();
        let entry = status_entries(&body)
            .into_iter()
            .map(Result::unwrap)
            .find(|e| e.purpose == "revocation")
            .expect("a revocation entry");
        let list_path = entry.list.strip_prefix(BASE).unwrap().to_owned();
        let bits = lists.entry(list_path.clone()).or_insert_with(|| {
            let list: Value = serde_json::from_slice(&ca.get(&list_path, None).body).unwrap();
            Bitstring::decode(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap()
        });
        assert_eq!(
            bits.get(entry.index),
            Some(true),
            "{url} is revoked in {list_path}"
        );
    }

    // No status index was handed out twice: every stored credential's entries are distinct.
    let mut seen: BTreeSet<(String, String, u64)> = BTreeSet::new();
    let mut stored = 0;
    let mut offset = 0;
    loop {
        let page = ca
            .get(
                &format!("{INST}/credentials?limit=100&offset={offset}"),
                Some(&tok),
            )
            .json();
        let items = page["credentials"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        for item in &items {
            let body: Value =
                serde_json::from_slice(&ca.get(&path_of(item["url"].as_str().unwrap()), None).body)
                    .unwrap();
            for e in status_entries(&body) {
                let e = e.unwrap();
                assert!(
                    seen.insert((e.list.clone(), e.purpose.clone(), e.index)),
                    "index {} of {} handed out twice",
                    e.index,
                    e.list
                );
            }
            stored += 1;
        }
        offset += items.len();
    }
    assert_eq!(stored as u64, page_total(&ca, &tok));
    assert!(stored >= all_acked.len() + BATCH_ROWS);
    eprintln!(
        "{stored} credentials stored, {} status entries all distinct, {} revocations checked",
        seen.len(),
        revoked.lock().unwrap().len()
    );
    a.stop();
}

fn page_total(c: &Client, tok: &str) -> u64 {
    c.get(&format!("{INST}/credentials?limit=1"), Some(tok))
        .json()["total"]
        .as_u64()
        .unwrap()
}
