//! `microcred keygen` and `microcred did-doc`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use microcred_core::IssuerKey;
use serde_json::json;

use crate::files;

#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the key file (created with mode 0600; never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Controller DID for the key, e.g. `did:web:credentials.college.example` (default: the key's own did:key).
    #[arg(long)]
    controller: Option<String>,
    /// Fragment naming the key in the controller's DID document (with --controller).
    #[arg(long, default_value = "key-1", requires = "controller")]
    fragment: String,
}

pub(crate) fn run(args: KeygenArgs) -> Result<ExitCode> {
    if args.out.exists() {
        bail!(
            "{} already exists; refusing to overwrite a key (move it away first)",
            args.out.display()
        );
    }
    let seed = zeroize::Zeroizing::new(files::random_seed()?);
    let mut key = IssuerKey::from_seed(&seed)?;
    if let Some(controller) = &args.controller {
        if !controller.starts_with("did:") && !controller.starts_with("https://") {
            bail!("--controller must be a DID (e.g. did:web:college.example) or an https URL");
        }
        key = key.with_controller(&format!("{controller}#{}", args.fragment), controller)?;
    }
    files::write_atomic(&args.out, key.to_key_file()?.as_bytes(), true)?;
    writeln!(std::io::stdout().lock(), "{}", key.controller())?;
    eprintln!(
        "wrote {} (secret key: keep it private; public key {})",
        args.out.display(),
        key.public_key()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub(crate) struct DidDocArgs {
    /// The key file.
    #[arg(long)]
    key: PathBuf,
    /// Write the DID document here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run_did_doc(args: DidDocArgs) -> Result<ExitCode> {
    let key = files::read_key(&args.key)?;
    let doc = json!({
        "@context": ["https://www.w3.org/ns/did/v1", microcred_core::MULTIKEY_CONTEXT],
        "id": key.controller(),
        "verificationMethod": [key.public_method()],
        "authentication": [key.id()],
        "assertionMethod": [key.id()],
    });
    files::emit_json(&doc, args.out.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
