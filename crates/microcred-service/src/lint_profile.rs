//! Which lint profile a credential is checked under: the institution's setting
//! (`PUT /v1/institutions/{inst}/settings {"lintProfile": ...}`), overridden per achievement
//! version (`PUT .../achievements/{ach}?profile=...`). Stored as text: a profile name, or
//! `none`; an achievement version without an override (NULL) follows the institution.

use microcred_core::{LintProfile, NO_PROFILE};
use serde_json::json;

use crate::error::DomainError;
use crate::store::Store;

/// The `?profile=` value that removes an achievement's override (it follows the institution).
pub(crate) const INHERIT: &str = "inherit";

fn names() -> Vec<&'static str> {
    LintProfile::all().iter().map(LintProfile::name).collect()
}

/// A profile choice in a request: a profile name or `none`; 422 naming the known ones else.
pub(crate) fn requested(name: &str) -> Result<Option<&'static LintProfile>, DomainError> {
    LintProfile::parse_choice(name).map_err(|e| DomainError::Invalid {
        message: e.to_string(),
        details: Some(json!({"available": names()})),
    })
}

/// The stored form of a choice: the profile's name, or `none`.
pub(crate) fn stored_name(profile: Option<&'static LintProfile>) -> &'static str {
    profile.map_or(NO_PROFILE, LintProfile::name)
}

/// Reads a stored choice; a name this build does not know (a database written by another
/// version) is a conflict the institution resolves by choosing again.
fn stored(name: &str, whose: &str) -> Result<Option<&'static LintProfile>, DomainError> {
    LintProfile::parse_choice(name).map_err(|e| {
        DomainError::Conflict(format!(
            "{whose} lint profile \"{name}\" is not known to this version of the service ({e}): choose another one"
        ))
    })
}

/// The institution's own profile (`None`: no profile).
pub(crate) fn institution(
    store: &dyn Store,
    inst: &str,
) -> Result<Option<&'static LintProfile>, DomainError> {
    match store.lint_profile(inst)? {
        Some(name) => stored(&name, "the institution's"),
        None => Ok(None),
    }
}

/// The profile issuance follows: the achievement version's `achievement_override` when it has
/// one, else the institution's.
pub(crate) fn effective(
    store: &dyn Store,
    inst: &str,
    achievement_override: Option<&str>,
) -> Result<Option<&'static LintProfile>, DomainError> {
    match achievement_override {
        Some(name) => stored(name, "the achievement's"),
        None => institution(store, inst),
    }
}
