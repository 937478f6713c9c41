//! Application state, the router, and the server's life cycle (start-up checks, graceful
//! shutdown that drains the credential writer).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

use crate::cache::{KEY_CACHE_TTL, TEMPLATE_CACHE_TTL, TOKEN_CACHE_TTL};
use crate::commit::{CommitQueue, Writer};
use crate::config::{base_url_parts, BaseUrl, Config, Limits};
use crate::cpu::{Caller, CpuPool, PoolSize};
use crate::crypto::{self, MasterKey};
use crate::error::{ApiError, Error};
use crate::issuer::{self, ActiveKey, Template};
use crate::routes;
use crate::store::{InstitutionRecord, KeyStatus, Store, TokenRecord};

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) commits: CommitQueue,
    pub(crate) master: MasterKey,
    /// The PKCS#11 token institutions' keys may live in, when `[pkcs11]` is configured.
    pub(crate) pkcs11: Option<Arc<crate::pkcs11::Token>>,
    pub(crate) base_url: Arc<str>,
    pub(crate) base: BaseUrl,
    pub(crate) admin_hash: [u8; 32],
    pub(crate) limits: Limits,
    pub(crate) bodies: crate::cache::BodyCache,
    pub(crate) status: crate::status::StatusService,
    /// The bounded pool for CPU-heavy work (see `cpu.rs`).
    pub(crate) cpu: CpuPool,
    /// Token records by hash, with when they were read (see [`TOKEN_CACHE_TTL`]).
    tokens: Mutex<HashMap<[u8; 32], (TokenRecord, Instant)>>,
    /// Each institution's active key (see [`KEY_CACHE_TTL`]).
    keys: Mutex<HashMap<String, CachedKey>>,
    /// Issuing templates, with the time from which they count as read (see
    /// [`TEMPLATE_CACHE_TTL`]).
    templates: Mutex<HashMap<TemplateKey, (Arc<Template>, Instant)>>,
}

/// A template's institution, achievement and version.
type TemplateKey = (String, String, i64);

/// An institution's active key as cached: which key record it is, and when the store last
/// confirmed that this record is the active one.
#[derive(Clone)]
struct CachedKey {
    key: Arc<ActiveKey>,
    method_id: String,
    checked: Instant,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("base_url", &self.0.base_url)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Runs `f` on a blocking thread (store access, signing).
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Inner) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| ApiError::Internal(format!("worker task failed: {e}")))?
    }

    /// Runs CPU-heavy `f` (signing, verification, JSON-LD checks, image generation) for an
    /// authenticated caller on the bounded CPU pool: waits for a worker while the pool's queue
    /// has room, else answers [`ApiError::Busy`] (503 + `Retry-After`) at once.
    pub(crate) async fn cpu<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Inner) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.on_cpu(Caller::Authenticated, f).await
    }

    /// Like [`Self::cpu`] for requests anyone can send (verification, pages, badge images):
    /// they have a smaller share of the pool, so they can never take all of it.
    pub(crate) async fn cpu_public<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Inner) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.on_cpu(Caller::Public, f).await
    }

    async fn on_cpu<T, F>(&self, caller: Caller, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Inner) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.0.clone();
        self.0.cpu.run(caller, move || f(&inner)).await?
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.0
    }
}

pub(crate) fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

pub(crate) fn now_text() -> String {
    microcred_core::format_datetime(now())
}

impl Inner {
    /// Where keys are made and opened: the master key, and the PKCS#11 token if configured.
    pub(crate) fn vault(&self) -> issuer::Vault<'_> {
        issuer::Vault {
            master: &self.master,
            token: self.pkcs11.as_ref(),
        }
    }

    pub(crate) fn institution(&self, slug: &str) -> Result<InstitutionRecord, ApiError> {
        self.store
            .institution(slug)?
            .ok_or_else(|| ApiError::NotFound(format!("no institution \"{slug}\"")))
    }

    /// The institution's active signing key (decrypted, or bound to its token, once; then
    /// cached; which key is active is asked again after [`KEY_CACHE_TTL`]).
    pub(crate) fn active_key(&self, inst: &str) -> Result<Arc<ActiveKey>, ApiError> {
        Ok(self.checked_key(inst)?.key)
    }

    /// [`Self::active_key`], with when the store last confirmed it is the active key.
    pub(crate) fn active_key_checked(
        &self,
        inst: &str,
    ) -> Result<(Arc<ActiveKey>, Instant), ApiError> {
        let c = self.checked_key(inst)?;
        Ok((c.key, c.checked))
    }

    /// The institution's active key with when the store last confirmed it: the cached key
    /// while that is less than [`KEY_CACHE_TTL`] ago; else the store says which key is
    /// active, and only a different one is opened.
    fn checked_key(&self, inst: &str) -> Result<CachedKey, ApiError> {
        let cached = self.keys.lock().ok().and_then(|m| m.get(inst).cloned());
        if let Some(c) = &cached {
            if c.checked.elapsed() < KEY_CACHE_TTL {
                return Ok(c.clone());
            }
        }
        // Taken before the read: the answer is at least this fresh.
        let checked = Instant::now();
        let rec = self
            .store
            .keys(inst)?
            .into_iter()
            .find(|k| k.status == KeyStatus::Active)
            .ok_or_else(|| ApiError::Internal(format!("institution {inst} has no active key")))?;
        let key = match cached {
            Some(c) if c.method_id == rec.method_id => c.key,
            _ => Arc::new(ActiveKey {
                key: issuer::open_key(self.vault(), &rec)?,
            }),
        };
        let entry = CachedKey {
            key,
            method_id: rec.method_id,
            checked,
        };
        if let Ok(mut m) = self.keys.lock() {
            m.insert(inst.to_owned(), entry.clone());
        }
        Ok(entry)
    }

    /// The issuing template of an achievement version (latest when `version` is `None`).
    pub(crate) fn template(
        &self,
        inst: &str,
        slug: &str,
        version: Option<i64>,
    ) -> Result<Arc<Template>, ApiError> {
        let version = match version {
            Some(v) => v,
            None => self
                .store
                .latest_achievement_version(inst, slug)?
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "institution \"{inst}\" has no achievement \"{slug}\""
                    ))
                })?,
        };
        let cache_key = (inst.to_owned(), slug.to_owned(), version);
        if let Some((t, _)) = self
            .templates
            .lock()
            .ok()
            .and_then(|m| m.get(&cache_key).cloned())
            .filter(|(_, read)| read.elapsed() < TEMPLATE_CACHE_TTL)
        {
            return Ok(t);
        }
        // What the template holds is read from here on, its key possibly earlier.
        let started = Instant::now();
        let key = self.checked_key(inst)?;
        let read = started.min(key.checked);
        let rec = self
            .store
            .achievement(inst, slug, Some(version))?
            .ok_or_else(|| {
                ApiError::NotFound(format!("achievement \"{slug}\" has no version {version}"))
            })?;
        let institution = self.institution(inst)?;
        let profile = crate::lint_profile::effective(self, inst, rec.lint_profile.as_deref())?;
        let achievement = microcred_core::Achievement::from_value(rec.definition).map_err(|e| {
            ApiError::Internal(format!("stored achievement {slug} v{version}: {e}"))
        })?;
        let issuer = microcred_core::Profile::from_value(institution.profile)
            .map_err(|e| ApiError::Internal(format!("stored profile of {inst}: {e}")))?;
        let template = Arc::new(
            Template::new(
                inst,
                slug,
                version,
                achievement,
                issuer,
                key.key,
                self.base_url.clone(),
                profile,
            )
            .map_err(crate::routes::issue::row_error)?
            .with_status(crate::status::StatusPlan::for_institution(self, inst)?),
        );
        if let Ok(mut m) = self.templates.lock() {
            m.retain(|_, (_, at)| at.elapsed() < TEMPLATE_CACHE_TTL);
            m.insert(cache_key, (template.clone(), read));
        }
        Ok(template)
    }

    /// Forgets cached keys, templates and signed status lists of an institution (after a
    /// rotation, a key marked compromised, a profile change or a lint profile change).
    pub(crate) fn invalidate(&self, inst: &str) {
        self.status.forget(inst);
        if let Ok(mut m) = self.keys.lock() {
            m.remove(inst);
        }
        if let Ok(mut m) = self.templates.lock() {
            m.retain(|(i, _, _), _| i != inst);
        }
    }

    /// A token found recently, without touching the store.
    pub(crate) fn cached_token(&self, hash: &[u8; 32]) -> Option<TokenRecord> {
        let (rec, at) = self.tokens.lock().ok().and_then(|m| m.get(hash).cloned())?;
        (at.elapsed() < TOKEN_CACHE_TTL).then_some(rec)
    }

    /// Looks a bearer token up (cached for a short time).
    pub(crate) fn token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, ApiError> {
        if let Some(rec) = self.cached_token(hash) {
            return Ok(Some(rec));
        }
        let found = self.store.token_by_hash(hash)?;
        if let (Some(rec), Ok(mut m)) = (&found, self.tokens.lock()) {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(*hash, (rec.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Forgets cached tokens (after a revocation).
    pub(crate) fn forget_tokens(&self) {
        if let Ok(mut m) = self.tokens.lock() {
            m.clear();
        }
    }
}

/// Builds the router: public endpoints, the W3C VC API, and the private `/v1` API.
pub fn app(state: AppState) -> Router {
    let limits = state.0.limits.clone();
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
async fn public_admission(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.0.cpu.admit_request() {
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
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let secs = if req.uri().path().ends_with("/batch") {
        state.0.limits.batch_timeout_secs
    } else {
        state.0.limits.request_timeout_secs
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
    writer: Writer,
    status_writer: crate::status::StatusWriter,
    listener: tokio::net::TcpListener,
    generated_admin_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

const MASTER_CHECK: &str = "master_key_check";
const MASTER_CHECK_TEXT: &[u8] = b"microcred master key check v1";
const ADMIN_HASH: &str = "admin_token_sha256";

impl Server {
    /// Checks the configuration, opens the database, checks the master key against it,
    /// settles the administrator token and binds the listener. Refuses to start without a
    /// master key.
    pub async fn bind(mut config: Config) -> Result<Self, Error> {
        let master = config.load_master_key()?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        if config.base_url.is_none() {
            config.base_url = Some(format!("http://{addr}"));
        }
        config.validate()?;
        let base_url = config.base_url.clone().unwrap_or_default();
        let base = base_url_parts(&base_url)?;
        let db = config.database.clone();
        let admin_token = config.admin_token.clone();
        let pkcs11_config = config.pkcs11.clone();
        let (store, master, admin_hash, generated) =
            tokio::task::spawn_blocking(move || -> Result<_, Error> {
                let store = crate::store::open(&db)?;
                check_master_key(&*store, &master)?;
                let (hash, generated) = match admin_token {
                    Some(t) => (crypto::token_hash(&t), None),
                    None => match store.meta(ADMIN_HASH)? {
                        Some(h) => (
                            h.try_into().map_err(|_| {
                                Error::Config("stored admin token hash is corrupt".into())
                            })?,
                            None,
                        ),
                        None => {
                            let token =
                                crypto::new_token().map_err(|e| Error::Config(e.to_string()))?;
                            let hash = crypto::token_hash(&token);
                            let stored = store.meta_set_if_absent(ADMIN_HASH, &hash)?;
                            let stored: [u8; 32] = stored.try_into().map_err(|_| {
                                Error::Config("stored admin token hash is corrupt".into())
                            })?;
                            let shown = crypto::hashes_equal(&stored, &hash).then_some(token);
                            (stored, shown)
                        }
                    },
                };
                Ok((store, master, hash, generated))
            })
            .await
            .map_err(|e| Error::Config(format!("start-up task failed: {e}")))??;
        // A configured token must be usable at start (module, label, PIN): a mistake shows
        // now, not at the first issuance, and a refused PIN is never tried again.
        let pkcs11 = match pkcs11_config {
            Some(c) => Some(
                tokio::task::spawn_blocking(move || crate::pkcs11::Token::open(&c))
                    .await
                    .map_err(|e| Error::Config(format!("start-up task failed: {e}")))?
                    .map_err(|e| Error::Config(e.to_string()))?,
            ),
            None => None,
        };
        let (commits, writer) = CommitQueue::start(store.clone())?;
        let (status_queue, status_writer) = crate::status::StatusQueue::start(store.clone())?;
        let cpu = CpuPool::new(PoolSize::from_limits(&config.limits).map_err(Error::Config)?);
        let size = cpu.size();
        tracing::info!(
            workers = size.workers,
            queue = size.queue,
            public_workers = size.public_workers,
            public_queue = size.public_queue,
            "CPU pool for verification and signing"
        );
        let state = AppState(Arc::new(Inner {
            store,
            commits,
            master,
            pkcs11,
            base_url: Arc::from(base_url.as_str()),
            base,
            admin_hash,
            limits: config.limits.clone(),
            bodies: crate::cache::BodyCache::new(config.limits.credential_cache_bytes),
            status: crate::status::StatusService::new(status_queue),
            cpu,
            tokens: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
            templates: Mutex::new(HashMap::new()),
        }));
        tracing::info!(%addr, base_url = %base_url, database = %config.database.display(), "microcred service ready");
        Ok(Self {
            state,
            writer,
            status_writer,
            listener,
            generated_admin_token: generated,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.listener.local_addr()?)
    }

    /// The public base URL in use.
    pub fn base_url(&self) -> &str {
        &self.state.0.base_url
    }

    /// The administrator token generated on this first start, if one was: show it once.
    pub fn take_generated_admin_token(&mut self) -> Option<Zeroizing<String>> {
        self.generated_admin_token.take()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and waits until
    /// every acknowledged credential is stored.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Self {
            state,
            writer,
            status_writer,
            listener,
            ..
        } = self;
        let router = app(state.clone());
        drop(state);
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        // Every handler (and so every CommitQueue clone) is gone: the writer drains and stops.
        tokio::task::spawn_blocking(move || {
            writer.join();
            status_writer.join();
        })
        .await
        .map_err(|e| Error::Config(format!("writer join failed: {e}")))?;
        tracing::info!("microcred service stopped");
        served.map_err(Error::Io)
    }
}

fn check_master_key(store: &dyn Store, master: &MasterKey) -> Result<(), Error> {
    let (nonce, ct) = master
        .seal(MASTER_CHECK_TEXT, MASTER_CHECK.as_bytes())
        .map_err(|e| Error::MasterKey(e.to_string()))?;
    let mut fresh = nonce.to_vec();
    fresh.extend_from_slice(&ct);
    let stored = store.meta_set_if_absent(MASTER_CHECK, &fresh)?;
    let (n, c) = stored.split_at(stored.len().min(24));
    match master.open(n, c, MASTER_CHECK.as_bytes()) {
        Ok(text) if text.as_slice() == MASTER_CHECK_TEXT => Ok(()),
        _ => Err(Error::MasterKey(
            "this is not the master key the database was created with: the service cannot open its signing keys; give it the original key".into(),
        )),
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
