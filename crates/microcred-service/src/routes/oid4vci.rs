//! Credentials into learners' wallets: OpenID for Verifiable Credential Issuance 1.0
//! (pre-authorized code flow) and VC API exchanges, over the offers of `offers.rs`.
//!
//! Each institution is its own Credential Issuer and Authorization Server, identified by
//! `{base}/institutions/{inst}`:
//! - metadata at `/.well-known/openid-credential-issuer/institutions/{inst}` (OID4VCI 1.0
//!   §12.2.2) and at `/institutions/{inst}/.well-known/openid-credential-issuer` (where
//!   earlier drafts' clients look), likewise `oauth-authorization-server` and
//!   `openid-configuration`;
//! - `POST /institutions/{inst}/oid4vci/token`, `.../nonce`, `.../credential`, `.../deferred`;
//! - `GET /offers/{id}`: the Credential Offer (`credential_offer_uri`), or for a browser a page
//!   with its QR code; `GET /offers/{id}/qr.svg`;
//! - `POST /exchanges/{id}`: the VC API exchange (DID Authentication, then the credentials).
//!
//! The institution makes offers with `POST /v1/institutions/{inst}/offers` (scope `issue`)
//! and sees them (with their audit trail) with `GET`.
//!
//! Errors of the protocol endpoints are OAuth's: `{"error": code, "error_description": text}`
//! (400, or 401 `invalid_token` with `WWW-Authenticate`), never cached.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::issue::{issue_to_wallet, IssueRequest, LearnerOf};
use crate::app::now;
use crate::auth::{Authorized, Issue, Member};
use crate::error::{ApiError, AppJson, AppPath};
use crate::offers::{
    self, find_item, OfferError, OfferState, Source, Stored, TxCode, DEFERRED_INTERVAL_SECS,
    MAX_ITEMS, TOKEN_TTL,
};
use crate::state::{AppState, Inner};
use crate::store::{OfferRecord, OfferSecret};

/// The grant type of the pre-authorized code flow.
const PRE_AUTHORIZED: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The configuration id suffix of an achievement signed with the JCS suite.
const JCS_SUFFIX: &str = "/eddsa-jcs-2022";
/// Derivation purposes of an offer's secrets (keyed by the master key).
const CODE_PURPOSE: &[u8] = b"microcred offer pre-authorized code v1";
const EXCHANGE_PURPOSE: &[u8] = b"microcred offer exchange id v1";

/// The Credential Issuer Identifier of an institution.
pub(crate) fn issuer_id(base: &str, inst: &str) -> String {
    format!("{base}/institutions/{inst}")
}

/// An OAuth / OID4VCI error answer.
pub(crate) struct OAuth(OfferError);

impl From<OfferError> for OAuth {
    fn from(e: OfferError) -> Self {
        Self(e)
    }
}

impl From<ApiError> for OAuth {
    fn from(e: ApiError) -> Self {
        Self(match e {
            ApiError::NotFound(m) => OfferError::UnknownCredential(m),
            ApiError::Internal(m) => {
                tracing::error!("wallet issuance failed: {m}");
                OfferError::Corrupt("(internal error)".into())
            }
            other => OfferError::Denied(other.to_string()),
        })
    }
}

impl IntoResponse for OAuth {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            OfferError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            OfferError::Conflict => StatusCode::CONFLICT,
            OfferError::Store(_) | OfferError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let description = match &self.0 {
            OfferError::Store(e) => {
                tracing::error!("offer store: {e}");
                "internal error".to_owned()
            }
            OfferError::Corrupt(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut r = (
            status,
            axum::Json(json!({"error": self.0.code(), "error_description": description})),
        )
            .into_response();
        no_store(r.headers_mut());
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        r
    }
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn json_no_store(status: StatusCode, body: Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    no_store(r.headers_mut());
    r
}

/// The achievement slug and suite of a configuration id.
fn configuration(id: &str) -> (&str, Option<&'static str>) {
    match id.strip_suffix(JCS_SUFFIX) {
        Some(slug) => (slug, Some("eddsa-jcs-2022")),
        None => (id, None),
    }
}

fn secret_of(inner: &Inner, purpose: &[u8], offer: &str) -> Result<String, ApiError> {
    use base64::Engine as _;
    let d = inner
        .keys
        .master()
        .keyed_digest(purpose, offer.as_bytes())
        .map_err(|e| ApiError::Internal(format!("offer secret: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d))
}

// ---- Metadata ------------------------------------------------------------------------------

/// The institution's published achievements: (slug, name, description) of the latest versions.
fn published(inner: &Inner, inst: &str) -> Result<Vec<(String, String, String)>, ApiError> {
    inner.institution(inst)?;
    let mut latest: Vec<(String, String, String)> = Vec::new();
    let mut list = inner.store.achievements(inst)?;
    list.sort_by(|a, b| (&a.slug, b.version).cmp(&(&b.slug, a.version)));
    for a in list {
        if latest.iter().any(|(s, _, _)| *s == a.slug) {
            continue;
        }
        let text = |k: &str| {
            a.definition
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        latest.push((a.slug.clone(), text("name"), text("description")));
    }
    Ok(latest)
}

/// `GET /.well-known/openid-credential-issuer/institutions/{inst}` (and
/// `/institutions/{inst}/.well-known/openid-credential-issuer`): Credential Issuer Metadata.
pub(crate) async fn issuer_metadata(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
) -> Result<Response, ApiError> {
    super::slug(&inst, "institution")?;
    let base = state.inner().site.base_url.clone();
    let (profile_name, achievements) = state
        .blocking({
            let inst = inst.clone();
            move |inner| {
                let rec = inner.institution(&inst)?;
                let name = rec
                    .profile
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&inst)
                    .to_owned();
                Ok((name, published(inner, &inst)?))
            }
        })
        .await?;
    let issuer = issuer_id(&base, &inst);
    let mut configurations = Map::new();
    for (slug, name, description) in &achievements {
        for (id, suite) in [
            (slug.clone(), "eddsa-rdfc-2022"),
            (format!("{slug}{JCS_SUFFIX}"), "eddsa-jcs-2022"),
        ] {
            configurations.insert(
                id,
                json!({
                    "format": "ldp_vc",
                    "scope": slug,
                    "cryptographic_binding_methods_supported": ["did:key", "did:jwk"],
                    "credential_signing_alg_values_supported": [suite],
                    "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA"]}},
                    "credential_definition": {
                        "@context": [
                            "https://www.w3.org/ns/credentials/v2",
                            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
                        ],
                        "type": ["VerifiableCredential", "OpenBadgeCredential"]
                    },
                    "display": [{"name": name, "description": description, "locale": "en"}],
                    "credential_metadata": {"display": [{"name": name, "description": description, "locale": "en"}]}
                }),
            );
        }
    }
    Ok(json_no_cache(json!({
        "credential_issuer": issuer,
        "credential_endpoint": format!("{issuer}/oid4vci/credential"),
        "nonce_endpoint": format!("{issuer}/oid4vci/nonce"),
        "deferred_credential_endpoint": format!("{issuer}/oid4vci/deferred"),
        "token_endpoint": format!("{issuer}/oid4vci/token"),
        "display": [{"name": profile_name, "locale": "en"}],
        "credential_configurations_supported": configurations,
    })))
}

fn json_no_cache(body: Value) -> Response {
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /.well-known/oauth-authorization-server/institutions/{inst}` (and the
/// `openid-configuration` and path-appended forms): the institution's Authorization Server
/// Metadata (RFC 8414) — the pre-authorized code flow only.
pub(crate) async fn authorization_server_metadata(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
) -> Result<Response, ApiError> {
    super::slug(&inst, "institution")?;
    let base = state.inner().site.base_url.clone();
    state
        .blocking({
            let inst = inst.clone();
            move |inner| inner.institution(&inst).map(|_| ()).map_err(Into::into)
        })
        .await?;
    let issuer = issuer_id(&base, &inst);
    Ok(json_no_cache(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oid4vci/token"),
        "grant_types_supported": [PRE_AUTHORIZED],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": true,
    })))
}

// ---- The token, nonce and credential endpoints ---------------------------------------------

/// `POST /institutions/{inst}/oid4vci/token` (form): a pre-authorized code (and transaction
/// code) for an access token, once.
pub(crate) async fn token(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuth> {
    let form = read_form(&headers, &body)?;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    match field("grant_type").as_deref() {
        Some(PRE_AUTHORIZED) => {}
        Some(other) => {
            return Ok(json_no_store(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": format!("grant type \"{other}\" is not supported: this issuer offers the pre-authorized code flow")}),
            ))
        }
        None => return Err(OfferError::InvalidRequest("grant_type is missing".into()).into()),
    }
    let code = field("pre-authorized_code")
        .ok_or_else(|| OfferError::InvalidRequest("pre-authorized_code is missing".into()))?;
    // `user_pin`: the name of earlier drafts.
    let tx = field("tx_code").or_else(|| field("user_pin"));
    let at = now();
    let (stored, token, nonce) = state
        .blocking(move |inner| {
            let store = &*inner.store;
            let run = || -> Result<_, OfferError> {
                let record = store
                    .offer_by_secret(OfferSecret::Code, &offers::hash(&code))?
                    .filter(|o| o.institution == inst)
                    .ok_or_else(|| {
                        OfferError::InvalidGrant("unknown pre-authorized code".into())
                    })?;
                let (stored, token) =
                    Stored::read(record)?.redeem_code(store, tx.as_deref(), at)?;
                let nonce = offers::new_nonce(store, at)?;
                Ok((stored, token, nonce))
            };
            Ok(run())
        })
        .await
        .map_err(OAuth::from)??;
    let mut details: Vec<(String, Vec<String>)> = Vec::new();
    for (i, item) in stored.offer.items.iter().enumerate() {
        let id = format!("{}:{i}", stored.record.id);
        match details
            .iter_mut()
            .find(|(c, _)| *c == item.configuration_id)
        {
            Some((_, ids)) => ids.push(id),
            None => details.push((item.configuration_id.clone(), vec![id])),
        }
    }
    Ok(json_no_store(
        StatusCode::OK,
        json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL.whole_seconds(),
            "c_nonce": nonce,
            "c_nonce_expires_in": offers::NONCE_TTL.whole_seconds(),
            "authorization_details": details.iter().map(|(c, ids)| json!({
                "type": "openid_credential",
                "credential_configuration_id": c,
                "credential_identifiers": ids,
            })).collect::<Vec<_>>(),
        }),
    ))
}

/// A form body (`application/x-www-form-urlencoded`): its fields, each at most once.
fn read_form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuth> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(OfferError::InvalidRequest(
            "the token request must be application/x-www-form-urlencoded".into(),
        )
        .into());
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| OfferError::InvalidRequest(format!("the form cannot be read: {e}")))?;
    for (i, (k, _)) in form.iter().enumerate() {
        if form[..i].iter().any(|(other, _)| other == k) {
            return Err(
                OfferError::InvalidRequest(format!("the parameter {k} is given twice")).into(),
            );
        }
    }
    Ok(form)
}

/// `POST /institutions/{inst}/oid4vci/nonce`: a fresh nonce for a key proof.
pub(crate) async fn nonce(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
) -> Result<Response, ApiError> {
    super::slug(&inst, "institution")?;
    let at = now();
    let nonce = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            offers::new_nonce(&*inner.store, at).map_err(admin_error)
        })
        .await?;
    Ok(json_no_store(StatusCode::OK, json!({"c_nonce": nonce})))
}

/// The offer an access token opens.
fn bearer(headers: &HeaderMap) -> Result<[u8; 32], OAuth> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            OfferError::InvalidToken("an access token (Authorization: Bearer) is required".into())
        })?;
    Ok(offers::hash(token))
}

/// `POST /institutions/{inst}/oid4vci/credential`: a credential of the offer, bound to the
/// key the proof shows control of; 202 with a `transaction_id` when it is not ready.
pub(crate) async fn credential(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuth> {
    let token = bearer(&headers)?;
    let req = microcred_core::parse_strict(&body)
        .ok()
        .and_then(|v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .ok_or_else(|| {
            OfferError::InvalidRequest("the credential request must be a JSON object".into())
        })?;
    let jwt = key_proof_jwt(&req)?;
    // A request of earlier drafts (`format`, no configuration id): answered in their shape.
    let draft13 = req.contains_key("format")
        && !req.contains_key("credential_configuration_id")
        && !req.contains_key("credential_identifier");
    let identifier = req
        .get("credential_identifier")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let configuration = req
        .get("credential_configuration_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let base = state.inner().site.base_url.clone();
    let audience = issuer_id(&base, &inst);
    let at = now();
    // The checks, and binding the item to the holder, off the runtime.
    let (stored, index, holder) = state
        .blocking(move |inner| {
            let store = &*inner.store;
            let run = || -> Result<_, OfferError> {
                let stored = open_token(store, &token, &inst, at)?;
                let proof = offers::check_key_proof(&jwt, &audience, at)?;
                if !store.take_nonce(&offers::hash(&proof.nonce), &microcred_core::format_datetime(at))? {
                    return Err(OfferError::InvalidNonce(
                        "the proof's nonce is unknown, used or expired: get a fresh one from the nonce endpoint".into(),
                    ));
                }
                let index = find_item(&stored, identifier.as_deref(), configuration.as_deref(), &proof.holder)?;
                let stored = stored.bind(store, index, &proof.holder, at)?;
                Ok((stored, index, proof.holder))
            };
            Ok(run())
        })
        .await
        .map_err(OAuth::from)??;
    deliver(&state, stored, index, holder, at, draft13).await
}

/// The credential of item `index` (issued now, or found), or 202 if it is pending.
async fn deliver(
    state: &AppState,
    stored: Stored,
    index: usize,
    holder: String,
    at: OffsetDateTime,
    draft13: bool,
) -> Result<Response, OAuth> {
    let item =
        stored.offer.items.get(index).cloned().ok_or_else(|| {
            OfferError::UnknownCredential("no such credential in this offer".into())
        })?;
    if item.pending {
        let (_, transaction_id) = state
            .blocking(move |inner| Ok(stored.defer(&*inner.store, index, at)))
            .await
            .map_err(OAuth::from)??;
        return Ok(json_no_store(
            StatusCode::ACCEPTED,
            json!({"transaction_id": transaction_id, "interval": DEFERRED_INTERVAL_SECS}),
        ));
    }
    let body = issue_item(state, stored, index, &holder, at).await?;
    if draft13 {
        let credential: Value = serde_json::from_slice(&body)
            .map_err(|_| OfferError::Corrupt("issued credential".into()))?;
        // Earlier drafts' answer: one `credential`, its `format`, and the next nonce.
        let nonce = state
            .blocking(move |inner| Ok(offers::new_nonce(&*inner.store, at)))
            .await
            .map_err(OAuth::from)??;
        return Ok(json_no_store(
            StatusCode::OK,
            json!({"credential": credential, "format": "ldp_vc", "c_nonce": nonce,
                   "c_nonce_expires_in": offers::NONCE_TTL.whole_seconds()}),
        ));
    }
    credentials_answer(&body)
}

/// Issues item `index` to `holder` (or finds it issued) and records it; the credential's bytes.
async fn issue_item(
    state: &AppState,
    stored: Stored,
    index: usize,
    holder: &str,
    at: OffsetDateTime,
) -> Result<Vec<u8>, OAuth> {
    let item =
        stored.offer.items.get(index).cloned().ok_or_else(|| {
            OfferError::UnknownCredential("no such credential in this offer".into())
        })?;
    let inst = stored.record.institution.clone();
    let key = stored.idempotency_key(index);
    let (req, learner) = match item.source {
        Source::Request(v) => {
            let req = IssueRequest::from_value(v).map_err(OAuth::from)?;
            let recipient = req.recipient().to_owned();
            (req, LearnerOf::Recipient(recipient))
        }
        Source::Credential(id) => {
            let rec = state
                .blocking(move |inner| {
                    inner.store.credential(&id)?.ok_or_else(|| {
                        ApiError::NotFound("the offered credential no longer exists".into())
                    })
                })
                .await
                .map_err(OAuth::from)?;
            let learner = rec.credential.learner.clone();
            (
                IssueRequest::again(&rec).map_err(OAuth::from)?,
                LearnerOf::Key(learner),
            )
        }
    };
    let (id, body) = issue_to_wallet(state, inst, req, holder.to_owned(), learner, key)
        .await
        .map_err(OAuth::from)?;
    // A credential found under the item's key must be the one bound to this holder.
    let value = microcred_core::parse_strict(&body).unwrap_or(Value::Null);
    if super::subject(&value).get("id").and_then(Value::as_str) != Some(holder) {
        return Err(OfferError::Denied(
            "this credential was already issued to another wallet".into(),
        )
        .into());
    }
    let short = id.rsplit('/').next().unwrap_or(&id).to_owned();
    state
        .blocking(move |inner| Ok(stored.issued(&*inner.store, index, &short, at)))
        .await
        .map_err(OAuth::from)?
        .map(|_| ())
        .or_else(|e| match e {
            // Recorded by a concurrent request already: the credential is the same.
            OfferError::Conflict => Ok(()),
            other => Err(other),
        })?;
    Ok(body)
}

/// The key proof of a credential request: `proofs.jwt[0]` (1.0) or `proof.jwt` (earlier
/// drafts); one proof per request.
fn key_proof_jwt(req: &Map<String, Value>) -> Result<String, OfferError> {
    if let Some(proofs) = req.get("proofs") {
        let jwts = proofs.get("jwt").and_then(Value::as_array).ok_or_else(|| {
            OfferError::InvalidProof(
                "proofs must hold a jwt array: this issuer accepts jwt key proofs".into(),
            )
        })?;
        return match jwts.as_slice() {
            [Value::String(one)] => Ok(one.clone()),
            [] => Err(OfferError::InvalidProof("proofs.jwt is empty".into())),
            [_] => Err(OfferError::InvalidProof(
                "proofs.jwt must hold strings".into(),
            )),
            _ => Err(OfferError::InvalidProof(
                "one key proof per request: ask once per credential".into(),
            )),
        };
    }
    match req.get("proof") {
        Some(p) => {
            if p.get("proof_type").and_then(Value::as_str) != Some("jwt") {
                return Err(OfferError::InvalidProof(
                    "proof_type must be \"jwt\"".into(),
                ));
            }
            p.get("jwt")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| OfferError::InvalidProof("the proof has no jwt".into()))
        }
        None => Err(OfferError::InvalidProof(
            "a key proof is required (proofs.jwt), to bind the credential to the wallet's key"
                .into(),
        )),
    }
}

/// The offer of an access token, if it still works, at institution `inst`.
fn open_token(
    store: &dyn crate::store::Store,
    token: &[u8; 32],
    inst: &str,
    at: OffsetDateTime,
) -> Result<Stored, OfferError> {
    let record = store
        .offer_by_secret(OfferSecret::Token, token)?
        .filter(|o| o.institution == inst)
        .ok_or_else(|| OfferError::InvalidToken("unknown access token".into()))?;
    let stored = Stored::read(record)?;
    stored.check_token(at)?;
    Ok(stored)
}

/// `POST /institutions/{inst}/oid4vci/deferred`: a deferred credential, once ready.
pub(crate) async fn deferred(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuth> {
    let token = bearer(&headers)?;
    let transaction = microcred_core::parse_strict(&body)
        .ok()
        .and_then(|v| {
            v.get("transaction_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or_else(|| OfferError::InvalidRequest("the request needs a transaction_id".into()))?;
    let at = now();
    let asked = transaction.clone();
    let (stored, index) = state
        .blocking(move |inner| {
            let run = || -> Result<_, OfferError> {
                let stored = open_token(&*inner.store, &token, &inst, at)?;
                let index = stored.deferred_item(&asked)?;
                Ok((stored, index))
            };
            Ok(run())
        })
        .await
        .map_err(OAuth::from)??;
    let item = stored.offer.items[index].clone();
    if item.pending {
        return Ok(json_no_store(
            StatusCode::ACCEPTED,
            json!({"transaction_id": transaction, "interval": DEFERRED_INTERVAL_SECS}),
        ));
    }
    let holder = item
        .holder
        .ok_or_else(|| OfferError::Denied("no wallet key is bound to this credential".into()))?;
    let body = issue_item(&state, stored, index, &holder, at).await?;
    credentials_answer(&body)
}

/// The answer carrying one issued credential (OID4VCI 1.0).
fn credentials_answer(body: &[u8]) -> Result<Response, OAuth> {
    let credential: Value = serde_json::from_slice(body)
        .map_err(|_| OfferError::Corrupt("issued credential".into()))?;
    Ok(json_no_store(
        StatusCode::OK,
        json!({"credentials": [{"credential": credential}]}),
    ))
}

// ---- The offer, for wallets and people -----------------------------------------------------

/// The Credential Offer object of an offer.
fn offer_object(inner: &Inner, base: &str, stored: &Stored) -> Result<Value, ApiError> {
    let code = secret_of(inner, CODE_PURPOSE, &stored.record.id)?;
    let mut ids: Vec<&str> = Vec::new();
    for i in &stored.offer.items {
        if !ids.contains(&i.configuration_id.as_str()) {
            ids.push(&i.configuration_id);
        }
    }
    let mut grant = json!({"pre-authorized_code": code});
    if stored.offer.tx_code.is_some() {
        grant["tx_code"] = json!({
            "input_mode": "numeric",
            "length": offers::TX_CODE_DIGITS,
            "description": "The code the institution sent you with this offer",
        });
    }
    Ok(json!({
        "credential_issuer": issuer_id(base, &stored.record.institution),
        "credential_configuration_ids": ids,
        "grants": {PRE_AUTHORIZED: grant},
    }))
}

fn valid_offer_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// `GET /offers/{id}`: the Credential Offer a wallet fetches (`credential_offer_uri`); a
/// browser gets a page with the QR code and links.
pub(crate) async fn offer(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !valid_offer_id(&id) {
        return Err(ApiError::NotFound("no such offer".into()));
    }
    let base = state.inner().site.base_url.clone();
    let html = super::pages::wants_html(&headers, query.as_deref());
    let at = now();
    let (object, page) = state
        .blocking(move |inner| {
            let record = inner
                .store
                .offer(&id)?
                .ok_or_else(|| ApiError::NotFound("no such offer".into()))?;
            let stored = Stored::read(record).map_err(|e| ApiError::Internal(e.to_string()))?;
            let object = offer_object(inner, &base, &stored)?;
            let page = if html {
                Some(offer_page(inner, &base, &stored, at)?)
            } else {
                None
            };
            Ok((object, page))
        })
        .await?;
    Ok(match page {
        Some(html) => {
            let mut r = super::pages::html_response(html)?;
            no_store(r.headers_mut());
            r
        }
        None => json_no_store(StatusCode::OK, object),
    })
}

/// The `openid-credential-offer://` link of an offer (by reference).
pub(crate) fn offer_link(base: &str, id: &str) -> String {
    format!(
        "openid-credential-offer://?credential_offer_uri={}",
        super::render::url_encode(&format!("{base}/offers/{id}"))
    )
}

/// Learner Credential Wallet's deep link for a VC API exchange (its "wallet API request":
/// the origin asking and the exchange URL).
fn lcw_link(exchange_url: &str) -> String {
    let origin = exchange_url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)))
        .unwrap_or_default();
    let request = json!({"credentialRequestOrigin": origin, "protocols": {"vcapi": exchange_url}})
        .to_string();
    format!(
        "https://lcw.app/request?request={}",
        super::render::url_encode(&request)
    )
}

fn offer_page(
    inner: &Inner,
    base: &str,
    stored: &Stored,
    at: OffsetDateTime,
) -> Result<String, ApiError> {
    let names = published(inner, &stored.record.institution)?;
    let items: Vec<String> = stored
        .offer
        .items
        .iter()
        .map(|i| {
            let (slug, _) = configuration(&i.configuration_id);
            names
                .iter()
                .find(|(s, _, _)| s == slug)
                .map(|(_, n, _)| n.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| slug.to_owned())
        })
        .collect();
    let exchange = format!(
        "{base}/exchanges/{}",
        secret_of(inner, EXCHANGE_PURPOSE, &stored.record.id)?
    );
    let open = stored.offer.state == OfferState::Offered
        && microcred_core::parse_datetime(&stored.record.expires_at).is_some_and(|t| t > at);
    Ok(super::render::offer_page(&super::render::OfferPage {
        institution: &inner.institution(&stored.record.institution)?.profile,
        items: &items,
        link: &offer_link(base, &stored.record.id),
        qr: &format!("{base}/offers/{}/qr.svg", stored.record.id),
        lcw: (stored.offer.tx_code.is_none()).then(|| lcw_link(&exchange)),
        tx_code: stored.offer.tx_code.is_some(),
        expires_at: &stored.record.expires_at,
        open,
    }))
}

/// The open offer `offer` of credential `credential`, for its page: only an offer that names
/// this credential and can still be redeemed (anything else shows nothing).
pub(crate) fn wallet_offer(
    inner: &Inner,
    base: &str,
    offer: &str,
    credential: &str,
    at: OffsetDateTime,
) -> Result<Option<super::render::WalletOffer>, ApiError> {
    if !valid_offer_id(offer) {
        return Ok(None);
    }
    let Some(record) = inner.store.offer(offer)? else {
        return Ok(None);
    };
    let Ok(stored) = Stored::read(record) else {
        return Ok(None);
    };
    let names_it = stored.offer.items.iter().any(|i| {
        matches!(&i.source, Source::Credential(c) if c == credential)
            || i.credential_id.as_deref() == Some(credential)
    });
    let open = stored.offer.state == OfferState::Offered
        && microcred_core::parse_datetime(&stored.record.expires_at).is_some_and(|t| t > at);
    Ok((names_it && open).then(|| super::render::WalletOffer {
        link: offer_link(base, offer),
        qr: format!("{base}/offers/{offer}/qr.svg"),
        page: format!("{base}/offers/{offer}?format=html"),
        tx_code: stored.offer.tx_code.is_some(),
        expires_at: stored.record.expires_at.clone(),
    }))
}

/// `GET /offers/{id}/qr.svg`: the offer's `openid-credential-offer://` link as a QR code.
pub(crate) async fn offer_qr(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    if !valid_offer_id(&id) {
        return Err(ApiError::NotFound("no such offer".into()));
    }
    let base = state.inner().site.base_url.clone();
    let svg = state
        .blocking(move |inner| {
            inner
                .store
                .offer(&id)?
                .ok_or_else(|| ApiError::NotFound("no such offer".into()))?;
            qr_svg(&offer_link(&base, &id))
        })
        .await?;
    let mut r = (StatusCode::OK, svg).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    no_store(h);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    Ok(r)
}

/// A QR code of `text` as SVG (error correction M).
pub(crate) fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

// ---- VC API exchange -----------------------------------------------------------------------

/// `POST /exchanges/{id}`: `{}` starts the exchange (a DID Authentication request with a
/// challenge); `{"verifiablePresentation": …}` signed over that challenge by the wallet's
/// `did:key` completes it, answered with the credentials bound to that DID.
pub(crate) async fn exchange(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if id.len() != 43
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::NotFound("no such exchange".into()));
    }
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        crate::error::json_body(&body)?
    };
    let Some(obj) = request.as_object() else {
        return Err(ApiError::unprocessable(
            "the exchange request must be a JSON object",
        ));
    };
    let base = state.inner().site.base_url.clone();
    let domain = base
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or(&base)
        .to_owned();
    let at = now();
    let hash = offers::hash(&id);
    let vp = obj.get("verifiablePresentation").cloned();
    match vp {
        None => {
            let challenge = state
                .blocking(move |inner| {
                    let record = exchange_offer(inner, &hash)?;
                    let (_, challenge) = Stored::read(record)
                        .and_then(|s| s.start_exchange(&*inner.store, at))
                        .map_err(exchange_error)?;
                    Ok(challenge)
                })
                .await?;
            Ok(json_no_store(
                StatusCode::OK,
                json!({"verifiablePresentationRequest": {
                    "query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}],
                               "acceptedCryptosuites": [{"cryptosuite": "eddsa-rdfc-2022"}, {"cryptosuite": "Ed25519Signature2020"}]}],
                    "challenge": challenge,
                    "domain": domain,
                }}),
            ))
        }
        Some(vp) => {
            let stored = state
                .cpu_public(move |inner| {
                    let record = exchange_offer(inner, &hash)?;
                    let stored = Stored::read(record).map_err(exchange_error)?;
                    let challenge = stored
                        .offer
                        .exchange
                        .as_ref()
                        .map(|e| e.challenge.clone())
                        .ok_or_else(|| {
                            ApiError::Conflict(
                                "the exchange has not started, or is over: POST {} to it first"
                                    .into(),
                            )
                        })?;
                    let holder = did_authentication(&vp, &challenge, &domain, at)?;
                    stored
                        .finish_exchange(&*inner.store, &holder, at)
                        .map_err(exchange_error)
                })
                .await?;
            let mut credentials = Vec::new();
            for index in 0..stored.offer.items.len() {
                let item = &stored.offer.items[index];
                if item.pending {
                    continue;
                }
                let Some(holder) = item.holder.clone() else {
                    continue;
                };
                let again = state
                    .blocking({
                        let id = stored.record.id.clone();
                        move |inner| {
                            inner
                                .store
                                .offer(&id)?
                                .ok_or_else(|| ApiError::NotFound("no such offer".into()))
                        }
                    })
                    .await?;
                let fresh = Stored::read(again).map_err(exchange_error)?;
                let body = issue_item(&state, fresh, index, &holder, at)
                    .await
                    .map_err(|e| exchange_error(e.0))?;
                credentials.push(
                    serde_json::from_slice::<Value>(&body)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                );
            }
            Ok(json_no_store(
                StatusCode::OK,
                json!({"verifiablePresentation": {
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                    "type": ["VerifiablePresentation"],
                    "verifiableCredential": credentials,
                }}),
            ))
        }
    }
}

fn exchange_offer(inner: &Inner, hash: &[u8; 32]) -> Result<OfferRecord, ApiError> {
    inner
        .store
        .offer_by_secret(OfferSecret::Exchange, hash)?
        .ok_or_else(|| ApiError::NotFound("no such exchange".into()))
}

fn exchange_error(e: OfferError) -> ApiError {
    match e {
        OfferError::InvalidGrant(m) | OfferError::Denied(m) => ApiError::Conflict(m),
        OfferError::Conflict => ApiError::Conflict(e.to_string()),
        OfferError::Store(s) => s.into(),
        OfferError::Corrupt(m) => ApiError::Internal(m),
        other => ApiError::unprocessable(other.to_string()),
    }
}

/// Checks a DID Authentication presentation: signed (Data Integrity, strict Ed25519) for
/// `authentication` over `challenge` and `domain` by a key of its `holder`, a `did:key`.
fn did_authentication(
    vp: &Value,
    challenge: &str,
    domain: &str,
    at: OffsetDateTime,
) -> Result<String, ApiError> {
    let obj = vp
        .as_object()
        .ok_or_else(|| ApiError::unprocessable("verifiablePresentation must be an object"))?;
    let holder = match obj.get("holder") {
        Some(Value::String(h)) => h.clone(),
        Some(Value::Object(h)) => h
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    if !holder.starts_with("did:key:") {
        return Err(ApiError::unprocessable(
            "the presentation must name its holder, a did:key: the credentials are bound to it",
        ));
    }
    let keys = microcred_core::KeyRing::new();
    let options = microcred_core::VerifyOptions::new(at, &keys);
    let proofs =
        microcred_core::verify_presentation_proofs(obj, &options, Some(challenge), Some(domain));
    if proofs.checks.is_empty() {
        return Err(ApiError::unprocessable(
            "the presentation is not signed: sign it with the holder's key over the challenge and domain",
        ));
    }
    if let Some((_, why)) = proofs
        .checks
        .iter()
        .find(|(o, _)| *o != microcred_core::Outcome::Pass)
    {
        return Err(ApiError::unprocessable(format!(
            "the DID Authentication does not check out: {why}"
        )));
    }
    Ok(holder)
}

// ---- The institution's API -----------------------------------------------------------------

/// The body of `POST /v1/institutions/{inst}/offers`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewOffer {
    /// Each credential: an issuance request (optionally `"pending": true`), or
    /// `{"credential": "<id>"}` for an issued one.
    credentials: Vec<Value>,
    /// Ask the wallet for a transaction code (sent to the learner another way).
    #[serde(default)]
    tx_code: bool,
    /// Seconds the offer stays redeemable (default 900, at most 7 days).
    #[serde(default)]
    expires_in: Option<i64>,
}

/// `POST /v1/institutions/{inst}/offers` (scope `issue`): an offer of up to 20 credentials
/// to one learner's wallet.
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<Issue>,
    AppJson(req): AppJson<NewOffer>,
) -> Result<Response, ApiError> {
    let actor = auth.principal().actor().to_owned();
    let inst = auth.into_institution();
    if req.credentials.is_empty() || req.credentials.len() > MAX_ITEMS {
        return Err(ApiError::unprocessable(format!(
            "an offer holds 1 to {MAX_ITEMS} credentials"
        )));
    }
    let ttl = match req.expires_in {
        None => offers::DEFAULT_TTL,
        Some(s) if (60..=offers::MAX_TTL.whole_seconds()).contains(&s) => {
            time::Duration::seconds(s)
        }
        Some(_) => {
            return Err(ApiError::unprocessable(format!(
                "expiresIn must be 60 to {} seconds",
                offers::MAX_TTL.whole_seconds()
            )))
        }
    };
    let base = state.inner().site.base_url.clone();
    let at = now();
    let (stored, tx, object, exchange) = state
        .blocking(move |inner| {
            let mut items = Vec::with_capacity(req.credentials.len());
            for (i, c) in req.credentials.into_iter().enumerate() {
                items.push(new_item(inner, &inst, c).map_err(|e| match e {
                    ApiError::Unprocessable { message, details } => ApiError::Unprocessable {
                        message: format!("credentials[{i}]: {message}"),
                        details,
                    },
                    ApiError::NotFound(m) => {
                        ApiError::unprocessable(format!("credentials[{i}]: {m}"))
                    }
                    other => other,
                })?);
            }
            let rand = |e: getrandom::Error| ApiError::Internal(format!("no randomness: {e}"));
            let id = offers::offer_id().map_err(rand)?;
            let tx = if req.tx_code {
                Some(offers::tx_code().map_err(rand)?)
            } else {
                None
            };
            let offer = offers::Offer {
                state: OfferState::Offered,
                items,
                tx_code: tx.as_deref().map(|t| TxCode::new(&id, t)),
                token_expires_at: None,
                exchange: None,
                created_by: actor,
                events: vec![offers::Event {
                    at: microcred_core::format_datetime(at),
                    what: "offered".into(),
                }],
            };
            let code = secret_of(inner, CODE_PURPOSE, &id)?;
            let exchange = secret_of(inner, EXCHANGE_PURPOSE, &id)?;
            let record = OfferRecord {
                id: id.clone(),
                institution: inst.clone(),
                version: 1,
                code_hash: offers::hash(&code),
                token_hash: None,
                exchange_hash: offers::hash(&exchange),
                created_at: microcred_core::format_datetime(at),
                expires_at: microcred_core::format_datetime(at + ttl),
                body: serde_json::to_vec(&offer).map_err(|e| ApiError::Internal(e.to_string()))?,
            };
            inner.store.insert_offer(&record)?;
            let stored = Stored { record, offer };
            let object = offer_object(inner, &base, &stored)?;
            Ok((stored, tx, object, format!("{base}/exchanges/{exchange}")))
        })
        .await?;
    let base = state.inner().site.base_url.clone();
    let mut body = offer_json(&base, &stored);
    if let Some(o) = body.as_object_mut() {
        o.insert("credentialOffer".into(), object);
        if let Some(t) = tx {
            o.insert("txCode".into(), json!(t));
        } else {
            o.insert("exchangeUrl".into(), json!(exchange));
            o.insert("lcwLink".into(), json!(lcw_link(&exchange)));
        }
    }
    Ok(json_no_store(StatusCode::CREATED, body))
}

/// One item of a new offer, checked: the achievement is published (or the credential is the
/// institution's and not revoked).
fn new_item(inner: &Inner, inst: &str, c: Value) -> Result<offers::Item, ApiError> {
    let Value::Object(mut o) = c else {
        return Err(ApiError::unprocessable("each credential must be an object"));
    };
    if let Some(id) = o.get("credential") {
        if o.len() != 1 {
            return Err(ApiError::unprocessable(
                "{\"credential\": id} takes nothing else (the credential is issued again as it is)",
            ));
        }
        let id = id
            .as_str()
            .filter(|i| super::public::valid_credential_id(i))
            .ok_or_else(|| ApiError::unprocessable("credential must be a credential id"))?
            .to_owned();
        let rec = inner
            .store
            .credential(&id)?
            .filter(|r| r.credential.institution == inst)
            .ok_or_else(|| ApiError::NotFound(format!("no credential {id} of this institution")))?;
        if rec.revoked_at.is_some() {
            return Err(ApiError::unprocessable(format!(
                "credential {id} is revoked"
            )));
        }
        if rec.credential.achievement.is_empty() {
            return Err(ApiError::unprocessable(format!(
                "credential {id} was issued through the VC API, not from an achievement: it cannot be offered again"
            )));
        }
        let again = IssueRequest::again(&rec)?;
        let suite = again.cryptosuite().map(str::to_owned);
        return Ok(offers::Item {
            configuration_id: configuration_id(&rec.credential.achievement, suite.as_deref()),
            source: Source::Credential(id),
            pending: false,
            transaction: None,
            holder: None,
            credential_id: None,
            issued_at: None,
        });
    }
    let pending = match o.remove("pending") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(ApiError::unprocessable("pending must be true or false")),
    };
    let value = Value::Object(o);
    let req = IssueRequest::from_value(value.clone())?;
    // Made and dropped now, so that a wallet never meets a request that cannot be issued.
    req.check(inner, inst)?;
    Ok(offers::Item {
        configuration_id: configuration_id(req.achievement(), req.cryptosuite()),
        source: Source::Request(value),
        pending,
        transaction: None,
        holder: None,
        credential_id: None,
        issued_at: None,
    })
}

fn configuration_id(slug: &str, suite: Option<&str>) -> String {
    match suite {
        Some("eddsa-jcs-2022") => format!("{slug}{JCS_SUFFIX}"),
        _ => slug.to_owned(),
    }
}

/// What the institution's API says about an offer (no secrets but the links).
fn offer_json(base: &str, stored: &Stored) -> Value {
    let id = &stored.record.id;
    json!({
        "id": id,
        "state": stored.offer.state,
        "createdAt": stored.record.created_at,
        "expiresAt": stored.record.expires_at,
        "createdBy": stored.offer.created_by,
        "credentialOfferUri": format!("{base}/offers/{id}"),
        "offerUri": offer_link(base, id),
        "qrCode": format!("{base}/offers/{id}/qr.svg"),
        "page": format!("{base}/offers/{id}?format=html"),
        "txCodeRequired": stored.offer.tx_code.is_some(),
        "items": stored.offer.items.iter().enumerate().map(|(i, item)| json!({
            "index": i,
            "configurationId": item.configuration_id,
            "state": if item.credential_id.is_some() { "issued" } else if item.pending { "pending" } else { "ready" },
            "holder": item.holder,
            "credential": item.credential_id.as_ref().map(|c| format!("{base}/credentials/{c}")),
            "issuedAt": item.issued_at,
        })).collect::<Vec<_>>(),
        "events": stored.offer.events,
    })
}

/// `GET /v1/institutions/{inst}/offers?offset=N&limit=N` (any scope): a page of the offers,
/// newest first, with their total.
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<Member>,
    Query(q): Query<crate::routes::issue::ListQuery>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let base = state.inner().site.base_url.clone();
    // As the credentials list: 100 at a time by default, at most 1,000.
    let page = crate::store::Page {
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(100).min(1000),
    };
    let (total, offers) = state
        .blocking(move |inner| {
            let total = inner.store.offer_count(&inst)?;
            let offers = inner
                .store
                .offers(&inst, page)?
                .into_iter()
                .map(|r| Stored::read(r).map_err(|e| ApiError::Internal(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((total, offers))
        })
        .await?;
    Ok(json_no_store(
        StatusCode::OK,
        json!({
            "total": total,
            "offset": page.offset,
            "offers": offers.iter().map(|s| offer_json(&base, s)).collect::<Vec<_>>(),
        }),
    ))
}

/// The `{id}` segment of `/v1/institutions/{inst}/offers/{id}` routes.
#[derive(Debug, Deserialize)]
pub(crate) struct OfferSegment {
    id: String,
}

/// The `{id}` and `{index}` segments of the release route.
#[derive(Debug, Deserialize)]
pub(crate) struct ItemSegment {
    id: String,
    index: usize,
}

fn institution_offer(inner: &Inner, inst: &str, id: &str) -> Result<Stored, ApiError> {
    let record = valid_offer_id(id)
        .then(|| inner.store.offer(id))
        .transpose()?
        .flatten()
        .filter(|r| r.institution == inst)
        .ok_or_else(|| ApiError::NotFound("no such offer".into()))?;
    Stored::read(record).map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /v1/institutions/{inst}/offers/{id}` (any scope): one offer and its audit trail.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    auth: Authorized<Member>,
    AppPath(seg): AppPath<OfferSegment>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let base = state.inner().site.base_url.clone();
    let stored = state
        .blocking(move |inner| institution_offer(inner, &inst, &seg.id))
        .await?;
    Ok(json_no_store(StatusCode::OK, offer_json(&base, &stored)))
}

/// The body of the release route: optionally the final issuance request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Release {
    #[serde(default)]
    request: Option<Value>,
}

/// `POST /v1/institutions/{inst}/offers/{id}/items/{index}/release` (scope `issue`): a
/// pending credential is ready (optionally with its final request, e.g. the results); the
/// wallet's next deferred request receives it.
pub(crate) async fn release(
    State(state): State<AppState>,
    auth: Authorized<Issue>,
    AppPath(seg): AppPath<ItemSegment>,
    AppJson(body): AppJson<Release>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let base = state.inner().site.base_url.clone();
    let at = now();
    let stored = state
        .blocking(move |inner| {
            let stored = institution_offer(inner, &inst, &seg.id)?;
            let request = match body.request {
                Some(r) => {
                    let req = IssueRequest::from_value(r.clone())?;
                    req.check(inner, &inst)?;
                    let item = stored.offer.items.get(seg.index).ok_or_else(|| {
                        ApiError::NotFound(format!("the offer has no item {}", seg.index))
                    })?;
                    if configuration_id(req.achievement(), req.cryptosuite())
                        != item.configuration_id
                    {
                        return Err(ApiError::unprocessable(
                            "the request must be for the item's achievement and suite",
                        ));
                    }
                    Some(r)
                }
                None => None,
            };
            stored
                .release(&*inner.store, seg.index, request, at)
                .map_err(admin_error)
        })
        .await?;
    Ok(json_no_store(StatusCode::OK, offer_json(&base, &stored)))
}

/// `POST /v1/institutions/{inst}/offers/{id}/cancel` (scope `issue`): withdraws an offer.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<Issue>,
    AppPath(seg): AppPath<OfferSegment>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let base = state.inner().site.base_url.clone();
    let at = now();
    let stored = state
        .blocking(move |inner| {
            institution_offer(inner, &inst, &seg.id)?
                .cancel(&*inner.store, at)
                .map_err(admin_error)
        })
        .await?;
    Ok(json_no_store(StatusCode::OK, offer_json(&base, &stored)))
}

fn admin_error(e: OfferError) -> ApiError {
    match e {
        OfferError::UnknownCredential(m) => ApiError::NotFound(m),
        OfferError::Denied(m) => ApiError::Conflict(m),
        OfferError::Conflict => ApiError::Conflict(e.to_string()),
        OfferError::Store(s) => s.into(),
        OfferError::Corrupt(m) => ApiError::Internal(m),
        other => ApiError::unprocessable(other.to_string()),
    }
}
