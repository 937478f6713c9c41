//! One issuance path for every issuer (the CLI and the service): a [`CredentialTemplate`] per
//! achievement and issuer profile, learners' [`IssueRow`]s checked and built into credentials
//! on it, and signing that shares its JSON-LD expansion with lint.
//!
//! What every credential of a template shares (contexts, issuer profile, achievement) is
//! linted once, when the template is made, JSON-LD processing included. What a row adds (the
//! learner's identity, results, credits, dates, evidence) is checked by type while it is
//! built, so signing a batch lints nothing again; [`IssueCheck::Full`] additionally runs the whole
//! field lint over each credential (single issuance shows its warnings). With
//! `eddsa-rdfc-2022` the JSON-LD processing that canonicalization runs anyway (in safe mode)
//! is the check: its failure becomes the same lint finding [`crate::lint_with`] reports, so no
//! document is expanded twice.
//!
//! Randomness and the clock stay with the caller: a row is built with the credential id, the
//! salt for a hashed e-mail address and the time it is given, so the same inputs give the same
//! bytes wherever they are signed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::lint::{json_ld_finding, lint_fields_with, lint_json_ld};
use crate::model::{
    json_number, Achievement, AchievementSubject, Evidence, IdentityObject, OpenBadgeCredential,
    Profile, Recipient, ResultEntry,
};
use crate::proof::{Cryptosuite, ProofError, ProofSetup};
use crate::{ContextLoader, IssuerKey, LintOptions, LintProfile, LintReport};

/// One learner's credential request: one JSON row, one CSV line, the body of a single
/// issuance, or the CLI's options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueRow {
    /// DID/URL, or e-mail address (stored as a salted SHA-256 hash).
    pub recipient: String,
    /// `NAME: VALUE`, NAME being a result description's id, last path segment or name.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub results: Map<String, Value>,
    /// Evidence URLs or `{id?, name?, narrative?, description?, genre?, audience?}` objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Value>,
    /// Credits the learner earned (a non-negative number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_earned: Option<f64>,
    /// Start of the learner's activity (RFC 3339 with a time zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_start_date: Option<String>,
    /// End of the learner's activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_end_date: Option<String>,
    /// Start of validity and award date (default: the issuance time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// End of validity (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// `relatedResource` entries (VC 2.0 §5.3: `{id, digestSRI | digestMultibase, mediaType?}`)
    /// fixing the bytes of resources the credential refers to, e.g. the component credentials
    /// of a stacked one. Set by issuers in code, not read from requests or CSV.
    #[serde(skip)]
    pub related_resource: Vec<Value>,
}

impl IssueRow {
    /// A row for `recipient` with nothing else.
    pub fn for_recipient(recipient: &str) -> Self {
        Self {
            recipient: recipient.to_owned(),
            ..Self::default()
        }
    }
}

/// Why one row could not be issued.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RowError {
    /// The row's data is not acceptable (the message says what to change).
    #[error("{0}")]
    Invalid(String),
    /// The credential built from it has lint errors.
    #[error("{}", lint_message(.0))]
    Lint(LintReport),
    /// Building or signing failed for a reason that is not the row's (a bug, or no random
    /// numbers); the caller reports it as its own failure.
    #[error("{0}")]
    Internal(String),
    /// The key's external signer (HSM, PKCS#11 token) could not sign: not the row's fault;
    /// the same row may succeed once the signer is back.
    #[error("{0}")]
    Signer(#[from] crate::keys::SignerError),
}

fn lint_message(r: &LintReport) -> String {
    let errors: Vec<String> = r
        .errors()
        .map(|f| format!("{}: {}", f.path, f.message))
        .collect();
    format!("lint errors: {}", errors.join("; "))
}

impl RowError {
    /// The message shown for the row (the same from every issuer).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// How much to check of a credential built from a row, beyond the row's own checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueCheck {
    /// Only what the row adds (the template was linted whole when it was made): for batches.
    Row,
    /// The whole field lint over the credential (its warnings are returned), with the JSON-LD
    /// processing shared with signing.
    Full,
}

/// The template's shared member values taken back from a signed credential, to be moved into
/// the next one instead of copied (see [`CredentialTemplate::keep_spare`]): the achievement and
/// issuer profile are most of a credential's JSON, and copying and freeing them for every
/// learner costs as much as a tenth of signing. Slots are numbered like the members of the
/// template's credential (and of its `credentialSubject`).
#[derive(Debug, Default)]
pub struct Spare {
    top: Vec<Option<Value>>,
    subject: Vec<Option<Value>>,
}

/// Members that [`CredentialTemplate::build`] fills in for each learner (or a caller may add,
/// such as `credentialStatus` and `proof`); every other member of the template is the same in
/// every credential.
const LEARNER_MEMBERS: &[&str] = &[
    "id",
    "validFrom",
    "validUntil",
    "awardedDate",
    "credentialSubject",
    "evidence",
    "relatedResource",
    "credentialStatus",
    "proof",
];
/// The same for the members of `credentialSubject`.
const LEARNER_SUBJECT_MEMBERS: &[&str] = &[
    "id",
    "type",
    "identifier",
    "result",
    "creditsEarned",
    "activityStartDate",
    "activityEndDate",
];
/// The members an `Evidence` object may have (OB 3.0 §B.1.6); any other would be a term no
/// context defines, which JSON-LD processing would drop from the signed data.
const EVIDENCE_MEMBERS: &[&str] = &[
    "id",
    "type",
    "name",
    "narrative",
    "description",
    "genre",
    "audience",
];

/// Everything the credentials issued for one achievement by one issuer share, linted once.
///
/// ```
/// # use microcred_core::*;
/// # use serde_json::json;
/// let key = IssuerKey::from_seed(&[1; 32])?;
/// let achievement = Achievement::from_value(json!({
///     "id": "https://example.edu/achievements/1", "type": ["Achievement"],
///     "name": "Data Literacy", "description": "Reads and questions data.",
///     "criteria": {"narrative": "Passed the assessment."}}))?;
/// let issuer = Profile::from_value(json!({
///     "id": key.controller(), "type": ["Profile"], "name": "Example College"}))?;
/// let t = CredentialTemplate::new(achievement, issuer, &LintOptions::new())?;
/// let at = time::macros::datetime!(2025-06-01 12:00 UTC);
/// let setup = t.proof_setup(&key, Cryptosuite::DEFAULT, at, bundled_contexts())?;
/// let row = IssueRow::for_recipient("did:example:learner");
/// let unsigned = t.build(&row, "urn:uuid:7c6b0e5a-94b1-4d7e-9a3c-0f1e2d3c4b5a", "", at, &mut Spare::default())?;
/// let (signed, _) = t.sign(unsigned, IssueCheck::Full, &setup, &key, bundled_contexts())?;
/// assert!(signed["proof"]["proofValue"].is_string());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CredentialTemplate {
    achievement: Achievement,
    /// The credential of a placeholder learner, from `OpenBadgeCredential::new(..).to_value()`.
    base: Map<String, Value>,
    profile: Option<&'static LintProfile>,
    /// The findings (warnings) of the template's lint.
    report: LintReport,
}

impl CredentialTemplate {
    /// Prepares issuing `achievement` as `issuer`, credentials linted under `options` (its
    /// profile; its contexts resolve the JSON-LD of the shared part). When what the credentials
    /// share has lint errors ([`Self::report`]), every credential would: [`Self::sign`] then
    /// refuses each one, with the whole lint of that credential for [`IssueCheck::Full`], so
    /// an issuer can show a learner's credential's every error at once, or refuse a batch
    /// before it starts.
    pub fn new(
        achievement: Achievement,
        issuer: Profile,
        options: &LintOptions<'_>,
    ) -> Result<Self, RowError> {
        let placeholder = Recipient::Id("did:example:placeholder".into());
        let subject = AchievementSubject::new(&placeholder, achievement.clone());
        let credential = OpenBadgeCredential::new(
            "urn:uuid:00000000-0000-4000-8000-000000000000",
            issuer,
            OffsetDateTime::UNIX_EPOCH,
            subject,
        )
        .map_err(|e| RowError::Invalid(e.to_string()))?;
        let value = credential.to_value();
        let mut report = crate::lint_with(&value, options);
        // Findings about the learner's part are the placeholder's: each row's own are found
        // when it is checked (a profile's rules, such as HEQCO's "assessed", read the
        // learner's result).
        report.findings.retain(|f| !is_learner_path(&f.path));
        let Value::Object(base) = value else {
            return Err(RowError::Internal(
                "the credential model did not produce a JSON object".into(),
            ));
        };
        Ok(Self {
            achievement,
            base,
            profile: options.profile,
            report,
        })
    }

    /// The achievement every credential is for.
    pub fn achievement(&self) -> &Achievement {
        &self.achievement
    }

    /// The lint profile credentials are checked under (`None`: none).
    pub fn profile(&self) -> Option<&'static LintProfile> {
        self.profile
    }

    /// The lint findings of what every credential of the template shares (errors mean none
    /// can be signed).
    pub fn report(&self) -> &LintReport {
        &self.report
    }

    /// The `@context` of every credential.
    pub fn context(&self) -> Option<&Value> {
        self.base.get("@context")
    }

    /// The top-level members every credential has unchanged, in order.
    pub fn shared_members(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.base
            .iter()
            .filter(|(k, _)| !LEARNER_MEMBERS.contains(&k.as_str()))
    }

    /// The members of `credentialSubject` every credential has unchanged, in order.
    pub fn shared_subject_members(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.base_subject()
            .into_iter()
            .flat_map(|s| s.iter())
            .filter(|(k, _)| !LEARNER_SUBJECT_MEMBERS.contains(&k.as_str()))
    }

    fn base_subject(&self) -> Option<&Map<String, Value>> {
        match self.base.get("credentialSubject") {
            Some(Value::Object(s)) => Some(s),
            _ => None,
        }
    }

    /// The proof options of a batch signed with `key` and `suite` at `created`, canonicalized
    /// once for all its credentials (they share the template's `@context`).
    pub fn proof_setup(
        &self,
        key: &IssuerKey,
        suite: Cryptosuite,
        created: OffsetDateTime,
        contexts: &ContextLoader,
    ) -> Result<ProofSetup, RowError> {
        ProofSetup::new(key, suite, created, self.context(), contexts)
            .map_err(|e| RowError::Internal(format!("preparing the proof options failed: {e}")))
    }

    /// Checks `row` and builds its learner's unsigned credential with id `id` (an IRI), `salt`
    /// for a hashed e-mail recipient, and `now` as the default `validFrom`, moving the shared
    /// members' values out of `spare` where it has them.
    pub fn build(
        &self,
        row: &IssueRow,
        id: &str,
        salt: &str,
        now: OffsetDateTime,
        spare: &mut Spare,
    ) -> Result<Value, RowError> {
        let recipient =
            Recipient::parse(&row.recipient, salt).map_err(|e| RowError::Invalid(e.to_string()))?;
        let mut results = Vec::with_capacity(row.results.len());
        for (name, value) in &row.results {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(RowError::Invalid(format!(
                        "result \"{name}\" must be a string or a number"
                    )))
                }
            };
            let rd = self
                .achievement
                .result_description
                .iter()
                .find(|d| {
                    d.id == *name
                        || d.id.rsplit('/').next() == Some(name.as_str())
                        || d.name.eq_ignore_ascii_case(name)
                })
                .ok_or_else(|| {
                    let known: Vec<&str> = self
                        .achievement
                        .result_description
                        .iter()
                        .map(|d| d.id.rsplit('/').next().unwrap_or(&d.id))
                        .collect();
                    RowError::Invalid(format!(
                        "result \"{name}\" matches no resultDescription of the achievement (known: {})",
                        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                    ))
                })?;
            results.push(to_json(&ResultEntry::for_description(rd, &value))?);
        }
        if let Some(c) = row.credits_earned {
            if !c.is_finite() || c < 0.0 {
                return Err(RowError::Invalid(
                    "creditsEarned must be a non-negative number".into(),
                ));
            }
        }
        let start = optional_time("activityStartDate", row.activity_start_date.as_deref())?;
        let end = optional_time("activityEndDate", row.activity_end_date.as_deref())?;
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                return Err(RowError::Invalid(
                    "activityEndDate must not be before activityStartDate".into(),
                ));
            }
        }
        let valid_from = optional_time("validFrom", row.valid_from.as_deref())?.unwrap_or(now);
        let valid_until = match optional_time("validUntil", row.valid_until.as_deref())? {
            Some(until) if until <= valid_from => {
                return Err(RowError::Invalid(
                    "validUntil must be after validFrom".into(),
                ))
            }
            other => other.map(crate::format_datetime),
        };
        let evidence: Vec<Value> = row
            .evidence
            .iter()
            .map(|e| evidence(e).and_then(|e| to_json(&e)))
            .collect::<Result<_, _>>()?;
        for r in &row.related_resource {
            let ok = r
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| crate::model::require_iri("relatedResource id", i).is_ok())
                && (r.get("digestSRI").is_some_and(Value::is_string)
                    || r.get("digestMultibase").is_some_and(Value::is_string));
            if !ok {
                return Err(RowError::Invalid(
                    "a relatedResource entry needs an id (an IRI) and a digestSRI or digestMultibase".into(),
                ));
            }
        }
        let when = crate::format_datetime(valid_from);
        crate::model::require_iri("the credential id", id)
            .map_err(|e| RowError::Internal(e.to_string()))?;

        // The learner's part, in the model's member order: the subject's own `@context`
        // (microcred's extension terms) first, then the learner's identity.
        let base_subject = self.base_subject();
        let mut subject = Map::new();
        if let Some(base_subject) = base_subject {
            if let Some(i) = base_subject.keys().position(|k| k == "@context") {
                let kept = spare.subject.get_mut(i).and_then(Option::take);
                if let Some(ctx) = kept.or_else(|| base_subject.get("@context").cloned()) {
                    subject.insert("@context".into(), ctx);
                }
            }
        }
        match &recipient {
            Recipient::Id(did) => {
                subject.insert("id".into(), did.clone().into());
            }
            Recipient::Email { email, salt } => {
                if salt.is_empty() {
                    return Err(RowError::Internal(
                        "no salt was drawn for a hashed e-mail recipient".into(),
                    ));
                }
                subject.insert("type".into(), json!(["AchievementSubject"]));
                subject.insert(
                    "identifier".into(),
                    to_json(&[IdentityObject::hashed_email(email, salt)])?,
                );
            }
        }
        if let Some(base_subject) = base_subject {
            for (i, (k, v)) in base_subject.iter().enumerate() {
                if !matches!(k.as_str(), "id" | "identifier") && !subject.contains_key(k) {
                    let kept = if LEARNER_SUBJECT_MEMBERS.contains(&k.as_str()) {
                        None
                    } else {
                        spare.subject.get_mut(i).and_then(Option::take)
                    };
                    subject.insert(k.clone(), kept.unwrap_or_else(|| v.clone()));
                }
            }
        }
        if !results.is_empty() {
            subject.insert("result".into(), Value::Array(results));
        }
        if let Some(c) = row.credits_earned {
            subject.insert("creditsEarned".into(), json_number(c));
        }
        if let Some(s) = start {
            subject.insert("activityStartDate".into(), crate::format_datetime(s).into());
        }
        if let Some(e) = end {
            subject.insert("activityEndDate".into(), crate::format_datetime(e).into());
        }
        let mut subject = Some(subject);
        let mut evidence = Some(evidence);
        let mut doc = Map::with_capacity(self.base.len() + 4);
        for (i, (k, v)) in self.base.iter().enumerate() {
            match k.as_str() {
                "id" => {
                    doc.insert(k.clone(), id.into());
                }
                "validFrom" => {
                    doc.insert(k.clone(), when.clone().into());
                    if let Some(u) = &valid_until {
                        doc.insert("validUntil".into(), u.clone().into());
                    }
                }
                "awardedDate" => {
                    doc.insert(k.clone(), when.clone().into());
                }
                "credentialSubject" => {
                    doc.insert(k.clone(), Value::Object(subject.take().unwrap_or_default()));
                    match evidence.take() {
                        Some(e) if !e.is_empty() => {
                            doc.insert("evidence".into(), Value::Array(e));
                        }
                        _ => {}
                    }
                    if !row.related_resource.is_empty() {
                        doc.insert(
                            "relatedResource".into(),
                            Value::Array(row.related_resource.clone()),
                        );
                    }
                }
                _ => {
                    let kept = if LEARNER_MEMBERS.contains(&k.as_str()) {
                        None
                    } else {
                        spare.top.get_mut(i).and_then(Option::take)
                    };
                    doc.insert(k.clone(), kept.unwrap_or_else(|| v.clone()));
                }
            }
        }
        Ok(Value::Object(doc))
    }

    /// Signs `credential` (built by [`Self::build`], plus any members the caller added such as
    /// `credentialStatus`) with `setup` (from [`Self::proof_setup`] for `key`), after the
    /// checks `check` asks for. Returns the signed credential and the lint findings of a
    /// [`IssueCheck::Full`] (empty for [`IssueCheck::Row`]).
    ///
    /// JSON-LD processing runs once: with `eddsa-rdfc-2022` it is signing's own (safe mode),
    /// whose failure becomes a lint error; with `eddsa-jcs-2022`, which does not process
    /// JSON-LD, a [`IssueCheck::Full`] runs it for the safe-mode check.
    pub fn sign(
        &self,
        credential: Value,
        check: IssueCheck,
        setup: &ProofSetup,
        key: &IssuerKey,
        contexts: &ContextLoader,
    ) -> Result<(Value, LintReport), RowError> {
        let options = LintOptions::new()
            .with_contexts(contexts)
            .with_profile(self.profile);
        if self.report.has_errors() {
            let mut report = match check {
                IssueCheck::Full => {
                    let mut r = lint_fields_with(&credential, &options);
                    r.findings.extend(
                        self.report
                            .findings
                            .iter()
                            .filter(|f| f.rule.starts_with("jsonld."))
                            .cloned(),
                    );
                    r
                }
                IssueCheck::Row => self.report.clone(),
            };
            report.findings.sort_by_key(|f| f.severity);
            return Err(RowError::Lint(report));
        }
        sign_checked(credential, check, setup, key, &options)
    }

    /// Puts the shared members of `signed` (made by [`Self::build`] from this template, then
    /// signed) into `spare` for the next credential.
    pub fn keep_spare(&self, signed: Value, spare: &mut Spare) {
        let Value::Object(doc) = signed else {
            return;
        };
        spare.top.resize_with(self.base.len(), || None);
        for (k, v) in doc {
            if k == "credentialSubject" {
                let (Value::Object(subject), Some(base_subject)) = (v, self.base_subject()) else {
                    continue;
                };
                spare.subject.resize_with(base_subject.len(), || None);
                for (sk, sv) in subject {
                    if LEARNER_SUBJECT_MEMBERS.contains(&sk.as_str()) {
                        continue;
                    }
                    if let Some(s) = base_subject
                        .keys()
                        .position(|b| *b == sk)
                        .and_then(|i| spare.subject.get_mut(i))
                    {
                        *s = Some(sv);
                    }
                }
            } else if !LEARNER_MEMBERS.contains(&k.as_str()) {
                if let Some(s) = self
                    .base
                    .keys()
                    .position(|b| *b == k)
                    .and_then(|i| spare.top.get_mut(i))
                {
                    *s = Some(v);
                }
            }
        }
    }
}

/// Lints (as `check` asks, under `options`) and signs `document` with `setup` and `key`,
/// processing its JSON-LD once (see [`CredentialTemplate::sign`]). For any credential, not only
/// a template's: `microcred sign` and the VC API use it with [`IssueCheck::Full`].
pub fn sign_checked(
    document: Value,
    check: IssueCheck,
    setup: &ProofSetup,
    key: &IssuerKey,
    options: &LintOptions<'_>,
) -> Result<(Value, LintReport), RowError> {
    let contexts = options
        .contexts
        .unwrap_or_else(|| crate::proof::bundled_contexts());
    let mut report = match check {
        // A profile's rules may read what the row adds (the learner's result): its field lint
        // runs (no JSON-LD processing; the shared part was checked with the template).
        IssueCheck::Row if options.profile.is_some() => lint_fields_with(&document, options),
        IssueCheck::Row => LintReport {
            profile: options.profile.map(LintProfile::name),
            ..LintReport::default()
        },
        IssueCheck::Full => {
            let mut r = lint_fields_with(&document, options);
            if setup.suite() != Cryptosuite::EddsaRdfc2022 {
                lint_json_ld(&document, contexts, &mut r);
            }
            r
        }
    };
    if report.has_errors() {
        return Err(RowError::Lint(report));
    }
    match setup.sign_owned(document, key, contexts) {
        Ok(signed) => Ok((signed, report)),
        Err(ProofError::JsonLd(e)) if !e.is_work_limit() => {
            json_ld_finding(&e, &mut report);
            Err(RowError::Lint(report))
        }
        Err(ProofError::Signer(e)) => Err(RowError::Signer(e)),
        Err(e) => Err(RowError::Internal(format!("signing failed: {e}"))),
    }
}

/// True for a lint path in the part of a credential each learner's row gives.
fn is_learner_path(path: &str) -> bool {
    let top = path.split(['.', '[']).next().unwrap_or_default();
    match top {
        "credentialSubject" => {
            let rest = &path[top.len()..];
            !(rest.starts_with(".achievement") || rest.starts_with(".@context"))
        }
        _ => LEARNER_MEMBERS.contains(&top) && top != "proof",
    }
}

fn optional_time(field: &str, text: Option<&str>) -> Result<Option<OffsetDateTime>, RowError> {
    text.map(|t| {
        crate::parse_datetime(t).ok_or_else(|| {
            RowError::Invalid(format!(
                "{field} \"{t}\" is not a date-time with a time zone, e.g. 2025-06-01T12:00:00Z"
            ))
        })
    })
    .transpose()
}

fn to_json<T: Serialize>(v: &T) -> Result<Value, RowError> {
    serde_json::to_value(v).map_err(|e| RowError::Internal(e.to_string()))
}

/// A row's evidence item: a URL, or an object of OB 3.0 `Evidence` members with text values.
fn evidence(v: &Value) -> Result<Evidence, RowError> {
    match v {
        Value::String(url) => Evidence::at(url).map_err(|e| RowError::Invalid(e.to_string())),
        Value::Object(o) => {
            for (k, v) in o {
                if !EVIDENCE_MEMBERS.contains(&k.as_str()) {
                    return Err(RowError::Invalid(format!(
                        "evidence member \"{k}\" is not an Open Badges Evidence field (fields: {})",
                        EVIDENCE_MEMBERS.join(", ")
                    )));
                }
                let text = match (k.as_str(), v) {
                    (_, Value::String(_)) => true,
                    ("type", Value::Array(items)) => items.iter().all(Value::is_string),
                    _ => false,
                };
                if !text {
                    return Err(RowError::Invalid(format!(
                        "evidence member \"{k}\" must be text"
                    )));
                }
            }
            let mut obj = o.clone();
            obj.entry("type").or_insert_with(|| json!(["Evidence"]));
            let e: Evidence = serde_json::from_value(Value::Object(obj))
                .map_err(|e| RowError::Invalid(format!("evidence: {e}")))?;
            if !e.types.contains("Evidence") {
                return Err(RowError::Invalid(
                    "an evidence item's type must include \"Evidence\"".into(),
                ));
            }
            if let Some(id) = &e.id {
                crate::model::require_iri("evidence id", id)
                    .map_err(|e| RowError::Invalid(e.to_string()))?;
            }
            Ok(e)
        }
        _ => Err(RowError::Invalid(
            "evidence items must be URLs or objects".into(),
        )),
    }
}

/// Why a CSV of rows was refused as a whole (a bad cell refuses only its row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The header row cannot be read.
    #[error("cannot read the CSV header row: {0}")]
    Header(String),
    /// A column microcred does not know (a typo would otherwise be silently ignored).
    #[error("unknown CSV column \"{0}\" (columns: recipient, result:NAME, evidence, credits_earned, activity_start, activity_end, valid_from, valid_until)")]
    UnknownColumn(String),
    /// Two columns mean the same field (say `credits_earned` and `creditsEarned`): which one
    /// counts would be a guess.
    #[error("the CSV has the column \"{0}\" twice (or under two names): keep one")]
    DuplicateColumn(String),
    /// No `recipient` column.
    #[error("the CSV needs a `recipient` column (a DID, URL or e-mail address per learner)")]
    NoRecipient,
    /// More rows than the caller accepts.
    #[error("the batch has more than {limit} rows; at most {limit} are accepted: split it")]
    TooManyRows {
        /// The most rows accepted.
        limit: usize,
    },
}

/// One row of a CSV: its line number (the header is line 1) and the row, or why that row was
/// refused.
pub type CsvRow = (usize, Result<IssueRow, String>);

/// Reads a CSV of learners: a header row naming `recipient` and any of `result:NAME`,
/// `evidence` (URLs separated by spaces), `credits_earned`, `activity_start`, `activity_end`,
/// `valid_from`, `valid_until` (or their JSON names, e.g. `creditsEarned`), in any letter case;
/// cells are trimmed. At most `limit` rows.
pub fn parse_csv(body: &[u8], limit: usize) -> Result<Vec<CsvRow>, CsvError> {
    #[derive(Clone, PartialEq, Eq, Hash)]
    enum Col {
        Recipient,
        Result(String),
        Evidence,
        Credits,
        Start,
        End,
        From,
        Until,
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| CsvError::Header(e.to_string()))?
        .clone();
    let mut cols = Vec::with_capacity(headers.len());
    let mut seen = std::collections::HashSet::with_capacity(headers.len());
    for h in &headers {
        let col = match h.to_ascii_lowercase().as_str() {
            "recipient" => Col::Recipient,
            "evidence" => Col::Evidence,
            "credits_earned" | "creditsearned" => Col::Credits,
            "activity_start" | "activitystartdate" => Col::Start,
            "activity_end" | "activityenddate" => Col::End,
            "valid_from" | "validfrom" => Col::From,
            "valid_until" | "validuntil" => Col::Until,
            _ => match h.get(..7).filter(|p| p.eq_ignore_ascii_case("result:")) {
                Some(_) if h.len() > 7 => Col::Result(h[7..].to_owned()),
                _ => return Err(CsvError::UnknownColumn(h.chars().take(64).collect())),
            },
        };
        // A set, not a scan of `cols`: a header may have very many `result:` columns.
        if !seen.insert(col.clone()) {
            return Err(CsvError::DuplicateColumn(h.chars().take(64).collect()));
        }
        cols.push(col);
    }
    if !cols.iter().any(|c| matches!(c, Col::Recipient)) {
        return Err(CsvError::NoRecipient);
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        if rows.len() >= limit {
            return Err(CsvError::TooManyRows { limit });
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push((line, Err(e.to_string())));
                continue;
            }
        };
        let mut row = IssueRow::default();
        let mut error = None;
        for (col, cell) in cols.iter().zip(record.iter()) {
            let text = || (!cell.is_empty()).then(|| cell.to_owned());
            match col {
                Col::Recipient => row.recipient = cell.to_owned(),
                Col::Result(name) => {
                    if !cell.is_empty() {
                        row.results
                            .insert(name.clone(), Value::String(cell.to_owned()));
                    }
                }
                Col::Evidence => {
                    row.evidence = cell
                        .split_whitespace()
                        .map(|u| Value::String(u.to_owned()))
                        .collect();
                }
                Col::Credits => {
                    if !cell.is_empty() {
                        match cell.parse::<f64>() {
                            Ok(c) => row.credits_earned = Some(c),
                            Err(_) => {
                                error = Some(format!("credits_earned \"{cell}\" is not a number"));
                            }
                        }
                    }
                }
                Col::Start => row.activity_start_date = text(),
                Col::End => row.activity_end_date = text(),
                Col::From => row.valid_from = text(),
                Col::Until => row.valid_until = text(),
            }
        }
        if error.is_none() && row.recipient.is_empty() {
            error = Some("the recipient is empty".into());
        }
        rows.push((
            line,
            match error {
                Some(e) => Err(e),
                None => Ok(row),
            },
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled_contexts;

    const ACHIEVEMENT: &str = include_str!("../../../examples/achievements/df-101.json");
    const ISSUER: &str = include_str!("../../../examples/issuer-profile.json");

    fn template(key: &IssuerKey) -> CredentialTemplate {
        let mut issuer: Value = serde_json::from_str(ISSUER).unwrap();
        issuer["id"] = key.controller().into();
        let mut ach: Value = serde_json::from_str(ACHIEVEMENT).unwrap();
        ach["id"] = "https://example.org/achievements/df-101".into();
        CredentialTemplate::new(
            Achievement::from_value(ach).unwrap(),
            Profile::from_value(issuer).unwrap(),
            &LintOptions::new(),
        )
        .unwrap()
    }

    fn rows() -> Vec<IssueRow> {
        [
            json!({"recipient": "did:example:a", "results": {"final-assessment": 91}}),
            json!({"recipient": "Learner@Example.org", "evidence": ["https://example.org/e/1",
                   {"name": "Portfolio \"β\"", "narrative": "line\nbreak"}],
                   "creditsEarned": 1.5, "validUntil": "2040-01-01T00:00:00Z",
                   "activityStartDate": "2025-01-06T09:00:00-05:00",
                   "activityEndDate": "2025-04-25T17:00:00Z"}),
            json!({"recipient": "did:example:b", "creditsEarned": 2}),
            json!({"recipient": "did:example:c"}),
        ]
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect()
    }

    #[test]
    fn reused_shared_values_build_the_same_credentials() {
        let key = IssuerKey::from_seed(&[9u8; 32]).unwrap();
        let t = template(&key);
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let setup = t
            .proof_setup(&key, Cryptosuite::DEFAULT, now, bundled_contexts())
            .unwrap();
        let mut spare = Spare::default();
        for round in 0..2 {
            for (i, row) in rows().iter().enumerate() {
                let id = format!("urn:uuid:00000000-0000-4000-8000-00000000000{i}");
                let reused = t.build(row, &id, "ab12", now, &mut spare).unwrap();
                let fresh = t
                    .build(row, &id, "ab12", now, &mut Spare::default())
                    .unwrap();
                assert_eq!(reused, fresh, "round {round}, row {i}");
                let (signed, report) = t
                    .sign(reused, IssueCheck::Full, &setup, &key, bundled_contexts())
                    .unwrap();
                assert!(!report.has_errors());
                // The whole lint (with its own expansion) agrees with the shared one.
                let mut unsigned = signed.clone();
                unsigned.as_object_mut().unwrap().shift_remove("proof");
                assert!(!crate::lint(&unsigned).has_errors());
                t.keep_spare(signed, &mut spare);
            }
        }
        assert!(spare.top.iter().filter(|s| s.is_some()).count() >= 3);
        assert!(spare.subject.iter().any(Option::is_some));
    }

    #[test]
    fn bad_rows_are_refused_with_what_to_change() {
        let key = IssuerKey::from_seed(&[9u8; 32]).unwrap();
        let t = template(&key);
        let now = OffsetDateTime::UNIX_EPOCH;
        for (row, expected) in [
            (json!({"recipient": ""}), "recipient"),
            (
                json!({"recipient": "x", "creditsEarned": -1.0}),
                "recipient",
            ),
            (
                json!({"recipient": "did:example:a", "creditsEarned": -1.0}),
                "creditsEarned must be a non-negative number",
            ),
            (
                json!({"recipient": "did:example:a", "results": {"nope": 1}}),
                "matches no resultDescription",
            ),
            (
                json!({"recipient": "did:example:a", "validFrom": "2025-01-01T00:00:00Z", "validUntil": "2024-01-01T00:00:00Z"}),
                "validUntil must be after validFrom",
            ),
            (
                json!({"recipient": "did:example:a", "activityStartDate": "yesterday"}),
                "not a date-time",
            ),
            (
                json!({"recipient": "did:example:a", "evidence": [{"name": "x", "score": "9"}]}),
                "not an Open Badges Evidence field",
            ),
            (
                json!({"recipient": "did:example:a", "evidence": [{"name": 1}]}),
                "must be text",
            ),
            (
                json!({"recipient": "did:example:a", "evidence": ["not a url"]}),
                "evidence",
            ),
        ] {
            let row: IssueRow = serde_json::from_value(row).unwrap();
            let e = t
                .build(&row, "urn:uuid:x", "ab", now, &mut Spare::default())
                .unwrap_err();
            assert!(matches!(e, RowError::Invalid(_)), "{e:?}");
            assert!(e.message().contains(expected), "{}", e.message());
        }
        let nan = IssueRow {
            credits_earned: Some(f64::NAN),
            ..IssueRow::for_recipient("did:example:a")
        };
        assert!(t
            .build(&nan, "urn:uuid:x", "ab", now, &mut Spare::default())
            .is_err());
    }

    #[test]
    fn rdfc_signing_reports_unsafe_json_ld_as_lint() {
        let key = IssuerKey::from_seed(&[9u8; 32]).unwrap();
        let t = template(&key);
        let now = OffsetDateTime::UNIX_EPOCH;
        for suite in Cryptosuite::ALL {
            let setup = t
                .proof_setup(&key, *suite, now, bundled_contexts())
                .unwrap();
            let mut doc = t
                .build(
                    &IssueRow::for_recipient("did:example:a"),
                    "urn:uuid:x",
                    "",
                    now,
                    &mut Spare::default(),
                )
                .unwrap();
            doc["undefinedTerm"] = json!(1);
            let e = t
                .sign(doc, IssueCheck::Full, &setup, &key, bundled_contexts())
                .unwrap_err();
            let RowError::Lint(report) = e else {
                panic!("{suite}: {e:?}")
            };
            assert!(report.findings.iter().any(|f| f.rule == "jsonld.safe"));
        }
    }

    #[test]
    fn csv_columns_and_cells() {
        let csv = b"Recipient,result:final-assessment,evidence,creditsEarned,valid_until\n\
            did:example:a,91,https://e.example/1 https://e.example/2,1.5,2040-01-01T00:00:00Z\n\
            did:example:b,,,lots,\n\
            ,,,,\n";
        let rows = parse_csv(csv, 10).unwrap();
        assert_eq!(rows.len(), 3);
        let (line, first) = &rows[0];
        assert_eq!(*line, 2);
        let first = first.as_ref().unwrap();
        assert_eq!(first.evidence.len(), 2);
        assert_eq!(first.credits_earned, Some(1.5));
        assert_eq!(
            rows[1].1.as_ref().unwrap_err(),
            "credits_earned \"lots\" is not a number"
        );
        assert_eq!(rows[2].1.as_ref().unwrap_err(), "the recipient is empty");
        assert_eq!(
            parse_csv(b"recipient,score\n", 10).unwrap_err(),
            CsvError::UnknownColumn("score".into())
        );
        assert_eq!(
            parse_csv(b"name\n", 10).unwrap_err(),
            CsvError::UnknownColumn("name".into())
        );
        assert_eq!(
            parse_csv(b"evidence\n", 10).unwrap_err(),
            CsvError::NoRecipient
        );
        for twice in [
            &b"recipient,recipient\n"[..],
            b"recipient,credits_earned,creditsEarned\n",
            b"recipient,result:x,Result:x\n",
        ] {
            assert!(matches!(
                parse_csv(twice, 10).unwrap_err(),
                CsvError::DuplicateColumn(_)
            ));
        }
        assert!(parse_csv(b"recipient,result:x,result:y\n", 10).is_ok());
        assert_eq!(
            parse_csv(b"recipient\na\nb\n", 1).unwrap_err(),
            CsvError::TooManyRows { limit: 1 }
        );
    }
}
