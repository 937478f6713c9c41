//! `microcred sign`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use microcred_core::{
    Cryptosuite, IssueCheck, IssuerKey, LintOptions, LintProfile, LintReport, ProofSetup, RowError,
};
use serde_json::Value;

use crate::{files, lint};

#[derive(Args)]
pub(crate) struct SignArgs {
    /// The institution's key file (Multikey key pair).
    #[arg(long)]
    key: PathBuf,
    /// Cryptosuite of the proof: eddsa-rdfc-2022 (the Open Badges 3.0 default) or
    /// eddsa-jcs-2022. Signing an already signed credential adds a proof (a proof set).
    #[arg(long, default_value = "eddsa-rdfc-2022")]
    suite: String,
    /// Add a JSON-LD context that is not bundled: `URL=FILE` (repeatable). Never fetched.
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
    /// Proof creation time (RFC 3339, e.g. 2025-06-01T12:00:00Z); default now.
    #[arg(long)]
    created: Option<String>,
    /// Replace `issuer.id` with the key's controller (when the credential names another id).
    #[arg(long)]
    set_issuer: bool,
    /// Write the signed credential here (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    profile: lint::ProfileArg,
    /// The unsigned credential (JSON); `-` reads stdin.
    credential: PathBuf,
}

pub(crate) fn run(args: SignArgs) -> Result<ExitCode> {
    let suite: Cryptosuite = args.suite.parse()?;
    let key = files::read_key(&args.key)?;
    let created = files::time_or_now(args.created.as_deref())?;
    let contexts = files::Contexts::load(&args.contexts)?;
    let mut credential = files::read_json(&args.credential)?;
    if args.set_issuer {
        set_issuer_id(&mut credential, key.controller());
    }
    let profile = args.profile.get();
    match sign_checked(&credential, &key, suite, created, contexts.get(), profile) {
        Ok((signed, report)) => {
            if !report.findings.is_empty() {
                lint::print_findings(&args.credential, &report, true);
            }
            files::emit_json(&signed, args.out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(Refusal::Lint(report)) => {
            eprintln!("refusing to sign: lint found errors (fix them, then sign again)");
            lint::print_findings(&args.credential, &report, true);
            Ok(ExitCode::from(1))
        }
        Err(Refusal::Other(e)) => Err(e),
    }
}

/// Why a credential was not signed.
pub(crate) enum Refusal {
    /// Lint found errors.
    Lint(LintReport),
    /// Anything else.
    Other(anyhow::Error),
}

/// Lints (under `profile`), checks the issuer/key binding, then signs. Returns the signed
/// credential and the lint report (warnings only) for the caller to show.
pub(crate) fn sign_checked(
    credential: &Value,
    key: &IssuerKey,
    suite: Cryptosuite,
    created: time::OffsetDateTime,
    contexts: &microcred_core::ContextLoader,
    profile: Option<&'static LintProfile>,
) -> Result<(Value, LintReport), Refusal> {
    let issuer_id = match credential.get("issuer") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => other.get("id").and_then(Value::as_str),
        None => None,
    };
    if let Some(id) = issuer_id {
        if id != key.controller() {
            // Lint first: a credential with lint errors is refused for them.
            let options = LintOptions::new()
                .with_contexts(contexts)
                .with_profile(profile);
            let report = microcred_core::lint_with(credential, &options);
            if report.has_errors() {
                return Err(Refusal::Lint(report));
            }
            return Err(Refusal::Other(anyhow::anyhow!(
                "the credential's issuer is {id}, but this key belongs to {}: verifiers would reject it. Use the institution's own key, or pass --set-issuer to make {} the issuer",
                key.controller(),
                key.controller()
            )));
        }
    }
    if !credential.is_object() {
        return Err(Refusal::Lint(microcred_core::lint(credential)));
    }
    // Lint and signing share one JSON-LD expansion (`microcred_core::sign_checked`).
    let options = LintOptions::new()
        .with_contexts(contexts)
        .with_profile(profile);
    let setup = match ProofSetup::new(key, suite, created, credential.get("@context"), contexts) {
        Ok(setup) => setup,
        Err(e) => {
            // The proof options are read with the credential's `@context`: an unknown context
            // shows here first. Lint says so in its words.
            let report = microcred_core::lint_with(credential, &options);
            return Err(if report.has_errors() {
                Refusal::Lint(report)
            } else {
                Refusal::Other(e.into())
            });
        }
    };
    match microcred_core::sign_checked(credential.clone(), IssueCheck::Full, &setup, key, &options)
    {
        Ok(done) => Ok(done),
        Err(RowError::Lint(report)) => Err(Refusal::Lint(report)),
        Err(e) => Err(Refusal::Other(anyhow::anyhow!("{e}"))),
    }
}

fn set_issuer_id(credential: &mut Value, id: &str) {
    match credential.get_mut("issuer") {
        Some(Value::Object(profile)) => {
            profile.insert("id".into(), id.into());
        }
        Some(slot) => *slot = id.into(),
        None => {
            if let Some(obj) = credential.as_object_mut() {
                obj.insert("issuer".into(), id.into());
            }
        }
    }
}
