//! The W3C VC API subset: `POST /credentials/issue`, `/credentials/verify`,
//! `/presentations/verify`.
//!
//! Issue needs an institution token with scope `issue`; the credential's issuer is the
//! token's institution. Every VC 2.0 credential gets the institution's status entries,
//! unless the request brings its own `credentialStatus` (kept as sent: that status is managed
//! elsewhere, and this service's revocation does not apply); a VC 1.1 one (legacy: its
//! context has no term for them) is issued without, so it cannot be revoked. Verify is public and works from the exact bytes received (strict
//! JSON: duplicate member names are refused), resolving keys of institutions hosted here
//! (current and retired) and `did:key`; other DIDs are not fetched.
//! Verify answers 200 when verified, 400 when the credential is invalid, 422 when it could
//! not be checked (e.g. an unknown issuer key), each with a VerificationResult body.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use microcred_core::{KeyRing, Report, StatusListCredential, Verdict, VerifyOptions};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::idempotency_key;
use super::issue::replay;
use crate::app::{now, AppState};
use crate::auth::Principal;
use crate::crypto::sha256;
use crate::error::{body_error, ApiError, AppJson};
use crate::issuer::{did_document, parse_suite};
use crate::store::{InsertOutcome, NewCredential, Scopes};

/// The Data Integrity context (bundled), which defines the proof terms for VC 1.1 documents.
const DATA_INTEGRITY_V2_CONTEXT: &str = "https://w3id.org/security/data-integrity/v2";

/// The first `@context` entry of `credential`, when it is a string.
fn first_context(credential: &Map<String, Value>) -> Option<&str> {
    match credential.get("@context") {
        Some(Value::Array(items)) => items.first().and_then(Value::as_str),
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueRequest {
    credential: Value,
    #[serde(default)]
    options: Map<String, Value>,
}

/// `POST /credentials/issue`: `{credential, options}` → 201 `{verifiableCredential}`.
pub(crate) async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    AppJson(req): AppJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let Principal::Institution { slug: inst, .. } = &principal else {
        return Err(ApiError::Forbidden(
            "issue with an institution token (scope `issue`): the credential's issuer is that institution".into(),
        ));
    };
    let inst = inst.clone();
    principal.require(&inst, Scopes::ISSUE)?;
    let key = idempotency_key(&headers)?;
    let suite_name = match req.options.get("cryptosuite") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "options.cryptosuite must be a string",
            ))
        }
    };
    let suite = parse_suite(suite_name.as_deref()).map_err(|m| ApiError::Unprocessable {
        message: m,
        details: Some(json!({"supported": crate::issuer::suite_names()})),
    })?;
    let Value::Object(mut credential) = req.credential else {
        return Err(ApiError::unprocessable(
            "`credential` must be a JSON object",
        ));
    };
    if credential.contains_key("proof") {
        return Err(ApiError::unprocessable(
            "`credential` already has a proof: send the unsigned credential",
        ));
    }
    let request_hash = sha256(
        &serde_json::to_vec(&(&credential, &req.options))
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    let base = state.inner().base_url.clone();
    let base2 = base.clone();
    let prepared = state
        .blocking(move |inner| {
            if let Some(k) = &key {
                if let Some(rec) = inner.store.credential_by_key(&inst, k)? {
                    return Ok(Err(rec));
                }
            }
            let institution = inner.institution(&inst)?;
            // The VC API issues the credential it is given: `issuer` is part of it (VC 2.0
            // requires it), and a request without one is invalid input. (The institution's
            // own `/v1` API builds credentials and fills the issuer in.)
            match credential.get_mut("issuer") {
                None => {
                    return Err(ApiError::BadRequest(format!(
                        "the credential has no `issuer`: VC 2.0 requires one; give this institution's DID (\"{}\") or its Profile with that `id`",
                        institution.did
                    )))
                }
                Some(Value::Object(o)) if !o.contains_key("id") => {
                    return Err(ApiError::BadRequest(format!(
                        "the credential's `issuer` object has no `id`: give this institution's DID (\"{}\")",
                        institution.did
                    )))
                }
                Some(Value::String(s)) if *s == institution.did => {}
                Some(Value::Object(o)) if o.get("id").and_then(Value::as_str) == Some(institution.did.as_str()) => {}
                Some(_) => {
                    return Err(ApiError::unprocessable(format!(
                        "the credential's issuer must be this institution: its DID ({}) or its Profile with that `id`",
                        institution.did
                    )))
                }
            }
            let id = crate::crypto::new_credential_id()
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            if !credential.contains_key("id") {
                credential.insert("id".into(), format!("{base2}/credentials/{id}").into());
            }
            let at = now();
            // VC 1.1 (legacy, still sent by the W3C test suites) has `issuanceDate`, and no term
            // for Bitstring Status List entries: such credentials are issued without a status.
            let vc1 = first_context(&credential) == Some(microcred_core::VC_V1_CONTEXT);
            if !credential.contains_key("validFrom") && !credential.contains_key("issuanceDate") {
                let field = if vc1 { "issuanceDate" } else { "validFrom" };
                credential.insert(field.into(), microcred_core::format_datetime(at).into());
            }
            if vc1 {
                // The VC 1.1 context does not define the proof's terms (`DataIntegrityProof`,
                // `cryptosuite`): Data Integrity's context is added, as its spec requires.
                if let Some(Value::Array(items)) = credential.get_mut("@context") {
                    if !items.iter().any(|c| c.as_str() == Some(DATA_INTEGRITY_V2_CONTEXT)) {
                        items.push(DATA_INTEGRITY_V2_CONTEXT.into());
                    }
                }
            } else if !credential.contains_key("credentialStatus") {
                let status = crate::status::StatusPlan::for_institution(inner, &inst)?
                    .credential_status()?;
                credential.insert("credentialStatus".into(), status);
            }
            let value = Value::Object(credential);
            // The institution's lint profile applies (its mandatory elements are errors for
            // MicroCredential achievements).
            let profile = crate::lint_profile::institution(inner, &inst)?;
            let report = microcred_core::lint_with(
                &value,
                &microcred_core::LintOptions::new().with_profile(profile),
            );
            if report.has_errors() {
                return Err(ApiError::Unprocessable {
                    message: "the credential has lint errors".into(),
                    details: Some(json!({"findings": report.findings, "lintProfile": report.profile})),
                });
            }
            let signing = inner.active_key(&inst)?;
            let signed = microcred_core::sign(&value, &signing.key, suite, at)
                .map_err(|e| ApiError::unprocessable(e.to_string()))?;
            let body = serde_json::to_vec(&signed).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(Ok(NewCredential {
                id,
                institution: inst.clone(),
                achievement: String::new(),
                achievement_version: 0,
                idempotency_key: key,
                request_hash,
                issued_at: microcred_core::format_datetime(at),
                method_id: signing.key.id().to_owned(),
                body,
                packed: None,
            }))
        })
        .await?;
    let c = match prepared {
        Err(rec) => return vc_replay(&base, &rec, &request_hash),
        Ok(c) => c,
    };
    let mut out = state.inner().commits.commit(vec![c.clone()]).await?;
    match out.pop() {
        Some(InsertOutcome::Inserted) => Ok(vc_response(&base, &c.id, &c.body, false)),
        Some(InsertOutcome::Existing(rec)) => vc_replay(&base, &rec, &request_hash),
        None => Err(ApiError::Internal("the store returned no outcome".into())),
    }
}

fn vc_replay(
    base: &str,
    rec: &crate::store::CredentialRecord,
    request_hash: &[u8; 32],
) -> Result<Response, ApiError> {
    // Same checks as the native endpoint, VC API body shape.
    replay(base, rec, request_hash)?;
    Ok(vc_response(
        base,
        &rec.credential.id,
        &rec.credential.body,
        true,
    ))
}

fn vc_response(base: &str, id: &str, body: &[u8], replayed: bool) -> Response {
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(b"{\"verifiableCredential\":");
    out.extend_from_slice(body);
    out.push(b'}');
    let mut r = super::raw_json(StatusCode::CREATED, out, "application/json");
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("{base}/credentials/{id}")) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    if replayed {
        r.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    r
}

/// Every hosted institution's DID document in one key ring (plus `did:key`, computed).
fn hosted_keys(inner: &crate::app::Inner) -> Result<KeyRing, ApiError> {
    let mut ring = KeyRing::new();
    for inst in inner.store.institutions()? {
        let keys = inner.store.keys(&inst.slug)?;
        let doc = did_document(&inst, &keys);
        // An institution whose keys are all compromised lists none: skip it.
        let _ = ring.add_controller_document(&doc);
    }
    Ok(ring)
}

/// The published copies of this service's status lists that `credentials` refer to (others
/// are not fetched: their status is reported unknown).
pub(crate) fn hosted_lists(
    inner: &crate::app::Inner,
    credentials: &[&Value],
) -> Result<Vec<StatusListCredential>, ApiError> {
    let at = now();
    let mut lists = Vec::new();
    let mut seen = Vec::new();
    for c in credentials {
        for url in microcred_core::status_list_urls(c) {
            if seen.contains(&url) {
                continue;
            }
            seen.push(url.clone());
            let Some(id) = url
                .strip_prefix(&*inner.base_url)
                .and_then(|rest| rest.strip_prefix("/status/"))
                .filter(|id| crate::status::valid_list_id(id))
            else {
                continue;
            };
            let list = match inner.status.published(inner, id) {
                Ok(p) => StatusListCredential::from_bytes(&p.body)
                    .map(|l| l.fetched_from(&url).captured_at(at))
                    .unwrap_or_else(|e| StatusListCredential::unavailable(&url, e.to_string())),
                Err(ApiError::NotFound(_)) => continue,
                Err(e) => StatusListCredential::unavailable(&url, e.to_string()),
            };
            lists.push(list);
        }
    }
    Ok(lists)
}

/// Parses the body strictly (duplicate member names refused) as a JSON object.
fn strict_object(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|e| body_error(e.status(), e.body_text()))?;
    match microcred_core::parse_strict(&body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(e.to_string())),
    }
}

fn result_body(report: &Report) -> Value {
    use microcred_core::{CheckKind, Outcome};
    let passed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Pass)
        .map(|c| c.check.label())
        .collect();
    let errors: Vec<Value> = report
        .checks
        .iter()
        .filter(|c| {
            c.outcome == Outcome::Fail
                || (c.outcome == Outcome::Unknown
                    && !matches!(c.check, CheckKind::Trust | CheckKind::Status))
        })
        .map(|c| json!({"check": c.check.label(), "message": c.reason}))
        .collect();
    let warnings: Vec<Value> = report
        .checks
        .iter()
        .filter(|c| {
            c.outcome == Outcome::NotChecked
                || (c.outcome == Outcome::Unknown && c.check == CheckKind::Status)
        })
        .map(|c| json!({"check": c.check.label(), "message": c.reason}))
        .collect();
    json!({
        "verified": report.verdict == Verdict::Valid,
        "verdict": report.verdict,
        "checks": passed,
        "warnings": warnings,
        "errors": errors,
        "report": report,
    })
}

fn verdict_status(verdicts: impl IntoIterator<Item = Verdict>) -> StatusCode {
    let mut status = StatusCode::OK;
    for v in verdicts {
        match v {
            Verdict::Valid => {}
            Verdict::Invalid => return StatusCode::BAD_REQUEST,
            _ => status = StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    status
}

fn options_time(options: Option<&Value>) -> Result<time::OffsetDateTime, ApiError> {
    match options.and_then(|o| o.get("at")) {
        None => Ok(now()),
        Some(Value::String(s)) => microcred_core::parse_datetime(s).ok_or_else(|| {
            ApiError::unprocessable("options.at must be a date-time with a time zone")
        }),
        Some(_) => Err(ApiError::unprocessable("options.at must be a string")),
    }
}

/// `POST /credentials/verify`: `{verifiableCredential, options?}`.
pub(crate) async fn verify_credential(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let mut req = strict_object(body)?;
    let vc = req
        .shift_remove("verifiableCredential")
        .ok_or_else(|| ApiError::unprocessable("the body needs `verifiableCredential`"))?;
    let at = options_time(req.get("options"))?;
    let (ring, lists, vc) = state
        .blocking(move |inner| {
            let lists = hosted_lists(inner, &[&vc])?;
            Ok((hosted_keys(inner)?, lists, vc))
        })
        .await?;
    let report =
        microcred_core::verify_value(&vc, &VerifyOptions::new(at, &ring).status_lists(&lists));
    let status = verdict_status([report.verdict]);
    Ok((status, AppJson(result_body(&report))).into_response())
}

/// `POST /presentations/verify`: `{verifiablePresentation, options?}`. Every enclosed
/// credential is verified; the presentation's own proof (holder binding) is not checked yet
/// and is reported as a warning.
pub(crate) async fn verify_presentation(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let mut req = strict_object(body)?;
    let vp = req
        .shift_remove("verifiablePresentation")
        .ok_or_else(|| ApiError::unprocessable("the body needs `verifiablePresentation`"))?;
    let at = options_time(req.get("options"))?;
    let Value::Object(vp) = vp else {
        return Err(ApiError::unprocessable(
            "`verifiablePresentation` must be an object",
        ));
    };
    // The presentation itself (VC Data Model 2.0 §4.13): its context, type and JSON-LD.
    let invalid = |why: String| -> Result<Response, ApiError> {
        Ok((
            StatusCode::BAD_REQUEST,
            AppJson(json!({
                "verified": false,
                "errors": [{"check": "presentation", "message": why}],
                "credentialResults": [],
            })),
        )
            .into_response())
    };
    match first_context(&vp) {
        Some(microcred_core::VC_V2_CONTEXT | microcred_core::VC_V1_CONTEXT) => {}
        _ => {
            return invalid(format!(
                "the presentation's first @context must be \"{}\"",
                microcred_core::VC_V2_CONTEXT
            ))
        }
    }
    let types: Vec<&str> = match vp.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.contains(&"VerifiablePresentation") {
        return invalid("the presentation's `type` must include \"VerifiablePresentation\"".into());
    }
    let credentials: Vec<Value> = match vp.get("verifiableCredential") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        Some(_) => {
            return invalid("`verifiableCredential` must be a credential or a list of them".into())
        }
    };
    let options_map = req.get("options").and_then(Value::as_object);
    let option = |name: &str| {
        options_map
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (challenge, domain) = (option("challenge"), option("domain"));
    let unsigned: Map<String, Value> = vp
        .iter()
        .filter(|(k, _)| k.as_str() != "verifiableCredential")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(problem) = microcred_core::json_ld_problem(&Value::Object(unsigned)) {
        return invalid(format!(
            "the presentation cannot be processed as JSON-LD: {problem}"
        ));
    }
    let (ring, lists, credentials, vp) = state
        .blocking(move |inner| {
            let refs: Vec<&Value> = credentials.iter().collect();
            let lists = hosted_lists(inner, &refs)?;
            Ok((hosted_keys(inner)?, lists, credentials, vp))
        })
        .await?;
    let options = VerifyOptions::new(at, &ring).status_lists(&lists);
    let reports: Vec<Report> = credentials
        .iter()
        .map(|c| microcred_core::verify_value(c, &options))
        .collect();
    let proofs = microcred_core::verify_presentation_proofs(
        &vp,
        &options,
        challenge.as_deref(),
        domain.as_deref(),
    );
    let status = verdict_status(
        reports
            .iter()
            .map(|r| r.verdict)
            .chain(std::iter::once(proofs.verdict())),
    );
    let (mut checks, mut warnings, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for (outcome, why) in &proofs.checks {
        let entry = json!({"check": "presentation proof", "message": why});
        match outcome {
            microcred_core::Outcome::Pass => checks.push(entry),
            microcred_core::Outcome::Fail => errors.push(entry),
            _ => warnings.push(entry),
        }
    }
    if proofs.checks.is_empty() {
        warnings.push(json!({"check": "presentation proof", "message": "the presentation has no proof: nothing binds it to a holder"}));
    }
    Ok((
        status,
        AppJson(json!({
            "verified": status == StatusCode::OK,
            "checks": checks,
            "warnings": warnings,
            "errors": errors,
            "credentialResults": reports.iter().map(result_body).collect::<Vec<_>>(),
        })),
    )
        .into_response())
}
