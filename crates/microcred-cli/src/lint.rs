//! `microcred lint`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use microcred_core::{LintOptions, LintProfile, LintReport, Severity, UnknownProfile};
use serde_json::Value;

use crate::files;

/// A `--profile` choice: a profile, or none (`--profile none`).
#[derive(Clone, Copy)]
pub(crate) struct ProfileChoice(Option<&'static LintProfile>);

fn parse_profile(name: &str) -> Result<ProfileChoice, UnknownProfile> {
    LintProfile::parse_choice(name).map(ProfileChoice)
}

/// The `--profile` option of `lint`, `sign` and `issue`.
#[derive(Args)]
pub(crate) struct ProfileArg {
    /// Lint profile: eu-2022, heqco, au-nmf or nzqa. Its mandatory elements become errors
    /// (signing refused) for achievementType MicroCredential, warnings for other
    /// achievements. Default none: only what makes a credential invalid is an error, and
    /// the EU 2022 / HEQCO elements are warnings. `microcred lint --list-profiles` lists them.
    #[arg(long, value_name = "NAME", value_parser = parse_profile)]
    profile: Option<ProfileChoice>,
}

impl ProfileArg {
    /// The chosen profile, if any.
    pub(crate) fn get(&self) -> Option<&'static LintProfile> {
        self.profile.and_then(|c| c.0)
    }
}

#[derive(Args)]
pub(crate) struct LintArgs {
    /// Credential or achievement definition (JSON); `-` reads stdin.
    #[arg(required_unless_present = "list_profiles")]
    file: Option<PathBuf>,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
    /// Add a JSON-LD context that is not bundled: `URL=FILE` (repeatable). Never fetched.
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
    #[command(flatten)]
    profile: ProfileArg,
    /// List the lint profiles, one line each (with --json: their rules too), and exit.
    #[arg(long, conflicts_with = "file")]
    list_profiles: bool,
}

pub(crate) fn run(args: LintArgs) -> Result<ExitCode> {
    if args.list_profiles {
        list_profiles(args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(file) = args.file.as_deref() else {
        anyhow::bail!("give the file to lint (or --list-profiles)");
    };
    let value = files::read_json(file)?;
    let contexts = crate::files::Contexts::load(&args.contexts)?;
    let report = lint_any(&value, contexts.get(), args.profile.get());
    if args.json {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_findings(file, &report, false);
    }
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the profiles: one line each, or (`json`) their tables.
fn list_profiles(json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let profiles: Vec<Value> = LintProfile::all()
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name(),
                    "source": p.source(),
                    "description": p.description(),
                    "rules": p.rules().iter().map(|r| serde_json::json!({
                        "element": r.element(),
                        "rule": r.rule(),
                        "mandatory": r.requirement() == microcred_core::Requirement::Mandatory,
                        "what": r.what(),
                        "location": r.location(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&profiles)?)?;
        return Ok(());
    }
    for p in LintProfile::all() {
        writeln!(out, "{:<8} {}", p.name(), p.description())?;
    }
    writeln!(
        out,
        "{:<8} no profile (default): only what makes a credential invalid is an error; EU 2022 and HEQCO elements are warnings",
        microcred_core::NO_PROFILE
    )?;
    Ok(())
}

/// Lints a credential, or an achievement definition when that is what `value` is, under
/// `profile`.
pub(crate) fn lint_any(
    value: &Value,
    contexts: &microcred_core::ContextLoader,
    profile: Option<&'static LintProfile>,
) -> LintReport {
    let options = LintOptions::new()
        .with_contexts(contexts)
        .with_profile(profile);
    let is_achievement = value.get("credentialSubject").is_none()
        && value.get("@context").is_none()
        && match value.get("type") {
            Some(Value::String(s)) => s == "Achievement",
            Some(Value::Array(t)) => t.iter().any(|t| t == "Achievement"),
            _ => false,
        };
    if is_achievement {
        microcred_core::lint_achievement_with(value, &options)
    } else {
        microcred_core::lint_with(value, &options)
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
    let profile = report.profile.map_or_else(
        || "no lint profile".to_owned(),
        |p| format!("lint profile {p}"),
    );
    out(format!(
        "{}: {errors} error(s), {warnings} warning(s) ({profile})",
        file.display()
    ));
}
