//! `microcred verify STACKED --component FILE...`: reads the files (unbaking badge images),
//! fetches what `--online` allows, and prints what [`microcred_verifier::check_stack_files`]
//! says: every file's report, then which component satisfies which required achievement.
//! Exit 0 when the stack is valid, 1 when it is not, 2 when it could not be decided.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use microcred_verifier::input::{verify_input, VerifyInput};
use microcred_verifier::{check_stack_files, Evidence, Settings};
use time::OffsetDateTime;

use crate::files;

pub(crate) struct StackArgs<'a> {
    pub(crate) stacked: &'a Path,
    pub(crate) components: &'a [PathBuf],
    pub(crate) json: bool,
}

/// Reads one file (unbaking a badge image): its credential's bytes.
fn read_credential(path: &Path) -> Result<Vec<u8>> {
    let raw = files::read_input(path)?;
    match verify_input(&raw) {
        VerifyInput::Credential { bytes, .. } => Ok(bytes.into_owned()),
        VerifyInput::NotVerifiable(why) => bail!("{}: {why}", path.display()),
    }
}

pub(crate) fn run(
    args: &StackArgs<'_>,
    online: &mut crate::status::Online,
    evidence: &mut Evidence,
    at: OffsetDateTime,
    settings: &Settings,
) -> Result<ExitCode> {
    // A file that cannot be read leaves nothing to decide: exit 2 (anyhow's error).
    let paths: Vec<&Path> = std::iter::once(args.stacked)
        .chain(args.components.iter().map(PathBuf::as_path))
        .collect();
    let files = paths
        .iter()
        .map(|p| read_credential(p))
        .collect::<Result<Vec<_>>>()?;
    for bytes in &files {
        online.prefetch(bytes, evidence);
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut named = names
        .iter()
        .zip(&files)
        .map(|(n, b)| (n.as_str(), b.as_slice()));
    let Some(stacked) = named.next() else {
        bail!("no stacked credential given");
    };
    let components: Vec<(&str, &[u8])> = named.collect();
    let checked = check_stack_files(stacked, &components, evidence, at, settings);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&checked.json)?)?;
    } else {
        out.write_all(checked.text.as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::from(checked.exit_code))
}
