//! One file verified and explained: the exit code, the verdict in words, each check with its
//! reason, the text report and the JSON report. `microcred verify` prints `text` (or `json`,
//! one line per file); the verifier page shows the same, laid out.

use std::fmt::Write as _;

use microcred_core::{
    check_clr, CheckKind, ClrReport, EndorsementReport, EndorserTrust, KnownIdentity, Outcome,
    Report, Verdict,
};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::evidence::Evidence;
use crate::input::{verify_input, VerifyInput};

/// The most credentials of one presentation that are verified (as for a CLR).
const MAX_PRESENTED: usize = microcred_core::MAX_CLR_CREDENTIALS;

/// How the advice in explanations tells the user to supply what is missing: the CLI names its
/// options, the page its input fields. The rest of the wording is the same.
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    /// How to add a JSON-LD context that is not bundled.
    pub context: &'static str,
    /// How to supply the issuer's DID document or key.
    pub did_doc: &'static str,
    /// How to supply the institution's status list.
    pub status: &'static str,
    /// How to make an unknown status count as invalid.
    pub require_status: &'static str,
    /// The settings that make a stack's counted credentials fail (trust, status).
    pub stack_strictness: &'static str,
    /// What to do when a stack's credentials identify the learner by hashed identifiers.
    pub learner: &'static str,
}

impl Hints {
    /// `microcred verify`'s options.
    pub const CLI: Self = Self {
        context: "add it with --context URL=FILE",
        did_doc: "pass it with --did-doc FILE or --issuer-key",
        status: "fetch its status list with --online, or pass a saved copy with --status-list FILE or --bundle FILE",
        require_status: "--require-status treats an unknown status as invalid.",
        stack_strictness: "--require-trusted or --require-status",
        learner: "The credentials identify the learner by hashed identifiers that cannot be compared: ask the learner for the e-mail address they were issued to and pass it with --learner EMAIL.",
    };
    /// The verifier page's fields.
    pub const PAGE: Self = Self {
        context: "this page knows only the contexts built into it; `microcred verify --context URL=FILE` can add others",
        did_doc: "add it under \"Issuer keys and DID documents\"",
        status: "add the institution's status list, or a verification bundle made with `microcred bundle`, under \"Revocation status\"",
        require_status: "\"Treat unknown revocation status as invalid\" makes it count as invalid.",
        stack_strictness: "the options you chose (a trusted issuer, a known revocation status)",
        learner: "The credentials identify the learner by hashed identifiers that cannot be compared: ask the learner for the e-mail address they were issued to and enter it under \"The learner's e-mail address\".",
    };
}

/// What the caller asks beyond the evidence.
#[derive(Debug, Clone)]
pub struct Settings {
    /// An issuer that is not on the trust list makes the credential invalid.
    pub require_trusted: bool,
    /// An unknown revocation status makes the credential invalid.
    pub require_status: bool,
    /// The learner's identities, to compare hashed identifiers across a CLR's credentials.
    pub learner: Vec<KnownIdentity>,
    /// How explanations word their advice.
    pub hints: Hints,
}

impl Settings {
    /// Nothing required, no learner, with the CLI's wording.
    pub fn new(hints: Hints) -> Self {
        Self {
            require_trusted: false,
            require_status: false,
            learner: Vec::new(),
            hints,
        }
    }
}

/// One line of a report: a check (or an endorsement, a part of a record or presentation) with
/// its mark and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What was checked ("signature", "endorsement", "credential 2", …).
    pub label: String,
    /// "pass", "FAIL", "unknown", "not checked", or an endorsement's trust ("trusted", …).
    pub mark: String,
    /// Why, in words.
    pub reason: String,
}

/// One file, verified and explained.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Checked {
    /// 0 valid, 1 invalid, 2 could not check (what `microcred verify` exits with for this
    /// file alone).
    pub exit_code: u8,
    /// The verdict, after the settings (a valid credential from an untrusted issuer is
    /// invalid when a trusted issuer is required).
    pub verdict: Verdict,
    /// The verdict in words: "VALID", "VALID, BUT REVOCATION STATUS UNKNOWN", "INVALID",
    /// "COULD NOT CHECK", "RECORD VALID", "PRESENTATION INVALID", …
    pub headline: String,
    /// What it is and who issued it (` "Name" issued by College (did:web:…)`), or empty.
    pub subject: String,
    /// What a problem means for the person deciding, when the verdict is not plain valid.
    pub explanation: Option<String>,
    /// Where the credential came from when it was unbaked from an image.
    pub source: Option<String>,
    /// Each check with its mark and reason.
    pub lines: Vec<Line>,
    /// The text report `microcred verify` prints.
    pub text: String,
    /// The JSON object `microcred verify --json` prints.
    pub json: Value,
}

impl Checked {
    /// A file that could not be read: nothing can be said about it (exit 2).
    pub fn unreadable(name: &str, error: &str) -> Self {
        Self {
            exit_code: 2,
            verdict: Verdict::Indeterminate,
            headline: "COULD NOT CHECK".into(),
            subject: String::new(),
            explanation: Some(error.to_owned()),
            source: None,
            lines: Vec::new(),
            text: format!("{name}: COULD NOT CHECK: {error}\n\n"),
            json: json!({
                "file": name,
                "verdict": "indeterminate",
                "error": error,
                "exit_code": 2,
            }),
        }
    }

    /// Everything, as one JSON object (what the verifier page receives).
    pub fn to_value(&self) -> Value {
        json!({
            "exit_code": self.exit_code,
            "verdict": self.verdict,
            "headline": self.headline,
            "subject": self.subject,
            "explanation": self.explanation,
            "source": self.source,
            "checks": self.lines.iter().map(|l| json!({
                "label": l.label, "mark": l.mark, "reason": l.reason,
            })).collect::<Vec<_>>(),
            "text": self.text,
            "report": self.json,
        })
    }
}

/// Verifies one file's bytes (a credential's JSON, a baked PNG/SVG badge, a CLR, or a
/// verifiable presentation) as of `at` with `evidence`. `name` is how the file is called in
/// the report.
pub fn check_file(
    name: &str,
    bytes: &[u8],
    evidence: &Evidence,
    at: OffsetDateTime,
    settings: &Settings,
) -> Checked {
    let (bytes, source) = match verify_input(bytes) {
        VerifyInput::Credential { bytes, from } => (bytes, from),
        VerifyInput::NotVerifiable(why) => return Checked::unreadable(name, &why),
    };
    let options = evidence.options(at);
    let value = microcred_core::parse_strict(&bytes).ok();
    let mut checked = match value.as_ref() {
        Some(v) if microcred_core::is_clr(v) => {
            let report = microcred_core::verify_value(v, &options);
            let clr = check_clr(v, &report, &options, &settings.learner);
            record(name, &report, &clr, settings)
        }
        Some(v) if is_presentation(v) => presentation(name, v, evidence, at, settings),
        // The exact bytes received, parsed once more by the verifier itself.
        _ => credential(name, &microcred_core::verify(&bytes, &options), settings),
    };
    if let Some(from) = &source {
        checked.text = format!("{name}: credential {from}\n{}", checked.text);
        if let Some(o) = checked.json.as_object_mut() {
            o.insert("baked_image".into(), json!(from));
        }
    }
    checked.source = source;
    checked
}

/// 0 valid, 1 invalid, 2 could not check. An unknown status does not fail a valid
/// credential unless `require_status`; an untrusted issuer does not unless `require_trusted`.
pub fn exit_code(report: &Report, require_trusted: bool, require_status: bool) -> u8 {
    match report.verdict {
        Verdict::Invalid => 1,
        Verdict::Valid if require_trusted && trust_outcome(report) != Some(Outcome::Pass) => 1,
        Verdict::Valid if require_status && report.status() == Outcome::Unknown => 1,
        Verdict::Valid => 0,
        _ => 2,
    }
}

fn trust_outcome(report: &Report) -> Option<Outcome> {
    report
        .checks
        .iter()
        .find(|c| c.check == CheckKind::Trust)
        .map(|c| c.outcome)
}

fn verdict_of(code: u8) -> Verdict {
    match code {
        0 => Verdict::Valid,
        1 => Verdict::Invalid,
        _ => Verdict::Indeterminate,
    }
}

/// `EMAIL` or `TYPE=VALUE` (e.g. `sisSourcedId=N01234567`): one of the learner's identities.
pub fn known_identity(spec: &str) -> KnownIdentity {
    match spec.split_once('=') {
        Some((t, v)) if !t.contains('@') => KnownIdentity {
            identity_type: t.to_owned(),
            value: v.to_owned(),
        },
        _ => KnownIdentity {
            identity_type: "emailAddress".into(),
            value: spec.to_owned(),
        },
    }
}

/// The credentials a record (`credentialSubject.verifiableCredential`) or a presentation
/// (`verifiableCredential`) holds, as objects.
pub(crate) fn embedded_credentials(value: &Value) -> Vec<&Value> {
    let held = if microcred_core::is_clr(value) {
        value
            .get("credentialSubject")
            .and_then(|s| s.get("verifiableCredential"))
    } else if is_presentation(value) {
        value.get("verifiableCredential")
    } else {
        None
    };
    match held {
        Some(Value::Array(items)) => items.iter().filter(|c| c.is_object()).collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

fn is_presentation(value: &Value) -> bool {
    match value.get("type") {
        Some(Value::String(t)) => t == "VerifiablePresentation",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "VerifiablePresentation"),
        _ => false,
    }
}

/// A check's outcome as the reports write it.
pub(crate) fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::Unknown => "unknown",
        _ => "not checked",
    }
}

/// The JSON `--json` prints for one credential's report.
fn report_json(report: &Report, code: u8) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("exit_code".into(), json!(code));
        o.insert("status".into(), json!(report.status()));
    }
    v
}

fn with_file(mut v: Value, name: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        let mut m = Map::with_capacity(o.len() + 1);
        m.insert("file".into(), json!(name));
        m.append(o);
        return Value::Object(m);
    }
    v
}

/// A credential on its own.
fn credential(name: &str, report: &Report, settings: &Settings) -> Checked {
    let code = exit_code(report, settings.require_trusted, settings.require_status);
    let (headline, subject) = heading(report, code);
    let mut lines = check_lines(report);
    lines.extend(endorsement_lines(report));
    Checked {
        exit_code: code,
        verdict: verdict_of(code),
        explanation: explanation(report, &headline, &settings.hints),
        text: report_text(
            name,
            report,
            settings.require_trusted,
            settings.require_status,
            &settings.hints,
        ),
        headline,
        subject,
        source: None,
        lines,
        json: with_file(report_json(report, code), name),
    }
}

/// The verdict line's words and the subject (` "Name" issued by …`).
fn heading(report: &Report, code: u8) -> (String, String) {
    // An unknown status never passes silently: it is in the verdict line.
    let status_unknown = report.status() == Outcome::Unknown;
    let verdict = match code {
        0 if status_unknown => "VALID, BUT REVOCATION STATUS UNKNOWN",
        0 => "VALID",
        1 => "INVALID",
        _ => "COULD NOT CHECK",
    };
    let what = report
        .name
        .as_deref()
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default();
    let by = match (&report.issuer_name, &report.issuer) {
        (Some(n), Some(id)) => format!(" issued by {n} ({id})"),
        (None, Some(id)) => format!(" issued by {id}"),
        _ => String::new(),
    };
    (verdict.to_owned(), format!("{what}{by}"))
}

fn check_lines(report: &Report) -> Vec<Line> {
    report
        .checks
        .iter()
        .map(|c| Line {
            label: c.check.label().to_owned(),
            mark: mark(c.outcome).to_owned(),
            reason: c.reason.clone(),
        })
        .collect()
}

fn endorsement_lines(report: &Report) -> Vec<Line> {
    report
        .endorsements
        .iter()
        .map(|e| Line {
            label: "endorsement".into(),
            mark: e.trust.label().to_owned(),
            reason: endorsement_line(e),
        })
        .collect()
}

fn explanation(report: &Report, headline: &str, hints: &Hints) -> Option<String> {
    if headline == "VALID" {
        return None;
    }
    let problem = report.first_problem().or_else(|| {
        report
            .checks
            .iter()
            .find(|c| c.check == CheckKind::Status && c.outcome == Outcome::Unknown)
    })?;
    Some(
        if problem.outcome != Outcome::Fail && problem.reason.contains("too complex") {
            TOO_COMPLEX.to_owned()
        } else {
            explain(problem.check, problem.outcome, hints)
        },
    )
}

/// The text report of one credential, as `microcred verify` prints it: the verdict line, each
/// check, each endorsement, and what a problem means.
pub fn report_text(
    name: &str,
    report: &Report,
    require_trusted: bool,
    require_status: bool,
    hints: &Hints,
) -> String {
    let code = exit_code(report, require_trusted, require_status);
    let (headline, subject) = heading(report, code);
    let mut out = format!("{name}: {headline}{subject}\n");
    for l in check_lines(report).iter().chain(&endorsement_lines(report)) {
        let _ = writeln!(out, "  {:<12} {:<11} {}", l.label, l.mark, l.reason);
    }
    if let Some(why) = explanation(report, &headline, hints) {
        let _ = writeln!(out, "  => {why}");
    }
    out.push('\n');
    out
}

/// What one endorsement says and what was found, after its trust mark: who endorses what
/// (with the comment) when it verified, else why not. Endorsements never change the verdict.
fn endorsement_line(e: &EndorsementReport) -> String {
    let who = match (&e.endorser_name, &e.endorser) {
        (Some(n), Some(id)) => format!("{n} ({id})"),
        (None, Some(id)) => id.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => "an unnamed endorser".to_owned(),
    };
    let comment = e
        .comment
        .as_deref()
        .map(|c| format!(": \"{c}\""))
        .unwrap_or_default();
    match (e.trust, e.verdict) {
        (EndorserTrust::Trusted | EndorserTrust::Unknown, Verdict::Valid) => {
            format!("{who} endorses {}{comment}", e.endorses.label())
        }
        (EndorserTrust::Unknown, _) => format!(
            "{who} endorses {}{comment} ({})",
            e.endorses.label(),
            e.reason
        ),
        (EndorserTrust::Invalid, _) => format!("{} by {who}: {}", e.path, e.reason),
        _ => format!("{}: {}", e.path, e.reason),
    }
}

/// A credential beyond the verifier's work limits (microcred-rdf's): possibly crafted to
/// exhaust verifiers, in any case not checked.
const TOO_COMPLEX: &str = "The credential is too complex to check within this verifier's limits (for example very many look-alike blank nodes), which legitimate credentials never need; it may be crafted to exhaust verifiers. Nothing is known either way: do not accept it as it stands.";

/// What a problem means for the person deciding whether to accept the credential.
fn explain(kind: CheckKind, outcome: Outcome, hints: &Hints) -> String {
    let undecided = outcome != Outcome::Fail;
    match kind {
        CheckKind::WellFormed if undecided => "This file is not a credential that can be read (not JSON, or not a supported format).".into(),
        CheckKind::WellFormed => "This file is not a verifiable credential in a form that can be checked.".into(),
        CheckKind::Proof if undecided => format!("This verifier cannot check this kind of signature, or the credential uses a JSON-LD context it does not have ({}). Nothing is known either way.", hints.context),
        CheckKind::Proof => "The credential carries no usable signature; it cannot be shown to come from the institution.".into(),
        CheckKind::Signature if undecided => format!("The institution's public key could not be found offline: get the issuer's DID document (e.g. its did.json) or key and {}, then verify again. Nothing is known either way.", hints.did_doc),
        CheckKind::Signature => "The signature does not prove the content: do not rely on this credential as it stands.".into(),
        CheckKind::IssuerKey => "The credential was not signed by the institution it names as issuer.".into(),
        CheckKind::Validity => "The credential is outside its validity period.".into(),
        CheckKind::Trust => "The issuer is not one you have listed as trusted.".into(),
        CheckKind::Status if undecided => format!("Whether the institution has revoked or suspended this credential is not known (see the status line): {}. {}", hints.status, hints.require_status),
        CheckKind::Status => "The institution has revoked or suspended this credential: do not accept it as it stands.".into(),
        _ => "See the checks above.".into(),
    }
}

/// A CLR: the record's own report, then the record's checks, each embedded credential, the
/// associations and the pathways.
fn record(name: &str, report: &Report, clr: &ClrReport, settings: &Settings) -> Checked {
    let code = match clr.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        _ => 2,
    };
    let headline = match code {
        0 => "RECORD VALID",
        1 => "RECORD INVALID",
        _ => "RECORD COULD NOT BE CHECKED",
    };
    let mut json = report_json(report, code);
    if let Some(o) = json.as_object_mut() {
        o.insert(
            "clr".into(),
            serde_json::to_value(clr).unwrap_or(Value::Null),
        );
    }
    let mut lines = check_lines(report);
    lines.extend(clr.checks.iter().map(|c| Line {
        label: c.check.label().to_owned(),
        mark: mark(c.outcome).to_owned(),
        reason: c.reason.clone(),
    }));
    for (i, r) in clr.credentials.iter().enumerate() {
        lines.push(part_line(i, r));
    }
    for a in &clr.associations {
        lines.push(Line {
            label: "association".into(),
            mark: mark(a.outcome).to_owned(),
            reason: format!(
                "{} {} {}{}",
                a.source_id,
                a.association_type,
                a.target_id,
                if a.outcome == Outcome::Pass {
                    String::new()
                } else {
                    format!(" ({})", a.reason)
                }
            ),
        });
    }
    for s in &clr.stacks {
        let what = s.achievement.as_deref().unwrap_or("a stacked achievement");
        let (m, verdict) = match s.verdict {
            Verdict::Valid => ("pass", "satisfied"),
            Verdict::Invalid => ("FAIL", "not satisfied"),
            _ => ("unknown", "could not be decided"),
        };
        let detail: Vec<String> = s
            .requirements
            .iter()
            .map(|q| {
                format!(
                    "{}: {}",
                    q.name.as_deref().unwrap_or(&q.achievement),
                    q.reason
                )
            })
            .collect();
        lines.push(Line {
            label: "pathway".into(),
            mark: m.into(),
            reason: format!("{what}: {verdict}; {}", detail.join("; ")),
        });
    }
    let (_, subject) = heading(report, code);
    let mut text = report_text(name, report, false, false, &settings.hints);
    clr_text(&mut text, name, clr, headline);
    Checked {
        exit_code: code,
        verdict: verdict_of(code),
        headline: headline.into(),
        subject,
        explanation: (code != 0).then(|| {
            "Something in this record does not check out: see each credential, association and pathway below. Do not rely on the record as a whole; a credential in it that is valid on its own can still be relied on.".to_owned()
        }),
        source: None,
        lines,
        text,
        json: with_file(json, name),
    }
}

/// "credential N" with its verdict and, when it is not valid, its first problem.
fn part_line(i: usize, r: &Report) -> Line {
    let name = r
        .name
        .clone()
        .unwrap_or_else(|| format!("credential {}", i + 1));
    let by = r
        .issuer_name
        .as_deref()
        .or(r.issuer.as_deref())
        .unwrap_or("?");
    let (m, verdict) = match r.verdict {
        Verdict::Valid if r.status() == Outcome::Unknown => ("pass", "valid, status unknown"),
        Verdict::Valid => ("pass", "valid"),
        Verdict::Invalid => ("FAIL", "INVALID"),
        _ => ("unknown", "could not check"),
    };
    let problem = match (r.verdict, r.first_problem()) {
        (Verdict::Valid, _) | (_, None) => String::new(),
        (_, Some(p)) => format!(" ({}: {})", p.check.label(), p.reason),
    };
    Line {
        label: format!("credential {}", i + 1),
        mark: m.into(),
        reason: format!("\"{name}\" by {by}: {verdict}{problem}"),
    }
}

fn clr_text(out: &mut String, name: &str, clr: &ClrReport, headline: &str) {
    let _ = writeln!(out, "{name}: {headline}");
    for c in &clr.checks {
        let _ = writeln!(
            out,
            "  {:<14} {:<11} {}",
            c.check.label(),
            mark(c.outcome),
            c.reason
        );
    }
    for (i, r) in clr.credentials.iter().enumerate() {
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("credential {}", i + 1));
        let verdict = match r.verdict {
            Verdict::Valid if r.status() == Outcome::Unknown => "valid, status unknown",
            Verdict::Valid => "valid",
            Verdict::Invalid => "INVALID",
            _ => "could not check",
        };
        let by = r
            .issuer_name
            .as_deref()
            .or(r.issuer.as_deref())
            .unwrap_or("?");
        let _ = writeln!(out, "  {}. \"{name}\" by {by}: {verdict}", i + 1);
        if r.verdict != Verdict::Valid {
            if let Some(p) = r.first_problem() {
                let _ = writeln!(out, "     {}: {}", p.check.label(), p.reason);
            }
        }
    }
    for a in &clr.associations {
        let _ = writeln!(
            out,
            "  {} {} {}: {}{}",
            a.source_id,
            a.association_type,
            a.target_id,
            mark(a.outcome),
            if a.outcome == Outcome::Pass {
                String::new()
            } else {
                format!(" ({})", a.reason)
            }
        );
    }
    for s in &clr.stacks {
        let what = s.achievement.as_deref().unwrap_or("a stacked achievement");
        let verdict = match s.verdict {
            Verdict::Valid => "satisfied",
            Verdict::Invalid => "NOT SATISFIED",
            _ => "could not be decided",
        };
        let _ = writeln!(out, "  pathway {what}: {verdict}");
        for q in &s.requirements {
            let name = q.name.as_deref().unwrap_or(&q.achievement);
            let _ = writeln!(out, "     {name}: {}", q.reason);
        }
        for c in s.checks.iter().filter(|c| c.outcome != Outcome::Pass) {
            let _ = writeln!(
                out,
                "     {}: {} ({})",
                c.check.label(),
                mark(c.outcome),
                c.reason
            );
        }
    }
    out.push('\n');
}

/// A verifiable presentation: the holder's proofs (if any), then each credential it holds,
/// verified like any credential. Valid when every credential is (and no holder proof fails).
fn presentation(
    name: &str,
    vp: &Value,
    evidence: &Evidence,
    at: OffsetDateTime,
    settings: &Settings,
) -> Checked {
    let options = evidence.options(at);
    let holder = match vp.get("holder") {
        Some(Value::String(h)) => Some(h.as_str()),
        Some(Value::Object(h)) => h.get("id").and_then(Value::as_str),
        _ => None,
    };
    let proofs = match vp.as_object() {
        Some(o) => microcred_core::verify_presentation_proofs(o, &options, None, None).checks,
        None => Vec::new(),
    };
    let held = embedded_credentials(vp);
    let counted = match vp.get("verifiableCredential") {
        Some(Value::Array(items)) => items.len(),
        Some(_) => 1,
        None => 0,
    };
    let reports: Vec<Report> = held
        .iter()
        .take(MAX_PRESENTED)
        .map(|c| microcred_core::verify_value(c, &options))
        .collect();
    let codes: Vec<u8> = reports
        .iter()
        .map(|r| exit_code(r, settings.require_trusted, settings.require_status))
        .collect();

    let mut lines = Vec::new();
    if proofs.is_empty() {
        lines.push(Line {
            label: "holder proof".into(),
            mark: "not checked".into(),
            reason: "the presentation is not signed by its holder: it only carries the credentials, which are checked on their own".into(),
        });
    }
    for (outcome, reason) in &proofs {
        lines.push(Line {
            label: "holder proof".into(),
            mark: mark(*outcome).into(),
            reason: reason.clone(),
        });
    }
    let mut problem = None;
    if counted == 0 {
        problem = Some("the presentation holds no credential".to_owned());
    } else if counted != held.len() {
        problem = Some(format!(
            "{} of the presentation's {counted} credentials are not embedded credentials (JSON objects) and cannot be checked here",
            counted - held.len()
        ));
    } else if held.len() > MAX_PRESENTED {
        problem = Some(format!(
            "the presentation holds {} credentials; at most {MAX_PRESENTED} are checked",
            held.len()
        ));
    }
    if let Some(p) = &problem {
        lines.push(Line {
            label: "contents".into(),
            mark: "unknown".into(),
            reason: p.clone(),
        });
    }
    for (i, r) in reports.iter().enumerate() {
        lines.push(part_line(i, r));
    }

    let proof_failed = proofs.iter().any(|(o, _)| *o == Outcome::Fail);
    let proof_unknown = proofs.iter().any(|(o, _)| *o != Outcome::Pass);
    let code = if proof_failed || codes.contains(&1) {
        1
    } else if problem.is_some() || proof_unknown || codes.iter().any(|c| *c != 0) {
        2
    } else {
        0
    };
    let headline = match code {
        0 => "PRESENTATION VALID",
        1 => "PRESENTATION INVALID",
        _ => "PRESENTATION COULD NOT BE CHECKED",
    };
    let subject = holder.map(|h| format!(" from {h}")).unwrap_or_default();

    let mut text = format!("{name}: {headline}{subject}\n");
    for l in &lines {
        let _ = writeln!(text, "  {:<12} {:<11} {}", l.label, l.mark, l.reason);
    }
    text.push('\n');
    for (i, r) in reports.iter().enumerate() {
        text.push_str(&report_text(
            &format!("{name} [credential {}]", i + 1),
            r,
            settings.require_trusted,
            settings.require_status,
            &settings.hints,
        ));
    }
    let json = json!({
        "file": name,
        "type": "VerifiablePresentation",
        "verdict": verdict_of(code),
        "exit_code": code,
        "holder": holder,
        "presentation_proofs": proofs.iter().map(|(o, r)| json!({"outcome": o, "reason": r})).collect::<Vec<_>>(),
        "problem": problem,
        "credentials": reports.iter().zip(&codes).map(|(r, c)| report_json(r, *c)).collect::<Vec<_>>(),
    });
    let explanation = match code {
        0 => None,
        1 if proof_failed => Some("The holder's signature over the presentation does not check out: it may have been altered or made by someone else.".to_owned()),
        1 => Some("A credential in this presentation is invalid: see it below. Do not accept that credential as it stands.".to_owned()),
        _ => Some("Not everything in this presentation could be checked: see each part below. Nothing is known about the parts marked unknown.".to_owned()),
    };
    Checked {
        exit_code: code,
        verdict: verdict_of(code),
        headline: headline.into(),
        subject,
        explanation,
        source: None,
        lines,
        text,
        json,
    }
}
