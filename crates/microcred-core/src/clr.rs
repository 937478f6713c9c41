//! Comprehensive Learner Record 2.0: a signed `ClrCredential` bundling a learner's credentials
//! (embedded unchanged, each with its own proof) with the achievements they are for and
//! `association`s between those achievements; and its offline check.
//!
//! Building ([`clr_credential`]): the embedded credentials must all be of one learner (the
//! record's subject takes their common `id`, or the first one's `identifier`s); an
//! `isPartOf` association is stated for every embedded achievement that a stacked achievement
//! in the record requires (its `stackingRequirement`), and `precedes` associations are the
//! caller's (an institution's sequence, e.g. DF-101 before DF-102). Checking ([`check_clr`]):
//! the record's own proof (the caller's [`Report`]), every embedded credential verified with
//! the same options, all of the record's learner, every association well-formed and between
//! achievements the record holds (an `isPartOf` towards a stacked achievement must be one its
//! rule lists), and every stacked credential's rule checked against the other credentials of
//! the record ([`crate::check_stack`]).

use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::stack::{self, check_stack, Component, KnownIdentity, Same, StackReport};
use crate::verify::{verify_value, Outcome, Report, Verdict, VerifyOptions, VC_V2_CONTEXT};

/// The CLR 2.0 JSON-LD context (as published by 1EdTech).
pub const CLR_CONTEXT: &str = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json";
/// The Open Badges 3.0 context the embedded achievements use.
const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The CLR 2.0 JSON Schema.
pub const CLR_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json";
/// The association types of CLR 2.0.
pub const ASSOCIATION_TYPES: &[&str] = &[
    "exactMatchOf",
    "isChildOf",
    "isParentOf",
    "isPartOf",
    "isPeerOf",
    "isRelatedTo",
    "precedes",
    "replacedBy",
];
/// The most credentials a record may embed (bounds the work of hostile input).
pub const MAX_CLR_CREDENTIALS: usize = 200;
/// The most associations a record may state.
pub const MAX_CLR_ASSOCIATIONS: usize = 2000;

/// A record could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CLR: {0}")]
pub struct ClrError(String);

/// What a record says about itself; the credentials come separately.
#[derive(Debug, Clone)]
pub struct ClrOptions<'a> {
    /// The record's id (an IRI, e.g. `urn:uuid:…`).
    pub id: &'a str,
    /// Its issuer `Profile` (the institution signing the record).
    pub issuer: &'a Value,
    /// Its name (required by CLR 2.0).
    pub name: &'a str,
    /// An optional description.
    pub description: Option<&'a str>,
    /// Its `validFrom`.
    pub valid_from: OffsetDateTime,
    /// `precedes` associations, as (source achievement id, target achievement id).
    pub precedes: &'a [(String, String)],
    /// Whether the record holds only part of the learner's credentials.
    pub partial: bool,
    /// Identities of the learner the institution knows (to tie hashed identifiers).
    pub learner: &'a [KnownIdentity],
}

/// Builds an unsigned `ClrCredential` embedding `credentials` unchanged.
pub fn clr_credential(credentials: &[Value], options: &ClrOptions<'_>) -> Result<Value, ClrError> {
    if credentials.is_empty() {
        return Err(ClrError("a record holds at least one credential".into()));
    }
    if credentials.len() > MAX_CLR_CREDENTIALS {
        return Err(ClrError(format!(
            "{} credentials; a record holds at most {MAX_CLR_CREDENTIALS}",
            credentials.len()
        )));
    }
    if !stack::looks_like_iri(options.id) {
        return Err(ClrError(format!(
            "the record's id \"{}\" is not an IRI",
            options.id
        )));
    }
    if options.name.trim().is_empty() {
        return Err(ClrError("the record needs a name".into()));
    }
    let mut achievements: Vec<&Map<String, Value>> = Vec::new();
    for (i, c) in credentials.iter().enumerate() {
        let Some(a) = stack::achievement(c) else {
            return Err(ClrError(format!(
                "credential {} has no credentialSubject.achievement: only achievement credentials go into a CLR",
                i + 1
            )));
        };
        let Some(id) = a.get("id").and_then(Value::as_str) else {
            return Err(ClrError(format!(
                "credential {}'s achievement has no id",
                i + 1
            )));
        };
        if !achievements
            .iter()
            .any(|b| b.get("id").and_then(Value::as_str) == Some(id))
        {
            achievements.push(a);
        }
    }
    // One learner: each credential's subject is the first one's.
    let first = stack::subject(&credentials[0]);
    for (i, c) in credentials.iter().enumerate().skip(1) {
        match stack::same_learner(first, stack::subject(c), options.learner) {
            Same::Yes => {}
            Same::No(why) => {
                return Err(ClrError(format!(
                    "credential {} is of another learner than credential 1 ({why})",
                    i + 1
                )))
            }
            Same::Unknown => {
                return Err(ClrError(format!(
                    "cannot tell whether credential {} is of the same learner as credential 1 (no identifier in common): give the learner's e-mail address",
                    i + 1
                )))
            }
        }
    }
    let mut subject = Map::new();
    let first = first.ok_or_else(|| ClrError("credential 1 has no credentialSubject".into()))?;
    let common_id = first.get("id").filter(|id| {
        credentials
            .iter()
            .all(|c| c["credentialSubject"].get("id") == Some(*id))
    });
    if let Some(id) = common_id {
        subject.insert("id".into(), id.clone());
    }
    subject.insert("type".into(), json!(["ClrSubject"]));
    if let Some(ids) = first.get("identifier") {
        subject.insert("identifier".into(), ids.clone());
    }
    if !subject.contains_key("id") && !subject.contains_key("identifier") {
        return Err(ClrError(
            "the credentials name their learner neither by id nor by identifier".into(),
        ));
    }
    subject.insert(
        "verifiableCredential".into(),
        Value::Array(credentials.to_vec()),
    );
    let listed: Vec<Value> = achievements
        .iter()
        .map(|a| Value::Object((*a).clone()))
        .collect();
    // The achievements are copied out of their credentials, so out of those credentials'
    // contexts: the record carries the same ones (1EdTech's by URL, microcred's extension
    // terms as the subject's own context map, as in every credential microcred builds).
    let listed = Value::Array(listed);
    let mut context = vec![
        json!(VC_V2_CONTEXT),
        json!(CLR_CONTEXT),
        json!(OB_CONTEXT),
        json!(crate::model::OB_EXTENSIONS_CONTEXT),
    ];
    if crate::model::uses_any_term(&listed, crate::model::ASSESSMENT_TERMS) {
        context.push(json!(crate::model::OB_ASSESSMENT_CONTEXT));
    }
    if crate::model::uses_any_term(&listed, crate::model::MICROCRED_TERMS) {
        subject.shift_insert(0, "@context".into(), crate::model::microcred_context());
    }
    subject.insert("achievement".into(), listed);
    let held = |id: &str| {
        achievements
            .iter()
            .any(|a| a.get("id").and_then(Value::as_str) == Some(id))
    };
    let mut associations = Vec::new();
    for a in &achievements {
        let Some(rule) = a.get("stackingRequirement") else {
            continue;
        };
        let Ok(rule) = stack::StackingRequirement::from_value(rule) else {
            continue;
        };
        let target = a.get("id").and_then(Value::as_str).unwrap_or_default();
        for held_id in achievements
            .iter()
            .filter_map(|h| h.get("id").and_then(Value::as_str))
            .filter(|h| {
                rule.required_achievement
                    .iter()
                    .any(|r| stack::achievement_matches(r, h))
            })
        {
            associations.push(association("isPartOf", held_id, target));
        }
    }
    for (source, target) in options.precedes {
        for id in [source, target] {
            if !held(id) {
                return Err(ClrError(format!(
                    "precedes names {id}, which no credential of the record is for"
                )));
            }
        }
        associations.push(association("precedes", source, target));
    }
    if !associations.is_empty() {
        subject.insert("association".into(), Value::Array(associations));
    }
    let mut doc = Map::new();
    doc.insert("@context".into(), Value::Array(context));
    doc.insert("id".into(), json!(options.id));
    doc.insert(
        "type".into(),
        json!(["VerifiableCredential", "ClrCredential"]),
    );
    doc.insert("issuer".into(), options.issuer.clone());
    doc.insert("name".into(), json!(options.name));
    if let Some(d) = options.description {
        doc.insert("description".into(), json!(d));
    }
    if options.partial {
        doc.insert("partial".into(), json!(true));
    }
    doc.insert(
        "validFrom".into(),
        json!(crate::time_fmt::format(options.valid_from)),
    );
    doc.insert("credentialSubject".into(), Value::Object(subject));
    doc.insert(
        "credentialSchema".into(),
        json!([{"id": CLR_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]),
    );
    Ok(Value::Object(doc))
}

fn association(kind: &str, source: &str, target: &str) -> Value {
    json!({"type": "Association", "associationType": kind, "sourceId": source, "targetId": target})
}

/// Whether a credential is a `ClrCredential`.
pub fn is_clr(credential: &Value) -> bool {
    match credential.get("type") {
        Some(Value::Array(t)) => t.iter().any(|t| t == "ClrCredential"),
        Some(Value::String(t)) => t == "ClrCredential",
        _ => false,
    }
}

/// Which check of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClrCheckKind {
    /// The record itself verifies.
    Record,
    /// It holds credentials in a form that can be checked.
    Contents,
    /// Every embedded credential verifies.
    Credentials,
    /// Every embedded credential is of the record's learner.
    Learner,
    /// Every association is well-formed and between achievements the record holds.
    Associations,
    /// Every stacked credential's rule is satisfied by the record's other credentials.
    Pathways,
}

impl ClrCheckKind {
    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Record => "record",
            Self::Contents => "contents",
            Self::Credentials => "credentials",
            Self::Learner => "same learner",
            Self::Associations => "associations",
            Self::Pathways => "pathways",
        }
    }
}

/// One check of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClrCheck {
    /// Which check.
    pub check: ClrCheckKind,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, in words.
    pub reason: String,
}

/// One association and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationOutcome {
    /// `isPartOf`, `precedes`, ...
    pub association_type: String,
    /// The source achievement.
    pub source_id: String,
    /// The target achievement.
    pub target_id: String,
    /// Pass, or fail with the reason.
    pub outcome: Outcome,
    /// Why.
    pub reason: String,
}

/// The report on a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClrReport {
    /// Valid only when the record, every embedded credential, every association and every
    /// pathway check out.
    pub verdict: Verdict,
    /// Every check, in order.
    pub checks: Vec<ClrCheck>,
    /// The report of each embedded credential, in the record's order.
    pub credentials: Vec<Report>,
    /// Each association.
    pub associations: Vec<AssociationOutcome>,
    /// Each stacked credential's stack check (against the record's other credentials).
    pub stacks: Vec<StackReport>,
}

/// Checks record `clr` (whose own report is `clr_report`): its embedded credentials verified
/// with `options`, its learner, associations and pathways. `learner` as for
/// [`crate::check_stack`].
pub fn check_clr(
    clr: &Value,
    clr_report: &Report,
    options: &VerifyOptions<'_>,
    learner: &[KnownIdentity],
) -> ClrReport {
    let mut r = ClrReport {
        verdict: Verdict::Indeterminate,
        checks: Vec::new(),
        credentials: Vec::new(),
        associations: Vec::new(),
        stacks: Vec::new(),
    };
    let (o, why) = match clr_report.verdict {
        Verdict::Valid => (Outcome::Pass, "the record verifies".to_owned()),
        v => (
            if v == Verdict::Invalid {
                Outcome::Fail
            } else {
                Outcome::Unknown
            },
            match clr_report.first_problem() {
                Some(p) => format!(
                    "the record does not verify: {}: {}",
                    p.check.label(),
                    p.reason
                ),
                None => "the record does not verify".into(),
            },
        ),
    };
    r.push(ClrCheckKind::Record, o, why);
    let subject = stack::subject(clr);
    let embedded: Vec<&Value> = match subject.and_then(|s| s.get("verifiableCredential")) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    if embedded.is_empty() || embedded.len() > MAX_CLR_CREDENTIALS {
        r.push(
            ClrCheckKind::Contents,
            Outcome::Fail,
            if embedded.is_empty() {
                "the record's credentialSubject.verifiableCredential holds no credential".to_owned()
            } else {
                format!(
                    "the record embeds {} credentials; at most {MAX_CLR_CREDENTIALS} are checked",
                    embedded.len()
                )
            },
        );
        return r.finish();
    }
    r.push(
        ClrCheckKind::Contents,
        Outcome::Pass,
        format!("{} embedded credential(s)", embedded.len()),
    );

    // Every embedded credential on its own.
    r.credentials = embedded.iter().map(|c| verify_value(c, options)).collect();
    let bad: Vec<String> = r
        .credentials
        .iter()
        .enumerate()
        .filter(|(_, rep)| rep.verdict != Verdict::Valid)
        .map(|(i, rep)| {
            let what = rep
                .name
                .clone()
                .unwrap_or_else(|| format!("credential {}", i + 1));
            match rep.first_problem() {
                Some(p) => format!("\"{what}\": {}: {}", p.check.label(), p.reason),
                None => format!("\"{what}\""),
            }
        })
        .collect();
    let outcome = if r.credentials.iter().any(|c| c.verdict == Verdict::Invalid) {
        Outcome::Fail
    } else if bad.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Unknown
    };
    r.push(
        ClrCheckKind::Credentials,
        outcome,
        if bad.is_empty() {
            "every embedded credential verifies".to_owned()
        } else {
            format!("not verified: {}", bad.join("; "))
        },
    );

    // One learner.
    let mut other = Vec::new();
    let mut unknown = Vec::new();
    for (i, c) in embedded.iter().enumerate() {
        let label = r.credentials[i]
            .name
            .clone()
            .unwrap_or_else(|| format!("credential {}", i + 1));
        match stack::same_learner(subject, stack::subject(c), learner) {
            Same::Yes => {}
            Same::No(why) => other.push(format!("\"{label}\" ({why})")),
            Same::Unknown => unknown.push(format!("\"{label}\"")),
        }
    }
    if !other.is_empty() {
        r.push(
            ClrCheckKind::Learner,
            Outcome::Fail,
            format!("of another learner than the record's: {}", other.join("; ")),
        );
    } else if !unknown.is_empty() {
        r.push(
            ClrCheckKind::Learner,
            Outcome::Unknown,
            format!(
                "cannot tell whether these are the record's learner's (no identifier in common): {}; give the learner's e-mail address",
                unknown.join(", ")
            ),
        );
    } else {
        r.push(
            ClrCheckKind::Learner,
            Outcome::Pass,
            "every embedded credential names the record's learner",
        );
    }

    // Associations.
    let mut held: Vec<(&str, Option<&Value>)> = Vec::new();
    for c in &embedded {
        if let Some(a) = stack::achievement(c) {
            if let Some(id) = a.get("id").and_then(Value::as_str) {
                held.push((id, a.get("stackingRequirement")));
            }
        }
    }
    if let Some(Value::Array(list)) = subject.and_then(|s| s.get("achievement")) {
        for a in list {
            if let Some(id) = a.get("id").and_then(Value::as_str) {
                held.push((id, None));
            }
        }
    }
    let associations: Vec<&Value> = match subject.and_then(|s| s.get("association")) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    if associations.len() > MAX_CLR_ASSOCIATIONS {
        r.push(
            ClrCheckKind::Associations,
            Outcome::Fail,
            format!(
                "the record states {} associations; at most {MAX_CLR_ASSOCIATIONS} are checked",
                associations.len()
            ),
        );
    } else {
        for a in associations {
            r.associations.push(check_association(a, &held));
        }
        let failed = r
            .associations
            .iter()
            .filter(|a| a.outcome != Outcome::Pass)
            .count();
        r.push(
            ClrCheckKind::Associations,
            if failed == 0 {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            if failed == 0 {
                format!(
                    "{} association(s), each between achievements the record holds",
                    r.associations.len()
                )
            } else {
                format!("{failed} association(s) do not hold (see below)")
            },
        );
    }

    // Pathways: each stacked credential against the record's other credentials.
    for (i, c) in embedded.iter().enumerate() {
        if stack::achievement(c)
            .and_then(|a| a.get("stackingRequirement"))
            .is_none()
        {
            continue;
        }
        let components: Vec<Component<'_>> = embedded
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != i)
            .map(|(k, other)| Component {
                credential: other,
                bytes: None,
                report: &r.credentials[k],
            })
            .collect();
        // Only the credentials the rule is about are components here.
        let rule = stack::StackingRequirement::of_credential(c).ok().flatten();
        let components: Vec<Component<'_>> = match &rule {
            Some(rule) => components
                .into_iter()
                .filter(|k| {
                    stack::achievement(k.credential)
                        .and_then(|a| a.get("id"))
                        .and_then(Value::as_str)
                        .is_some_and(|id| {
                            rule.required_achievement
                                .iter()
                                .any(|r| stack::achievement_matches(r, id))
                        })
                })
                .collect(),
            None => components,
        };
        r.stacks
            .push(check_stack(c, &r.credentials[i], &components, learner));
    }
    if !r.stacks.is_empty() {
        let invalid = r
            .stacks
            .iter()
            .filter(|s| s.verdict == Verdict::Invalid)
            .count();
        let undecided = r
            .stacks
            .iter()
            .filter(|s| s.verdict == Verdict::Indeterminate)
            .count();
        let (o, why) = if invalid > 0 {
            (
                Outcome::Fail,
                format!("{invalid} stacked credential(s) are not satisfied by the record's other credentials"),
            )
        } else if undecided > 0 {
            (
                Outcome::Unknown,
                format!("{undecided} stacked credential(s) could not be decided"),
            )
        } else {
            (
                Outcome::Pass,
                format!(
                    "{} stacked credential(s), each satisfied by the record's other credentials",
                    r.stacks.len()
                ),
            )
        };
        r.push(ClrCheckKind::Pathways, o, why);
    }
    r.finish()
}

fn check_association(a: &Value, held: &[(&str, Option<&Value>)]) -> AssociationOutcome {
    let field = |k: &str| {
        a.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out = AssociationOutcome {
        association_type: field("associationType"),
        source_id: field("sourceId"),
        target_id: field("targetId"),
        outcome: Outcome::Fail,
        reason: String::new(),
    };
    let typed = match a.get("type") {
        Some(Value::String(t)) => t == "Association",
        Some(Value::Array(t)) => t.iter().any(|t| t == "Association"),
        _ => false,
    };
    if !typed {
        out.reason = "its type is not Association".into();
        return out;
    }
    if !ASSOCIATION_TYPES.contains(&out.association_type.as_str()) {
        out.reason = format!(
            "associationType must be one of {}",
            ASSOCIATION_TYPES.join(", ")
        );
        return out;
    }
    let missing = [("sourceId", &out.source_id), ("targetId", &out.target_id)]
        .into_iter()
        .find(|(_, id)| !held.iter().any(|(h, _)| h == *id))
        .map(|(role, id)| {
            format!("its {role} \"{id}\" is not an achievement of a credential or achievement in the record")
        });
    if let Some(reason) = missing {
        out.reason = reason;
        return out;
    }
    if out.association_type == "isPartOf" {
        let rules: Vec<stack::StackingRequirement> = held
            .iter()
            .filter(|(h, _)| *h == out.target_id)
            .filter_map(|(_, rule)| *rule)
            .filter_map(|rule| stack::StackingRequirement::from_value(rule).ok())
            .collect();
        if !rules.is_empty()
            && !rules.iter().any(|r| {
                r.required_achievement
                    .iter()
                    .any(|req| stack::achievement_matches(req, &out.source_id))
            })
        {
            out.reason = format!(
                "{} states how it stacks, and {} is not among its required achievements",
                out.target_id, out.source_id
            );
            return out;
        }
    }
    out.outcome = Outcome::Pass;
    out.reason = "between achievements the record holds".into();
    out
}

impl ClrReport {
    fn push(&mut self, check: ClrCheckKind, outcome: Outcome, reason: impl Into<String>) {
        self.checks.push(ClrCheck {
            check,
            outcome,
            reason: reason.into(),
        });
    }

    fn finish(mut self) -> Self {
        self.verdict = if self.checks.iter().any(|c| c.outcome == Outcome::Fail) {
            Verdict::Invalid
        } else if self.checks.iter().all(|c| c.outcome == Outcome::Pass) {
            Verdict::Valid
        } else {
            Verdict::Indeterminate
        };
        self
    }
}
