//! `microcred endorse`: make and sign an Open Badges 3.0 `EndorsementCredential` by which the
//! key's holder (an industry body, an employer) endorses an achievement, an issuer profile or
//! a credential. The signed endorsement is then embedded, unchanged, in the endorsed thing's
//! `endorsement` array (e.g. the achievement definition given to `microcred issue`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_core::{Cryptosuite, Profile};
use serde_json::Value;

use crate::files;

#[derive(Args)]
pub(crate) struct EndorseArgs {
    /// The endorser's key file (Multikey key pair): the endorsement is signed with it.
    #[arg(long)]
    key: PathBuf,
    /// What is endorsed: its id (an IRI), or a file (achievement definition, issuer profile or
    /// credential) whose `id` is taken.
    #[arg(long, value_name = "ID|FILE")]
    subject: String,
    /// The endorser's Profile (JSON); its `id`, if given, must be the key's controller (when
    /// absent, the controller is used).
    #[arg(long, value_name = "PROFILE.json", conflicts_with = "endorser_name")]
    endorser: Option<PathBuf>,
    /// The endorser's name, for a minimal Profile whose id is the key's controller (instead of
    /// --endorser).
    #[arg(long, required_unless_present = "endorser")]
    endorser_name: Option<String>,
    /// The endorser's comment (`endorsementComment`), e.g. why the achievement meets the
    /// industry's needs.
    #[arg(long)]
    comment: Option<String>,
    /// The endorsement credential's id (an IRI); default a new random `urn:uuid:`.
    #[arg(long)]
    id: Option<String>,
    /// Start of the endorsement's validity (RFC 3339); default now.
    #[arg(long)]
    valid_from: Option<String>,
    /// The proof's creation time (RFC 3339); default now.
    #[arg(long)]
    created: Option<String>,
    /// Cryptosuite of the proof: eddsa-rdfc-2022 (the Open Badges 3.0 default) or eddsa-jcs-2022.
    #[arg(long, default_value = "eddsa-rdfc-2022")]
    suite: String,
    /// Write the signed endorsement here (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(args: EndorseArgs) -> Result<ExitCode> {
    let suite: Cryptosuite = args.suite.parse()?;
    let key = files::read_key(&args.key)?;
    let valid_from = files::time_or_now(args.valid_from.as_deref())?;
    let created = files::time_or_now(args.created.as_deref())?;
    let subject = subject_id(&args.subject)?;
    let endorser = match (&args.endorser, &args.endorser_name) {
        (Some(path), _) => {
            let mut v = files::read_json(path)?;
            if let Some(obj) = v.as_object_mut() {
                // A profile without `id` is the key holder's own.
                obj.entry("id").or_insert_with(|| key.controller().into());
            }
            let p = Profile::from_value(v)
                .with_context(|| format!("{} is not a usable endorser Profile", path.display()))?;
            if p.id != key.controller() {
                bail!(
                    "the endorser profile's id is {}, but the key belongs to {}: verifiers would reject the endorsement. Use the endorser's own key, or set the profile's id to {}",
                    p.id, key.controller(), key.controller()
                );
            }
            p
        }
        (None, Some(name)) => Profile::new(key.controller(), name)?,
        (None, None) => bail!("give the endorser: --endorser PROFILE.json or --endorser-name NAME"),
    };
    let id = match &args.id {
        Some(id) => id.clone(),
        None => {
            let seed = files::random_seed()?;
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&seed[..16]);
            format!(
                "urn:uuid:{}",
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            )
        }
    };
    let unsigned = microcred_core::endorsement_credential(
        &endorser,
        &subject,
        args.comment.as_deref(),
        &id,
        valid_from,
    )?;
    // eddsa-jcs-2022 signs the JSON as it is; the JSON-LD check that eddsa-rdfc-2022 makes
    // while signing is made here, so that both suites refuse terms no context defines.
    if let Some(problem) = microcred_core::json_ld_problem(&unsigned) {
        bail!("the endorsement cannot be signed: {problem}");
    }
    let signed = microcred_core::sign(&unsigned, &key, suite, created)
        .context("cannot sign the endorsement")?;
    files::emit_json(&signed, args.out.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// The id of what is endorsed: `spec` itself, or the `id` of the JSON file it names.
fn subject_id(spec: &str) -> Result<String> {
    let path = Path::new(spec);
    if !path.is_file() {
        return Ok(spec.to_owned());
    }
    let doc: Value = files::read_json(path)?;
    match doc.get("id").and_then(Value::as_str) {
        Some(id) => Ok(id.to_owned()),
        None => bail!(
            "{} has no `id`: only an achievement, profile or credential with an id can be endorsed",
            path.display()
        ),
    }
}
