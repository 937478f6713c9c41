//! Lint: what is missing or wrong in a credential before it is signed.
//!
//! Each finding has a rule id and the JSON path it concerns:
//! - `vc`/`ob`/`jsonld`/`mc`: what makes a credential invalid or unsafe under VC 2.0 and
//!   Open Badges 3.0 (required fields, JSON-LD safe mode, dates, malformed values of the
//!   extension's typed fields such as `volumeOfLearning` or `learningMode`): always errors;
//! - policy (`eu`, `heqco`, `au`, `nzqa`): what a micro-credential framework asks for, as
//!   named [`LintProfile`]s (tables, see `profiles.rs`). Under a chosen profile its mandatory
//!   elements are errors for `achievementType: MicroCredential` and warnings for other
//!   achievements; without a profile the EU 2022 and HEQCO tables are warnings only.
//!
//! Errors block signing; warnings are reported.

use microcred_rdf::{CanonicalOptions, ContextLoader};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{
    has_microcred_context, uses_any_term, ASSESSMENT_TERMS, MICROCRED_LEGACY_CONTEXT,
    MICROCRED_TERMS, OB_ASSESSMENT_CONTEXT, OB_EXTENSIONS_CONTEXT,
};
use crate::time_fmt;
use crate::verify::{has_scheme, VC_V1_CONTEXT, VC_V2_CONTEXT};

mod profiles;

use profiles::{lint_policy, Policy, Target};
pub use profiles::{LintProfile, ProfileRule, Requirement, UnknownProfile, NO_PROFILE};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Blocks signing.
    Error,
    /// Reported; signing goes ahead.
    Warning,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Rule id, e.g. `ob.achievement.criteria`, `eu.workload`, `heqco.stackable`.
    pub rule: &'static str,
    /// JSON path, e.g. `credentialSubject.achievement.name`.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// All findings for one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// The lint profile applied (`None`: no profile, policy findings are warnings).
    #[serde(rename = "lintProfile")]
    pub profile: Option<&'static str>,
    /// Findings, errors first.
    pub findings: Vec<Finding>,
}

impl LintReport {
    /// Whether any finding blocks signing.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings that block signing.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    fn add(
        &mut self,
        severity: Severity,
        rule: &'static str,
        path: &str,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            severity,
            rule,
            path: path.to_owned(),
            message: message.into(),
        });
    }
}

/// The values of `mc:assessmentSupervision` (EU 2022 Annex I, optional element).
pub const SUPERVISION_VALUES: &[&str] = &[
    "unsupervised-no-id-verification",
    "supervised-no-id-verification",
    "supervised-online-id-verification",
    "supervised-onsite-id-verification",
];
/// The values of `mc:learningMode` (form of participation).
pub const LEARNING_MODES: &[&str] = &["online", "onsite", "blended"];

/// How to lint: which JSON-LD contexts resolve, and which profile applies.
///
/// ```
/// use microcred_core::{LintOptions, LintProfile};
/// let eu = LintProfile::by_name("eu-2022")?;
/// let options = LintOptions::new().with_profile(Some(eu));
/// let report = microcred_core::lint_with(&serde_json::json!({}), &options);
/// assert!(report.has_errors());
/// assert_eq!(report.profile, Some("eu-2022"));
/// # Ok::<(), microcred_core::UnknownProfile>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct LintOptions<'a> {
    /// Resolves the JSON-LD contexts for the safe-mode check; `None`: the bundled ones.
    pub contexts: Option<&'a ContextLoader>,
    /// The policy profile; `None`: policy findings are warnings.
    pub profile: Option<&'static LintProfile>,
}

impl<'a> LintOptions<'a> {
    /// Bundled contexts, no profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolve contexts with `contexts`.
    pub fn with_contexts(mut self, contexts: &'a ContextLoader) -> Self {
        self.contexts = Some(contexts);
        self
    }

    /// Apply `profile` (`None`: no profile).
    pub fn with_profile(mut self, profile: Option<&'static LintProfile>) -> Self {
        self.profile = profile;
        self
    }

    fn policy(&self) -> Policy {
        self.profile.map_or(Policy::Advice, Policy::Profile)
    }
}

/// Lints an unsigned (or signed) credential, resolving JSON-LD contexts from the bundled set,
/// without a profile.
pub fn lint(credential: &Value) -> LintReport {
    lint_with(credential, &LintOptions::new())
}

/// Lints a credential without a profile; `contexts` resolves its JSON-LD contexts for the
/// safe-mode check (every property and type must survive JSON-LD processing, or it would
/// not be signed).
pub fn lint_with_contexts(credential: &Value, contexts: &ContextLoader) -> LintReport {
    lint_with(credential, &LintOptions::new().with_contexts(contexts))
}

/// Lints a credential with `options` (contexts and profile).
pub fn lint_with(credential: &Value, options: &LintOptions<'_>) -> LintReport {
    let mut r = lint_fields(credential, options.policy());
    let contexts = options
        .contexts
        .unwrap_or_else(|| crate::proof::bundled_contexts());
    lint_json_ld(credential, contexts, &mut r);
    r.findings.sort_by_key(|f| f.severity);
    r
}

/// The problem JSON-LD processing (safe mode, bundled contexts) finds in `document` without its
/// `proof` (any JSON-LD document: a presentation, say), or `None` if it processes cleanly.
pub fn json_ld_problem(document: &Value) -> Option<String> {
    let mut r = LintReport::default();
    lint_json_ld(document, crate::proof::bundled_contexts(), &mut r);
    r.findings.into_iter().next().map(|f| f.message)
}

/// Lints `credential` with `options` except for JSON-LD processing (safe mode): for a caller
/// whose signing runs that processing anyway (`eddsa-rdfc-2022`) and turns its failure into
/// a finding with [`json_ld_finding`], so that lint and signing share one expansion.
pub(crate) fn lint_fields_with(credential: &Value, options: &LintOptions<'_>) -> LintReport {
    let mut r = lint_fields(credential, options.policy());
    r.findings.sort_by_key(|f| f.severity);
    r
}

/// Adds the finding [`lint_with`] reports when JSON-LD processing of the document fails with
/// `e`, keeping errors first.
pub(crate) fn json_ld_finding(e: &microcred_rdf::Error, r: &mut LintReport) {
    let rule = match e {
        microcred_rdf::Error::UnknownContext { .. } => "jsonld.context",
        _ => "jsonld.safe",
    };
    r.add(Severity::Error, rule, "@context", e.to_string());
    r.findings.sort_by_key(|f| f.severity);
}

/// JSON-LD safe mode over the document without its proofs.
pub(crate) fn lint_json_ld(credential: &Value, contexts: &ContextLoader, r: &mut LintReport) {
    let Some(doc) = credential.as_object() else {
        return;
    };
    if !doc.contains_key("@context") {
        return;
    }
    let unsecured: Map<String, Value> = doc
        .iter()
        .filter(|(k, _)| k.as_str() != "proof")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unsecured = Value::Object(unsecured);
    if let Err(e) = microcred_rdf::to_rdf(&unsecured, contexts, &CanonicalOptions::default()) {
        json_ld_finding(&e, r);
    }
}

fn lint_fields(credential: &Value, policy: Policy) -> LintReport {
    let mut r = LintReport {
        profile: policy.profile().map(LintProfile::name),
        ..LintReport::default()
    };
    let Some(doc) = credential.as_object() else {
        r.add(
            Severity::Error,
            "vc.object",
            "",
            "a credential must be a JSON object",
        );
        return r;
    };
    let e = Severity::Error;
    let contexts: Vec<&str> = match doc.get("@context") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    match contexts.first() {
        Some(&VC_V2_CONTEXT) => {}
        Some(&VC_V1_CONTEXT) => r.add(Severity::Warning, "vc.version", "@context", "VC 1.1 is legacy: issue VC 2.0 credentials (first @context https://www.w3.org/ns/credentials/v2)"),
        _ => r.add(e, "vc.context", "@context", format!("the first @context must be \"{VC_V2_CONTEXT}\"")),
    }
    let types = string_list(doc.get("type"));
    if !types.contains(&"VerifiableCredential") {
        r.add(
            e,
            "vc.type",
            "type",
            "`type` must include \"VerifiableCredential\"",
        );
    }
    let is_ob = types.contains(&"OpenBadgeCredential") || types.contains(&"AchievementCredential");
    if is_ob
        && !contexts
            .iter()
            .any(|c| c.starts_with("https://purl.imsglobal.org/spec/ob/v3p0/context"))
    {
        r.add(e, "ob.context", "@context", "an OpenBadgeCredential needs the Open Badges 3.0 context (https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json)");
    }
    lint_context_urls(doc.get("@context"), &mut r);
    let inline_mc = has_microcred_context(credential);
    if uses_any_term(credential, MICROCRED_TERMS)
        && !inline_mc
        && !contexts.contains(&MICROCRED_LEGACY_CONTEXT)
    {
        r.add(e, "mc.context", "@context", "microcredential extension terms (volumeOfLearning, learningMode, ...) are used but no @context defines them: add microcred's context map (contexts/microcred-inline-v1.json) as the `@context` of the credentialSubject that uses them; credentials microcred builds carry it already");
    }
    if uses_any_term(credential, ASSESSMENT_TERMS) && !contexts.contains(&OB_ASSESSMENT_CONTEXT) {
        r.add(e, "ob.assessment.context", "@context", format!("assessment extension terms are used but the context \"{OB_ASSESSMENT_CONTEXT}\" is missing: add it to @context"));
    }
    if uses_any_term(
        credential,
        &[
            "1EdTechJsonSchemaValidator2019",
            "1EdTechRevocationList",
            "1EdTechCredentialRefresh",
        ],
    ) && !contexts.contains(&OB_EXTENSIONS_CONTEXT)
    {
        r.add(e, "ob.extensions.context", "@context", format!("1EdTech extension types (e.g. 1EdTechJsonSchemaValidator2019 in credentialSchema) are used but the context \"{OB_EXTENSIONS_CONTEXT}\" is missing: add it to @context, or JSON-LD verifiers reject the credential as an undefined term"));
    }
    match doc.get("id").and_then(Value::as_str) {
        Some(id) if has_scheme(id) => {}
        Some(_) => r.add(
            e,
            "vc.id",
            "id",
            "`id` must be an absolute IRI such as urn:uuid:...",
        ),
        None if is_ob => r.add(
            e,
            "ob.id",
            "id",
            "an OpenBadgeCredential needs an `id` (e.g. urn:uuid:...)",
        ),
        None => {}
    }
    lint_dates(doc, contexts.first() == Some(&VC_V1_CONTEXT), is_ob, &mut r);
    // VC 2.0 §4.6 (and the OB 3.0 schema): a credential's and its issuer's names and
    // descriptions are text, never another JSON type.
    check_text(doc, "", "name", "vc.type.name", &mut r);
    check_text(doc, "", "description", "vc.type.description", &mut r);
    if is_ob {
        check_image(doc, "", &mut r);
    }
    let issuer = doc.get("issuer");
    if let Some(Value::Object(p)) = issuer {
        check_text(p, "issuer", "name", "vc.type.name", &mut r);
        check_text(p, "issuer", "description", "vc.type.description", &mut r);
    }
    match issuer {
        Some(Value::Object(p)) if is_ob => lint_profile(p, "issuer", &mut r),
        Some(Value::Object(p)) => {
            if !p.get("id").and_then(Value::as_str).is_some_and(has_scheme) {
                r.add(e, "vc.issuer", "issuer.id", "an issuer object needs an `id`: the issuer's URL or DID");
            }
        }
        Some(Value::String(s)) if is_ob => r.add(e, "ob.issuer.profile", "issuer", format!("Open Badges 3.0 requires the issuer as an embedded Profile object ({{\"id\": \"{s}\", \"type\": [\"Profile\"], \"name\": ...}})")),
        Some(Value::String(s)) if !has_scheme(s) => r.add(e, "vc.issuer", "issuer", "the issuer must be an absolute URL or DID"),
        Some(Value::String(_)) => {}
        None => r.add(e, "vc.issuer", "issuer", "no `issuer`"),
        Some(_) => r.add(
            e,
            "vc.issuer",
            "issuer",
            "`issuer` must be a URL or DID (a string) or an object with an `id`",
        ),
    }
    let subject = match doc.get("credentialSubject") {
        Some(Value::Object(s)) if s.is_empty() => {
            r.add(
                e,
                "vc.credentialSubject",
                "credentialSubject",
                "`credentialSubject` is empty: it must make at least one claim",
            );
            None
        }
        Some(Value::Object(s)) => Some(s),
        Some(Value::Array(items)) if !is_ob && !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if item.as_object().is_none_or(|o| o.is_empty()) {
                    r.add(
                        e,
                        "vc.credentialSubject",
                        &format!("credentialSubject[{i}]"),
                        "each subject must be an object making at least one claim",
                    );
                }
            }
            None
        }
        _ => {
            r.add(
                e,
                "vc.credentialSubject",
                "credentialSubject",
                "`credentialSubject` must be an object",
            );
            None
        }
    };
    if let (true, Some(subject)) = (is_ob, subject) {
        lint_subject(subject, &mut r);
        if let Some(Value::Object(achievement)) = subject.get("achievement") {
            let target = Target {
                achievement,
                issuer: issuer.and_then(Value::as_object),
                subject: Some(subject),
                base: "credentialSubject.achievement",
            };
            lint_extension_values(&target, &mut r);
            lint_policy(&target, policy, &mut r);
        }
    }
    lint_vc2_objects(doc, &mut r);
    for (i, ev) in as_objects(doc.get("evidence")).enumerate() {
        if is_ob && !string_list(ev.get("type")).contains(&"Evidence") {
            r.add(
                e,
                "ob.evidence.type",
                &format!("evidence[{i}].type"),
                "evidence `type` must include \"Evidence\"",
            );
        }
    }
    if doc.contains_key("proof") {
        r.add(Severity::Warning, "vc.proof", "proof", "the credential is already signed: a new signature joins the existing proof(s) in a proof set");
    }
    r.findings.sort_by_key(|f| f.severity);
    r
}

/// Context URLs that no publisher serves. Every verifier in the field loads each `@context`
/// URL (or looks it up in its own table), so a credential naming one fails everywhere but in
/// microcred; signing it is refused.
fn lint_context_urls(context: Option<&Value>, r: &mut LintReport) {
    let urls: Vec<&str> = match context {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    for url in urls {
        if url == MICROCRED_LEGACY_CONTEXT {
            r.add(Severity::Error, "mc.context.placeholder", "@context", format!("\"{MICROCRED_LEGACY_CONTEXT}\" is a placeholder that nobody serves, so no verifier but microcred could process this credential: replace it with microcred's context map (contexts/microcred-inline-v1.json) as the `@context` of the credentialSubject"));
        } else if let Some(host) = reserved_host(url) {
            // A warning, not an error: the caller supplied this context on purpose (a test, a
            // demo); microcred itself never puts one in a credential.
            r.add(Severity::Warning, "jsonld.context.unserved", "@context", format!("the context \"{url}\" is on the reserved domain \"{host}\" (RFC 2606/6761), which nobody serves: verifiers that load contexts by URL will reject the credential; use a context its publisher serves, or an inline context map"));
        }
    }
}

/// The host of `url` when it is under a top-level domain reserved for examples and tests
/// (`.example`, `.test`, `.invalid`, `.localhost`) or is `example.com/net/org`.
fn reserved_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let reserved = [".example", ".test", ".invalid", ".localhost"]
        .iter()
        .any(|tld| h.ends_with(tld))
        || ["example.com", "example.net", "example.org"]
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")));
    reserved.then_some(host)
}

/// VC Data Model 2.0 rules on the objects of `credentialStatus`, `termsOfUse`,
/// `refreshService`, `credentialSchema`, `evidence` and `proof` (§4.5: each MUST have a
/// `type`; ids are URLs) and `relatedResource` (§5.3: objects with a unique `id` and a digest).
fn lint_vc2_objects(doc: &Map<String, Value>, r: &mut LintReport) {
    let e = Severity::Error;
    for prop in [
        "credentialStatus",
        "termsOfUse",
        "refreshService",
        "credentialSchema",
        "evidence",
        "proof",
    ] {
        let items: Vec<&Value> = match doc.get(prop) {
            None => continue,
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
        };
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("{prop}[{i}]");
            let Some(o) = item.as_object() else {
                r.add(
                    e,
                    "vc.object.required",
                    &path,
                    format!("each `{prop}` value must be an object with a `type`"),
                );
                continue;
            };
            if string_list(o.get("type")).is_empty() {
                r.add(
                    e,
                    "vc.type.required",
                    &format!("{path}.type"),
                    format!("a `{prop}` object must have a `type`"),
                );
            }
            match o.get("id") {
                Some(Value::String(id)) if has_scheme(id) => {}
                None if prop != "credentialSchema" => {}
                _ => r.add(
                    e,
                    "vc.id.url",
                    &format!("{path}.id"),
                    format!(
                        "the `id` of a `{prop}` object must be a URL{}",
                        if prop == "credentialSchema" {
                            " (it is required)"
                        } else {
                            ""
                        }
                    ),
                ),
            }
        }
    }
    if let Some(related) = doc.get("relatedResource") {
        let items: Vec<&Value> = match related {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut seen = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("relatedResource[{i}]");
            let Some(o) = item.as_object() else {
                r.add(e, "vc.relatedResource", &path, "each `relatedResource` value must be an object with `id` and `digestSRI` or `digestMultibase`");
                continue;
            };
            match o.get("id").and_then(Value::as_str) {
                Some(id) if has_scheme(id) => {
                    if seen.contains(&id) {
                        r.add(e, "vc.relatedResource.id", &format!("{path}.id"), format!("\"{id}\" is listed twice: each related resource's `id` must be unique"));
                    }
                    seen.push(id);
                }
                _ => r.add(
                    e,
                    "vc.relatedResource.id",
                    &format!("{path}.id"),
                    "a related resource needs an `id` that is a URL",
                ),
            }
            if !o.contains_key("digestSRI") && !o.contains_key("digestMultibase") {
                r.add(
                    e,
                    "vc.relatedResource.digest",
                    &path,
                    "a related resource needs `digestSRI` or `digestMultibase`",
                );
            }
            lint_related_digest(o, &path, r);
        }
    }
}

/// A related resource's digest, checked against the bytes microcred holds of it (the W3C
/// contexts, byte for byte as published); other resources cannot be checked offline.
fn lint_related_digest(o: &Map<String, Value>, path: &str, r: &mut LintReport) {
    use crate::related::{check_related_resource, published_bytes, RelatedResourceCheck};
    let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
    match check_related_resource(o, published_bytes) {
        RelatedResourceCheck::Match => {}
        RelatedResourceCheck::Mismatch { member, actual } => r.add(Severity::Error, "vc.relatedResource.digest", &format!("{path}.{member}"), format!("the digest does not match \"{id}\" as its publisher serves it ({actual}): fix the digest, or the credential pins bytes nobody can obtain")),
        RelatedResourceCheck::Malformed { member, reason } => r.add(Severity::Error, "vc.relatedResource.digest", &format!("{path}.{member}"), format!("the digest {reason}")),
        RelatedResourceCheck::Unavailable => r.add(Severity::Warning, "vc.relatedResource.unchecked", path, format!("microcred does not hold \"{id}\" and never fetches it, so its digest was not checked: make sure it is right")),
    }
}

/// Lints an achievement definition on its own (as an institution's catalogue entry), without
/// a profile.
pub fn lint_achievement(achievement: &Value) -> LintReport {
    lint_achievement_with(achievement, &LintOptions::new())
}

/// Lints an achievement definition on its own under `options.profile` (the issuer's elements,
/// such as its country, are checked when a credential is linted, not here).
pub fn lint_achievement_with(achievement: &Value, options: &LintOptions<'_>) -> LintReport {
    let policy = options.policy();
    let mut r = LintReport {
        profile: policy.profile().map(LintProfile::name),
        ..LintReport::default()
    };
    match achievement.as_object() {
        Some(a) => {
            lint_achievement_fields(a, "achievement", &mut r);
            let target = Target {
                achievement: a,
                issuer: None,
                subject: None,
                base: "achievement",
            };
            lint_extension_values(&target, &mut r);
            lint_policy(&target, policy, &mut r);
        }
        None => r.add(
            Severity::Error,
            "ob.achievement",
            "achievement",
            "an Achievement must be a JSON object",
        ),
    }
    r.findings.sort_by_key(|f| f.severity);
    r
}

/// Dates: the issue date is required by VC 1.1 (`issuanceDate`) and Open Badges 3.0
/// (`validFrom`); VC 2.0 alone makes `validFrom` optional.
fn lint_dates(doc: &Map<String, Value>, v1: bool, is_ob: bool, r: &mut LintReport) {
    let (from, until) = if v1 {
        ("issuanceDate", "expirationDate")
    } else {
        ("validFrom", "validUntil")
    };
    let parse = |name: &str| doc.get(name).map(|v| v.as_str().and_then(time_fmt::parse));
    match parse(from) {
        None if !v1 && !is_ob => {}
        None => r.add(
            Severity::Error,
            "ob.validFrom",
            from,
            format!("`{from}` (date of issue) is required"),
        ),
        Some(None) => r.add(
            Severity::Error,
            "vc.dateTime",
            from,
            format!("`{from}` must be a dateTime with a time zone, e.g. 2025-02-21T17:00:00Z"),
        ),
        Some(Some(_)) => {}
    }
    if let Some(None) = parse(until) {
        r.add(
            Severity::Error,
            "vc.dateTime",
            until,
            format!("`{until}` must be a dateTime with a time zone"),
        );
    }
    if let (Some(Some(f)), Some(Some(u))) = (parse(from), parse(until)) {
        if u <= f {
            r.add(
                Severity::Error,
                "vc.validity",
                until,
                format!("`{until}` is not after `{from}`: the credential would never be valid"),
            );
        }
    }
    for name in ["awardedDate"] {
        if let Some(None) = parse(name) {
            r.add(
                Severity::Error,
                "ob.dateTime",
                name,
                format!("`{name}` must be a dateTime with a time zone"),
            );
        }
    }
}

fn lint_profile(p: &Map<String, Value>, path: &str, r: &mut LintReport) {
    match p.get("id").and_then(Value::as_str) {
        Some(id) if has_scheme(id) => {}
        _ => r.add(Severity::Error, "ob.profile.id", &format!("{path}.id"), "the Profile needs an `id`: the institution's DID or URL (it must be the signing key's controller)"),
    }
    if !string_list(p.get("type")).contains(&"Profile") {
        r.add(
            Severity::Error,
            "ob.profile.type",
            &format!("{path}.type"),
            "the Profile's `type` must include \"Profile\"",
        );
    }
    check_image(p, path, r);
}

fn lint_subject(s: &Map<String, Value>, r: &mut LintReport) {
    let e = Severity::Error;
    if !string_list(s.get("type")).contains(&"AchievementSubject") {
        r.add(
            e,
            "ob.subject.type",
            "credentialSubject.type",
            "`type` must include \"AchievementSubject\"",
        );
    }
    let has_id = s.get("id").and_then(Value::as_str).is_some_and(has_scheme);
    let identifiers: Vec<_> = as_objects(s.get("identifier")).collect();
    if !has_id && identifiers.is_empty() {
        r.add(e, "ob.subject.identity", "credentialSubject", "the learner is not identified: give `id` (a DID) or `identifier` (e.g. a salted-hash e-mail)");
    }
    for (i, idf) in identifiers.into_iter().enumerate() {
        let path = format!("credentialSubject.identifier[{i}]");
        for field in ["identityHash", "identityType"] {
            if idf.get(field).and_then(Value::as_str).is_none() {
                r.add(
                    e,
                    "ob.identifier",
                    &format!("{path}.{field}"),
                    format!("`{field}` is required"),
                );
            }
        }
        match idf.get("hashed") {
            Some(Value::Bool(true)) => {
                let h = idf
                    .get("identityHash")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !(h.starts_with("sha256$") || h.starts_with("md5$")) {
                    r.add(
                        e,
                        "ob.identifier.hash",
                        &format!("{path}.identityHash"),
                        "a hashed identity must look like sha256$<hex>",
                    );
                }
            }
            Some(Value::Bool(false)) => {}
            _ => r.add(
                e,
                "ob.identifier",
                &format!("{path}.hashed"),
                "`hashed` (true/false) is required",
            ),
        }
    }
    match s.get("achievement") {
        Some(Value::Object(a)) => lint_achievement_fields(a, "credentialSubject.achievement", r),
        None => r.add(
            e,
            "ob.achievement",
            "credentialSubject.achievement",
            "the `achievement` (what was achieved) is required",
        ),
        Some(_) => r.add(
            e,
            "ob.type.achievement",
            "credentialSubject.achievement",
            "`achievement` must be an object (an Achievement with id, type, name, description and criteria)",
        ),
    }
    check_number(s, "credentialSubject", "creditsEarned", r);
    check_image(s, "credentialSubject", r);
    check_text(s, "credentialSubject", "narrative", "ob.type.narrative", r);
    for field in ["activityStartDate", "activityEndDate"] {
        if let Some(v) = s.get(field) {
            if v.as_str().and_then(time_fmt::parse).is_none() {
                r.add(
                    e,
                    "ob.dateTime",
                    &format!("credentialSubject.{field}"),
                    format!("`{field}` must be a dateTime with a time zone"),
                );
            }
        }
    }
    let known: Vec<&str> = match s
        .get("achievement")
        .and_then(|a| a.get("resultDescription"))
    {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|d| d.get("id").and_then(Value::as_str))
            .collect(),
        _ => Vec::new(),
    };
    for (i, res) in as_objects(s.get("result")).enumerate() {
        let path = format!("credentialSubject.result[{i}]");
        if !string_list(res.get("type")).contains(&"Result") {
            r.add(
                e,
                "ob.result.type",
                &format!("{path}.type"),
                "`type` must include \"Result\"",
            );
        }
        if let Some(rd) = res.get("resultDescription").and_then(Value::as_str) {
            if !known.contains(&rd) {
                r.add(
                    Severity::Warning,
                    "ob.result.description",
                    &format!("{path}.resultDescription"),
                    format!("\"{rd}\" is not the id of any resultDescription of the achievement"),
                );
            }
        }
    }
}

fn lint_achievement_fields(a: &Map<String, Value>, path: &str, r: &mut LintReport) {
    let e = Severity::Error;
    match a.get("id").and_then(Value::as_str) {
        Some(id) if has_scheme(id) => {}
        _ => r.add(
            e,
            "ob.achievement.id",
            &format!("{path}.id"),
            "the achievement needs an `id` (a stable URL of its definition)",
        ),
    }
    if !string_list(a.get("type")).contains(&"Achievement") {
        r.add(
            e,
            "ob.achievement.type",
            &format!("{path}.type"),
            "`type` must include \"Achievement\"",
        );
    }
    for (field, rule) in [
        ("name", "ob.type.name"),
        ("description", "ob.type.description"),
    ] {
        match a.get(field) {
            Some(v) if !is_text(v) => r.add(
                e,
                rule,
                &format!("{path}.{field}"),
                format!("`{field}` must be {TEXT_FORMS}"),
            ),
            Some(v) if has_words(v) => {}
            _ => r.add(
                e,
                "ob.achievement.required",
                &format!("{path}.{field}"),
                format!("`{field}` is required"),
            ),
        }
    }
    match a.get("criteria") {
        Some(Value::Object(c)) => {
            let criteria = format!("{path}.criteria");
            check_text(c, &criteria, "narrative", "ob.type.criteria", r);
            if let Some(id) = c.get("id") {
                if !id.as_str().is_some_and(has_scheme) {
                    r.add(
                        e,
                        "ob.type.criteria",
                        &format!("{criteria}.id"),
                        "the criteria `id` must be a URL (a string)",
                    );
                }
            }
            if !c.contains_key("narrative") && !c.contains_key("id") {
                r.add(
                    e,
                    "ob.achievement.criteria",
                    &criteria,
                    "`criteria` needs a `narrative` (how it is earned) or an `id` URL",
                );
            }
        }
        None => r.add(
            e,
            "ob.achievement.criteria",
            &format!("{path}.criteria"),
            "`criteria` needs a `narrative` (how it is earned) or an `id` URL",
        ),
        Some(_) => r.add(
            e,
            "ob.type.criteria",
            &format!("{path}.criteria"),
            "`criteria` must be an object with a `narrative` (how it is earned) or an `id` URL",
        ),
    }
    for (field, rule) in [
        ("humanCode", "ob.type.humanCode"),
        ("fieldOfStudy", "ob.type.fieldOfStudy"),
        ("specialization", "ob.type.specialization"),
        ("version", "ob.type.version"),
    ] {
        check_text(a, path, field, rule, r);
    }
    for field in ["achievementType", "inLanguage"] {
        if a.get(field).is_some_and(|v| !v.is_string()) {
            r.add(
                e,
                if field == "achievementType" {
                    "ob.type.achievementType"
                } else {
                    "ob.type.inLanguage"
                },
                &format!("{path}.{field}"),
                format!("`{field}` must be a string"),
            );
        }
    }
    if let Some(tag) = a.get("tag") {
        let ok = match tag {
            Value::Array(items) => items.iter().all(is_text),
            one => is_text(one),
        };
        if !ok {
            r.add(
                e,
                "ob.type.tag",
                &format!("{path}.tag"),
                format!("`tag` must be text or a list of texts: each {TEXT_FORMS}"),
            );
        }
    }
    check_number(a, path, "creditsAvailable", r);
    check_image(a, path, r);
    for (i, al) in as_objects(a.get("alignment")).enumerate() {
        let p = format!("{path}.alignment[{i}]");
        if !string_list(al.get("type")).contains(&"Alignment") {
            r.add(
                e,
                "ob.alignment.type",
                &format!("{p}.type"),
                "`type` must include \"Alignment\"",
            );
        }
        if al.get("targetName").and_then(Value::as_str).is_none() {
            r.add(
                e,
                "ob.alignment.targetName",
                &format!("{p}.targetName"),
                "`targetName` is required",
            );
        }
        match al.get("targetUrl").and_then(Value::as_str) {
            Some(u) if has_scheme(u) => {}
            _ => r.add(
                e,
                "ob.alignment.targetUrl",
                &format!("{p}.targetUrl"),
                "`targetUrl` (an absolute URL) is required",
            ),
        }
    }
    for (i, rd) in as_objects(a.get("resultDescription")).enumerate() {
        let p = format!("{path}.resultDescription[{i}]");
        for field in ["id", "name", "resultType"] {
            if rd.get(field).and_then(Value::as_str).is_none() {
                r.add(
                    e,
                    "ob.resultDescription",
                    &format!("{p}.{field}"),
                    format!("`{field}` is required"),
                );
            }
        }
        if !string_list(rd.get("type")).contains(&"ResultDescription") {
            r.add(
                e,
                "ob.resultDescription.type",
                &format!("{p}.type"),
                "`type` must include \"ResultDescription\"",
            );
        }
    }
}

/// The microcredential extension's typed values, whatever the profile: a value outside its
/// definition is an error (a workload that is not a duration, an unknown learning mode).
fn lint_extension_values(t: &Target<'_>, r: &mut LintReport) {
    let a = t.achievement;
    let p = |f: &str| format!("{}.{f}", t.base);
    for field in ["volumeOfLearning", "reviewPeriod"] {
        match a.get(field) {
            None => {}
            Some(Value::String(d)) if is_iso_duration(d) => {}
            Some(_) => r.add(
                Severity::Error,
                if field == "volumeOfLearning" {
                    "mc.volumeOfLearning"
                } else {
                    "mc.reviewPeriod"
                },
                &p(field),
                format!("{field} must be an ISO 8601 duration such as \"PT15H\" or \"P3Y\""),
            ),
        }
    }
    if let Some(rule) = a.get("stackingRequirement") {
        if let Err(e) = crate::stack::StackingRequirement::from_value(rule) {
            r.add(
                Severity::Error,
                "mc.stackingRequirement",
                &p("stackingRequirement"),
                format!("{e}: a verifier could not check the stack"),
            );
        }
    }
    if a.get("creditsAvailable").is_some() && a.get("creditSystem").is_none() {
        r.add(Severity::Warning, "mc.creditSystem", &p("creditSystem"), "creditsAvailable has no unit: add creditSystem (e.g. ECTS) so the number means something");
    }
    if let Some(m) = a.get("learningMode") {
        if !m.as_str().is_some_and(|m| LEARNING_MODES.contains(&m)) {
            r.add(
                Severity::Error,
                "mc.learningMode",
                &p("learningMode"),
                format!(
                    "learningMode {m} must be one of {}",
                    LEARNING_MODES.join(", ")
                ),
            );
        }
    }
    if let Some(s) = a.get("assessmentSupervision") {
        if !s.as_str().is_some_and(|s| SUPERVISION_VALUES.contains(&s)) {
            r.add(
                Severity::Error,
                "mc.assessmentSupervision",
                &p("assessmentSupervision"),
                format!(
                    "assessmentSupervision must be one of {}",
                    SUPERVISION_VALUES.join(", ")
                ),
            );
        }
    }
}

/// ISO 8601 duration (`P[nY][nM][nW][nD][T[nH][nM][nS]]`).
fn is_iso_duration(s: &str) -> bool {
    duration_hours(s).is_some()
}

/// The hours of an ISO 8601 duration, or `None` when `s` is not one. Years, months, weeks and
/// days count as at least 24 hours each (enough to compare with hour thresholds).
fn duration_hours(s: &str) -> Option<f64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    // Sums the components of one part; `None` if malformed, with the number of components.
    let part = |text: &str, units: &str, hours: &[f64]| -> Option<(usize, f64)> {
        let (mut count, mut total, mut last_unit) = (0, 0.0, 0);
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() || (c == '.' && !digits.is_empty()) {
                digits.push(c);
            } else {
                let pos = units.find(c)? + 1;
                if digits.is_empty() || pos <= last_unit {
                    return None;
                }
                let n: f64 = digits.parse().ok()?;
                total += n * hours.get(pos - 1)?;
                last_unit = pos;
                digits.clear();
                count += 1;
            }
        }
        digits.is_empty().then_some((count, total))
    };
    let (d, date_hours) = part(date, "YMWD", &[8760.0, 720.0, 168.0, 24.0])?;
    match time {
        Some(t) => {
            let (n, time_hours) = part(t, "HMS", &[1.0, 1.0 / 60.0, 1.0 / 3600.0])?;
            (n > 0).then_some(date_hours + time_hours)
        }
        None => (d > 0).then_some(date_hours),
    }
}

/// The forms a text value may take, for messages.
const TEXT_FORMS: &str = "a string (or a language value object {\"@value\": \"...\", \"@language\": \"en\"}, or an array of them)";

/// A text value as VC 2.0 §4.6 and §11.1 allow it (a string, a language value object with
/// `@value` and optional `@language` / `@direction`, or a non-empty array of those), or as
/// the OB 3.0 JSON Schema allows it (a map from language tags such as `en` or `fr-CA` to
/// strings).
fn is_text(v: &Value) -> bool {
    fn value_object(o: &Map<String, Value>) -> bool {
        o.get("@value").is_some_and(Value::is_string)
            && o.iter().all(|(k, v)| match k.as_str() {
                "@value" => true,
                "@language" | "@direction" => v.is_string(),
                _ => false,
            })
    }
    fn language_tag(k: &str) -> bool {
        let b = k.as_bytes();
        match b.len() {
            2 => b.iter().all(u8::is_ascii_lowercase),
            5 => {
                b[..2].iter().all(u8::is_ascii_lowercase)
                    && b[2] == b'-'
                    && b[3..].iter().all(u8::is_ascii_uppercase)
            }
            _ => false,
        }
    }
    match v {
        Value::String(_) => true,
        Value::Object(o) if o.contains_key("@value") => value_object(o),
        Value::Object(o) => {
            !o.is_empty() && o.iter().all(|(k, v)| language_tag(k) && v.is_string())
        }
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_object().is_some_and(value_object))
        }
        _ => false,
    }
}

/// Whether a text value (see [`is_text`]) says something: not empty or only spaces.
fn has_words(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.trim().is_empty(),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "@language" | "@direction"))
            .any(|(_, v)| v.as_str().is_some_and(|s| !s.trim().is_empty())),
        Value::Array(items) => items.iter().any(has_words),
        _ => false,
    }
}

/// `base.field`, or `field` at the root.
fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_owned()
    } else {
        format!("{base}.{field}")
    }
}

/// An error when `o.field` is present and not text.
fn check_text(
    o: &Map<String, Value>,
    base: &str,
    field: &str,
    rule: &'static str,
    r: &mut LintReport,
) {
    if o.get(field).is_some_and(|v| !is_text(v)) {
        r.add(
            Severity::Error,
            rule,
            &join(base, field),
            format!("`{field}` must be {TEXT_FORMS}"),
        );
    }
}

/// An error when `o.field` is present and not a JSON number (OB 3.0 `Float`).
fn check_number(o: &Map<String, Value>, base: &str, field: &'static str, r: &mut LintReport) {
    if o.get(field).is_some_and(|v| !v.is_number()) {
        r.add(
            Severity::Error,
            if field == "creditsEarned" {
                "ob.type.creditsEarned"
            } else {
                "ob.type.creditsAvailable"
            },
            &join(base, field),
            format!("`{field}` must be a number (e.g. 1.5), not a string or another type"),
        );
    }
}

/// OB 3.0 `image`: the image's URL (or data: URI), or an `Image` object with that `id`.
fn check_image(o: &Map<String, Value>, base: &str, r: &mut LintReport) {
    let ok = match o.get("image") {
        None => return,
        Some(Value::String(s)) => has_scheme(s),
        Some(Value::Object(i)) => {
            i.get("id").and_then(Value::as_str).is_some_and(has_scheme)
                && i.get("caption").is_none_or(is_text)
        }
        Some(_) => false,
    };
    if !ok {
        r.add(
            Severity::Error,
            "ob.type.image",
            &join(base, "image"),
            "`image` must be the image's URL or data: URI, or an Image object {\"id\": URL, \"type\": \"Image\"}",
        );
    }
}

fn string_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn as_objects(v: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    let items: Vec<&Map<String, Value>> = match v {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(o)) => vec![o],
        _ => Vec::new(),
    };
    items.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VC Data Model 2.0 MUSTs on typed objects, subjects and related resources, for any VC.
    #[test]
    fn vc2_object_rules() {
        let base = serde_json::json!({
            "@context": [VC_V2_CONTEXT],
            "type": ["VerifiableCredential"],
            "issuer": {"id": "did:example:issuer", "name": "Not an OB profile"},
            "credentialSubject": {"id": "did:example:s"},
            "evidence": {"type": ["SomeEvidence"]},
        });
        let rules = |v: &Value| -> Vec<&'static str> {
            lint_fields(v, Policy::Advice)
                .errors()
                .map(|f| f.rule)
                .collect::<Vec<_>>()
        };
        assert!(rules(&base).is_empty(), "{:?}", rules(&base));
        let with = |k: &str, v: Value| {
            let mut d = base.clone();
            d[k] = v;
            d
        };
        for (k, v, rule) in [
            (
                "termsOfUse",
                serde_json::json!({"id": "https://e.org/p"}),
                "vc.type.required",
            ),
            (
                "refreshService",
                serde_json::json!([{"url": "https://e.org/r"}]),
                "vc.type.required",
            ),
            (
                "credentialSchema",
                serde_json::json!({"type": "JsonSchema"}),
                "vc.id.url",
            ),
            (
                "credentialStatus",
                serde_json::json!("https://e.org/s"),
                "vc.object.required",
            ),
            (
                "credentialSubject",
                serde_json::json!({}),
                "vc.credentialSubject",
            ),
            (
                "credentialSubject",
                serde_json::json!([{"id": "did:e:1"}, {}]),
                "vc.credentialSubject",
            ),
            (
                "relatedResource",
                serde_json::json!(["https://e.org/x"]),
                "vc.relatedResource",
            ),
            (
                "relatedResource",
                serde_json::json!([{"id": "https://e.org/x"}]),
                "vc.relatedResource.digest",
            ),
            (
                "relatedResource",
                serde_json::json!([{"digestSRI": "sha384-x"}]),
                "vc.relatedResource.id",
            ),
            (
                "relatedResource",
                serde_json::json!([
                {"id": "https://e.org/x", "digestSRI": "sha384-x"},
                {"id": "https://e.org/x", "digestSRI": "sha384-y"}]),
                "vc.relatedResource.id",
            ),
        ] {
            let doc = with(k, v);
            assert!(rules(&doc).contains(&rule), "{k}: {:?}", rules(&doc));
        }
        let ok = with(
            "relatedResource",
            serde_json::json!({"id": "https://e.org/x", "digestMultibase": "uEi"}),
        );
        assert!(rules(&ok).is_empty(), "{:?}", rules(&ok));
    }

    /// OB 3.0 JSON Schema / VC 2.0 types: a wrongly typed value is an error naming its path,
    /// every form the standards allow passes.
    #[test]
    fn wrongly_typed_values_are_errors() {
        let ach = serde_json::json!({
            "id": "https://example.org/achievements/1",
            "type": ["Achievement"],
            "name": "Data literacy",
            "description": "Reads data.",
            "criteria": {"narrative": "Pass the test."},
            "image": {"id": "https://example.org/badge.png", "type": "Image"},
            "creditsAvailable": 2,
            "tag": ["data", {"@value": "données", "@language": "fr"}]
        });
        let base = serde_json::json!({
            "@context": [VC_V2_CONTEXT, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "urn:uuid:0b7c1e2a-6a43-4b6e-9a55-7d1f1f6f3a11",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": "Data literacy",
            "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Example College"},
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "id": "did:example:learner",
                "achievement": ach,
                "creditsEarned": 1.5,
                "activityStartDate": "2025-01-01T00:00:00Z"
            }
        });
        let errors = |v: &Value| -> Vec<(&'static str, String)> {
            lint_fields(v, Policy::Advice)
                .errors()
                .map(|f| (f.rule, f.path.clone()))
                .collect()
        };
        assert!(errors(&base).is_empty(), "{:?}", errors(&base));
        // Every text form the standards define is accepted.
        for name in [
            serde_json::json!("Plain"),
            serde_json::json!({"@value": "Données", "@language": "fr"}),
            serde_json::json!({"@value": "Data", "@language": "en", "@direction": "ltr"}),
            serde_json::json!([{"@value": "Data", "@language": "en"}, {"@value": "Données", "@language": "fr"}]),
            serde_json::json!({"en": "Data", "fr-CA": "Données"}),
        ] {
            let mut doc = base.clone();
            doc["name"] = name.clone();
            doc["issuer"]["description"] = name.clone();
            doc["credentialSubject"]["achievement"]["name"] = name;
            assert!(errors(&doc).is_empty(), "{doc}: {:?}", errors(&doc));
        }
        for (pointer, value, rule, path) in [
            ("/name", serde_json::json!(42), "vc.type.name", "name"),
            (
                "/description",
                serde_json::json!({"text": "x"}),
                "vc.type.description",
                "description",
            ),
            (
                "/name",
                serde_json::json!({"@value": "x", "url": "y"}),
                "vc.type.name",
                "name",
            ),
            (
                "/name",
                serde_json::json!(["a", "b"]),
                "vc.type.name",
                "name",
            ),
            ("/name", serde_json::json!([]), "vc.type.name", "name"),
            (
                "/issuer/name",
                serde_json::json!(true),
                "vc.type.name",
                "issuer.name",
            ),
            ("/issuer", serde_json::json!(42), "vc.issuer", "issuer"),
            ("/image", serde_json::json!(7), "ob.type.image", "image"),
            (
                "/issuer/image",
                serde_json::json!({"type": "Image"}),
                "ob.type.image",
                "issuer.image",
            ),
            (
                "/credentialSubject/achievement",
                serde_json::json!("https://example.org/a"),
                "ob.type.achievement",
                "credentialSubject.achievement",
            ),
            (
                "/credentialSubject/creditsEarned",
                serde_json::json!("1.5"),
                "ob.type.creditsEarned",
                "credentialSubject.creditsEarned",
            ),
            (
                "/credentialSubject/activityStartDate",
                serde_json::json!(20250101),
                "ob.dateTime",
                "credentialSubject.activityStartDate",
            ),
            (
                "/credentialSubject/achievement/name",
                serde_json::json!(42),
                "ob.type.name",
                "credentialSubject.achievement.name",
            ),
            (
                "/credentialSubject/achievement/description",
                serde_json::json!(["x"]),
                "ob.type.description",
                "credentialSubject.achievement.description",
            ),
            (
                "/credentialSubject/achievement/criteria",
                serde_json::json!("Pass"),
                "ob.type.criteria",
                "credentialSubject.achievement.criteria",
            ),
            (
                "/credentialSubject/achievement/criteria/narrative",
                serde_json::json!(1),
                "ob.type.criteria",
                "credentialSubject.achievement.criteria.narrative",
            ),
            (
                "/credentialSubject/achievement/creditsAvailable",
                serde_json::json!("2"),
                "ob.type.creditsAvailable",
                "credentialSubject.achievement.creditsAvailable",
            ),
            (
                "/credentialSubject/achievement/achievementType",
                serde_json::json!(["Course"]),
                "ob.type.achievementType",
                "credentialSubject.achievement.achievementType",
            ),
            (
                "/credentialSubject/achievement/tag",
                serde_json::json!([1]),
                "ob.type.tag",
                "credentialSubject.achievement.tag",
            ),
            (
                "/credentialSubject/achievement/image",
                serde_json::json!({"id": 5}),
                "ob.type.image",
                "credentialSubject.achievement.image",
            ),
            (
                "/credentialSubject/achievement/humanCode",
                serde_json::json!(101),
                "ob.type.humanCode",
                "credentialSubject.achievement.humanCode",
            ),
        ] {
            let mut doc = base.clone();
            let (parent, member) = pointer.rsplit_once('/').unwrap();
            doc.pointer_mut(parent).unwrap()[member] = value.clone();
            let found = errors(&doc);
            assert!(
                found.contains(&(rule, path.to_owned())),
                "{pointer} = {value}: {found:?}"
            );
        }
        // A missing or empty achievement name is still "required", not a type error.
        let mut doc = base.clone();
        doc["credentialSubject"]["achievement"]["name"] = serde_json::json!({"@value": " "});
        assert!(errors(&doc).contains(&(
            "ob.achievement.required",
            "credentialSubject.achievement.name".into()
        )));
        // The catalogue lint of an achievement on its own checks the same types.
        let mut a = ach.clone();
        a["name"] = serde_json::json!(42);
        let report = lint_achievement(&a);
        assert!(report
            .errors()
            .any(|f| f.rule == "ob.type.name" && f.path == "achievement.name"));
    }

    #[test]
    fn durations() {
        for ok in ["PT15H", "P3Y", "P1DT2H", "PT1.5H", "P2W"] {
            assert!(is_iso_duration(ok), "{ok}");
        }
        for bad in ["P", "PT", "15H", "PTH", "P1H", "PT15", "P1D2Y"] {
            assert!(!is_iso_duration(bad), "{bad}");
        }
    }

    #[test]
    fn empty_object_has_errors() {
        let r = lint(&serde_json::json!({}));
        assert!(r.has_errors());
    }
}
