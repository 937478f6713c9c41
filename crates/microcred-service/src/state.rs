//! The application state, split by concern into sub-states that handlers and extractors take
//! on their own (axum's [`FromRef`]): a handler that only reads public data takes [`Db`] and
//! [`Site`] and cannot reach keys or tokens; the authorization extractors take only
//! [`Tokens`]. [`AppState`] holds them all, for the handlers that need several.
//!
//! | sub-state          | what it holds                                                  |
//! |--------------------|----------------------------------------------------------------|
//! | [`Db`]             | the store, with a way to run a query off the async runtime     |
//! | [`Site`]           | the public base URL and the limits                             |
//! | [`Tokens`]         | the administrator token's hash and the institution tokens      |
//! | [`KeyRing`]        | the master key, the PKCS#11 token and the active keys          |
//! | [`CommitQueue`]    | the credential writer                                          |
//! | [`StatusService`]  | status allocation, change queue, signed lists                  |
//! | [`BodyCache`]      | recently served credential bodies                              |
//! | [`CpuPool`]        | the bounded pool for CPU-heavy work                            |
//!
//! [`AppState::open`] builds it from a [`Config`] without binding a socket, so tests can
//! drive [`crate::app()`] in process; [`crate::Server::bind`] uses the same function.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::FromRef;
use zeroize::Zeroizing;

use crate::auth::Tokens;
use crate::cache::{BodyCache, TEMPLATE_CACHE_TTL};
use crate::commit::{CommitQueue, Writer};
use crate::config::{base_url_parts, BaseUrl, Config, Limits};
use crate::cpu::{Caller, CpuPool, PoolSize};
use crate::crypto::{self, MasterKey};
use crate::error::{ApiError, DomainError, Error};
use crate::issuer::Template;
use crate::keyring::KeyRing;
use crate::status::{StatusService, StatusWriter};
use crate::store::{InstitutionRecord, Store};

/// Shared state of every handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) site: Site,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) keys: KeyRing,
    pub(crate) commits: CommitQueue,
    pub(crate) status: Arc<StatusService>,
    pub(crate) bodies: Arc<BodyCache>,
    /// The bounded pool for CPU-heavy work (see `cpu.rs`).
    pub(crate) cpu: CpuPool,
    /// The service's pathways (see `stacking.rs`).
    pub(crate) pathways: crate::stacking::Pathways,
    /// Issuing templates, with the time from which they count as read (see
    /// [`TEMPLATE_CACHE_TTL`]).
    templates: Mutex<HashMap<TemplateKey, (Arc<Template>, Instant)>>,
}

/// A template's institution, achievement and version.
type TemplateKey = (String, String, i64);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("base_url", &self.0.site.base_url)
            .finish_non_exhaustive()
    }
}

/// The store, for handlers that only query it.
#[derive(Clone)]
pub(crate) struct Db(Arc<dyn Store>);

impl Db {
    /// Runs `f` against the store on a blocking thread.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| ApiError::Internal(format!("worker task failed: {e}")))?
    }
}

/// Where the service is published and what it accepts.
#[derive(Clone)]
pub(crate) struct Site(Arc<SiteData>);

pub(crate) struct SiteData {
    /// The public base URL (no trailing slash).
    pub(crate) base_url: Arc<str>,
    /// Its parts, for `did:web` identifiers.
    pub(crate) base: BaseUrl,
    pub(crate) limits: Limits,
    /// The employer's verifier page, when configured (`verifier_dir`).
    pub(crate) verifier: Option<crate::routes::verifier::VerifierPage>,
}

impl Deref for Site {
    type Target = SiteData;

    fn deref(&self) -> &SiteData {
        &self.0
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Self {
        Self(s.0.store.clone())
    }
}

impl FromRef<AppState> for Site {
    fn from_ref(s: &AppState) -> Self {
        s.0.site.clone()
    }
}

impl FromRef<AppState> for Arc<Tokens> {
    fn from_ref(s: &AppState) -> Self {
        s.0.tokens.clone()
    }
}

impl FromRef<AppState> for CpuPool {
    fn from_ref(s: &AppState) -> Self {
        s.0.cpu.clone()
    }
}

impl FromRef<AppState> for Arc<BodyCache> {
    fn from_ref(s: &AppState) -> Self {
        s.0.bodies.clone()
    }
}

impl FromRef<AppState> for CommitQueue {
    fn from_ref(s: &AppState) -> Self {
        s.0.commits.clone()
    }
}

impl FromRef<AppState> for Arc<StatusService> {
    fn from_ref(s: &AppState) -> Self {
        s.0.status.clone()
    }
}

/// What runs beside the state: the credential and status writers, which finish every
/// acknowledged write once the last handle to the state is dropped, and the worker that
/// issues stacked credentials.
pub struct Background {
    writer: Writer,
    status_writer: StatusWriter,
    /// Issues stacked credentials (see `stacking.rs`).
    stacking: Option<crate::stacking::StackWorker>,
    generated_admin_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").finish_non_exhaustive()
    }
}

impl Background {
    /// The administrator token generated on this first start, if one was: show it once.
    pub fn take_generated_admin_token(&mut self) -> Option<Zeroizing<String>> {
        self.generated_admin_token.take()
    }

    /// Waits until every acknowledged credential and status change is stored and the
    /// writers have stopped. Call it after every clone of the [`AppState`] (and every router
    /// built from it) is dropped; before that, it waits for them.
    pub async fn finish(self) -> Result<(), Error> {
        let Self {
            writer,
            status_writer,
            stacking,
            ..
        } = self;
        tokio::task::spawn_blocking(move || {
            // The worker first: it may still be storing a stacked credential.
            if let Some(w) = stacking {
                w.join();
            }
            writer.join();
            status_writer.join();
        })
        .await
        .map_err(|e| Error::Config(format!("writer join failed: {e}")))
    }
}

const MASTER_CHECK: &str = "master_key_check";
const MASTER_CHECK_TEXT: &[u8] = b"microcred master key check v1";
const ADMIN_HASH: &str = "admin_token_sha256";

impl AppState {
    /// Checks the configuration (which must name the public `base_url`), opens the database
    /// (applying migrations), checks the master key against it, settles the administrator
    /// token, opens the PKCS#11 token if configured and starts the writers. Refuses to start
    /// without a master key.
    ///
    /// ```no_run
    /// # async fn demo(config: microcred_service::Config) -> Result<(), microcred_service::Error> {
    /// use tower::ServiceExt;
    /// let (state, background) = microcred_service::AppState::open(config).await?;
    /// let request = axum::http::Request::get("/healthz").body(axum::body::Body::empty()).unwrap();
    /// let response = microcred_service::app(state).oneshot(request).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// background.finish().await?;
    /// # Ok(()) }
    /// ```
    pub async fn open(mut config: Config) -> Result<(Self, Background), Error> {
        let master = config.load_master_key()?;
        config.validate()?;
        let base_url = config.base_url.clone().ok_or_else(|| {
            Error::Config(
                "base_url is required (the public URL credentials are issued under)".into(),
            )
        })?;
        let base = base_url_parts(&base_url)?;
        let db = config.database.clone();
        let admin_token = config.admin_token.clone();
        let pkcs11_config = config.pkcs11.clone();
        let (store, master, admin_hash, generated) =
            tokio::task::spawn_blocking(move || -> Result<_, Error> {
                let store = crate::store::open(&db)?;
                check_master_key(&*store, &master)?;
                let (hash, generated) =
                    admin_hash(&*store, admin_token.as_ref().map(|t| t.as_str()))?;
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
        let verifier = match &config.verifier_dir {
            Some(dir) => Some(crate::routes::verifier::VerifierPage::load(dir)?),
            None => None,
        };
        let size = cpu.size();
        tracing::info!(
            workers = size.workers,
            queue = size.queue,
            public_workers = size.public_workers,
            public_queue = size.public_queue,
            "CPU pool for verification and signing"
        );
        let state = Self(Arc::new(Inner {
            tokens: Arc::new(Tokens::new(store.clone(), admin_hash)),
            keys: KeyRing::new(store.clone(), master, pkcs11),
            site: Site(Arc::new(SiteData {
                base_url: Arc::from(base_url.as_str()),
                base,
                limits: config.limits.clone(),
                verifier,
            })),
            commits,
            bodies: Arc::new(BodyCache::new(config.limits.credential_cache_bytes)),
            status: Arc::new(StatusService::new(status_queue)),
            cpu,
            pathways: crate::stacking::Pathways::default(),
            templates: Mutex::new(HashMap::new()),
            store,
        }));
        let stacking = crate::stacking::StackWorker::start(
            Arc::downgrade(&state.0),
            tokio::runtime::Handle::current(),
        )?;
        Ok((
            state,
            Background {
                writer,
                status_writer,
                stacking: Some(stacking),
                generated_admin_token: generated,
            },
        ))
    }

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

/// The administrator token's hash: the configured token's, else the stored one, else a new
/// token's (returned to be shown once; of two instances starting at once, only the one
/// whose hash was stored shows its token).
fn admin_hash(
    store: &dyn Store,
    configured: Option<&str>,
) -> Result<([u8; 32], Option<Zeroizing<String>>), Error> {
    if let Some(t) = configured {
        return Ok((crypto::token_hash(t), None));
    }
    let corrupt = || Error::Config("stored admin token hash is corrupt".into());
    if let Some(h) = store.meta(ADMIN_HASH)? {
        return Ok((h.try_into().map_err(|_| corrupt())?, None));
    }
    let token = crypto::new_token().map_err(|e| Error::Config(e.to_string()))?;
    let hash = crypto::token_hash(&token);
    let stored: [u8; 32] = store
        .meta_set_if_absent(ADMIN_HASH, &hash)?
        .try_into()
        .map_err(|_| corrupt())?;
    let shown = crypto::hashes_equal(&stored, &hash).then_some(token);
    Ok((stored, shown))
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

/// The institution `slug` (not found: a domain error).
pub(crate) fn institution(store: &dyn Store, slug: &str) -> Result<InstitutionRecord, DomainError> {
    store
        .institution(slug)?
        .ok_or_else(|| DomainError::NotFound(format!("no institution \"{slug}\"")))
}

impl Inner {
    /// The institution `slug`.
    pub(crate) fn institution(&self, slug: &str) -> Result<InstitutionRecord, DomainError> {
        institution(&*self.store, slug)
    }

    /// The issuing template of an achievement version (latest when `version` is `None`).
    pub(crate) fn template(
        &self,
        inst: &str,
        slug: &str,
        version: Option<i64>,
    ) -> Result<Arc<Template>, DomainError> {
        let version = match version {
            Some(v) => v,
            None => self
                .store
                .latest_achievement_version(inst, slug)?
                .ok_or_else(|| {
                    DomainError::NotFound(format!(
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
        let (key, key_checked) = self.keys.active_checked(inst)?;
        let read = started.min(key_checked);
        let rec = self
            .store
            .achievement(inst, slug, Some(version))?
            .ok_or_else(|| {
                DomainError::NotFound(format!("achievement \"{slug}\" has no version {version}"))
            })?;
        let institution = self.institution(inst)?;
        let profile =
            crate::lint_profile::effective(&*self.store, inst, rec.lint_profile.as_deref())?;
        let achievement = microcred_core::Achievement::from_value(rec.definition).map_err(|e| {
            DomainError::Internal(format!("stored achievement {slug} v{version}: {e}"))
        })?;
        let issuer = microcred_core::Profile::from_value(institution.profile)
            .map_err(|e| DomainError::Internal(format!("stored profile of {inst}: {e}")))?;
        let template = Arc::new(
            Template::new(
                inst,
                slug,
                version,
                achievement,
                issuer,
                key,
                self.site.base_url.clone(),
                profile,
            )?
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
        self.keys.forget(inst);
        if let Ok(mut m) = self.templates.lock() {
            m.retain(|(i, _, _), _| i != inst);
        }
    }
}
