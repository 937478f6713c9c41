//! One call that verifies a credential and explains every check.
//!
//! Fail closed: the verdict is `valid` only when every required check passed. A check that
//! could not run is `unknown` and makes the verdict `indeterminate`, never `valid`.

use microcred_rdf::ContextLoader;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::endorse::EndorsementReport;
use crate::keys::PublicKey;
use crate::proof::{check_proof, ProofFinding, ASSERTION_METHOD};
use crate::resolve::KeyRing;
use crate::status::{self, StatusEntry, StatusError, StatusListCredential};
use crate::time_fmt;
use crate::trust::{TrustDecision, TrustList};

/// The first `@context` of a VC 2.0 credential.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The first `@context` of a VC 1.1 credential.
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";

/// What the verifier knows and when it is verifying.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    at: OffsetDateTime,
    keys: &'a KeyRing,
    contexts: &'a ContextLoader,
    pinned: &'a [PublicKey],
    trust: Option<&'a TrustList>,
    status_lists: &'a [StatusListCredential],
}

impl<'a> VerifyOptions<'a> {
    /// Verify as of `at` (the caller's clock), resolving keys from `keys` (and `did:key`).
    pub fn new(at: OffsetDateTime, keys: &'a KeyRing) -> Self {
        Self {
            at,
            keys,
            contexts: crate::proof::bundled_contexts(),
            pinned: &[],
            trust: None,
            status_lists: &[],
        }
    }

    /// Accept only proofs made with one of these keys (the institution's known keys).
    pub fn pinned_keys(mut self, keys: &'a [PublicKey]) -> Self {
        self.pinned = keys;
        self
    }

    /// Resolve JSON-LD contexts from `contexts` (the bundled ones plus any the user added)
    /// instead of the bundled set alone.
    pub fn contexts(mut self, contexts: &'a ContextLoader) -> Self {
        self.contexts = contexts;
        self
    }

    /// Report whether the issuer is on this trust list.
    pub fn trust_list(mut self, trust: &'a TrustList) -> Self {
        self.trust = Some(trust);
        self
    }

    /// Check `credentialStatus` (Bitstring Status List) against these lists, already
    /// fetched or saved by the caller. Each list's own proof is verified with the same keys,
    /// time and contexts, and its issuer must be the credential's. An entry whose list is
    /// missing, unusable or untrustworthy makes the status *unknown*, never *pass*.
    pub fn status_lists(mut self, lists: &'a [StatusListCredential]) -> Self {
        self.status_lists = lists;
        self
    }
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Every required check passed.
    Valid,
    /// A check ran and failed: the credential must not be accepted.
    Invalid,
    /// A required check could not run (unsupported proof, key not resolvable, not JSON).
    Indeterminate,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Positively checked and fine.
    Pass,
    /// Checked and wrong.
    Fail,
    /// Could not be decided (for trust: the issuer is not on the list).
    Unknown,
    /// Not checked (skipped, not applicable, or not implemented); see the reason.
    NotChecked,
}

/// Which aspect a check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckKind {
    /// Parses as strict JSON and has the shape of a verifiable credential.
    WellFormed,
    /// Has a proof of a supported type and cryptosuite.
    Proof,
    /// The signature verifies with the verification method's key.
    Signature,
    /// The key is controlled by the credential's issuer and authorized to issue.
    IssuerKey,
    /// `validFrom`/`validUntil` (or VC 1.1 dates) include the verification time.
    Validity,
    /// The issuer is on the verifier's trust list.
    Trust,
    /// Revocation / suspension status.
    Status,
}

impl CheckKind {
    fn required(self) -> bool {
        !matches!(self, Self::Trust | Self::Status)
    }

    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::WellFormed => "well-formed",
            Self::Proof => "proof",
            Self::Signature => "signature",
            Self::IssuerKey => "issuer key",
            Self::Validity => "validity",
            Self::Trust => "issuer trust",
            Self::Status => "status",
        }
    }
}

/// One check with its outcome and a reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The aspect checked.
    pub check: CheckKind,
    /// For credentials with several proofs (a proof set): which proof (1-based) this check
    /// is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<usize>,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in words.
    pub reason: String,
}

/// The full verification report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The overall verdict.
    pub verdict: Verdict,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// `id` of the credential, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// The issuer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The issuer's name, as the credential states it (unverified unless trusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// The credential's or achievement's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The endorsements embedded in the credential, each checked on its own (see
    /// [`crate::check_endorsements`]). Informative only: they never change `verdict` or
    /// `checks`, which are about the credential alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endorsements: Vec<EndorsementReport>,
}

impl Report {
    fn new() -> Self {
        Self {
            verdict: Verdict::Indeterminate,
            checks: Vec::new(),
            credential_id: None,
            issuer: None,
            issuer_name: None,
            name: None,
            endorsements: Vec::new(),
        }
    }

    fn push(&mut self, check: CheckKind, outcome: Outcome, reason: impl Into<String>) {
        self.push_for(None, check, outcome, reason);
    }

    fn push_for(
        &mut self,
        proof: Option<usize>,
        check: CheckKind,
        outcome: Outcome,
        reason: impl Into<String>,
    ) {
        self.checks.push(Check {
            check,
            proof,
            outcome,
            reason: reason.into(),
        });
    }

    fn finish(mut self) -> Self {
        let required = self.checks.iter().filter(|c| c.check.required());
        self.verdict = if self.checks.iter().any(|c| c.outcome == Outcome::Fail) {
            Verdict::Invalid
        } else if required.clone().count() > 0
            && required.clone().all(|c| c.outcome == Outcome::Pass)
        {
            Verdict::Valid
        } else {
            Verdict::Indeterminate
        };
        self
    }

    /// The combined outcome of the status checks: `Fail` if any entry says revoked or
    /// suspended, else `Unknown` if any entry could not be decided, else `Pass` if one passed,
    /// else `NotChecked` (no status entry, or verification stopped earlier).
    pub fn status(&self) -> Outcome {
        let outcomes: Vec<Outcome> = self
            .checks
            .iter()
            .filter(|c| c.check == CheckKind::Status)
            .map(|c| c.outcome)
            .collect();
        [Outcome::Fail, Outcome::Unknown, Outcome::Pass]
            .into_iter()
            .find(|o| outcomes.contains(o))
            .unwrap_or(Outcome::NotChecked)
    }

    /// The first failing (or, if none, undecided) required check, for one-line summaries.
    pub fn first_problem(&self) -> Option<&Check> {
        self.checks
            .iter()
            .find(|c| c.outcome == Outcome::Fail)
            .or_else(|| {
                self.checks
                    .iter()
                    .find(|c| c.check.required() && c.outcome != Outcome::Pass)
            })
    }
}

/// Verifies the exact bytes received.
pub fn verify(bytes: &[u8], options: &VerifyOptions<'_>) -> Report {
    match crate::json::parse_strict(bytes) {
        Ok(value) => verify_value(&value, options),
        Err(e) => {
            let mut report = Report::new();
            // Duplicate member names parse as JSON syntax: that is a checked defect. Anything
            // else is not JSON at all, and nothing can be said about it.
            let outcome = if e.is_duplicate_member() {
                Outcome::Fail
            } else {
                Outcome::Unknown
            };
            report.push(CheckKind::WellFormed, outcome, e.to_string());
            skip_rest(&mut report, CheckKind::WellFormed);
            report.finish()
        }
    }
}

/// Verifies a parsed JSON document (parsed with duplicate-member rejection, e.g. by
/// [`crate::parse_strict`]), then the endorsements embedded in it (reported in
/// [`Report::endorsements`], without effect on the verdict).
pub fn verify_value(value: &Value, options: &VerifyOptions<'_>) -> Report {
    let mut report = verify_own(value, options);
    // A credential that is not even well-formed has no endorsements worth checking.
    let well_formed = report
        .checks
        .iter()
        .any(|c| c.check == CheckKind::WellFormed && c.outcome == Outcome::Pass);
    if well_formed {
        report.endorsements = crate::endorse::check_endorsements(value, options);
    }
    report
}

/// The credential's own checks and verdict, without its endorsements: also how an endorsement
/// or a status list is checked, so that nothing embedded in them is followed.
pub(crate) fn verify_own(value: &Value, options: &VerifyOptions<'_>) -> Report {
    let mut report = Report::new();
    let Some(doc) = value.as_object() else {
        report.push(
            CheckKind::WellFormed,
            Outcome::Fail,
            "a credential must be a JSON object",
        );
        skip_rest(&mut report, CheckKind::WellFormed);
        return report.finish();
    };
    report.credential_id = doc.get("id").and_then(Value::as_str).map(str::to_owned);
    report.name = credential_name(doc);
    let shape = check_shape(doc);
    let issuer_id = shape.as_ref().ok().map(|s| s.issuer_id.clone());
    report.issuer = issuer_id.clone();
    report.issuer_name = doc
        .get("issuer")
        .and_then(|i| i.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let shape = match shape {
        Ok(shape) => {
            report.push(
                CheckKind::WellFormed,
                Outcome::Pass,
                format!("a VC {} credential of type {}", shape.version, shape.types),
            );
            shape
        }
        Err(reason) => {
            report.push(CheckKind::WellFormed, Outcome::Fail, reason);
            skip_rest(&mut report, CheckKind::WellFormed);
            return report.finish();
        }
    };

    check_proofs(doc, &shape.issuer_id, options, &mut report);
    check_validity(doc, shape.version, options.at, &mut report);
    check_status(doc, &shape.issuer_id, options, &mut report);
    report.finish()
}

struct Shape {
    version: &'static str,
    types: String,
    issuer_id: String,
}

fn check_shape(doc: &Map<String, Value>) -> Result<Shape, String> {
    let first_context = match doc.get("@context") {
        Some(Value::Array(items)) => items.first().and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let version = match first_context {
        Some(VC_V2_CONTEXT) => "2.0",
        Some(VC_V1_CONTEXT) => "1.1",
        Some(other) => {
            return Err(format!(
                "the first @context is \"{other}\"; a credential must start with \"{VC_V2_CONTEXT}\" (or VC 1.1's \"{VC_V1_CONTEXT}\")"
            ))
        }
        None => return Err("no @context: this is not a verifiable credential".into()),
    };
    let types: Vec<&str> = match doc.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.contains(&"VerifiableCredential") {
        return Err("`type` must include \"VerifiableCredential\"".into());
    }
    let issuer_id = match doc.get("issuer") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => match o.get("id") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err("`issuer` is an object without a string `id`".into()),
        },
        _ => return Err("no `issuer` (a URL/DID string or a Profile object with `id`)".into()),
    };
    if !has_scheme(&issuer_id) {
        return Err(format!(
            "issuer id \"{issuer_id}\" is not an absolute URL or DID"
        ));
    }
    match doc.get("credentialSubject") {
        Some(Value::Object(_)) => {}
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_object) => {}
        _ => {
            return Err(
                "`credentialSubject` must be an object (or a non-empty array of objects)".into(),
            )
        }
    }
    if let Some(id) = doc.get("id") {
        match id.as_str() {
            Some(s) if has_scheme(s) => {}
            _ => return Err("`id` must be an absolute URL (e.g. urn:uuid:...)".into()),
        }
    }
    Ok(Shape {
        version,
        types: types.join(", "),
        issuer_id,
    })
}

/// True when `s` starts with a URI scheme (`letter *(letter / digit / + - .) ":"`).
pub(crate) fn has_scheme(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

fn credential_name(doc: &Map<String, Value>) -> Option<String> {
    let subject = match doc.get("credentialSubject") {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    subject
        .and_then(|s| s.get("achievement"))
        .and_then(|a| a.get("name"))
        .or_else(|| doc.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn check_proofs(
    doc: &Map<String, Value>,
    issuer_id: &str,
    options: &VerifyOptions<'_>,
    report: &mut Report,
) {
    let proofs: Vec<&Value> = match doc.get("proof") {
        None => {
            report.push(
                CheckKind::Proof,
                Outcome::Fail,
                "the credential has no proof: it is unsigned, and anyone could have written it",
            );
            skip_rest(report, CheckKind::Proof);
            return;
        }
        Some(Value::Array(items)) if items.is_empty() => {
            report.push(CheckKind::Proof, Outcome::Fail, "`proof` is an empty list");
            skip_rest(report, CheckKind::Proof);
            return;
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    };
    let many = proofs.len() > 1;
    let mut trust_key = None;
    let mut cosigned = false;
    for (i, proof) in proofs.iter().copied().enumerate() {
        let idx = many.then_some(i + 1);
        let tag = if many {
            format!("proof {} of the set: ", i + 1)
        } else {
            String::new()
        };
        if let Some(expires) = proof.get("expires") {
            match expires.as_str().and_then(time_fmt::parse) {
                Some(t) if options.at >= t => {
                    report.push_for(
                        idx,
                        CheckKind::Proof,
                        Outcome::Fail,
                        format!("{tag}the proof expired at {}", time_fmt::format(t)),
                    );
                    continue;
                }
                Some(_) => {}
                None => {
                    report.push_for(
                        idx,
                        CheckKind::Proof,
                        Outcome::Fail,
                        format!("{tag}the proof's `expires` is not a dateTime"),
                    );
                    continue;
                }
            }
        }
        match check_proof(doc, proof, &proofs, options.keys, options.contexts) {
            ProofFinding::Unsupported(why) => {
                report.push_for(
                    idx,
                    CheckKind::Proof,
                    Outcome::Unknown,
                    format!("{tag}{why}"),
                );
                report.push_for(
                    idx,
                    CheckKind::Signature,
                    Outcome::NotChecked,
                    format!("{tag}the proof cannot be checked by this verifier"),
                );
                report.push_for(
                    idx,
                    CheckKind::IssuerKey,
                    Outcome::NotChecked,
                    format!("{tag}no verified key"),
                );
            }
            ProofFinding::Malformed(why) => {
                report.push_for(idx, CheckKind::Proof, Outcome::Fail, format!("{tag}{why}"));
                report.push_for(
                    idx,
                    CheckKind::Signature,
                    Outcome::NotChecked,
                    format!("{tag}the proof is malformed"),
                );
                report.push_for(
                    idx,
                    CheckKind::IssuerKey,
                    Outcome::NotChecked,
                    format!("{tag}no verified key"),
                );
            }
            ProofFinding::Unresolved { suite, error } => {
                report.push_for(
                    idx,
                    CheckKind::Proof,
                    Outcome::Pass,
                    format!("{tag}{suite}"),
                );
                report.push_for(
                    idx,
                    CheckKind::Signature,
                    Outcome::Unknown,
                    format!("{tag}{error}"),
                );
                report.push_for(
                    idx,
                    CheckKind::IssuerKey,
                    Outcome::NotChecked,
                    format!("{tag}the key is unknown"),
                );
            }
            ProofFinding::Checked {
                suite,
                method,
                purpose,
                valid,
            } => {
                report.push_for(
                    idx,
                    CheckKind::Proof,
                    Outcome::Pass,
                    format!("{tag}{suite}"),
                );
                // Pinned keys say which keys speak for the issuer; a co-signer's proof in a
                // set is checked with its own key (and never counts as the issuer's).
                let pin_applies = !many || method.controller == issuer_id;
                if pin_applies
                    && !options.pinned.is_empty()
                    && !options.pinned.contains(&method.key)
                {
                    let pinned: Vec<String> =
                        options.pinned.iter().map(PublicKey::to_multibase).collect();
                    report.push_for(idx,
                        CheckKind::Signature,
                        Outcome::Fail,
                        format!(
                            "{tag}signed with key {}, which is not the institution key you pinned ({})",
                            method.key,
                            pinned.join(", ")
                        ),
                    );
                } else if valid {
                    report.push_for(
                        idx,
                        CheckKind::Signature,
                        Outcome::Pass,
                        format!(
                            "{tag}Ed25519 signature verified (strict) with {}",
                            method.id
                        ),
                    );
                } else {
                    report.push_for(idx,
                        CheckKind::Signature,
                        Outcome::Fail,
                        format!("{tag}the signature does not match: the credential was changed after it was signed, or signed with another key"),
                    );
                }
                let signature_ok = valid
                    && (!pin_applies
                        || options.pinned.is_empty()
                        || options.pinned.contains(&method.key));
                if !signature_ok {
                    report.push_for(
                        idx,
                        CheckKind::IssuerKey,
                        Outcome::NotChecked,
                        format!("{tag}skipped: the signature did not verify"),
                    );
                } else if purpose != ASSERTION_METHOD {
                    report.push_for(idx,
                        CheckKind::IssuerKey,
                        Outcome::Fail,
                        format!("{tag}proofPurpose is \"{purpose}\"; issuing a credential requires \"assertionMethod\""),
                    );
                } else if method.controller != issuer_id && many {
                    // A co-signature in a proof set (a witness, an accreditor): it must verify
                    // like every proof, but it is not the issuer's; one proof must be.
                    report.push_for(
                        idx,
                        CheckKind::IssuerKey,
                        Outcome::Pass,
                        format!(
                            "{tag}co-signed by {}, not by the issuer: its signature verified, but it vouches for nothing about the issuer",
                            method.controller
                        ),
                    );
                    cosigned = true;
                } else if method.controller != issuer_id {
                    report.push_for(idx,
                        CheckKind::IssuerKey,
                        Outcome::Fail,
                        format!(
                            "{tag}the signing key belongs to {}, but the credential claims to be issued by {issuer_id}",
                            method.controller
                        ),
                    );
                } else if !method.assertion {
                    report.push_for(idx,
                        CheckKind::IssuerKey,
                        Outcome::Fail,
                        format!("{tag}{} is not listed under assertionMethod in the issuer's DID document", method.id),
                    );
                } else {
                    report.push_for(idx,
                        CheckKind::IssuerKey,
                        Outcome::Pass,
                        format!("{tag}the key is the issuer's own ({issuer_id}) and authorized to issue"),
                    );
                    trust_key.get_or_insert(method.key);
                }
            }
        }
    }
    // Co-signatures never stand in for the issuer's: when every issuer-key check passed only
    // as a co-signature, nothing shows the issuer signed.
    let issuer_checks_all_passed = report
        .checks
        .iter()
        .filter(|c| c.check == CheckKind::IssuerKey)
        .all(|c| c.outcome == Outcome::Pass);
    if cosigned && trust_key.is_none() && issuer_checks_all_passed {
        report.push(
            CheckKind::IssuerKey,
            Outcome::Fail,
            format!("no proof is by a key of the issuer {issuer_id}: only co-signers signed this credential"),
        );
    }
    match (options.trust, trust_key) {
        (None, _) => report.push(
            CheckKind::Trust,
            Outcome::NotChecked,
            "no trust list given: the issuer's identity is as claimed, not vouched for",
        ),
        (Some(_), None) => report.push(
            CheckKind::Trust,
            Outcome::NotChecked,
            "no verified issuer key to look up",
        ),
        (Some(list), Some(key)) => match list.decide(issuer_id, &key) {
            TrustDecision::Trusted(i) => report.push(
                CheckKind::Trust,
                Outcome::Pass,
                format!("issuer is on your trust list as \"{}\"", i.name),
            ),
            TrustDecision::KeyNotListed(i) => report.push(
                CheckKind::Trust,
                Outcome::Fail,
                format!(
                    "\"{}\" is on your trust list, but key {key} is not one of its listed keys",
                    i.name
                ),
            ),
            TrustDecision::Unknown => report.push(
                CheckKind::Trust,
                Outcome::Unknown,
                format!("issuer {issuer_id} is not on your trust list: unknown, not trusted"),
            ),
        },
    }
}

fn check_validity(
    doc: &Map<String, Value>,
    version: &str,
    at: OffsetDateTime,
    report: &mut Report,
) {
    let (from_name, until_name) = if version == "1.1" {
        ("issuanceDate", "expirationDate")
    } else {
        ("validFrom", "validUntil")
    };
    let mut read = |name: &str| -> Result<Option<OffsetDateTime>, ()> {
        match doc.get(name) {
            None => Ok(None),
            Some(v) => match v.as_str().and_then(time_fmt::parse) {
                Some(t) => Ok(Some(t)),
                None => {
                    report.push(
                        CheckKind::Validity,
                        Outcome::Fail,
                        format!("`{name}` is not a dateTime with a time zone"),
                    );
                    Err(())
                }
            },
        }
    };
    let (Ok(from), Ok(until)) = (read(from_name), read(until_name)) else {
        return;
    };
    let now = time_fmt::format(at);
    match (from, until) {
        (Some(f), _) if at < f => report.push(
            CheckKind::Validity,
            Outcome::Fail,
            format!(
                "not yet valid: valid from {}, checked at {now}",
                time_fmt::format(f)
            ),
        ),
        (_, Some(u)) if at >= u => report.push(
            CheckKind::Validity,
            Outcome::Fail,
            format!(
                "expired: valid until {}, checked at {now}",
                time_fmt::format(u)
            ),
        ),
        (f, u) => report.push(
            CheckKind::Validity,
            Outcome::Pass,
            format!(
                "valid at {now} (from {}, until {})",
                f.map_or("unstated".into(), time_fmt::format),
                u.map_or("no expiry".into(), time_fmt::format)
            ),
        ),
    }
}

fn check_status(
    doc: &Map<String, Value>,
    issuer_id: &str,
    options: &VerifyOptions<'_>,
    report: &mut Report,
) {
    let entries: Vec<&Value> = match doc.get("credentialStatus") {
        None => {
            report.push(
                CheckKind::Status,
                Outcome::NotChecked,
                "the credential has no credentialStatus entry, so it cannot be revoked; nothing to check",
            );
            return;
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    if entries.is_empty() {
        report.push(
            CheckKind::Status,
            Outcome::NotChecked,
            "credentialStatus is an empty list, so the credential cannot be revoked; nothing to check",
        );
        return;
    }
    for entry in entries {
        let (outcome, reason) = match StatusEntry::from_value(entry) {
            Ok(e) => entry_status(&e, issuer_id, options),
            Err(e @ StatusError::UnsupportedMethod(_)) => {
                (Outcome::Unknown, format!("status unknown: {e}"))
            }
            Err(e) => (Outcome::Unknown, format!("status unknown: {e}")),
        };
        report.push(CheckKind::Status, outcome, reason);
    }
}

/// The status of one `BitstringStatusListEntry` (spec §3.2, Validate Algorithm). Anything
/// that keeps the bit from being read with confidence is `Unknown`, never `Pass`.
fn entry_status(
    entry: &StatusEntry,
    issuer_id: &str,
    options: &VerifyOptions<'_>,
) -> (Outcome, String) {
    let purpose = entry.purpose.as_str();
    let url = entry.list.as_str();
    let unknown = |why: String| (Outcome::Unknown, format!("{purpose} status unknown: {why}"));
    if entry.size != 1 {
        return unknown(format!(
            "statusSize {} (multi-bit status messages) is not supported by this verifier",
            entry.size
        ));
    }
    let Some(list) = status::pick_list(options.status_lists, url) else {
        return unknown(format!("no copy of the status list {url} was supplied"));
    };
    if let Some(why) = list.unavailable_reason() {
        return unknown(format!(
            "the status list {url} could not be obtained: {why}"
        ));
    }
    let (Some(value), Some(bits)) = (list.value(), list.bitstring()) else {
        return unknown(format!("the status list {url} is not usable"));
    };
    if let Some(id) = value.get("id").and_then(Value::as_str) {
        if id != url {
            return unknown(format!(
                "the list obtained for {url} says it is {id}, another list"
            ));
        }
    }
    // The list must be genuine: its proofs verify with the same keys, contexts and time
    // (and pinned keys) as the credential's. Its own status is not consulted.
    let list_options = VerifyOptions {
        trust: None,
        status_lists: &[],
        ..options.clone()
    };
    let checked = verify_own(value, &list_options);
    if checked.verdict != Verdict::Valid {
        let problem = checked.first_problem().map_or_else(
            || "it did not verify".to_owned(),
            |c| format!("{}: {}", c.check.label(), c.reason),
        );
        return unknown(format!(
            "the status list {url} cannot be relied on ({problem})"
        ));
    }
    let list_issuer = checked.issuer.as_deref().unwrap_or_default();
    if list_issuer != issuer_id {
        return unknown(format!(
            "the status list {url} is issued by {list_issuer}, not by the credential's issuer {issuer_id}"
        ));
    }
    if !list.purposes().iter().any(|p| p == purpose) {
        return unknown(format!(
            "the status list {url} is for {}, not {purpose}",
            list.purposes().join(", ")
        ));
    }
    if bits.len() < status::MIN_STATUS_LIST_ENTRIES {
        return unknown(format!(
            "the status list {url} has {} entries, fewer than the {} the spec requires for group privacy",
            bits.len(),
            status::MIN_STATUS_LIST_ENTRIES
        ));
    }
    let Some(set) = bits.get(entry.index) else {
        return unknown(format!(
            "index {} is outside the status list {url} ({} entries)",
            entry.index,
            bits.len()
        ));
    };
    let captured = list.captured().map_or_else(
        || "capture time unknown".to_owned(),
        |t| format!("captured {}", time_fmt::format(t)),
    );
    let as_of = format!(
        "according to status list {url} published {}, {captured}",
        list.valid_from().unwrap_or("(no validFrom)")
    );
    match (purpose, set) {
        ("revocation", false) => (Outcome::Pass, format!("not revoked ({as_of})")),
        ("revocation", true) => (
            Outcome::Fail,
            format!("REVOKED: the issuer has revoked this credential ({as_of})"),
        ),
        ("suspension", false) => (Outcome::Pass, format!("not suspended ({as_of})")),
        ("suspension", true) => (
            Outcome::Fail,
            format!(
                "SUSPENDED: the issuer has suspended this credential; it must not be accepted while suspended ({as_of})"
            ),
        ),
        ("refresh", false) => (Outcome::Pass, format!("no refresh pending ({as_of})")),
        ("refresh", true) => (
            Outcome::Pass,
            format!("an updated version of this credential is available from the issuer; this one stays valid ({as_of})"),
        ),
        (other, set) => (
            Outcome::NotChecked,
            format!(
                "status purpose \"{other}\" is {} ({as_of}); this verifier does not interpret that purpose",
                if set { "set" } else { "not set" }
            ),
        ),
    }
}

/// Records every check after `failed` as not checked, so a report always lists all checks.
/// After a failed proof check, validity and status are still checked (they do not need the
/// proof), so they are not recorded as skipped here.
fn skip_rest(report: &mut Report, failed: CheckKind) {
    const ORDER: [CheckKind; 7] = [
        CheckKind::WellFormed,
        CheckKind::Proof,
        CheckKind::Signature,
        CheckKind::IssuerKey,
        CheckKind::Validity,
        CheckKind::Trust,
        CheckKind::Status,
    ];
    let after = ORDER
        .iter()
        .skip_while(|k| **k != failed)
        .skip(1)
        .filter(|k| {
            failed != CheckKind::Proof || !matches!(k, CheckKind::Validity | CheckKind::Status)
        });
    for kind in after {
        report.push(
            *kind,
            Outcome::NotChecked,
            format!("skipped: the {} check did not pass", failed.label()),
        );
    }
}

/// What checking a verifiable presentation's own proofs found (the holder's signatures over
/// the presentation; the credentials inside are verified on their own with [`verify_value`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresentationProofs {
    /// One outcome per proof, with the reason (`Pass` only when the signature verified
    /// strictly, the purpose is `authentication`, the key's controller is the holder when the
    /// presentation names one, and `challenge`/`domain` match those expected).
    pub checks: Vec<(Outcome, String)>,
}

impl PresentationProofs {
    /// `Valid` when every proof passed, `Invalid` when any failed, else `Indeterminate`.
    pub fn verdict(&self) -> Verdict {
        if self.checks.iter().any(|(o, _)| *o == Outcome::Fail) {
            Verdict::Invalid
        } else if self.checks.iter().all(|(o, _)| *o == Outcome::Pass) {
            Verdict::Valid
        } else {
            Verdict::Indeterminate
        }
    }
}

/// Checks the proofs of presentation `vp` (its `proof` member: one or a set); a presentation
/// without a proof yields no checks. `challenge` and `domain` are the values the verifier
/// asked the holder to sign (a proof must carry exactly them when given).
pub fn verify_presentation_proofs(
    vp: &Map<String, Value>,
    options: &VerifyOptions<'_>,
    challenge: Option<&str>,
    domain: Option<&str>,
) -> PresentationProofs {
    let proofs: Vec<&Value> = match vp.get("proof") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let holder = match vp.get("holder") {
        Some(Value::String(h)) => Some(h.as_str()),
        Some(Value::Object(h)) => h.get("id").and_then(Value::as_str),
        _ => None,
    };
    let mut checks = Vec::with_capacity(proofs.len());
    for proof in &proofs {
        let expected = |name: &str, want: Option<&str>| -> Option<String> {
            let want = want?;
            let got = proof.get(name).and_then(Value::as_str);
            (got != Some(want)).then(|| match got {
                Some(got) => format!("the proof's `{name}` is \"{got}\", but \"{want}\" was expected: it was not made for this request"),
                None => format!("the proof has no `{name}`, but \"{want}\" was expected: it was not made for this request"),
            })
        };
        if let Some(why) = expected("challenge", challenge).or_else(|| expected("domain", domain)) {
            checks.push((Outcome::Fail, why));
            continue;
        }
        let check = match check_proof(vp, proof, &proofs, options.keys, options.contexts) {
            ProofFinding::Unsupported(why) => (Outcome::Unknown, why),
            ProofFinding::Malformed(why) => (Outcome::Fail, why),
            ProofFinding::Unresolved { error, .. } => (Outcome::Unknown, error.to_string()),
            ProofFinding::Checked { valid: false, .. } => (
                Outcome::Fail,
                "the signature does not match: the presentation was changed after it was signed".into(),
            ),
            ProofFinding::Checked { purpose, .. } if purpose != "authentication" => (
                Outcome::Fail,
                format!("proofPurpose is \"{purpose}\"; a presentation is signed for \"authentication\""),
            ),
            ProofFinding::Checked { method, .. } => match holder {
                Some(h) if method.controller != h => (
                    Outcome::Fail,
                    format!("the signing key belongs to {}, but the holder is {h}", method.controller),
                ),
                _ => (
                    Outcome::Pass,
                    format!("signed by {} (Ed25519, strict)", method.id),
                ),
            },
        };
        checks.push(check);
    }
    PresentationProofs { checks }
}
