//! `microcred lint`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use microcred_core::{LintReport, Severity};
use serde_json::Value;

use crate::files;

#[derive(Args)]
pub(crate) struct LintArgs {
    /// Credential or achievement definition (JSON); `-` reads stdin.
    file: PathBuf,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
    /// Add a JSON-LD context that is not bundled: `URL=FILE` (repeatable). Never fetched.
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
}

pub(crate) fn run(args: LintArgs) -> Result<ExitCode> {
    let value = files::read_json(&args.file)?;
    let contexts = crate::files::Contexts::load(&args.contexts)?;
    let report = lint_any(&value, contexts.get());
    if args.json {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_findings(&args.file, &report, false);
    }
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lints a credential, or an achievement definition when that is what `value` is.
pub(crate) fn lint_any(value: &Value, contexts: &microcred_core::ContextLoader) -> LintReport {
    let is_achievement = value.get("credentialSubject").is_none()
        && value.get("@context").is_none()
        && match value.get("type") {
            Some(Value::String(s)) => s == "Achievement",
            Some(Value::Array(t)) => t.iter().any(|t| t == "Achievement"),
            _ => false,
        };
    if is_achievement {
        microcred_core::lint_achievement(value)
    } else {
        microcred_core::lint_with_contexts(value, contexts)
    }
}

/// Prints findings for a person, on stderr-friendly lines.
pub(crate) fn print_findings(file: &Path, report: &LintReport, to_stderr: bool) {
    // Write errors (a closed pipe) are ignored here: findings are advisory output.
    let out = |line: String| {
        if to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    };
    let errors = report.errors().count();
    let warnings = report.findings.len() - errors;
    for f in &report.findings {
        let tag = match f.severity {
            Severity::Error => "error",
            _ => "warning",
        };
        let path = if f.path.is_empty() {
            "(document)"
        } else {
            &f.path
        };
        out(format!(
            "{}: {tag}[{}] {path}: {}",
            file.display(),
            f.rule,
            f.message
        ));
    }
    out(format!(
        "{}: {errors} error(s), {warnings} warning(s)",
        file.display()
    ));
}
