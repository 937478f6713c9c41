//! Issuance: one credential, or a batch (JSON rows or CSV); listing. (Revocation and
//! suspension are in `status.rs`.)
//!
//! Both paths sign first (a batch on the signing pool, one thread per core, in chunks taken
//! first in, first out), then store through the group commit queue and answer only after the
//! commit: an acknowledged credential is durable. A batch's answer lists ids and URLs, not
//! the credentials (fetch them at their URLs).
//! `Idempotency-Key` makes retries safe: the key (per institution; for a batch, the key plus
//! `/<row number>`) is stored with the credential under a unique index, so a retry returns
//! the stored credential instead of issuing another, even if the first attempt's response
//! was lost in a crash.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use microcred_core::{Cryptosuite, ProofSetup};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{idempotency_key, json_str, raw_json, slug, IdSegment};
use crate::app::now;
use crate::auth::{Authorized, Issue, Member};
use crate::crypto::sha256;
use crate::error::{body_error, from_json_value, json_body, ApiError, AppJson, AppPath};
use crate::state::AppState;
use microcred_core::CsvError;

use crate::issuer::{parse_suite, IssueCheck, IssueRow, Issued, RowError, Spare, Template};
use crate::routes::public::valid_credential_id;
use crate::store::{CredentialRecord, InsertOutcome, NewCredential, Page};

/// The body of `POST /v1/institutions/{inst}/credentials`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct IssueRequest {
    /// The achievement's slug.
    achievement: String,
    /// A specific version (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    achievement_version: Option<i64>,
    /// The proof's cryptosuite (default: the service's default suite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cryptosuite: Option<String>,
    recipient: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    results: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credits_earned: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activity_start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activity_end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_until: Option<String>,
}

impl IssueRequest {
    fn row(&self) -> IssueRow {
        IssueRow {
            recipient: self.recipient.clone(),
            results: self.results.clone(),
            evidence: self.evidence.clone(),
            credits_earned: self.credits_earned,
            activity_start_date: self.activity_start_date.clone(),
            activity_end_date: self.activity_end_date.clone(),
            valid_from: self.valid_from.clone(),
            valid_until: self.valid_until.clone(),
            related_resource: Vec::new(),
        }
    }
}

/// The response to an issuance: `{"id", "url", "credential"}` with the credential's stored
/// bytes embedded verbatim.
pub(crate) fn issued_response(base: &str, id: &str, body: &[u8], replayed: bool) -> Response {
    let url = format!("{base}/credentials/{id}");
    let mut out = Vec::with_capacity(body.len() + 200);
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(json_str(id).as_bytes());
    out.extend_from_slice(b",\"url\":");
    out.extend_from_slice(json_str(&url).as_bytes());
    out.extend_from_slice(b",\"credential\":");
    out.extend_from_slice(body);
    out.push(b'}');
    let mut r = raw_json(StatusCode::CREATED, out, "application/json");
    if let Ok(v) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    r
}

/// A stored credential found under the request's idempotency key: the same request gets
/// the same answer; a different request with that key is refused.
pub(crate) fn replay(
    base: &str,
    rec: &CredentialRecord,
    request_hash: &[u8; 32],
) -> Result<Response, ApiError> {
    if &rec.credential.request_hash != request_hash {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used for a different request: use a new key for a new credential",
        ));
    }
    Ok(issued_response(
        base,
        &rec.credential.id,
        &rec.credential.body,
        true,
    ))
}

enum Prepared {
    Replay(Box<CredentialRecord>),
    New(Box<NewCredential>),
}

/// `POST /v1/institutions/{inst}/credentials` (scope `issue`): one credential.
pub(crate) async fn single(
    State(state): State<AppState>,
    auth: Authorized<Issue>,
    headers: HeaderMap,
    AppJson(req): AppJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let key = idempotency_key(&headers)?;
    let suite = parse_suite(req.cryptosuite.as_deref()).map_err(ApiError::unprocessable)?;
    let request_hash =
        sha256(&serde_json::to_vec(&req).map_err(|e| ApiError::Internal(e.to_string()))?);
    let base = state.inner().site.base_url.clone();
    // Lint (JSON-LD expansion) and signing: on the bounded CPU pool.
    let prepared = state
        .cpu(move |inner| {
            if let Some(k) = &key {
                if let Some(rec) = inner.store.credential_by_key(&inst, k)? {
                    return Ok(Prepared::Replay(Box::new(rec)));
                }
            }
            let t = inner.template(&inst, &req.achievement, req.achievement_version)?;
            let at = now();
            let issued = t
                .issue(&req.row(), suite, at, IssueCheck::Full)
                .map_err(ApiError::from)?;
            let queue = crate::stacking::counted(inner, &t.institution, &t.slug, t.version)?;
            let learner =
                crate::stacking::learner_fields(inner.keys.master(), &req.recipient, queue)?;
            Ok(Prepared::New(Box::new(new_credential(
                &t,
                issued,
                key,
                request_hash,
                microcred_core::format_datetime(at),
                learner,
            ))))
        })
        .await?;
    match prepared {
        Prepared::Replay(rec) => replay(&base, &rec, &request_hash),
        Prepared::New(c) => {
            let (id, body) = (c.id.clone(), c.body.clone());
            let mut out = state.inner().commits.commit(vec![*c]).await?;
            match out.pop() {
                Some(InsertOutcome::Inserted) => Ok(issued_response(&base, &id, &body, false)),
                Some(InsertOutcome::Existing(rec)) => replay(&base, &rec, &request_hash),
                // Fresh ids have 74 random bits: a collision is a bug, not the caller's doing.
                Some(InsertOutcome::IdTaken) => Err(ApiError::Internal(format!(
                    "the freshly made credential id {id} was already taken"
                ))),
                None => Err(ApiError::Internal("the store returned no outcome".into())),
            }
        }
    }
}

impl IssueRequest {
    /// Reads an issuance request given as JSON (an offer's item), with the same rules as the
    /// body of `POST /v1/institutions/{inst}/credentials`.
    pub(crate) fn from_value(value: Value) -> Result<Self, ApiError> {
        let req: Self = from_json_value(value)?;
        slug(&req.achievement, "achievement")?;
        parse_suite(req.cryptosuite.as_deref()).map_err(ApiError::unprocessable)?;
        Ok(req)
    }

    /// Builds and signs the credential this request makes, then drops it: what an offer
    /// checks when it is made, so that a wallet never meets a request that cannot be issued.
    pub(crate) fn check(&self, inner: &crate::state::Inner, inst: &str) -> Result<(), ApiError> {
        let suite = parse_suite(self.cryptosuite.as_deref()).map_err(ApiError::unprocessable)?;
        let t = inner.template(inst, &self.achievement, self.achievement_version)?;
        t.check(&self.row(), suite, now()).map_err(ApiError::from)
    }

    /// The recipient the institution named (the learner).
    pub(crate) fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The achievement's slug.
    pub(crate) fn achievement(&self) -> &str {
        &self.achievement
    }

    /// The cryptosuite asked for, if any.
    pub(crate) fn cryptosuite(&self) -> Option<&str> {
        self.cryptosuite.as_deref()
    }

    /// The request that issues `rec` again (same achievement version, suite, results,
    /// credits, dates and evidence) for another recipient: what an offer of an issued
    /// credential issues, bound to the wallet's DID.
    pub(crate) fn again(rec: &CredentialRecord) -> Result<Self, ApiError> {
        let body = microcred_core::parse_strict(&rec.credential.body).map_err(|e| {
            ApiError::Internal(format!(
                "stored credential {} is not JSON: {e}",
                rec.credential.id
            ))
        })?;
        let subject = super::subject(&body);
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let mut results = Map::new();
        for r in subject
            .get("result")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(d), Some(v)) = (text(r, "resultDescription"), r.get("value")) {
                results.insert(d, v.clone());
            }
        }
        let suite = match body.get("proof") {
            Some(Value::Array(a)) => a.first().and_then(|p| text(p, "cryptosuite")),
            Some(p) => text(p, "cryptosuite"),
            None => None,
        };
        Ok(Self {
            achievement: rec.credential.achievement.clone(),
            achievement_version: Some(rec.credential.achievement_version),
            cryptosuite: suite,
            recipient: String::new(),
            results,
            evidence: body
                .get("evidence")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            credits_earned: subject.get("creditsEarned").and_then(Value::as_f64),
            activity_start_date: text(subject, "activityStartDate"),
            activity_end_date: text(subject, "activityEndDate"),
            valid_from: text(&body, "validFrom"),
            valid_until: text(&body, "validUntil"),
        })
    }
}

/// Whose credential a wallet receives, for its learner key (see `learner.rs`).
pub(crate) enum LearnerOf {
    /// The recipient the institution named (an e-mail address, say): its learner key, and
    /// the stack check its pathways call for.
    Recipient(String),
    /// The learner key of the credential issued again.
    Key(Option<String>),
}

/// Issues `req` to a wallet: its subject is `holder` (the wallet's DID), its learner the one
/// `learner` names, under idempotency key `key` — a retry (on any instance) finds the
/// credential issued first instead of issuing another. The credential's id and bytes, once
/// durably stored.
pub(crate) async fn issue_to_wallet(
    state: &AppState,
    inst: String,
    mut req: IssueRequest,
    holder: String,
    learner: LearnerOf,
    key: String,
) -> Result<(String, Vec<u8>), ApiError> {
    let suite = parse_suite(req.cryptosuite.as_deref()).map_err(ApiError::unprocessable)?;
    req.recipient = holder;
    let request_hash =
        sha256(&serde_json::to_vec(&req).map_err(|e| ApiError::Internal(e.to_string()))?);
    let prepared = state
        .cpu(move |inner| {
            if let Some(rec) = inner.store.credential_by_key(&inst, &key)? {
                return Ok(Prepared::Replay(Box::new(rec)));
            }
            let t = inner.template(&inst, &req.achievement, req.achievement_version)?;
            let at = now();
            let issued = t
                .issue(&req.row(), suite, at, IssueCheck::Full)
                .map_err(ApiError::from)?;
            let fields = match learner {
                LearnerOf::Recipient(r) => {
                    let queue =
                        crate::stacking::counted(inner, &t.institution, &t.slug, t.version)?;
                    crate::stacking::learner_fields(inner.keys.master(), &r, queue)?
                }
                LearnerOf::Key(k) => (k, None),
            };
            Ok(Prepared::New(Box::new(new_credential(
                &t,
                issued,
                Some(key),
                request_hash,
                microcred_core::format_datetime(at),
                fields,
            ))))
        })
        .await?;
    match prepared {
        Prepared::Replay(rec) => Ok((rec.credential.id, rec.credential.body)),
        Prepared::New(c) => {
            let (id, body) = (c.id.clone(), c.body.clone());
            let mut out = state.inner().commits.commit(vec![*c]).await?;
            match out.pop() {
                Some(InsertOutcome::Inserted) => Ok((id, body)),
                Some(InsertOutcome::Existing(rec)) => Ok((rec.credential.id, rec.credential.body)),
                Some(InsertOutcome::IdTaken) => Err(ApiError::Internal(format!(
                    "the freshly made credential id {id} was already taken"
                ))),
                None => Err(ApiError::Internal("the store returned no outcome".into())),
            }
        }
    }
}

fn new_credential(
    t: &Template,
    issued: Issued,
    idempotency_key: Option<String>,
    request_hash: [u8; 32],
    issued_at: String,
    (learner, stack_check): (Option<String>, Option<Vec<u8>>),
) -> NewCredential {
    NewCredential {
        id: issued.id,
        institution: t.institution.clone(),
        achievement: t.slug.clone(),
        achievement_version: t.version,
        idempotency_key,
        request_hash,
        issued_at,
        method_id: t.key.key.id().to_owned(),
        body: issued.body,
        packed: Some(issued.packed),
        learner,
        stack_check,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BatchQuery {
    #[serde(default)]
    achievement: Option<String>,
    #[serde(default)]
    achievement_version: Option<i64>,
    #[serde(default)]
    cryptosuite: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchBody {
    achievement: String,
    #[serde(default)]
    achievement_version: Option<i64>,
    #[serde(default)]
    cryptosuite: Option<String>,
    /// Kept as JSON: each row is read on its own, so a bad row fails alone.
    rows: Vec<Value>,
}

/// One row's outcome in a batch response.
#[derive(Debug, Serialize)]
struct RowResult {
    row: usize,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl RowResult {
    fn failed(row: usize, status: u16, error: String) -> Self {
        Self {
            row,
            status,
            id: None,
            url: None,
            error: Some(error),
        }
    }
}

/// `POST /v1/institutions/{inst}/credentials/batch` (scope `issue`): many credentials.
///
/// JSON: `{"achievement", "achievementVersion"?, "cryptosuite"?, "rows": [row, ...]}`.
/// CSV (`Content-Type: text/csv`, achievement in the query): a header row with `recipient`
/// and optional `result:NAME`, `evidence` (URLs separated by spaces), `credits_earned`,
/// `activity_start`, `activity_end`, `valid_from`, `valid_until`.
/// Answers 200 with one result per row (201 issued, 200 already issued under the
/// idempotency key, 422 bad row); the batch is stored in one transaction.
pub(crate) async fn batch(
    State(state): State<AppState>,
    auth: Authorized<Issue>,
    Query(query): Query<BatchQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let inst = auth.into_institution();
    let body = body.map_err(|e| body_error(e.status(), e.body_text()))?;
    let key = idempotency_key(&headers)?;
    let key_for_rows = key.clone();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let limit = state.inner().site.limits.batch_rows;
    let base = state.inner().site.base_url.clone();
    let inst2 = inst.clone();
    // Parsing the body strictly (up to 10,000 rows) and the look-ups: on the bounded CPU
    // pool (the rows are then signed on the signing pool).
    let (t, rows, suite, done) = state
        .cpu(move |inner| {
            let (achievement, version, suite_name, rows) = parse_batch(&ct, &body, query, limit)?;
            if rows.is_empty() {
                return Err(ApiError::unprocessable("the batch has no rows"));
            }
            slug(&achievement, "achievement")?;
            let suite = parse_suite(suite_name.as_deref()).map_err(ApiError::unprocessable)?;
            let t = inner.template(&inst2, &achievement, version)?;
            let done: HashMap<String, (String, [u8; 32])> = match &key {
                Some(k) => inner
                    .store
                    .keyed_with_prefix(&inst2, &format!("{k}/"))?
                    .into_iter()
                    .map(|(key, id, hash)| (key, (id, hash)))
                    .collect(),
                None => HashMap::new(),
            };
            Ok((t, rows, suite, done))
        })
        .await?;
    let (mut results, pending) =
        sign_rows(state.clone(), t, rows, key_for_rows, done, suite, base).await?;
    if !pending.is_empty() {
        // The bodies move to the writer; keep what the answer needs.
        let keep: Vec<(usize, String, [u8; 32])> = pending
            .iter()
            .map(|(i, c)| (*i, c.id.clone(), c.request_hash))
            .collect();
        let rows: Vec<NewCredential> = pending.into_iter().map(|(_, c)| c).collect();
        let outcomes = state.inner().commits.commit(rows).await?;
        let base = &state.inner().site.base_url;
        for ((index, id, request_hash), outcome) in keep.into_iter().zip(outcomes) {
            let Some(slot) = results.get_mut(index) else {
                continue;
            };
            *slot = match outcome {
                InsertOutcome::Inserted => RowResult {
                    row: index + 1,
                    status: 201,
                    url: Some(format!("{base}/credentials/{id}")),
                    id: Some(id),
                    error: None,
                },
                InsertOutcome::Existing(rec) if rec.credential.request_hash == request_hash => {
                    RowResult {
                        row: index + 1,
                        status: 200,
                        url: Some(format!("{base}/credentials/{}", rec.credential.id)),
                        id: Some(rec.credential.id),
                        error: None,
                    }
                }
                InsertOutcome::Existing(_) => RowResult::failed(
                    index + 1,
                    422,
                    "this row's idempotency key was used for a different row".into(),
                ),
                InsertOutcome::IdTaken => {
                    tracing::error!(row = index + 1, id = %id, "a freshly made credential id was already taken");
                    RowResult::failed(index + 1, 500, "internal error".into())
                }
            };
        }
    }
    let count = |s: u16| results.iter().filter(|r| r.status == s).count();
    let (issued, existing) = (count(201), count(200));
    let failed = results.len() - issued - existing;
    tracing::info!(institution = %inst, issued, existing, failed, "batch processed");
    Ok((
        StatusCode::OK,
        AppJson(BatchResponse {
            issued,
            existing,
            failed,
            results: &results,
        }),
    )
        .into_response())
}

/// The answer to a batch.
#[derive(Serialize)]
struct BatchResponse<'a> {
    issued: usize,
    existing: usize,
    failed: usize,
    results: &'a [RowResult],
}

type BatchInput = (
    String,
    Option<i64>,
    Option<String>,
    Vec<Result<IssueRow, String>>,
);

/// Reads a batch body: achievement, version, suite and rows (a row that does not parse fails
/// alone).
fn parse_batch(
    ct: &str,
    body: &[u8],
    query: BatchQuery,
    limit: usize,
) -> Result<BatchInput, ApiError> {
    if ct.starts_with("application/json") {
        // Strict, as every JSON body: a repeated member name anywhere refuses the batch.
        let b: BatchBody = from_json_value(json_body(body)?)?;
        if b.rows.len() > limit {
            return Err(too_many(b.rows.len(), limit));
        }
        let rows: Vec<Result<IssueRow, String>> = b
            .rows
            .into_iter()
            .map(|v| {
                serde_path_to_error::deserialize::<_, IssueRow>(v).map_err(|e| {
                    let path = e.path().to_string();
                    let inner = e.into_inner();
                    if path == "." {
                        format!("row does not have the expected shape: {inner}")
                    } else {
                        format!("row does not have the expected shape at `{path}`: {inner}")
                    }
                })
            })
            .collect();
        Ok((
            b.achievement,
            b.achievement_version.or(query.achievement_version),
            b.cryptosuite.or(query.cryptosuite),
            rows,
        ))
    } else if ct.starts_with("text/csv") {
        let achievement = query.achievement.ok_or_else(|| {
            ApiError::unprocessable("give the achievement in the query: ?achievement=SLUG")
        })?;
        let rows = parse_csv(body, limit)?;
        Ok((
            achievement,
            query.achievement_version,
            query.cryptosuite,
            rows,
        ))
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the batch as `application/json` ({\"achievement\", \"rows\": [...]}) or `text/csv`".into(),
        ))
    }
}

fn too_many(n: usize, limit: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "the batch has {n} rows; at most {limit} are accepted per request: split it"
    ))
}

/// Rows signed per job on the signing pool.
const SIGN_CHUNK: usize = 32;

/// The pool that signs batches: one thread per core, jobs taken in submission order.
///
/// A batch is cut into jobs of [`SIGN_CHUNK`] rows queued first in, first out, so concurrent
/// batches are signed one after the other on every core rather than side by side: the first
/// finishes early and is committed while the next one signs, instead of both finishing
/// together and leaving the cores idle during their common commit.
fn sign_pool() -> Result<&'static rayon::ThreadPool, ApiError> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .thread_name(|i| format!("microcred-sign-{i}"))
            .panic_handler(|_| tracing::error!("a batch signing job panicked"))
            .build()
            .map_err(|e| tracing::error!(error = %e, "cannot start the signing pool"))
            .ok()
    })
    .as_ref()
    .ok_or_else(|| ApiError::Internal("the signing pool could not be started".into()))
}

/// What every signing job of one batch shares.
struct BatchJob {
    t: Arc<Template>,
    key: Option<String>,
    done: HashMap<String, (String, [u8; 32])>,
    /// The proof options every row is signed with (canonicalized once).
    setup: ProofSetup,
    base: Arc<str>,
    at: time::OffsetDateTime,
    issued_at: String,
    prefix: String,
    /// The row whose credential is linted whole.
    first: Option<usize>,
    /// The request is gone (client left, or timed out): jobs not started yet do nothing.
    cancelled: AtomicBool,
    /// For learner keys (the master key) and stack checks.
    state: AppState,
    /// Whether a pathway counts the template's achievement (see `stacking.rs`).
    queue_stack_checks: bool,
}

/// Marks the batch cancelled when the request's future is dropped before its jobs ran.
struct CancelOnDrop(Arc<BatchJob>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancelled.store(true, Ordering::Relaxed);
    }
}

type RowOutcome = Result<NewCredential, RowResult>;

/// Signs every row not already stored, on the signing pool. Returns one result slot per row
/// and the credentials to store (with their row index).
async fn sign_rows(
    state: AppState,
    t: Arc<Template>,
    rows: Vec<Result<IssueRow, String>>,
    key: Option<String>,
    done: HashMap<String, (String, [u8; 32])>,
    suite: Cryptosuite,
    base: Arc<str>,
) -> Result<(Vec<RowResult>, Vec<(usize, NewCredential)>), ApiError> {
    let pool = sign_pool()?;
    let at = now();
    let n = rows.len();
    let setup = t.proof_setup(suite, at).map_err(ApiError::from)?;
    let queue_stack_checks = {
        let (inner, t) = (state.clone(), t.clone());
        state
            .blocking(move |_| {
                Ok(crate::stacking::counted(
                    inner.inner(),
                    &t.institution,
                    &t.slug,
                    t.version,
                )?)
            })
            .await?
    };
    let job = Arc::new(BatchJob {
        state,
        queue_stack_checks,
        setup,
        prefix: format!("{}:{}:{}:", t.slug, t.version, suite.name()),
        issued_at: microcred_core::format_datetime(at),
        // The template was linted when it was made; the first row's credential is linted
        // whole as a check that rows are built right.
        first: rows.iter().position(Result::is_ok),
        t,
        key,
        done,
        base,
        at,
        cancelled: AtomicBool::new(false),
    });
    let _cancel = CancelOnDrop(job.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Vec<RowOutcome>)>();
    let mut chunks = 0;
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<Result<IssueRow, String>> = rows.by_ref().take(SIGN_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let start = chunks * SIGN_CHUNK;
        chunks += 1;
        let (job, tx) = (job.clone(), tx.clone());
        pool.spawn_fifo(move || {
            if job.cancelled.load(Ordering::Relaxed) {
                return;
            }
            // The rows of a chunk pass the template's shared values from one to the next.
            let mut spare = Spare::default();
            let out = chunk
                .into_iter()
                .enumerate()
                .map(|(j, row)| sign_row(&job, start + j, row, &mut spare))
                .collect();
            let _ = tx.send((start, out));
        });
    }
    drop(tx);
    let mut slots: Vec<Option<RowOutcome>> = Vec::with_capacity(n);
    slots.resize_with(n, || None);
    let mut received = 0;
    while let Some((start, out)) = rx.recv().await {
        received += 1;
        for (slot, o) in slots.iter_mut().skip(start).zip(out) {
            *slot = Some(o);
        }
    }
    if received != chunks {
        return Err(ApiError::Internal(
            "a batch signing job failed (see the log)".into(),
        ));
    }
    let mut results = Vec::with_capacity(n);
    let mut pending = Vec::with_capacity(n);
    for (i, o) in slots.into_iter().enumerate() {
        match o {
            Some(Ok(c)) => {
                results.push(RowResult::failed(i + 1, 500, "not stored".into()));
                pending.push((i, c));
            }
            Some(Err(r)) => results.push(r),
            None => results.push(RowResult::failed(i + 1, 500, "not processed".into())),
        }
    }
    Ok((results, pending))
}

/// Signs row `i` of a batch (or finds it already stored under its idempotency key).
fn sign_row(
    job: &BatchJob,
    i: usize,
    row: Result<IssueRow, String>,
    spare: &mut Spare,
) -> RowOutcome {
    let row = row.map_err(|e| RowResult::failed(i + 1, 422, e))?;
    let mut material = job.prefix.clone().into_bytes();
    material.extend(serde_json::to_vec(&row).unwrap_or_default());
    let hash = sha256(&material);
    let row_key = job.key.as_ref().map(|k| format!("{k}/{}", i + 1));
    if let Some((id, stored_hash)) = row_key.as_ref().and_then(|k| job.done.get(k)) {
        return Err(if *stored_hash == hash {
            RowResult {
                row: i + 1,
                status: 200,
                id: Some(id.clone()),
                url: Some(format!("{}/credentials/{id}", job.base)),
                error: None,
            }
        } else {
            RowResult::failed(
                i + 1,
                422,
                "this row's idempotency key was used for a different row".into(),
            )
        });
    }
    thread_local! {
        // Each signing thread resolves contexts with its own loader (see `issue_with`).
        static CONTEXTS: microcred_core::ContextLoader = microcred_core::ContextLoader::bundled();
    }
    let issued = CONTEXTS
        .with(|contexts| {
            job.t.issue_with(
                &row,
                job.at,
                if Some(i) == job.first {
                    IssueCheck::Full
                } else {
                    IssueCheck::Row
                },
                contexts,
                spare,
                &job.setup,
            )
        })
        .map_err(|e| {
            if matches!(e, RowError::Internal(_)) {
                tracing::error!(error = %e.message(), row = i + 1, "signing a batch row failed");
                RowResult::failed(i + 1, 500, "internal error".into())
            } else if matches!(e, RowError::Signer(_)) {
                tracing::error!(error = %e.message(), row = i + 1, "the signing key's token failed");
                RowResult::failed(i + 1, 503, e.message())
            } else {
                RowResult::failed(i + 1, 422, e.message())
            }
        })?;
    let learner = crate::stacking::learner_fields(
        job.state.inner().keys.master(),
        &row.recipient,
        job.queue_stack_checks,
    )
    .map_err(|e| {
        tracing::error!(error = %e, row = i + 1, "a batch row's learner key failed");
        RowResult::failed(i + 1, 500, "internal error".into())
    })?;
    Ok(new_credential(
        &job.t,
        issued,
        row_key,
        hash,
        job.issued_at.clone(),
        learner,
    ))
}

/// Reads a CSV batch into rows with the core's reader, the CLI's too (a bad cell fails its
/// row only; a bad header fails all).
pub(crate) fn parse_csv(
    body: &[u8],
    limit: usize,
) -> Result<Vec<Result<IssueRow, String>>, ApiError> {
    match microcred_core::parse_csv(body, limit) {
        Ok(rows) => Ok(rows.into_iter().map(|(_, row)| row).collect()),
        Err(CsvError::TooManyRows { .. }) => Err(too_many(limit + 1, limit)),
        Err(e @ CsvError::Header(_)) => Err(ApiError::BadRequest(e.to_string())),
        Err(e) => Err(ApiError::unprocessable(e.to_string())),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    pub(crate) offset: Option<u64>,
    #[serde(default)]
    pub(crate) limit: Option<u64>,
}

fn credential_meta(base: &str, rec: &CredentialRecord) -> Value {
    let c = &rec.credential;
    json!({
        "id": c.id,
        "url": format!("{base}/credentials/{}", c.id),
        "achievement": c.achievement,
        "achievementVersion": c.achievement_version,
        "issuedAt": c.issued_at,
        "verificationMethod": c.method_id,
        "idempotencyKey": c.idempotency_key,
        "revoked": rec.revoked_at.is_some(),
        "revokedAt": rec.revoked_at,
        "revocationReason": rec.revocation_reason,
    })
}

/// `GET /v1/institutions/{inst}/credentials` (any token of the institution): newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Authorized<Member>,
    Query(q): Query<ListQuery>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    let page = Page {
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(100).min(1000),
    };
    let (total, list) = state
        .blocking(move |inner| {
            Ok((
                inner.store.credential_count(&inst)?,
                inner.store.credentials(&inst, page)?,
            ))
        })
        .await?;
    let base = &state.inner().site.base_url;
    Ok(AppJson(json!({
        "total": total,
        "offset": page.offset,
        "credentials": list.iter().map(|r| credential_meta(base, r)).collect::<Vec<_>>(),
    })))
}

/// `GET /v1/institutions/{inst}/credentials/{id}` (any token of the institution).
pub(crate) async fn get_one(
    State(state): State<AppState>,
    auth: Authorized<Member>,
    AppPath(IdSegment { id }): AppPath<IdSegment>,
) -> Result<AppJson<Value>, ApiError> {
    let inst = auth.into_institution();
    if !valid_credential_id(&id) {
        return Err(ApiError::NotFound("no such credential".into()));
    }
    let rec = state
        .blocking(move |inner| {
            Ok(inner
                .store
                .credential(&id)?
                .filter(|r| r.credential.institution == inst))
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("no such credential".into()))?;
    let mut meta = credential_meta(&state.inner().site.base_url, &rec);
    let credential: Value = serde_json::from_slice(&rec.credential.body)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(o) = meta.as_object_mut() {
        o.insert("credential".into(), credential);
    }
    Ok(AppJson(meta))
}
