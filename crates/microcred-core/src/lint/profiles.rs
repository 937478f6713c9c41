//! Lint profiles: the metadata a micro-credential framework asks for, as data.
//!
//! A profile is a name, a description and a table of rules; each rule names the element
//! (E1..E26, the numbering of the cross-framework element table in the README), a rule id,
//! a check (an [`Element`]: how the element is found in an Open Badges 3.0 credential), a
//! requirement and what the element is. Another framework is one more table.
//!
//! **Scope.** A profile's mandatory rules are errors for achievements whose
//! `achievementType` is `MicroCredential`, the credentials these frameworks govern; for
//! every other achievement type they are warnings (advice). Without a profile, the EU 2022
//! and HEQCO tables run as warnings only.

use serde_json::{Map, Value};

use super::{as_objects, duration_hours, LintReport, Severity};

/// How strongly a profile asks for an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// An error under the profile (for `MicroCredential` achievements).
    Mandatory,
    /// Always a warning (e.g. "where applicable", or only for some providers).
    Recommended,
}

/// One row of a profile's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRule {
    element: &'static str,
    rule: &'static str,
    requirement: Requirement,
    check: Element,
    what: &'static str,
}

impl ProfileRule {
    /// The element id in the README's cross-framework table (e.g. `E3`).
    pub fn element(&self) -> &'static str {
        self.element
    }
    /// The finding's rule id (e.g. `eu.country`).
    pub fn rule(&self) -> &'static str {
        self.rule
    }
    /// Mandatory or recommended.
    pub fn requirement(&self) -> Requirement {
        self.requirement
    }
    /// What the element is, in words (e.g. "the awarding body's country").
    pub fn what(&self) -> &'static str {
        self.what
    }
    /// Where the element goes in a credential (e.g. `issuer.address.addressCountryCode`).
    pub fn location(&self) -> &'static str {
        self.check.location()
    }
}

/// A micro-credential framework's rules (see the module documentation for their scope).
#[derive(Debug, PartialEq, Eq)]
pub struct LintProfile {
    name: &'static str,
    source: &'static str,
    description: &'static str,
    rules: &'static [ProfileRule],
}

impl LintProfile {
    /// Every profile this build knows, in a stable order.
    pub fn all() -> &'static [Self] {
        PROFILES
    }

    /// The profile called `name` (e.g. `eu-2022`), or an error listing the known names.
    pub fn by_name(name: &str) -> Result<&'static Self, UnknownProfile> {
        let wanted = name.trim();
        PROFILES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownProfile {
                // Echoed in messages: a caller's very long name is cut.
                name: wanted.chars().take(64).collect(),
                available: profile_names(),
            })
    }

    /// Reads a choice of profile: a profile name, or [`NO_PROFILE`] (`none`) for none.
    pub fn parse_choice(name: &str) -> Result<Option<&'static Self>, UnknownProfile> {
        if name.trim().eq_ignore_ascii_case(NO_PROFILE) {
            Ok(None)
        } else {
            Self::by_name(name).map(Some)
        }
    }

    /// The name used to choose it (`eu-2022`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The framework it checks, cited.
    pub fn source(&self) -> &'static str {
        self.source
    }
    /// One line on what it requires.
    pub fn description(&self) -> &'static str {
        self.description
    }
    /// Its table.
    pub fn rules(&self) -> &'static [ProfileRule] {
        self.rules
    }
}

/// The word that chooses no profile (`--profile none`, `"lintProfile": "none"`).
pub const NO_PROFILE: &str = "none";

fn profile_names() -> String {
    PROFILES
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A profile name that this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lint profile \"{name}\": choose one of {available} (or \"none\")")]
#[non_exhaustive]
pub struct UnknownProfile {
    /// The name asked for.
    pub name: String,
    /// The known names, comma-separated.
    pub available: String,
}

/// How an element is found in an Open Badges 3.0 credential (paths under the achievement are
/// relative to `credentialSubject.achievement`, or to the definition when linted alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    /// `issuer.name`.
    AwardingBody,
    /// `issuer.address.addressCountryCode` (or `addressCountry`).
    Country,
    /// `criteria.narrative` or competency alignments.
    LearningOutcomes,
    /// `volumeOfLearning` or `creditsAvailable`.
    Workload,
    /// `volumeOfLearning` of at least one hour.
    VolumeAtLeastOneHour,
    /// `creditsAvailable`.
    Credits,
    /// `qualificationLevel` or an `ext:EQFLevel` / `ext:NQFLevel` alignment.
    Level,
    /// A `resultDescription` with `assessmentType`.
    AssessmentType,
    /// A `resultDescription`, and in a credential the learner's `result`.
    Assessed,
    /// `learningMode`.
    LearningMode,
    /// `qualityAssurance`.
    QualityAssurance,
    /// `stackability`, `stackingRequirement`, or a stacks-into alignment.
    Stackability,
    /// Any `alignment`.
    Competencies,
    /// An occupation alignment or an `endorsement`.
    IndustryRelevance,
    /// `creator` with a `name`.
    Developer,
    /// `reviewPeriod`.
    ReviewPeriod,
    /// An alignment with this `targetType` (a classification code).
    Classification(&'static str),
}

/// Where a check looks, and what the finding says to add.
struct Missing {
    path: String,
    hint: String,
}

/// The parts of a credential (or of a definition on its own) the checks read.
pub(super) struct Target<'a> {
    pub(super) achievement: &'a Map<String, Value>,
    /// `None` for a definition linted on its own: issuer checks are skipped.
    pub(super) issuer: Option<&'a Map<String, Value>>,
    /// The learner's subject; `None` for a definition on its own.
    pub(super) subject: Option<&'a Map<String, Value>>,
    /// Path of the achievement (`credentialSubject.achievement` or `achievement`).
    pub(super) base: &'static str,
}

fn alignment_types(a: &Map<String, Value>) -> impl Iterator<Item = &str> {
    as_objects(a.get("alignment")).filter_map(|al| al.get("targetType").and_then(Value::as_str))
}

impl Element {
    fn location(self) -> &'static str {
        match self {
            Self::AwardingBody => "issuer.name",
            Self::Country => "issuer.address.addressCountryCode",
            Self::LearningOutcomes => "achievement.criteria.narrative or achievement.alignment",
            Self::Workload => "achievement.volumeOfLearning or achievement.creditsAvailable",
            Self::VolumeAtLeastOneHour => "achievement.volumeOfLearning (at least PT1H)",
            Self::Credits => "achievement.creditsAvailable (with creditSystem)",
            Self::Level => "achievement.qualificationLevel or an ext:EQFLevel / ext:NQFLevel alignment",
            Self::AssessmentType => "achievement.resultDescription[].assessmentType",
            Self::Assessed => "achievement.resultDescription and credentialSubject.result",
            Self::LearningMode => "achievement.learningMode",
            Self::QualityAssurance => "achievement.qualityAssurance",
            Self::Stackability => "achievement.stackability (or stackingRequirement, or an ext:StacksInto alignment)",
            Self::Competencies => "achievement.alignment",
            Self::IndustryRelevance => "an ext:NOC / ext:ONETSOC / ext:ESCOOccupation alignment, or achievement.endorsement",
            Self::Developer => "achievement.creator.name",
            Self::ReviewPeriod => "achievement.reviewPeriod",
            Self::Classification("ext:NZSCED") => "an ext:NZSCED alignment of the achievement",
            Self::Classification(_) => "a classification alignment of the achievement",
        }
    }

    /// What is missing, or `None` when the element is there (or cannot be checked here).
    fn missing(self, t: &Target<'_>) -> Option<Missing> {
        let a = t.achievement;
        let at = |field: &str, hint: String| {
            Some(Missing {
                path: format!("{}.{field}", t.base),
                hint,
            })
        };
        let has = |field: &str| a.get(field).is_some_and(|v| !v.is_null());
        match self {
            Self::AwardingBody => {
                let issuer = t.issuer?;
                if issuer.get("name").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty()) {
                    return None;
                }
                Some(Missing {
                    path: "issuer.name".into(),
                    hint: "add issuer.name (the awarding body's name)".into(),
                })
            }
            Self::Country => {
                let issuer = t.issuer?;
                let address = issuer.get("address");
                let country = address
                    .and_then(|ad| ad.get("addressCountryCode").or_else(|| ad.get("addressCountry")))
                    .and_then(Value::as_str);
                if country.is_some_and(|c| !c.trim().is_empty()) {
                    return None;
                }
                Some(Missing {
                    path: "issuer.address.addressCountryCode".into(),
                    hint: "add issuer.address.addressCountryCode (ISO 3166-1 alpha-2, e.g. \"CA\")".into(),
                })
            }
            Self::LearningOutcomes => {
                let narrative = a
                    .get("criteria")
                    .and_then(|c| c.get("narrative"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty());
                if narrative || as_objects(a.get("alignment")).next().is_some() {
                    return None;
                }
                at("criteria.narrative", "state the learning outcomes in criteria.narrative and/or as competency alignments (alignment)".into())
            }
            Self::Workload => {
                if has("volumeOfLearning") || has("creditsAvailable") {
                    return None;
                }
                at("volumeOfLearning", "add volumeOfLearning (an ISO 8601 duration, e.g. \"PT15H\") and/or creditsAvailable with creditSystem".into())
            }
            Self::VolumeAtLeastOneHour => match a.get("volumeOfLearning") {
                None | Some(Value::Null) => at(
                    "volumeOfLearning",
                    "add volumeOfLearning, at least one hour (an ISO 8601 duration, e.g. \"PT15H\")".into(),
                ),
                // A malformed duration is already an error of its own (mc.volumeOfLearning).
                Some(v) => match v.as_str().and_then(duration_hours) {
                    Some(h) if h < 1.0 => at(
                        "volumeOfLearning",
                        format!("volumeOfLearning is {v}, less than one hour: state the notional learning time, at least \"PT1H\""),
                    ),
                    _ => None,
                },
            },
            Self::Credits => {
                if a.get("creditsAvailable").is_some_and(Value::is_number) {
                    return None;
                }
                at("creditsAvailable", "add creditsAvailable (the credit value, a number) with creditSystem (its unit)".into())
            }
            Self::Level => {
                let aligned = alignment_types(a).any(|ty| matches!(ty, "ext:EQFLevel" | "ext:NQFLevel"));
                if has("qualificationLevel") || aligned {
                    return None;
                }
                at("qualificationLevel", "add qualificationLevel (a level IRI such as http://data.europa.eu/snb/eqf/6) or an alignment with targetType ext:EQFLevel or ext:NQFLevel".into())
            }
            Self::AssessmentType => {
                let typed = as_objects(a.get("resultDescription"))
                    .any(|d| d.get("assessmentType").and_then(Value::as_str).is_some());
                if typed {
                    return None;
                }
                at("resultDescription", "add a resultDescription of type AssessmentResultDescription with assessmentType (Exam, Performance or Artifact)".into())
            }
            Self::Assessed => {
                if as_objects(a.get("resultDescription")).next().is_none() {
                    return at("resultDescription", "describe the assessment (resultDescription) and record the learner's result (credentialSubject.result)".into());
                }
                match t.subject {
                    Some(s) if as_objects(s.get("result")).next().is_none() => Some(Missing {
                        path: "credentialSubject.result".into(),
                        hint: "record the learner's assessment result (credentialSubject.result)".into(),
                    }),
                    _ => None,
                }
            }
            Self::LearningMode => {
                if has("learningMode") {
                    return None;
                }
                at("learningMode", "add learningMode (online, onsite or blended)".into())
            }
            Self::QualityAssurance => {
                if as_objects(a.get("qualityAssurance")).next().is_some() {
                    return None;
                }
                at("qualityAssurance", "add qualityAssurance: [{\"type\": [\"QualityAssurance\"], \"qualityAssuranceType\": \"institutional\" or \"external-accreditation\", \"name\": ...}]".into())
            }
            Self::Stackability => {
                let aligned = alignment_types(a).any(|ty| matches!(ty, "ext:StacksInto" | "ceterms:Credential"));
                if has("stackability") || has("stackingRequirement") || aligned {
                    return None;
                }
                at("stackability", "say whether it stacks into a larger credential: add stackability ({\"integrationOption\": \"stackable\" or \"standalone\", \"stacksInto\": [...]}) or an alignment with targetType ext:StacksInto".into())
            }
            Self::Competencies => {
                if as_objects(a.get("alignment")).next().is_some() {
                    return None;
                }
                at("alignment", "align the achievement to competencies in a framework such as ESCO (alignment with targetName and targetUrl)".into())
            }
            Self::IndustryRelevance => {
                let occupation = alignment_types(a)
                    .any(|ty| matches!(ty, "ext:NOC" | "ext:ONETSOC" | "ext:ESCOOccupation"));
                if occupation || as_objects(a.get("endorsement")).next().is_some() {
                    return None;
                }
                at("alignment", "show the industry need: align to occupations (targetType ext:NOC, ext:ONETSOC or ext:ESCOOccupation) or add an industry partner's endorsement".into())
            }
            Self::Developer => {
                let named = a
                    .get("creator")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty());
                if named {
                    return None;
                }
                at("creator", "add creator: the Profile (with name) of the organization that developed the micro-credential".into())
            }
            Self::ReviewPeriod => {
                if has("reviewPeriod") {
                    return None;
                }
                at("reviewPeriod", "add reviewPeriod (an ISO 8601 duration, e.g. \"P3Y\")".into())
            }
            Self::Classification(ty) => {
                if alignment_types(a).any(|t| t == ty) {
                    return None;
                }
                at("alignment", format!("add an alignment with targetType {ty} (the subject classification code as targetCode)"))
            }
        }
    }
}

/// Which policy rules a lint runs.
#[derive(Clone, Copy)]
pub(super) enum Policy {
    /// No profile: the EU 2022 and HEQCO tables, as warnings.
    Advice,
    /// A chosen profile.
    Profile(&'static LintProfile),
}

impl Policy {
    pub(super) fn profile(self) -> Option<&'static LintProfile> {
        match self {
            Self::Advice => None,
            Self::Profile(p) => Some(p),
        }
    }
}

/// Runs the policy's tables over `t`: one finding per missing element.
pub(super) fn lint_policy(t: &Target<'_>, policy: Policy, r: &mut LintReport) {
    let kind = t.achievement.get("achievementType").and_then(Value::as_str);
    let in_scope = kind == Some("MicroCredential");
    let tables: &[&LintProfile] = match policy {
        Policy::Advice => &[&EU_2022, &HEQCO],
        Policy::Profile(p) => &[p],
    };
    let mut reported: Vec<&str> = Vec::new();
    for profile in tables {
        for rule in profile.rules {
            if reported.contains(&rule.element) {
                continue;
            }
            let Some(missing) = rule.check.missing(t) else {
                continue;
            };
            reported.push(rule.element);
            let (name, source, what, hint) =
                (profile.name, profile.source, rule.what, &missing.hint);
            let (severity, message) = match (rule.requirement, policy) {
                (Requirement::Recommended, _) => (
                    Severity::Warning,
                    format!("{what} is missing: recommended by profile {name} ({source}); {hint}"),
                ),
                (_, Policy::Advice) => (
                    Severity::Warning,
                    format!("{what} is missing: mandatory for a MicroCredential under profile {name} ({source}), advice here as no profile is chosen; {hint}"),
                ),
                (_, Policy::Profile(_)) if in_scope => (
                    Severity::Error,
                    format!("{what} is missing: mandatory for a MicroCredential under profile {name} ({source}); {hint}"),
                ),
                (_, Policy::Profile(_)) => {
                    let this = match kind {
                        Some(k) => format!("achievementType \"{k}\""),
                        None => "no achievementType".into(),
                    };
                    (
                        Severity::Warning,
                        format!("{what} is missing: profile {name} ({source}) makes it mandatory for achievementType MicroCredential, so for this achievement ({this}) it is advice; {hint}"),
                    )
                }
            };
            r.add(severity, rule.rule, &missing.path, message);
        }
    }
}

const fn mandatory(
    element: &'static str,
    rule: &'static str,
    check: Element,
    what: &'static str,
) -> ProfileRule {
    ProfileRule {
        element,
        rule,
        requirement: Requirement::Mandatory,
        check,
        what,
    }
}

const fn recommended(
    element: &'static str,
    rule: &'static str,
    check: Element,
    what: &'static str,
) -> ProfileRule {
    ProfileRule {
        element,
        rule,
        requirement: Requirement::Recommended,
        check,
        what,
    }
}

/// EU Council Recommendation of 16 June 2022 (2022/C 243/02), Annex I, mandatory elements.
/// Learner identification, title and date of issue (E1, E2, E5) are required by Open Badges
/// 3.0 itself and checked for every credential.
const EU_2022: LintProfile = LintProfile {
    name: "eu-2022",
    source: "EU Council Recommendation of 16 June 2022, Annex I",
    description: "EU Council Recommendation of 16 June 2022 (2022/C 243/02), Annex I: awarding body and its country, learning outcomes, workload, type of assessment, form of participation, quality assurance (level where applicable)",
    rules: &[
        mandatory("E4", "eu.awardingBody", Element::AwardingBody, "the awarding body's name"),
        mandatory("E3", "eu.country", Element::Country, "the awarding body's country"),
        mandatory("E6", "eu.learningOutcomes", Element::LearningOutcomes, "the learning outcomes"),
        mandatory("E7", "eu.workload", Element::Workload, "the notional workload"),
        recommended("E9", "eu.level", Element::Level, "the EQF/NQF level (mandatory where applicable)"),
        mandatory("E10", "eu.assessmentType", Element::AssessmentType, "the type of assessment"),
        mandatory("E11", "eu.formOfParticipation", Element::LearningMode, "the form of participation"),
        mandatory("E12", "eu.qualityAssurance", Element::QualityAssurance, "the type of quality assurance"),
    ],
};

/// HEQCO's quality markers (Making Sense of Microcredentials, 2021) that data can show.
const HEQCO: LintProfile = LintProfile {
    name: "heqco",
    source: "HEQCO quality markers, 2021",
    description: "HEQCO (Ontario) quality markers: competency-based, assessed, stackable, accredited, flexible (learning mode), standardized (workload); responds to industry needs as advice",
    rules: &[
        mandatory("E19", "heqco.competencyBased", Element::Competencies, "a competency alignment (competency-based)"),
        mandatory("E10", "heqco.assessed", Element::Assessed, "the assessment and the learner's result (assessed)"),
        mandatory("E16", "heqco.stackable", Element::Stackability, "the stackability statement (stackable)"),
        mandatory("E12", "heqco.accredited", Element::QualityAssurance, "the quality assurance (accredited)"),
        mandatory("E11", "heqco.flexible", Element::LearningMode, "the learning mode (flexible)"),
        mandatory("E7", "heqco.standardized", Element::Workload, "the workload or credit value (standardized)"),
        recommended("E20", "heqco.industryNeeds", Element::IndustryRelevance, "an occupation alignment or industry endorsement (responds to industry needs)"),
    ],
};

/// Australia's National Microcredentials Framework (2022) minimum standards.
const AU_NMF: LintProfile = LintProfile {
    name: "au-nmf",
    source: "Australia's National Microcredentials Framework, 2022",
    description: "Australia's National Microcredentials Framework minimum standards: learning outcomes, assessment with the learner's result, volume of learning of at least one hour; quality assurance and review as advice (required of unregulated providers)",
    rules: &[
        mandatory("E6", "au.learningOutcomes", Element::LearningOutcomes, "the learning outcomes"),
        mandatory("E10", "au.assessment", Element::Assessed, "the assessment and the learner's result"),
        mandatory("E7", "au.volumeOfLearning", Element::VolumeAtLeastOneHour, "the volume of learning (at least one hour)"),
        recommended("E12", "au.qualityAssurance", Element::QualityAssurance, "the quality assurance statement (required of unregulated providers)"),
        recommended("E24", "au.review", Element::ReviewPeriod, "the review period (required of unregulated providers)"),
    ],
};

/// NZQA Qualification and Micro-credential Listing and Operational Rules 2022, rule 6.1.
const NZQA: LintProfile = LintProfile {
    name: "nzqa",
    source: "NZQA Listing and Operational Rules 2022, rule 6.1",
    description: "NZQA listing details (rule 6.1): credit value, NZQCF level, NZSCED code, outcome statement, developer, review period",
    rules: &[
        mandatory("E8", "nzqa.credits", Element::Credits, "the credit value"),
        mandatory("E9", "nzqa.level", Element::Level, "the NZQCF level"),
        mandatory("E23", "nzqa.nzsced", Element::Classification("ext:NZSCED"), "the six-digit NZSCED code"),
        mandatory("E6", "nzqa.outcomes", Element::LearningOutcomes, "the outcome statement"),
        mandatory("E4", "nzqa.developer", Element::Developer, "the developer"),
        mandatory("E24", "nzqa.reviewPeriod", Element::ReviewPeriod, "the review period"),
    ],
};

static PROFILES: &[LintProfile] = &[EU_2022, HEQCO, AU_NMF, NZQA];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lint::{lint, lint_achievement_with, lint_with, LintOptions};
    use crate::model::{AchievementSubject, OpenBadgeCredential, Profile, Recipient, ResultEntry};
    use crate::{Achievement, Finding};

    fn df101() -> Value {
        serde_json::from_str(include_str!(
            "../../../../examples/achievements/df-101.json"
        ))
        .unwrap()
    }

    /// A credential for `achievement`, built the way `microcred issue` builds one.
    fn credential(achievement: Value, with_result: bool) -> Value {
        let issuer: Value =
            serde_json::from_str(include_str!("../../../../examples/issuer-profile.json")).unwrap();
        let mut issuer = issuer;
        issuer["id"] = json!("did:example:college");
        let achievement = Achievement::from_value(achievement).unwrap();
        let mut subject = AchievementSubject::new(
            &Recipient::Id("did:example:learner".into()),
            achievement.clone(),
        );
        if with_result {
            for rd in &achievement.result_description {
                subject
                    .result
                    .push(ResultEntry::for_description(rd, "Completed"));
            }
        }
        OpenBadgeCredential::new(
            "urn:uuid:2f1c0a52-5b1e-4d59-9a45-0d1c2b3a4f5e",
            Profile::from_value(issuer).unwrap(),
            time::macros::datetime!(2025-06-01 12:00 UTC),
            subject,
        )
        .unwrap()
        .to_value()
    }

    /// The 1EdTech basic example (a "Teamwork" badge), turned into a MicroCredential: valid
    /// Open Badges 3.0 without any EU Annex I element beyond the required ones.
    fn bare_microcredential() -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "http://example.com/credentials/3527",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "https://example.com/issuers/876543", "type": ["Profile"], "name": "Example Corp"},
            "validFrom": "2010-01-01T00:00:00Z",
            "name": "Teamwork Badge",
            "credentialSubject": {
                "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://example.com/achievements/21st-century-skills/teamwork",
                    "type": ["Achievement"],
                    "achievementType": "MicroCredential",
                    "criteria": {"narrative": "Team members are nominated by their peers."},
                    "description": "Collaboration within a group.",
                    "name": "Teamwork"
                }
            }
        })
    }

    fn with_profile(v: &Value, name: &str) -> crate::LintReport {
        let p = LintProfile::by_name(name).unwrap();
        lint_with(v, &LintOptions::new().with_profile(Some(p)))
    }

    fn rules(findings: &[Finding], severity: Severity) -> Vec<&'static str> {
        findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn without_a_profile_policy_findings_are_warnings() {
        let r = lint(&bare_microcredential());
        assert!(!r.has_errors(), "{:#?}", r.findings);
        assert_eq!(r.profile, None);
        let warnings = rules(&r.findings, Severity::Warning);
        for rule in [
            "eu.country",
            "eu.workload",
            "eu.assessmentType",
            "eu.formOfParticipation",
            "eu.qualityAssurance",
            "eu.level",
            "heqco.competencyBased",
            "heqco.stackable",
        ] {
            assert!(warnings.contains(&rule), "{rule}: {warnings:?}");
        }
        // One finding per element: HEQCO's markers that repeat an EU element are not repeated.
        for dup in [
            "heqco.accredited",
            "heqco.flexible",
            "heqco.standardized",
            "heqco.assessed",
        ] {
            assert!(!warnings.contains(&dup), "{dup}: {warnings:?}");
        }
    }

    #[test]
    fn eu_2022_makes_each_missing_element_an_error_for_a_microcredential() {
        let r = with_profile(&bare_microcredential(), "eu-2022");
        assert_eq!(r.profile, Some("eu-2022"));
        let errors: Vec<(&str, &str)> = r.errors().map(|f| (f.rule, f.path.as_str())).collect();
        assert_eq!(
            errors,
            vec![
                ("eu.country", "issuer.address.addressCountryCode"),
                (
                    "eu.workload",
                    "credentialSubject.achievement.volumeOfLearning"
                ),
                (
                    "eu.assessmentType",
                    "credentialSubject.achievement.resultDescription"
                ),
                (
                    "eu.formOfParticipation",
                    "credentialSubject.achievement.learningMode"
                ),
                (
                    "eu.qualityAssurance",
                    "credentialSubject.achievement.qualityAssurance"
                ),
            ]
        );
        for f in r.errors() {
            assert!(
                f.message.contains("eu-2022") && f.message.contains("add "),
                "{}",
                f.message
            );
        }
        // "Where applicable": the level stays a warning; no other profile's findings appear.
        assert_eq!(rules(&r.findings, Severity::Warning), vec!["eu.level"]);
    }

    #[test]
    fn a_profile_only_advises_on_other_achievement_types() {
        let mut degree = bare_microcredential();
        degree["credentialSubject"]["achievement"]["achievementType"] = json!("Degree");
        let r = with_profile(&degree, "eu-2022");
        assert!(!r.has_errors(), "{:#?}", r.findings);
        let country = r.findings.iter().find(|f| f.rule == "eu.country").unwrap();
        assert!(
            country.message.contains("\"Degree\""),
            "{}",
            country.message
        );
    }

    #[test]
    fn complete_microcredentials_pass_their_profiles() {
        let full = credential(df101(), true);
        for name in ["eu-2022", "heqco"] {
            let r = with_profile(&full, name);
            assert!(!r.has_errors(), "{name}: {:#?}", r.findings);
        }
        // HEQCO's "assessed" needs the learner's result in a credential.
        let r = with_profile(&credential(df101(), false), "heqco");
        assert_eq!(
            r.errors()
                .map(|f| (f.rule, f.path.as_str()))
                .collect::<Vec<_>>(),
            vec![("heqco.assessed", "credentialSubject.result")]
        );
    }

    #[test]
    fn au_nmf_needs_an_hour_of_learning_and_nzqa_its_listing_details() {
        let mut short = df101();
        short["volumeOfLearning"] = json!("PT30M");
        let r = with_profile(&credential(short, true), "au-nmf");
        assert_eq!(
            r.errors().map(|f| f.rule).collect::<Vec<_>>(),
            vec!["au.volumeOfLearning"]
        );
        let r = with_profile(&credential(df101(), true), "au-nmf");
        assert!(!r.has_errors(), "{:#?}", r.findings);
        assert!(rules(&r.findings, Severity::Warning).contains(&"au.review"));

        let r = with_profile(&credential(df101(), true), "nzqa");
        assert_eq!(
            r.errors().map(|f| f.rule).collect::<Vec<_>>(),
            vec!["nzqa.level", "nzqa.nzsced", "nzqa.reviewPeriod"]
        );
        let mut listed = df101();
        listed["reviewPeriod"] = json!("P2Y");
        listed["qualificationLevel"] = json!(["https://www.nzqa.govt.nz/nzqf/level/4"]);
        listed["alignment"].as_array_mut().unwrap().push(json!({
            "type": ["Alignment"], "targetType": "ext:NZSCED", "targetCode": "020199",
            "targetName": "Information Technology", "targetUrl": "https://www.education.govt.nz/nzsced/020199"
        }));
        let r = with_profile(&credential(listed, true), "nzqa");
        assert!(!r.has_errors(), "{:#?}", r.findings);
    }

    #[test]
    fn malformed_extension_values_are_errors_without_a_profile() {
        for (field, bad, rule) in [
            ("volumeOfLearning", json!("15 hours"), "mc.volumeOfLearning"),
            ("reviewPeriod", json!(2), "mc.reviewPeriod"),
            ("learningMode", json!("hybrid"), "mc.learningMode"),
            (
                "assessmentSupervision",
                json!("proctored"),
                "mc.assessmentSupervision",
            ),
        ] {
            let mut a = df101();
            a[field] = bad;
            let r = lint(&credential(a, true));
            assert!(
                rules(&r.findings, Severity::Error).contains(&rule),
                "{field}: {:#?}",
                r.findings
            );
        }
    }

    #[test]
    fn achievement_definitions_are_linted_without_issuer_elements() {
        let mut a = df101();
        a.as_object_mut().unwrap().remove("qualityAssurance");
        let eu = LintProfile::by_name("eu-2022").unwrap();
        let r = lint_achievement_with(&a, &LintOptions::new().with_profile(Some(eu)));
        assert_eq!(
            r.errors()
                .map(|f| (f.rule, f.path.as_str()))
                .collect::<Vec<_>>(),
            vec![("eu.qualityAssurance", "achievement.qualityAssurance")]
        );
        assert!(!crate::lint_achievement(&a).has_errors());
    }

    #[test]
    fn profiles_are_found_by_name_and_unknown_names_list_the_known_ones() {
        assert_eq!(LintProfile::by_name(" EU-2022 ").unwrap().name(), "eu-2022");
        assert_eq!(LintProfile::parse_choice("none").unwrap(), None);
        let e = LintProfile::by_name("eu-2020").unwrap_err();
        assert_eq!(e.name, "eu-2020");
        let text = e.to_string();
        for p in LintProfile::all() {
            assert!(text.contains(p.name()), "{text}");
        }
        let names: Vec<&str> = LintProfile::all().iter().map(LintProfile::name).collect();
        assert_eq!(names, ["eu-2022", "heqco", "au-nmf", "nzqa"]);
    }

    #[test]
    fn tables_are_consistent() {
        for p in LintProfile::all() {
            let prefix = p.rules()[0].rule().split('.').next().unwrap();
            let mut seen = Vec::new();
            for r in p.rules() {
                assert!(r.rule().starts_with(&format!("{prefix}.")), "{}", r.rule());
                assert!(
                    !seen.contains(&r.element()),
                    "{}: {} twice",
                    p.name(),
                    r.element()
                );
                seen.push(r.element());
                assert!(!r.location().is_empty() && !r.what().is_empty());
            }
        }
    }

    #[test]
    fn duration_hours_compare_with_one_hour() {
        use crate::lint::duration_hours;
        assert_eq!(duration_hours("PT30M"), Some(0.5));
        assert_eq!(duration_hours("PT1H"), Some(1.0));
        assert!(duration_hours("P1D").is_some_and(|h| h >= 24.0));
        assert_eq!(duration_hours("PT"), None);
    }
}
