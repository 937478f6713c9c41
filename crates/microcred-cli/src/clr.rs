//! `microcred clr`: a signed CLR 2.0 `ClrCredential` for one learner, bundling their
//! credentials unchanged (each verified first) with `isPartOf` associations from the stacked
//! achievements' rules and the `precedes` associations given; and `microcred verify` of a
//! `ClrCredential` (the record, every embedded credential, learner, associations, pathways).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_core::{
    check_clr, clr_credential, ClrOptions, ClrReport, Cryptosuite, KeyRing, KnownIdentity, Outcome,
    Report, Verdict, VerifyOptions,
};
use serde_json::{json, Value};

use crate::{bake, files, lint, sign, stack, verify};

#[derive(Args)]
pub(crate) struct ClrArgs {
    /// The institution's key file (Multikey key pair): it signs the record.
    #[arg(long)]
    key: PathBuf,
    /// The issuer Profile (JSON); its `id`, if given, must be the key's controller. Default:
    /// the issuer of the first credential when that is the key's controller, else a profile
    /// with only the key's controller as id.
    #[arg(long)]
    issuer: Option<PathBuf>,
    /// The record's name (shown by wallets).
    #[arg(long)]
    name: String,
    /// A description of the record.
    #[arg(long)]
    description: Option<String>,
    /// The record's id (an IRI); default a new random `urn:uuid:`.
    #[arg(long)]
    id: Option<String>,
    /// Start of validity (RFC 3339); default now.
    #[arg(long)]
    valid_from: Option<String>,
    /// Proof creation time (RFC 3339); default now.
    #[arg(long)]
    created: Option<String>,
    /// Cryptosuite of the proof: eddsa-rdfc-2022 (default) or eddsa-jcs-2022.
    #[arg(long, default_value = "eddsa-rdfc-2022")]
    suite: String,
    /// A `precedes` association: `SOURCE=TARGET`, each an achievement id or `humanCode` of
    /// a credential in the record (repeatable).
    #[arg(long = "precedes", value_name = "SOURCE=TARGET")]
    precedes: Vec<String>,
    /// Mark the record as holding only part of the learner's credentials.
    #[arg(long)]
    partial: bool,
    /// The learner's e-mail address (or `TYPE=VALUE`), to tie credentials issued to a hashed
    /// e-mail address (each with its own salt) to one learner (repeatable).
    #[arg(long = "learner", value_name = "EMAIL|TYPE=VALUE")]
    learner: Vec<String>,
    /// A saved DID document to verify `did:web` credentials with (repeatable).
    #[arg(long = "did-doc", value_name = "FILE")]
    did_docs: Vec<PathBuf>,
    /// Write the record here (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The learner's credentials (JSON, or baked PNG/SVG badges).
    #[arg(required = true)]
    credentials: Vec<PathBuf>,
}

/// A credential file: its bytes (unbaked) and value.
fn read_credential(path: &Path) -> Result<Value> {
    let raw = files::read_input(path)?;
    let bytes = match bake::verify_input(&raw) {
        bake::VerifyInput::Credential { bytes, .. } => bytes.into_owned(),
        bake::VerifyInput::NotVerifiable(why) => bail!("{}: {why}", path.display()),
    };
    microcred_core::parse_strict(&bytes)
        .with_context(|| format!("{} is not a credential", path.display()))
}

pub(crate) fn run(args: ClrArgs) -> Result<ExitCode> {
    let suite: Cryptosuite = args.suite.parse()?;
    let key = files::read_key(&args.key)?;
    let created = files::time_or_now(args.created.as_deref())?;
    let valid_from = files::time_or_now(args.valid_from.as_deref())?;
    let mut keys = KeyRing::new();
    for path in &args.did_docs {
        let doc = files::read_json(path)?;
        keys.add_controller_document(&doc)
            .with_context(|| format!("{} is not a usable DID document", path.display()))?;
    }
    let credentials = args
        .credentials
        .iter()
        .map(|p| read_credential(p))
        .collect::<Result<Vec<_>>>()?;
    // Only credentials that verify go into a record the institution signs.
    let options = VerifyOptions::new(files::time_or_now(None)?, &keys);
    let mut refused = false;
    for (path, c) in args.credentials.iter().zip(&credentials) {
        let report = microcred_core::verify_value(c, &options);
        if report.verdict != Verdict::Valid {
            refused = true;
            let why = report
                .first_problem()
                .map(|p| format!("{}: {}", p.check.label(), p.reason))
                .unwrap_or_default();
            eprintln!("{}: does not verify ({why})", path.display());
        }
    }
    if refused {
        eprintln!("refusing to make a record of credentials that do not verify");
        return Ok(ExitCode::from(1));
    }
    let issuer = match &args.issuer {
        Some(path) => files::read_json(path)?,
        None => match credentials[0].get("issuer") {
            Some(i @ Value::Object(o))
                if o.get("id").and_then(Value::as_str) == Some(key.controller()) =>
            {
                i.clone()
            }
            _ => json!({"id": key.controller(), "type": ["Profile"]}),
        },
    };
    let precedes = args
        .precedes
        .iter()
        .map(|spec| {
            let (s, t) = spec
                .split_once('=')
                .with_context(|| format!("--precedes {spec}: expected SOURCE=TARGET"))?;
            Ok((
                achievement_id(&credentials, s)?,
                achievement_id(&credentials, t)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let learner: Vec<KnownIdentity> = args
        .learner
        .iter()
        .map(|s| stack::known_identity(s))
        .collect();
    let id = match args.id {
        Some(id) => id,
        None => {
            let seed = files::random_seed()?;
            let mut b = [0u8; 16];
            b.copy_from_slice(&seed[..16]);
            format!(
                "urn:uuid:{}",
                uuid::Builder::from_random_bytes(b).into_uuid()
            )
        }
    };
    let unsigned = clr_credential(
        &credentials,
        &ClrOptions {
            id: &id,
            issuer: &issuer,
            name: &args.name,
            description: args.description.as_deref(),
            valid_from,
            precedes: &precedes,
            partial: args.partial,
            learner: &learner,
        },
    )?;
    let contexts = files::Contexts::load(&[])?;
    match sign::sign_checked(&unsigned, &key, suite, created, contexts.get(), None) {
        Ok((signed, _)) => {
            files::emit_json(&signed, args.out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(sign::Refusal::Lint(report)) => {
            eprintln!("refusing to sign the record: lint found errors");
            lint::print_findings(Path::new("(record)"), &report, true);
            Ok(ExitCode::from(1))
        }
        Err(sign::Refusal::Other(e)) => Err(e),
    }
}

/// An achievement id, or the id of the achievement whose `humanCode` is `spec`.
fn achievement_id(credentials: &[Value], spec: &str) -> Result<String> {
    for c in credentials {
        let a = &c["credentialSubject"]["achievement"];
        let id = a.get("id").and_then(Value::as_str);
        if id == Some(spec) || a.get("humanCode").and_then(Value::as_str) == Some(spec) {
            if let Some(id) = id {
                return Ok(id.to_owned());
            }
        }
    }
    bail!("--precedes: no credential of the record is for the achievement \"{spec}\" (give its id or humanCode)")
}

/// `microcred verify` of a record: exit 0 valid, 1 invalid, 2 could not check.
pub(crate) fn verify_record(
    path: &Path,
    bytes: &[u8],
    report: &Report,
    options: &VerifyOptions<'_>,
    learner: &[String],
    json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let value = microcred_core::parse_strict(bytes).unwrap_or(Value::Null);
    let learner: Vec<KnownIdentity> = learner.iter().map(|s| stack::known_identity(s)).collect();
    let clr = check_clr(&value, report, options, &learner);
    let code = match clr.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        _ => 2,
    };
    if json {
        let mut v = serde_json::to_value(report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("file".into(), json!(path.display().to_string()));
            o.insert("exit_code".into(), json!(code));
            o.insert("status".into(), json!(report.status()));
            o.insert("clr".into(), serde_json::to_value(&clr)?);
        }
        writeln!(out, "{}", serde_json::to_string(&v)?)?;
    } else {
        verify::print_report(out, path, report, false, false)?;
        print_clr(out, path, &clr, code)?;
    }
    Ok(code)
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Unknown => "unknown",
        _ => "not checked",
    }
}

fn print_clr(out: &mut impl Write, path: &Path, clr: &ClrReport, code: u8) -> std::io::Result<()> {
    let verdict = match code {
        0 => "RECORD VALID",
        1 => "RECORD INVALID",
        _ => "RECORD COULD NOT BE CHECKED",
    };
    writeln!(out, "{}: {verdict}", path.display())?;
    for c in &clr.checks {
        writeln!(
            out,
            "  {:<14} {:<11} {}",
            c.check.label(),
            mark(c.outcome),
            c.reason
        )?;
    }
    for (i, r) in clr.credentials.iter().enumerate() {
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("credential {}", i + 1));
        let verdict = match r.verdict {
            Verdict::Valid if r.status() == Outcome::Unknown => "valid, status unknown",
            Verdict::Valid => "valid",
            Verdict::Invalid => "INVALID",
            _ => "could not check",
        };
        let by = r
            .issuer_name
            .as_deref()
            .or(r.issuer.as_deref())
            .unwrap_or("?");
        writeln!(out, "  {}. \"{name}\" by {by}: {verdict}", i + 1)?;
        if r.verdict != Verdict::Valid {
            if let Some(p) = r.first_problem() {
                writeln!(out, "     {}: {}", p.check.label(), p.reason)?;
            }
        }
    }
    for a in &clr.associations {
        writeln!(
            out,
            "  {} {} {}: {}{}",
            a.source_id,
            a.association_type,
            a.target_id,
            mark(a.outcome),
            if a.outcome == Outcome::Pass {
                String::new()
            } else {
                format!(" ({})", a.reason)
            }
        )?;
    }
    for s in &clr.stacks {
        let what = s.achievement.as_deref().unwrap_or("a stacked achievement");
        let verdict = match s.verdict {
            Verdict::Valid => "satisfied",
            Verdict::Invalid => "NOT SATISFIED",
            _ => "could not be decided",
        };
        writeln!(out, "  pathway {what}: {verdict}")?;
        for q in &s.requirements {
            let name = q.name.as_deref().unwrap_or(&q.achievement);
            writeln!(out, "     {name}: {}", q.reason)?;
        }
        for c in s.checks.iter().filter(|c| c.outcome != Outcome::Pass) {
            writeln!(
                out,
                "     {}: {} ({})",
                c.check.label(),
                mark(c.outcome),
                c.reason
            )?;
        }
    }
    writeln!(out)
}
