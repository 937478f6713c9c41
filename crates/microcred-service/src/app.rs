//! The router, its middleware, and the server's life cycle (bind, graceful shutdown that
//! drains the writers). The state is in `state.rs`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::cpu::CpuPool;
use crate::error::{ApiError, Error};
use crate::routes;
use crate::state::{AppState, Background, Site};

pub(crate) fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

pub(crate) fn now_text() -> String {
    microcred_core::format_datetime(now())
}

/// Builds the router: public endpoints, the W3C VC API, and the private `/v1` API.
pub fn app(state: AppState) -> Router {
    let limits = state.0.site.limits.clone();
    let batch = Router::new()
        .route(
            "/v1/institutions/{inst}/credentials/batch",
            post(routes::issue::batch),
        )
        .layer(DefaultBodyLimit::max(limits.batch_body_bytes));
    Router::new()
        .route("/healthz", get(routes::public::healthz))
        .route("/openapi.json", get(routes::public::openapi))
        .route("/ns/microcred/v1", get(routes::pages::vocabulary))
        .route("/.well-known/openid-credential-issuer/institutions/{inst}", get(routes::oid4vci::issuer_metadata))
        .route("/institutions/{inst}/.well-known/openid-credential-issuer", get(routes::oid4vci::issuer_metadata))
        .route("/.well-known/oauth-authorization-server/institutions/{inst}", get(routes::oid4vci::authorization_server_metadata))
        .route("/institutions/{inst}/.well-known/oauth-authorization-server", get(routes::oid4vci::authorization_server_metadata))
        .route("/.well-known/openid-configuration/institutions/{inst}", get(routes::oid4vci::authorization_server_metadata))
        .route("/institutions/{inst}/.well-known/openid-configuration", get(routes::oid4vci::authorization_server_metadata))
        .route("/institutions/{inst}/oid4vci/token", post(routes::oid4vci::token))
        .route("/institutions/{inst}/oid4vci/nonce", post(routes::oid4vci::nonce))
        .route("/institutions/{inst}/oid4vci/credential", post(routes::oid4vci::credential))
        .route("/institutions/{inst}/oid4vci/deferred", post(routes::oid4vci::deferred))
        .route("/offers/{id}", get(routes::oid4vci::offer))
        .route("/offers/{id}/qr.svg", get(routes::oid4vci::offer_qr))
        .route("/exchanges/{id}", post(routes::oid4vci::exchange))
        .route("/v1/institutions/{inst}/offers", post(routes::oid4vci::create).get(routes::oid4vci::list))
        .route("/v1/institutions/{inst}/offers/{id}", get(routes::oid4vci::get_one))
        .route("/v1/institutions/{inst}/offers/{id}/items/{index}/release", post(routes::oid4vci::release))
        .route("/v1/institutions/{inst}/offers/{id}/cancel", post(routes::oid4vci::cancel))
        .route("/verify", get(routes::verifier::redirect))
        .route("/verify/", get(routes::verifier::page))
        .route("/verify/{file}", get(routes::verifier::asset))
        .route("/credentials/issue", post(routes::vcapi::issue))
        .route(
            "/credentials/verify",
            post(routes::vcapi::verify_credential)
                .layer(middleware::from_fn_with_state(state.clone(), public_admission)),
        )
        .route(
            "/presentations/verify",
            post(routes::vcapi::verify_presentation)
                .layer(middleware::from_fn_with_state(state.clone(), public_admission)),
        )
        .route("/credentials/{id}", get(routes::public::credential))
        .route("/credentials/{id}/badge.png", get(routes::badge::badge_png))
        .route("/credentials/{id}/badge.svg", get(routes::badge::badge_svg))
        .route("/credentials/{id}/status", get(routes::public::credential_status))
        .route("/credentials/{id}/clr", get(routes::clr::pathway_record))
        .route("/status/{list}", get(routes::status::status_list))
        .route("/institutions/{inst}", get(routes::public::profile))
        .route("/institutions/{inst}/did.json", get(routes::public::did_document))
        .route("/institutions/{inst}/achievements", get(routes::public::catalogue))
        .route("/institutions/{inst}/achievements/{ach}", get(routes::public::achievement))
        .route("/institutions/{inst}/achievements/{ach}/versions/{version}", get(routes::public::achievement_version))
        .route("/v1/institutions", post(routes::admin::create_institution).get(routes::admin::list_institutions))
        .route("/v1/institutions/{inst}", get(routes::admin::get_institution))
        .route("/v1/institutions/{inst}/profile", put(routes::admin::update_profile))
        .route("/v1/institutions/{inst}/keys", get(routes::admin::list_keys))
        .route("/v1/institutions/{inst}/keys/rotate", post(routes::admin::rotate_key))
        .route("/v1/institutions/{inst}/keys/compromised", post(routes::admin::mark_compromised))
        .route("/v1/institutions/{inst}/tokens", post(routes::admin::create_token).get(routes::admin::list_tokens))
        .route("/v1/institutions/{inst}/tokens/{id}", axum::routing::delete(routes::admin::revoke_token))
        .route("/v1/institutions/{inst}/achievements", post(routes::admin::create_achievement).get(routes::admin::list_achievements))
        .route("/v1/institutions/{inst}/achievements/{ach}", put(routes::admin::put_achievement))
        .route("/v1/institutions/{inst}/credentials", post(routes::issue::single).get(routes::issue::list))
        .route("/v1/institutions/{inst}/credentials/{id}", get(routes::issue::get_one))
        .route("/v1/institutions/{inst}/credentials/{id}/revoke", post(routes::status::revoke))
        .route("/v1/institutions/{inst}/credentials/{id}/suspend", post(routes::status::suspend))
        .route("/v1/institutions/{inst}/credentials/{id}/reinstate", post(routes::status::reinstate))
        .route("/v1/institutions/{inst}/learners/clr", post(routes::clr::learner_record))
        .route("/v1/institutions/{inst}/learners/recognitions", post(routes::recognition::record))
        .route("/v1/institutions/{inst}/status-events", get(routes::status::events))
        .route("/v1/institutions/{inst}/status-lists", get(routes::status::lists))
        .route("/v1/institutions/{inst}/settings", get(routes::status::get_settings).put(routes::status::put_settings))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .merge(batch)
        .fallback(|| async { ApiError::NotFound("no such endpoint: see /openapi.json".into()) })
        .method_not_allowed_fallback(|| async {
            (
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(serde_json::json!({"error": "method not allowed on this endpoint: see /openapi.json"})),
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(middleware::map_response(json_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                // Internal errors are logged with their cause where they happen (`ApiError`),
                // and a 503 under load is the service protecting itself: one line per failed
                // request at a visible level would let a flood fill the disk with logs (the CPU
                // pool logs refusals as a count, at most every ten seconds).
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

/// The span of a request: method and route template only (`/credentials/{id}`), never the
/// concrete path, the query string or a header, which can carry tokens and learners' ids.
/// The response event adds status and latency.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    tracing::debug_span!("request", method = %req.method(), route = %route)
}

/// Last line behind "every error body is JSON": any response of 400 or more whose body is not
/// JSON (a rejection answered by axum itself as text, an empty 4xx) becomes
/// `{"error": "<its text>"}`, with the same status and headers (`Allow`, `Retry-After`, ...).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if status.as_u16() < 400 || is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let body = serde_json::json!({ "error": message }).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Whether the `Content-Type` is JSON (`application/json` or `application/<x>+json`).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// The `Retry-After` of a timed-out request: a time-out means the service is overloaded (or
/// its disk is slow), so give it a few seconds rather than an immediate retry.
const TIMEOUT_RETRY_AFTER_SECS: u64 = 5;

/// The largest error body [`json_errors`] reads to carry over as the message.
const MAX_ERROR_TEXT: usize = 4096;

/// Admits an unauthenticated verification before its body is read (`CpuPool::admit_request`),
/// so the memory held by request bodies is bounded however many clients send at once.
async fn public_admission(State(cpu): State<CpuPool>, req: Request, next: Next) -> Response {
    match cpu.admit_request() {
        Ok(permit) => {
            let response = next.run(req).await;
            drop(permit);
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Bounds every request's time; a timed-out request answers 503 JSON. (A credential whose
/// storage had begun is still stored: retry with the same `Idempotency-Key`.)
async fn timeout(State(site): State<Site>, req: Request, next: Next) -> Response {
    let secs = if req.uri().path().ends_with("/batch") {
        site.limits.batch_timeout_secs
    } else {
        site.limits.request_timeout_secs
    };
    match tokio::time::timeout(Duration::from_secs(secs), next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::Busy {
            message: format!(
                "the request took longer than {secs} s; if it issued credentials, retry with the same Idempotency-Key"
            ),
            retry_after_secs: TIMEOUT_RETRY_AFTER_SECS,
        }
        .into_response(),
    }
}

/// A bound, ready server.
pub struct Server {
    state: AppState,
    background: Background,
    listener: tokio::net::TcpListener,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the listener, then builds the state ([`AppState::open`]: configuration,
    /// database, master key, administrator token, writers). Without a `base_url` the bound
    /// address is the base URL. Refuses to start without a master key.
    pub async fn bind(mut config: Config) -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        if config.base_url.is_none() {
            config.base_url = Some(format!("http://{addr}"));
        }
        let database = config.database.display().to_string();
        let (state, background) = AppState::open(config).await?;
        tracing::info!(%addr, base_url = %state.0.site.base_url, %database, "microcred service ready");
        Ok(Self {
            state,
            background,
            listener,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// The public base URL in use.
    pub fn base_url(&self) -> &str {
        &self.state.0.site.base_url
    }

    /// The administrator token generated on this first start, if one was: show it once.
    pub fn take_generated_admin_token(&mut self) -> Option<Zeroizing<String>> {
        self.background.take_generated_admin_token()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and waits until
    /// every acknowledged credential is stored.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Self {
            state,
            background,
            listener,
        } = self;
        let router = app(state);
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        // Every handler (and so every CommitQueue clone) is gone: the writers drain and stop.
        background.finish().await?;
        tracing::info!("microcred service stopped");
        served.map_err(Error::Io)
    }
}

/// Completes on Ctrl-C or (Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

/// Sets up logging to stderr with [`log_filter`].
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// The log filter: `MICROCRED_LOG`, else `RUST_LOG`, else `info`. Whatever it says, no line
/// carries a token or a request's path or query: requests are logged by method and route
/// template (`/credentials/{id}`), status and latency only.
pub fn log_filter() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("MICROCRED_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,tower_http=info"));
    // axum logs the text of the rejections it answers itself, which can quote what the client
    // sent (a query value, a path segment): never, whatever the filter says. (The service's
    // own extractors answer rejections without logging them.)
    match "axum::rejection=off".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}
