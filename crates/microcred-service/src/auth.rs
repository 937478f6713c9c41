//! Bearer-token authentication and scope checks.
//!
//! - The administrator token manages institutions (create, tokens, keys, achievements) but
//!   does not issue or revoke credentials: that takes an institution token with the scope.
//! - An institution token acts for its own institution only, within its scopes
//!   (`issue`, `revoke`, `manage`); a `manage` token creates tokens with its own scopes or
//!   fewer, never more.
//!
//! No or unknown token: 401. Known token without the right: 403. Permission is checked before
//! anything about the target institution is looked up, so a 403 reveals nothing about it.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::crypto;
use crate::error::ApiError;
use crate::store::Scopes;

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
    /// Allows the administrator only.
    pub(crate) fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Institution { .. } => Err(ApiError::Forbidden(
                "this needs the administrator token".into(),
            )),
        }
    }

    /// Allows an institution token of `inst` with `scope`; the administrator passes for
    /// `manage` only.
    pub(crate) fn require(&self, inst: &str, scope: Scopes) -> Result<(), ApiError> {
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
    pub(crate) fn require_member(&self, inst: &str) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Institution { slug, .. } if slug == inst => Ok(()),
            Self::Institution { .. } => Err(ApiError::Forbidden(
                "this token belongs to another institution".into(),
            )),
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
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
        if crypto::hashes_equal(&hash, &state.inner().admin_hash) {
            return Ok(Self::Admin);
        }
        let found = match state.inner().cached_token(&hash) {
            Some(rec) => Some(rec),
            None => state.blocking(move |inner| inner.token(&hash)).await?,
        };
        match found {
            // The store found it by hash; compare again in constant time all the same.
            Some(rec) if !rec.revoked && crypto::hashes_equal(&rec.hash, &hash) => {
                Ok(Self::Institution {
                    slug: rec.institution,
                    scopes: rec.scopes,
                    token_id: rec.id,
                })
            }
            _ => Err(ApiError::Unauthorized("invalid or revoked token".into())),
        }
    }
}
