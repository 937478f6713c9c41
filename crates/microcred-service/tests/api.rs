//! The service through HTTP: a real server on a loopback port, on each backend (a real
//! SQLite file; a PostgreSQL schema when `MICROCRED_TEST_POSTGRES` is set, see
//! `common/backend.rs`): every test runs as `sqlite::name` and `postgres::name`.
//!
//! - `issuance_lifecycle`: institution → key → achievement (versions) → single and batch
//!   (JSON, CSV) issuance → wallet fetch (exact bytes) → offline verification from the saved
//!   DID document → rotation (old still verifies, new uses the new key) → compromised key.
//! - `access_control`: no token / wrong scope / other institution → 401/403, nothing changes.
//! - `secrets_at_rest`: the database holds no plaintext signing key.
//! - `bad_input`: malformed, wrongly shaped, oversized, deeply nested → 4xx JSON.
//! - `idempotency`: retries return the same credential and issue nothing new.
//! - `vc_api`: `/credentials/issue`, `/credentials/verify`, `/presentations/verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN, MASTER_HEX};
use common::setup::{examples, institution_with_achievement, read_json, token};
use microcred_core::{KeyRing, Verdict, VerifyOptions};
use serde_json::{json, Value};

/// An institution with a token of all scopes and the DF-101 achievement; returns the token.
fn setup(c: &Client, slug: &str) -> String {
    institution_with_achievement(c, slug, ADMIN, &json!({}))
}

fn issue(c: &Client, slug: &str, token: &str, recipient: &str) -> Response {
    c.post(
        &format!("/v1/institutions/{slug}/credentials"),
        Some(token),
        &json!({"achievement": "df-101", "recipient": recipient, "results": {"final-assessment": 86, "status": "Completed"}}),
    )
}

fn count(c: &Client, slug: &str) -> u64 {
    let r = c.get(
        &format!("/v1/institutions/{slug}/credentials?limit=1"),
        Some(ADMIN),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["total"].as_u64().unwrap()
}

fn verify_offline(credential: &[u8], did_doc: &Value) -> Verdict {
    let mut ring = KeyRing::new();
    ring.add_controller_document(did_doc).unwrap();
    let now = time::OffsetDateTime::now_utc();
    microcred_core::verify(credential, &VerifyOptions::new(now, &ring)).verdict
}

fn proof_method(credential: &[u8]) -> String {
    let v: Value = serde_json::from_slice(credential).unwrap();
    v["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn issuance_lifecycle(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    assert_eq!(c.get("/healthz", None).json()["status"], "ok");
    let openapi = c.get("/openapi.json", None).json();
    assert!(openapi["paths"]["/credentials/{id}"].is_object());
    let tok = setup(c, "northbridge");
    let did = format!(
        "did:web:127.0.0.1%3A{}:institutions:northbridge",
        c.addr.port()
    );

    // Public: profile, DID document, catalogue, definition.
    let profile = c.get("/institutions/northbridge", None).json();
    assert_eq!(profile["id"], did.as_str());
    assert_eq!(profile["address"]["addressCountryCode"], "CA");
    let catalogue = c.get("/institutions/northbridge/achievements", None).json();
    assert_eq!(catalogue["achievements"][0]["slug"], "df-101");
    let def = c
        .get("/institutions/northbridge/achievements/df-101", None)
        .json();
    let v1_id = format!(
        "{}/institutions/northbridge/achievements/df-101/versions/1",
        s.base()
    );
    assert_eq!(def["id"], v1_id.as_str());

    // Single issuance; the wallet URL serves the stored bytes exactly.
    let r = issue(c, "northbridge", &tok, "amara@example.org");
    assert_eq!(r.status, 201, "{}", r.text());
    let issued = r.json();
    let url = issued["url"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location"), Some(url.as_str()));
    let path = url.strip_prefix(&s.base()).unwrap().to_owned();
    let fetched = c.request("GET", &path, &[("Accept", "application/vc+ld+json")], None);
    assert_eq!(fetched.status, 200);
    assert_eq!(
        fetched.header("content-type"),
        Some("application/vc+ld+json")
    );
    let embedded = {
        // The credential inside the issuance response is the same bytes.
        let text = r.text();
        let start = text.find("\"credential\":").unwrap() + "\"credential\":".len();
        text.as_bytes()[start..text.len() - 1].to_vec()
    };
    assert_eq!(fetched.body, embedded);
    assert_eq!(
        c.get(&path, None).header("content-type"),
        Some("application/json")
    );
    let cred: Value = fetched.json();
    assert_eq!(cred["id"], url.as_str());
    assert_eq!(cred["issuer"]["id"], did.as_str());
    assert!(cred["credentialSubject"]["identifier"][0]["identityHash"]
        .as_str()
        .unwrap()
        .starts_with("sha256$"));
    assert!(!fetched.text().contains("amara@example.org"));

    // Offline verification with only the saved DID document.
    let doc_v1 = c.get("/institutions/northbridge/did.json", None).json();
    assert_eq!(verify_offline(&fetched.body, &doc_v1), Verdict::Valid);
    assert_eq!(proof_method(&fetched.body), format!("{did}#key-1"));

    // Batch (JSON): per-row results, bad rows reported, the rest issued.
    let rows: Vec<Value> = (0..50)
        .map(|i| json!({"recipient": format!("did:example:learner{i}"), "results": {"final-assessment": "75"}}))
        .chain([json!({"recipient": "not a recipient"}), json!({"recipient": "x@example.org", "results": {"nope": 1}})])
        .collect();
    let r = c.post(
        "/v1/institutions/northbridge/credentials/batch",
        Some(&tok),
        &json!({"achievement": "df-101", "rows": rows}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = r.json();
    assert_eq!(b["issued"], 50);
    assert_eq!(b["failed"], 2);
    assert_eq!(b["results"][50]["status"], 422);
    assert!(b["results"][51]["error"].as_str().unwrap().contains("nope"));
    let batch_url = b["results"][7]["url"].as_str().unwrap();
    let one = c.get(batch_url.strip_prefix(&s.base()).unwrap(), None);
    assert_eq!(verify_offline(&one.body, &doc_v1), Verdict::Valid);

    // Batch (CSV).
    let csv = "recipient,result:final-assessment,result:status,evidence,activity_start\n\
               did:example:c1,91,Completed,https://portfolio.example/c1,2025-01-10T09:00:00Z\n\
               c2@example.org,64,Completed,,\n";
    let r = c.request(
        "POST",
        "/v1/institutions/northbridge/credentials/batch?achievement=df-101",
        &[
            ("Authorization", &format!("Bearer {tok}")),
            ("Content-Type", "text/csv"),
        ],
        Some(csv.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["issued"], 2);
    assert_eq!(count(c, "northbridge"), 53);

    // A changed definition makes version 2; earlier credentials keep version 1.
    let mut ach = read_json(&examples().join("achievements/df-101.json"));
    ach["description"] = json!("Updated description of the productivity tools micro-credential.");
    let r = c.send_json(
        "PUT",
        "/v1/institutions/northbridge/achievements/df-101",
        Some(&tok),
        &ach,
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["version"], 2);
    let r = c.send_json(
        "PUT",
        "/v1/institutions/northbridge/achievements/df-101",
        Some(&tok),
        &ach,
        &[],
    );
    assert_eq!(
        (r.status, r.json()["version"].as_i64()),
        (200, Some(2)),
        "unchanged: no new version"
    );
    let v2 = issue(c, "northbridge", &tok, "did:example:v2").json();
    assert!(v2["credential"]["credentialSubject"]["achievement"]["id"]
        .as_str()
        .unwrap()
        .ends_with("/versions/2"));
    assert_eq!(
        c.get(&path, None).json()["credentialSubject"]["achievement"]["id"],
        v1_id.as_str()
    );
    assert_eq!(
        c.get(
            "/institutions/northbridge/achievements/df-101/versions/1",
            None
        )
        .json()["id"],
        v1_id.as_str()
    );

    // Rotation: the old credential still verifies with the new DID document; new ones use key-2.
    let r = c.post(
        "/v1/institutions/northbridge/keys/rotate",
        Some(&tok),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let doc_v2 = c.get("/institutions/northbridge/did.json", None).json();
    assert_eq!(doc_v2["assertionMethod"].as_array().unwrap().len(), 2);
    assert_eq!(verify_offline(&fetched.body, &doc_v2), Verdict::Valid);
    let after = issue(c, "northbridge", &tok, "did:example:after-rotation");
    assert_eq!(after.status, 201, "{}", after.text());
    let after_path = after.json()["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&s.base())
        .unwrap()
        .to_owned();
    let after_body = c.get(&after_path, None).body;
    assert_eq!(proof_method(&after_body), format!("{did}#key-2"));
    assert_eq!(verify_offline(&after_body, &doc_v2), Verdict::Valid);
    assert_ne!(
        verify_offline(&after_body, &doc_v1),
        Verdict::Valid,
        "the old document does not know key-2"
    );

    // The active key cannot be marked compromised; a retired one can, and it leaves the DID document.
    let r = c.post(
        "/v1/institutions/northbridge/keys/compromised",
        Some(&tok),
        &json!({"id": format!("{did}#key-2")}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let r = c.post(
        "/v1/institutions/northbridge/keys/compromised",
        Some(&tok),
        &json!({"id": format!("{did}#key-1")}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let doc_v3 = c.get("/institutions/northbridge/did.json", None).json();
    assert!(!doc_v3.to_string().contains("#key-1"));
    assert_ne!(verify_offline(&fetched.body, &doc_v3), Verdict::Valid);

    // Revocation is visible publicly; the bytes stay as signed.
    let id = issued["id"].as_str().unwrap();
    let r = c.post(
        &format!("/v1/institutions/northbridge/credentials/{id}/revoke"),
        Some(&tok),
        &json!({"reason": "issued in error"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        c.get(&format!("/credentials/{id}/status"), None).json()["revoked"],
        true
    );
    assert_eq!(c.get(&path, None).body, fetched.body);
}

fn did_key_identity_for_small_setups(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let r = c.post(
        "/v1/institutions",
        Some(ADMIN),
        &json!({"slug": "tiny", "identity": "did:key", "profile": read_json(&examples().join("issuer-profile.json"))}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let did = r.json()["did"].as_str().unwrap().to_owned();
    assert!(did.starts_with("did:key:z6Mk"));
    let tok = token(c, "tiny", ADMIN, &["issue", "manage"]);
    let ach = read_json(&examples().join("achievements/df-101.json"));
    assert_eq!(
        c.send_json(
            "PUT",
            "/v1/institutions/tiny/achievements/df-101",
            Some(&tok),
            &ach,
            &[]
        )
        .status,
        201
    );
    let r = issue(c, "tiny", &tok, "did:example:someone");
    assert_eq!(r.status, 201, "{}", r.text());
    let body = c
        .get(
            r.json()["url"]
                .as_str()
                .unwrap()
                .strip_prefix(&s.base())
                .unwrap(),
            None,
        )
        .body;
    // did:key resolves by itself: no document needed.
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(
        microcred_core::verify(&body, &VerifyOptions::new(now, &KeyRing::new())).verdict,
        Verdict::Valid
    );
}

fn access_control(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let north = setup(c, "north");
    let south = setup(c, "south");
    let north_issue_only = token(c, "north", ADMIN, &["issue"]);
    let north_revoke_only = token(c, "north", ADMIN, &["revoke"]);
    let r = issue(c, "north", &north, "did:example:a");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let before = (count(c, "north"), count(c, "south"));
    let body = json!({"achievement": "df-101", "recipient": "did:example:x"});

    // No token, garbage token: 401 with a JSON message.
    let r = c.post("/v1/institutions/north/credentials", None, &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(r.error().contains("Authorization"));
    assert_eq!(
        c.post(
            "/v1/institutions/north/credentials",
            Some("mc_not-a-real-token"),
            &body
        )
        .status,
        401
    );
    assert_eq!(c.post("/v1/institutions", None, &json!({})).status, 401);
    assert_eq!(
        c.post("/credentials/issue", None, &json!({"credential": {}}))
            .status,
        401
    );

    // Another institution's token: 403 for issuing, reading private data, revoking, managing.
    assert_eq!(
        c.post("/v1/institutions/north/credentials", Some(&south), &body)
            .status,
        403
    );
    assert_eq!(
        c.post(
            "/v1/institutions/north/credentials/batch",
            Some(&south),
            &json!({"achievement": "df-101", "rows": [{"recipient": "did:example:y"}]})
        )
        .status,
        403
    );
    assert_eq!(
        c.get("/v1/institutions/north/credentials", Some(&south))
            .status,
        403
    );
    assert_eq!(
        c.get(
            &format!("/v1/institutions/north/credentials/{id}"),
            Some(&south)
        )
        .status,
        403
    );
    assert_eq!(c.get("/v1/institutions/north", Some(&south)).status, 403);
    let r = c.post(
        &format!("/v1/institutions/north/credentials/{id}/revoke"),
        Some(&south),
        &json!({}),
    );
    assert_eq!(r.status, 403);
    assert!(r.error().contains("another institution"));
    assert_eq!(
        c.post(
            "/v1/institutions/north/keys/rotate",
            Some(&south),
            &json!({})
        )
        .status,
        403
    );
    assert_eq!(
        c.post(
            "/v1/institutions/north/tokens",
            Some(&south),
            &json!({"scopes": ["issue"]})
        )
        .status,
        403
    );
    assert_eq!(
        c.send_json(
            "PUT",
            "/v1/institutions/north/achievements/df-101",
            Some(&south),
            &json!({}),
            &[]
        )
        .status,
        403
    );

    // Wrong scope within the right institution.
    assert_eq!(
        c.post(
            &format!("/v1/institutions/north/credentials/{id}/revoke"),
            Some(&north_issue_only),
            &json!({})
        )
        .status,
        403
    );
    assert_eq!(
        c.post(
            "/v1/institutions/north/credentials",
            Some(&north_revoke_only),
            &body
        )
        .status,
        403
    );
    assert_eq!(
        c.post(
            "/v1/institutions/north/keys/rotate",
            Some(&north_issue_only),
            &json!({})
        )
        .status,
        403
    );
    assert_eq!(
        c.post(
            "/v1/institutions",
            Some(&north),
            &json!({"slug": "x", "profile": {"name": "X"}})
        )
        .status,
        403
    );
    // The administrator manages but does not issue.
    assert_eq!(
        c.post("/v1/institutions/north/credentials", Some(ADMIN), &body)
            .status,
        403
    );

    // Nothing changed: no credential issued, none revoked, keys unchanged.
    assert_eq!((count(c, "north"), count(c, "south")), before);
    assert_eq!(
        c.get(&format!("/credentials/{id}/status"), None).json()["revoked"],
        false
    );
    assert_eq!(
        c.get("/v1/institutions/north/keys", Some(ADMIN)).json()["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A revoked token stops working at once.
    let tokens = c.get("/v1/institutions/north/tokens", Some(&north)).json();
    let issue_only_id = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scopes"] == json!(["issue"]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !tokens.to_string().contains(&north_issue_only),
        "tokens are never listed"
    );
    assert_eq!(
        c.request(
            "DELETE",
            &format!("/v1/institutions/north/tokens/{issue_only_id}"),
            &[("Authorization", &format!("Bearer {north}"))],
            None
        )
        .status,
        204
    );
    assert_eq!(
        c.post(
            "/v1/institutions/north/credentials",
            Some(&north_issue_only),
            &body
        )
        .status,
        401
    );
}

fn secrets_at_rest(backend: Backend) {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let s = TestServer::start_on(backend);
    let c = &s.client;
    setup(c, "north");
    c.post(
        "/v1/institutions/north/keys/rotate",
        Some(ADMIN),
        &json!({}),
    );
    // Read the sealed keys through the store and open them with the master key independently.
    let keys = s.db.store().keys("north").unwrap();
    assert_eq!(keys.len(), 2);
    let files = s.db.contents();
    assert!(!files.is_empty());
    let master: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&MASTER_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let cipher = chacha20poly1305::XChaCha20Poly1305::new_from_slice(&master).unwrap();
    for k in &keys {
        let microcred_service::KeySecret::Sealed(sealed) = &k.secret else {
            panic!("{} is not sealed", k.method_id);
        };
        let seed = cipher
            .decrypt(
                chacha20poly1305::XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: k.method_id.as_bytes(),
                },
            )
            .expect("sealed with XChaCha20-Poly1305 under the master key, the method id as AAD");
        let seed: [u8; 32] = seed.try_into().unwrap();
        let key = microcred_core::IssuerKey::from_seed(&seed).unwrap();
        assert_eq!(key.public_key().to_multibase(), k.public_multibase);
        let secret_mb = key.secret_multibase().unwrap();
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        for bytes in &files {
            for needle in [&seed[..], secret_mb.as_bytes(), hex.as_bytes()] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "plaintext key material in the database file"
                );
            }
        }
    }
    assert!(
        !files
            .iter()
            .any(|b| b.windows(ADMIN.len()).any(|w| w == ADMIN.as_bytes())),
        "the admin token is stored hashed"
    );
}

fn bad_input(backend: Backend) {
    let s = TestServer::start_on_with(backend, |c| c.limits.batch_rows = 100);
    let c = &s.client;
    let tok = setup(c, "north");
    let before = count(c, "north");
    let auth = format!("Bearer {tok}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let path = "/v1/institutions/north/credentials";

    let r = c.request("POST", path, &h, Some(b"{\"achievement\": \"df-101\", "));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.error().contains("not valid JSON"), "{}", r.error());
    let r = c.request(
        "POST",
        path,
        &h,
        Some(b"{\"achievement\": \"df-101\", \"recipent\": \"x\"}"),
    );
    assert_eq!(r.status, 422);
    assert!(r.error().contains("recipent"), "{}", r.error());
    let r = c.request(
        "POST",
        path,
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/plain"),
        ],
        Some(b"{}"),
    );
    assert_eq!(r.status, 415);
    assert!(r.json()["error"].is_string());
    let r = c.post(
        path,
        Some(&tok),
        &json!({"achievement": "nope", "recipient": "did:example:x"}),
    );
    assert_eq!(r.status, 404);
    let r = c.post(
        path,
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "did:example:x", "validFrom": "yesterday"}),
    );
    assert_eq!(r.status, 422);
    assert!(r.error().contains("validFrom"));
    let r = c.post(path, Some(&tok), &json!({"achievement": "df-101", "recipient": "did:example:x", "cryptosuite": "ecdsa-rdfc-2019"}));
    assert_eq!(r.status, 422);
    assert!(
        r.error().contains("eddsa-jcs-2022"),
        "the supported suites are listed: {}",
        r.error()
    );

    // Oversized: 2 MiB on an endpoint limited to 1 MiB.
    let big = format!(
        "{{\"achievement\": \"df-101\", \"recipient\": \"did:example:{}\"}}",
        "x".repeat(2 << 20)
    );
    let r = c.request("POST", path, &h, Some(big.as_bytes()));
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.error().contains("larger"), "{}", r.error());
    // Deeply nested: refused with a message, no stack overflow.
    let deep = format!(
        "{{\"achievement\": \"df-101\", \"recipient\": \"did:example:x\", \"evidence\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let r = c.request("POST", path, &h, Some(deep.as_bytes()));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.error().contains("recursion limit"), "{}", r.error());
    let r = c.request(
        "POST",
        "/credentials/verify",
        &[("Content-Type", "application/json")],
        Some(deep.as_bytes()),
    );
    assert_eq!(r.status, 400);
    // Too many rows in one batch.
    let rows: Vec<Value> = (0..101)
        .map(|i| json!({"recipient": format!("did:example:{i}")}))
        .collect();
    let r = c.post(
        "/v1/institutions/north/credentials/batch",
        Some(&tok),
        &json!({"achievement": "df-101", "rows": rows}),
    );
    assert_eq!(r.status, 413);
    assert!(r.error().contains("at most 100"));
    // An achievement with lint errors is refused with findings.
    let r = c.send_json(
        "PUT",
        "/v1/institutions/north/achievements/bad",
        Some(&tok),
        &json!({"name": "X", "achievementType": "MicroCredential"}),
        &[],
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["details"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "error"));
    // Unknown routes and methods answer JSON.
    assert_eq!(c.get("/nope", None).status, 404);
    assert!(c.get("/nope", None).json()["error"].is_string());
    assert_eq!(c.get("/credentials/not-a-uuid", None).status, 404);
    assert_eq!(count(c, "north"), before);
}

fn idempotency(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let tok = setup(c, "north");
    let path = "/v1/institutions/north/credentials";
    let body = json!({"achievement": "df-101", "recipient": "did:example:retry", "results": {"status": "Completed"}});
    let first = c.send_json(
        "POST",
        path,
        Some(&tok),
        &body,
        &[("Idempotency-Key", "enrol-2025-0001")],
    );
    assert_eq!(first.status, 201, "{}", first.text());
    let n = count(c, "north");
    let again = c.send_json(
        "POST",
        path,
        Some(&tok),
        &body,
        &[("Idempotency-Key", "enrol-2025-0001")],
    );
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "the same credential, byte for byte");
    assert_eq!(count(c, "north"), n, "nothing new issued");
    let other = json!({"achievement": "df-101", "recipient": "did:example:someone-else"});
    let r = c.send_json(
        "POST",
        path,
        Some(&tok),
        &other,
        &[("Idempotency-Key", "enrol-2025-0001")],
    );
    assert_eq!(r.status, 422);
    assert!(r.error().contains("Idempotency-Key"));

    // Concurrent retries of one request: one credential.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (c, tok, body) = (*c, tok.clone(), body.clone());
            std::thread::spawn(move || {
                c.send_json(
                    "POST",
                    path,
                    Some(&tok),
                    &body,
                    &[("Idempotency-Key", "race-1")],
                )
                .json()["id"]
                    .clone()
            })
        })
        .collect();
    let ids: std::collections::HashSet<String> = handles
        .into_iter()
        .map(|h| h.join().unwrap().as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(count(c, "north"), n + 1);

    // A batch retried with its key issues nothing new and returns the same ids.
    let rows: Vec<Value> = (0..20)
        .map(|i| json!({"recipient": format!("did:example:b{i}")}))
        .collect();
    let batch = json!({"achievement": "df-101", "rows": rows});
    let b1 = c
        .send_json(
            "POST",
            "/v1/institutions/north/credentials/batch",
            Some(&tok),
            &batch,
            &[("Idempotency-Key", "cohort-7")],
        )
        .json();
    assert_eq!(b1["issued"], 20);
    let b2 = c
        .send_json(
            "POST",
            "/v1/institutions/north/credentials/batch",
            Some(&tok),
            &batch,
            &[("Idempotency-Key", "cohort-7")],
        )
        .json();
    assert_eq!(
        (b2["issued"].as_u64(), b2["existing"].as_u64()),
        (Some(0), Some(20))
    );
    for i in 0..20 {
        assert_eq!(b1["results"][i]["id"], b2["results"][i]["id"]);
    }
    assert_eq!(count(c, "north"), n + 21);
}

fn vc_api(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let tok = setup(c, "north");
    let did = c.get("/institutions/north/did.json", None).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The VC API issues the credential it is given: `issuer` is required (400 without it).
    for issuer in [None, Some(json!({"type": ["Profile"], "name": "North"}))] {
        let mut no_issuer = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:holder"}
        });
        if let Some(i) = issuer {
            no_issuer["issuer"] = i;
        }
        let r = c.post(
            "/credentials/issue",
            Some(&tok),
            &json!({"credential": no_issuer}),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.error().contains(&did), "{}", r.text());
    }
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:holder"}
    });
    let r = c.post(
        "/credentials/issue",
        Some(&tok),
        &json!({"credential": unsigned, "options": {"cryptosuite": "eddsa-jcs-2022"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let vc = r.json()["verifiableCredential"].clone();
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    let location = r
        .header("location")
        .unwrap()
        .strip_prefix(&s.base())
        .unwrap()
        .to_owned();
    assert_eq!(c.get(&location, None).json(), vc);
    let r = c.post(
        "/credentials/issue",
        Some(&tok),
        &json!({"credential": unsigned, "options": {"cryptosuite": "bbs-2023"}}),
    );
    assert_eq!(r.status, 422);
    let supported = r.json()["details"]["supported"].clone();
    assert!(
        supported
            .as_array()
            .unwrap()
            .contains(&json!("eddsa-jcs-2022")),
        "{supported}"
    );
    assert!(r.error().contains("eddsa-jcs-2022"));
    let foreign = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": "did:example:someone-else", "credentialSubject": {"id": "did:example:h"}});
    assert_eq!(
        c.post(
            "/credentials/issue",
            Some(&tok),
            &json!({"credential": foreign})
        )
        .status,
        422
    );

    let r = c.post(
        "/credentials/verify",
        None,
        &json!({"verifiableCredential": vc}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["verified"], true);
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["id"] = json!("did:example:mallory");
    let r = c.post(
        "/credentials/verify",
        None,
        &json!({"verifiableCredential": tampered}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["verified"], false);
    let r = c.request(
        "POST",
        "/credentials/verify",
        &[("Content-Type", "application/json")],
        Some(br#"{"verifiableCredential": {"a": 1, "a": 2}}"#),
    );
    assert_eq!(r.status, 400);
    assert!(r.error().contains("duplicate member"));
    let vp = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": [vc]});
    let r = c.post(
        "/presentations/verify",
        None,
        &json!({"verifiablePresentation": vp}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["verified"], true);

    // A presentation signed by its holder (authentication, with the verifier's challenge).
    let holder = microcred_core::IssuerKey::from_seed(&[5u8; 32]).unwrap();
    let mut vp = json!({"@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"], "holder": holder.controller(), "verifiableCredential": [vc]});
    let created = time::OffsetDateTime::now_utc();
    let setup = microcred_core::ProofSetup::for_presentation(
        &holder,
        microcred_core::Cryptosuite::EddsaRdfc2022,
        created,
        vp.get("@context"),
        Some("c-8841"),
        Some("employer.example"),
        microcred_core::bundled_contexts(),
    )
    .unwrap();
    vp = setup
        .sign_owned(vp, &holder, microcred_core::bundled_contexts())
        .unwrap();
    let r = c.post(
        "/presentations/verify",
        None,
        &json!({"verifiablePresentation": vp, "options": {"challenge": "c-8841", "domain": "employer.example"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("signed by"));
    // A challenge the proof does not carry: not made for this request.
    let r = c.post(
        "/presentations/verify",
        None,
        &json!({"verifiablePresentation": vp, "options": {"challenge": "abc123"}}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    // Changed after the holder signed it.
    let mut changed = vp.clone();
    changed["holder"] = json!("did:example:mallory");
    assert_eq!(
        c.post(
            "/presentations/verify",
            None,
            &json!({"verifiablePresentation": changed})
        )
        .status,
        400
    );
    // A presentation without credentials or proof is well-formed (and binds nothing); one
    // whose first context is not VC 2.0, or without the type, is not.
    let r = c.post(
        "/presentations/verify",
        None,
        &json!({"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for bad in [
        json!({"type": ["VerifiablePresentation"]}),
        json!({"@context": ["https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}),
        json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Other"]}),
    ] {
        let r = c.post(
            "/presentations/verify",
            None,
            &json!({"verifiablePresentation": bad}),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }

    // VC 1.1 is issued with the Data Integrity context and without a status entry.
    let v1 = json!({"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
        "issuer": did, "issuanceDate": "2024-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:h"}});
    let r = c.post("/credentials/issue", Some(&tok), &json!({"credential": v1}));
    assert_eq!(r.status, 201, "{}", r.text());
    let vc1 = r.json()["verifiableCredential"].clone();
    assert_eq!(
        vc1["@context"][1],
        "https://w3id.org/security/data-integrity/v2"
    );
    assert!(vc1.get("credentialStatus").is_none());
    let r = c.post(
        "/credentials/verify",
        None,
        &json!({"verifiableCredential": vc1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // A credential that brings a status entry naming a list is refused: the service signs
    // only entries it allocated (see tests/issuance_integrity.rs).
    let own = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": did, "credentialSubject": {"id": "did:example:h"},
        "credentialStatus": {"id": "https://status.example/lists/1#7", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": "7", "statusListCredential": "https://status.example/lists/1"}});
    let r = c.post(
        "/credentials/issue",
        Some(&tok),
        &json!({"credential": own}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.error().contains("credential.credentialStatus.id"),
        "{}",
        r.text()
    );
    let mut own = own;
    own.as_object_mut().unwrap().remove("credentialStatus");
    // VC Data Model 2.0 rules: such objects need a `type`.
    let mut untyped = own.clone();
    untyped["termsOfUse"] = json!({"id": "https://example.org/policy"});
    let r = c.post(
        "/credentials/issue",
        Some(&tok),
        &json!({"credential": untyped}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("termsOfUse"));

    // VC 2.0 §5.3: a related resource's digest must match the resource. microcred holds the
    // W3C contexts byte for byte: a wrong digest of one is refused, the right one accepted.
    let v2_bytes = microcred_core::published_bytes("https://www.w3.org/ns/credentials/v2").unwrap();
    let sri = |bytes: &[u8]| {
        use base64::Engine as _;
        use sha2::Digest as _;
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
        )
    };
    for (digest, status) in [(sri(b"not the context"), 422), (sri(v2_bytes), 201)] {
        let mut related = own.clone();
        related.as_object_mut().unwrap().remove("credentialStatus");
        related["relatedResource"] =
            json!([{"id": "https://www.w3.org/ns/credentials/v2", "digestSRI": digest}]);
        let r = c.post(
            "/credentials/issue",
            Some(&tok),
            &json!({"credential": related}),
        );
        assert_eq!(r.status, status, "{}", r.text());
        if status == 422 {
            assert!(
                r.text().contains("relatedResource[0].digestSRI"),
                "{}",
                r.text()
            );
        }
    }
}

on_each_backend!(
    issuance_lifecycle,
    did_key_identity_for_small_setups,
    access_control,
    secrets_at_rest,
    bad_input,
    idempotency,
    vc_api,
);
