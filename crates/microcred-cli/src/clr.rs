//! `microcred clr`: a signed CLR 2.0 `ClrCredential` for one learner, bundling their
//! credentials unchanged (each verified first) with `isPartOf` associations from the stacked
//! achievements' rules and the `precedes` associations given; and `microcred verify` of a
//! `ClrCredential` (the record, every embedded credential, learner, associations, pathways).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_core::{
    clr_credential, ClrOptions, Cryptosuite, KeyRing, KnownIdentity, Verdict, VerifyOptions,
};
use microcred_verifier::input::{verify_input, VerifyInput};
use microcred_verifier::known_identity;
use serde_json::{json, Value};

use crate::{files, lint, sign};

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
    let bytes = match verify_input(&raw) {
        VerifyInput::Credential { bytes, .. } => bytes.into_owned(),
        VerifyInput::NotVerifiable(why) => bail!("{}: {why}", path.display()),
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
    let learner: Vec<KnownIdentity> = args.learner.iter().map(|s| known_identity(s)).collect();
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
