//! CLR 2.0 records from the service: `GET /credentials/{id}/clr` (public, like the
//! credential: a stacked credential with its components, the pathway record linked from its
//! page) and `POST /v1/institutions/{inst}/learners/clr` (a learner's every credential at the
//! institution, for its staff). Each is a `ClrCredential` signed by the institution, made by
//! the core's `clr_credential` with the credentials embedded exactly as stored; nothing is
//! stored.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::public::valid_credential_id;
use super::raw_json;
use crate::app::now;
use crate::auth::{Authorized, Member};
use crate::error::{ApiError, AppJson, AppPath};
use crate::state::{AppState, Inner};
use crate::store::CredentialRecord;

/// Signs a record of `credentials` (values in order) for institution `inst`.
fn signed_record(
    inner: &Inner,
    inst: &str,
    credentials: &[Value],
    name: &str,
    learner: &[microcred_core::KnownIdentity],
) -> Result<Response, ApiError> {
    let institution = inner.institution(inst)?;
    let key = inner.keys.active(inst)?;
    let seed = crate::crypto::random_seed()
        .map_err(|e| ApiError::Internal(format!("no randomness for a record id: {e}")))?;
    let mut b = [0u8; 16];
    b.copy_from_slice(&seed[..16]);
    let id = format!(
        "urn:uuid:{}",
        uuid::Builder::from_random_bytes(b).into_uuid()
    );
    let at = now();
    // Valid from the newest credential it holds: the record states them as of then, and a
    // verifier whose clock is a little behind does not see a record "not yet valid".
    let valid_from = credentials
        .iter()
        .filter_map(|c| {
            c["validFrom"]
                .as_str()
                .and_then(microcred_core::parse_datetime)
        })
        .max()
        .filter(|t| *t <= at)
        .unwrap_or(at);
    let unsigned = microcred_core::clr_credential(
        credentials,
        &microcred_core::ClrOptions {
            id: &id,
            issuer: &institution.profile,
            name,
            description: None,
            valid_from,
            precedes: &[],
            partial: false,
            learner,
        },
    )
    .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let signed = microcred_core::sign(&unsigned, &key.key, crate::issuer::default_suite(), at)
        .map_err(|e| match e {
            microcred_core::ProofError::Signer(e) => {
                ApiError::Unavailable(format!("signing the record: {e}"))
            }
            e => ApiError::Internal(format!("signing a record: {e}")),
        })?;
    let body = serde_json::to_vec(&signed).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(raw_json(StatusCode::OK, body, "application/vc+ld+json"))
}

fn parsed(rec: &CredentialRecord) -> Result<Value, ApiError> {
    microcred_core::parse_strict(&rec.credential.body).map_err(|e| {
        ApiError::Internal(format!(
            "stored credential {} is not JSON: {e}",
            rec.credential.id
        ))
    })
}

/// The stored credential a credential id (`urn:uuid:…` or this service's URL) names.
fn stored_id<'a>(base: &str, id: &'a str) -> Option<&'a str> {
    id.strip_prefix("urn:uuid:")
        .or_else(|| id.strip_prefix(&format!("{base}/credentials/")))
        .filter(|u| valid_credential_id(u))
}

/// `GET /credentials/{id}/clr`: the pathway record of a stacked credential — it and the
/// components it lists as evidence that this service stored for the same learner (revoked
/// ones left out) — signed by its institution.
pub(crate) async fn pathway_record(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    if !valid_credential_id(&id) {
        return Err(ApiError::NotFound("no such credential".into()));
    }
    state
        .cpu_public(move |inner| {
            let rec = inner
                .store
                .credential(&id)?
                .ok_or_else(|| ApiError::NotFound("no such credential".into()))?;
            let value = parsed(&rec)?;
            if value["credentialSubject"]["achievement"]
                .get("stackingRequirement")
                .is_none()
            {
                return Err(ApiError::NotFound(
                    "this credential is not a stacked one: it has no pathway record".into(),
                ));
            }
            let base = &inner.site.base_url;
            let mut credentials = vec![value.clone()];
            let evidence = value["evidence"].as_array().cloned().unwrap_or_default();
            for e in evidence.iter().filter_map(|e| e["id"].as_str()) {
                let Some(part) = stored_id(base, e) else {
                    continue;
                };
                let Some(part) = inner.store.credential(part)? else {
                    continue;
                };
                if part.revoked_at.is_none()
                    && part.credential.learner.is_some()
                    && part.credential.learner == rec.credential.learner
                {
                    credentials.push(parsed(&part)?);
                }
            }
            let name = format!(
                "Pathway record: {}",
                value["name"].as_str().unwrap_or("stacked credential")
            );
            signed_record(inner, &rec.credential.institution, &credentials, &name, &[])
        })
        .await
}

/// The body of `POST /v1/institutions/{inst}/learners/clr`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LearnerRecordRequest {
    /// The learner as credentials were issued to them: a DID/URL or an e-mail address.
    recipient: String,
    /// The record's name (default: "Learner record").
    #[serde(default)]
    name: Option<String>,
}

/// `POST /v1/institutions/{inst}/learners/clr` (any token of the institution): every credential
/// of the learner at the institution, not revoked, oldest first, then the credentials of other
/// institutions it recorded for them (see `recognition.rs`), in one signed record.
pub(crate) async fn learner_record(
    State(state): State<AppState>,
    auth: Authorized<Member>,
    AppJson(req): AppJson<LearnerRecordRequest>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    if req.recipient.trim().is_empty() || req.recipient.chars().count() > 2048 {
        return Err(ApiError::unprocessable(
            "recipient must be the learner's DID, URL or e-mail address",
        ));
    }
    let name = req.name.unwrap_or_else(|| "Learner record".into());
    if name.trim().is_empty() || name.chars().count() > 512 {
        return Err(ApiError::unprocessable("name must be 1 to 512 characters"));
    }
    state
        .cpu(move |inner| {
            inner.institution(&inst)?;
            let learner = crate::learner::key(inner.keys.master(), &req.recipient)
                .map_err(|e| ApiError::Internal(format!("learner key: {e}")))?;
            let mut credentials = Vec::new();
            for rec in inner.store.learner_credentials(&learner)? {
                if rec.credential.institution == inst
                    && rec.revoked_at.is_none()
                    && !rec.credential.achievement.is_empty()
                {
                    credentials.push(parsed(&rec)?);
                }
            }
            // Credentials of other institutions it recorded for the learner, unchanged.
            for r in inner.store.learner_recognitions(&learner)? {
                if r.institution == inst {
                    if let Ok(v) = microcred_core::parse_strict(&r.body) {
                        credentials.push(v);
                    }
                }
            }
            if credentials.is_empty() {
                return Err(ApiError::NotFound(
                    "this institution has issued no credential (not revoked) to that recipient"
                        .into(),
                ));
            }
            let known = crate::learner::known_identities(&req.recipient);
            signed_record(inner, &inst, &credentials, &name, &known)
        })
        .await
}
