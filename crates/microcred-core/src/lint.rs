//! Lint: what is missing or wrong in a credential before it is signed.
//!
//! Three rule sets, each finding with the JSON path it concerns:
//! - `vc`/`ob`: VC 2.0 and Open Badges 3.0 required fields (always errors);
//! - `eu`: the elements the EU Council Recommendation of 16 June 2022 (Annex I) makes
//!   mandatory for a micro-credential: errors when `achievementType` is `MicroCredential`,
//!   warnings otherwise;
//! - `heqco`: HEQCO's quality markers (competency-based, assessed, stackable): warnings.
//!
//! Errors block signing; warnings are reported.

use microcred_rdf::{CanonicalOptions, ContextLoader};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{
    defines_microcred_terms, uses_any_term, ASSESSMENT_TERMS, MICROCRED_LEGACY_CONTEXT,
    MICROCRED_TERMS, OB_ASSESSMENT_CONTEXT, OB_EXTENSIONS_CONTEXT,
};
use crate::time_fmt;
use crate::verify::{has_scheme, VC_V1_CONTEXT, VC_V2_CONTEXT};

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

/// Lints an unsigned (or signed) credential, resolving JSON-LD contexts from the bundled set.
pub fn lint(credential: &Value) -> LintReport {
    lint_with_contexts(credential, crate::proof::bundled_contexts())
}

/// Lints a credential; `contexts` resolves its JSON-LD contexts for the safe-mode check
/// (every property and type must survive JSON-LD processing, or it would not be signed).
pub fn lint_with_contexts(credential: &Value, contexts: &ContextLoader) -> LintReport {
    let mut r = lint_fields(credential);
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

/// JSON-LD safe mode over the document without its proofs.
fn lint_json_ld(credential: &Value, contexts: &ContextLoader, r: &mut LintReport) {
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
        let rule = match e {
            microcred_rdf::Error::UnknownContext { .. } => "jsonld.context",
            _ => "jsonld.safe",
        };
        r.add(Severity::Error, rule, "@context", e.to_string());
    }
}

fn lint_fields(credential: &Value) -> LintReport {
    let mut r = LintReport::default();
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
    let inline_mc = match doc.get("@context") {
        Some(Value::Array(items)) => items.iter().any(defines_microcred_terms),
        Some(one) => defines_microcred_terms(one),
        None => false,
    };
    if uses_any_term(credential, MICROCRED_TERMS) && !inline_mc && !contexts.contains(&MICROCRED_LEGACY_CONTEXT) {
        r.add(e, "mc.context", "@context", "microcredential extension terms (volumeOfLearning, learningMode, ...) are used but no @context defines them: add microcred's inline context map (contexts/microcred-inline-v1.json) as the last @context entry; credentials microcred builds carry it already");
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
    let issuer = doc.get("issuer");
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
        _ => r.add(e, "vc.issuer", "issuer", "no `issuer`"),
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
            let issuer = issuer.and_then(Value::as_object);
            lint_microcredential(achievement, issuer, subject, doc, &mut r);
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
            r.add(Severity::Error, "mc.context.placeholder", "@context", format!("\"{MICROCRED_LEGACY_CONTEXT}\" is a placeholder that nobody serves, so no verifier but microcred could process this credential: replace it with microcred's inline context map (contexts/microcred-inline-v1.json)"));
        } else if let Some(host) = reserved_host(url) {
            r.add(Severity::Error, "jsonld.context.unserved", "@context", format!("the context \"{url}\" is on the reserved domain \"{host}\" (RFC 2606/6761), which nobody serves: verifiers that load contexts by URL would reject the credential; use a context its publisher serves, or an inline context map"));
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
        }
    }
}

/// Lints an achievement definition on its own (as an institution's catalogue entry).
pub fn lint_achievement(achievement: &Value) -> LintReport {
    let mut r = LintReport::default();
    match achievement.as_object() {
        Some(a) => {
            lint_achievement_fields(a, "achievement", &mut r);
            let empty = Map::new();
            lint_microcredential(a, None, &empty, &empty, &mut r);
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
        _ => r.add(
            e,
            "ob.achievement",
            "credentialSubject.achievement",
            "the `achievement` (what was achieved) is required",
        ),
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
    for field in ["name", "description"] {
        if a.get(field)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            r.add(
                e,
                "ob.achievement.required",
                &format!("{path}.{field}"),
                format!("`{field}` is required"),
            );
        }
    }
    match a.get("criteria") {
        Some(Value::Object(c))
            if c.get("narrative").and_then(Value::as_str).is_some()
                || c.get("id").and_then(Value::as_str).is_some() => {}
        _ => r.add(
            e,
            "ob.achievement.criteria",
            &format!("{path}.criteria"),
            "`criteria` needs a `narrative` (how it is earned) or an `id` URL",
        ),
    }
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

fn lint_microcredential(
    a: &Map<String, Value>,
    issuer: Option<&Map<String, Value>>,
    subject: &Map<String, Value>,
    doc: &Map<String, Value>,
    r: &mut LintReport,
) {
    let is_mc = a.get("achievementType").and_then(Value::as_str) == Some("MicroCredential");
    let sev = if is_mc {
        Severity::Error
    } else {
        Severity::Warning
    };
    let base = if doc.is_empty() {
        "achievement"
    } else {
        "credentialSubject.achievement"
    };
    let p = |f: &str| format!("{base}.{f}");
    let why = if is_mc {
        "mandatory for a MicroCredential (EU 2022 Recommendation, Annex I)"
    } else {
        "a mandatory micro-credential element (EU 2022 Recommendation, Annex I)"
    };

    if let Some(issuer) = issuer {
        if issuer.get("name").and_then(Value::as_str).is_none() {
            r.add(
                sev,
                "eu.awardingBody",
                "issuer.name",
                format!("the awarding body's name is {why}"),
            );
        }
        let addr = issuer.get("address");
        let country = addr
            .and_then(|a| {
                a.get("addressCountryCode")
                    .or_else(|| a.get("addressCountry"))
            })
            .and_then(Value::as_str);
        if country.is_none() {
            r.add(sev, "eu.country", "issuer.address.addressCountryCode", format!("the awarding body's country is {why}: add issuer.address.addressCountryCode (e.g. \"CA\")"));
        }
    }
    let narrative = a
        .get("criteria")
        .and_then(|c| c.get("narrative"))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    let alignments: Vec<&Map<String, Value>> = as_objects(a.get("alignment")).collect();
    if !narrative && alignments.is_empty() {
        r.add(sev, "eu.learningOutcomes", &p("criteria.narrative"), format!("learning outcomes are {why}: state them in criteria.narrative and/or as competency alignments"));
    }
    let volume = a.get("volumeOfLearning");
    match volume {
        Some(Value::String(d)) if is_iso_duration(d) => {}
        Some(_) => r.add(Severity::Error, "mc.volumeOfLearning", &p("volumeOfLearning"), "volumeOfLearning must be an ISO 8601 duration such as \"PT15H\""),
        None if a.get("creditsAvailable").is_none() => r.add(sev, "eu.workload", &p("volumeOfLearning"), format!("the notional workload is {why}: add volumeOfLearning (e.g. \"PT15H\") and/or creditsAvailable with creditSystem")),
        None => {}
    }
    if a.get("creditsAvailable").is_some() && a.get("creditSystem").is_none() {
        r.add(Severity::Warning, "mc.creditSystem", &p("creditSystem"), "creditsAvailable has no unit: add creditSystem (e.g. ECTS) so the number means something");
    }
    let has_level = a.get("qualificationLevel").is_some()
        || alignments.iter().any(|al| {
            matches!(
                al.get("targetType").and_then(Value::as_str),
                Some("ext:EQFLevel" | "ext:NQFLevel")
            )
        });
    if !has_level {
        r.add(Severity::Warning, "eu.level", &p("qualificationLevel"), "no EQF/NQF level is stated (mandatory where applicable): add qualificationLevel or an ext:EQFLevel alignment if the micro-credential has one");
    }
    let descriptions: Vec<&Map<String, Value>> = as_objects(a.get("resultDescription")).collect();
    if !descriptions
        .iter()
        .any(|d| d.get("assessmentType").and_then(Value::as_str).is_some())
    {
        r.add(sev, "eu.assessmentType", &p("resultDescription"), format!("the type of assessment is {why}: add a resultDescription with assessmentType (Exam, Performance or Artifact)"));
    }
    match a.get("learningMode").and_then(Value::as_str) {
        Some(m) if LEARNING_MODES.contains(&m) => {}
        Some(m) => r.add(
            Severity::Error,
            "mc.learningMode",
            &p("learningMode"),
            format!(
                "learningMode \"{m}\" must be one of {}",
                LEARNING_MODES.join(", ")
            ),
        ),
        None => r.add(
            sev,
            "eu.formOfParticipation",
            &p("learningMode"),
            format!(
                "the form of participation is {why}: add learningMode (online, onsite or blended)"
            ),
        ),
    }
    if as_objects(a.get("qualityAssurance")).next().is_none() {
        r.add(
            sev,
            "eu.qualityAssurance",
            &p("qualityAssurance"),
            format!("the type of quality assurance is {why}: add qualityAssurance"),
        );
    }
    if let Some(s) = a.get("assessmentSupervision").and_then(Value::as_str) {
        if !SUPERVISION_VALUES.contains(&s) {
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
    // HEQCO quality markers.
    let w = Severity::Warning;
    if alignments.is_empty() {
        r.add(w, "heqco.competencyBased", &p("alignment"), "not competency-based: align the achievement to competencies in a framework such as ESCO");
    }
    let assessed = !descriptions.is_empty()
        && (doc.is_empty() || as_objects(subject.get("result")).next().is_some());
    if !assessed {
        r.add(w, "heqco.assessed", &p("resultDescription"), "not shown as assessed: describe the assessment (resultDescription) and record the learner's result");
    }
    let stackable = a.get("stackability").is_some()
        || a.get("stackingRequirement").is_some()
        || alignments.iter().any(|al| {
            matches!(
                al.get("targetType").and_then(Value::as_str),
                Some("ext:StacksInto" | "ceterms:Credential")
            )
        });
    if !stackable {
        r.add(w, "heqco.stackable", &p("stackability"), "stackability is not stated: say whether it stacks into a larger credential (stackability)");
    }
}

/// ISO 8601 duration (`P[nY][nM][nW][nD][T[nH][nM][nS]]`).
fn is_iso_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let ok = |part: &str, units: &str| -> Option<usize> {
        let mut count = 0;
        let mut digits = String::new();
        let mut last_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || (c == '.' && !digits.is_empty()) {
                digits.push(c);
            } else {
                let pos = units.find(c)? + 1;
                if digits.is_empty() || pos <= last_unit {
                    return None;
                }
                last_unit = pos;
                digits.clear();
                count += 1;
            }
        }
        digits.is_empty().then_some(count)
    };
    let Some(d) = ok(date, "YMWD") else {
        return false;
    };
    match time {
        Some(t) => ok(t, "HMS").is_some_and(|n| n > 0),
        None => d > 0,
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
            lint_fields(v).errors().map(|f| f.rule).collect::<Vec<_>>()
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
