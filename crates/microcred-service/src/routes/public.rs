//! Public endpoints (no authentication): wallet fetch, issuer profile, DID documents,
//! achievement definitions and catalogue, health, OpenAPI.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{raw_json, slug};
use crate::error::{ApiError, AppJson, AppPath};
use crate::issuer;
use crate::state::{self, AppState, Db, Site};

static OPENAPI: &str = include_str!("../../openapi.json");

pub(crate) async fn healthz(State(db): State<Db>) -> Result<AppJson<Value>, ApiError> {
    db.run(|store| {
        store
            .meta("master_key_check")
            .map(|_| ())
            .map_err(ApiError::from)
    })
    .await?;
    Ok(AppJson(json!({"status": "ok"})))
}

pub(crate) async fn openapi() -> Response {
    raw_json(
        StatusCode::OK,
        OPENAPI.as_bytes().to_vec(),
        "application/json",
    )
}

/// Credential ids are UUIDs; anything else cannot exist.
pub(crate) fn valid_credential_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// `GET /credentials/{id}`: the signed credential, byte for byte as stored.
/// `Accept: application/vc+ld+json` (or `application/vc`) gets that media type; otherwise
/// `application/json`.
pub(crate) async fn credential(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !valid_credential_id(&id) {
        return Err(ApiError::NotFound("no such credential".into()));
    }
    if super::pages::wants_html(&headers, query.as_deref()) {
        // `?offer=ID`: the link an institution sends a learner shows the offer's QR code.
        let offer = query.as_deref().and_then(|q| {
            q.split('&')
                .find_map(|p| p.strip_prefix("offer="))
                .map(str::to_owned)
        });
        return super::pages::credential_page(state, id, offer).await;
    }
    let body = match state.inner().bodies.get(&id) {
        Some(b) => b,
        None => {
            state
                .blocking(move |inner| {
                    let body = inner
                        .store
                        .credential_body(&id)?
                        .map(axum::body::Bytes::from)
                        .ok_or_else(|| ApiError::NotFound("no such credential".into()))?;
                    inner.bodies.insert(&id, body.clone());
                    Ok(body)
                })
                .await?
        }
    };
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
    let mut r = raw_json(StatusCode::OK, body, ct);
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

/// `GET /credentials/{id}/status`: whether the institution has revoked or suspended it (the
/// status lists are the privacy-preserving way to learn this; see `/status/{list}`).
pub(crate) async fn credential_status(
    State(db): State<Db>,
    State(site): State<Site>,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<Value>, ApiError> {
    if !valid_credential_id(&id) {
        return Err(ApiError::NotFound("no such credential".into()));
    }
    let base = site.base_url.clone();
    let (rec, suspended, lists) = db
        .run(move |store| {
            let Some(rec) = store.credential(&id)? else {
                return Ok((None, false, Vec::new()));
            };
            let slots = crate::status::slots(&rec.credential.body);
            let mut suspended = false;
            for s in &slots {
                if s.purpose == crate::store::StatusPurpose::Suspension {
                    suspended |= store.status_bit(&s.list_id, s.index)?;
                }
            }
            let lists: Vec<String> = slots
                .iter()
                .map(|s| crate::status::list_url(&site.base_url, &s.list_id))
                .collect();
            Ok((Some(rec), suspended, lists))
        })
        .await?;
    let rec = rec.ok_or_else(|| ApiError::NotFound("no such credential".into()))?;
    Ok(AppJson(json!({
        "id": format!("{base}/credentials/{}", rec.credential.id),
        "revoked": rec.revoked_at.is_some(),
        "revokedAt": rec.revoked_at,
        "suspended": suspended,
        "statusLists": lists,
    })))
}

pub(crate) async fn profile(
    State(db): State<Db>,
    AppPath(inst): AppPath<String>,
) -> Result<AppJson<Value>, ApiError> {
    slug(&inst, "institution")?;
    let rec = db
        .run(move |store| Ok(state::institution(store, &inst)?))
        .await?;
    Ok(AppJson(rec.profile))
}

/// `GET /institutions/{inst}/did.json`: the `did:web` document (current and retired keys).
pub(crate) async fn did_document(
    State(db): State<Db>,
    AppPath(inst): AppPath<String>,
) -> Result<Response, ApiError> {
    slug(&inst, "institution")?;
    let doc = db
        .run(move |store| {
            let rec = state::institution(store, &inst)?;
            let keys = store.keys(&inst)?;
            Ok(issuer::did_document(&rec, &keys))
        })
        .await?;
    let body = serde_json::to_vec_pretty(&doc).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(raw_json(StatusCode::OK, body, "application/did+json"))
}

/// `GET /institutions/{inst}/achievements`: the public catalogue (latest versions).
pub(crate) async fn catalogue(
    State(state): State<AppState>,
    AppPath(inst): AppPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    slug(&inst, "institution")?;
    if super::pages::wants_html(&headers, query.as_deref()) {
        return super::pages::catalogue_page(state, inst).await;
    }
    let base = state.inner().site.base_url.clone();
    let (rec, list) = state
        .blocking(move |inner| {
            let rec = inner.institution(&inst)?;
            let list = inner.store.achievements(&inst)?;
            Ok((rec, list))
        })
        .await?;
    // Pathways: the achievements that stack from others, with the ids their rules name.
    let pathways: Vec<(String, String, microcred_core::StackingRequirement)> = list
        .iter()
        .filter_map(|a| {
            let rule = a.definition.get("stackingRequirement")?;
            let rule = microcred_core::StackingRequirement::from_value(rule).ok()?;
            let url = format!("{base}/institutions/{}/achievements/{}", rec.slug, a.slug);
            Some((a.slug.clone(), url, rule))
        })
        .collect();
    let items: Vec<Value> = list
        .iter()
        .map(|a| {
            let d = &a.definition;
            let url = format!("{base}/institutions/{}/achievements/{}", rec.slug, a.slug);
            let id = d.get("id").and_then(Value::as_str).unwrap_or_default();
            let stacks_into: Vec<Value> = pathways
                .iter()
                .filter(|(_, _, rule)| {
                    rule.required_achievement.iter().any(|r| {
                        microcred_core::achievement_matches(r, &url)
                            || microcred_core::achievement_matches(r, id)
                    })
                })
                .map(|(slug, url, _)| json!({"slug": slug, "url": url}))
                .collect();
            json!({
                "slug": a.slug,
                "version": a.version,
                "id": d.get("id"),
                "url": url,
                "name": d.get("name"),
                "description": d.get("description"),
                "achievementType": d.get("achievementType"),
                "humanCode": d.get("humanCode"),
                "volumeOfLearning": d.get("volumeOfLearning"),
                "creditsAvailable": d.get("creditsAvailable"),
                "learningMode": d.get("learningMode"),
                "updatedAt": a.created_at,
                "stackingRequirement": d.get("stackingRequirement"),
                "stacksInto": stacks_into,
            })
        })
        .collect();
    let mut r = AppJson(json!({
        "issuer": {"id": rec.did, "name": rec.profile.get("name")},
        "achievements": items,
    }))
    .into_response();
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(r)
}

pub(crate) async fn achievement(
    State(db): State<Db>,
    AppPath((inst, ach)): AppPath<(String, String)>,
) -> Result<AppJson<Value>, ApiError> {
    definition(db, inst, ach, None).await
}

pub(crate) async fn achievement_version(
    State(db): State<Db>,
    AppPath((inst, ach, version)): AppPath<(String, String, String)>,
) -> Result<AppJson<Value>, ApiError> {
    let v: i64 = version.parse().ok().filter(|v| *v > 0).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no version \"{}\"",
            version.chars().take(20).collect::<String>()
        ))
    })?;
    definition(db, inst, ach, Some(v)).await
}

async fn definition(
    db: Db,
    inst: String,
    ach: String,
    version: Option<i64>,
) -> Result<AppJson<Value>, ApiError> {
    slug(&inst, "institution")?;
    slug(&ach, "achievement")?;
    let rec = db
        .run(move |store| {
            store.achievement(&inst, &ach, version)?.ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no achievement \"{ach}\"{}",
                    version.map(|v| format!(" version {v}")).unwrap_or_default()
                ))
            })
        })
        .await?;
    Ok(AppJson(rec.definition))
}
