//! An institution whose keys live in a PKCS#11 token (SoftHSM2) issues credentials that verify
//! like any other, and the key never leaves the token.
//!
//! A fresh SoftHSM2 token in a temporary directory (`softhsm2-util --init-token`), a real
//! server with `[pkcs11]` on a loopback port: an institution with `keyStorage: pkcs11`
//! issues a single credential and a batch (verified by the core, status lists included);
//! the token's private key is sensitive and not extractable; the database holds no sealed
//! secret for it; rotating to a sealed key and back works; the same database without
//! `[pkcs11]` answers 503 for that institution's issuance and 422 for new token keys.
//!
//! The test runs on each backend (SQLite; PostgreSQL when `MICROCRED_TEST_POSTGRES` is set, see
//! `common/backend.rs`), one at a time, each with a token of its own.
//!
//! Without SoftHSM2 the test says it was skipped and passes, unless `CI=true`: then it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

use common::backend::{Backend, TestDatabase};
use common::http::{Client, Response};
use common::server::{test_config, Running, ADMIN};
use common::setup::{examples, read_json, token, ALL_SCOPES};
use common::status_list::fetch_list;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use microcred_core::{CheckKind, KeyRing, Outcome, StatusListCredential, Verdict, VerifyOptions};
use microcred_service::{Database, KeySecret, Pkcs11Config};
use serde_json::{json, Value};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const LABEL: &str = "microcred-test";
const PIN: &str = "246810";
const SO_PIN: &str = "97531135";

/// A server on `db`, with `pkcs11` as its token configuration.
fn start_server(db: &Database, pkcs11: Option<Pkcs11Config>) -> Running {
    let mut config = test_config(db.clone());
    config.pkcs11 = pkcs11;
    Running::spawn(config)
}

/// Whether SoftHSM2 is here; without it the test is skipped, except in CI.
fn softhsm2_installed() -> bool {
    let util = Command::new("softhsm2-util").arg("--version").output();
    if Path::new(MODULE).exists() && util.is_ok_and(|o| o.status.success()) {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("SoftHSM2 is not installed and CI=true: .ci/run installs it (apt-get install -y softhsm2)");
    }
    eprintln!("skipped: SoftHSM2 not installed (apt-get install softhsm2)");
    false
}

/// A new SoftHSM2 token labelled [`LABEL`] in `dir`; returns the configuration file to put in
/// `SOFTHSM2_CONF`.
fn new_token(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            LABEL,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "softhsm2-util --init-token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    conf
}

fn did_document(c: &Client, slug: &str) -> Value {
    let r = c.get(&format!("/institutions/{slug}/did.json"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The core's verdict on `credential` with the institution's DID document as it is now and
/// the status lists it names, as published (whose own proofs must verify for the status
/// check to pass). Every check but the status must pass.
fn verdict(c: &Client, slug: &str, credential: &[u8]) -> Verdict {
    let mut keys = KeyRing::new();
    keys.add_controller_document(&did_document(c, slug))
        .unwrap();
    let value: Value = serde_json::from_slice(credential).unwrap();
    let lists: Vec<StatusListCredential> = microcred_core::status_list_urls(&value)
        .iter()
        .map(|u| fetch_list(c, u))
        .collect();
    assert!(!lists.is_empty(), "the credential has a status list");
    let report = microcred_core::verify(
        credential,
        &VerifyOptions::new(time::OffsetDateTime::now_utc(), &keys).status_lists(&lists),
    );
    for check in &report.checks {
        let expected = match check.check {
            CheckKind::Trust => continue,
            _ => Outcome::Pass,
        };
        if check.check != CheckKind::Status {
            assert_eq!(check.outcome, expected, "{report:?}");
        } else {
            // A status that is known (the list verified): pass, or fail when revoked.
            assert_ne!(check.outcome, Outcome::Unknown, "{report:?}");
        }
    }
    report.verdict
}

/// The credential bytes embedded in an issuance response.
fn credential_of(r: &Response) -> Vec<u8> {
    assert_eq!(r.status, 201, "{}", r.text());
    serde_json::to_vec(&r.json()["credential"]).unwrap()
}

fn issue(c: &Client, slug: &str, tok: &str, recipient: &str) -> Response {
    c.post(
        &format!("/v1/institutions/{slug}/credentials"),
        Some(tok),
        &json!({"achievement": "df-101", "recipient": recipient, "results": {"final-assessment": 86, "status": "Completed"}}),
    )
}

fn proof_method(credential: &[u8]) -> String {
    let v: Value = serde_json::from_slice(credential).unwrap();
    v["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rotate(c: &Client, slug: &str, tok: &str, storage: &str) -> Response {
    c.post(
        &format!("/v1/institutions/{slug}/keys/rotate"),
        Some(tok),
        &json!({"keyStorage": storage}),
    )
}

/// A read-only session on the test token, logged in as the user (the server's own login is
/// shared: one process, one PKCS#11 library).
fn token_session() -> cryptoki::session::Session {
    let ctx = Pkcs11::new(MODULE).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("C_Initialize: {e}"),
    }
    let slot = ctx
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label().trim() == LABEL)
        .expect("the test token");
    let session = ctx.open_ro_session(slot).unwrap();
    match session.login(UserType::User, Some(&AuthPin::new(PIN.into()))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("C_Login: {e}"),
    }
    session
}

/// What the token holds for the private key labelled `label`: its `CKA_ID` and attributes,
/// read through cryptoki logged in as the user (the server's own login is shared: one
/// process, one PKCS#11 library).
fn token_private_key(label: &str) -> (Vec<u8>, Vec<Attribute>) {
    let session = token_session();
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap();
    assert_eq!(found.len(), 1, "one private key labelled {label}");
    let attrs = session
        .get_attributes(
            found[0],
            &[
                AttributeType::Id,
                AttributeType::Extractable,
                AttributeType::Sensitive,
                AttributeType::NeverExtractable,
                AttributeType::AlwaysSensitive,
                AttributeType::Private,
                AttributeType::Token,
                AttributeType::Sign,
            ],
        )
        .unwrap();
    // The secret itself cannot be read.
    if let Ok(value) = session.get_attributes(found[0], &[AttributeType::Value]) {
        assert!(
            !value.iter().any(|a| matches!(a, Attribute::Value(_))),
            "CKA_VALUE of the private key was readable"
        );
    }
    let id = attrs
        .iter()
        .find_map(|a| match a {
            Attribute::Id(id) => Some(id.clone()),
            _ => None,
        })
        .unwrap();
    (id, attrs)
}

/// How many objects (public and private keys) the token holds labelled `label`.
fn token_objects(label: &str) -> usize {
    let session = token_session();
    session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .unwrap()
        .len()
}

/// `storage`, whether `nonce` and `ciphertext` are NULL, and the token columns of a key row,
/// read from the database directly (the SQLite file, or the PostgreSQL schema).
fn key_row(
    db: &Database,
    method_id: &str,
) -> (String, bool, bool, Option<String>, Option<Vec<u8>>) {
    const ROW: &str =
        "SELECT storage, nonce IS NULL, ciphertext IS NULL, token_label, token_key_id FROM keys";
    if let Some(url) = db.postgres_url() {
        // The URL sets the search path to the test's schema (`::postgres`: the crate, not the
        // tests' module `postgres`).
        let mut c = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
        let r = c
            .query_one(&format!("{ROW} WHERE method_id = $1"), &[&method_id])
            .unwrap();
        return (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
    }
    let c = rusqlite::Connection::open_with_flags(
        db.sqlite_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    c.query_row(&format!("{ROW} WHERE method_id = ?1"), [method_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
}

/// Finalizes the PKCS#11 module when dropped (after the test's servers). SoftHSM2 reads
/// `SOFTHSM2_CONF` when initialized: should the library stay loaded (nothing guarantees it is
/// unloaded when the last context is dropped), the next test's server still initializes it
/// afresh and finds its own token. On a module not initialized it does nothing.
struct FinalizeModule;

impl Drop for FinalizeModule {
    fn drop(&mut self) {
        if let Ok(ctx) = Pkcs11::new(MODULE) {
            let _ = ctx.finalize();
        }
    }
}

fn institution_with_keys_in_softhsm2_issues_credentials_that_verify(backend: Backend) {
    if !softhsm2_installed() {
        return;
    }
    // One backend at a time: their servers would share this process's environment and its
    // one PKCS#11 library.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let _finalize = FinalizeModule;
    let dir = tempfile::tempdir().unwrap();
    let conf = new_token(dir.path());
    // No other thread reads the environment meanwhile (the only test in this binary, one
    // backend at a time). The server runs in this process, so SoftHSM2 (loaded by the server)
    // reads SOFTHSM2_CONF from here, and the server reads the PIN from the default variable.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    std::env::set_var("MICROCRED_PKCS11_PIN", PIN);
    let db = TestDatabase::new(backend);
    let server = start_server(&db.setting, Some(Pkcs11Config::for_token(MODULE, LABEL)));
    let c = &server.client;

    // An institution whose first key is made in the token.
    let profile = read_json(&examples().join("issuer-profile.json"));
    let r = c.post(
        "/v1/institutions",
        Some(ADMIN),
        &json!({"slug": "hsm", "profile": profile, "keyStorage": "pkcs11"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["keys"][0]["keyStorage"], "pkcs11");
    let did = created["did"].as_str().unwrap().to_owned();
    let key1 = format!("{did}#key-1");
    let tok = token(c, "hsm", ADMIN, ALL_SCOPES);
    let ach = read_json(&examples().join("achievements/df-101.json"));
    let r = c.send_json(
        "PUT",
        "/v1/institutions/hsm/achievements/df-101",
        Some(&tok),
        &ach,
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // One credential and a batch, signed in the token, verify like any other.
    let single = credential_of(&issue(c, "hsm", &tok, "amara@example.org"));
    assert_eq!(proof_method(&single), key1);
    assert_eq!(verdict(c, "hsm", &single), Verdict::Valid);
    let rows: Vec<Value> = (0..40)
        .map(|i| json!({"recipient": format!("did:example:learner{i}"), "results": {"final-assessment": "75"}}))
        .collect();
    let r = c.post(
        "/v1/institutions/hsm/credentials/batch",
        Some(&tok),
        &json!({"achievement": "df-101", "rows": rows}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let batch = r.json();
    assert_eq!(batch["issued"], 40, "{batch}");
    let mut batch_credentials = Vec::new();
    for row in batch["results"].as_array().unwrap() {
        let url = row["url"].as_str().unwrap();
        let fetched = c.get(&common::status_list::path_of(url), None);
        assert_eq!(fetched.status, 200);
        assert_eq!(proof_method(&fetched.body), key1);
        batch_credentials.push(fetched.body);
    }
    for credential in [&batch_credentials[0], &batch_credentials[39]] {
        assert_eq!(verdict(c, "hsm", credential), Verdict::Valid);
    }
    // A revocation is signed into the status list by the token's key, and verifies so.
    let id = serde_json::from_slice::<Value>(&batch_credentials[1]).unwrap()["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let r = c.post(
        &format!("/v1/institutions/hsm/credentials/{id}/revoke"),
        Some(&tok),
        &json!({"reason": "test"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        verdict(c, "hsm", &batch_credentials[1]),
        Verdict::Invalid,
        "revoked, by a list the token signed"
    );

    // The private key is in the token, sensitive and never extractable.
    let (key_id, attrs) = token_private_key("microcred:hsm:1");
    for expected in [
        Attribute::Extractable(false),
        Attribute::Sensitive(true),
        Attribute::NeverExtractable(true),
        Attribute::AlwaysSensitive(true),
        Attribute::Private(true),
        Attribute::Token(true),
        Attribute::Sign(true),
    ] {
        assert!(attrs.contains(&expected), "{expected:?} in {attrs:?}");
    }
    assert_eq!(key_id.len(), 16, "a random 16-byte CKA_ID");

    // The database has no sealed secret for it: only the token and the key's CKA_ID.
    let (storage, no_nonce, no_ciphertext, label, stored_id) = key_row(&db.setting, &key1);
    assert_eq!(storage, "pkcs11");
    assert!(no_nonce && no_ciphertext);
    assert_eq!(label.as_deref(), Some(LABEL));
    assert_eq!(stored_id.as_deref(), Some(key_id.as_slice()));
    {
        let keys = db.store().keys("hsm").unwrap();
        assert_eq!(
            keys[0].secret,
            KeySecret::Pkcs11 {
                token: LABEL.into(),
                key_id: key_id.clone()
            }
        );
    }

    // Rotating to a sealed key and back: every key signs, and what each signed verifies
    // with the DID document of the end.
    let r = rotate(c, "hsm", &tok, "sealed");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["active"]["keyStorage"], "sealed");
    let sealed = credential_of(&issue(c, "hsm", &tok, "b@example.org"));
    assert_eq!(proof_method(&sealed), format!("{did}#key-2"));
    let (storage, no_nonce, no_ciphertext, label, _) =
        key_row(&db.setting, &format!("{did}#key-2"));
    assert_eq!(storage, "sealed");
    assert!(!no_nonce && !no_ciphertext && label.is_none());
    let r = rotate(c, "hsm", &tok, "pkcs11");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["active"]["keyStorage"], "pkcs11");
    let back = credential_of(&issue(c, "hsm", &tok, "c@example.org"));
    assert_eq!(proof_method(&back), format!("{did}#key-3"));
    let (key3_id, _) = token_private_key("microcred:hsm:3");
    assert_ne!(key3_id, key_id);
    let doc = did_document(c, "hsm");
    assert_eq!(doc["assertionMethod"].as_array().unwrap().len(), 3);
    for credential in [&single, &batch_credentials[0], &sealed, &back] {
        assert_eq!(verdict(c, "hsm", credential), Verdict::Valid);
    }
    // A rotation without a body still makes a sealed key (as before keyStorage existed).
    let r = c.request(
        "POST",
        "/v1/institutions/hsm/keys/rotate",
        &[("Authorization", &format!("Bearer {tok}"))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["active"]["keyStorage"], "sealed");
    let r = rotate(c, "hsm", &tok, "pkcs11");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = rotate(c, "hsm", &tok, "vault");
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("keyStorage"), "{}", r.error());

    // Eight requests creating the same institution at once, each generating its key in the
    // token before the database decides: one institution, and the losers' key pairs are
    // destroyed, not left in the token.
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let r = c.post(
                        "/v1/institutions",
                        Some(ADMIN),
                        &json!({"slug": "race", "profile": profile, "keyStorage": "pkcs11"}),
                    );
                    assert_ne!(r.status, 503, "{}", r.text());
                    r.status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&st| st == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&st| st == 201 || st == 409),
        "{statuses:?}"
    );
    assert_eq!(
        token_objects("microcred:race:1"),
        2,
        "one key pair: {statuses:?}"
    );

    // A retired token key marked compromised loses its private half in the token (its public
    // half stays, as in the DID document's history).
    assert_eq!(token_objects("microcred:hsm:3"), 2);
    let r = c.post(
        "/v1/institutions/hsm/keys/compromised",
        Some(&tok),
        &json!({"id": format!("{did}#key-3")}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().get("note").is_none(), "{}", r.text());
    assert_eq!(
        token_objects("microcred:hsm:3"),
        1,
        "only the public key is left"
    );
    let (race_id, _) = token_private_key("microcred:race:1");
    let stored = db.store().keys("race").unwrap();
    assert_eq!(
        stored[0].secret,
        KeySecret::Pkcs11 {
            token: LABEL.into(),
            key_id: race_id
        }
    );
    drop(server);

    // The same database without [pkcs11]: the institution whose active key is in the token
    // cannot issue (503 naming what to configure); nobody can ask for a token key (422);
    // sealed institutions are unaffected.
    let server = start_server(&db.setting, None);
    let c = &server.client;
    let r = issue(c, "hsm", &tok, "d@example.org");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.error().contains("[pkcs11]"), "{}", r.error());
    assert!(r.error().contains(LABEL), "{}", r.error());
    let r = rotate(c, "hsm", &tok, "pkcs11");
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("[pkcs11]"), "{}", r.error());
    let r = c.post(
        "/v1/institutions",
        Some(ADMIN),
        &json!({"slug": "other", "profile": profile, "keyStorage": "pkcs11"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let r = c.post(
        "/v1/institutions",
        Some(ADMIN),
        &json!({"slug": "other", "profile": profile}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // What the token signed still verifies: verification needs only public keys. Its status
    // list cannot be signed again without the token: 503, saying so.
    let mut keys = KeyRing::new();
    keys.add_controller_document(&did_document(c, "hsm"))
        .unwrap();
    let report = microcred_core::verify(
        &single,
        &VerifyOptions::new(time::OffsetDateTime::now_utc(), &keys),
    );
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
    let value: Value = serde_json::from_slice(&single).unwrap();
    let list = &microcred_core::status_list_urls(&value)[0];
    let r = c.get(&common::status_list::path_of(list), None);
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.error().contains("[pkcs11]"), "{}", r.error());
}

on_each_backend!(institution_with_keys_in_softhsm2_issues_credentials_that_verify);
