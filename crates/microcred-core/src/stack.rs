//! Stacking: whether a learner's component credentials satisfy the stacking requirement of a
//! larger achievement, and which component satisfies which requirement.
//!
//! The rule is the microcred extension's `stackingRequirement` on the larger achievement (the
//! stacked credential's `credentialSubject.achievement`): `requiredAchievement` (achievement
//! ids, of this institution or of others), `minimumRequired` (how many of them; all when
//! absent), `minimumCredits` (the sum of the counted components' `creditsEarned`), and
//! `completionWindow` (an ISO 8601 duration within which the counted components were
//! awarded). The steps follow `docs/microcredentials.md` §3.3: every component is verified on
//! its own first (the caller passes its [`Report`]); a component counts only if it is valid,
//! is for a required achievement, was issued by the stacked credential's issuer or by an
//! issuer on the verifier's trust list, belongs to the same learner, has no `Status` result
//! other than `Completed`, was awarded no later than the stacked credential, and (when the
//! stacked credential pins it in `relatedResource`) has the bytes its digest fixes. One
//! achievement is never counted twice.
//!
//! Fail closed, as for a single credential: the verdict is `valid` only when the stacked
//! credential is valid and every check of the rule passed.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::related::{check_related_resource, RelatedResourceCheck};
use crate::verify::{CheckKind, Outcome, Report, Verdict};

/// The most required achievements a rule may list (far above any real program; bounds the
/// work of hostile input).
pub const MAX_REQUIRED_ACHIEVEMENTS: usize = 256;

/// A `stackingRequirement` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stackingRequirement: {0}")]
pub struct StackError(String);

/// The rule by which component achievements make up a larger one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackingRequirement {
    /// The achievements that count (ids, in the rule's order, without repeats).
    pub required_achievement: Vec<String>,
    /// How many of them must be held.
    pub minimum_required: usize,
    /// The least sum of `creditsEarned` of the counted components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_credits: Option<f64>,
    /// The time within which the counted components must have been awarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_window: Option<String>,
    #[serde(skip)]
    window: Option<Period>,
}

impl StackingRequirement {
    /// Reads a `stackingRequirement` object.
    pub fn from_value(value: &Value) -> Result<Self, StackError> {
        let obj = value
            .as_object()
            .ok_or_else(|| StackError("must be an object".into()))?;
        let list = match obj.get("requiredAchievement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(one @ Value::String(_)) => vec![one],
            Some(_) => {
                return Err(StackError(
                    "requiredAchievement must be an achievement id or a list of them".into(),
                ))
            }
            None => return Err(StackError("requiredAchievement is missing".into())),
        };
        if list.is_empty() {
            return Err(StackError("requiredAchievement is empty".into()));
        }
        if list.len() > MAX_REQUIRED_ACHIEVEMENTS {
            return Err(StackError(format!(
                "requiredAchievement lists {} achievements; at most {MAX_REQUIRED_ACHIEVEMENTS}",
                list.len()
            )));
        }
        let mut required: Vec<String> = Vec::with_capacity(list.len());
        for item in list {
            let id = item.as_str().filter(|s| looks_like_iri(s)).ok_or_else(|| {
                StackError(format!(
                    "requiredAchievement entries must be achievement ids (IRIs); found {}",
                    short(item)
                ))
            })?;
            if required.iter().any(|r| r == id) {
                return Err(StackError(format!("requiredAchievement lists {id} twice")));
            }
            required.push(id.to_owned());
        }
        let minimum_required = match obj.get("minimumRequired") {
            None => required.len(),
            Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n) if (1..=required.len()).contains(&n) => n,
                _ => {
                    return Err(StackError(format!(
                        "minimumRequired must be a whole number from 1 to {} (the number of required achievements); found {}",
                        required.len(),
                        short(v)
                    )))
                }
            },
        };
        let minimum_credits = match obj.get("minimumCredits") {
            None => None,
            Some(v) => match v.as_f64() {
                Some(c) if c.is_finite() && c >= 0.0 => Some(c),
                _ => {
                    return Err(StackError(format!(
                        "minimumCredits must be a number of credits, zero or more; found {}",
                        short(v)
                    )))
                }
            },
        };
        let (completion_window, window) = match obj.get("completionWindow") {
            None => (None, None),
            Some(v) => {
                let text = v.as_str().unwrap_or_default();
                let period = Period::parse(text).ok_or_else(|| {
                    StackError(format!(
                        "completionWindow must be an ISO 8601 duration such as \"P3Y\"; found {}",
                        short(v)
                    ))
                })?;
                (Some(text.to_owned()), Some(period))
            }
        };
        Ok(Self {
            required_achievement: required,
            minimum_required,
            minimum_credits,
            completion_window,
            window,
        })
    }

    /// The rule of a stacked credential (`credentialSubject.achievement.stackingRequirement`);
    /// `Ok(None)` when its achievement has none.
    pub fn of_credential(credential: &Value) -> Result<Option<Self>, StackError> {
        match achievement(credential).and_then(|a| a.get("stackingRequirement")) {
            Some(rule) => Self::from_value(rule).map(Some),
            None => Ok(None),
        }
    }

    /// The rule in words.
    pub fn describe(&self) -> String {
        let mut text = if self.minimum_required == self.required_achievement.len() {
            format!(
                "all {} of the required achievements",
                self.required_achievement.len()
            )
        } else {
            format!(
                "{} of the {} required achievements",
                self.minimum_required,
                self.required_achievement.len()
            )
        };
        if let Some(c) = self.minimum_credits {
            text.push_str(&format!(", at least {c} credits"));
        }
        if let Some(w) = &self.completion_window {
            text.push_str(&format!(", awarded within {w}"));
        }
        text
    }
}

/// A calendar period (ISO 8601 duration), added with calendar arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    months: i64,
    days: i64,
    seconds: i64,
}

impl Period {
    /// `P[nY][nM][nW][nD][T[nH][nM][nS]]` with whole numbers (fractions are refused: a window
    /// is a policy, not a measurement).
    fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('P')?;
        if rest.is_empty() || text.len() > 64 {
            return None;
        }
        let (date, time) = match rest.split_once('T') {
            Some((_, "")) => return None,
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let read = |part: &str, units: &str, apply: &mut dyn FnMut(char, i64) -> Option<()>| {
            let mut last = 0;
            let mut digits = String::new();
            for c in part.chars() {
                if c.is_ascii_digit() {
                    digits.push(c);
                    continue;
                }
                let pos = units.find(c)? + 1;
                if digits.is_empty() || digits.len() > 9 || pos <= last {
                    return None;
                }
                apply(c, digits.parse().ok()?)?;
                last = pos;
                digits.clear();
            }
            digits.is_empty().then_some(())
        };
        let (mut months, mut days, mut seconds) = (0i64, 0i64, 0i64);
        read(date, "YMWD", &mut |c, n| {
            match c {
                'Y' => months += n * 12,
                'M' => months += n,
                'W' => days += n * 7,
                _ => days += n,
            }
            Some(())
        })?;
        if let Some(t) = time {
            read(t, "HMS", &mut |c, n| {
                seconds += match c {
                    'H' => n * 3600,
                    'M' => n * 60,
                    _ => n,
                };
                Some(())
            })?;
        }
        Some(Self {
            months,
            days,
            seconds,
        })
    }

    /// `at` plus this period (months first, clamping the day to the month's length, then
    /// days, then seconds); `None` beyond the supported dates.
    fn after(self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let date = at.date();
        let total =
            i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + self.months;
        let year = i32::try_from(total.div_euclid(12)).ok()?;
        let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
        let day = date.day().min(month.length(year));
        let moved = time::Date::from_calendar_date(year, month, day).ok()?;
        at.replace_date(moved)
            .checked_add(time::Duration::days(self.days))?
            .checked_add(time::Duration::seconds(self.seconds))
    }
}

/// A component credential, verified on its own.
#[derive(Debug, Clone, Copy)]
pub struct Component<'a> {
    /// The credential.
    pub credential: &'a Value,
    /// Its exact bytes, when the caller has them (for digests the stacked credential pins).
    pub bytes: Option<&'a [u8]>,
    /// Its verification report (same options as any credential).
    pub report: &'a Report,
}

/// An identity of the learner that the person checking knows (e.g. the e-mail address the
/// candidate gave): lets hashed identifiers be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIdentity {
    /// `emailAddress`, `sisSourcedId`, ... (OB 3.0 identity types).
    pub identity_type: String,
    /// The plain value.
    pub value: String,
}

/// Which check of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StackCheckKind {
    /// The stacked credential itself verifies.
    Credential,
    /// Its achievement has a usable stacking requirement.
    Rule,
    /// Enough of the required achievements are held.
    Count,
    /// Enough credits were earned.
    Credits,
    /// The counted components were awarded within the completion window.
    Window,
    /// Every counted component belongs to the same learner as the stacked credential.
    Learner,
    /// The stacked credential's own list of components (`evidence`) matches what counted.
    Evidence,
}

impl StackCheckKind {
    fn required(self) -> bool {
        !matches!(self, Self::Evidence)
    }

    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Credential => "stacked credential",
            Self::Rule => "stacking rule",
            Self::Count => "required achievements",
            Self::Credits => "credits",
            Self::Window => "completion window",
            Self::Learner => "same learner",
            Self::Evidence => "issuer's component list",
        }
    }
}

/// One check of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackCheck {
    /// Which check.
    pub check: StackCheckKind,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, in words.
    pub reason: String,
}

/// A required achievement and the component that satisfies it, if one does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequirementOutcome {
    /// The required achievement's id.
    pub achievement: String,
    /// Its name, from the component that names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The id of the component credential that satisfies it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfied_by: Option<String>,
    /// In words: which credential satisfies it, or why none does.
    pub reason: String,
}

/// What became of one component credential given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentOutcome {
    /// The component's `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// Its achievement's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achievement: Option<String>,
    /// Its issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Whether it counts towards the stack.
    pub counted: bool,
    /// Why (not).
    pub reason: String,
}

/// The stack's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackReport {
    /// Valid only when the stacked credential is valid and every required check passed.
    pub verdict: Verdict,
    /// The stacked achievement's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achievement: Option<String>,
    /// The rule, as read from the stacked credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<StackingRequirement>,
    /// The rule in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_text: Option<String>,
    /// Every check, in order.
    pub checks: Vec<StackCheck>,
    /// One entry per required achievement.
    pub requirements: Vec<RequirementOutcome>,
    /// One entry per component given, in the order given.
    pub components: Vec<ComponentOutcome>,
}

/// Checks that `components` satisfy the stacking requirement of `stacked`, whose own
/// verification report is `stacked_report`. `learner` lists identities the person checking
/// knows of the learner (may be empty).
pub fn check_stack(
    stacked: &Value,
    stacked_report: &Report,
    components: &[Component<'_>],
    learner: &[KnownIdentity],
) -> StackReport {
    let mut report = StackReport {
        verdict: Verdict::Indeterminate,
        achievement: achievement(stacked)
            .and_then(|a| a.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        rule: None,
        rule_text: None,
        checks: Vec::new(),
        requirements: Vec::new(),
        components: Vec::new(),
    };
    let credential_outcome = match stacked_report.verdict {
        Verdict::Valid => Outcome::Pass,
        Verdict::Invalid => Outcome::Fail,
        _ => Outcome::Unknown,
    };
    let credential_reason = match stacked_report.first_problem() {
        Some(p) if credential_outcome != Outcome::Pass => format!(
            "the stacked credential does not verify: {}: {}",
            p.check.label(),
            p.reason
        ),
        _ => "the stacked credential verifies".to_owned(),
    };
    report.push(
        StackCheckKind::Credential,
        credential_outcome,
        credential_reason,
    );
    let rule = match StackingRequirement::of_credential(stacked) {
        Ok(Some(rule)) => rule,
        Ok(None) => {
            report.push(
                StackCheckKind::Rule,
                Outcome::Fail,
                "the stacked credential's achievement has no stackingRequirement: nothing says how it stacks",
            );
            report.unchecked(components);
            return report.finish();
        }
        Err(e) => {
            report.push(StackCheckKind::Rule, Outcome::Fail, e.to_string());
            report.unchecked(components);
            return report.finish();
        }
    };
    let target = Target {
        issuer: issuer_id(stacked),
        awarded: awarded(stacked),
        subject: subject(stacked),
        pinned: pinned_digests(stacked),
        listed: evidence_ids(stacked),
    };
    evaluate(report, rule, &target, components, learner)
}

/// What a stacked credential about to be issued will be, for [`check_rule`].
#[derive(Debug, Clone, Copy)]
pub struct StackTarget<'a> {
    /// Its issuer's id.
    pub issuer: &'a str,
    /// When it will be awarded.
    pub awarded: OffsetDateTime,
    /// Its `credentialSubject` (the learner's `id` or `identifier`s).
    pub subject: &'a Map<String, Value>,
}

/// Checks `rule` against `components` for a stacked credential not yet issued (`target`):
/// the same checks as [`check_stack`] without those about the stacked credential itself
/// (its proof, its pins and its evidence list). An issuer uses it to decide whether a learner
/// has completed a pathway.
pub fn check_rule(
    rule: StackingRequirement,
    target: &StackTarget<'_>,
    components: &[Component<'_>],
    learner: &[KnownIdentity],
) -> StackReport {
    let report = StackReport {
        verdict: Verdict::Indeterminate,
        achievement: None,
        rule: None,
        rule_text: None,
        checks: Vec::new(),
        requirements: Vec::new(),
        components: Vec::new(),
    };
    let target = Target {
        issuer: Some(target.issuer),
        awarded: Some(target.awarded),
        subject: Some(target.subject),
        pinned: Vec::new(),
        listed: Vec::new(),
    };
    evaluate(report, rule, &target, components, learner)
}

/// What the checks need of the stacked credential.
struct Target<'a> {
    issuer: Option<&'a str>,
    awarded: Option<OffsetDateTime>,
    subject: Option<&'a Map<String, Value>>,
    pinned: Vec<&'a Map<String, Value>>,
    listed: Vec<&'a str>,
}

fn evaluate(
    mut report: StackReport,
    rule: StackingRequirement,
    target: &Target<'_>,
    components: &[Component<'_>],
    learner: &[KnownIdentity],
) -> StackReport {
    report.push(
        StackCheckKind::Rule,
        Outcome::Pass,
        format!("the achievement requires {}", rule.describe()),
    );
    report.rule_text = Some(rule.describe());

    let stacked_issuer = target.issuer;
    let stacked_date = target.awarded;
    let stacked_subject = target.subject;
    let pinned = &target.pinned;

    // Each component: does it count, and for which requirement.
    let mut counted: Vec<Option<usize>> = Vec::with_capacity(components.len());
    let mut learner_unknown: Vec<String> = Vec::new();
    let mut other_learner: Vec<String> = Vec::new();
    for c in components {
        let mut out = ComponentOutcome::not_counted(c, String::new());
        let slot = out.achievement.as_deref().and_then(|a| {
            rule.required_achievement
                .iter()
                .position(|r| achievement_matches(r, a))
        });
        let verdict = component_problem(
            c,
            slot,
            &rule,
            stacked_issuer,
            stacked_date,
            stacked_subject,
            learner,
            pinned,
        );
        let index = match verdict {
            Ok(i) => i,
            Err(Refusal::Not(reason)) => {
                out.reason = reason;
                counted.push(None);
                report.components.push(out);
                continue;
            }
            Err(Refusal::OtherLearner(reason)) => {
                other_learner.push(
                    out.credential_id
                        .clone()
                        .unwrap_or_else(|| "(without id)".into()),
                );
                out.reason = reason;
                counted.push(None);
                report.components.push(out);
                continue;
            }
            // Counted provisionally: the learner check stays undecided, so the verdict can
            // be no better than indeterminate.
            Err(Refusal::LearnerUnknown { index, reason }) => {
                learner_unknown.push(reason.clone());
                out.reason = format!("{reason}; counted only if it is");
                index
            }
        };
        // One achievement is counted once: a later credential for it is a spare.
        if counted.contains(&Some(index)) {
            out.reason = "another credential given for the same achievement already counts".into();
            counted.push(None);
        } else {
            out.counted = true;
            let counts = format!(
                "counts for {}",
                achievement_label(c.credential, &rule.required_achievement[index])
            );
            out.reason = if out.reason.is_empty() {
                counts
            } else {
                format!("{counts} ({})", out.reason)
            };
            counted.push(Some(index));
        }
        report.components.push(out);
    }

    let held: Vec<usize> = counted
        .iter()
        .enumerate()
        .filter_map(|(k, c)| c.map(|_| k))
        .collect();

    // Learner: every counted component is the same learner; undecidable ones are reported.
    if !other_learner.is_empty() {
        report.push(
            StackCheckKind::Learner,
            Outcome::Fail,
            format!(
                "credential(s) of a different learner were given as components: {}",
                other_learner.join(", ")
            ),
        );
    } else if learner_unknown.is_empty() {
        report.push(
            StackCheckKind::Learner,
            Outcome::Pass,
            if held.is_empty() {
                "no component counts, so none belongs to another learner".to_owned()
            } else {
                "every counted component names the same learner as the stacked credential"
                    .to_owned()
            },
        );
    } else {
        report.push(
            StackCheckKind::Learner,
            Outcome::Unknown,
            format!(
                "{}; give the learner's e-mail address (or other identifier) to compare hashed identifiers",
                learner_unknown.join("; ")
            ),
        );
    }

    // Window: the largest set of counted components awarded within it.
    let mut in_window = held.clone();
    if let Some(period) = rule.window {
        let mut dated: Vec<(OffsetDateTime, usize)> = held
            .iter()
            .filter_map(|&k| awarded(components[k].credential).map(|d| (d, k)))
            .collect();
        dated.sort();
        let undated = held.len() - dated.len();
        let mut best: (usize, usize) = (0, 0);
        let mut start = 0;
        for end in 0..dated.len() {
            while start < end
                && period
                    .after(dated[start].0)
                    .is_none_or(|limit| dated[end].0 > limit)
            {
                start += 1;
            }
            if end + 1 - start > best.1 - best.0 {
                best = (start, end + 1);
            }
        }
        in_window = dated[best.0..best.1].iter().map(|(_, k)| *k).collect();
        let window_text = rule.completion_window.as_deref().unwrap_or_default();
        if undated > 0 {
            report.push(
                StackCheckKind::Window,
                Outcome::Fail,
                format!("{undated} counted component(s) state no award date, so the {window_text} window cannot be checked"),
            );
        } else if in_window.len() >= rule.minimum_required.min(held.len()) && !dated.is_empty() {
            let first = dated[best.0].0;
            let last = dated[best.1 - 1].0;
            report.push(
                StackCheckKind::Window,
                Outcome::Pass,
                format!(
                    "{} component(s) awarded between {} and {}, within {window_text}",
                    in_window.len(),
                    crate::time_fmt::format(first),
                    crate::time_fmt::format(last)
                ),
            );
        } else if dated.is_empty() {
            report.push(
                StackCheckKind::Window,
                Outcome::Pass,
                "no component counts, so none falls outside the window",
            );
        } else {
            let first = dated[0].0;
            let last = dated[dated.len() - 1].0;
            report.push(
                StackCheckKind::Window,
                Outcome::Fail,
                format!(
                    "the components were awarded between {} and {}: at most {} of them within {window_text}",
                    crate::time_fmt::format(first),
                    crate::time_fmt::format(last),
                    in_window.len()
                ),
            );
        }
    }

    // Components that count but fall outside the best window no longer count.
    if rule.window.is_some() {
        for &k in &held {
            if !in_window.contains(&k) {
                counted[k] = None;
                let o = &mut report.components[k];
                o.counted = false;
                o.reason = match awarded(components[k].credential) {
                    Some(at) => format!(
                        "it was awarded on {}, outside the {} window that holds the most components",
                        crate::time_fmt::format(at),
                        rule.completion_window.as_deref().unwrap_or_default()
                    ),
                    None => "it states no award date, so the completion window cannot be checked".into(),
                };
            }
        }
    }

    // Requirements: satisfied by which component, or why not.
    for (i, required) in rule.required_achievement.iter().enumerate() {
        let by = counted.iter().position(|c| *c == Some(i));
        let named = components.iter().find(|c| {
            achievement(c.credential)
                .and_then(|a| a.get("id"))
                .and_then(Value::as_str)
                .is_some_and(|id| achievement_matches(required, id))
        });
        let name = named.and_then(|c| {
            achievement(c.credential)
                .and_then(|a| a.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let (satisfied_by, reason) = match by {
            Some(k) => {
                let id = report.components[k].credential_id.clone();
                let reason = format!(
                    "satisfied by credential {}",
                    id.as_deref().unwrap_or("(without id)")
                );
                (id, reason)
            }
            None => {
                let why = components
                    .iter()
                    .zip(&report.components)
                    .find(|(c, _)| {
                        achievement(c.credential)
                            .and_then(|a| a.get("id"))
                            .and_then(Value::as_str)
                            .is_some_and(|id| achievement_matches(required, id))
                    })
                    .map(|(_, o)| {
                        format!(
                            "not satisfied: credential {} does not count: {}",
                            o.credential_id.as_deref().unwrap_or("(without id)"),
                            o.reason
                        )
                    })
                    .unwrap_or_else(|| "not satisfied: no credential given for it".into());
                (None, why)
            }
        };
        report.requirements.push(RequirementOutcome {
            achievement: required.clone(),
            name,
            satisfied_by,
            reason,
        });
    }

    // Count.
    let have = in_window.len();
    let outcome = if have >= rule.minimum_required {
        Outcome::Pass
    } else {
        Outcome::Fail
    };
    report.push(
        StackCheckKind::Count,
        outcome,
        format!(
            "{have} of the {} required achievements held{}; {} needed",
            rule.required_achievement.len(),
            if rule.window.is_some() {
                " within the window"
            } else {
                ""
            },
            rule.minimum_required
        ),
    );

    // Credits.
    if let Some(min) = rule.minimum_credits {
        let sum: f64 = in_window
            .iter()
            .map(|&k| credits(components[k].credential))
            .sum();
        let outcome = if sum >= min {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        report.push(
            StackCheckKind::Credits,
            outcome,
            format!("{sum} credits earned in the counted components; at least {min} needed"),
        );
    }

    // The issuer's own list of components.
    let listed = &target.listed;
    if !listed.is_empty() {
        let counted_ids: Vec<&str> = in_window
            .iter()
            .filter_map(|&k| report.components[k].credential_id.as_deref())
            .collect();
        let missing: Vec<&str> = counted_ids
            .iter()
            .copied()
            .filter(|id| !listed.contains(id))
            .collect();
        if missing.is_empty() {
            report.push(
                StackCheckKind::Evidence,
                Outcome::Pass,
                "every counted component is among those the stacked credential lists as evidence",
            );
        } else {
            report.push(
                StackCheckKind::Evidence,
                Outcome::Unknown,
                format!(
                    "counted but not listed by the issuer as evidence: {}",
                    missing.join(", ")
                ),
            );
        }
    }
    report.rule = Some(rule);
    report.finish()
}

enum Refusal {
    /// The component does not count, for this reason.
    Not(String),
    /// It belongs to another learner.
    OtherLearner(String),
    /// It would count for requirement `index`, but whether it is the same learner cannot be
    /// told.
    LearnerUnknown { index: usize, reason: String },
}

/// Whether component `c` counts: the index of the requirement it satisfies, or why not.
#[allow(clippy::too_many_arguments)]
fn component_problem(
    c: &Component<'_>,
    slot: Option<usize>,
    rule: &StackingRequirement,
    stacked_issuer: Option<&str>,
    stacked_date: Option<OffsetDateTime>,
    stacked_subject: Option<&Map<String, Value>>,
    learner: &[KnownIdentity],
    pinned: &[&Map<String, Value>],
) -> Result<usize, Refusal> {
    if c.report.verdict != Verdict::Valid {
        let why = c
            .report
            .first_problem()
            .map(|p| format!("{}: {}", p.check.label(), p.reason))
            .unwrap_or_else(|| "it does not verify".into());
        return Err(Refusal::Not(format!("it does not verify ({why})")));
    }
    if c.report.status() == Outcome::Fail {
        return Err(Refusal::Not(
            "its issuer has revoked or suspended it".into(),
        ));
    }
    let Some(index) = slot else {
        return Err(Refusal::Not(format!(
            "its achievement is not one of the {} this stack requires",
            rule.required_achievement.len()
        )));
    };
    let issuer = issuer_id(c.credential);
    let trusted = c
        .report
        .checks
        .iter()
        .any(|k| k.check == CheckKind::Trust && k.outcome == Outcome::Pass);
    if issuer != stacked_issuer && !trusted {
        return Err(Refusal::Not(format!(
            "it was issued by {}, which is neither the stacked credential's issuer nor on the verifier's trust list",
            issuer.unwrap_or("an unnamed issuer")
        )));
    }
    if let Some(id) = c.credential.get("id").and_then(Value::as_str) {
        if let Some(entry) = pinned
            .iter()
            .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
        {
            // Without the component's bytes the pin cannot be checked: its proof still binds
            // its content, so it counts on that.
            if let Some(bytes) = c.bytes {
                match check_related_resource(entry, |_| Some(bytes)) {
                    RelatedResourceCheck::Match | RelatedResourceCheck::Unavailable => {}
                    RelatedResourceCheck::Mismatch { member, .. } => {
                        return Err(Refusal::Not(format!(
                            "its bytes do not match the {member} the stacked credential pins for it"
                        )))
                    }
                    RelatedResourceCheck::Malformed { member, reason } => {
                        return Err(Refusal::Not(format!(
                            "the stacked credential's {member} for it cannot be read: {reason}"
                        )))
                    }
                }
            }
        }
    }
    if let (Some(limit), Some(at)) = (stacked_date, awarded(c.credential)) {
        if at > limit {
            return Err(Refusal::Not(format!(
                "it was awarded on {}, after the stacked credential",
                crate::time_fmt::format(at)
            )));
        }
    }
    if let Some(status) = incomplete_status(c.credential) {
        return Err(Refusal::Not(format!(
            "its result status is \"{status}\", not Completed"
        )));
    }
    match same_learner(stacked_subject, subject(c.credential), learner) {
        Same::Yes => Ok(index),
        Same::No(why) => Err(Refusal::OtherLearner(format!(
            "it belongs to a different learner ({why})"
        ))),
        Same::Unknown => Err(Refusal::LearnerUnknown {
            index,
            reason: format!(
                "cannot tell whether credential {} is the same learner's: it shares no identifier with the stacked credential",
                c.credential
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("(without id)")
            ),
        }),
    }
}

pub(crate) enum Same {
    Yes,
    No(String),
    Unknown,
}

/// Whether two credential subjects are the same learner: the same `id`; or an identifier in
/// common (same type, value and salt); or, for identities the checker knows, both subjects'
/// identifiers of that type match it (hashes recomputed with each salt).
pub(crate) fn same_learner(
    a: Option<&Map<String, Value>>,
    b: Option<&Map<String, Value>>,
    known: &[KnownIdentity],
) -> Same {
    let (Some(a), Some(b)) = (a, b) else {
        return Same::Unknown;
    };
    match (
        a.get("id").and_then(Value::as_str),
        b.get("id").and_then(Value::as_str),
    ) {
        (Some(x), Some(y)) if x == y => return Same::Yes,
        (Some(x), Some(y)) => return Same::No(format!("subject {y}, not {x}")),
        _ => {}
    }
    let ia = identities(a);
    let ib = identities(b);
    if ia.iter().any(|x| ib.contains(x)) {
        return Same::Yes;
    }
    for k in known {
        let ma = matches_known(&ia, k);
        let mb = matches_known(&ib, k);
        match (ma, mb) {
            (Some(true), Some(true)) => return Same::Yes,
            // Only against the stacked credential's own learner: an identity the checker
            // believes but the stacked credential does not confirm decides nothing.
            (Some(true), Some(false)) => {
                return Same::No(format!(
                    "its {} identifier is not the one given for the learner",
                    k.identity_type
                ))
            }
            _ => {}
        }
    }
    Same::Unknown
}

/// (type, hashed, value, salt) of each `IdentityObject`.
fn identities(subject: &Map<String, Value>) -> Vec<(&str, bool, &str, Option<&str>)> {
    let items: Vec<&Value> = match subject.get("identifier") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|i| {
            Some((
                i.get("identityType")?.as_str()?,
                i.get("hashed").and_then(Value::as_bool).unwrap_or(false),
                i.get("identityHash")?.as_str()?,
                i.get("salt").and_then(Value::as_str),
            ))
        })
        .collect()
}

/// Whether the subject's identifiers of `k`'s type match it: `None` if it has none of that
/// type.
fn matches_known(ids: &[(&str, bool, &str, Option<&str>)], k: &KnownIdentity) -> Option<bool> {
    let of_type: Vec<_> = ids.iter().filter(|(t, ..)| *t == k.identity_type).collect();
    if of_type.is_empty() {
        return None;
    }
    Some(of_type.iter().any(|(_, hashed, value, salt)| {
        if *hashed {
            let digest = Sha256::digest(format!("{}{}", k.value, salt.unwrap_or("")).as_bytes());
            value
                .strip_prefix("sha256$")
                .is_some_and(|h| h.eq_ignore_ascii_case(&hex::encode(digest)))
        } else {
            *value == k.value
        }
    }))
}

/// A `Status` result other than `Completed`, if the credential has one: a result whose
/// `resultDescription` is a `Status` description of the achievement, or any result with a
/// `status`.
fn incomplete_status(credential: &Value) -> Option<String> {
    let subject = credential.get("credentialSubject")?;
    let results: Vec<&Value> = match subject.get("result") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return None,
    };
    results.into_iter().find_map(|r| {
        let status = r.get("status").and_then(Value::as_str)?;
        (status != "Completed").then(|| status.chars().take(64).collect())
    })
}

impl ComponentOutcome {
    /// Component `c`, not (yet) counted, for `reason`.
    fn not_counted(c: &Component<'_>, reason: String) -> Self {
        Self {
            credential_id: c
                .credential
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            achievement: achievement(c.credential)
                .and_then(|a| a.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            issuer: issuer_id(c.credential).map(str::to_owned),
            counted: false,
            reason,
        }
    }
}

impl StackReport {
    /// Lists every component as not counted: there is no rule to count them against.
    fn unchecked(&mut self, components: &[Component<'_>]) {
        for c in components {
            self.components.push(ComponentOutcome::not_counted(
                c,
                "not counted: there is no usable rule to count it against".into(),
            ));
        }
    }

    fn push(&mut self, check: StackCheckKind, outcome: Outcome, reason: impl Into<String>) {
        self.checks.push(StackCheck {
            check,
            outcome,
            reason: reason.into(),
        });
    }

    fn finish(mut self) -> Self {
        let required = self.checks.iter().filter(|c| c.check.required());
        self.verdict = if required.clone().any(|c| c.outcome == Outcome::Fail) {
            Verdict::Invalid
        } else if required.clone().all(|c| c.outcome == Outcome::Pass) {
            Verdict::Valid
        } else {
            Verdict::Indeterminate
        };
        self
    }
}

pub(crate) fn achievement(credential: &Value) -> Option<&Map<String, Value>> {
    credential
        .get("credentialSubject")?
        .get("achievement")?
        .as_object()
}

pub(crate) fn subject(credential: &Value) -> Option<&Map<String, Value>> {
    credential.get("credentialSubject")?.as_object()
}

fn issuer_id(credential: &Value) -> Option<&str> {
    match credential.get("issuer")? {
        Value::String(s) => Some(s),
        other => other.get("id")?.as_str(),
    }
}

/// When the credential was awarded: `awardedDate`, else `validFrom`, else `issuanceDate`.
pub(crate) fn awarded(credential: &Value) -> Option<OffsetDateTime> {
    ["awardedDate", "validFrom", "issuanceDate"]
        .iter()
        .find_map(|k| credential.get(*k).and_then(Value::as_str))
        .and_then(crate::time_fmt::parse)
}

/// `creditsEarned` of the learner, else the achievement's `creditsAvailable`, else 0.
fn credits(credential: &Value) -> f64 {
    let earned = credential
        .get("credentialSubject")
        .and_then(|s| s.get("creditsEarned"))
        .and_then(Value::as_f64);
    let available = achievement(credential)
        .and_then(|a| a.get("creditsAvailable"))
        .and_then(Value::as_f64);
    earned
        .or(available)
        .filter(|c| c.is_finite() && *c >= 0.0)
        .unwrap_or(0.0)
}

/// The `relatedResource` entries of the stacked credential.
fn pinned_digests(credential: &Value) -> Vec<&Map<String, Value>> {
    match credential.get("relatedResource") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(o)) => vec![o],
        _ => Vec::new(),
    }
}

/// The ids in the stacked credential's `evidence`.
fn evidence_ids(credential: &Value) -> Vec<&str> {
    match credential.get("evidence") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|e| e.get("id").and_then(Value::as_str))
            .collect(),
        Some(one @ Value::Object(_)) => one.get("id").and_then(Value::as_str).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn achievement_label(credential: &Value, id: &str) -> String {
    match achievement(credential)
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
    {
        Some(name) => format!("\"{name}\" ({id})"),
        None => id.to_owned(),
    }
}

/// Whether an achievement `id` is the required achievement `required`: the same id, or one of
/// its versions as microcred's service publishes them (`{required}/versions/{n}`), so a rule
/// naming an achievement accepts credentials of any of its versions; a rule naming one
/// version (`…/versions/2`) accepts only that one.
pub fn achievement_matches(required: &str, id: &str) -> bool {
    id == required
        || id
            .strip_prefix(required)
            .and_then(|rest| rest.strip_prefix("/versions/"))
            .is_some_and(|n| {
                !n.is_empty() && n.len() <= 19 && n.bytes().all(|b| b.is_ascii_digit())
            })
}

/// An absolute IRI: a scheme, `:`, and no spaces.
pub(crate) fn looks_like_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && s.len() <= 2048
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A value, shortened for a message.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}
