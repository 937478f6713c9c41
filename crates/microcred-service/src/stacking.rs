//! Automatic stacked issuance: when a learner's credentials satisfy a pathway (an achievement
//! with a `stackingRequirement`, see `pathway.rs`), the service issues the stacked credential
//! — durably, exactly once, also when the last component arrives in a batch or through
//! another instance.
//!
//! - **Queue, in the component's transaction.** A credential for an achievement some pathway
//!   of the service counts is stored with its learner key and, in the same transaction, a
//!   stack check for that learner (the recipient sealed under the master key, see
//!   `learner.rs`). So an acknowledged component always has its check queued, across crashes.
//! - **Worker.** Each instance runs one worker thread that takes queued checks, evaluates
//!   every pathway naming an achievement the learner holds with the core's `check_rule` (the
//!   learner's credentials, not revoked or suspended, each verified with its institution's DID
//!   document; the pathway's institution trusts the institutions of the service whose
//!   achievements its rule names), and issues what is satisfied through the normal issuance
//!   path: the stacked credential lists the counted components as `evidence` and pins their
//!   bytes in `relatedResource` (`digestSRI`, SHA-384). Then the check is removed (only if not
//!   queued again meanwhile).
//! - **Exactly once.** The stacked credential is stored under the idempotency key
//!   `microcred-stack:{pathway}:{learner}` of the pathway's institution: two instances (or a
//!   worker restarted after a crash) that both find the pathway satisfied store one credential.
//!   A learner who already holds a credential of the pathway's achievement (issued by hand) is
//!   not issued another.

use std::collections::HashSet;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use microcred_core::{
    check_rule, Component, IssueCheck, IssueRow, KeyRing, StackTarget, StackingRequirement,
    TrustList, TrustedIssuer, Verdict, VerifyOptions,
};
use serde_json::{json, Map, Value};
use sha2::Digest;

use crate::cache::TEMPLATE_CACHE_TTL;
use crate::error::DomainError;
use crate::state::Inner;
use crate::store::{InsertOutcome, NewCredential, StackCheck, StatusPurpose, Store};

/// How often the worker looks for queued checks.
const POLL: Duration = Duration::from_millis(500);
/// Checks taken per round.
const BATCH: usize = 32;

/// A pathway of the service: an achievement (latest version) whose rule names others.
pub(crate) struct Pathway {
    pub(crate) institution: String,
    pub(crate) slug: String,
    pub(crate) rule: StackingRequirement,
}

/// The service's pathways, read again after [`TEMPLATE_CACHE_TTL`] (or at once after an
/// achievement version is stored through this instance).
#[derive(Default)]
pub(crate) struct Pathways {
    cache: Mutex<Option<(Arc<Vec<Pathway>>, Instant)>>,
}

impl Pathways {
    /// The pathways as of at most [`TEMPLATE_CACHE_TTL`] ago.
    pub(crate) fn current(&self, store: &dyn Store) -> Result<Arc<Vec<Pathway>>, DomainError> {
        if let Some((p, at)) = self.cache.lock().ok().and_then(|c| c.clone()) {
            if at.elapsed() < TEMPLATE_CACHE_TTL {
                return Ok(p);
            }
        }
        let read = Instant::now();
        let mut all = Vec::new();
        for inst in store.institutions()? {
            for a in store.achievements(&inst.slug)? {
                let Some(rule) = a.definition.get("stackingRequirement") else {
                    continue;
                };
                if let Ok(rule) = StackingRequirement::from_value(rule) {
                    all.push(Pathway {
                        institution: inst.slug.clone(),
                        slug: a.slug.clone(),
                        rule,
                    });
                }
            }
        }
        let all = Arc::new(all);
        if let Ok(mut c) = self.cache.lock() {
            *c = Some((all.clone(), read));
        }
        Ok(all)
    }

    /// Forgets the cached pathways (an achievement version was stored).
    pub(crate) fn forget(&self) {
        if let Ok(mut c) = self.cache.lock() {
            *c = None;
        }
    }
}

/// The catalogue URL of an achievement of this service.
fn achievement_url(base_url: &str, inst: &str, slug: &str) -> String {
    format!("{base_url}/institutions/{inst}/achievements/{slug}")
}

/// Whether some pathway of the service counts achievement `slug` (version `version`) of
/// `inst`: then its credentials queue a stack check for their learner.
pub(crate) fn counted(
    inner: &Inner,
    inst: &str,
    slug: &str,
    version: i64,
) -> Result<bool, DomainError> {
    let url = achievement_url(&inner.site.base_url, inst, slug);
    let versioned = format!("{url}/versions/{version}");
    Ok(inner.pathways.current(&*inner.store)?.iter().any(|p| {
        p.rule.required_achievement.iter().any(|r| {
            microcred_core::achievement_matches(r, &url)
                || microcred_core::achievement_matches(r, &versioned)
        })
    }))
}

/// The learner key of `recipient`, and (when `queue`) the sealed recipient to queue a stack
/// check with (the fields of the same names of `NewCredential`).
pub(crate) fn learner_fields(
    master: &crate::crypto::MasterKey,
    recipient: &str,
    queue: bool,
) -> Result<(Option<String>, Option<Vec<u8>>), DomainError> {
    let learner = crate::learner::key(master, recipient)
        .map_err(|e| DomainError::Internal(format!("learner key: {e}")))?;
    let sealed = if queue {
        Some(
            crate::learner::seal(master, recipient)
                .map_err(|e| DomainError::Internal(format!("sealing a recipient: {e}")))?,
        )
    } else {
        None
    };
    Ok((Some(learner), sealed))
}

/// The worker thread of an instance.
pub(crate) struct StackWorker {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl StackWorker {
    /// Starts the worker: it holds the state only while it works (so dropping the last
    /// handle to the state still stops the writers), and stops when told or when the state
    /// is gone.
    pub(crate) fn start(
        state: Weak<Inner>,
        runtime: tokio::runtime::Handle,
    ) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("microcred-stacking".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(POLL) {
                    let Some(inner) = state.upgrade() else { break };
                    if let Err(e) = run_once(&inner, &runtime) {
                        tracing::warn!(error = %e, "stack checks failed; retried in a moment");
                    }
                }
            })?;
        Ok(Self { stop, thread })
    }

    /// Stops the worker after its current round.
    pub(crate) fn join(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// One round: every queued check taken now.
fn run_once(inner: &Inner, runtime: &tokio::runtime::Handle) -> Result<(), DomainError> {
    let checks = inner.store.stack_checks(BATCH)?;
    for check in checks {
        process(inner, runtime, &check)?;
        inner
            .store
            .finish_stack_check(&check.learner, check.version)?;
    }
    Ok(())
}

/// A learner's credential as the worker sees it.
struct Held {
    /// The issuing institution, or for a recognized credential the one that recorded it.
    institution: String,
    /// The achievement slug (empty for a recognized credential).
    slug: String,
    bytes: Vec<u8>,
    value: Value,
    /// A credential of another institution recorded by `institution` (see `recognition.rs`),
    /// with the DID document it was verified with (when not a `did:key`).
    recognized: Option<Option<Vec<u8>>>,
}

fn process(
    inner: &Inner,
    runtime: &tokio::runtime::Handle,
    check: &StackCheck,
) -> Result<(), DomainError> {
    let recipient = crate::learner::open(inner.keys.master(), &check.recipient)
        .map_err(|e| DomainError::Internal(format!("opening a queued recipient: {e}")))?;
    let mut held = Vec::new();
    for rec in inner.store.learner_credentials(&check.learner)? {
        if rec.revoked_at.is_some() {
            continue;
        }
        let value: Value = match serde_json::from_slice(&rec.credential.body) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if suspended(&*inner.store, &rec.credential.body)? {
            continue;
        }
        held.push(Held {
            institution: rec.credential.institution,
            slug: rec.credential.achievement,
            bytes: rec.credential.body,
            value,
            recognized: None,
        });
    }
    for r in inner.store.learner_recognitions(&check.learner)? {
        let Ok(value) = serde_json::from_slice::<Value>(&r.body) else {
            continue;
        };
        held.push(Held {
            institution: r.institution,
            slug: String::new(),
            bytes: r.body,
            value,
            recognized: Some(r.verification),
        });
    }
    let ids: Vec<&str> = held
        .iter()
        .filter_map(|h| h.value["credentialSubject"]["achievement"]["id"].as_str())
        .collect();
    let pathways = inner.pathways.current(&*inner.store)?;
    for p in pathways.iter() {
        let relevant = p.rule.required_achievement.iter().any(|r| {
            ids.iter()
                .any(|id| microcred_core::achievement_matches(r, id))
        });
        let already = held
            .iter()
            .any(|h| h.institution == p.institution && h.slug == p.slug);
        if relevant && !already {
            issue_if_satisfied(inner, runtime, p, &held, &recipient, &check.learner)?;
        }
    }
    Ok(())
}

/// Whether the credential's suspension bit (if it has one) is set.
fn suspended(store: &dyn Store, body: &[u8]) -> Result<bool, DomainError> {
    for s in crate::status::slots(body) {
        if s.purpose == StatusPurpose::Suspension && store.status_bit(&s.list_id, s.index)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn issue_if_satisfied(
    inner: &Inner,
    runtime: &tokio::runtime::Handle,
    p: &Pathway,
    held: &[Held],
    recipient: &str,
    learner: &str,
) -> Result<(), DomainError> {
    let base = &inner.site.base_url;
    // The components: credentials for achievements the rule names (another institution's
    // only if the pathway's institution recorded it).
    let parts: Vec<&Held> = held
        .iter()
        .filter(|h| h.recognized.is_none() || h.institution == p.institution)
        .filter(|h| {
            h.value["credentialSubject"]["achievement"]["id"]
                .as_str()
                .is_some_and(|id| {
                    p.rule
                        .required_achievement
                        .iter()
                        .any(|r| microcred_core::achievement_matches(r, id))
                })
        })
        .collect();
    // Keys: the DID documents of the institutions that issued them; trust: the institutions
    // of this service whose achievements the rule names.
    let mut keys = KeyRing::new();
    let mut seen = HashSet::new();
    for h in &parts {
        if let Some(doc) = h.recognized.as_ref() {
            if let Some(doc) = doc
                .as_deref()
                .and_then(|d| serde_json::from_slice::<Value>(d).ok())
            {
                // A document that no longer reads is left out: its credential then does
                // not verify, and does not count.
                let _ = keys.add_controller_document(&doc);
            }
            continue;
        }
        if seen.insert(h.institution.clone()) {
            let inst = inner.institution(&h.institution)?;
            let doc = crate::issuer::did_document(&inst, &inner.store.keys(&h.institution)?);
            keys.add_controller_document(&doc).map_err(|e| {
                DomainError::Internal(format!("DID document of {}: {e}", inst.slug))
            })?;
        }
    }
    let mut trusted = Vec::new();
    let prefix = format!("{base}/institutions/");
    let mut named = HashSet::new();
    for r in &p.rule.required_achievement {
        if let Some(inst) = r
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('/').next())
        {
            named.insert(inst.to_owned());
        }
    }
    for slug in &named {
        if let Some(inst) = inner.store.institution(slug)? {
            trusted.push(TrustedIssuer {
                name: slug.clone(),
                id: inst.did.clone(),
                keys: Vec::new(),
            });
        }
    }
    trusted.extend(crate::recognition::trust_list(
        &crate::recognition::recognized(&*inner.store, &p.institution)?,
    ));
    let trust = TrustList::new(trusted);
    let now = crate::app::now();
    let options = VerifyOptions::new(now, &keys).trust_list(&trust);
    let reports: Vec<_> = parts
        .iter()
        .map(|h| microcred_core::verify(&h.bytes, &options))
        .collect();
    let components: Vec<Component<'_>> = parts
        .iter()
        .zip(&reports)
        .map(|(h, r)| Component {
            credential: &h.value,
            bytes: Some(&h.bytes),
            report: r,
        })
        .collect();
    let institution = inner.institution(&p.institution)?;
    let mut subject = Map::new();
    // An e-mail learner is compared through the address: each component has its own salt.
    let known = crate::learner::known_identities(recipient);
    if crate::learner::is_email(recipient) {
        let id = microcred_core::IdentityObject::hashed_email(recipient, "stack-check");
        subject.insert("identifier".into(), json!([id]));
    } else {
        subject.insert("id".into(), json!(recipient));
    }
    let report = check_rule(
        p.rule.clone(),
        &StackTarget {
            issuer: &institution.did,
            awarded: now,
            subject: &subject,
        },
        &components,
        &known,
    );
    if report.verdict != Verdict::Valid {
        return Ok(());
    }
    // The counted components, as evidence and pinned by digest.
    let counted: Vec<&Held> = parts
        .iter()
        .zip(&report.components)
        .filter(|(_, o)| o.counted)
        .map(|(h, _)| *h)
        .collect();
    let t = inner.template(&p.institution, &p.slug, None)?;
    let mut row = IssueRow::for_recipient(recipient);
    if let Some(rd) = t
        .achievement()
        .result_description
        .iter()
        .find(|d| d.result_type == "Status")
    {
        row.results.insert(rd.id.clone(), json!("Completed"));
    }
    for h in &counted {
        let (Some(id), name) = (h.value["id"].as_str(), h.value["name"].as_str()) else {
            continue;
        };
        let mut e = json!({"id": id, "genre": "Verifiable credential",
            "description": "Component credential counted towards this one."});
        if let Some(n) = name {
            e["name"] = json!(n);
        }
        row.evidence.push(e);
        let sri = format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&h.bytes))
        );
        row.related_resource
            .push(json!({"id": id, "digestSRI": sri, "mediaType": "application/vc"}));
    }
    let issued = t.issue(&row, crate::issuer::default_suite(), now, IssueCheck::Full)?;
    let key = format!("microcred-stack:{}:{learner}", p.slug);
    let credential = NewCredential {
        id: issued.id,
        institution: t.institution.clone(),
        achievement: t.slug.clone(),
        achievement_version: t.version,
        idempotency_key: Some(key.clone()),
        request_hash: crate::crypto::sha256(key.as_bytes()),
        issued_at: microcred_core::format_datetime(now),
        method_id: t.key.key.id().to_owned(),
        body: issued.body,
        packed: Some(issued.packed),
        learner: Some(learner.to_owned()),
        stack_check: None,
    };
    let id = credential.id.clone();
    let outcome = runtime.block_on(inner.commits.commit(vec![credential]))?;
    if matches!(outcome.first(), Some(InsertOutcome::Inserted)) {
        tracing::info!(institution = %p.institution, achievement = %p.slug, credential = %id, "stacked credential issued");
    }
    Ok(())
}
