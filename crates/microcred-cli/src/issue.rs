//! `microcred issue`: build and sign credentials from an achievement definition, for one
//! recipient or for every row of a CSV file, through the core's issuance path (the service's
//! too: the same rows give the same bytes and the same refusals). A batch signs on every core
//! under one proof setup and writes its files in chunks, each made durable by one sync
//! (resumable; every file whole or absent).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use microcred_core::{
    Achievement, ContextLoader, CredentialTemplate, Cryptosuite, IssueCheck, IssueRow, IssuerKey,
    LintOptions, Profile, ProofSetup, RowError, Spare,
};
use rayon::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::files;

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
    /// The credential's id (an IRI, e.g. `urn:uuid:…` from the institution's records); default
    /// a new random `urn:uuid:`. Single recipient only.
    #[arg(long, conflicts_with = "recipients")]
    id: Option<String>,
    /// The proof's creation time (RFC 3339), the same for every credential of a batch;
    /// default now.
    #[arg(long)]
    created: Option<String>,
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
    /// `evidence`, `credits_earned`, `activity_start`, `activity_end`, `valid_from`,
    /// `valid_until` columns (the service's batch CSV).
    #[arg(long, requires = "out_dir")]
    recipients: Option<PathBuf>,
    /// Directory for batch output, one file per recipient (named by a hash of the
    /// recipient). Re-running resumes: files already there are kept, and only missing ones are
    /// issued.
    #[arg(long, requires = "recipients")]
    out_dir: Option<PathBuf>,
    /// Worker threads for a batch (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Check a batch without writing: every row is built, checked and signed, nothing is
    /// written (files already in --out-dir are counted as kept). Reports the rows a real run
    /// would refuse, and the signing rate.
    #[arg(long, requires = "recipients")]
    dry_run: bool,
    #[command(flatten)]
    profile: crate::lint::ProfileArg,
}

/// Everything shared by all credentials of one run.
struct Run {
    key: IssuerKey,
    template: CredentialTemplate,
    suite: Cryptosuite,
    contexts: files::Contexts,
    /// `--valid-from` / `--valid-until`: each row's default.
    valid_from: Option<String>,
    valid_until: Option<String>,
    /// `--id` (single recipient).
    id: Option<String>,
    /// `--created`, or now.
    created: time::OffsetDateTime,
}

pub(crate) fn run(args: IssueArgs) -> Result<ExitCode> {
    let Some(run) = load(&args)? else {
        return Ok(ExitCode::from(1));
    };
    if let (Some(csv), Some(dir)) = (&args.recipients, &args.out_dir) {
        return run_batch(&run, csv, dir, args.jobs, args.dry_run);
    }
    let mut results = Map::new();
    for r in &args.results {
        let (k, v) = r
            .split_once('=')
            .with_context(|| format!("--result \"{r}\" must be NAME=VALUE"))?;
        results.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
    }
    let row = IssueRow {
        recipient: args.recipient.clone().unwrap_or_default(),
        results,
        evidence: args.evidence.iter().map(|e| e.as_str().into()).collect(),
        credits_earned: args.credits_earned,
        activity_start_date: args.activity_start.clone(),
        activity_end_date: args.activity_end.clone(),
        valid_from: None,
        valid_until: None,
        related_resource: Vec::new(),
    };
    let row = run.with_defaults(row);
    let now = run.created;
    let setup = run.setup(now)?;
    let mut spare = Spare::default();
    match run.issue(
        &row,
        now,
        IssueCheck::Full,
        &setup,
        run.contexts.get(),
        &mut spare,
    ) {
        Ok((bytes, report)) => {
            if !report.findings.is_empty() {
                crate::lint::print_findings(&args.achievement, &report, true);
            }
            match args.out.as_deref() {
                Some(path) => files::write_atomic(path, &bytes, false)?,
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(&bytes)?;
                    stdout.write_all(b"\n")?;
                    stdout.flush()?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(RowError::Lint(report)) => {
            eprintln!(
                "refusing to sign: lint found errors in the credential built from the achievement"
            );
            crate::lint::print_findings(&args.achievement, &report, true);
            Ok(ExitCode::from(1))
        }
        Err(RowError::Invalid(m)) => bail!("{m}"),
        Err(RowError::Internal(m)) => bail!("cannot issue: {m}"),
        Err(e @ RowError::Signer(_)) => bail!("cannot issue: {e}"),
    }
}

/// Reads the key, achievement and issuer profile and makes the template (linting what every
/// credential shares, once). `None`: lint refused the template (its findings are printed).
fn load(args: &IssueArgs) -> Result<Option<Run>> {
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
    // Checked now, so a bad option fails before any row.
    for t in [&args.valid_from, &args.valid_until].into_iter().flatten() {
        files::time_or_now(Some(t))?;
    }
    let contexts = files::Contexts::load(&args.contexts)?;
    let options = LintOptions::new()
        .with_contexts(contexts.get())
        .with_profile(args.profile.get());
    let template = CredentialTemplate::new(achievement, issuer, &options)
        .map_err(|e| anyhow::anyhow!("{} cannot be issued: {e}", args.achievement.display()))?;
    // A batch is refused before it starts; a single credential shows every error it has.
    if args.recipients.is_some() && template.report().has_errors() {
        eprintln!(
            "refusing the batch: lint found errors in the credential built from the achievement"
        );
        crate::lint::print_findings(&args.achievement, template.report(), true);
        return Ok(None);
    }
    Ok(Some(Run {
        key,
        template,
        suite,
        contexts,
        valid_from: args.valid_from.clone(),
        valid_until: args.valid_until.clone(),
        id: args.id.clone(),
        created: files::time_or_now(args.created.as_deref())?,
    }))
}

impl Run {
    /// `row` with `--valid-from` / `--valid-until` where it gives none.
    fn with_defaults(&self, mut row: IssueRow) -> IssueRow {
        if row.valid_from.is_none() {
            row.valid_from.clone_from(&self.valid_from);
        }
        if row.valid_until.is_none() {
            row.valid_until.clone_from(&self.valid_until);
        }
        row
    }

    /// The proof options of every credential signed at `created`.
    fn setup(&self, created: time::OffsetDateTime) -> Result<ProofSetup> {
        self.template
            .proof_setup(&self.key, self.suite, created, self.contexts.get())
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Builds and signs one learner's credential (a random `urn:uuid:` id, and a random salt
    /// for an e-mail address): its bytes (as the service stores them) and lint findings.
    fn issue(
        &self,
        row: &IssueRow,
        now: time::OffsetDateTime,
        check: IssueCheck,
        setup: &ProofSetup,
        contexts: &ContextLoader,
        spare: &mut Spare,
    ) -> Result<(Vec<u8>, microcred_core::LintReport), RowError> {
        let mut random = [0u8; 32];
        getrandom::getrandom(&mut random)
            .map_err(|e| RowError::Internal(format!("no randomness available: {e}")))?;
        let (id_bytes, salt) = random.split_at(16);
        let id_bytes: [u8; 16] = id_bytes
            .try_into()
            .map_err(|_| RowError::Internal("16 random bytes expected".into()))?;
        let id = match &self.id {
            Some(id) => id.clone(),
            None => format!(
                "urn:uuid:{}",
                uuid::Builder::from_random_bytes(id_bytes).into_uuid()
            ),
        };
        let salt = hex::encode(salt);
        let unsigned = self.template.build(row, &id, &salt, now, spare)?;
        let (signed, report) = self
            .template
            .sign(unsigned, check, setup, &self.key, contexts)?;
        let bytes = serde_json::to_vec(&signed).map_err(|e| RowError::Internal(e.to_string()))?;
        self.template.keep_spare(signed, spare);
        Ok((bytes, report))
    }
}

/// The output file of a recipient: a hash of the recipient, so names are stable across
/// re-runs (resume) and reveal no personal data.
fn output_name(recipient: &str) -> String {
    let digest = Sha256::digest(recipient.trim().to_lowercase().as_bytes());
    format!("{}.json", hex::encode(&digest[..10]))
}

/// Rows signed and written per chunk: each chunk's files are made durable by one sync.
/// 512 credentials are about 2.5 MB: large enough that the sync costs little per file, small
/// enough that a crash loses little work and memory stays flat.
const CHUNK: usize = 512;

fn run_batch(
    run: &Run,
    csv_path: &Path,
    dir: &Path,
    jobs: Option<usize>,
    dry_run: bool,
) -> Result<ExitCode> {
    let bytes = files::read_input(csv_path)?;
    let rows = microcred_core::parse_csv(&bytes, usize::MAX)
        .with_context(|| format!("{} cannot be used", csv_path.display()))?;
    drop(bytes);
    let out = if dry_run {
        crate::batch_out::OutDir::look(dir)?
    } else {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        crate::batch_out::OutDir::open(dir)?
    };
    let report = run.template.report();
    if !report.findings.is_empty() {
        eprintln!("lint warnings (the same for every credential of the batch):");
        crate::lint::print_findings(csv_path, report, true);
    }
    // What to issue: rows whose file is not there yet, each recipient once.
    let mut failures: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut skipped = 0usize;
    let total = rows.len();
    let mut todo: Vec<(usize, IssueRow, String)> = Vec::new();
    for (line, row) in rows {
        match row {
            Err(msg) => failures.push(format!("row {line}: {msg}")),
            Ok(row) => {
                let name = output_name(&row.recipient);
                if !seen.insert(name.clone()) {
                    failures.push(format!(
                        "row {line}: recipient \"{}\" appears more than once; issued once",
                        row.recipient
                    ));
                } else if out.exists(&name) {
                    skipped += 1;
                } else {
                    todo.push((line, run.with_defaults(row), name));
                }
            }
        }
    }
    drop(seen);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} credentials ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.inc((total - todo.len()) as u64);
    // One creation time and one proof setup for the whole batch.
    let now = run.created;
    let setup = run.setup(now)?;
    let issued = AtomicUsize::new(0);
    let row_failures: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    let fail = |line: usize, msg: String| {
        if let Ok(mut f) = row_failures.lock() {
            f.push((line, msg));
        }
    };
    let first_full = todo.first().map(|(line, _, _)| *line);
    let started = std::time::Instant::now();
    // Workers sign and write temporary files; one committer thread makes finished chunks
    // durable (one sync for every chunk waiting) and names their files, so no core waits
    // for the disk while there is signing to do. The bounded queue holds back workers if the
    // disk falls behind.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(crate::batch_out::Chunk, usize)>(4);
    let write_error = std::thread::scope(|scope| {
        let (issued, bar, out) = (&issued, &bar, &out);
        let committer = scope.spawn(move || {
            let mut error: Option<anyhow::Error> = None;
            while let Ok(first) = rx.recv() {
                let mut waiting = vec![first];
                waiting.extend(rx.try_iter());
                let rows: usize = waiting.iter().map(|(_, n)| n).sum();
                match out.commit(waiting.into_iter().map(|(c, _)| c).collect()) {
                    Ok(n) => {
                        issued.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
                bar.inc(rows as u64);
            }
            error
        });
        pool.install(|| {
            todo.par_chunks(CHUNK).for_each_with(tx, |tx, chunk| {
                thread_local! {
                    // Each worker resolves contexts with its own loader when only bundled ones
                    // are used (a shared loader's cache is a lock the cores keep taking from
                    // each other).
                    static BUNDLED: ContextLoader = ContextLoader::bundled();
                }
                let mut spare = Spare::default();
                let mut written = crate::batch_out::Chunk::default();
                for (line, row, name) in chunk {
                    let check = if Some(*line) == first_full {
                        IssueCheck::Full
                    } else {
                        IssueCheck::Row
                    };
                    let signed = if run.contexts.is_bundled_only() {
                        BUNDLED.with(|c| run.issue(row, now, check, &setup, c, &mut spare))
                    } else {
                        run.issue(row, now, check, &setup, run.contexts.get(), &mut spare)
                    };
                    match signed {
                        Ok((bytes, _)) if dry_run => {
                            std::hint::black_box(bytes);
                            issued.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((bytes, _)) => {
                            if let Err(e) = out.write(&mut written, name, &bytes) {
                                fail(*line, format!("{e:#}"));
                            }
                        }
                        Err(e) => fail(*line, e.message()),
                    }
                }
                // The committer ends only after every sender is gone: a send cannot fail
                // while workers run.
                let _ = tx.send((written, chunk.len()));
            });
        });
        committer
            .join()
            .unwrap_or_else(|_| Some(anyhow::anyhow!("the thread writing files stopped")))
    });
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    out.finish()?;
    if let Some(e) = write_error {
        return Err(e.context(format!(
            "writing to {} failed; files already written are whole: run the same command again to resume",
            dir.display()
        )));
    }
    let mut row_failures = row_failures.into_inner().unwrap_or_default();
    row_failures.sort_by_key(|(line, _)| *line);
    failures.extend(
        row_failures
            .into_iter()
            .map(|(line, m)| format!("row {line}: {m}")),
    );
    let issued = issued.into_inner();
    for f in &failures {
        eprintln!("failed: {f}");
    }
    let rate = issued as f64 / elapsed.as_secs_f64().max(1e-9);
    if dry_run {
        writeln!(
            std::io::stdout().lock(),
            "batch (dry run, nothing written): {issued} would be issued, {skipped} already present (kept), {} failed, {total} rows; signed {rate:.0} credentials/s on {} thread(s)",
            failures.len(),
            pool.current_num_threads()
        )?;
    } else {
        writeln!(
            std::io::stdout().lock(),
            "batch: {issued} issued, {skipped} already present (kept), {} failed, {total} rows; output in {} ({rate:.0} credentials/s)",
            failures.len(),
            dir.display()
        )?;
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
