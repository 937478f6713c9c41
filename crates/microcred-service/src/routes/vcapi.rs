//! The W3C VC API subset: `POST /credentials/issue`, `/credentials/verify`,
//! `/presentations/verify`.
//!
//! Issue needs an institution token with scope `issue`; the credential's issuer is the
//! token's institution. Nothing a caller sends can touch another credential:
//!
//! - **Status.** The service signs only Bitstring Status List entries it allocated for that
//!   credential. A request entry that only asks for one (`{"type":
//!   "BitstringStatusListEntry", "statusPurpose": "revocation" | "suspension"}`) is replaced
//!   by a fresh entry for that purpose; an entry naming a list or an index (this service's or
//!   anyone's), or anything else pointing into this service, is refused (422 naming the
//!   member). Entries of other status methods (e.g. `CredentialStatusList2017`, which the VC
//!   Data Model test suite issues) are kept as sent: revocation here reads only the entries
//!   the service allocated. A VC 2.0 credential that asked for none gets the institution's
//!   usual entries, so the institution can always revoke what it signed; a VC 1.1 one
//!   (legacy: its context has no term for them) is issued without.
//! - **Id.** A caller's `id` (or `options.credentialId`) must be `urn:uuid:<UUID>` or this
//!   service's `<base>/credentials/<UUID>`: that UUID is the credential's key in the store,
//!   so it is fetchable at `/credentials/<UUID>` and can never be issued twice (409). Other
//!   ids are refused (422).
//!
//! Verify is public and works from the exact bytes received (strict
//! JSON: duplicate member names are refused), resolving keys of institutions hosted here
//! (current and retired) and `did:key`; other DIDs are not fetched.
//! Verify answers 200 when verified, 400 when the credential is invalid, 422 when it could
//! not be checked (e.g. an unknown issuer key), each with a VerificationResult body.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use microcred_core::{KeyRing, Report, StatusListCredential, Verdict, VerifyOptions};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::idempotency_key;
use super::issue::replay;
use crate::app::now;
use crate::auth::Issuer;
use crate::crypto::sha256;
use crate::error::{body_error, ApiError, AppJson, DomainError};
use crate::issuer::{did_document, parse_suite, RowError};
use crate::state::AppState;
use crate::store::{InsertOutcome, NewCredential};

/// The Data Integrity context (bundled), which defines the proof terms for VC 1.1 documents.
const DATA_INTEGRITY_V2_CONTEXT: &str = "https://w3id.org/security/data-integrity/v2";

/// The first `@context` entry of `credential`, when it is a string.
fn first_context(credential: &Map<String, Value>) -> Option<&str> {
    match credential.get("@context") {
        Some(Value::Array(items)) => items.first().and_then(Value::as_str),
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueRequest {
    credential: Value,
    #[serde(default)]
    options: Map<String, Value>,
}

/// The `options` of an issue request this service understands: `type` (earlier VC API
/// drafts; only `DataIntegrityProof`), `cryptosuite`, and `credentialId` (VC API
/// `IssueCredentialOptions`). `mandatoryPointers` (the same schema) is for selective
/// disclosure suites, which this service does not have; anything else is refused rather than
/// ignored, so a request is never signed differently from what it asked for.
struct IssueOptions {
    suite: microcred_core::Cryptosuite,
    credential_id: Option<Value>,
}

fn issue_options(options: &Map<String, Value>) -> Result<IssueOptions, ApiError> {
    let mut suite_name = None;
    let mut credential_id = None;
    for (name, value) in options {
        match name.as_str() {
            "type" => {
                if value.as_str() != Some(microcred_core::DATA_INTEGRITY_PROOF) {
                    return Err(ApiError::unprocessable(format!(
                        "options.type must be \"{}\": the only proof type this issuer creates",
                        microcred_core::DATA_INTEGRITY_PROOF
                    )));
                }
            }
            "cryptosuite" => match value {
                Value::String(s) => suite_name = Some(s.as_str()),
                _ => {
                    return Err(ApiError::unprocessable(
                        "options.cryptosuite must be a string",
                    ))
                }
            },
            "credentialId" => credential_id = Some(value.clone()),
            "mandatoryPointers" => {
                return Err(ApiError::Unprocessable {
                    message: "options.mandatoryPointers is for selective disclosure cryptosuites, which this issuer does not have: its suites sign the whole credential".into(),
                    details: Some(json!({"supported": crate::issuer::suite_names()})),
                })
            }
            other => {
                return Err(ApiError::unprocessable(format!(
                    "options.{other} is not an option of this issuer: the options are type (\"DataIntegrityProof\"), cryptosuite and credentialId"
                )))
            }
        }
    }
    let suite = parse_suite(suite_name).map_err(|m| ApiError::Unprocessable {
        message: format!("options.cryptosuite: {m}"),
        details: Some(json!({"supported": crate::issuer::suite_names()})),
    })?;
    Ok(IssueOptions {
        suite,
        credential_id,
    })
}

/// The storage id (a UUID) that a caller-given credential id names, or why it is refused.
///
/// Accepted: `urn:uuid:<UUID>` and this service's own `<base>/credentials/<UUID>`, the UUID
/// lowercase and hyphenated (any version): that UUID becomes the credential's key in the
/// store. Also accepted, because VC 2.0 allows any URL as an id (and the W3C VC 2.0 test suite
/// issues `https://example.org/credentials/1`): an absolute `https:`/`http:` URL elsewhere,
/// keyed by a UUID derived from it (`derived_id`). Either way a second credential with the
/// same id is impossible (the store's key decides) and the credential is fetchable here at
/// `/credentials/<UUID>` (the answer's `Location`). Any other id is refused.
fn caller_id(value: &Value, base: &str, path: &str) -> Result<String, ApiError> {
    let expected = || {
        format!(
            "{path} must be \"urn:uuid:<UUID>\", \"{base}/credentials/<UUID>\" (UUID lowercase and hyphenated) or another absolute https: URL, or left out for the service to give one: other ids could not be kept unique and fetched from this service"
        )
    };
    let text = value
        .as_str()
        .ok_or_else(|| ApiError::unprocessable(expected()))?;
    let own = format!("{base}/credentials/");
    if let Some(uuid) = text
        .strip_prefix("urn:uuid:")
        .or_else(|| text.strip_prefix(own.as_str()))
    {
        return match uuid::Uuid::parse_str(uuid) {
            Ok(u) if u.hyphenated().to_string() == uuid => Ok(uuid.to_owned()),
            _ => Err(ApiError::unprocessable(expected())),
        };
    }
    if is_web_url(text) && !text.starts_with(base) {
        return Ok(derived_id(text));
    }
    Err(ApiError::unprocessable(expected()))
}

/// An absolute `https:` or `http:` URL with a host, no spaces, control characters or
/// fragment, at most 2,048 bytes: the ids `caller_id` keys by a derived UUID.
fn is_web_url(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    text.len() <= 2048
        && !host.is_empty()
        && !host.contains('@')
        && !text.contains('#')
        && text.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
                )
        })
}

/// The store key of a credential whose id is a URL elsewhere: a UUID (version 8, RFC 9562)
/// made of the first 16 bytes of SHA-256 over a domain-separation label and the id, so the
/// same id always maps to the same key and the store's primary key keeps it unique.
fn derived_id(id: &str) -> String {
    let digest = sha256(format!("microcred credential id\n{id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn id_taken(path: &str, id: &Value) -> ApiError {
    ApiError::Conflict(format!(
        "{path} {id} is already the id of a credential issued here: ids are unique, give a new one (or none, and the service gives one)"
    ))
}

/// One entry of the `credentialStatus` the service will sign.
enum StatusSlot {
    /// An entry of another status method, kept as sent.
    Kept(Value),
    /// An entry the service allocates, for this purpose.
    Allocate(crate::store::StatusPurpose),
}

/// Status entry types this service could be asked for: it allocates the first; the others
/// are older bitstring methods it does not publish.
const BITSTRING_TYPES: [&str; 3] = [
    microcred_core::STATUS_LIST_ENTRY,
    "StatusList2021Entry",
    "RevocationList2020Status",
];
/// Members that name a status list or a position in one.
const LIST_MEMBERS: [&str; 4] = [
    "statusListCredential",
    "statusListIndex",
    "revocationListCredential",
    "revocationListIndex",
];

/// Reads the request's `credentialStatus` (see the module docs): `None` when there is none.
/// `own` is this service's base URL with a trailing slash.
fn status_request(
    status: Option<&Value>,
    own: &str,
) -> Result<Option<Vec<(String, StatusSlot)>>, ApiError> {
    let (items, array) = match status {
        None => return Ok(None),
        Some(Value::Array(items)) => (items.iter().collect::<Vec<_>>(), true),
        Some(one @ Value::Object(_)) => (vec![one], false),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "credential.credentialStatus must be an object or an array of objects",
            ))
        }
    };
    let allocates = |path: &str| {
        format!(
            "{path}: this service allocates the status entries it signs; to ask for one send {{\"type\": \"{}\", \"statusPurpose\": \"revocation\" or \"suspension\"}} and nothing else (or no credentialStatus, for the institution's usual entries)",
            microcred_core::STATUS_LIST_ENTRY
        )
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let path = if array {
            format!("credential.credentialStatus[{i}]")
        } else {
            "credential.credentialStatus".to_owned()
        };
        let Value::Object(entry) = item else {
            return Err(ApiError::unprocessable(format!(
                "{path} must be an object with a `type`"
            )));
        };
        let types: Vec<&str> = match entry.get("type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&microcred_core::STATUS_LIST_ENTRY) {
            if let Some(member) = entry
                .keys()
                .find(|k| !matches!(k.as_str(), "type" | "statusPurpose"))
            {
                return Err(ApiError::unprocessable(allocates(&format!(
                    "{path}.{member}"
                ))));
            }
            let purpose = entry
                .get("statusPurpose")
                .and_then(Value::as_str)
                .and_then(crate::store::StatusPurpose::parse)
                .ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "{path}.statusPurpose must be \"revocation\" or \"suspension\" (the purposes this service publishes lists for)"
                    ))
                })?;
            out.push((path, StatusSlot::Allocate(purpose)));
            continue;
        }
        if let Some(t) = types.iter().find(|t| BITSTRING_TYPES.contains(t)) {
            return Err(ApiError::unprocessable(format!(
                "{path}.type: this service does not publish {t} lists; {}",
                allocates(&path)
            )));
        }
        if let Some(member) = LIST_MEMBERS.iter().find(|m| entry.contains_key(**m)) {
            return Err(ApiError::unprocessable(allocates(&format!(
                "{path}.{member}"
            ))));
        }
        // Another status method: it cannot name this service's lists or credentials (only
        // entries the service allocated may point here).
        if let Some(member) = entry.iter().find(|(_, v)| mentions(v, own)).map(|(k, _)| k) {
            return Err(ApiError::unprocessable(format!(
                "{path}.{member} points into this service, which only signs status entries it allocated itself; {}",
                allocates(&path)
            )));
        }
        out.push((path, StatusSlot::Kept(item.clone())));
    }
    Ok(Some(out))
}

/// Whether any string in `v` is a URL under `own`.
fn mentions(v: &Value, own: &str) -> bool {
    match v {
        Value::String(s) => s.starts_with(own),
        Value::Array(items) => items.iter().any(|i| mentions(i, own)),
        Value::Object(o) => o.values().any(|i| mentions(i, own)),
        _ => false,
    }
}

/// The `credentialStatus` to sign: the request's entries with the asked-for ones allocated,
/// plus the institution's usual entries when none was asked for (VC 2.0 only: VC 1.1's
/// context has no term for them). `None`: the credential gets no status.
fn signed_status(
    inner: &crate::state::Inner,
    inst: &str,
    request: Option<Vec<(String, StatusSlot)>>,
    vc1: bool,
) -> Result<Option<Value>, ApiError> {
    if vc1 {
        return match request {
            None => Ok(None),
            Some(slots) => {
                let mut kept = Vec::with_capacity(slots.len());
                for (path, slot) in slots {
                    match slot {
                        StatusSlot::Kept(v) => kept.push(v),
                        StatusSlot::Allocate(_) => return Err(ApiError::unprocessable(format!(
                            "{path}: a VC 1.1 credential cannot carry a {} (its context has no term for it): issue a VC 2.0 credential (first @context {}) to have a status",
                            microcred_core::STATUS_LIST_ENTRY,
                            microcred_core::VC_V2_CONTEXT
                        ))),
                    }
                }
                Ok(one_or_many(kept))
            }
        };
    }
    let plan = crate::status::StatusPlan::for_institution(inner, inst)?;
    let slots = request.unwrap_or_default();
    let asked = slots
        .iter()
        .any(|(_, s)| matches!(s, StatusSlot::Allocate(_)));
    let mut entries = Vec::with_capacity(slots.len() + plan.purposes.len());
    let mut purposes = Vec::new();
    for (path, slot) in slots {
        match slot {
            StatusSlot::Kept(v) => entries.push(v),
            StatusSlot::Allocate(p) => {
                if purposes.contains(&p) {
                    return Err(ApiError::unprocessable(format!(
                        "{path}: a {} entry is asked for twice",
                        p.as_str()
                    )));
                }
                if !plan.purposes.contains(&p) {
                    return Err(ApiError::unprocessable(format!(
                        "{path}.statusPurpose: suspension is not enabled for this institution (its settings: {{\"suspension\": true}})"
                    )));
                }
                purposes.push(p);
                entries.push(plan.entry(p)?);
            }
        }
    }
    if !asked {
        // Whatever else the credential carries, the institution can always revoke what it
        // signed: its own entries are added.
        for p in &plan.purposes {
            entries.push(plan.entry(*p)?);
        }
    }
    Ok(one_or_many(entries))
}

/// One entry as an object (what Open Badges' schema expects), several as an array, none as
/// no `credentialStatus` at all.
fn one_or_many(mut entries: Vec<Value>) -> Option<Value> {
    match entries.len() {
        0 => None,
        1 => entries.pop(),
        _ => Some(Value::Array(entries)),
    }
}

/// `POST /credentials/issue`: `{credential, options}` → 201 `{verifiableCredential}`.
///
/// Validation, status allocation, lint (JSON-LD expansion) and signing run as one job on the
/// CPU pool (`state.cpu`), never on the async workers; the insert goes through the commit
/// writer.
pub(crate) async fn issue(
    State(state): State<AppState>,
    Issuer(auth): Issuer,
    headers: HeaderMap,
    AppJson(req): AppJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let key = idempotency_key(&headers)?;
    let options = issue_options(&req.options)?;
    let Value::Object(credential) = req.credential else {
        return Err(ApiError::unprocessable(
            "`credential` must be a JSON object",
        ));
    };
    if credential.contains_key("proof") {
        return Err(ApiError::unprocessable(
            "`credential` already has a proof: send the unsigned credential",
        ));
    }
    let request_hash = sha256(
        &serde_json::to_vec(&(&credential, &req.options))
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    let base = state.inner().site.base_url.clone();
    let prepared = state
        .cpu(move |inner| prepare(inner, &inst, key, credential, options, request_hash))
        .await?;
    let (c, id_path, id_value) = match prepared {
        Prepared::Replay(rec) => return vc_replay(&base, &rec, &request_hash),
        Prepared::New(c, path, value) => (c, path, value),
    };
    let (id, body) = (c.id.clone(), c.body.clone());
    let mut out = state.inner().commits.commit(vec![*c]).await?;
    match out.pop() {
        Some(InsertOutcome::Inserted) => Ok(vc_response(&base, &id, &body, false)),
        Some(InsertOutcome::Existing(rec)) => vc_replay(&base, &rec, &request_hash),
        // Two requests with the same id raced past the check in `prepare`: the store's key
        // let one in.
        Some(InsertOutcome::IdTaken) => Err(id_taken(id_path, &id_value)),
        None => Err(ApiError::Internal("the store returned no outcome".into())),
    }
}

enum Prepared {
    Replay(Box<crate::store::CredentialRecord>),
    /// The credential to store, and where its id came from (for a conflict's message).
    New(Box<NewCredential>, &'static str, Value),
}

/// Everything before the insert: idempotent replay, the issuer, id, status, lint, signing.
fn prepare(
    inner: &crate::state::Inner,
    inst: &str,
    key: Option<String>,
    mut credential: Map<String, Value>,
    options: IssueOptions,
    request_hash: [u8; 32],
) -> Result<Prepared, ApiError> {
    if let Some(k) = &key {
        if let Some(rec) = inner.store.credential_by_key(inst, k)? {
            return Ok(Prepared::Replay(Box::new(rec)));
        }
    }
    let base = &*inner.site.base_url;
    let institution = inner.institution(inst)?;
    // The VC API issues the credential it is given: `issuer` is part of it (VC 2.0 requires
    // it), and a request without one is invalid input. (The institution's own `/v1` API
    // builds credentials and fills the issuer in.)
    match credential.get("issuer") {
        None => {
            return Err(ApiError::BadRequest(format!(
                "the credential has no `issuer`: VC 2.0 requires one; give this institution's DID (\"{}\") or its Profile with that `id`",
                institution.did
            )))
        }
        Some(Value::Object(o)) if !o.contains_key("id") => {
            return Err(ApiError::BadRequest(format!(
                "the credential's `issuer` object has no `id`: give this institution's DID (\"{}\")",
                institution.did
            )))
        }
        Some(Value::String(s)) if *s == institution.did => {}
        Some(Value::Object(o))
            if o.get("id").and_then(Value::as_str) == Some(institution.did.as_str()) => {}
        Some(_) => {
            return Err(ApiError::unprocessable(format!(
                "the credential's issuer must be this institution: its DID ({}) or its Profile with that `id`",
                institution.did
            )))
        }
    }
    // The credential's key in the store: from its own id or options.credentialId when the
    // caller gives one (both must then name the same), else a fresh UUIDv7.
    let from_credential = match credential.get("id") {
        Some(v) => Some(caller_id(v, base, "credential.id")?),
        None => None,
    };
    let from_options = match &options.credential_id {
        Some(v) => Some(caller_id(v, base, "options.credentialId")?),
        None => None,
    };
    let (id, id_path, id_value) = match (from_credential, from_options) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::unprocessable(
                "options.credentialId names another credential than credential.id: give one of them (the VC API advises credential.id)",
            ))
        }
        (Some(a), _) => (a, "credential.id", credential.get("id").cloned()),
        (None, Some(b)) => (b, "options.credentialId", options.credential_id.clone()),
        (None, None) => (
            crate::crypto::new_credential_id().map_err(|e| ApiError::Internal(e.to_string()))?,
            "credential.id",
            None,
        ),
    };
    let id_value = id_value.unwrap_or_else(|| format!("{base}/credentials/{id}").into());
    // Checked here so a taken id costs no status indexes and no signature; the store's key
    // still decides a race between two requests (see `issue`).
    if inner.store.credential_body(&id)?.is_some() {
        // A concurrent retry under the same idempotency key may have stored it since the
        // look-up above (key and id are written together): that is a replay, not a conflict.
        if let Some(k) = &key {
            if let Some(rec) = inner.store.credential_by_key(inst, k)? {
                return Ok(Prepared::Replay(Box::new(rec)));
            }
        }
        return Err(id_taken(id_path, &id_value));
    }
    if !credential.contains_key("id") {
        credential.insert("id".into(), format!("{base}/credentials/{id}").into());
    }
    let at = now();
    // VC 1.1 (legacy, still sent by the W3C test suites) has `issuanceDate`, and no term for
    // Bitstring Status List entries: such credentials are issued without a status of ours.
    let vc1 = first_context(&credential) == Some(microcred_core::VC_V1_CONTEXT);
    let status = status_request(credential.get("credentialStatus"), &format!("{base}/"))?;
    if !credential.contains_key("validFrom") && !credential.contains_key("issuanceDate") {
        let field = if vc1 { "issuanceDate" } else { "validFrom" };
        credential.insert(field.into(), microcred_core::format_datetime(at).into());
    }
    if vc1 {
        // The VC 1.1 context does not define the proof's terms (`DataIntegrityProof`,
        // `cryptosuite`): Data Integrity's context is added, as its spec requires.
        if let Some(Value::Array(items)) = credential.get_mut("@context") {
            if !items
                .iter()
                .any(|c| c.as_str() == Some(DATA_INTEGRITY_V2_CONTEXT))
            {
                items.push(DATA_INTEGRITY_V2_CONTEXT.into());
            }
        }
    }
    match signed_status(inner, inst, status, vc1)? {
        Some(s) => {
            credential.insert("credentialStatus".into(), s);
        }
        None => {
            credential.shift_remove("credentialStatus");
        }
    }
    let value = Value::Object(credential);
    // The institution's lint profile applies (its mandatory elements are errors for
    // MicroCredential achievements).
    let profile = crate::lint_profile::institution(&*inner.store, inst)?;
    let signing = inner.keys.active(inst)?;
    // Lint and signing share one JSON-LD expansion (see `microcred_core::sign_checked`).
    let contexts = microcred_core::bundled_contexts();
    let setup = microcred_core::ProofSetup::new(
        &signing.key,
        options.suite,
        at,
        value.get("@context"),
        contexts,
    )
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let signed = match microcred_core::sign_checked(
        value,
        microcred_core::IssueCheck::Full,
        &setup,
        &signing.key,
        &microcred_core::LintOptions::new()
            .with_contexts(contexts)
            .with_profile(profile),
    ) {
        Ok((signed, _warnings)) => signed,
        Err(RowError::Lint(report)) => {
            let first: Vec<String> = report
                .errors()
                .take(3)
                .map(|f| {
                    let path = if f.path.is_empty() {
                        "credential".to_owned()
                    } else {
                        format!("credential.{}", f.path)
                    };
                    format!("{path}: {}", f.message)
                })
                .collect();
            return Err(ApiError::Unprocessable {
                message: format!("the credential has lint errors: {}", first.join("; ")),
                details: Some(json!({"findings": report.findings, "lintProfile": report.profile})),
            });
        }
        Err(e @ RowError::Signer(_)) => return Err(ApiError::Unavailable(e.message())),
        Err(e) => return Err(ApiError::unprocessable(e.to_string())),
    };
    let body = serde_json::to_vec(&signed).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Prepared::New(
        Box::new(NewCredential {
            id,
            institution: inst.to_owned(),
            achievement: String::new(),
            achievement_version: 0,
            idempotency_key: key,
            request_hash,
            issued_at: microcred_core::format_datetime(at),
            method_id: signing.key.id().to_owned(),
            body,
            packed: None,
            // A VC API request brings its own subject: its `id`, when it has one, is the
            // learner (an e-mail recipient would be hashed already).
            learner: signed["credentialSubject"]["id"]
                .as_str()
                .map(|id| crate::learner::key(inner.keys.master(), id))
                .transpose()
                .map_err(|e| ApiError::Internal(format!("learner key: {e}")))?,
            stack_check: None,
        }),
        id_path,
        id_value,
    ))
}

fn vc_replay(
    base: &str,
    rec: &crate::store::CredentialRecord,
    request_hash: &[u8; 32],
) -> Result<Response, ApiError> {
    // Same checks as the native endpoint, VC API body shape.
    replay(base, rec, request_hash)?;
    Ok(vc_response(
        base,
        &rec.credential.id,
        &rec.credential.body,
        true,
    ))
}

fn vc_response(base: &str, id: &str, body: &[u8], replayed: bool) -> Response {
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(b"{\"verifiableCredential\":");
    out.extend_from_slice(body);
    out.push(b'}');
    let mut r = super::raw_json(StatusCode::CREATED, out, "application/json");
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("{base}/credentials/{id}")) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    if replayed {
        r.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    r
}

/// Every hosted institution's DID document in one key ring (plus `did:key`, computed).
fn hosted_keys(inner: &crate::state::Inner) -> Result<KeyRing, ApiError> {
    let mut ring = KeyRing::new();
    for inst in inner.store.institutions()? {
        let keys = inner.store.keys(&inst.slug)?;
        let doc = did_document(&inst, &keys);
        // An institution whose keys are all compromised lists none: skip it.
        let _ = ring.add_controller_document(&doc);
    }
    Ok(ring)
}

/// The published copies of this service's status lists that `credentials` refer to (others
/// are not fetched: their status is reported unknown).
pub(crate) fn hosted_lists(
    inner: &crate::state::Inner,
    credentials: &[&Value],
) -> Result<Vec<StatusListCredential>, ApiError> {
    let at = now();
    let mut lists = Vec::new();
    let mut seen = Vec::new();
    for c in credentials {
        for url in microcred_core::status_list_urls(c) {
            if seen.contains(&url) {
                continue;
            }
            seen.push(url.clone());
            let Some(id) = url
                .strip_prefix(&*inner.site.base_url)
                .and_then(|rest| rest.strip_prefix("/status/"))
                .filter(|id| crate::status::valid_list_id(id))
            else {
                continue;
            };
            let list = match inner.status.published(inner, id) {
                Ok(p) => StatusListCredential::from_bytes(&p.body)
                    .map(|l| l.fetched_from(&url).captured_at(at))
                    .unwrap_or_else(|e| StatusListCredential::unavailable(&url, e.to_string())),
                Err(DomainError::NotFound(_)) => continue,
                Err(e) => StatusListCredential::unavailable(&url, e.to_string()),
            };
            lists.push(list);
        }
    }
    Ok(lists)
}

/// Parses the body strictly (duplicate member names refused) as a JSON object.
fn strict_object(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|e| body_error(e.status(), e.body_text()))?;
    match microcred_core::parse_strict(&body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(e.to_string())),
    }
}

fn result_body(report: &Report) -> Value {
    use microcred_core::{CheckKind, Outcome};
    let passed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Pass)
        .map(|c| c.check.label())
        .collect();
    let errors: Vec<Value> = report
        .checks
        .iter()
        .filter(|c| {
            c.outcome == Outcome::Fail
                || (c.outcome == Outcome::Unknown
                    && !matches!(c.check, CheckKind::Trust | CheckKind::Status))
        })
        .map(|c| json!({"check": c.check.label(), "message": c.reason}))
        .collect();
    let warnings: Vec<Value> = report
        .checks
        .iter()
        .filter(|c| {
            c.outcome == Outcome::NotChecked
                || (c.outcome == Outcome::Unknown && c.check == CheckKind::Status)
        })
        .map(|c| json!({"check": c.check.label(), "message": c.reason}))
        .collect();
    json!({
        "verified": report.verdict == Verdict::Valid,
        "verdict": report.verdict,
        "checks": passed,
        "warnings": warnings,
        "errors": errors,
        "report": report,
    })
}

fn verdict_status(verdicts: impl IntoIterator<Item = Verdict>) -> StatusCode {
    let mut status = StatusCode::OK;
    for v in verdicts {
        match v {
            Verdict::Valid => {}
            Verdict::Invalid => return StatusCode::BAD_REQUEST,
            _ => status = StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    status
}

fn options_time(options: Option<&Value>) -> Result<time::OffsetDateTime, ApiError> {
    match options.and_then(|o| o.get("at")) {
        None => Ok(now()),
        Some(Value::String(s)) => microcred_core::parse_datetime(s).ok_or_else(|| {
            ApiError::unprocessable("options.at must be a date-time with a time zone")
        }),
        Some(_) => Err(ApiError::unprocessable("options.at must be a string")),
    }
}

/// `POST /credentials/verify`: `{verifiableCredential, options?}`.
///
/// Anyone may call it, and parsing and verifying up to a body's worth of JSON is CPU work: it
/// all runs on the public share of the CPU pool (503 + `Retry-After` when that is full). The
/// key and status-list look-ups run in the same job, so an admitted request is never refused
/// half-way.
pub(crate) async fn verify_credential(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| body_error(e.status(), e.body_text()))?;
    state
        .cpu_public(move |inner| {
            let mut req = strict_object(Ok(body))?;
            let vc = req
                .shift_remove("verifiableCredential")
                .ok_or_else(|| ApiError::unprocessable("the body needs `verifiableCredential`"))?;
            let at = options_time(req.get("options"))?;
            let lists = hosted_lists(inner, &[&vc])?;
            let ring = hosted_keys(inner)?;
            let report = microcred_core::verify_value(
                &vc,
                &VerifyOptions::new(at, &ring).status_lists(&lists),
            );
            let status = verdict_status([report.verdict]);
            Ok((status, AppJson(result_body(&report))).into_response())
        })
        .await
}

/// `POST /presentations/verify`: `{verifiablePresentation, options?}`. Every enclosed
/// credential is verified, and the presentation's own proofs (holder binding) when it has
/// any. Like [`verify_credential`], all of it runs on the public share of the CPU pool.
pub(crate) async fn verify_presentation(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| body_error(e.status(), e.body_text()))?;
    state
        .cpu_public(move |inner| verify_presentation_body(inner, body))
        .await
}

/// The work of [`verify_presentation`], on a CPU pool thread.
fn verify_presentation_body(
    inner: &crate::state::Inner,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut req = strict_object(Ok(body))?;
    let vp = req
        .shift_remove("verifiablePresentation")
        .ok_or_else(|| ApiError::unprocessable("the body needs `verifiablePresentation`"))?;
    let at = options_time(req.get("options"))?;
    let Value::Object(vp) = vp else {
        return Err(ApiError::unprocessable(
            "`verifiablePresentation` must be an object",
        ));
    };
    // The presentation itself (VC Data Model 2.0 §4.13): its context, type and JSON-LD.
    let invalid = |why: String| -> Result<Response, ApiError> {
        Ok((
            StatusCode::BAD_REQUEST,
            AppJson(json!({
                "verified": false,
                "errors": [{"check": "presentation", "message": why}],
                "credentialResults": [],
            })),
        )
            .into_response())
    };
    match first_context(&vp) {
        Some(microcred_core::VC_V2_CONTEXT | microcred_core::VC_V1_CONTEXT) => {}
        _ => {
            return invalid(format!(
                "the presentation's first @context must be \"{}\"",
                microcred_core::VC_V2_CONTEXT
            ))
        }
    }
    let types: Vec<&str> = match vp.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.contains(&"VerifiablePresentation") {
        return invalid("the presentation's `type` must include \"VerifiablePresentation\"".into());
    }
    let credentials: Vec<Value> = match vp.get("verifiableCredential") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        Some(_) => {
            return invalid("`verifiableCredential` must be a credential or a list of them".into())
        }
    };
    let options_map = req.get("options").and_then(Value::as_object);
    let option = |name: &str| {
        options_map
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (challenge, domain) = (option("challenge"), option("domain"));
    let unsigned: Map<String, Value> = vp
        .iter()
        .filter(|(k, _)| k.as_str() != "verifiableCredential")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(problem) = microcred_core::json_ld_problem(&Value::Object(unsigned)) {
        return invalid(format!(
            "the presentation cannot be processed as JSON-LD: {problem}"
        ));
    }
    let refs: Vec<&Value> = credentials.iter().collect();
    let lists = hosted_lists(inner, &refs)?;
    let ring = hosted_keys(inner)?;
    let options = VerifyOptions::new(at, &ring).status_lists(&lists);
    let reports: Vec<Report> = credentials
        .iter()
        .map(|c| microcred_core::verify_value(c, &options))
        .collect();
    let proofs = microcred_core::verify_presentation_proofs(
        &vp,
        &options,
        challenge.as_deref(),
        domain.as_deref(),
    );
    let status = verdict_status(
        reports
            .iter()
            .map(|r| r.verdict)
            .chain(std::iter::once(proofs.verdict())),
    );
    let (mut checks, mut warnings, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for (outcome, why) in &proofs.checks {
        let entry = json!({"check": "presentation proof", "message": why});
        match outcome {
            microcred_core::Outcome::Pass => checks.push(entry),
            microcred_core::Outcome::Fail => errors.push(entry),
            _ => warnings.push(entry),
        }
    }
    if proofs.checks.is_empty() {
        warnings.push(json!({"check": "presentation proof", "message": "the presentation has no proof: nothing binds it to a holder"}));
    }
    Ok((
        status,
        AppJson(json!({
            "verified": status == StatusCode::OK,
            "checks": checks,
            "warnings": warnings,
            "errors": errors,
            "credentialResults": reports.iter().map(result_body).collect::<Vec<_>>(),
        })),
    )
        .into_response())
}
