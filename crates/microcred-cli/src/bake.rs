//! `microcred bake` / `microcred unbake`: a credential inside its badge image (PNG `iTXt`
//! chunk or SVG `<openbadges:credential>` element, Open Badges 3.0 "Baked Badge"), and what
//! `microcred verify` does with a baked image.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use microcred_badge::{BakedSpec, ImageFormat, PayloadKind, Unbaked};
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
            describe_ob2(&found)
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

/// What `microcred verify` does with a file's bytes.
pub(crate) enum VerifyInput<'a> {
    /// Verify these bytes; `from` says which baked image they were extracted from.
    Credential {
        bytes: Cow<'a, [u8]>,
        from: Option<String>,
    },
    /// Not verifiable here; the message says why (exit 2, could not check).
    NotVerifiable(String),
}

/// A credential's JSON goes to verification as is; a baked PNG or SVG is unbaked first.
pub(crate) fn verify_input(bytes: &[u8]) -> VerifyInput<'_> {
    let Some(format) = ImageFormat::detect(bytes) else {
        return VerifyInput::Credential {
            bytes: Cow::Borrowed(bytes),
            from: None,
        };
    };
    let found = match microcred_badge::unbake(bytes) {
        Ok(found) => found,
        Err(e) => return VerifyInput::NotVerifiable(format!("{e}")),
    };
    match (found.spec, found.kind()) {
        (BakedSpec::OpenBadges3, PayloadKind::Json) => VerifyInput::Credential {
            from: Some(format!(
                "extracted from a baked {format} image ({})",
                found.found_in
            )),
            bytes: Cow::Owned(found.text),
        },
        (BakedSpec::OpenBadges3, PayloadKind::CompactJws) => VerifyInput::NotVerifiable(format!(
            "the {format} image carries a VC-JWT (compact JWS) credential; microcred verifies \
             Data Integrity proofs only: ask the issuer for the credential's JSON"
        )),
        (BakedSpec::OpenBadges3, kind) => VerifyInput::NotVerifiable(format!(
            "the {format} image's baked credential is {kind}, not a credential's JSON"
        )),
        _ => VerifyInput::NotVerifiable(format!(
            "OB 2.0 assertion (hosted/signed) — not verifiable as a VC: the {format} image \
             carries an Open Badges 2.0 {} in its {}; check it with an Open Badges 2.0 \
             validator, or ask the issuer for an Open Badges 3.0 credential",
            describe_ob2(&found),
            found.found_in
        )),
    }
}

/// "hosted assertion URL https://…", "signed assertion (JWS)", "assertion JSON (…)".
fn describe_ob2(found: &Unbaked) -> String {
    match found.kind() {
        PayloadKind::Url => format!(
            "hosted assertion URL {}",
            printable(&String::from_utf8_lossy(&found.text))
        ),
        PayloadKind::CompactJws => "signed assertion (JWS)".into(),
        PayloadKind::Json => {
            let value = microcred_core::parse_strict(&found.text).ok();
            let get = |v: &Value, keys: &[&str]| -> Option<String> {
                keys.iter()
                    .try_fold(v, |v, k| v.get(*k))
                    .and_then(Value::as_str)
                    .map(printable)
            };
            let verification = value.as_ref().and_then(|v| {
                get(v, &["verification", "type"]).or_else(|| get(v, &["verify", "type"]))
            });
            let id = value.as_ref().and_then(|v| get(v, &["id"]));
            match (verification, id) {
                (Some(t), Some(id)) => format!("assertion JSON ({t} verification, id {id})"),
                (Some(t), None) => format!("assertion JSON ({t} verification)"),
                (None, Some(id)) => format!("assertion JSON (id {id})"),
                (None, None) => "assertion JSON".into(),
            }
        }
        _ => "assertion of an unrecognized form".into(),
    }
}

/// At most 200 characters, control characters replaced (no terminal escapes from images).
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_passes_through_and_images_are_unbaked() {
        let json = br#"{"a":1}"#;
        assert!(matches!(
            verify_input(json),
            VerifyInput::Credential { from: None, .. }
        ));
        let png = microcred_badge::generated_badge("x", ImageFormat::Png).unwrap();
        let baked = microcred_badge::bake(&png, json).unwrap();
        match verify_input(&baked) {
            VerifyInput::Credential { bytes, from } => {
                assert_eq!(&*bytes, json);
                assert!(from.unwrap().contains("PNG"));
            }
            VerifyInput::NotVerifiable(m) => panic!("{m}"),
        }
        match verify_input(&png) {
            VerifyInput::NotVerifiable(m) => assert!(m.contains("no Open Badges credential")),
            VerifyInput::Credential { .. } => panic!("unbaked image verified"),
        }
    }

    #[test]
    fn open_badges_2_is_explained() {
        let svg = br#"<svg xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://example.org/a/1"/></svg>"#;
        match verify_input(svg) {
            VerifyInput::NotVerifiable(m) => {
                assert!(m.contains("OB 2.0 assertion (hosted/signed) — not verifiable as a VC"));
                assert!(
                    m.contains("hosted assertion URL https://example.org/a/1"),
                    "{m}"
                );
            }
            VerifyInput::Credential { .. } => panic!("OB 2.0 verified"),
        }
        let hosted = br#"<svg xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://example.org/a/1"><![CDATA[{"id":"https://example.org/a/1","verification":{"type":"hosted"}}]]></openbadges:assertion></svg>"#;
        match verify_input(hosted) {
            VerifyInput::NotVerifiable(m) => {
                assert!(
                    m.contains("assertion JSON (hosted verification, id https://example.org/a/1)"),
                    "{m}"
                );
            }
            VerifyInput::Credential { .. } => panic!("OB 2.0 verified"),
        }
        assert_eq!(printable("a\u{1b}[31mb"), "a?[31mb");
    }

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
