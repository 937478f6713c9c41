//! Errors: [`Error`] for the library (start-up, configuration, store), [`ApiError`] for HTTP.
//!
//! Every HTTP error is JSON `{"error": "..."}`. A 4xx carries a message the client can act
//! on; a 5xx says only "internal error" and logs the cause (never key material).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

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
    /// 503: shutting down or overloaded.
    #[error("{0}")]
    Unavailable(String),
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
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::Conflict(m),
            other => Self::Internal(other.to_string()),
        }
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
/// It reads the body with the route's size limit, then parses it with serde_json (whose
/// recursion limit of 128 bounds nesting depth).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(r) => Err(r.into()),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
