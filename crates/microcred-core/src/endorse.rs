//! Open Badges 3.0 endorsements: an `EndorsementCredential` by which a third party (an
//! industry body, an employer, an accreditor) vouches for an achievement, an issuer profile or
//! a credential, made here and checked wherever it is embedded.
//!
//! An endorsement is embedded unchanged, with its own proof, in the `endorsement` array of the
//! thing it endorses. It is evidence *about* the credential, not part of the credential's
//! validity: a forged or expired endorsement is reported as such, and never changes the
//! credential's verdict. The work is bounded ([`MAX_ENDORSEMENTS`] per credential, and an
//! endorsement embedded in an endorsement is not followed), so a credential stuffed with
//! endorsements cannot make a verifier do unbounded signature checks.

use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::model::{require_iri, ModelError, Profile, OB_CONTEXT};
use crate::time_fmt;
use crate::verify::{
    verify_own, Check, CheckKind, Outcome, Report, Verdict, VerifyOptions, VC_V2_CONTEXT,
};

/// The most embedded endorsements checked for one credential; any more are reported as not
/// checked. Each costs a signature check (and with `eddsa-rdfc-2022` a canonicalization), and
/// real credentials carry a handful.
pub const MAX_ENDORSEMENTS: usize = 16;

/// The `type` of an endorsement credential (OB 3.0 §B.1.10).
pub const ENDORSEMENT_CREDENTIAL: &str = "EndorsementCredential";
/// The `type` of an endorsement's `credentialSubject`.
pub const ENDORSEMENT_SUBJECT: &str = "EndorsementSubject";

/// Builds the unsigned `EndorsementCredential` by which `endorser` endorses the thing whose id
/// is `subject_id` (an achievement, a profile or a credential), with an optional `comment`, as
/// credential `id`, valid from `valid_from` (the caller's clock: core reads none). Sign it with
/// [`crate::sign`] using a key of `endorser.id`, then embed it in the endorsed thing's
/// `endorsement` array.
pub fn endorsement_credential(
    endorser: &Profile,
    subject_id: &str,
    comment: Option<&str>,
    id: &str,
    valid_from: OffsetDateTime,
) -> Result<Value, ModelError> {
    require_iri("endorsement id", id)?;
    require_iri("endorsed subject id", subject_id)?;
    require_iri("endorser id", &endorser.id)?;
    let issuer = serde_json::to_value(endorser).map_err(|e| ModelError::Shape {
        what: "endorser Profile",
        reason: e.to_string(),
    })?;
    let by = endorser.name.as_deref().unwrap_or(endorser.id.as_str());
    let mut subject = Map::new();
    subject.insert("id".into(), subject_id.into());
    subject.insert("type".into(), json!([ENDORSEMENT_SUBJECT]));
    if let Some(c) = comment {
        subject.insert("endorsementComment".into(), c.into());
    }
    // The extensions context defines the schema validator type of `credentialSchema`.
    Ok(json!({
        "@context": [VC_V2_CONTEXT, OB_CONTEXT, crate::model::OB_EXTENSIONS_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", ENDORSEMENT_CREDENTIAL],
        "name": format!("Endorsement by {by}"),
        "issuer": issuer,
        "validFrom": time_fmt::format(valid_from),
        "credentialSubject": subject,
        "credentialSchema": [{
            "id": ENDORSEMENT_SCHEMA,
            "type": "1EdTechJsonSchemaValidator2019"
        }],
    }))
}

/// The Open Badges 3.0 EndorsementCredential JSON Schema (as 1EdTech publishes it).
pub const ENDORSEMENT_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json";

/// What an endorsement is about, by where it is embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Endorsed {
    /// The credential itself (its top-level `endorsement`).
    Credential,
    /// The issuer's profile (`issuer.endorsement`).
    Issuer,
    /// The achievement (`credentialSubject.achievement.endorsement`).
    Achievement,
    /// The achievement's creator profile (`credentialSubject.achievement.creator.endorsement`).
    Creator,
}

impl Endorsed {
    /// A short human label ("the achievement").
    pub fn label(self) -> &'static str {
        match self {
            Self::Credential => "the credential",
            Self::Issuer => "the issuer",
            Self::Achievement => "the achievement",
            Self::Creator => "the achievement's creator",
        }
    }
}

/// What a verifier may conclude about an endorser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndorserTrust {
    /// The endorsement verified, and its endorser is on the verifier's trust list.
    Trusted,
    /// The endorsement verified (or could not be checked offline), but nothing vouches for the
    /// endorser: no trust list was given, or the endorser is not on it.
    Unknown,
    /// The endorsement is not genuine or not about what it is embedded in: its proof or one of
    /// its checks failed, or it endorses something else.
    Invalid,
    /// Not checked at all (a JWT endorsement, or beyond [`MAX_ENDORSEMENTS`]).
    NotChecked,
}

impl EndorserTrust {
    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::Unknown => "unknown",
            Self::Invalid => "INVALID",
            Self::NotChecked => "not checked",
        }
    }
}

/// What checking one embedded endorsement found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EndorsementReport {
    /// Where it was found, e.g. `credentialSubject.achievement.endorsement[0]`.
    pub path: String,
    /// What it is embedded in, and so what it must endorse.
    pub endorses: Endorsed,
    /// The endorsement credential's own `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The endorser (the endorsement's issuer) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorser: Option<String>,
    /// The endorser's name as the endorsement states it (vouched for only when trusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorser_name: Option<String>,
    /// The id of what the endorsement says it endorses (`credentialSubject.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The id of the thing it is embedded in, which `subject` must equal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_subject: Option<String>,
    /// Whether `subject` is `expected_subject`: an endorsement copied from elsewhere endorses
    /// something else, and is invalid here.
    pub subject_matches: bool,
    /// The endorser's `endorsementComment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The endorsement's own verdict (proof, endorser key, validity), `invalid` as well when it
    /// endorses something else; `indeterminate` when it was not checked.
    pub verdict: Verdict,
    /// What the verifier may conclude about the endorser.
    pub trust: EndorserTrust,
    /// Why, in words.
    pub reason: String,
    /// The endorsement's own checks, as for any credential.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

impl EndorsementReport {
    fn not_checked(path: String, endorses: Endorsed, reason: String) -> Self {
        Self {
            path,
            endorses,
            id: None,
            endorser: None,
            endorser_name: None,
            subject: None,
            expected_subject: None,
            subject_matches: false,
            comment: None,
            verdict: Verdict::Indeterminate,
            trust: EndorserTrust::NotChecked,
            reason,
            checks: Vec::new(),
        }
    }
}

/// Finds every endorsement embedded in `credential` (its own `endorsement`, its issuer's, its
/// achievement's and the achievement creator's) and checks each one: its own proof, endorser
/// key and validity with `options` (time, keys, contexts, trust list and status lists; the
/// pinned keys are not applied, since they name the credential issuer's keys, not an
/// endorser's), whether it endorses the thing it is embedded in, and whether its endorser is
/// on the trust list. Never affects the credential's own checks.
pub fn check_endorsements(
    credential: &Value,
    options: &VerifyOptions<'_>,
) -> Vec<EndorsementReport> {
    let found = find(credential);
    let mut reports = Vec::new();
    let endorsement_options = options.clone().pinned_keys(&[]);
    for (n, item) in found.iter().enumerate() {
        if n == MAX_ENDORSEMENTS {
            reports.push(EndorsementReport::not_checked(
                item.path.clone(),
                item.endorses,
                format!(
                    "not checked: this and {} more endorsements exceed the limit of {MAX_ENDORSEMENTS} checked per credential",
                    found.len() - n - 1
                ),
            ));
            break;
        }
        reports.push(match item.value {
            Embedded::Jwt => EndorsementReport::not_checked(
                item.path.clone(),
                item.endorses,
                "not checked: JWT endorsements are not supported".into(),
            ),
            Embedded::Credential(v) => check_one(v, item, &endorsement_options),
        });
    }
    reports
}

/// One endorsement found in a credential, with what it must endorse.
struct Found<'v> {
    path: String,
    endorses: Endorsed,
    expected: Option<&'v str>,
    value: Embedded<'v>,
}

enum Embedded<'v> {
    Credential(&'v Value),
    Jwt,
}

/// Every embedded endorsement, in document order: the credential's, the issuer's, then each
/// subject's achievement's and its creator's.
fn find(credential: &Value) -> Vec<Found<'_>> {
    let mut found = Vec::new();
    let Some(doc) = credential.as_object() else {
        return found;
    };
    collect(doc, "", Endorsed::Credential, &mut found);
    if let Some(Value::Object(issuer)) = doc.get("issuer") {
        collect(issuer, "issuer.", Endorsed::Issuer, &mut found);
    }
    let subjects: Vec<(String, &Value)> = match doc.get("credentialSubject") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("credentialSubject[{i}]"), s))
            .collect(),
        Some(one) => vec![("credentialSubject".to_owned(), one)],
        None => Vec::new(),
    };
    for (base, subject) in subjects {
        let Some(Value::Object(achievement)) = subject.get("achievement") else {
            continue;
        };
        let base = format!("{base}.achievement.");
        collect(achievement, &base, Endorsed::Achievement, &mut found);
        if let Some(Value::Object(creator)) = achievement.get("creator") {
            collect(
                creator,
                &format!("{base}creator."),
                Endorsed::Creator,
                &mut found,
            );
        }
    }
    found
}

/// The endorsements (`endorsement`, `endorsementJwt`: one or an array) of the node `node`.
fn collect<'v>(
    node: &'v Map<String, Value>,
    base: &str,
    endorses: Endorsed,
    found: &mut Vec<Found<'v>>,
) {
    let expected = node.get("id").and_then(Value::as_str);
    for (member, jwt) in [("endorsement", false), ("endorsementJwt", true)] {
        let items: Vec<&Value> = match node.get(member) {
            None => continue,
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
        };
        let many = matches!(node.get(member), Some(Value::Array(_)));
        for (i, item) in items.into_iter().enumerate() {
            let path = if many {
                format!("{base}{member}[{i}]")
            } else {
                format!("{base}{member}")
            };
            found.push(Found {
                path,
                endorses,
                expected,
                value: if jwt {
                    Embedded::Jwt
                } else {
                    Embedded::Credential(item)
                },
            });
        }
    }
}

fn check_one(value: &Value, item: &Found<'_>, options: &VerifyOptions<'_>) -> EndorsementReport {
    let subject_node = match value.get("credentialSubject") {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    let subject = subject_node
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let comment = subject_node
        .and_then(|s| s.get("endorsementComment"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let expected = item.expected.map(str::to_owned);
    // An endorsement of an achievement holds for each of its versions as microcred's service
    // publishes them (`{id}/versions/{n}`): the endorser endorses the achievement, whose
    // versions it cannot know in advance.
    let subject_matches = match (&subject, &expected) {
        (Some(s), Some(e)) => crate::stack::achievement_matches(s, e),
        _ => false,
    };
    // Its own checks only: an endorsement inside an endorsement is not followed.
    let own: Report = verify_own(value, options);
    let typed = has_type(value, ENDORSEMENT_CREDENTIAL);
    let (verdict, trust, reason) = if !value.is_object() {
        (
            Verdict::Invalid,
            EndorserTrust::Invalid,
            "not an embedded EndorsementCredential (a JSON object)".to_owned(),
        )
    } else if !typed {
        (
            Verdict::Invalid,
            EndorserTrust::Invalid,
            format!("its type does not include \"{ENDORSEMENT_CREDENTIAL}\""),
        )
    } else if own.verdict == Verdict::Invalid {
        let why = own.first_problem().map_or_else(
            || "it did not verify".to_owned(),
            |c| format!("{}: {}", c.check.label(), c.reason),
        );
        (Verdict::Invalid, EndorserTrust::Invalid, why)
    } else if !subject_matches {
        (
            Verdict::Invalid,
            EndorserTrust::Invalid,
            match (&subject, &expected) {
                (Some(s), Some(e)) => format!(
                    "it endorses {s}, not {} ({e}) in which it is embedded",
                    item.endorses.label()
                ),
                (None, _) => "its credentialSubject has no id: it endorses nothing".to_owned(),
                (Some(s), None) => format!(
                    "it endorses {s}, but {} it is embedded in has no id to match",
                    item.endorses.label()
                ),
            },
        )
    } else if own.verdict != Verdict::Valid {
        let why = own.first_problem().map_or_else(
            || "it could not be checked".to_owned(),
            |c| format!("{}: {}", c.check.label(), c.reason),
        );
        (
            own.verdict,
            EndorserTrust::Unknown,
            format!("could not be checked: {why}"),
        )
    } else {
        let trust_check = own.checks.iter().find(|c| c.check == CheckKind::Trust);
        match trust_check {
            Some(c) if c.outcome == Outcome::Pass => {
                (Verdict::Valid, EndorserTrust::Trusted, c.reason.clone())
            }
            Some(c) => (
                Verdict::Valid,
                EndorserTrust::Unknown,
                format!("the endorsement verified, but {}", lower_first(&c.reason)),
            ),
            None => (
                Verdict::Valid,
                EndorserTrust::Unknown,
                "the endorsement verified; the endorser is not vouched for".to_owned(),
            ),
        }
    };
    EndorsementReport {
        path: item.path.clone(),
        endorses: item.endorses,
        id: own.credential_id.clone(),
        endorser: own.issuer.clone(),
        endorser_name: own.issuer_name.clone(),
        subject,
        expected_subject: expected,
        subject_matches,
        comment,
        verdict,
        trust,
        reason,
        checks: own.checks,
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match value.get("type") {
        Some(Value::String(s)) => s == name,
        Some(Value::Array(items)) => items.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_endorsements_everywhere_and_bounds_the_work() {
        let e = json!({"type": ["VerifiableCredential", "EndorsementCredential"]});
        let many: Vec<Value> = (0..20).map(|_| e.clone()).collect();
        let vc = json!({
            "id": "urn:uuid:1",
            "endorsement": e,
            "issuer": {"id": "did:example:i", "endorsement": [e], "endorsementJwt": ["a.b.c"]},
            "credentialSubject": {"achievement": {
                "id": "https://example.edu/a", "endorsement": many,
                "creator": {"id": "did:example:c", "endorsement": [e]}}}
        });
        let found = find(&vc);
        assert_eq!(found.len(), 24);
        assert_eq!(found[0].path, "endorsement");
        assert_eq!(found[0].expected, Some("urn:uuid:1"));
        assert_eq!(found[2].path, "issuer.endorsementJwt[0]");
        assert_eq!(
            found[3].path,
            "credentialSubject.achievement.endorsement[0]"
        );
        assert_eq!(found[3].expected, Some("https://example.edu/a"));
        assert_eq!(found[23].endorses, Endorsed::Creator);

        let keys = crate::KeyRing::new();
        let options = VerifyOptions::new(OffsetDateTime::UNIX_EPOCH, &keys);
        let reports = check_endorsements(&vc, &options);
        assert_eq!(reports.len(), MAX_ENDORSEMENTS + 1);
        assert_eq!(reports[2].trust, EndorserTrust::NotChecked);
        assert!(reports[2].reason.contains("JWT"));
        assert_eq!(reports[0].trust, EndorserTrust::Invalid);
        let last = &reports[MAX_ENDORSEMENTS];
        assert_eq!(last.trust, EndorserTrust::NotChecked);
        assert!(last.reason.contains("7 more"), "{}", last.reason);
    }

    #[test]
    fn builds_an_unsigned_endorsement() {
        let endorser = Profile::new("did:example:council", "Industry Council").unwrap();
        let v = endorsement_credential(
            &endorser,
            "https://example.edu/a",
            Some("Meets industry needs"),
            "urn:uuid:2",
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(v["type"][1], ENDORSEMENT_CREDENTIAL);
        assert_eq!(v["issuer"]["id"], "did:example:council");
        assert_eq!(v["credentialSubject"]["id"], "https://example.edu/a");
        assert_eq!(
            v["credentialSubject"]["endorsementComment"],
            "Meets industry needs"
        );
        assert_eq!(v["validFrom"], "1970-01-01T00:00:00Z");
        assert!(endorsement_credential(
            &endorser,
            "not an iri",
            None,
            "urn:uuid:2",
            OffsetDateTime::UNIX_EPOCH
        )
        .is_err());
    }
}
