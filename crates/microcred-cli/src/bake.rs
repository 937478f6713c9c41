//! `microcred bake` / `microcred unbake`: a credential inside its badge image (PNG `iTXt`
//! chunk or SVG `<openbadges:credential>` element, Open Badges 3.0 "Baked Badge"), and what
//! `microcred verify` does with a baked image.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_badge::{BakedSpec, ImageFormat, PayloadKind};
use microcred_core::{KeyRing, Outcome, Verdict, VerifyOptions};
use serde_json::Value;

use crate::files;

#[derive(Args)]
pub(crate) struct BakeArgs {
    /// The badge image to bake the credential into: a PNG or SVG file (the format is read
    /// from its content). An OB 3.0 credential already baked into it is replaced.
    #[arg(long, value_name = "FILE", required_unless_present = "generate")]
    image: Option<PathBuf>,
    /// No image of your own: generate a simple badge from the achievement's name (SVG if
    /// --out ends in .svg, PNG otherwise).
    #[arg(long, conflicts_with = "image")]
    generate: bool,
    /// The credential to bake: its JSON exactly as issued (baked byte for byte), or a compact
    /// JWS (VC-JWT).
    #[arg(long, value_name = "FILE")]
    credential: PathBuf,
    /// Where to write the baked image.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Bake a credential that has no proof, or whose proof does not verify (demos and tests
    /// only: such a badge proves nothing).
    #[arg(long)]
    allow_unsigned: bool,
    /// Check the credential as of this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Args)]
pub(crate) struct UnbakeArgs {
    /// The baked badge image (PNG or SVG); `-` reads stdin.
    image: PathBuf,
    /// Write the credential to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(crate) fn run_bake(args: BakeArgs) -> Result<ExitCode> {
    let credential = files::read_input(&args.credential)?;
    let cred_name = args.credential.display();
    let json = match PayloadKind::of(&credential) {
        PayloadKind::Json => Some(
            microcred_core::parse_strict(&credential)
                .with_context(|| format!("{cred_name} is not valid JSON"))?,
        ),
        PayloadKind::CompactJws => None,
        _ => bail!("{cred_name} is neither a credential's JSON nor a compact JWS (VC-JWT)"),
    };
    match &json {
        Some(value) => check_signed(value, &credential, &args)?,
        None => eprintln!(
            "microcred: note: {cred_name} is a compact JWS (VC-JWT); its signature is not \
             checked before baking"
        ),
    }
    let (image, generated) = match (&args.image, args.generate) {
        (Some(path), _) => (files::read_input(path)?, false),
        (None, _) => {
            let format = if args
                .out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
            {
                ImageFormat::Svg
            } else {
                ImageFormat::Png
            };
            let name = json.as_ref().map_or("Open Badge", achievement_name);
            (
                microcred_badge::generated_badge(name, format)
                    .context("cannot generate a badge image")?,
                true,
            )
        }
    };
    let baked = microcred_badge::bake(&image, &credential).with_context(|| match &args.image {
        Some(path) => format!("cannot bake {cred_name} into {}", path.display()),
        None => format!("cannot bake {cred_name} into a generated image"),
    })?;
    let format = ImageFormat::detect(&baked).map_or_else(|| "image".into(), |f| f.to_string());
    files::write_atomic(&args.out, &baked, false)?;
    eprintln!(
        "microcred: baked {cred_name} into {}{} ({format}, {} bytes)",
        args.out.display(),
        if generated { " (generated image)" } else { "" },
        baked.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses a credential without a proof, or one that fails verification, unless
/// `--allow-unsigned`; warns when it cannot be checked offline.
fn check_signed(value: &Value, bytes: &[u8], args: &BakeArgs) -> Result<()> {
    let name = args.credential.display();
    let unsigned = match value.get("proof") {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    if unsigned {
        if args.allow_unsigned {
            eprintln!("microcred: warning: {name} has no proof; the baked badge proves nothing");
            return Ok(());
        }
        bail!(
            "{name} has no proof (it is not signed): sign it first (`microcred sign`), or pass \
             --allow-unsigned for a demo badge that proves nothing"
        );
    }
    let at = files::time_or_now(args.at.as_deref())?;
    let keys = KeyRing::new();
    let report = microcred_core::verify(bytes, &VerifyOptions::new(at, &keys));
    let problem = report
        .first_problem()
        .map(|c| format!("{}: {}", c.check.label(), c.reason))
        .unwrap_or_else(|| "see `microcred verify`".into());
    match report.verdict {
        Verdict::Valid => Ok(()),
        Verdict::Invalid if args.allow_unsigned => {
            eprintln!("microcred: warning: {name} does not verify ({problem}); baking anyway");
            Ok(())
        }
        Verdict::Invalid => bail!(
            "{name} does not verify ({problem}): a badge baked from it would be rejected; run \
             `microcred verify {name}`"
        ),
        _ => {
            let why = report
                .checks
                .iter()
                .find(|c| c.outcome == Outcome::Unknown)
                .map(|c| c.reason.clone())
                .unwrap_or(problem);
            eprintln!(
                "microcred: note: {name} could not be fully checked offline ({why}); baking it \
                 unchanged"
            );
            Ok(())
        }
    }
}

/// The name to show on a generated image: the achievement's, else the credential's.
fn achievement_name(credential: &Value) -> &str {
    let subject = match credential.get("credentialSubject") {
        Some(Value::Array(a)) => a.first(),
        other => other,
    };
    subject
        .and_then(|s| s.get("achievement"))
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .or_else(|| credential.get("name").and_then(Value::as_str))
        .unwrap_or("Open Badge")
}

pub(crate) fn run_unbake(args: UnbakeArgs) -> Result<ExitCode> {
    let image = files::read_input(&args.image)?;
    let found = microcred_badge::unbake(&image)
        .with_context(|| format!("cannot unbake {}", args.image.display()))?;
    if found.spec == BakedSpec::OpenBadges2 {
        eprintln!(
            "microcred: note: {} carries an Open Badges 2.0 assertion ({}), not an Open Badges \
             3.0 credential",
            args.image.display(),
            microcred_verifier::input::describe_ob2(&found)
        );
    }
    match &args.out {
        Some(path) => files::write_atomic(path, &found.text, false)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&found.text)?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn achievement_names() {
        let v =
            serde_json::json!({"name": "C", "credentialSubject": {"achievement": {"name": "A"}}});
        assert_eq!(achievement_name(&v), "A");
        let v = serde_json::json!({"name": "C", "credentialSubject": [{"achievement": {}}]});
        assert_eq!(achievement_name(&v), "C");
        assert_eq!(achievement_name(&serde_json::json!({})), "Open Badge");
    }
}
