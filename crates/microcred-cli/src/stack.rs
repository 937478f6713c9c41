//! `microcred verify STACKED --component FILE...`: verifies a stacked credential and its
//! components like any credentials, then checks the stacked achievement's
//! `stackingRequirement` against them (`microcred_core::check_stack`) and says which component
//! satisfies which required achievement. Exit 0 when the stack is valid, 1 when it is not,
//! 2 when it could not be decided.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use microcred_core::{
    check_stack, Component, Outcome, Report, StackCheckKind, StackReport, Verdict,
};
use microcred_verifier::input::{verify_input, VerifyInput};
use microcred_verifier::{report_text, Evidence, Settings};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::files;

pub(crate) struct StackArgs<'a> {
    pub(crate) stacked: &'a Path,
    pub(crate) components: &'a [PathBuf],
    pub(crate) json: bool,
}

/// One file, read (unbaked if an image) and verified.
struct Checked {
    path: PathBuf,
    bytes: Vec<u8>,
    value: Value,
    report: Report,
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
    let options = evidence.options(at);
    let mut checked = paths.iter().zip(files).map(|(path, bytes)| {
        let report = microcred_core::verify(&bytes, &options);
        let value = microcred_core::parse_strict(&bytes).unwrap_or(Value::Null);
        Checked {
            path: path.to_path_buf(),
            bytes,
            value,
            report,
        }
    });
    let Some(stacked) = checked.next() else {
        bail!("no stacked credential given");
    };
    let parts: Vec<Checked> = checked.collect();
    let learner = &settings.learner;
    let components: Vec<Component<'_>> = parts
        .iter()
        .map(|c| Component {
            credential: &c.value,
            bytes: Some(&c.bytes),
            report: &c.report,
        })
        .collect();
    let stack = check_stack(&stacked.value, &stacked.report, &components, learner);
    let code = exit_code(&stack, &stacked, &parts, settings);
    let mut out = std::io::stdout().lock();
    if args.json {
        let reports = |c: &Checked| -> Result<Value> {
            let mut v = serde_json::to_value(&c.report)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("file".into(), json!(c.path.display().to_string()));
                o.insert("status".into(), json!(c.report.status()));
            }
            Ok(v)
        };
        let obj = json!({
            "file": stacked.path.display().to_string(),
            "verdict": stack.verdict,
            "exit_code": code,
            "credential": reports(&stacked)?,
            "components": parts.iter().map(reports).collect::<Result<Vec<_>>>()?,
            "stack": stack,
        });
        writeln!(out, "{}", serde_json::to_string(&obj)?)?;
    } else {
        print_stack(&mut out, &stacked, &parts, &stack, code, settings)?;
    }
    out.flush()?;
    Ok(ExitCode::from(code))
}

/// 0 valid, 1 invalid, 2 undecided; `--require-trusted` / `--require-status` apply to the
/// stacked credential and to every component that counts.
fn exit_code(stack: &StackReport, stacked: &Checked, parts: &[Checked], settings: &Settings) -> u8 {
    let strict = |r: &Report| {
        microcred_verifier::exit_code(r, settings.require_trusted, settings.require_status)
    };
    let counted = parts
        .iter()
        .zip(&stack.components)
        .filter(|(_, o)| o.counted)
        .map(|(c, _)| &c.report);
    let strictness_fails = std::iter::once(&stacked.report)
        .chain(counted)
        .any(|r| strict(r) == 1);
    match stack.verdict {
        Verdict::Invalid => 1,
        Verdict::Valid if strictness_fails => 1,
        Verdict::Valid => 0,
        _ => 2,
    }
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Unknown => "unknown",
        _ => "not checked",
    }
}

fn print_stack(
    out: &mut impl Write,
    stacked: &Checked,
    parts: &[Checked],
    stack: &StackReport,
    code: u8,
    settings: &Settings,
) -> std::io::Result<()> {
    for c in std::iter::once(stacked).chain(parts) {
        out.write_all(
            report_text(
                &c.path.display().to_string(),
                &c.report,
                settings.require_trusted,
                settings.require_status,
                &settings.hints,
            )
            .as_bytes(),
        )?;
    }
    let verdict = match code {
        0 => "STACK VALID",
        1 => "STACK INVALID",
        _ => "STACK COULD NOT BE CHECKED",
    };
    let name = stacked
        .report
        .name
        .as_deref()
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default();
    writeln!(out, "{}: {verdict}{name}", stacked.path.display())?;
    if let Some(rule) = &stack.rule_text {
        writeln!(out, "  It requires {rule}.")?;
    }
    for (req, i) in stack.requirements.iter().zip(1..) {
        let what = req
            .name
            .as_deref()
            .map(|n| format!("\"{n}\" ({})", req.achievement))
            .unwrap_or_else(|| req.achievement.clone());
        let by = req.satisfied_by.as_deref().and_then(|id| {
            parts
                .iter()
                .find(|p| p.value.get("id").and_then(Value::as_str) == Some(id))
                .map(|p| format!("{} ({id})", p.path.display()))
        });
        match by {
            Some(file) => writeln!(out, "  {i}. {what}: satisfied by {file}")?,
            None => writeln!(out, "  {i}. {what}: {}", req.reason)?,
        }
    }
    for (c, o) in parts.iter().zip(&stack.components) {
        if !o.counted {
            writeln!(out, "  not counted: {}: {}", c.path.display(), o.reason)?;
        }
    }
    for c in &stack.checks {
        writeln!(
            out,
            "  {:<24} {:<11} {}",
            c.check.label(),
            mark(c.outcome),
            c.reason
        )?;
    }
    if code != 0 {
        let problem = stack
            .checks
            .iter()
            .find(|c| c.outcome == Outcome::Fail)
            .or_else(|| stack.checks.iter().find(|c| c.outcome != Outcome::Pass));
        if let Some(p) = problem {
            writeln!(out, "  => {}", explain(p.check, p.outcome))?;
        } else if code == 1 {
            writeln!(out, "  => A credential that counts does not meet --require-trusted or --require-status (see its report above).")?;
        }
    }
    writeln!(out)
}

/// What a stack problem means for the person deciding.
fn explain(kind: StackCheckKind, outcome: Outcome) -> &'static str {
    let undecided = outcome != Outcome::Fail;
    match kind {
        StackCheckKind::Credential => "The stacked credential itself does not verify (see its report above): the stack cannot be relied on.",
        StackCheckKind::Rule => "The stacked credential does not say, in a form that can be checked, how it stacks.",
        StackCheckKind::Count => "The components given do not cover what the stacked achievement requires (see the list above): ask the learner for the missing ones.",
        StackCheckKind::Credits => "The components given do not add up to the credits the stacked achievement requires.",
        StackCheckKind::Window => "The components were not all earned within the time the stacked achievement allows.",
        StackCheckKind::Learner if undecided => "The credentials identify the learner by hashed identifiers that cannot be compared: ask the learner for the e-mail address they were issued to and pass it with --learner EMAIL.",
        StackCheckKind::Learner => "Some components belong to another learner: do not accept this stack as it stands.",
        _ => "See the checks above.",
    }
}
