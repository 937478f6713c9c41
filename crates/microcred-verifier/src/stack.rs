//! A stacked credential checked with its components: each file verified like any credential,
//! then the stacked achievement's `stackingRequirement` checked against them
//! ([`microcred_core::check_stack`]), saying which component satisfies which required
//! achievement. What `microcred verify STACKED --component FILE...` prints, and what the
//! verifier page shows when components are given.

use std::fmt::Write as _;

use microcred_core::{
    check_stack, Component, Outcome, Report, StackCheckKind, StackReport, Verdict,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::evidence::Evidence;
use crate::input::{verify_input, VerifyInput};
use crate::report::{exit_code as file_exit_code, mark, report_text, Checked, Line, Settings};

/// One file of a stack, verified.
struct Part {
    name: String,
    bytes: Vec<u8>,
    value: Value,
    report: Report,
}

/// Verifies `stacked` (name and bytes) with its `components` as of `at` and checks the stack.
/// A file that is not a credential (or a badge image holding one) leaves nothing to decide:
/// the result says which, with exit code 2.
pub fn check_stack_files(
    stacked: (&str, &[u8]),
    components: &[(&str, &[u8])],
    evidence: &Evidence,
    at: OffsetDateTime,
    settings: &Settings,
) -> Checked {
    let options = evidence.options(at);
    let mut parts = Vec::with_capacity(components.len() + 1);
    for &(name, raw) in std::iter::once(&stacked).chain(components) {
        let bytes = match verify_input(raw) {
            VerifyInput::Credential { bytes, .. } => bytes.into_owned(),
            VerifyInput::NotVerifiable(why) => {
                return Checked::unreadable(stacked.0, &format!("{name}: {why}"))
            }
        };
        let report = microcred_core::verify(&bytes, &options);
        let value = microcred_core::parse_strict(&bytes).unwrap_or(Value::Null);
        parts.push(Part {
            name: name.to_owned(),
            bytes,
            value,
            report,
        });
    }
    let stacked = parts.remove(0);
    let learner = &settings.learner;
    let stack = {
        let components: Vec<Component<'_>> = parts
            .iter()
            .map(|c| Component {
                credential: &c.value,
                bytes: Some(&c.bytes),
                report: &c.report,
            })
            .collect();
        check_stack(&stacked.value, &stacked.report, &components, learner)
    };
    let code = exit_code(&stack, &stacked, &parts, settings);
    let (headline, verdict) = match code {
        0 => ("STACK VALID", Verdict::Valid),
        1 => ("STACK INVALID", Verdict::Invalid),
        _ => ("STACK COULD NOT BE CHECKED", Verdict::Indeterminate),
    };
    let reports = |c: &Part| -> Value {
        let mut v = serde_json::to_value(&c.report).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("file".into(), json!(c.name));
            o.insert("status".into(), json!(c.report.status()));
        }
        v
    };
    let json = json!({
        "file": stacked.name,
        "verdict": stack.verdict,
        "exit_code": code,
        "credential": reports(&stacked),
        "components": parts.iter().map(reports).collect::<Vec<_>>(),
        "stack": stack,
    });
    let subject = stacked
        .report
        .name
        .as_deref()
        .map(|n| format!("\"{n}\""))
        .unwrap_or_default();
    let explanation = explanation(&stack, code, settings);
    let verdict_line = if subject.is_empty() {
        format!("{}: {headline}", stacked.name)
    } else {
        format!("{}: {headline} {subject}", stacked.name)
    };
    Checked {
        exit_code: code,
        verdict,
        headline: headline.into(),
        text: text(
            &stacked,
            &parts,
            &stack,
            &verdict_line,
            explanation.as_deref(),
            settings,
        ),
        lines: lines(&stacked, &parts, &stack, settings),
        explanation,
        subject,
        source: None,
        json,
    }
}

/// 0 valid, 1 invalid, 2 undecided; a required trusted issuer or known status applies to the
/// stacked credential and to every component that counts.
fn exit_code(stack: &StackReport, stacked: &Part, parts: &[Part], settings: &Settings) -> u8 {
    let strict = |r: &Report| file_exit_code(r, settings.require_trusted, settings.require_status);
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

/// `"Name" (https://…)` of a required achievement, or its id.
fn requirement_name(req: &microcred_core::RequirementOutcome) -> String {
    req.name
        .as_deref()
        .map(|n| format!("\"{n}\" ({})", req.achievement))
        .unwrap_or_else(|| req.achievement.clone())
}

/// `df-101.json (urn:uuid:…)`: the file that holds the credential `id`.
fn satisfied_by(parts: &[Part], id: Option<&str>) -> Option<String> {
    let id = id?;
    parts
        .iter()
        .find(|p| p.value.get("id").and_then(Value::as_str) == Some(id))
        .map(|p| format!("{} ({id})", p.name))
}

/// Every file's text report, then the stack's verdict, its rule, each requirement and each
/// check (what `microcred verify --component` prints).
fn text(
    stacked: &Part,
    parts: &[Part],
    stack: &StackReport,
    verdict_line: &str,
    explanation: Option<&str>,
    settings: &Settings,
) -> String {
    let mut out = String::new();
    for c in std::iter::once(stacked).chain(parts) {
        out.push_str(&report_text(
            &c.name,
            &c.report,
            settings.require_trusted,
            settings.require_status,
            &settings.hints,
        ));
    }
    let _ = writeln!(out, "{verdict_line}");
    if let Some(rule) = &stack.rule_text {
        let _ = writeln!(out, "  It requires {rule}.");
    }
    for (req, i) in stack.requirements.iter().zip(1..) {
        let what = requirement_name(req);
        match satisfied_by(parts, req.satisfied_by.as_deref()) {
            Some(file) => {
                let _ = writeln!(out, "  {i}. {what}: satisfied by {file}");
            }
            None => {
                let _ = writeln!(out, "  {i}. {what}: {}", req.reason);
            }
        }
    }
    for (c, o) in parts.iter().zip(&stack.components) {
        if !o.counted {
            let _ = writeln!(out, "  not counted: {}: {}", c.name, o.reason);
        }
    }
    for c in &stack.checks {
        let _ = writeln!(
            out,
            "  {:<24} {:<11} {}",
            c.check.label(),
            mark(c.outcome),
            c.reason
        );
    }
    if let Some(e) = explanation {
        let _ = writeln!(out, "  => {e}");
    }
    out.push('\n');
    out
}

/// What the stack's first problem means for the person deciding.
fn explanation(stack: &StackReport, code: u8, settings: &Settings) -> Option<String> {
    if code == 0 {
        return None;
    }
    let problem = stack
        .checks
        .iter()
        .find(|c| c.outcome == Outcome::Fail)
        .or_else(|| stack.checks.iter().find(|c| c.outcome != Outcome::Pass));
    match problem {
        Some(p) => Some(explain(p.check, p.outcome, settings).to_owned()),
        None if code == 1 => Some(format!(
            "A credential that counts does not meet {} (see its report above).",
            settings.hints.stack_strictness
        )),
        None => None,
    }
}

/// Each requirement (satisfied by which file, or why not), each stack check, and each file's
/// verdict (a component's with whether it counts): the lines the verifier page shows.
fn lines(stacked: &Part, parts: &[Part], stack: &StackReport, settings: &Settings) -> Vec<Line> {
    let mut out = Vec::new();
    for (req, i) in stack.requirements.iter().zip(1..) {
        let what = requirement_name(req);
        let (mark, reason) = match satisfied_by(parts, req.satisfied_by.as_deref()) {
            Some(file) => ("pass", format!("{what}: satisfied by {file}")),
            None => ("FAIL", format!("{what}: {}", req.reason)),
        };
        out.push(Line {
            label: format!("requirement {i}"),
            mark: mark.into(),
            reason,
        });
    }
    for c in &stack.checks {
        out.push(Line {
            label: c.check.label().into(),
            mark: mark(c.outcome).into(),
            reason: c.reason.clone(),
        });
    }
    for (p, i) in std::iter::once(stacked).chain(parts).zip(0..) {
        let code = file_exit_code(&p.report, settings.require_trusted, settings.require_status);
        let counted = match i {
            0 => String::new(),
            _ => match stack.components.get(i - 1) {
                Some(o) if o.counted => "; counts towards the stack".into(),
                Some(o) => format!("; not counted: {}", o.reason),
                None => String::new(),
            },
        };
        let verdict = match code {
            0 => "valid",
            1 => "invalid",
            _ => "could not be checked",
        };
        out.push(Line {
            label: p.name.clone(),
            mark: match code {
                0 => "pass",
                1 => "FAIL",
                _ => "unknown",
            }
            .into(),
            reason: format!(
                "{}: {verdict}{counted}",
                if i == 0 {
                    "the stacked credential"
                } else {
                    "a component"
                }
            ),
        });
    }
    out
}

/// What a stack problem means for the person deciding.
fn explain(kind: StackCheckKind, outcome: Outcome, settings: &Settings) -> &'static str {
    let undecided = outcome != Outcome::Fail;
    match kind {
        StackCheckKind::Credential => "The stacked credential itself does not verify (see its report above): the stack cannot be relied on.",
        StackCheckKind::Rule => "The stacked credential does not say, in a form that can be checked, how it stacks.",
        StackCheckKind::Count => "The components given do not cover what the stacked achievement requires (see the list above): ask the learner for the missing ones.",
        StackCheckKind::Credits => "The components given do not add up to the credits the stacked achievement requires.",
        StackCheckKind::Window => "The components were not all earned within the time the stacked achievement allows.",
        StackCheckKind::Learner if undecided => settings.hints.learner,
        StackCheckKind::Learner => "Some components belong to another learner: do not accept this stack as it stands.",
        _ => "See the checks above.",
    }
}
