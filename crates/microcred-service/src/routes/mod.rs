//! HTTP handlers, one module per area.

pub(crate) mod admin;
pub(crate) mod badge;
pub(crate) mod clr;
pub(crate) mod issue;
pub(crate) mod oid4vci;
pub(crate) mod pages;
pub(crate) mod public;
pub(crate) mod recognition;
mod render;
pub(crate) mod status;
pub(crate) mod vcapi;
pub(crate) mod verifier;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use crate::error::ApiError;

/// `[a-z0-9][a-z0-9-]{0,62}`: institution and achievement names in URLs.
pub(crate) fn valid_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Checks a path slug; an impossible one is simply not found.
pub(crate) fn slug(s: &str, what: &str) -> Result<(), ApiError> {
    if valid_slug(s) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no {what} \"{}\"",
            s.chars().take(64).collect::<String>()
        )))
    }
}

/// The `{id}` segment of a `/v1/institutions/{inst}/.../{id}` route (a credential or token
/// id), read by name: the route's `{inst}` comes from [`crate::auth::Authorized`] only.
#[derive(Debug, Deserialize)]
pub(crate) struct IdSegment {
    pub(crate) id: String,
}

/// The `{ach}` segment of a `/v1/institutions/{inst}/achievements/{ach}` route (see
/// [`IdSegment`]).
#[derive(Debug, Deserialize)]
pub(crate) struct AchSegment {
    pub(crate) ach: String,
}

/// The `Idempotency-Key` header, if given (1–200 visible ASCII characters).
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = v
        .to_str()
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= 200 && t.bytes().all(|b| (0x21..0x7f).contains(&b)))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "Idempotency-Key must be 1 to 200 visible ASCII characters (e.g. a UUID)".into(),
            )
        })?;
    Ok(Some(text.to_owned()))
}

/// A JSON response from already-serialized bytes.
pub(crate) fn raw_json(
    status: StatusCode,
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
) -> Response {
    let mut r = (status, body.into()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A credential's subject: `credentialSubject`, or the first of them (null when absent).
pub(crate) fn subject(vc: &serde_json::Value) -> &serde_json::Value {
    match vc.get("credentialSubject") {
        Some(serde_json::Value::Array(a)) => a.first().unwrap_or(&serde_json::Value::Null),
        Some(s) => s,
        None => &serde_json::Value::Null,
    }
}

/// Escapes a string as a JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}
