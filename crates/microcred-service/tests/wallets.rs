//! Credentials into wallets, on each backend, against a running service: OpenID for Verifiable
//! Credential Issuance 1.0 (pre-authorized code with a transaction code, nonce, key proof,
//! deferred issuance, batch offers) and the refusals the specs define (reused code, wrong
//! PIN, stale or reused nonce, wrong audience, another wallet); the credential is bound to the
//! wallet's did:key and verifies; the institution sees what was offered and redeemed. The VC
//! API exchange's first step and its refusals. (Real wallet libraries from npm run the same
//! flows in CI: tests/wallet/.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use base64::Engine as _;
use common::backend::Backend;
use common::http::{Client, Response};
use common::server::{TestServer, ADMIN};
use common::setup::{create_institution, put_achievement, token, ALL_SCOPES};
use ed25519_dalek::Signer as _;
use microcred_core::{KeyRing, PublicKey, Verdict, VerifyOptions};
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A wallet: an Ed25519 key and its did:key.
struct Wallet {
    key: ed25519_dalek::SigningKey,
    did: String,
}

impl Wallet {
    fn new(seed: u8) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let did = PublicKey::from_bytes(&key.verifying_key().to_bytes())
            .unwrap()
            .did_key();
        Self { key, did }
    }

    fn proof(&self, aud: &str, nonce: &str) -> String {
        let kid = format!("{}#{}", self.did, self.did.trim_start_matches("did:key:"));
        let header = json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": kid});
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let payload = json!({"aud": aud, "iat": now, "nonce": nonce});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(payload.to_string())
        );
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(sig.to_bytes()))
    }
}

fn path_of(base: &str, url: &str) -> String {
    url.strip_prefix(base).unwrap_or(url).to_owned()
}

fn form(c: &Client, path: &str, fields: &[(&str, &str)]) -> Response {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    c.request(
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.join("&").as_bytes()),
    )
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn bearer(c: &Client, path: &str, token: &str, body: &Value) -> Response {
    c.send_json(
        "POST",
        path,
        None,
        body,
        &[("Authorization", &format!("Bearer {token}"))],
    )
}

fn nonce(c: &Client, issuer_path: &str) -> String {
    let r = c.request("POST", &format!("{issuer_path}/oid4vci/nonce"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.json()["c_nonce"].as_str().unwrap().to_owned()
}

/// The offer's pre-authorized code, as a wallet reads it from `credential_offer_uri`.
fn code_of(c: &Client, base: &str, offer: &Value) -> (String, Value) {
    let uri = offer["credentialOfferUri"].as_str().unwrap();
    let r = c.get(&path_of(base, uri), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let object = r.json();
    let code = object["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    (code, object)
}

fn verifies(credential: &Value, did_doc: &Value) {
    let mut keys = KeyRing::new();
    keys.add_controller_document(did_doc).unwrap();
    let report = microcred_core::verify_value(
        credential,
        &VerifyOptions::new(time::OffsetDateTime::now_utc(), &keys),
    );
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
}

fn wallets(backend: Backend) {
    let s = TestServer::start_on(backend);
    let c = &s.client;
    let base = s.base();
    create_institution(c, "north", ADMIN, &json!({}));
    let tok = token(c, "north", ADMIN, ALL_SCOPES);
    for name in ["df-101", "df-102"] {
        assert_eq!(put_achievement(c, "north", &tok, name).status, 201);
    }
    let issuer = format!("{base}/institutions/north");
    let ip = "/institutions/north";
    let did_doc = c.get("/institutions/north/did.json", None).json();

    // Metadata at both places; a configuration per achievement and suite.
    for path in [
        "/.well-known/openid-credential-issuer/institutions/north",
        "/institutions/north/.well-known/openid-credential-issuer",
    ] {
        let m = c.get(path, None);
        assert_eq!(m.status, 200, "{}", m.text());
        let m = m.json();
        assert_eq!(m["credential_issuer"], issuer.as_str());
        let confs = m["credential_configurations_supported"]
            .as_object()
            .unwrap();
        assert!(confs.contains_key("df-101") && confs.contains_key("df-102/eddsa-jcs-2022"));
        assert_eq!(confs["df-101"]["format"], "ldp_vc");
    }
    let asm = c.get(
        "/.well-known/oauth-authorization-server/institutions/north",
        None,
    );
    assert_eq!(
        asm.json()["token_endpoint"],
        format!("{issuer}/oid4vci/token")
    );
    assert_eq!(
        c.get(
            "/.well-known/openid-credential-issuer/institutions/nobody",
            None
        )
        .status,
        404
    );

    // An item that cannot be issued is refused when the offer is made.
    let r = c.post(
        "/v1/institutions/north/offers",
        Some(&tok),
        &json!({"credentials": [{"achievement": "df-101", "recipient": "x@example.org", "results": {"nope": 1}}]}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("credentials[0]"), "{}", r.text());

    // A batch offer with a transaction code: DF-101 now, DF-102 pending.
    let r = c.post(
        "/v1/institutions/north/offers",
        Some(&tok),
        &json!({"txCode": true, "credentials": [
            {"achievement": "df-101", "recipient": "amara@example.org", "results": {"final-assessment": 91}},
            {"achievement": "df-102", "recipient": "amara@example.org", "pending": true},
        ]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let offer = r.json();
    let pin = offer["txCode"].as_str().unwrap().to_owned();
    assert_eq!(pin.len(), 6);
    assert!(offer["offerUri"]
        .as_str()
        .unwrap()
        .starts_with("openid-credential-offer://?credential_offer_uri="));
    assert!(offer.get("exchangeUrl").is_none(), "no exchange with a PIN");
    let (code, object) = code_of(c, &base, &offer);
    assert_eq!(object["credential_issuer"], issuer.as_str());
    assert_eq!(
        object["credential_configuration_ids"],
        json!(["df-101", "df-102"])
    );
    let qr = c.get(&path_of(&base, offer["qrCode"].as_str().unwrap()), None);
    assert_eq!(qr.status, 200);
    assert!(qr.text().contains("<svg"));

    let token_path = format!("{ip}/oid4vci/token");
    let grant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
    // Wrong PIN, missing PIN: refused as the spec says.
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let r = form(
        c,
        &token_path,
        &[
            ("grant_type", grant),
            ("pre-authorized_code", &code),
            ("tx_code", wrong),
        ],
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_grant")),
        "{}",
        r.text()
    );
    let r = form(
        c,
        &token_path,
        &[("grant_type", grant), ("pre-authorized_code", &code)],
    );
    assert_eq!(r.json()["error"], "invalid_request");
    let r = form(
        c,
        &token_path,
        &[("grant_type", "authorization_code"), ("code", "x")],
    );
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    // The right one: an access token, once.
    let r = form(
        c,
        &token_path,
        &[
            ("grant_type", grant),
            ("pre-authorized_code", &code),
            ("tx_code", &pin),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let t = r.json();
    let access = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(t["token_type"], "Bearer");
    let r = form(
        c,
        &token_path,
        &[
            ("grant_type", grant),
            ("pre-authorized_code", &code),
            ("tx_code", &pin),
        ],
    );
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_grant")),
        "reused code"
    );

    let wallet = Wallet::new(3);
    let cred_path = format!("{ip}/oid4vci/credential");
    // No token, wrong audience, a nonce never issued: refused.
    let n = nonce(c, ip);
    let r = c.post(&cred_path, None, &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [wallet.proof(&issuer, &n)]}}));
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_token"))
    );
    assert!(r.header("www-authenticate").is_some());
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [wallet.proof("https://elsewhere.example", &n)]}}),
    );
    assert_eq!(r.json()["error"], "invalid_proof", "{}", r.text());
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [wallet.proof(&issuer, "never-issued")]}}),
    );
    assert_eq!(r.json()["error"], "invalid_nonce", "{}", r.text());

    // DF-101: issued, bound to the wallet's DID, verifying.
    let n = nonce(c, ip);
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [wallet.proof(&issuer, &n)]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let vc = r.json()["credentials"][0]["credential"].clone();
    assert_eq!(vc["credentialSubject"]["id"], wallet.did.as_str());
    verifies(&vc, &did_doc);
    // The nonce is spent.
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [wallet.proof(&issuer, &n)]}}),
    );
    assert_eq!(r.json()["error"], "invalid_nonce");
    // Asking again with a fresh nonce gives the same credential, not a second one.
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [wallet.proof(&issuer, &nonce(c, ip))]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["credentials"][0]["credential"]["id"], vc["id"]);
    // Another wallet with the same token cannot take it.
    let thief = Wallet::new(4);
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-101", "proofs": {"jwt": [thief.proof(&issuer, &nonce(c, ip))]}}),
    );
    assert_eq!(
        r.json()["error"],
        "credential_request_denied",
        "{}",
        r.text()
    );

    // DF-102 is pending: deferred, then released by the institution, then delivered.
    let r = bearer(
        c,
        &cred_path,
        &access,
        &json!({"credential_configuration_id": "df-102", "proofs": {"jwt": [wallet.proof(&issuer, &nonce(c, ip))]}}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let tx = r.json()["transaction_id"].as_str().unwrap().to_owned();
    let deferred = format!("{ip}/oid4vci/deferred");
    let r = bearer(c, &deferred, &access, &json!({"transaction_id": tx}));
    assert_eq!(r.status, 202, "{}", r.text());
    let r = bearer(c, &deferred, &access, &json!({"transaction_id": "not-one"}));
    assert_eq!(r.json()["error"], "invalid_transaction_id");
    let id = offer["id"].as_str().unwrap();
    let r = c.post(
        &format!("/v1/institutions/north/offers/{id}/items/1/release"),
        Some(&tok),
        &json!({"request": {"achievement": "df-102", "recipient": "amara@example.org", "results": {"final-assessment": 78}}}),
    );
    // A request that cannot be issued is refused when it is given, not in the wallet.
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("final-assessment"), "{}", r.text());
    let r = c.post(
        &format!("/v1/institutions/north/offers/{id}/items/1/release"),
        Some(&tok),
        &json!({"request": {"achievement": "df-102", "recipient": "amara@example.org", "results": {"status": "Completed"}}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = bearer(c, &deferred, &access, &json!({"transaction_id": tx}));
    assert_eq!(r.status, 200, "{}", r.text());
    let vc2 = r.json()["credentials"][0]["credential"].clone();
    assert_eq!(vc2["credentialSubject"]["id"], wallet.did.as_str());
    verifies(&vc2, &did_doc);

    // What the institution sees: both issued, to whom, and the audit trail.
    let seen = c.get(&format!("/v1/institutions/north/offers/{id}"), Some(&tok));
    assert_eq!(seen.status, 200);
    let seen = seen.json();
    assert_eq!(seen["state"], "redeemed");
    for item in seen["items"].as_array().unwrap() {
        assert_eq!(item["state"], "issued");
        assert_eq!(item["holder"], wallet.did.as_str());
    }
    let events: Vec<String> = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap().to_owned())
        .collect();
    assert!(events.iter().any(|e| e.contains("redeemed")), "{events:?}");
    assert!(
        seen.to_string().find(&pin).is_none(),
        "the PIN is not shown again"
    );
    assert_eq!(
        c.get("/v1/institutions/north/offers", Some(&tok)).json()["offers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A page at a time, newest first, with the total.
    for _ in 0..2 {
        let r = c.post(
            "/v1/institutions/north/offers",
            Some(&tok),
            &json!({"credentials": [{"achievement": "df-101", "recipient": "p@example.org"}]}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let all = c.get("/v1/institutions/north/offers", Some(&tok)).json();
    assert_eq!(all["total"], 3, "{all}");
    let ids: Vec<&str> = all["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let second = c
        .get("/v1/institutions/north/offers?offset=1&limit=1", Some(&tok))
        .json();
    assert_eq!(
        (second["total"].clone(), second["offset"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(second["offers"].as_array().unwrap().len(), 1);
    assert_eq!(second["offers"][0]["id"], ids[1]);
    let r = c.get("/v1/institutions/north/offers?limit=x", Some(&tok));
    assert_eq!(r.status, 400, "{}", r.text());

    // Five wrong PINs lock an offer.
    let r = c.post("/v1/institutions/north/offers", Some(&tok), &json!({"txCode": true, "credentials": [{"achievement": "df-101", "recipient": "b@example.org"}]}));
    let locked = r.json();
    let (code2, _) = code_of(c, &base, &locked);
    let right = locked["txCode"].as_str().unwrap().to_owned();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let r = form(
            c,
            &token_path,
            &[
                ("grant_type", grant),
                ("pre-authorized_code", &code2),
                ("tx_code", wrong),
            ],
        );
        assert_eq!(r.json()["error"], "invalid_grant");
    }
    let r = form(
        c,
        &token_path,
        &[
            ("grant_type", grant),
            ("pre-authorized_code", &code2),
            ("tx_code", &right),
        ],
    );
    assert_eq!(
        r.json()["error"],
        "invalid_grant",
        "locked after five wrong codes"
    );

    // An issued credential offered again: bound to the new wallet, same achievement.
    let issued = c.post("/v1/institutions/north/credentials", Some(&tok), &json!({"achievement": "df-101", "recipient": "c@example.org", "results": {"final-assessment": 66}}));
    assert_eq!(issued.status, 201, "{}", issued.text());
    let issued_id = issued.json()["id"].as_str().unwrap().to_owned();
    let r = c.post(
        "/v1/institutions/north/offers",
        Some(&tok),
        &json!({"credentials": [{"credential": issued_id}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let again = r.json();
    assert!(again["exchangeUrl"]
        .as_str()
        .unwrap()
        .contains("/exchanges/"));
    // The learner's links: the credential's page shows the offer's QR code; so does the
    // offer's own page. Another credential's page does not.
    let again_id = again["id"].as_str().unwrap();
    let html = |path: &str| {
        c.request("GET", path, &[("Accept", "text/html")], None)
            .text()
    };
    let page = html(&format!("/credentials/{issued_id}?offer={again_id}"));
    assert!(
        page.contains(&format!("/offers/{again_id}/qr.svg")),
        "{page}"
    );
    assert!(page.contains("openid-credential-offer://"), "{page}");
    let other = c.post(
        "/v1/institutions/north/credentials",
        Some(&tok),
        &json!({"achievement": "df-101", "recipient": "e@example.org"}),
    );
    let other_id = other.json()["id"].as_str().unwrap().to_owned();
    assert!(!html(&format!("/credentials/{other_id}?offer={again_id}")).contains("qr.svg"));
    let page = html(&format!("/offers/{again_id}"));
    assert!(
        page.contains("Scan with your wallet") && page.contains("lcw.app"),
        "{page}"
    );
    let (code3, _) = code_of(c, &base, &again);
    let r = form(
        c,
        &token_path,
        &[("grant_type", grant), ("pre-authorized_code", &code3)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let access3 = r.json()["access_token"].as_str().unwrap().to_owned();
    let w3 = Wallet::new(9);
    // A draft-13 request (format, proof, no configuration id): the next credential of the
    // offer, answered in that draft's shape (one `credential`, the next `c_nonce`).
    let r = bearer(
        c,
        &cred_path,
        &access3,
        &json!({"format": "ldp_vc", "proof": {"proof_type": "jwt", "jwt": w3.proof(&issuer, &nonce(c, ip))}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["c_nonce"].is_string(), "{}", r.text());
    let vc3 = r.json()["credential"].clone();
    assert_eq!(vc3["credentialSubject"]["id"], w3.did.as_str());
    assert_eq!(vc3["credentialSubject"]["result"][0]["value"], "66");
    verifies(&vc3, &did_doc);
    // Its exchange is over: the offer was redeemed; its QR code leaves the credential page.
    assert!(!html(&format!("/credentials/{issued_id}?offer={again_id}")).contains("qr.svg"));
    let ex = path_of(&base, again["exchangeUrl"].as_str().unwrap());
    assert_eq!(c.post(&ex, None, &json!({})).status, 409);

    // A fresh offer's exchange: a DID Authentication request; an unsigned answer is refused.
    let r = c.post(
        "/v1/institutions/north/offers",
        Some(&tok),
        &json!({"credentials": [{"achievement": "df-101", "recipient": "d@example.org"}]}),
    );
    let ex = path_of(&base, r.json()["exchangeUrl"].as_str().unwrap());
    let vpr = c.post(&ex, None, &json!({}));
    assert_eq!(vpr.status, 200, "{}", vpr.text());
    let vpr = vpr.json();
    assert_eq!(
        vpr["verifiablePresentationRequest"]["query"][0]["type"],
        "DIDAuthentication"
    );
    assert!(vpr["verifiablePresentationRequest"]["challenge"].is_string());
    let unsigned = json!({"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": w3.did}});
    assert_eq!(c.post(&ex, None, &unsigned).status, 422);
    assert_eq!(
        c.post(
            "/exchanges/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            None,
            &json!({})
        )
        .status,
        404
    );

    // Another institution cannot see or withdraw the offer.
    create_institution(c, "south", ADMIN, &json!({}));
    let south = token(c, "south", ADMIN, ALL_SCOPES);
    assert_eq!(
        c.get(&format!("/v1/institutions/north/offers/{id}"), Some(&south))
            .status,
        403
    );
    assert_eq!(
        c.get(&format!("/v1/institutions/south/offers/{id}"), Some(&south))
            .status,
        404
    );
}

on_each_backend!(wallets);
