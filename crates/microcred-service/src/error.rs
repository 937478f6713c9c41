//! Errors: [`Error`] for the library (start-up, configuration, store), [`DomainError`] for the
//! service's rules (keys, templates, status lists, lint profiles), [`ApiError`] for HTTP.
//!
//! The domain modules (`status`, `issuer`, `lint_profile`, the state's lookups) know nothing
//! of HTTP: they return [`DomainError`], [`StoreError`], [`KeyAccessError`] or core's
//! [`RowError`]. This file is the one place that gives each of them an HTTP status (the
//! `From` impls for [`ApiError`] below); handlers only add the errors of HTTP itself (a body
//! that is not JSON, a missing token).
//!
//! Every HTTP error is JSON `{"error": "..."}`. A 4xx carries a message the client can act
//! on; a 5xx says only "internal error" and logs the cause (never key material).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::issuer::{KeyAccessError, RowError};
use crate::store::StoreError;

/// A library error: the service could not start or a background part failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is missing something or is inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// The master key is missing, malformed or does not open this database.
    #[error("master key: {0}")]
    MasterKey(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding or serving failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// What a domain rule refuses, or what failed beneath it, in the domain's own terms.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DomainError {
    /// The institution, achievement, credential or list does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The current state does not allow it (a stored setting this build does not know, ...).
    #[error("{0}")]
    Conflict(String),
    /// What was asked for is not acceptable; optional machine-readable details.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// Machine-readable details (lint findings, the choices available).
        details: Option<serde_json::Value>,
    },
    /// Something this needs cannot serve it now (a key whose token is absent, a list whose
    /// only key is compromised).
    #[error("{0}")]
    Unavailable(String),
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A signing key could not be opened.
    #[error(transparent)]
    Key(#[from] KeyAccessError),
    /// A credential could not be built, linted or signed.
    #[error(transparent)]
    Row(#[from] RowError),
    /// A bug or corrupt stored data.
    #[error("{0}")]
    Internal(String),
}

/// The one mapping from domain errors to HTTP.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(m) => Self::NotFound(m),
            DomainError::Conflict(m) => Self::Conflict(m),
            DomainError::Invalid { message, details } => Self::Unprocessable { message, details },
            DomainError::Unavailable(m) => Self::Unavailable(m),
            DomainError::Store(StoreError::Conflict(m)) => Self::Conflict(m),
            DomainError::Store(other) => Self::Internal(other.to_string()),
            // The cause is logged, never shown (it concerns the master key).
            DomainError::Key(KeyAccessError::Crypto(e)) => {
                Self::Internal(format!("signing key: {e}"))
            }
            DomainError::Key(other) => Self::Unavailable(other.to_string()),
            DomainError::Row(RowError::Invalid(m)) => Self::unprocessable(m),
            DomainError::Row(RowError::Lint(report)) => Self::Unprocessable {
                message: match report.profile {
                    Some(p) => format!("the credential has lint errors under lint profile {p}"),
                    None => "the credential has lint errors".into(),
                },
                details: Some(json!({"findings": report.findings, "lintProfile": report.profile})),
            },
            DomainError::Row(RowError::Internal(m)) => Self::Internal(m),
            DomainError::Row(e @ RowError::Signer(_)) => Self::Unavailable(e.message()),
            DomainError::Internal(m) => Self::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        DomainError::from(e).into()
    }
}

impl From<KeyAccessError> for ApiError {
    fn from(e: KeyAccessError) -> Self {
        DomainError::from(e).into()
    }
}

impl From<RowError> for ApiError {
    fn from(e: RowError) -> Self {
        DomainError::from(e).into()
    }
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad header).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no credentials, or credentials that are not valid.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials without the right to do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: nothing there.
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with the current state (e.g. the name is taken).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 415: wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but unacceptable input; optional details (e.g. lint findings).
    #[error("{message}")]
    Unprocessable {
        /// What is wrong.
        message: String,
        /// Machine-readable details.
        details: Option<serde_json::Value>,
    },
    /// 503: shutting down, or a resource that cannot serve this (no `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: too busy right now (the CPU pool's queue is full, or the
    /// request ran out of time); the same request may succeed after that many seconds.
    #[error("{message}")]
    Busy {
        /// What is busy.
        message: String,
        /// Seconds the client should wait before retrying (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// 500: a bug or a failing dependency; logged, answered as "internal error".
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// 422 with a message only.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::Unprocessable {
            message: message.into(),
            details: None,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                json!({"error": "internal error"})
            }
            Self::Unprocessable {
                message,
                details: Some(d),
            } => json!({"error": message, "details": d}),
            other => json!({"error": other.to_string()}),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Self::Busy {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => Self::unprocessable(format!(
                "the JSON body does not have the expected shape: {}",
                e.body_text()
            )),
            JsonRejection::JsonSyntaxError(e) => {
                Self::BadRequest(format!("the body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ),
            JsonRejection::BytesRejection(e) => body_error(e.status(), e.body_text()),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::BadRequest(format!("bad path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::BadRequest(format!("bad query string: {}", r.body_text()))
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        body_error(r.status(), r.body_text())
    }
}

/// Maps a body-reading failure (usually the size limit) to a clear error.
pub(crate) fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(
            "the request body is larger than this endpoint accepts (see the limits in /openapi.json)"
                .into(),
        )
    } else {
        ApiError::BadRequest(format!("cannot read the request body: {text}"))
    }
}

/// A JSON body extractor whose rejections are [`ApiError`]s (JSON bodies, not text).
///
/// It reads the body with the route's size limit, parses it strictly with
/// [`microcred_core::parse_strict`] (duplicate member names, invalid UTF-8 and nesting deeper
/// than 128 levels are refused: 400, the message naming the problem and where), then reads
/// `T` from the parsed value (a wrong shape is 422, naming the member's path). Strict for
/// the same reason verification is: a body whose duplicate members one parser reads one way
/// and another the other way must not be acted on.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ));
        }
        let body = axum::body::Bytes::from_request(req, state).await?;
        json_body(&body).and_then(from_json_value).map(Self)
    }
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`,
/// parameters such as `charset` aside), as axum's `Json` requires.
pub(crate) fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a request body strictly (see [`AppJson`]): 400 when it is not acceptable JSON.
pub(crate) fn json_body(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    microcred_core::parse_strict(bytes).map_err(|e| {
        if e.is_duplicate_member() {
            ApiError::BadRequest(format!("the body is not acceptable JSON: {}", e.reason()))
        } else {
            ApiError::BadRequest(format!("the body is not valid JSON: {}", e.reason()))
        }
    })
}

/// Reads `T` from a parsed body: 422 naming the member whose shape is wrong. The body must be
/// a JSON object (every body this service reads is one; serde would also read a struct from an
/// array of its members' values).
pub(crate) fn from_json_value<T: DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::unprocessable(
            "the JSON body does not have the expected shape: it must be an object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::unprocessable(format!(
                "the JSON body does not have the expected shape: {inner}"
            ))
        } else {
            ApiError::unprocessable(format!(
                "the JSON body does not have the expected shape at `{path}`: {inner}"
            ))
        }
    })
}

/// `axum::extract::Path` whose rejection (e.g. invalid UTF-8 in a segment) is an
/// [`ApiError`]: JSON, and never written to the log by axum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppPath<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(r) => Err(r.into()),
        }
    }
}

/// `axum::extract::Query` whose rejection (e.g. `?limit=abc`) is an [`ApiError`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppQuery<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(r) => Err(r.into()),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
