//! Issuance owns what it allocates: nothing a caller sends can touch another credential.
//! A real server on a loopback port, on each backend (SQLite; PostgreSQL when
//! `MICROCRED_TEST_POSTGRES` is set, see `common/backend.rs`).
//!
//! - `status_entries_of_another_credential_cannot_be_borrowed`: issuing Y with X's status
//!   entries is refused (VC API, `/v1` single and batch); a Y that asks for status gets its
//!   own; revoking, suspending and reinstating Y never changes X's bits.
//! - `caller_ids_are_fetchable_and_unique`: `urn:uuid:` and own-URL ids become the storage
//!   id (fetchable), a second use is 409 (also for concurrent requests), idempotent retries
//!   still replay, other ids are 422.
//! - `bodies_are_strict_and_fields_typed`: duplicate member names are 400 on every JSON
//!   route; unknown or wrong `options` and wrongly typed Open Badges fields are 422 naming
//!   the path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN};
use common::setup::{examples, institution_with_achievement, read_json};
use common::status_list::{bits, entries};

use microcred_core::StatusEntry;
use serde_json::{json, Value};

/// Institution `slug` (suspension on or off) with DF-101; returns (token, DID).
fn institution(c: &Client, slug: &str, suspension: bool) -> (String, String) {
    let extra = json!({"suspension": suspension});
    let token = institution_with_achievement(c, slug, ADMIN, &extra);
    let did = c
        .get(&format!("/institutions/{slug}/did.json"), None)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, did)
}

fn vc(did: &str, subject: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": subject}
    })
}

fn vc_issue(c: &Client, tok: &str, body: &Value) -> Response {
    c.post("/credentials/issue", Some(tok), body)
}

/// [`vc_issue`] under an `Idempotency-Key`.
fn vc_issue_keyed(c: &Client, tok: &str, body: &Value, key: &str) -> Response {
    c.send_json(
        "POST",
        "/credentials/issue",
        Some(tok),
        body,
        &[("Idempotency-Key", key)],
    )
}

/// The storage id (last segment of `Location`) of an issued credential.
fn stored_id(r: &Response) -> String {
    r.header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

fn bit(c: &Client, e: &StatusEntry) -> bool {
    bits(c, &e.list).get(e.index).unwrap()
}

fn change(c: &Client, tok: &str, id: &str, action: &str) -> Response {
    c.post(
        &format!("/v1/institutions/north/credentials/{id}/{action}"),
        Some(tok),
        &json!({"reason": "test"}),
    )
}

fn status_entries_of_another_credential_cannot_be_borrowed(backend: Backend) {
    let server = TestServer::start_on(backend);
    let c = &server.client;
    let (tok, did) = institution(c, "north", true);

    // X, issued normally: a revocation and a suspension entry.
    let r = vc_issue(c, &tok, &json!({"credential": vc(&did, "did:example:x")}));
    assert_eq!(r.status, 201, "{}", r.text());
    let x = r.json()["verifiableCredential"].clone();
    let x_id = stored_id(&r);
    let xe = entries(&x);
    assert_eq!(xe.len(), 2, "{x}");
    let (x_rev, x_sus) = (&xe["revocation"], &xe["suspension"]);

    // Y carrying X's entries, in every form: refused, naming the member.
    let x_status = x["credentialStatus"].clone();
    let stolen_index = json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": x_rev.index.to_string(), "statusListCredential": x_rev.list});
    for (status, path) in [
        (x_status.clone(), "credential.credentialStatus[0].id"),
        (x_status[1].clone(), "credential.credentialStatus.id"),
        (
            stolen_index.clone(),
            "credential.credentialStatus.statusListIndex",
        ),
        (
            json!([{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, stolen_index]),
            "credential.credentialStatus[1].statusListIndex",
        ),
        // Someone else's list: also not the service's to sign.
        (
            json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "7", "statusListCredential": "https://status.example/lists/1"}),
            "credential.credentialStatus.statusListIndex",
        ),
        (
            json!({"type": "StatusList2021Entry", "statusPurpose": "revocation",
            "statusListIndex": x_rev.index.to_string(), "statusListCredential": x_rev.list}),
            "credential.credentialStatus.type",
        ),
        // Another status method naming one of this service's lists.
        (
            json!({"type": "ExampleStatus", "id": x_rev.list}),
            "credential.credentialStatus.id",
        ),
        (
            json!({"type": "ExampleStatus", "registry": x_rev.list}),
            "credential.credentialStatus.registry",
        ),
        (
            json!({"type": "BitstringStatusListEntry", "statusPurpose": "message"}),
            "credential.credentialStatus.statusPurpose",
        ),
        (
            json!([{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]),
            "credential.credentialStatus[1]",
        ),
        (
            json!("https://example.org/status"),
            "credential.credentialStatus",
        ),
    ] {
        let mut y = vc(&did, "did:example:y");
        y["credentialStatus"] = status.clone();
        let r = vc_issue(c, &tok, &json!({"credential": y}));
        assert_eq!(r.status, 422, "{status}: {}", r.text());
        assert!(r.error().contains(path), "{status}: {}", r.text());
    }
    // The institution's own API has no way to send a status or an id at all.
    let r = c.post(
        "/v1/institutions/north/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "did:example:y", "credentialStatus": x_status}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("credentialStatus"), "{}", r.text());
    let r = c.post(
        "/v1/institutions/north/credentials/batch",
        Some(&tok),
        &json!({"achievement": "df-101", "rows": [
            {"recipient": "did:example:y", "credentialStatus": x_status},
            {"recipient": "did:example:y", "id": "urn:uuid:0b7c1e2a-6a43-4b6e-9a55-7d1f1f6f3a11"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["failed"], 2, "{}", r.text());

    // Y asking for a revocation entry gets a fresh one of its own (and only that).
    let mut y = vc(&did, "did:example:y");
    y["credentialStatus"] =
        json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation"});
    let r = vc_issue(c, &tok, &json!({"credential": y}));
    assert_eq!(r.status, 201, "{}", r.text());
    let y = r.json()["verifiableCredential"].clone();
    let y_id = stored_id(&r);
    assert!(y["credentialStatus"].is_object(), "{y}");
    let ye = entries(&y);
    let y_rev = &ye["revocation"];
    assert!(!ye.contains_key("suspension"));
    assert_ne!((&y_rev.list, y_rev.index), (&x_rev.list, x_rev.index));
    // Z, issued normally, has both entries of its own.
    let r = vc_issue(c, &tok, &json!({"credential": vc(&did, "did:example:z")}));
    assert_eq!(r.status, 201, "{}", r.text());
    let z = r.json()["verifiableCredential"].clone();
    let z_id = stored_id(&r);
    let ze = entries(&z);
    assert_ne!(ze["suspension"].index, x_sus.index);
    // Another status method is kept, and the institution's own entries are added to it.
    let mut w = vc(&did, "did:example:w");
    w["@context"] = json!(["https://www.w3.org/ns/credentials/v2",
        {"CredentialStatusList2017": "https://example.org/examples#CredentialStatusList2017"}]);
    w["credentialStatus"] = json!({"id": "did:example:status", "type": "CredentialStatusList2017"});
    let r = vc_issue(c, &tok, &json!({"credential": w}));
    assert_eq!(r.status, 201, "{}", r.text());
    let w = r.json()["verifiableCredential"]["credentialStatus"].clone();
    assert_eq!(w.as_array().map(Vec::len), Some(3), "{w}");
    assert_eq!(w[0]["type"], "CredentialStatusList2017");

    // Revoke Y: its bit only.
    assert!(!bit(c, x_rev) && !bit(c, y_rev));
    let r = change(c, &tok, &y_id, "revoke");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(bit(c, y_rev), "Y is revoked");
    assert!(!bit(c, x_rev), "X's revocation bit is untouched");
    assert!(!bit(c, &ze["revocation"]));
    // Y has no suspension entry: suspending it cannot reach X's.
    assert_eq!(change(c, &tok, &y_id, "suspend").status, 409);
    // Suspend X, then reinstate Z: X stays suspended; reinstate X: clear.
    assert_eq!(change(c, &tok, &x_id, "suspend").status, 200);
    assert!(bit(c, x_sus));
    assert_eq!(change(c, &tok, &z_id, "suspend").status, 200);
    assert_eq!(change(c, &tok, &z_id, "reinstate").status, 200);
    assert!(bit(c, x_sus), "reinstating Z leaves X suspended");
    assert!(!bit(c, &ze["suspension"]));
    assert_eq!(change(c, &tok, &x_id, "reinstate").status, 200);
    assert!(!bit(c, x_sus) && !bit(c, x_rev));
    // The published lists hold exactly the bits of the credentials changed.
    assert_eq!(
        bits(c, &y_rev.list).set_indexes().collect::<Vec<_>>(),
        [y_rev.index]
    );
}

fn caller_ids_are_fetchable_and_unique(backend: Backend) {
    let server = TestServer::start_on(backend);
    let c = &server.client;
    let base = format!("http://{}", c.addr);
    let (tok, did) = institution(c, "north", false);
    let count = || {
        c.get("/v1/institutions/north/credentials?limit=1", Some(&tok))
            .json()["total"]
            .as_u64()
            .unwrap()
    };

    // urn:uuid (any version, here v4 as the W3C suites send): the UUID is its storage id.
    let uuid = "3f1b7c52-9d0e-4a8b-b6f1-2c4d5e6f7a80";
    let mut cred = vc(&did, "did:example:a");
    cred["id"] = json!(format!("urn:uuid:{uuid}"));
    let r = vc_issue(c, &tok, &json!({"credential": cred}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("{base}/credentials/{uuid}").as_str())
    );
    let issued = r.json()["verifiableCredential"].clone();
    assert_eq!(issued["id"], format!("urn:uuid:{uuid}"));
    let fetched = c.get(&format!("/credentials/{uuid}"), None);
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), issued);
    let n = count();
    // The same id again, even for another subject: 409, naming credential.id.
    let mut again = cred.clone();
    again["credentialSubject"]["id"] = json!("did:example:b");
    let r = vc_issue(c, &tok, &json!({"credential": again}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.error().contains("credential.id"), "{}", r.text());
    // Through options.credentialId too.
    let r = vc_issue(
        c,
        &tok,
        &json!({"credential": vc(&did, "did:example:b"), "options": {"credentialId": format!("urn:uuid:{uuid}")}}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.error().contains("options.credentialId"), "{}", r.text());
    assert_eq!(count(), n);

    // This service's own URL form.
    let own = "0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let mut cred2 = vc(&did, "did:example:c");
    cred2["id"] = json!(format!("{base}/credentials/{own}"));
    let r = vc_issue(c, &tok, &json!({"credential": cred2}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(stored_id(&r), own);
    assert_eq!(c.get(&format!("/credentials/{own}"), None).status, 200);
    // options.credentialId alone: the credential gets this service's URL for it.
    let opt = "6a1f0c3e-2b4d-4e8f-9a0b-1c2d3e4f5a6b";
    let r = vc_issue(
        c,
        &tok,
        &json!({"credential": vc(&did, "did:example:d"), "options": {"credentialId": format!("urn:uuid:{opt}")}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["verifiableCredential"]["id"],
        format!("{base}/credentials/{opt}")
    );
    let mut both = vc(&did, "did:example:e");
    both["id"] = json!("urn:uuid:7b2e1d4c-5a6f-4b8e-9c0d-1e2f3a4b5c6d");
    let r = vc_issue(
        c,
        &tok,
        &json!({"credential": both, "options": {"credentialId": "urn:uuid:8c3f2e5d-6b7a-4c9f-8d1e-2f3a4b5c6d7e"}}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("options.credentialId"), "{}", r.text());

    // Ids that could not be fetched here or kept unique: 422 naming credential.id.
    for id in [
        json!("urn:uuid:3F1B7C52-9D0E-4A8B-B6F1-2C4D5E6F7A80"),
        json!("urn:uuid:3f1b7c529d0e4a8bb6f12c4d5e6f7a80"),
        json!("urn:uuid:not-a-uuid"),
        json!(format!("{base}/credentials/../status/x")),
        json!(format!("{base}/status/1")),
        json!("https://elsewhere.example/a b"),
        json!("https://elsewhere.example/c#frag"),
        json!("https:///no-host"),
        json!("ftp://elsewhere.example/1"),
        json!("did:example:credential"),
        json!("credentials/1"),
        json!("not a uri"),
        json!(42),
    ] {
        let mut cred = vc(&did, "did:example:f");
        cred["id"] = id.clone();
        let r = vc_issue(c, &tok, &json!({"credential": cred}));
        assert_eq!(r.status, 422, "{id}: {}", r.text());
        assert!(r.error().contains("credential.id"), "{id}: {}", r.text());
        assert!(r.error().contains("urn:uuid:<UUID>"), "{id}: {}", r.text());
    }

    // An https URL elsewhere (VC 2.0 allows any URL; the W3C VC 2.0 suite issues one) is
    // kept, unique, and fetchable here under a key derived from it (the answer's Location).
    let elsewhere = "https://elsewhere.example/credentials/1";
    let mut cred = vc(&did, "did:example:h");
    cred["id"] = json!(elsewhere);
    let r = vc_issue(c, &tok, &json!({"credential": cred.clone()}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["verifiableCredential"]["id"], elsewhere);
    let location = r.header("location").expect("Location").to_owned();
    let path = location
        .strip_prefix(base.as_str())
        .expect("a URL of this service");
    let fetched = c.get(path, None);
    assert_eq!(fetched.status, 200, "{}", fetched.text());
    assert_eq!(fetched.json()["id"], elsewhere);
    cred["credentialSubject"]["id"] = json!("did:example:i");
    let again = vc_issue(c, &tok, &json!({"credential": cred}));
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(again.error().contains("credential.id"), "{}", again.text());

    // Idempotency is not confused with duplicates: a retry under its key replays, a new
    // request reusing the id is 409, a new request reusing the key is 422.
    let keyed_id = "9d4a3f6e-7c8b-4d0a-9e2f-3a4b5c6d7e8f";
    let mut keyed = vc(&did, "did:example:g");
    keyed["id"] = json!(format!("urn:uuid:{keyed_id}"));
    let body = json!({"credential": keyed});
    let first = vc_issue_keyed(c, &tok, &body, "k-1");
    assert_eq!(first.status, 201, "{}", first.text());
    let retry = vc_issue_keyed(c, &tok, &body, "k-1");
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
    let r = vc_issue_keyed(c, &tok, &body, "k-2");
    assert_eq!(r.status, 409, "{}", r.text());
    let r = vc_issue_keyed(
        c,
        &tok,
        &json!({"credential": vc(&did, "did:example:h")}),
        "k-1",
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("Idempotency-Key"), "{}", r.text());

    // Concurrent requests with one new id: exactly one credential.
    let n = count();
    let race = "ae5b4c7d-8e9f-4a1b-8c2d-3e4f5a6b7c8d";
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (c, tok, did) = (*c, tok.clone(), did.clone());
            std::thread::spawn(move || {
                let mut cred = vc(&did, &format!("did:example:race-{i}"));
                cred["id"] = json!(format!("urn:uuid:{race}"));
                c.post(
                    "/credentials/issue",
                    Some(&tok),
                    &json!({"credential": cred}),
                )
                .status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(count(), n + 1);
    // Concurrent retries of one keyed request: one credential, every answer the same.
    let keyed_race = "bf6c5d8e-9fa0-4b2c-9d3e-4f5a6b7c8d9e";
    let mut cred = vc(&did, "did:example:keyed-race");
    cred["id"] = json!(format!("urn:uuid:{keyed_race}"));
    let body = json!({"credential": cred});
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (c, tok, body) = (*c, tok.clone(), body.clone());
            std::thread::spawn(move || {
                let r = vc_issue_keyed(&c, &tok, &body, "race-k");
                (r.status, r.body)
            })
        })
        .collect();
    let answers: Vec<(u16, Vec<u8>)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(answers[0].0, 201);
    assert_eq!(count(), n + 2);
}

fn bodies_are_strict_and_fields_typed(backend: Backend) {
    let server = TestServer::start_on(backend);
    let c = &server.client;
    let (tok, did) = institution(c, "north", false);
    let auth = format!("Bearer {tok}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];

    // Duplicate member names: 400 on every JSON route, naming the member's path.
    let issue = format!(
        r#"{{"credential": {{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": "{did}", "name": "A", "name": "B", "credentialSubject": {{"id": "did:example:a"}}}}}}"#
    );
    let r = c.request("POST", "/credentials/issue", &h, Some(issue.as_bytes()));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.error().contains("duplicate member name"), "{}", r.text());
    assert!(r.error().contains("credential.name"), "{}", r.text());
    for (method, path, body) in [
        (
            "POST",
            "/v1/institutions/north/credentials",
            r#"{"achievement": "df-101", "recipient": "did:example:a", "recipient": "did:example:b"}"#,
        ),
        (
            "POST",
            "/v1/institutions/north/credentials/batch",
            r#"{"achievement": "df-101", "rows": [{"recipient": "did:example:a", "recipient": "did:example:b"}]}"#,
        ),
        (
            "PUT",
            "/v1/institutions/north/achievements/dup",
            r#"{"name": "A", "name": "B"}"#,
        ),
        (
            "PUT",
            "/v1/institutions/north/settings",
            r#"{"suspension": true, "suspension": false}"#,
        ),
        ("POST", "/v1/institutions", r#"{"slug": "a", "slug": "b"}"#),
    ] {
        let auth = if path == "/v1/institutions" {
            format!("Bearer {ADMIN}")
        } else {
            auth.clone()
        };
        let h = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let r = c.request(method, path, &h, Some(body.as_bytes()));
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert!(
            r.error().contains("duplicate member name"),
            "{path}: {}",
            r.text()
        );
    }
    let r = c.post(
        "/v1/institutions/north/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "did:example:a"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = c.request(
        "POST",
        &format!("/v1/institutions/north/credentials/{id}/revoke"),
        &h,
        Some(br#"{"reason": "a", "reason": "b"}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.error().contains("duplicate member name \"reason\""),
        "{}",
        r.text()
    );
    // A wrongly shaped body names the member.
    let r = c.post(
        "/v1/institutions/north/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "did:example:a", "results": ["86"]}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.error().contains("`results`"), "{}", r.text());

    // Options: known members only, each with its type.
    let cred = vc(&did, "did:example:o");
    for (options, needle) in [
        (json!({"type": "Ed25519Signature2020"}), "options.type"),
        (json!({"type": 1}), "options.type"),
        (json!({"cryptosuite": 5}), "options.cryptosuite"),
        (json!({"cryptosuite": "bbs-2023"}), "options.cryptosuite"),
        (
            json!({"mandatoryPointers": ["/issuer"]}),
            "options.mandatoryPointers",
        ),
        (
            json!({"created": "2025-01-01T00:00:00Z"}),
            "options.created",
        ),
        (json!({"credentialId": 5}), "options.credentialId"),
    ] {
        let r = vc_issue(c, &tok, &json!({"credential": cred, "options": options}));
        assert_eq!(r.status, 422, "{options}: {}", r.text());
        assert!(r.error().contains(needle), "{options}: {}", r.text());
    }
    let r = vc_issue(
        c,
        &tok,
        &json!({"credential": cred, "options": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["verifiableCredential"]["proof"]["cryptosuite"],
        "eddsa-jcs-2022"
    );

    // Wrongly typed fields are refused, naming the path.
    for (member, value, path) in [
        ("name", json!(42), "credential.name"),
        (
            "description",
            json!({"text": "x"}),
            "credential.description",
        ),
        (
            "issuer",
            json!({"id": did, "name": 7}),
            "credential.issuer.name",
        ),
    ] {
        let mut bad = cred.clone();
        bad[member] = value;
        let r = vc_issue(c, &tok, &json!({"credential": bad}));
        assert_eq!(r.status, 422, "{member}: {}", r.text());
        assert!(r.error().contains(path), "{member}: {}", r.text());
        assert!(
            r.error().contains("must be a string"),
            "{member}: {}",
            r.text()
        );
    }
    // Text in every form VC 2.0 allows is signed.
    let mut ok = cred.clone();
    ok["name"] =
        json!([{"@value": "Data", "@language": "en"}, {"@value": "Données", "@language": "fr"}]);
    ok["description"] = json!({"@value": "About data", "@language": "en", "@direction": "ltr"});
    let r = vc_issue(c, &tok, &json!({"credential": ok}));
    assert_eq!(r.status, 201, "{}", r.text());
    // An Open Badges credential whose achievement name is a number.
    let issued = c
        .post(
            "/v1/institutions/north/credentials",
            Some(&tok),
            &json!({"achievement": "df-101", "recipient": "did:example:ob"}),
        )
        .json()["credential"]
        .clone();
    let mut ob = issued.clone();
    let o = ob.as_object_mut().unwrap();
    for k in ["proof", "credentialStatus", "id"] {
        o.remove(k);
    }
    ob["credentialSubject"]["achievement"]["name"] = json!(42);
    let r = vc_issue(c, &tok, &json!({"credential": ob}));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.error()
            .contains("credential.credentialSubject.achievement.name"),
        "{}",
        r.text()
    );
    // The catalogue refuses it too.
    let mut ach = read_json(&examples().join("achievements/df-101.json"));
    ach["name"] = json!(42);
    let r = c.send_json(
        "PUT",
        "/v1/institutions/north/achievements/typed",
        Some(&tok),
        &ach,
        &[],
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("ob.type.name"), "{}", r.text());
}

on_each_backend!(
    status_entries_of_another_credential_cannot_be_borrowed,
    caller_ids_are_fetchable_and_unique,
    bodies_are_strict_and_fields_typed
);
