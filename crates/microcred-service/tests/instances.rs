//! Two service instances on one database: what is changed through one is seen by the other
//! within the bounds documented in `cache.rs` ([`TOKEN_CACHE_TTL`], [`KEY_CACHE_TTL`],
//! [`TEMPLATE_CACHE_TTL`]), and at once where the rule is "read on every request" (status
//! list bits, the latest achievement version).
//!
//! Both instances run in this process on one database, on each backend: one SQLite file (WAL,
//! so each has its own connections and sees the other's commits), and one PostgreSQL schema
//! when `MICROCRED_TEST_POSTGRES` is set (see `common/backend.rs`). The point is the cache
//! rules, the database being shared. And an offer to a wallet redeemed through both at the
//! same moment hands out one access token, never two.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::backend::{Backend, TestDatabase};
use common::http::{Client, Response};
use common::server::{test_config, Running, ADMIN};
use common::setup::{examples, institution_with_achievement, read_json, token};
use common::status_list::{entries, fetch_list, path_of};
use microcred_core::{KeyRing, Verdict, VerifyOptions};
use microcred_service::{Database, KEY_CACHE_TTL, TEMPLATE_CACHE_TTL, TOKEN_CACHE_TTL};
use serde_json::{json, Value};

/// One public base URL for both instances, as behind a load balancer: every id either mints
/// must be the same.
const BASE: &str = "http://instances.test";

/// Scheduling slack on top of a bound: a request *started* later than a change's
/// acknowledgement + bound + this must see the change (however long it then takes).
const SLACK: Duration = Duration::from_secs(1);

/// How often the second instance is asked again.
const POLL: Duration = Duration::from_millis(100);

/// A service instance on `db` with the shared base URL; stops (and drains) on drop.
fn instance(db: &Database) -> Running {
    let mut config = test_config(db.clone());
    config.base_url = Some(BASE.into());
    Running::spawn(config)
}

fn issue(c: &Client, token: &str, recipient: &str) -> Response {
    c.post(
        "/v1/institutions/north/credentials",
        Some(token),
        &json!({"achievement": "df-101", "recipient": recipient, "results": {"status": "Completed"}}),
    )
}

/// The signed credential of a successful issuance.
fn issued(r: &Response) -> Value {
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["credential"].clone()
}

fn proof_method(doc: &Value) -> String {
    doc["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Asks `probe` again every [`POLL`] until it answers `true`. Fails if a probe that
/// started later than `changed + bound + SLACK` still answered `false` (the instance then
/// showed a state older than the bound allows). Returns how long it took.
fn seen_within(
    what: &str,
    changed: Instant,
    bound: Duration,
    mut probe: impl FnMut() -> bool,
) -> Duration {
    loop {
        let started = Instant::now();
        if probe() {
            return started.duration_since(changed);
        }
        let late = started.duration_since(changed);
        assert!(
            late <= bound + SLACK,
            "{what}: still not seen {late:?} after the change (bound {bound:?})"
        );
        std::thread::sleep(POLL);
    }
}

fn the_second_instance_sees_changes_within_the_documented_bounds(backend: Backend) {
    let db = TestDatabase::new(backend);
    let one = instance(&db.setting);
    let two = instance(&db.setting);
    let (a, b) = (&one.client, &two.client);

    // Set up through instance 1; use everything through instance 2 so its caches hold it.
    let tok = institution_with_achievement(a, "north", ADMIN, &json!({}));
    let victim = token(a, "north", ADMIN, &["issue"]);
    let tokens = a.get("/v1/institutions/north/tokens", Some(&tok)).json();
    let victim_id = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scopes"] == json!(["issue"]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let did = a.get("/v1/institutions/north", Some(ADMIN)).json()["did"]
        .as_str()
        .unwrap()
        .to_owned();
    let key1 = format!("{did}#key-1");
    let key2 = format!("{did}#key-2");

    let first = issued(&issue(b, &victim, "did:example:first"));
    assert_eq!(proof_method(&first), key1);
    let first_id = first["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let rev = entries(&first)["revocation"].clone();
    let list_url = rev.list.clone();
    let list = b.get(&path_of(&list_url), None);
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(proof_method(&list.json()), key1);
    assert!(!fetch_list(b, &list_url)
        .bitstring()
        .unwrap()
        .get(rev.index)
        .unwrap());
    assert_eq!(
        b.get("/v1/institutions/north/credentials?limit=1", Some(&victim))
            .status,
        200
    );
    let old_name = issued(&issue(b, &tok, "did:example:warm"))["credentialSubject"]["achievement"]
        ["name"]
        .as_str()
        .unwrap()
        .to_owned();

    // Changes through instance 1, each acknowledged before the next.
    let r = a.request(
        "DELETE",
        &format!("/v1/institutions/north/tokens/{victim_id}"),
        &[("Authorization", &format!("Bearer {tok}"))],
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let token_revoked = Instant::now();

    let r = a.post("/v1/institutions/north/keys/rotate", Some(&tok), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = a.post(
        "/v1/institutions/north/keys/compromised",
        Some(&tok),
        &json!({"id": key1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let key_changed = Instant::now();

    let mut profile = read_json(&examples().join("issuer-profile.json"));
    profile["name"] = json!("Northbridge College (renamed)");
    let r = a.send_json(
        "PUT",
        "/v1/institutions/north/profile",
        Some(&tok),
        &profile,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let profile_changed = Instant::now();

    let mut achievement = read_json(&examples().join("achievements/df-101.json"));
    achievement["name"] = json!("Digital Fluency 1: Productivity Tools, second edition");
    let r = a.send_json(
        "PUT",
        "/v1/institutions/north/achievements/df-101",
        Some(&tok),
        &achievement,
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());

    let r = a.post(
        &format!("/v1/institutions/north/credentials/{first_id}/revoke"),
        Some(&tok),
        &json!({"reason": "issued in error"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // At once: a list's bits (its version is read on every request) and the latest
    // achievement version (read on every issuance).
    let bits = fetch_list(b, &list_url).bitstring().unwrap().clone();
    assert!(
        bits.get(rev.index).unwrap(),
        "the revocation is in instance 2's list at once"
    );
    let now_issued = issued(&issue(b, &tok, "did:example:new-version"));
    let name = now_issued["credentialSubject"]["achievement"]["name"]
        .as_str()
        .unwrap();
    assert_ne!(name, old_name);
    assert_eq!(
        name,
        "Digital Fluency 1: Productivity Tools, second edition"
    );

    // Within the bounds.
    let took = seen_within("revoked token", token_revoked, TOKEN_CACHE_TTL, || match b
        .get("/v1/institutions/north/credentials?limit=1", Some(&victim))
        .status
    {
        200 => false,
        401 => true,
        other => panic!("unexpected {other}"),
    });
    eprintln!("revoked token refused by instance 2 after {took:?}");

    let mut latest = Value::Null;
    let took = seen_within(
        "rotated key in issuance",
        key_changed,
        KEY_CACHE_TTL.max(TEMPLATE_CACHE_TTL),
        || {
            latest = issued(&issue(b, &tok, "did:example:after-rotation"));
            proof_method(&latest) == key2
        },
    );
    eprintln!("instance 2 issued with the new key after {took:?}");
    let doc = b.get("/institutions/north/did.json", None).json();
    let mut ring = KeyRing::new();
    ring.add_controller_document(&doc).unwrap();
    let bytes = serde_json::to_vec(&latest).unwrap();
    let verdict = microcred_core::verify(
        &bytes,
        &VerifyOptions::new(time::OffsetDateTime::now_utc(), &ring),
    )
    .verdict;
    assert_eq!(verdict, Verdict::Valid);

    let took = seen_within(
        "changed profile in issuance",
        profile_changed,
        TEMPLATE_CACHE_TTL,
        || {
            let c = issued(&issue(b, &tok, "did:example:after-profile"));
            c["issuer"]["name"] == "Northbridge College (renamed)"
        },
    );
    eprintln!("instance 2 issued with the new profile after {took:?}");

    let took = seen_within(
        "status list re-signed with the new key",
        key_changed,
        KEY_CACHE_TTL,
        || {
            let r = b.get(&path_of(&list_url), None);
            assert_eq!(r.status, 200, "{}", r.text());
            proof_method(&r.json()) == key2
        },
    );
    eprintln!("instance 2 re-signed its status list after {took:?}");
    let bits = fetch_list(b, &list_url).bitstring().unwrap().clone();
    assert!(bits.get(rev.index).unwrap());

    // A credential's bytes never change: both instances serve the same.
    let path = format!("/credentials/{first_id}");
    assert_eq!(a.get(&path, None).body, b.get(&path, None).body);
}

/// `application/x-www-form-urlencoded` POST.
fn form(c: &Client, path: &str, body: &str) -> Response {
    c.request(
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.as_bytes()),
    )
}

/// One offer, redeemed at the same moment through both instances, many times over: one
/// access token is handed out, never two; and its credential is issued once, whichever
/// instance the wallet asks (with fresh nonces from either).
fn an_offer_is_redeemed_once_across_instances(backend: Backend) {
    let db = TestDatabase::new(backend);
    let one = instance(&db.setting);
    let two = instance(&db.setting);
    let tok = institution_with_achievement(&one.client, "north", ADMIN, &json!({}));
    let r = one.client.post(
        "/v1/institutions/north/offers",
        Some(&tok),
        &json!({"credentials": [{"achievement": "df-101", "recipient": "race@example.org"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let uri = r.json()["credentialOfferUri"].as_str().unwrap().to_owned();
    let offer = two.client.get(uri.strip_prefix(BASE).unwrap(), None).json();
    let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}"
    );
    let clients = [one.client, two.client];
    let answers: Vec<Response> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let c = &clients[i % 2];
                let body = &body;
                s.spawn(move || form(c, "/institutions/north/oid4vci/token", body))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let granted: Vec<&Response> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        granted.len(),
        1,
        "{:?}",
        answers
            .iter()
            .map(|r| (r.status, r.text()))
            .collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        // The loser of a race is told to retry (409), or finds the code used (invalid_grant).
        assert!(
            r.status == 409 || r.json()["error"] == "invalid_grant",
            "{} {}",
            r.status,
            r.text()
        );
    }
    let access = granted[0].json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The token works on the other instance too (state is in the database).
    let r = two.client.request(
        "POST",
        "/institutions/north/oid4vci/credential",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &format!("Bearer {access}")),
        ],
        Some(b"{\"credential_configuration_id\": \"df-101\"}"),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_proof", "{}", r.text());
    let listed = one
        .client
        .get("/v1/institutions/north/offers", Some(&tok))
        .json();
    assert_eq!(listed["offers"][0]["state"], "redeemed");
    let redeemed = listed["offers"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"].as_str().unwrap().contains("redeemed"))
        .count();
    assert_eq!(redeemed, 1, "{listed}");
}

on_each_backend!(
    the_second_instance_sees_changes_within_the_documented_bounds,
    an_offer_is_redeemed_once_across_instances,
);
