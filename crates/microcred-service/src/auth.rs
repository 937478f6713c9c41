//! Bearer-token authentication, and the extractors that check a caller's right to a route.
//!
//! - The administrator token manages institutions (create, tokens, keys, achievements) but
//!   does not issue or revoke credentials: that takes an institution token with the scope.
//! - An institution token acts for its own institution only, within its scopes
//!   (`issue`, `revoke`, `manage`); a `manage` token creates tokens with its own scopes or
//!   fewer, never more.
//!
//! No or unknown token: 401. Known token without the right: 403. Permission is checked before
//! anything about the target institution is looked up, so a 403 reveals nothing about it.
//!
//! A handler never checks this itself: it takes [`Authorized<A>`], whose access level `A`
//! ([`Member`], [`Issue`], [`Revoke`], [`Manage`]) is in its signature and which is the only
//! way to obtain the `{inst}` it acts on; [`Admin`] for the administrator's routes, [`Issuer`]
//! for the VC API's issuance (the token's own institution). A bare [`Principal`] cannot be
//! extracted. `tests/authorization.rs` sends every authenticated `{inst}` operation of
//! `openapi.json` no token and a token of another institution.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::cache::TOKEN_CACHE_TTL;
use crate::crypto;
use crate::error::ApiError;
use crate::store::{Scopes, Store, StoreError, TokenRecord};

/// The tokens sub-state: the administrator token's hash, and institution tokens looked up by
/// hash in the store, cached for [`TOKEN_CACHE_TTL`] (a token revoked through another
/// instance stops working within that time; through this one, at once).
pub(crate) struct Tokens {
    store: Arc<dyn Store>,
    admin_hash: [u8; 32],
    /// Token records by hash, with when they were read.
    cache: Mutex<HashMap<[u8; 32], (TokenRecord, Instant)>>,
}

/// Token records cached at most; beyond that the cache starts again.
const MAX_CACHED_TOKENS: usize = 10_000;

impl Tokens {
    pub(crate) fn new(store: Arc<dyn Store>, admin_hash: [u8; 32]) -> Self {
        Self {
            store,
            admin_hash,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A token found recently, without touching the store.
    fn cached(&self, hash: &[u8; 32]) -> Option<TokenRecord> {
        let (rec, at) = self.cache.lock().ok().and_then(|m| m.get(hash).cloned())?;
        (at.elapsed() < TOKEN_CACHE_TTL).then_some(rec)
    }

    /// Looks a token up in the store (blocking) and caches what it finds.
    fn lookup(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let found = self.store.token_by_hash(hash)?;
        if let (Some(rec), Ok(mut m)) = (&found, self.cache.lock()) {
            if m.len() > MAX_CACHED_TOKENS {
                m.clear();
            }
            m.insert(*hash, (rec.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Forgets cached tokens (after a revocation).
    pub(crate) fn forget(&self) {
        if let Ok(mut m) = self.cache.lock() {
            m.clear();
        }
    }
}

/// What a route needs of the caller, as a type: [`Member`], [`Issue`], [`Revoke`] or
/// [`Manage`].
pub(crate) trait Access {
    /// `None`: the administrator or any token of the institution (reading); `Some(scope)`: an
    /// institution token with `scope` (the administrator passes for `manage` only).
    const SCOPE: Option<Scopes>;
}

/// The administrator or any token of the institution (reading its private data).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member;

/// An institution token with the `issue` scope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Issue;

/// An institution token with the `revoke` scope (revoke, suspend, reinstate).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Revoke;

/// The administrator, or an institution token with the `manage` scope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Manage;

impl Access for Member {
    const SCOPE: Option<Scopes> = None;
}

impl Access for Issue {
    const SCOPE: Option<Scopes> = Some(Scopes::ISSUE);
}

impl Access for Revoke {
    const SCOPE: Option<Scopes> = Some(Scopes::REVOKE);
}

impl Access for Manage {
    const SCOPE: Option<Scopes> = Some(Scopes::MANAGE);
}

/// A caller allowed `A` on the institution of the route's `{inst}` segment: the only way a
/// handler obtains that institution.
///
/// Extracting it authenticates (401), checks the right (403, before anything about the
/// institution is looked up), then the slug's form (404 if impossible). Whether the
/// institution exists is left to the handler. Other path segments are read by the handler
/// by name (`AppPath<IdSegment>`, ...).
#[derive(Debug)]
pub(crate) struct Authorized<A> {
    institution: String,
    principal: Principal,
    access: PhantomData<fn() -> A>,
}

impl<A> Authorized<A> {
    /// The institution the caller may act on: a well-formed slug, which may not exist (the
    /// handler looks it up where it needs it).
    pub(crate) fn into_institution(self) -> String {
        self.institution
    }

    /// Who is calling.
    pub(crate) fn principal(&self) -> &Principal {
        &self.principal
    }
}

impl<A: Access, S> FromRequestParts<S> for Authorized<A>
where
    Arc<Tokens>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = authenticate(parts, &Arc::<Tokens>::from_ref(state)).await?;
        let Path(mut params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let institution = params.remove("inst").ok_or_else(|| {
            ApiError::Internal("a route taking `Authorized` has no `{inst}` segment".into())
        })?;
        match A::SCOPE {
            None => principal.require_member(&institution)?,
            Some(scope) => principal.require(&institution, scope)?,
        }
        crate::routes::slug(&institution, "institution")?;
        Ok(Self {
            institution,
            principal,
            access: PhantomData,
        })
    }
}

/// The administrator, for the routes only it may use (creating and listing institutions).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admin;

impl<S> FromRequestParts<S> for Admin
where
    Arc<Tokens>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        authenticate(parts, &Arc::<Tokens>::from_ref(state))
            .await?
            .require_admin()?;
        Ok(Self)
    }
}

/// An institution token with the `issue` scope, acting for its own institution: the VC API's
/// `POST /credentials/issue`, whose path names no institution. The administrator is refused.
#[derive(Debug)]
pub(crate) struct Issuer(pub(crate) Authorized<Issue>);

impl<S> FromRequestParts<S> for Issuer
where
    Arc<Tokens>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = authenticate(parts, &Arc::<Tokens>::from_ref(state)).await?;
        let Principal::Institution { slug, .. } = &principal else {
            return Err(ApiError::Forbidden(
                "issue with an institution token (scope `issue`): the credential's issuer is that institution".into(),
            ));
        };
        let institution = slug.clone();
        principal.require(&institution, Scopes::ISSUE)?;
        Ok(Self(Authorized {
            institution,
            principal,
            access: PhantomData,
        }))
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// The administrator.
    Admin,
    /// An institution's token.
    Institution {
        /// The institution it acts for.
        slug: String,
        /// What it may do.
        scopes: Scopes,
        /// The token's public id.
        token_id: String,
    },
}

impl Principal {
    /// What the audit trail records as the actor: the token's id, or `admin`.
    pub(crate) fn actor(&self) -> &str {
        match self {
            Self::Admin => "admin",
            Self::Institution { token_id, .. } => token_id,
        }
    }

    /// Allows the administrator only.
    fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Institution { .. } => Err(ApiError::Forbidden(
                "this needs the administrator token".into(),
            )),
        }
    }

    /// Allows an institution token of `inst` with `scope`; the administrator passes for
    /// `manage` only.
    fn require(&self, inst: &str, scope: Scopes) -> Result<(), ApiError> {
        match self {
            Self::Admin if scope == Scopes::MANAGE => Ok(()),
            Self::Admin => Err(ApiError::Forbidden(format!(
                "the administrator token cannot {}: create an institution token with that scope (POST /v1/institutions/{inst}/tokens)",
                scope.names().join(", ")
            ))),
            Self::Institution { slug, scopes, .. } => {
                if slug != inst {
                    Err(ApiError::Forbidden("this token belongs to another institution".into()))
                } else if !scopes.contains(scope) {
                    Err(ApiError::Forbidden(format!(
                        "this token lacks the `{}` scope",
                        scope.names().join(", ")
                    )))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Allows creating a token with `scopes`: the administrator grants any; an institution
    /// token only scopes it holds itself, so a token can never mint a more powerful one.
    pub(crate) fn may_grant(&self, scopes: Scopes) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Institution { scopes: own, .. } => {
                let lacking = scopes.without(*own);
                if lacking.is_empty() {
                    Ok(())
                } else {
                    Err(ApiError::Forbidden(format!(
                        "a token can only create tokens with scopes it holds itself; this one lacks: {}",
                        lacking.names().join(", ")
                    )))
                }
            }
        }
    }

    /// Allows the administrator or any token of `inst` (reading private data).
    fn require_member(&self, inst: &str) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Institution { slug, .. } if slug == inst => Ok(()),
            Self::Institution { .. } => Err(ApiError::Forbidden(
                "this token belongs to another institution".into(),
            )),
        }
    }
}

/// Who sent the request: the administrator or a valid institution token (401 otherwise).
async fn authenticate(parts: &Parts, tokens: &Arc<Tokens>) -> Result<Principal, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
    })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    let hash = crypto::token_hash(token);
    if crypto::hashes_equal(&hash, &tokens.admin_hash) {
        return Ok(Principal::Admin);
    }
    let found = match tokens.cached(&hash) {
        Some(rec) => Some(rec),
        None => {
            let tokens = tokens.clone();
            tokio::task::spawn_blocking(move || tokens.lookup(&hash))
                .await
                .map_err(|e| ApiError::Internal(format!("worker task failed: {e}")))??
        }
    };
    match found {
        // The store found it by hash; compare again in constant time all the same.
        Some(rec) if !rec.revoked && crypto::hashes_equal(&rec.hash, &hash) => {
            Ok(Principal::Institution {
                slug: rec.institution,
                scopes: rec.scopes,
                token_id: rec.id,
            })
        }
        _ => Err(ApiError::Unauthorized("invalid or revoked token".into())),
    }
}
