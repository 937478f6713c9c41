//! Status (Bitstring Status List v1.0): publishing lists, revoking / suspending / reinstating
//! credentials, the audit trail, and the institution's status settings.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use microcred_core::LintProfile;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{raw_json, IdSegment};
use crate::app::now_text;
use crate::auth::{Authorized, Manage, Member, Revoke};
use crate::error::{body_error, json_body, ApiError, AppJson, AppPath, AppQuery};
use crate::routes::public::valid_credential_id;
use crate::state::AppState;
use crate::status::{list_url, slots, valid_list_id, MAX_AGE_SECS};
use crate::store::{Page, StatusAction, StatusChange, StatusPurpose, StatusSettings};

/// `GET /status/{list}` (public): the signed `BitstringStatusListCredential`, with `ETag`
/// (`If-None-Match` answers 304) and `Cache-Control: public, max-age` equal to its `ttl`.
pub(crate) async fn status_list(
    State(state): State<AppState>,
    AppPath(list): AppPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !valid_list_id(&list) {
        return Err(ApiError::NotFound("no such status list".into()));
    }
    let published = state
        .blocking(move |inner| Ok(inner.status.published(inner, &list)?))
        .await?;
    let etag = HeaderValue::from_str(&published.etag)
        .map_err(|e| ApiError::Internal(format!("etag: {e}")))?;
    let cache = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}"))
        .map_err(|e| ApiError::Internal(format!("cache-control: {e}")))?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == published.etag || t.trim() == "*")
        });
    let mut r = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ct = if accept.contains("application/vc+ld+json") {
            "application/vc+ld+json"
        } else if accept
            .split(',')
            .any(|p| p.trim().starts_with("application/vc") && !p.contains('+'))
        {
            "application/vc"
        } else {
            "application/json"
        };
        raw_json(StatusCode::OK, published.body, ct)
    };
    let h = r.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    reason: String,
}

/// `POST /v1/institutions/{inst}/credentials/{id}/revoke` (scope `revoke`),
/// `{"reason": "..."}`: permanent.
pub(crate) async fn revoke(
    state: State<AppState>,
    auth: Authorized<Revoke>,
    path: AppPath<IdSegment>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<AppJson<Value>, ApiError> {
    change(state, auth, path, body, StatusAction::Revoke).await
}

/// `POST /v1/institutions/{inst}/credentials/{id}/suspend` (scope `revoke`),
/// `{"reason": "..."}`: until reinstated (credentials issued with a suspension entry).
pub(crate) async fn suspend(
    state: State<AppState>,
    auth: Authorized<Revoke>,
    path: AppPath<IdSegment>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<AppJson<Value>, ApiError> {
    change(state, auth, path, body, StatusAction::Suspend).await
}

/// `POST /v1/institutions/{inst}/credentials/{id}/reinstate` (scope `revoke`),
/// `{"reason": "..."}`: lifts a suspension.
pub(crate) async fn reinstate(
    state: State<AppState>,
    auth: Authorized<Revoke>,
    path: AppPath<IdSegment>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<AppJson<Value>, ApiError> {
    change(state, auth, path, body, StatusAction::Reinstate).await
}

async fn change(
    State(state): State<AppState>,
    auth: Authorized<Revoke>,
    AppPath(IdSegment { id }): AppPath<IdSegment>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    action: StatusAction,
) -> Result<AppJson<Value>, ApiError> {
    let actor = auth.principal().actor().to_owned();
    let inst = auth.into_institution();
    let body = body.map_err(|e| body_error(e.status(), e.body_text()))?;
    // Strict like every JSON body (duplicate member names refused); an empty body is the
    // missing reason, not a syntax error.
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        json_body(&body)?
    };
    // An object only: serde would also read the struct from an array of its members.
    let req: ChangeBody = if parsed.is_object() {
        serde_json::from_value(parsed).map_err(|e| e.to_string())
    } else {
        Err("the body must be a JSON object".to_owned())
    }
    .map_err(|e| {
        ApiError::unprocessable(format!(
            "give the reason, which is kept in the audit trail: {{\"reason\": \"...\"}} ({e})"
        ))
    })?;
    let reason = req.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::unprocessable(
            "the reason must not be empty: it is kept in the audit trail",
        ));
    }
    // The limit is on the reason as sent (/openapi.json's maxLength); it is kept trimmed.
    if req.reason.chars().count() > 500 {
        return Err(ApiError::unprocessable(
            "reason is longer than 500 characters",
        ));
    }
    // PostgreSQL text cannot hold U+0000; refused here, it cannot fail the group commit the
    // change would share with others.
    if reason.contains('\0') {
        return Err(ApiError::unprocessable(
            "the reason must not contain the NUL character (U+0000)",
        ));
    }
    if !valid_credential_id(&id) {
        return Err(ApiError::NotFound("no such credential".into()));
    }
    let (inst2, id2) = (inst.clone(), id.clone());
    let found = state
        .blocking(move |inner| {
            Ok(inner
                .store
                .credential(&id2)?
                .filter(|r| r.credential.institution == inst2)
                .map(|r| slots(&r.credential.body)))
        })
        .await?;
    let Some(credential_slots) = found else {
        return Err(ApiError::NotFound("no such credential".into()));
    };
    let outcome = state
        .inner()
        .status
        .queue
        .apply(StatusChange {
            institution: inst.clone(),
            credential_id: id.clone(),
            action,
            slots: credential_slots.clone(),
            reason: reason.clone(),
            actor: actor.clone(),
            at: now_text(),
        })
        .await?;
    let changed = crate::status::changed(outcome)?;
    tracing::info!(institution = %inst, credential = %id, action = action.as_str(), changed, actor = %actor, "credential status changed");
    let base = state.inner().site.base_url.clone();
    let purpose = match action {
        StatusAction::Revoke => StatusPurpose::Revocation,
        _ => StatusPurpose::Suspension,
    };
    let list = credential_slots
        .iter()
        .find(|s| s.purpose == purpose)
        .map(|s| list_url(&base, &s.list_id));
    let mut out = json!({
        "id": id,
        "action": action.as_str(),
        "changed": changed,
        "statusList": list,
    });
    if let Some(o) = out.as_object_mut() {
        match action {
            StatusAction::Revoke => {
                o.insert("revoked".into(), true.into());
            }
            StatusAction::Suspend => {
                o.insert("suspended".into(), true.into());
            }
            _ => {
                o.insert("suspended".into(), false.into());
            }
        }
        if list.is_none() {
            o.insert(
                "note".into(),
                "this credential was issued without a status list entry: the revocation is recorded here, but verifiers cannot learn of it".into(),
            );
        }
    }
    Ok(AppJson(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    #[serde(default)]
    credential: Option<String>,
    #[serde(default)]
    offset: Option<u64>,
    #[serde(default)]
    limit: Option<u64>,
}

/// `GET /v1/institutions/{inst}/status-events[?credential=ID]` (manage): the audit trail of
/// revocations, suspensions and reinstatements, newest first.
pub(crate) async fn events(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppQuery(q): AppQuery<EventsQuery>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let page = Page {
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(100).min(1000),
    };
    let list = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            Ok(inner
                .store
                .status_events(&inst, q.credential.as_deref(), page)?)
        })
        .await?;
    Ok(AppJson(json!({
        "offset": page.offset,
        "events": list.iter().map(|e| json!({
            "credential": e.credential_id,
            "action": e.action.as_str(),
            "changed": e.changed,
            "reason": e.reason,
            "actor": e.actor,
            "at": e.at,
        })).collect::<Vec<_>>(),
    })))
}

/// `GET /v1/institutions/{inst}/status-lists` (manage): the institution's lists, their fill
/// and URLs.
pub(crate) async fn lists(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let list = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            Ok(inner.store.status_lists(&inst)?)
        })
        .await?;
    let base = &state.inner().site.base_url;
    Ok(AppJson(json!({
        "statusLists": list.iter().map(|l| json!({
            "id": l.id,
            "url": list_url(base, &l.id),
            "purpose": l.purpose.as_str(),
            "seq": l.seq,
            "issuer": l.issuer,
            "size": l.size,
            "allocated": l.allocated,
            "version": l.version,
            "createdAt": l.created_at,
            "updatedAt": l.updated_at,
        })).collect::<Vec<_>>(),
    })))
}

fn settings_view(
    s: &StatusSettings,
    lint_profile: Option<&'static LintProfile>,
    recognized: &[crate::recognition::RecognizedIssuer],
) -> Value {
    let mut purposes = vec!["revocation"];
    if s.suspension {
        purposes.push("suspension");
    }
    json!({
        "suspension": s.suspension,
        "statusPurposes": purposes,
        "lintProfile": lint_profile.map(LintProfile::name),
        "recognizedIssuers": recognized,
    })
}

/// `GET /v1/institutions/{inst}/settings` (any token of the institution).
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    auth: Authorized<Member>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let view = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            let s = inner.store.status_settings(&inst)?;
            Ok(settings_view(
                &s,
                crate::lint_profile::institution(&*inner.store, &inst)?,
                &crate::recognition::recognized(&*inner.store, &inst)?,
            ))
        })
        .await?;
    Ok(AppJson(view))
}

/// Tells a member given as `null` from one left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsBody {
    /// Give credentials issued from now on a suspension entry too.
    #[serde(default)]
    suspension: Option<bool>,
    /// The lint profile issuance follows (`eu-2022`, ...); `null` or `"none"`: no profile.
    #[serde(default, rename = "lintProfile", deserialize_with = "present")]
    lint_profile: Option<Option<String>>,
    /// The issuers whose credentials the institution records for its learners (recognition
    /// of prior learning): `[{"id": DID or URL, "name": text}]`.
    #[serde(default, rename = "recognizedIssuers")]
    recognized_issuers: Option<Value>,
}

/// `PUT /v1/institutions/{inst}/settings` (manage), e.g. `{"suspension": true}` or
/// `{"lintProfile": "eu-2022"}`: members left out keep their value; applies to credentials
/// issued from now on.
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppJson(req): AppJson<SettingsBody>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    if req.suspension.is_none() && req.lint_profile.is_none() && req.recognized_issuers.is_none() {
        return Err(ApiError::unprocessable(
            "give \"suspension\" (true/false), \"lintProfile\" (a profile name, or null for none) and/or \"recognizedIssuers\" ([{\"id\", \"name\"}])",
        ));
    }
    let recognized = req
        .recognized_issuers
        .as_ref()
        .map(crate::recognition::parse_issuers)
        .transpose()?;
    let profile = match &req.lint_profile {
        Some(Some(name)) => Some(crate::lint_profile::requested(name)?),
        Some(None) => Some(None),
        None => None,
    };
    let view = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            if let Some(suspension) = req.suspension {
                inner
                    .store
                    .set_status_settings(&inst, &StatusSettings { suspension })?;
            }
            if let Some(p) = profile {
                inner.store.set_lint_profile(&inst, p.map(LintProfile::name))?;
                tracing::info!(institution = %inst, profile = p.map_or("none", LintProfile::name), "lint profile set");
            }
            if let Some(list) = &recognized {
                let text =
                    serde_json::to_string(list).map_err(|e| ApiError::Internal(e.to_string()))?;
                inner.store.set_recognized_issuers(&inst, &text)?;
                tracing::info!(institution = %inst, issuers = list.len(), "recognized issuers set");
            }
            inner.invalidate(&inst);
            let s = inner.store.status_settings(&inst)?;
            Ok(settings_view(
                &s,
                crate::lint_profile::institution(&*inner.store, &inst)?,
                &crate::recognition::recognized(&*inner.store, &inst)?,
            ))
        })
        .await?;
    Ok(AppJson(view))
}
