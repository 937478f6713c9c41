//! `POST /v1/institutions/{inst}/learners/recognitions` (scope `issue`): credentials of other
//! institutions a learner submits (as a verifiable presentation, through a registrar),
//! examined and recorded towards the institution's pathways (see `recognition.rs`).

use axum::extract::State;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::now;
use crate::auth::{Authorized, Issue};
use crate::error::{ApiError, AppJson};
use crate::recognition::{submit, Submission};
use crate::state::AppState;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RecognitionRequest {
    /// The learner, as this institution issues to them: a DID/URL or an e-mail address.
    recipient: String,
    /// A verifiable presentation holding the credentials (signed by the learner, or not).
    presentation: Value,
    /// DID documents of the issuers (and holder) that are not `did:key`.
    #[serde(default)]
    did_documents: Vec<Value>,
    /// The status lists the credentials' `credentialStatus` entries name.
    #[serde(default)]
    status_lists: Vec<Value>,
}

/// Examines and records; answers one entry per credential (recorded or why not).
pub(crate) async fn record(
    State(state): State<AppState>,
    auth: Authorized<Issue>,
    AppJson(req): AppJson<RecognitionRequest>,
) -> Result<AppJson<Value>, ApiError> {
    let actor = auth.principal().actor().to_owned();
    let inst = auth.into_institution();
    if req.recipient.trim().is_empty() || req.recipient.chars().count() > 2048 {
        return Err(ApiError::unprocessable(
            "recipient must be the learner's DID, URL or e-mail address",
        ));
    }
    if req.did_documents.len() > 50 || req.status_lists.len() > 50 {
        return Err(ApiError::unprocessable(
            "at most 50 DID documents and 50 status lists",
        ));
    }
    let examined = state
        .cpu(move |inner| {
            Ok(submit(
                inner,
                &Submission {
                    institution: &inst,
                    recipient: &req.recipient,
                    presentation: &req.presentation,
                    did_documents: &req.did_documents,
                    status_lists: &req.status_lists,
                    actor: &actor,
                    at: now(),
                },
            )?)
        })
        .await?;
    let recorded = examined.iter().filter(|e| e.recorded).count();
    Ok(AppJson(json!({
        "recorded": recorded,
        "refused": examined.len() - recorded,
        "credentials": examined,
    })))
}
