//! The private management API (`/v1/institutions/...`): institutions, profiles, keys,
//! tokens and achievement definitions.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{valid_slug, AchSegment, IdSegment};
use crate::app::{now, now_text};
use crate::auth::{Admin, Authorized, Manage, Member};
use crate::crypto;
use crate::error::{from_json_value, json_body, ApiError, AppJson, AppPath, AppQuery};
use crate::issuer::{self, IssueRow};
use crate::lint_profile;
use crate::state::{AppState, Inner};
use crate::store::{
    AchievementRecord, IdentityKind, InstitutionRecord, KeyRecord, KeyStatus, KeyStorage, Scopes,
    StoreError, TokenRecord,
};

/// An optional JSON body: none (empty) gives `T::default()`; otherwise it is read as
/// [`AppJson`] reads one (JSON content type, strict parsing, 422 naming a wrong member).
fn optional_json<T: serde::de::DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if !crate::error::json_content_type(headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".into(),
        ));
    }
    json_body(body).and_then(from_json_value)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateInstitution {
    /// URL-safe short name.
    slug: String,
    /// `did:web` (default) or `did:key`.
    #[serde(default)]
    identity: Option<String>,
    /// The OB Profile fields (name, url, email, address, description, image, ...).
    profile: Map<String, Value>,
    /// Also give credentials a suspension entry (revocation entries are always given).
    #[serde(default)]
    suspension: bool,
    /// The lint profile its credentials are checked under (`eu-2022`, ...; `none` or absent:
    /// no profile).
    #[serde(default, rename = "lintProfile")]
    lint_profile: Option<String>,
    /// Where its first key lives: `sealed` (default) or `pkcs11`.
    #[serde(default, rename = "keyStorage")]
    key_storage: Option<String>,
}

/// The body of a key rotation (optional).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateKey {
    /// Where the new key lives: `sealed` (default) or `pkcs11`.
    #[serde(default, rename = "keyStorage")]
    key_storage: Option<String>,
}

/// The key storage a request asks for: 422 for an unknown name, or for `pkcs11` when the
/// service has no token configured.
fn key_storage(inner: &Inner, requested: Option<&str>) -> Result<KeyStorage, ApiError> {
    let storage = match requested {
        None => KeyStorage::Sealed,
        Some(name) => KeyStorage::parse(name).ok_or_else(|| {
            ApiError::unprocessable("keyStorage must be \"sealed\" or \"pkcs11\"")
        })?,
    };
    if storage == KeyStorage::Pkcs11 && !inner.keys.has_token() {
        return Err(ApiError::unprocessable(
            "keyStorage \"pkcs11\" needs a PKCS#11 token, and this service has none: the operator must configure [pkcs11] (module, token_label, PIN) and restart",
        ));
    }
    Ok(storage)
}

fn institution_view(inner: &Inner, inst: &InstitutionRecord, keys: &[KeyRecord]) -> Value {
    let base = &inner.site.base_url;
    json!({
        "slug": inst.slug,
        "did": inst.did,
        "identity": inst.identity.as_str(),
        "profile": inst.profile,
        "profileUrl": format!("{base}/institutions/{}", inst.slug),
        "didDocumentUrl": format!("{base}/institutions/{}/did.json", inst.slug),
        "catalogueUrl": format!("{base}/institutions/{}/achievements", inst.slug),
        "keys": keys.iter().map(key_view).collect::<Vec<_>>(),
        "createdAt": inst.created_at,
    })
}

fn key_view(k: &KeyRecord) -> Value {
    json!({
        "id": k.method_id,
        "status": k.status.as_str(),
        "publicKeyMultibase": k.public_multibase,
        "keyStorage": k.secret.storage().as_str(),
        "createdAt": k.created_at,
        "retiredAt": k.retired_at,
    })
}

/// `POST /v1/institutions` (administrator): a new institution with its first key.
pub(crate) async fn create_institution(
    State(state): State<AppState>,
    _admin: Admin,
    AppJson(req): AppJson<CreateInstitution>,
) -> Result<Response, ApiError> {
    if !valid_slug(&req.slug) {
        return Err(ApiError::unprocessable(
            "slug must be 1 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        ));
    }
    let identity = match req.identity.as_deref() {
        None => IdentityKind::DidWeb,
        Some(s) => IdentityKind::parse(s).ok_or_else(|| {
            ApiError::unprocessable("identity must be \"did:web\" or \"did:key\"")
        })?,
    };
    let lint_profile = match req.lint_profile.as_deref() {
        Some(name) => lint_profile::requested(name)?,
        None => None,
    };
    let view = state
        .blocking(move |inner| {
            let storage = key_storage(inner, req.key_storage.as_deref())?;
            if inner.store.institution(&req.slug)?.is_some() {
                // Checked before a key is made (in a token, it would be left unused); the
                // store's unique key still decides races.
                return Err(ApiError::Conflict(format!(
                    "an institution named \"{}\" already exists",
                    req.slug
                )));
            }
            let at = now_text();
            let web = issuer::did_web(&inner.site.base, &req.slug);
            let (key, signing) =
                issuer::new_key(inner.keys.vault(), storage, identity, Some(&web), &req.slug, 1, &at)?;
            let did = match identity {
                IdentityKind::DidWeb => web,
                _ => signing.controller().to_owned(),
            };
            let profile = issuer::make_profile(&req.profile, &did).map_err(ApiError::unprocessable)?;
            let rec = InstitutionRecord {
                slug: req.slug.clone(),
                did,
                identity,
                profile,
                created_at: at,
            };
            issuer::store_new_key(inner.keys.vault(), &key, || {
                inner.store.create_institution(&rec, &key)
            })?;
            if req.suspension {
                inner.store.set_status_settings(
                    &rec.slug,
                    &crate::store::StatusSettings { suspension: true },
                )?;
            }
            if let Some(p) = lint_profile {
                inner.store.set_lint_profile(&rec.slug, Some(p.name()))?;
            }
            tracing::info!(institution = %rec.slug, did = %rec.did, key = %key.method_id, storage = storage.as_str(), "institution created");
            let mut view = institution_view(inner, &rec, &[key]);
            if let Some(o) = view.as_object_mut() {
                o.insert("lintProfile".into(), json!(lint_profile.map(|p| p.name())));
            }
            Ok(view)
        })
        .await?;
    Ok((StatusCode::CREATED, AppJson(view)).into_response())
}

/// `GET /v1/institutions` (administrator).
pub(crate) async fn list_institutions(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<AppJson<Value>, ApiError> {
    let list = state
        .blocking(|inner| Ok(inner.store.institutions()?))
        .await?;
    Ok(AppJson(json!({
        "institutions": list.iter().map(|i| json!({"slug": i.slug, "did": i.did, "name": i.profile.get("name")})).collect::<Vec<_>>()
    })))
}

/// `GET /v1/institutions/{inst}` (administrator or any token of the institution).
pub(crate) async fn get_institution(
    State(state): State<AppState>,
    auth: Authorized<Member>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let view = state
        .blocking(move |inner| {
            let rec = inner.institution(&inst)?;
            let keys = inner.store.keys(&inst)?;
            let mut v = institution_view(inner, &rec, &keys);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "credentials".into(),
                    json!(inner.store.credential_count(&inst)?),
                );
                o.insert(
                    "achievements".into(),
                    json!(inner.store.achievements(&inst)?.len()),
                );
                o.insert(
                    "suspension".into(),
                    json!(inner.store.status_settings(&inst)?.suspension),
                );
                o.insert(
                    "lintProfile".into(),
                    json!(inner.store.lint_profile(&inst)?),
                );
            }
            Ok(v)
        })
        .await?;
    Ok(AppJson(view))
}

/// `PUT /v1/institutions/{inst}/profile` (manage): replaces the public profile.
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppJson(profile): AppJson<Map<String, Value>>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let out = state
        .blocking(move |inner| {
            let mut rec = inner.institution(&inst)?;
            rec.profile =
                issuer::make_profile(&profile, &rec.did).map_err(ApiError::unprocessable)?;
            inner.store.update_institution(&rec)?;
            inner.invalidate(&inst);
            Ok(rec.profile)
        })
        .await?;
    Ok(AppJson(out))
}

/// `GET /v1/institutions/{inst}/keys` (manage).
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let keys = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            Ok(inner.store.keys(&inst)?)
        })
        .await?;
    Ok(AppJson(
        json!({"keys": keys.iter().map(key_view).collect::<Vec<_>>()}),
    ))
}

/// `POST /v1/institutions/{inst}/keys/rotate` (manage): a new active key; the previous one
/// is retired (still in the DID document, so what it signed still verifies).
///
/// The body is optional: `{"keyStorage": "pkcs11"}` makes the new key in the PKCS#11 token
/// (default `sealed`).
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let req: RotateKey = optional_json(&headers, &body)?;
    let out = state
        .blocking(move |inner| {
            let storage = key_storage(inner, req.key_storage.as_deref())?;
            let mut rec = inner.institution(&inst)?;
            let keys = inner.store.keys(&inst)?;
            let seq = keys.iter().map(|k| k.seq).max().unwrap_or(0) + 1;
            let at = now_text();
            let (key, signing) =
                issuer::new_key(inner.keys.vault(), storage, rec.identity, Some(&rec.did), &inst, seq, &at)?;
            let mut note = None;
            if rec.identity == IdentityKind::DidKey {
                rec.did = signing.controller().to_owned();
                if let Some(p) = rec.profile.as_object_mut() {
                    p.insert("id".into(), rec.did.clone().into());
                }
                note = Some("did:key identity: the issuer id changed to the new key's DID; credentials signed before still verify under the old DID");
            }
            issuer::store_new_key(inner.keys.vault(), &key, || {
                inner.store.rotate_key(&rec, &key, &at)
            })?;
            inner.invalidate(&inst);
            tracing::info!(institution = %inst, key = %key.method_id, storage = storage.as_str(), "key rotated");
            let keys = inner.store.keys(&inst)?;
            let mut v = json!({"did": rec.did, "active": key_view(&key), "keys": keys.iter().map(key_view).collect::<Vec<_>>()});
            if let (Some(n), Some(o)) = (note, v.as_object_mut()) {
                o.insert("note".into(), n.into());
            }
            Ok(v)
        })
        .await?;
    Ok(AppJson(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyRef {
    /// The verification method id.
    id: String,
}

/// `POST /v1/institutions/{inst}/keys/compromised` (manage): the key is removed from the
/// DID document, so nothing it signed verifies any more. The active key must be rotated first.
pub(crate) async fn mark_compromised(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppJson(req): AppJson<KeyRef>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let out = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            let keys = inner.store.keys(&inst)?;
            let key = match keys.iter().find(|k| k.method_id == req.id) {
                None => return Err(ApiError::NotFound(format!("no key \"{}\"", req.id))),
                Some(k) if k.status == KeyStatus::Active => {
                    return Err(ApiError::Conflict(
                        "this is the active key: rotate first (POST .../keys/rotate), then mark it compromised".into(),
                    ))
                }
                Some(k) => k,
            };
            inner.store.mark_compromised(&inst, &req.id, &now_text())?;
            inner.invalidate(&inst);
            tracing::warn!(institution = %inst, key = %req.id, "key marked compromised");
            let note = issuer::destroy_compromised(inner.keys.vault(), key);
            let mut v = json!({"keys": inner.store.keys(&inst)?.iter().map(key_view).collect::<Vec<_>>()});
            if let (Some(n), Some(o)) = (note, v.as_object_mut()) {
                o.insert("note".into(), n.into());
            }
            Ok(v)
        })
        .await?;
    Ok(AppJson(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    /// Any of `issue`, `revoke`, `manage`.
    scopes: Vec<String>,
    #[serde(default)]
    label: Option<String>,
}

/// `POST /v1/institutions/{inst}/tokens` (manage): a new API token, shown once. An institution
/// token grants only scopes it holds (403 naming the others); the administrator grants any.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppJson(req): AppJson<CreateToken>,
) -> Result<Response, ApiError> {
    let mut scopes = Scopes::default();
    for s in &req.scopes {
        scopes = scopes.with(Scopes::parse(s).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown scope \"{s}\" (scopes: issue, revoke, manage)"
            ))
        })?);
    }
    if scopes == Scopes::default() {
        return Err(ApiError::unprocessable(
            "give at least one scope: issue, revoke, manage",
        ));
    }
    auth.principal().may_grant(scopes)?;
    let inst = auth.into_institution();
    let label = req.label.unwrap_or_default();
    if label.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "label is longer than 200 characters",
        ));
    }
    let out = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            let token = crypto::new_token().map_err(|e| ApiError::Internal(e.to_string()))?;
            let rec = TokenRecord {
                id: format!("tok_{}", crypto::random_hex(8).map_err(|e| ApiError::Internal(e.to_string()))?),
                institution: inst.clone(),
                scopes,
                label,
                hash: crypto::token_hash(&token),
                created_at: now_text(),
                revoked: false,
            };
            inner.store.insert_token(&rec)?;
            tracing::info!(institution = %inst, token_id = %rec.id, scopes = ?rec.scopes.names(), "token created");
            Ok(json!({
                "id": rec.id,
                "token": token.as_str(),
                "scopes": rec.scopes.names(),
                "label": rec.label,
                "note": "the token is shown only now: store it safely; the service keeps only its hash",
            }))
        })
        .await?;
    Ok((StatusCode::CREATED, AppJson(out)).into_response())
}

/// `GET /v1/institutions/{inst}/tokens` (manage): ids, scopes, labels (never the tokens).
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let list = state
        .blocking(move |inner| Ok(inner.store.tokens(&inst)?))
        .await?;
    Ok(AppJson(json!({
        "tokens": list.iter().map(|t| json!({"id": t.id, "scopes": t.scopes.names(), "label": t.label, "createdAt": t.created_at, "revoked": t.revoked})).collect::<Vec<_>>()
    })))
}

/// `DELETE /v1/institutions/{inst}/tokens/{id}` (manage).
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppPath(IdSegment { id }): AppPath<IdSegment>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let found = state
        .blocking(move |inner| {
            let found = inner.store.revoke_token(&inst, &id)?;
            inner.tokens.forget();
            Ok(found)
        })
        .await?;
    if found {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound("no such token".into()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAchievement {
    slug: String,
    achievement: Map<String, Value>,
}

/// The query of the achievement routes: `?profile=NAME|none|inherit`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AchievementQuery {
    /// The lint profile for this achievement, overriding the institution's: a profile name,
    /// `none` (no profile), or `inherit` (follow the institution). Absent: the override of the
    /// latest version is kept.
    #[serde(default)]
    profile: Option<String>,
}

/// `POST /v1/institutions/{inst}/achievements` (manage): a new definition (409 if the slug
/// exists; use PUT to make a new version).
pub(crate) async fn create_achievement(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppQuery(query): AppQuery<AchievementQuery>,
    AppJson(req): AppJson<CreateAchievement>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    if !valid_slug(&req.slug) {
        return Err(ApiError::unprocessable(
            "slug must be 1 to 63 characters of a-z, 0-9 and '-'",
        ));
    }
    let profile = query.profile;
    // Linting builds and checks a sample credential (JSON-LD): CPU work, on the pool.
    state
        .cpu(move |inner| save_achievement(inner, &inst, &req.slug, req.achievement, true, profile))
        .await
}

/// `PUT /v1/institutions/{inst}/achievements/{ach}` (manage): creates the definition, or
/// makes a new version if it differs from the latest (200 and no new version if unchanged).
/// `?profile=` sets the achievement's lint profile (see [`AchievementQuery`]); a new profile
/// for an unchanged definition is recorded on the latest version once it passes.
pub(crate) async fn put_achievement(
    State(state): State<AppState>,
    auth: Authorized<Manage>,
    AppPath(AchSegment { ach }): AppPath<AchSegment>,
    AppQuery(query): AppQuery<AchievementQuery>,
    AppJson(def): AppJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    if !valid_slug(&ach) {
        return Err(ApiError::unprocessable(
            "the achievement name must be 1 to 63 characters of a-z, 0-9 and '-'",
        ));
    }
    let profile = query.profile;
    // Linting is CPU work (see `create_achievement`).
    state
        .cpu(move |inner| save_achievement(inner, &inst, &ach, def, false, profile))
        .await
}

/// Lints and stores a definition as a new version (or reports it unchanged). `profile` is the
/// `?profile=` of the request (`None`: keep the latest version's override).
fn save_achievement(
    inner: &Inner,
    inst: &str,
    ach: &str,
    mut def: Map<String, Value>,
    must_be_new: bool,
    profile: Option<String>,
) -> Result<Response, ApiError> {
    let institution = inner.institution(inst)?;
    // The service mints the id; what the client sent as `id` is not part of the content.
    def.shift_remove("id");
    let content_hash = crypto::sha256(&microcred_core::jcs::canonicalize(&Value::Object(
        def.clone(),
    )));
    let latest = inner.store.achievement(inst, ach, None)?;
    let base = &inner.site.base_url;
    let url = format!("{base}/institutions/{inst}/achievements/{ach}");
    // The override stored with the version: a profile name, `none`, or NULL (follow the
    // institution).
    let override_ = match profile.as_deref() {
        None => latest.as_ref().and_then(|l| l.lint_profile.clone()),
        Some(p) if p.trim().eq_ignore_ascii_case(lint_profile::INHERIT) => None,
        Some(p) => Some(lint_profile::stored_name(lint_profile::requested(p)?).to_owned()),
    };
    let effective = lint_profile::effective(&*inner.store, inst, override_.as_deref())?;
    if let Some(l) = &latest {
        if must_be_new {
            return Err(ApiError::Conflict(format!(
                "achievement \"{ach}\" exists (version {}); PUT {url} to make a new version",
                l.version
            )));
        }
        if l.content_hash == content_hash {
            if l.lint_profile == override_ {
                return Ok((
                    StatusCode::OK,
                    AppJson(achievement_view(l, &url, false, &[], effective)),
                )
                    .into_response());
            }
            // The same definition under another profile: it must pass that profile, then the
            // latest version follows it (no new version: the credentials would not change).
            let report = lint_definition(inner, inst, ach, &institution, l, effective)?;
            if !inner.store.set_achievement_lint_profile(
                inst,
                ach,
                l.version,
                override_.as_deref(),
            )? {
                return Err(ApiError::Conflict(format!(
                    "achievement \"{ach}\" version {} changed concurrently; retry",
                    l.version
                )));
            }
            inner.invalidate(inst);
            tracing::info!(institution = %inst, achievement = %ach, version = l.version, profile = ?override_, "achievement lint profile changed");
            let rec = AchievementRecord {
                lint_profile: override_,
                ..l.clone()
            };
            let warnings: Vec<_> = report.findings.iter().collect();
            return Ok((
                StatusCode::OK,
                AppJson(achievement_view(&rec, &url, false, &warnings, effective)),
            )
                .into_response());
        }
    }
    let version = latest.as_ref().map_or(1, |l| l.version + 1);
    let mut definition = Map::new();
    definition.insert("id".into(), format!("{url}/versions/{version}").into());
    if !def.contains_key("type") {
        definition.insert("type".into(), json!(["Achievement"]));
    }
    definition.extend(def);
    if !definition.contains_key("creator") {
        definition.insert("creator".into(), institution.profile.clone());
    }
    let rec = AchievementRecord {
        institution: inst.to_owned(),
        slug: ach.to_owned(),
        version,
        definition: Value::Object(definition),
        content_hash,
        created_at: now_text(),
        lint_profile: override_,
    };
    let report = lint_definition(inner, inst, ach, &institution, &rec, effective)?;
    match inner.store.insert_achievement(&rec) {
        Ok(()) => {}
        Err(StoreError::Conflict(m)) => return Err(ApiError::Conflict(m)),
        Err(e) => return Err(e.into()),
    }
    inner.pathways.forget();
    tracing::info!(institution = %inst, achievement = %ach, version, "achievement version stored");
    let warnings: Vec<_> = report.findings.iter().collect();
    Ok((
        StatusCode::CREATED,
        AppJson(achievement_view(&rec, &url, true, &warnings, effective)),
    )
        .into_response())
}

/// Lints a definition under `profile`, with a sample credential for what the issuer profile
/// must carry (e.g. the awarding body's country): 422 with the findings on errors, else the
/// report (its warnings).
fn lint_definition(
    inner: &Inner,
    inst: &str,
    ach: &str,
    institution: &InstitutionRecord,
    rec: &AchievementRecord,
    profile: Option<&'static microcred_core::LintProfile>,
) -> Result<microcred_core::LintReport, ApiError> {
    let options = microcred_core::LintOptions::new().with_profile(profile);
    let mut report = microcred_core::lint_achievement_with(&rec.definition, &options);
    let achievement =
        microcred_core::Achievement::from_value(rec.definition.clone()).map_err(|e| {
            ApiError::Unprocessable {
                message: format!("not a usable Open Badges 3.0 Achievement: {e}"),
                details: Some(json!({"findings": report.findings, "lintProfile": report.profile})),
            }
        })?;
    if !report.has_errors() {
        let issuer = microcred_core::Profile::from_value(institution.profile.clone())
            .map_err(|e| ApiError::Internal(format!("stored profile: {e}")))?;
        let template = issuer::Template::new(
            inst,
            ach,
            rec.version,
            achievement,
            issuer,
            inner.keys.active(inst)?,
            inner.site.base_url.clone(),
            None,
        )
        .map_err(|e| ApiError::unprocessable(e.message()))?;
        let row = IssueRow {
            recipient: "did:example:lint-check".into(),
            ..IssueRow::default()
        };
        match template.build(&row, now()) {
            Ok((_, sample)) => {
                let sample_report = microcred_core::lint_with(&sample, &options);
                report.findings.extend(
                    sample_report
                        .findings
                        .into_iter()
                        .filter(|f| f.path.starts_with("issuer")),
                );
            }
            Err(e) => return Err(ApiError::unprocessable(e.message())),
        }
    }
    report.findings.extend(crate::pathway::check_definition(
        &*inner.store,
        &inner.site.base_url,
        &rec.definition,
        now(),
    )?);
    report.findings.sort_by_key(|f| f.severity);
    if report.has_errors() {
        let message = match report.profile {
            Some(p) => format!("the achievement has lint errors under lint profile {p} (errors block; warnings are advice)"),
            None => "the achievement has lint errors (errors block; warnings are advice)".into(),
        };
        return Err(ApiError::Unprocessable {
            message,
            details: Some(json!({"findings": report.findings, "lintProfile": report.profile})),
        });
    }
    Ok(report)
}

fn achievement_view(
    rec: &AchievementRecord,
    url: &str,
    created: bool,
    warnings: &[&microcred_core::Finding],
    profile: Option<&'static microcred_core::LintProfile>,
) -> Value {
    json!({
        "slug": rec.slug,
        "version": rec.version,
        "id": rec.definition.get("id"),
        "url": url,
        "created": created,
        "warnings": warnings,
        "lintProfile": profile.map(microcred_core::LintProfile::name),
        "lintProfileOverride": rec.lint_profile,
        "definition": rec.definition,
    })
}

/// `GET /v1/institutions/{inst}/achievements` (administrator or any token of the institution).
pub(crate) async fn list_achievements(
    State(state): State<AppState>,
    auth: Authorized<Member>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let out = state
        .blocking(move |inner| {
            inner.institution(&inst)?;
            let mut items = Vec::new();
            for a in inner.store.achievements(&inst)? {
                let versions = inner.store.achievement_versions(&inst, &a.slug)?;
                items.push(json!({"slug": a.slug, "version": a.version, "versions": versions, "id": a.definition.get("id"), "name": a.definition.get("name"), "lintProfileOverride": a.lint_profile}));
            }
            Ok(json!({"achievements": items}))
        })
        .await?;
    Ok(AppJson(out))
}
