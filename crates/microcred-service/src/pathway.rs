//! What an achievement definition says about other achievements and other parties, checked
//! when a version is stored (`PUT /v1/institutions/{inst}/achievements/{ach}`):
//!
//! - A pathway (an achievement with a `stackingRequirement`) may only name achievements that
//!   resolve: each one this service publishes (`{base}/institutions/{inst}/achievements/{ach}`,
//!   optionally `/versions/{n}`, of this institution or another on the same service — credit
//!   transfer within a portal) must exist; one published elsewhere cannot be looked up here,
//!   so it is a warning saying that credentials for it count only where a verifier trusts
//!   their issuer.
//! - Every embedded endorsement must verify (its own proof, with `did:key` resolved offline)
//!   and endorse this achievement; one that cannot be checked here (e.g. a `did:web`
//!   endorser) is a warning.
//!
//! These are domain rules: findings (errors block storing the version), no HTTP.

use microcred_core::{
    check_endorsements, Finding, KeyRing, Severity, StackingRequirement, Verdict, VerifyOptions,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::error::DomainError;
use crate::store::Store;

/// The findings of `definition` (an achievement about to be stored) about the achievements
/// its pathway names and the endorsements it embeds.
pub(crate) fn check_definition(
    store: &dyn Store,
    base_url: &str,
    definition: &Value,
    now: OffsetDateTime,
) -> Result<Vec<Finding>, DomainError> {
    let mut findings = Vec::new();
    if let Some(rule) = definition.get("stackingRequirement") {
        // A malformed rule is lint's error already.
        if let Ok(rule) = StackingRequirement::from_value(rule) {
            references(store, base_url, &rule, &mut findings)?;
        }
    }
    endorsements(definition, now, &mut findings);
    Ok(findings)
}

fn references(
    store: &dyn Store,
    base_url: &str,
    rule: &StackingRequirement,
    findings: &mut Vec<Finding>,
) -> Result<(), DomainError> {
    let ours = format!("{base_url}/institutions/");
    for (i, id) in rule.required_achievement.iter().enumerate() {
        let path = format!("stackingRequirement.requiredAchievement[{i}]");
        let Some(rest) = id.strip_prefix(&ours) else {
            findings.push(Finding {
                severity: Severity::Warning,
                rule: "mc.stackingRequirement.external",
                path,
                message: format!(
                    "{id} is not published by this service, so it cannot be looked up here: a learner's credential for it counts towards this pathway only where the verifier trusts its issuer (credit transfer: add that institution to your trust list)"
                ),
            });
            continue;
        };
        let found = match parse_ours(rest) {
            Some((inst, slug, version)) => store.achievement(inst, slug, version)?.is_some(),
            None => false,
        };
        if !found {
            findings.push(Finding {
                severity: Severity::Error,
                rule: "mc.stackingRequirement.unresolved",
                path,
                message: format!(
                    "{id} names an achievement of this service that does not exist: publish it first, or correct the id (…/institutions/INST/achievements/NAME)"
                ),
            });
        }
    }
    Ok(())
}

/// `{inst}/achievements/{slug}` or `{inst}/achievements/{slug}/versions/{n}`.
fn parse_ours(rest: &str) -> Option<(&str, &str, Option<i64>)> {
    let mut parts = rest.split('/');
    let inst = parts.next()?;
    if parts.next()? != "achievements" {
        return None;
    }
    let slug = parts.next()?;
    let version = match (parts.next(), parts.next()) {
        (None, _) => None,
        (Some("versions"), Some(n)) => Some(n.parse::<i64>().ok().filter(|n| *n > 0)?),
        _ => return None,
    };
    if parts.next().is_some() || inst.is_empty() || slug.is_empty() {
        return None;
    }
    Some((inst, slug, version))
}

fn endorsements(definition: &Value, now: OffsetDateTime, findings: &mut Vec<Finding>) {
    if definition.get("endorsement").is_none() {
        return;
    }
    // Checked where a credential would carry the definition, so the expected subject is
    // this achievement.
    let wrapper = json!({"credentialSubject": {"achievement": definition}});
    let keys = KeyRing::new();
    let options = VerifyOptions::new(now, &keys);
    for e in check_endorsements(&wrapper, &options) {
        let path = e
            .path
            .strip_prefix("credentialSubject.achievement.")
            .unwrap_or(&e.path)
            .to_owned();
        match e.verdict {
            Verdict::Valid => {}
            Verdict::Invalid => findings.push(Finding {
                severity: Severity::Error,
                rule: "mc.endorsement.invalid",
                path,
                message: format!(
                    "the endorsement does not verify or does not endorse this achievement: {}",
                    e.reason
                ),
            }),
            _ => findings.push(Finding {
                severity: Severity::Warning,
                rule: "mc.endorsement.unchecked",
                path,
                message: format!(
                    "the endorsement could not be checked here ({}); verifiers will check it",
                    e.reason
                ),
            }),
        }
    }
}
