//! `microcred verify`: a report per file, human or JSON, and exit codes
//! 0 all valid / 1 any invalid / 2 could not check.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_core::{
    CheckKind, EndorsementReport, EndorserTrust, KeyRing, Outcome, PublicKey, Report, TrustList,
    Verdict, VerifyOptions,
};
use serde_json::{json, Value};

use crate::{bake, files};

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// Print one JSON object per file (one per line) instead of a human report.
    #[arg(long)]
    json: bool,
    /// Pin the institution's public key: a `z6Mk...` Multikey, or a file holding a public key,
    /// key pair or DID document. A credential signed by any other key is invalid. Repeatable.
    #[arg(long = "issuer-key", value_name = "KEY")]
    issuer_keys: Vec<String>,
    /// A saved DID document used to resolve keys (e.g. a did:web issuer's did.json) without
    /// pinning it. Repeatable.
    #[arg(long = "did-doc", value_name = "FILE")]
    did_docs: Vec<PathBuf>,
    /// Trust list of known institutions; issuers not on it are reported as unknown.
    #[arg(long)]
    trust: Option<PathBuf>,
    /// Treat an issuer that is not on the trust list as invalid.
    #[arg(long, requires = "trust")]
    require_trusted: bool,
    /// Add a JSON-LD context that is not bundled: `URL=FILE` (repeatable). Never fetched.
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    pub(crate) status: crate::status::StatusArgs,
    /// Check the (one) file as a stacked credential whose components are these files
    /// (repeatable): each is verified like any credential, then the stacked credential's
    /// `stackingRequirement` is checked against them, saying which component satisfies which
    /// required achievement.
    #[arg(long = "component", value_name = "FILE")]
    components: Vec<PathBuf>,
    /// The learner's e-mail address, or `TYPE=VALUE` (e.g. `sisSourcedId=N01234567`): lets
    /// a stack or CLR check compare hashed identifiers across credentials (repeatable).
    #[arg(
        long = "learner",
        value_name = "EMAIL|TYPE=VALUE",
        requires = "components"
    )]
    learner: Vec<String>,
    /// Credentials to verify: JSON, or baked badge images (PNG/SVG); `-` reads stdin.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: VerifyArgs) -> Result<ExitCode> {
    let at = files::time_or_now(args.at.as_deref())?;
    let mut keys = KeyRing::new();
    let mut pinned: Vec<PublicKey> = Vec::new();
    for k in &args.issuer_keys {
        pinned.extend(load_pinned(k, &mut keys)?);
    }
    for path in &args.did_docs {
        let doc = files::read_json(path)?;
        keys.add_controller_document(&doc).with_context(|| {
            format!(
                "{} is not a usable DID document or verification method",
                path.display()
            )
        })?;
    }
    let trust = match &args.trust {
        Some(path) => {
            let text = String::from_utf8(files::read_input(path)?)
                .with_context(|| format!("{} is not UTF-8", path.display()))?;
            Some(
                TrustList::from_json(&text)
                    .with_context(|| format!("cannot use {}", path.display()))?,
            )
        }
        None => None,
    };
    let mut sources = crate::status::Sources::load(&args.status, &mut keys)?;
    let contexts = files::Contexts::load(&args.contexts)?;
    let mut options = VerifyOptions::new(at, &keys)
        .pinned_keys(&pinned)
        .contexts(contexts.get());
    if let Some(t) = &trust {
        options = options.trust_list(t);
    }
    if !args.components.is_empty() {
        let [stacked] = args.files.as_slice() else {
            bail!("--component checks one stacked credential: give exactly one FILE");
        };
        return crate::stack::run(
            &crate::stack::StackArgs {
                stacked,
                components: &args.components,
                learner: &args.learner,
                json: args.json,
                require_trusted: args.require_trusted,
                require_status: args.status.require_status,
            },
            &mut sources,
            &options,
        );
    }
    let mut worst = 0u8;
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        // A baked PNG/SVG badge is unbaked first; `baked` says where the credential came from.
        let (report, read_error, baked) = match files::read_input(path) {
            Ok(bytes) => match bake::verify_input(&bytes) {
                bake::VerifyInput::Credential { bytes, from } => {
                    let report = sources.verify(&bytes, &options);
                    // A CLR: the record, then everything in it.
                    let record = microcred_core::parse_strict(&bytes)
                        .ok()
                        .filter(microcred_core::is_clr);
                    if let Some(record) = record {
                        let embedded = record["credentialSubject"]["verifiableCredential"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        for c in embedded.iter().take(microcred_core::MAX_CLR_CREDENTIALS) {
                            sources.prefetch(c);
                        }
                        let code = crate::clr::verify_record(
                            path,
                            &bytes,
                            &report,
                            &options.clone().status_lists(sources.lists()),
                            &args.learner,
                            args.json,
                            &mut out,
                        )?;
                        worst = worst.max(if code == 1 { 3 } else { code });
                        continue;
                    }
                    (Some(report), None, from)
                }
                bake::VerifyInput::NotVerifiable(why) => (None, Some(why), None),
            },
            Err(e) => (None, Some(format!("{e:#}")), None),
        };
        let code = match (&report, &read_error) {
            (Some(r), _) => exit_code(r, args.require_trusted, args.status.require_status),
            _ => 2,
        };
        worst = worst.max(code);
        if args.json {
            let obj = match (&report, &read_error) {
                (Some(r), _) => {
                    let mut v = serde_json::to_value(r)?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("file".into(), json!(path.display().to_string()));
                        o.insert("exit_code".into(), json!(code));
                        o.insert("status".into(), json!(r.status()));
                        if let Some(from) = &baked {
                            o.insert("baked_image".into(), json!(from));
                        }
                    }
                    v
                }
                (None, err) => json!({
                    "file": path.display().to_string(),
                    "verdict": "indeterminate",
                    "error": err,
                    "exit_code": code,
                }),
            };
            writeln!(out, "{}", serde_json::to_string(&obj)?)?;
        } else {
            if let Some(from) = &baked {
                writeln!(out, "{}: credential {from}", path.display())?;
            }
            match (&report, &read_error) {
                (Some(r), _) => print_report(
                    &mut out,
                    path,
                    r,
                    args.require_trusted,
                    args.status.require_status,
                )?,
                (None, err) => writeln!(
                    out,
                    "{}: COULD NOT CHECK: {}\n",
                    path.display(),
                    err.as_deref().unwrap_or("unknown error")
                )?,
            }
        }
    }
    out.flush()?;
    // Exit codes: 0 all valid, 1 any invalid (takes precedence), 2 could not check.
    Ok(ExitCode::from(match worst {
        0 => 0,
        _ if any_invalid(worst) => 1,
        _ => 2,
    }))
}

fn any_invalid(worst: u8) -> bool {
    worst == 3
}

/// 0 valid, 2 could not check, 3 invalid (mapped to exit 1 at the end: invalid outranks).
/// An unknown status does not fail a valid credential unless `require_status`.
pub(crate) fn exit_code(report: &Report, require_trusted: bool, require_status: bool) -> u8 {
    match report.verdict {
        Verdict::Invalid => 3,
        Verdict::Valid if require_trusted && trust_outcome(report) != Some(Outcome::Pass) => 3,
        Verdict::Valid if require_status && report.status() == Outcome::Unknown => 3,
        Verdict::Valid => 0,
        _ => 2,
    }
}

fn trust_outcome(report: &Report) -> Option<Outcome> {
    report
        .checks
        .iter()
        .find(|c| c.check == CheckKind::Trust)
        .map(|c| c.outcome)
}

fn load_pinned(spec: &str, keys: &mut KeyRing) -> Result<Vec<PublicKey>> {
    if spec.starts_with('z') && !Path::new(spec).exists() {
        return Ok(vec![PublicKey::from_multibase(spec).with_context(
            || format!("--issuer-key {spec} is not an Ed25519 Multikey (z6Mk...)"),
        )?]);
    }
    if let Some(rest) = spec.strip_prefix("did:key:") {
        let _ = rest;
        return Ok(vec![PublicKey::from_did_key(spec)?]);
    }
    let path = Path::new(spec);
    let doc = files::read_json(path)?;
    // A DID / controller document, or one verification method saved on its own (Controlled
    // Identifiers): both go through the key ring, which knows both shapes.
    let key_pair_file = doc.get("secretKeyMultibase").is_some();
    if doc.get("verificationMethod").is_some()
        || doc.get("assertionMethod").is_some()
        || (doc.get("controller").is_some() && !key_pair_file)
    {
        let methods = keys.add_controller_document(&doc).with_context(|| {
            format!("{spec} is not a usable DID document or verification method")
        })?;
        let assertion: Vec<PublicKey> = methods
            .iter()
            .filter(|m| m.assertion)
            .map(|m| m.key)
            .collect();
        if assertion.is_empty() {
            bail!("{spec}: the DID document authorizes no key for assertionMethod (issuing)");
        }
        return Ok(assertion);
    }
    if let Some(mb) = doc.get("publicKeyMultibase").and_then(Value::as_str) {
        let key = PublicKey::from_multibase(mb)
            .with_context(|| format!("{spec}: bad publicKeyMultibase"))?;
        if doc.get("controller").is_some() && doc.get("id").is_some() {
            keys.add_method(&doc)
                .with_context(|| format!("{spec}: not a usable key"))?;
        }
        return Ok(vec![key]);
    }
    bail!("--issuer-key {spec}: expected a z6Mk... key, a key file or a DID document")
}

pub(crate) fn print_report(
    out: &mut impl Write,
    path: &Path,
    r: &Report,
    require_trusted: bool,
    require_status: bool,
) -> std::io::Result<()> {
    // An unknown status never passes silently: it is in the verdict line.
    let status_unknown = r.status() == Outcome::Unknown;
    let verdict = match exit_code(r, require_trusted, require_status) {
        0 if status_unknown => "VALID, BUT REVOCATION STATUS UNKNOWN",
        0 => "VALID",
        3 => "INVALID",
        _ => "COULD NOT CHECK",
    };
    let what = r
        .name
        .as_deref()
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default();
    let by = match (&r.issuer_name, &r.issuer) {
        (Some(n), Some(id)) => format!(" issued by {n} ({id})"),
        (None, Some(id)) => format!(" issued by {id}"),
        _ => String::new(),
    };
    writeln!(out, "{}: {verdict}{what}{by}", path.display())?;
    for c in &r.checks {
        let mark = match c.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Unknown => "unknown",
            _ => "not checked",
        };
        writeln!(out, "  {:<12} {:<11} {}", c.check.label(), mark, c.reason)?;
    }
    for e in &r.endorsements {
        writeln!(
            out,
            "  {:<12} {:<11} {}",
            "endorsement",
            e.trust.label(),
            endorsement_line(e)
        )?;
    }
    if verdict != "VALID" {
        let problem = r.first_problem().or_else(|| {
            r.checks
                .iter()
                .find(|c| c.check == CheckKind::Status && c.outcome == Outcome::Unknown)
        });
        if let Some(p) = problem {
            let why = if p.outcome != Outcome::Fail && p.reason.contains("too complex") {
                TOO_COMPLEX
            } else {
                explain(p.check, p.outcome)
            };
            writeln!(out, "  => {why}")?;
        }
    }
    writeln!(out)
}

/// What one endorsement says and what was found, after its trust mark: who endorses what
/// (with the comment) when it verified, else why not. Endorsements never change the verdict.
fn endorsement_line(e: &EndorsementReport) -> String {
    let who = match (&e.endorser_name, &e.endorser) {
        (Some(n), Some(id)) => format!("{n} ({id})"),
        (None, Some(id)) => id.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => "an unnamed endorser".to_owned(),
    };
    let comment = e
        .comment
        .as_deref()
        .map(|c| format!(": \"{c}\""))
        .unwrap_or_default();
    match (e.trust, e.verdict) {
        (EndorserTrust::Trusted | EndorserTrust::Unknown, Verdict::Valid) => {
            format!("{who} endorses {}{comment}", e.endorses.label())
        }
        (EndorserTrust::Unknown, _) => format!(
            "{who} endorses {}{comment} ({})",
            e.endorses.label(),
            e.reason
        ),
        (EndorserTrust::Invalid, _) => format!("{} by {who}: {}", e.path, e.reason),
        _ => format!("{}: {}", e.path, e.reason),
    }
}

/// A credential beyond the verifier's work limits (microcred-rdf's): possibly crafted to
/// exhaust verifiers, in any case not checked.
const TOO_COMPLEX: &str = "The credential is too complex to check within this verifier's limits (for example very many look-alike blank nodes), which legitimate credentials never need; it may be crafted to exhaust verifiers. Nothing is known either way: do not accept it as it stands.";

/// What a problem means for the person deciding whether to accept the credential.
fn explain(kind: CheckKind, outcome: Outcome) -> &'static str {
    let undecided = outcome != Outcome::Fail;
    match kind {
        CheckKind::WellFormed if undecided => "This file is not a credential that can be read (not JSON, or not a supported format).",
        CheckKind::WellFormed => "This file is not a verifiable credential in a form that can be checked.",
        CheckKind::Proof if undecided => "This verifier cannot check this kind of signature, or the credential uses a JSON-LD context it does not have (add it with --context URL=FILE). Nothing is known either way.",
        CheckKind::Proof => "The credential carries no usable signature; it cannot be shown to come from the institution.",
        CheckKind::Signature if undecided => "The institution's public key could not be found offline: get the issuer's DID document (e.g. its did.json) or key and pass it with --did-doc FILE or --issuer-key, then verify again. Nothing is known either way.",
        CheckKind::Signature => "The signature does not prove the content: do not rely on this credential as it stands.",
        CheckKind::IssuerKey => "The credential was not signed by the institution it names as issuer.",
        CheckKind::Validity => "The credential is outside its validity period.",
        CheckKind::Trust => "The issuer is not one you have listed as trusted.",
        CheckKind::Status if undecided => "Whether the institution has revoked or suspended this credential is not known (see the status line): fetch its status list with --online, or pass a saved copy with --status-list FILE or --bundle FILE. --require-status treats an unknown status as invalid.",
        CheckKind::Status => "The institution has revoked or suspended this credential: do not accept it as it stands.",
        _ => "See the checks above.",
    }
}
