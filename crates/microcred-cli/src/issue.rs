//! `microcred issue`: build and sign credentials from an achievement definition, for one
//! recipient or for every row of a CSV file (in parallel, resumable, atomic writes).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use microcred_core::{
    Achievement, AchievementSubject, Cryptosuite, Evidence, IssuerKey, OpenBadgeCredential,
    Profile, Recipient, ResultEntry,
};
use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::files;
use crate::sign::{sign_checked, Refusal};

#[derive(Args)]
pub(crate) struct IssueArgs {
    /// The institution's key file.
    #[arg(long)]
    key: PathBuf,
    /// The achievement definition (an OB 3.0 Achievement, or a credential to take it from).
    #[arg(long)]
    achievement: PathBuf,
    /// The issuer Profile (JSON); its `id`, if given, must be the key's controller (when
    /// absent, the controller is used). Default: the achievement's `creator`, with the key's
    /// controller as id.
    #[arg(long)]
    issuer: Option<PathBuf>,
    /// The learner: a DID/URL, or an e-mail address (stored as a salted SHA-256 hash).
    #[arg(
        long,
        conflicts_with = "recipients",
        required_unless_present = "recipients"
    )]
    recipient: Option<String>,
    /// A result, `NAME=VALUE`, where NAME is a resultDescription's id, last path segment or
    /// name (e.g. `--result final-assessment=86 --result status=Completed`). Repeatable.
    #[arg(long = "result", value_name = "NAME=VALUE")]
    results: Vec<String>,
    /// URL of evidence of the achievement. Repeatable.
    #[arg(long = "evidence", value_name = "URL")]
    evidence: Vec<String>,
    /// Credits earned by the learner.
    #[arg(long)]
    credits_earned: Option<f64>,
    /// Start of the learner's activity (RFC 3339).
    #[arg(long)]
    activity_start: Option<String>,
    /// End of the learner's activity (RFC 3339).
    #[arg(long)]
    activity_end: Option<String>,
    /// Start of validity and award date (RFC 3339); default now.
    #[arg(long)]
    valid_from: Option<String>,
    /// End of validity (RFC 3339); default none.
    #[arg(long)]
    valid_until: Option<String>,
    /// Cryptosuite of the proof: eddsa-rdfc-2022 (the Open Badges 3.0 default) or eddsa-jcs-2022.
    #[arg(long, default_value = "eddsa-rdfc-2022")]
    suite: String,
    /// Add a JSON-LD context that is not bundled: `URL=FILE` (repeatable). Never fetched.
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
    /// Write the credential here instead of stdout (single recipient).
    #[arg(long, conflicts_with = "recipients")]
    out: Option<PathBuf>,
    /// CSV of recipients for a batch: header row with `recipient` and optional `result:NAME`,
    /// `evidence`, `credits_earned`, `activity_start`, `activity_end`, `valid_until` columns.
    #[arg(long, requires = "out_dir")]
    recipients: Option<PathBuf>,
    /// Directory for batch output, one file per recipient. Re-running resumes: files already
    /// there are kept, and only missing ones are issued.
    #[arg(long, requires = "recipients")]
    out_dir: Option<PathBuf>,
    /// Worker threads for a batch (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    profile: crate::lint::ProfileArg,
}

/// Everything shared by all credentials of one run.
struct Template {
    key: IssuerKey,
    issuer: Profile,
    achievement: Achievement,
    suite: Cryptosuite,
    contexts: files::Contexts,
    valid_from: time::OffsetDateTime,
    valid_until: Option<String>,
    profile: Option<&'static microcred_core::LintProfile>,
}

/// What varies per learner.
#[derive(Default)]
struct RowInput {
    recipient: String,
    results: Vec<(String, String)>,
    evidence: Vec<String>,
    credits_earned: Option<f64>,
    activity_start: Option<String>,
    activity_end: Option<String>,
    valid_until: Option<String>,
}

pub(crate) fn run(args: IssueArgs) -> Result<ExitCode> {
    let template = load_template(&args)?;
    if let (Some(csv), Some(dir)) = (&args.recipients, &args.out_dir) {
        return run_batch(&template, csv, dir, args.jobs);
    }
    let row = RowInput {
        recipient: args.recipient.clone().unwrap_or_default(),
        results: args
            .results
            .iter()
            .map(|r| {
                r.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .with_context(|| format!("--result \"{r}\" must be NAME=VALUE"))
            })
            .collect::<Result<_>>()?,
        evidence: args.evidence.clone(),
        credits_earned: args.credits_earned,
        activity_start: args.activity_start.clone(),
        activity_end: args.activity_end.clone(),
        valid_until: None,
    };
    match issue_one(&template, &row)? {
        Ok((signed, report)) => {
            if !report.findings.is_empty() {
                crate::lint::print_findings(&args.achievement, &report, true);
            }
            files::emit_json(&signed, args.out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(report) => {
            eprintln!(
                "refusing to sign: lint found errors in the credential built from the achievement"
            );
            crate::lint::print_findings(&args.achievement, &report, true);
            Ok(ExitCode::from(1))
        }
    }
}

fn load_template(args: &IssueArgs) -> Result<Template> {
    let suite: Cryptosuite = args.suite.parse()?;
    let key = files::read_key(&args.key)?;
    let mut ach_value = files::read_json(&args.achievement)?;
    if let Some(a) = ach_value
        .get("credentialSubject")
        .and_then(|s| s.get("achievement"))
    {
        ach_value = a.clone();
    }
    let achievement = Achievement::from_value(ach_value)
        .with_context(|| format!("{} is not a usable achievement", args.achievement.display()))?;
    let issuer = match &args.issuer {
        Some(path) => {
            let mut v = files::read_json(path)?;
            if let Some(obj) = v.as_object_mut() {
                // A profile without `id` is the key holder's own.
                obj.entry("id").or_insert_with(|| key.controller().into());
            }
            let p = Profile::from_value(v)
                .with_context(|| format!("{} is not a usable issuer Profile", path.display()))?;
            if p.id != key.controller() {
                bail!(
                    "the issuer profile's id is {}, but the key belongs to {}: use the institution's own key, or set the profile's id to {}",
                    p.id, key.controller(), key.controller()
                );
            }
            p
        }
        None => {
            let mut p = achievement.creator.clone().with_context(|| {
                "the achievement has no `creator` Profile: pass --issuer PROFILE.json with the institution's name and address"
            })?;
            if p.id != key.controller() {
                eprintln!(
                    "note: issuer profile taken from the achievement's creator, with id {} (the key's controller)",
                    key.controller()
                );
                p.id = key.controller().to_owned();
            }
            p
        }
    };
    let valid_from = files::time_or_now(args.valid_from.as_deref())?;
    let valid_until = match &args.valid_until {
        Some(t) => Some(microcred_core::format_datetime(files::time_or_now(Some(
            t,
        ))?)),
        None => None,
    };
    Ok(Template {
        key,
        issuer,
        achievement,
        suite,
        contexts: files::Contexts::load(&args.contexts)?,
        valid_from,
        valid_until,
        profile: args.profile.get(),
    })
}

/// Builds and signs one credential (with its lint warnings). Outer error: bad input; inner
/// error: lint refused it.
fn issue_one(
    t: &Template,
    row: &RowInput,
) -> Result<Result<(Value, microcred_core::LintReport), microcred_core::LintReport>> {
    let mut salt_bytes = [0u8; 16];
    getrandom::getrandom(&mut salt_bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let salt: String = salt_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let recipient = Recipient::parse(&row.recipient, &salt)?;
    let mut subject = AchievementSubject::new(&recipient, t.achievement.clone());
    for (name, value) in &row.results {
        let rd = t
            .achievement
            .result_description
            .iter()
            .find(|d| {
                d.id == *name
                    || d.id.rsplit('/').next() == Some(name.as_str())
                    || d.name.eq_ignore_ascii_case(name)
            })
            .with_context(|| {
                let known: Vec<&str> = t
                    .achievement
                    .result_description
                    .iter()
                    .map(|d| d.id.rsplit('/').next().unwrap_or(&d.id))
                    .collect();
                format!(
                    "result \"{name}\" matches no resultDescription of the achievement (known: {})",
                    known.join(", ")
                )
            })?;
        subject.result.push(ResultEntry::for_description(rd, value));
    }
    subject.credits_earned = row.credits_earned;
    for (field, value) in [
        (&mut subject.activity_start_date, &row.activity_start),
        (&mut subject.activity_end_date, &row.activity_end),
    ] {
        if let Some(v) = value {
            *field = Some(microcred_core::format_datetime(files::time_or_now(Some(
                v,
            ))?));
        }
    }
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let mut credential = OpenBadgeCredential::new(&id, t.issuer.clone(), t.valid_from, subject)?;
    credential.valid_until = match &row.valid_until {
        Some(v) => Some(microcred_core::format_datetime(files::time_or_now(Some(
            v,
        ))?)),
        None => t.valid_until.clone(),
    };
    for url in &row.evidence {
        credential.evidence.push(Evidence::at(url)?);
    }
    let value = credential.to_value();
    match sign_checked(
        &value,
        &t.key,
        t.suite,
        time::OffsetDateTime::now_utc(),
        t.contexts.get(),
        t.profile,
    ) {
        Ok(signed) => Ok(Ok(signed)),
        Err(Refusal::Lint(report)) => Ok(Err(report)),
        Err(Refusal::Other(e)) => Err(e),
    }
}

/// The output file of a recipient: a hash of the recipient, so names are stable across
/// re-runs (resume) and reveal no personal data.
fn output_name(recipient: &str) -> String {
    let digest = Sha256::digest(recipient.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

fn run_batch(t: &Template, csv_path: &Path, dir: &Path, jobs: Option<usize>) -> Result<ExitCode> {
    let rows = read_rows(csv_path)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Refuse the whole batch early if the achievement itself cannot pass lint.
    // Its warnings are the same for every row: shown once.
    if let Some(first) = rows.iter().find_map(|r| r.as_ref().ok()) {
        match issue_one(t, &first.1)? {
            Err(report) => {
                eprintln!("refusing the batch: lint found errors in the credential built from the achievement");
                crate::lint::print_findings(csv_path, &report, true);
                return Ok(ExitCode::from(1));
            }
            Ok((_, report)) if !report.findings.is_empty() => {
                eprintln!("lint warnings (the same for every credential of the batch):");
                crate::lint::print_findings(csv_path, &report, true);
            }
            Ok(_) => {}
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} credentials ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let seen: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let (issued, skipped) = (
        std::sync::atomic::AtomicUsize::new(0),
        std::sync::atomic::AtomicUsize::new(0),
    );
    let fail = |msg: String| {
        if let Ok(mut f) = failures.lock() {
            f.push(msg);
        }
    };
    pool.install(|| {
        rows.par_iter().for_each(|row| {
            match row {
                Err(msg) => fail(msg.clone()),
                Ok((line, input)) => {
                    let name = output_name(&input.recipient);
                    let fresh = seen
                        .lock()
                        .map(|mut s| s.insert(name.clone()))
                        .unwrap_or(false);
                    if !fresh {
                        fail(format!(
                            "row {line}: recipient \"{}\" appears more than once; issued once",
                            input.recipient
                        ));
                    } else {
                        let path = dir.join(&name);
                        if path.exists() {
                            skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        } else {
                            match issue_one(t, input) {
                                Ok(Ok((signed, _))) => {
                                    let mut text =
                                        serde_json::to_vec_pretty(&signed).unwrap_or_default();
                                    text.push(b'\n');
                                    match files::write_atomic(&path, &text, false) {
                                        Ok(()) => {
                                            issued
                                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                        }
                                        Err(e) => fail(format!("row {line}: {e:#}")),
                                    }
                                }
                                Ok(Err(report)) => {
                                    let first = report
                                        .errors()
                                        .next()
                                        .map(|f| format!("{}: {}", f.path, f.message))
                                        .unwrap_or_default();
                                    fail(format!("row {line}: lint error: {first}"));
                                }
                                Err(e) => fail(format!("row {line}: {e:#}")),
                            }
                        }
                    }
                }
            }
            bar.inc(1);
        });
    });
    bar.finish_and_clear();
    let failures = failures.into_inner().unwrap_or_default();
    let issued = issued.into_inner();
    let skipped = skipped.into_inner();
    for f in &failures {
        eprintln!("failed: {f}");
    }
    writeln!(
        std::io::stdout().lock(),
        "batch: {issued} issued, {skipped} already present (kept), {} failed, {} rows; output in {}",
        failures.len(),
        rows.len(),
        dir.display()
    )?;
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads the CSV rows; a row that cannot be read becomes an error message for that row.
fn read_rows(path: &Path) -> Result<Vec<Result<(usize, RowInput), String>>> {
    let bytes = files::read_input(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header row", path.display()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let Some(recipient_col) = col("recipient") else {
        bail!(
            "{}: the header row needs a `recipient` column (DID, URL or e-mail per learner)",
            path.display()
        );
    };
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(Err(format!("row {line}: {e}")));
                continue;
            }
        };
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut input = RowInput {
            recipient: record.get(recipient_col).unwrap_or_default().to_owned(),
            activity_start: get(col("activity_start")),
            activity_end: get(col("activity_end")),
            valid_until: get(col("valid_until")),
            ..RowInput::default()
        };
        if input.recipient.is_empty() {
            rows.push(Err(format!("row {line}: empty recipient")));
            continue;
        }
        if let Some(c) = get(col("credits_earned")) {
            match c.parse() {
                Ok(v) => input.credits_earned = Some(v),
                Err(_) => {
                    rows.push(Err(format!(
                        "row {line}: credits_earned \"{c}\" is not a number"
                    )));
                    continue;
                }
            }
        }
        for (h, v) in headers.iter().zip(record.iter()) {
            if let Some(name) = h.strip_prefix("result:") {
                if !v.is_empty() {
                    input.results.push((name.to_owned(), v.to_owned()));
                }
            } else if h.eq_ignore_ascii_case("evidence") && !v.is_empty() {
                input
                    .evidence
                    .extend(v.split_whitespace().map(str::to_owned));
            }
        }
        rows.push(Ok((line, input)));
    }
    Ok(rows)
}
