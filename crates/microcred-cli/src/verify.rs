//! `microcred verify`: a report per file, human or JSON, and exit codes
//! 0 all valid / 1 any invalid / 2 could not check.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_verifier::{check_file, known_identity, Checked, Evidence, Hints, Settings};

use crate::files;

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
    let mut evidence = Evidence::new();
    for k in &args.issuer_keys {
        load_pinned(k, &mut evidence)?;
    }
    for path in &args.did_docs {
        let doc = files::read_json(path)?;
        evidence
            .add_did_document(&doc)
            .with_context(|| format!("cannot use {}", path.display()))?;
    }
    if let Some(path) = &args.trust {
        let text = String::from_utf8(files::read_input(path)?)
            .with_context(|| format!("{} is not UTF-8", path.display()))?;
        evidence
            .set_trust_list(&text)
            .with_context(|| format!("cannot use {}", path.display()))?;
    }
    let mut online = crate::status::Online::load(&args.status, &mut evidence)?;
    for (url, file, text) in files::read_context_specs(&args.contexts)? {
        evidence
            .add_context(&url, &text)
            .with_context(|| format!("cannot use {file}"))?;
    }
    let settings = Settings {
        require_trusted: args.require_trusted,
        require_status: args.status.require_status,
        learner: args.learner.iter().map(|s| known_identity(s)).collect(),
        hints: Hints::CLI,
    };
    if !args.components.is_empty() {
        let [stacked] = args.files.as_slice() else {
            bail!("--component checks one stacked credential: give exactly one FILE");
        };
        return crate::stack::run(
            &crate::stack::StackArgs {
                stacked,
                components: &args.components,
                json: args.json,
            },
            &mut online,
            &mut evidence,
            at,
            &settings,
        );
    }
    // Read every file first, so that `--online` can fetch what they need before verifying.
    let inputs: Vec<(String, Result<Vec<u8>>)> = args
        .files
        .iter()
        .map(|p| (p.display().to_string(), files::read_input(p)))
        .collect();
    for (_, bytes) in &inputs {
        if let Ok(bytes) = bytes {
            online.prefetch(bytes, &mut evidence);
        }
    }
    let mut out = std::io::stdout().lock();
    let mut codes = Vec::with_capacity(inputs.len());
    for (name, bytes) in &inputs {
        let checked = match bytes {
            Ok(bytes) => check_file(name, bytes, &evidence, at, &settings),
            Err(e) => Checked::unreadable(name, &format!("{e:#}")),
        };
        codes.push(checked.exit_code);
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&checked.json)?)?;
        } else {
            out.write_all(checked.text.as_bytes())?;
        }
    }
    out.flush()?;
    // Exit codes: 0 all valid, 1 any invalid (takes precedence), 2 could not check.
    Ok(ExitCode::from(overall(&codes)))
}

/// The exit code of several files: 1 if any is invalid, else 2 if any could not be checked,
/// else 0.
pub(crate) fn overall(codes: &[u8]) -> u8 {
    if codes.contains(&1) {
        1
    } else {
        codes.iter().copied().max().unwrap_or(0)
    }
}

fn load_pinned(spec: &str, evidence: &mut Evidence) -> Result<()> {
    if (spec.starts_with('z') && !Path::new(spec).exists()) || spec.starts_with("did:key:") {
        return evidence
            .pin_key(spec)
            .with_context(|| format!("--issuer-key {spec}"));
    }
    let doc = files::read_json(Path::new(spec))?;
    evidence
        .pin_document(&doc)
        .with_context(|| format!("--issuer-key {spec}"))
}
