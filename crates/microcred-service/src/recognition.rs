//! Recognition of prior learning: an institution records, for a learner, credentials other
//! institutions issued, submitted as a verifiable presentation (by the learner, through a
//! registrar), so they count towards its pathways — credit transfer with verifiable evidence.
//!
//! A credential is recorded only if it verifies with the submitted DID documents (`did:key`
//! offline) at the time of submission; its status, when it has `credentialStatus`, is *not
//! revoked or suspended* by a submitted status list (an unknown status is refused: give the
//! list); its issuer is one the institution recognizes (`recognizedIssuers` in its settings);
//! it is the learner's (the same DID, or an identifier hashing to the given e-mail address);
//! and it names an achievement. A signed presentation must verify, and a learner given by DID
//! must be its holder. Each credential is accepted or refused with its reason; recording
//! queues a stack check for the learner in the same transaction (see `stacking.rs`).

use microcred_core::{
    KeyRing, KnownIdentity, Outcome, StatusListCredential, TrustList, TrustedIssuer, Verdict,
    VerifyOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::DomainError;
use crate::state::Inner;
use crate::store::{RecognizedCredential, Store};

/// The most issuers an institution may recognize, and credentials one submission may hold.
pub(crate) const MAX_RECOGNIZED_ISSUERS: usize = 200;
/// The most credentials per submission.
pub(crate) const MAX_SUBMITTED: usize = 50;

/// An issuer an institution recognizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecognizedIssuer {
    /// The issuer's id as credentials name it (a DID or URL).
    pub(crate) id: String,
    /// Its name, for people.
    pub(crate) name: String,
}

/// Reads and checks a `recognizedIssuers` setting.
pub(crate) fn parse_issuers(value: &Value) -> Result<Vec<RecognizedIssuer>, DomainError> {
    let list: Vec<RecognizedIssuer> =
        serde_json::from_value(value.clone()).map_err(|e| DomainError::Invalid {
            message: format!(
                "recognizedIssuers must be a list of {{\"id\": DID or URL, \"name\": text}}: {e}"
            ),
            details: None,
        })?;
    if list.len() > MAX_RECOGNIZED_ISSUERS {
        return Err(invalid(format!(
            "at most {MAX_RECOGNIZED_ISSUERS} recognized issuers"
        )));
    }
    for i in &list {
        let iri = i.id.split_once(':').is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && !rest.is_empty()
                && scheme.chars().all(|c| c.is_ascii_alphanumeric())
        }) && i.id.chars().count() <= 2048
            && !i.id.chars().any(char::is_whitespace);
        if !iri {
            return Err(invalid(format!(
                "recognized issuer id \"{}\" is not a DID or URL",
                i.id.chars().take(64).collect::<String>()
            )));
        }
        if i.name.trim().is_empty() || i.name.chars().count() > 200 {
            return Err(invalid(
                "a recognized issuer's name must be 1 to 200 characters",
            ));
        }
    }
    Ok(list)
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        message: message.into(),
        details: None,
    }
}

/// The issuers `institution` recognizes.
pub(crate) fn recognized(
    store: &dyn Store,
    institution: &str,
) -> Result<Vec<RecognizedIssuer>, DomainError> {
    match store.recognized_issuers(institution)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DomainError::Internal(format!("stored recognized issuers: {e}"))),
    }
}

/// The trust list of an institution's recognized issuers.
pub(crate) fn trust_list(issuers: &[RecognizedIssuer]) -> Vec<TrustedIssuer> {
    issuers
        .iter()
        .map(|i| TrustedIssuer {
            name: i.name.clone(),
            id: i.id.clone(),
            keys: Vec::new(),
        })
        .collect()
}

/// A submission: the learner and what they brought.
pub(crate) struct Submission<'a> {
    pub(crate) institution: &'a str,
    pub(crate) recipient: &'a str,
    pub(crate) presentation: &'a Value,
    pub(crate) did_documents: &'a [Value],
    pub(crate) status_lists: &'a [Value],
    pub(crate) actor: &'a str,
    pub(crate) at: OffsetDateTime,
}

/// What became of one submitted credential.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Examined {
    /// Its position in the presentation (1-based).
    pub(crate) index: usize,
    /// Its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    /// Its issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issuer: Option<String>,
    /// Its achievement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) achievement: Option<String>,
    /// Recorded (now or before).
    pub(crate) recorded: bool,
    /// Why not, or "recorded" / "already recorded".
    pub(crate) reason: String,
}

/// Examines a submission and records what passes.
pub(crate) fn submit(inner: &Inner, s: &Submission<'_>) -> Result<Vec<Examined>, DomainError> {
    inner.institution(s.institution)?;
    let credentials: Vec<&Value> = match s.presentation.get("verifiableCredential") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(invalid("the presentation holds no verifiableCredential")),
    };
    if credentials.is_empty() || credentials.len() > MAX_SUBMITTED {
        return Err(invalid(format!(
            "a presentation must hold 1 to {MAX_SUBMITTED} credentials"
        )));
    }
    if let Some(i) = credentials.iter().position(|c| !c.is_object()) {
        return Err(invalid(format!(
            "verifiableCredential[{i}] is not a credential (a JSON object)"
        )));
    }
    let mut keys = KeyRing::new();
    for (i, doc) in s.did_documents.iter().enumerate() {
        keys.add_controller_document(doc).map_err(|e| {
            invalid(format!(
                "didDocuments[{i}] is not a usable DID document: {e}"
            ))
        })?;
    }
    let mut lists = Vec::new();
    for (i, list) in s.status_lists.iter().enumerate() {
        let l = StatusListCredential::from_value(list.clone()).map_err(|e| {
            invalid(format!(
                "statusLists[{i}] is not a status list credential: {e}"
            ))
        })?;
        let url = list
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        lists.push(l.fetched_from(&url).captured_at(s.at));
    }
    let recognized = recognized(&*inner.store, s.institution)?;
    let trust = TrustList::new(trust_list(&recognized));
    let options = VerifyOptions::new(s.at, &keys)
        .status_lists(&lists)
        .trust_list(&trust);
    // A signed presentation must verify; a learner given by DID must hold it.
    if s.presentation.get("proof").is_some() {
        let vp = s
            .presentation
            .as_object()
            .ok_or_else(|| invalid("the presentation must be a JSON object"))?;
        let proofs = microcred_core::verify_presentation_proofs(vp, &options, None, None);
        if proofs.verdict() != Verdict::Valid {
            let why: Vec<&str> = proofs.checks.iter().map(|(_, r)| r.as_str()).collect();
            return Err(invalid(format!(
                "the presentation's proof does not verify: {}",
                why.join("; ")
            )));
        }
        let is_did = !crate::learner::is_email(s.recipient);
        let holder = s.presentation.get("holder").and_then(|h| match h {
            Value::String(h) => Some(h.as_str()),
            other => other.get("id").and_then(Value::as_str),
        });
        if is_did && holder != Some(s.recipient.trim()) {
            return Err(invalid(
                "the presentation's holder is not the learner the credentials are recorded for",
            ));
        }
    }
    let known: Vec<KnownIdentity> = crate::learner::known_identities(s.recipient);
    let learner = crate::learner::key(inner.keys.master(), s.recipient)
        .map_err(|e| DomainError::Internal(format!("learner key: {e}")))?;
    let mut examined = Vec::new();
    let mut rows = Vec::new();
    for (i, c) in credentials.iter().enumerate() {
        let mut e = Examined {
            index: i + 1,
            id: c.get("id").and_then(Value::as_str).map(str::to_owned),
            issuer: match c.get("issuer") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
                None => None,
            },
            achievement: c["credentialSubject"]["achievement"]["id"]
                .as_str()
                .map(str::to_owned),
            recorded: false,
            reason: String::new(),
        };
        match refusal(c, &options, s.recipient, &known) {
            Some(why) => e.reason = why,
            None => {
                let (Some(id), Some(issuer), Some(achievement)) =
                    (e.id.clone(), e.issuer.clone(), e.achievement.clone())
                else {
                    e.reason = "it needs an id, an issuer and an achievement id".into();
                    examined.push(e);
                    continue;
                };
                let verification = keys_for(&issuer, s.did_documents);
                rows.push((
                    examined.len(),
                    RecognizedCredential {
                        institution: s.institution.to_owned(),
                        learner: learner.clone(),
                        id,
                        issuer,
                        achievement,
                        body: serde_json::to_vec(c)
                            .map_err(|e| DomainError::Internal(e.to_string()))?,
                        verification,
                        recorded_at: microcred_core::format_datetime(s.at),
                        recorded_by: s.actor.to_owned(),
                    },
                ));
            }
        }
        examined.push(e);
    }
    if !rows.is_empty() {
        let sealed = crate::learner::seal(inner.keys.master(), s.recipient)
            .map_err(|e| DomainError::Internal(format!("sealing a recipient: {e}")))?;
        let records: Vec<RecognizedCredential> = rows.iter().map(|(_, r)| r.clone()).collect();
        let fresh = inner
            .store
            .record_recognitions(&records, Some((&learner, &sealed)))?;
        for ((k, _), new) in rows.iter().zip(fresh) {
            if let Some(e) = examined.get_mut(*k) {
                e.recorded = true;
                e.reason = if new { "recorded" } else { "already recorded" }.into();
            }
        }
        tracing::info!(institution = %s.institution, recorded = rows.len(), actor = %s.actor, "recognized credentials recorded");
    }
    Ok(examined)
}

/// Why a submitted credential is not recorded, if it is not.
fn refusal(
    c: &Value,
    options: &VerifyOptions<'_>,
    recipient: &str,
    known: &[KnownIdentity],
) -> Option<String> {
    let report = microcred_core::verify_value(c, options);
    if report.verdict != Verdict::Valid {
        let why = report
            .first_problem()
            .map(|p| format!("{}: {}", p.check.label(), p.reason))
            .unwrap_or_default();
        return Some(format!("it does not verify ({why})"));
    }
    match report.status() {
        Outcome::Fail => return Some("its issuer has revoked or suspended it".into()),
        Outcome::Unknown => {
            return Some(
                "its revocation status is not known: submit its status list (statusLists)".into(),
            )
        }
        _ => {}
    }
    let trusted = report
        .checks
        .iter()
        .any(|k| k.check == microcred_core::CheckKind::Trust && k.outcome == Outcome::Pass);
    if !trusted {
        return Some(format!(
            "its issuer {} is not one this institution recognizes (settings: recognizedIssuers)",
            report.issuer.as_deref().unwrap_or("(unnamed)")
        ));
    }
    let subject = c.get("credentialSubject");
    let same = match subject.and_then(|s| s.get("id")).and_then(Value::as_str) {
        Some(id) => id == recipient.trim(),
        None => {
            let ids: Vec<&Value> = match subject.and_then(|s| s.get("identifier")) {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(o @ Value::Object(_)) => vec![o],
                _ => Vec::new(),
            };
            known.iter().any(|k| {
                ids.iter().any(|i| {
                    i.get("identityType").and_then(Value::as_str) == Some(k.identity_type.as_str())
                        && hashed_matches(i, &k.value)
                })
            })
        }
    };
    if !same {
        return Some("it is not the learner's (another subject)".into());
    }
    None
}

/// Whether an `IdentityObject` names `value` (hashed with its salt, or plain).
fn hashed_matches(identity: &Value, value: &str) -> bool {
    let hash = identity
        .get("identityHash")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if identity.get("hashed").and_then(Value::as_bool) == Some(true) {
        let salt = identity
            .get("salt")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let expected = microcred_core::IdentityObject::hashed_email(value, salt).identity_hash;
        hash.eq_ignore_ascii_case(&expected)
    } else {
        hash == value
    }
}

/// The submitted DID document of `issuer`'s DID, kept to verify the credential again later.
fn keys_for(issuer: &str, docs: &[Value]) -> Option<Vec<u8>> {
    let did = issuer.split('#').next().unwrap_or(issuer);
    docs.iter()
        .find(|d| d.get("id").and_then(Value::as_str) == Some(did))
        .and_then(|d| serde_json::to_vec(d).ok())
}
