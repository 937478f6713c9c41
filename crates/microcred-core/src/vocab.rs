//! The microcredential extension vocabulary: what each term of the inline context
//! ([`crate::MICROCRED_INLINE_CONTEXT_TEXT`]) means, for people. The service publishes it at
//! `/ns/microcred/v1` (every term IRI `https://w3id.org/microcred/v1#<term>` has its anchor
//! there); a unit test keeps it and the context in step.

/// Whether a term names a property or a class (a `type` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TermKind {
    /// A property (a JSON member name).
    Property,
    /// A class (a `type` value).
    Class,
}

/// One term of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TermDefinition {
    /// The term, as used in JSON (the IRI is [`crate::MICROCRED_VOCAB`] + term).
    pub term: &'static str,
    /// Property or class.
    pub kind: TermKind,
    /// Where it is used (the object that carries the property).
    pub used_on: &'static str,
    /// Its values.
    pub values: &'static str,
    /// What it means.
    pub definition: &'static str,
    /// The EU 2022 Recommendation (Annex I) element it expresses, if any.
    pub annex_i: Option<&'static str>,
}

const fn property(
    term: &'static str,
    used_on: &'static str,
    values: &'static str,
    definition: &'static str,
    annex_i: Option<&'static str>,
) -> TermDefinition {
    TermDefinition {
        term,
        kind: TermKind::Property,
        used_on,
        values,
        definition,
        annex_i,
    }
}

const fn class(term: &'static str, definition: &'static str) -> TermDefinition {
    TermDefinition {
        term,
        kind: TermKind::Class,
        used_on: "type",
        values: "-",
        definition,
        annex_i: None,
    }
}

/// Every term of the microcredential extension, in the order of the context.
pub const MICROCRED_VOCABULARY: &[TermDefinition] = &[
    property(
        "volumeOfLearning",
        "Achievement",
        "ISO 8601 duration (xsd:duration), e.g. \"PT15H\"",
        "The notional workload a typical learner needs to reach the learning outcomes, in hours of learning activity of every kind (taught, guided and independent).",
        Some("notional workload"),
    ),
    property(
        "creditSystem",
        "Achievement",
        "IRI of a credit system, e.g. the ECTS concept http://data.europa.eu/snb/education-credit/6fcec5c5af",
        "The unit of the achievement's creditsAvailable and of the learner's creditsEarned.",
        Some("credits (ECTS wherever possible)"),
    ),
    property(
        "learningMode",
        "Achievement",
        "\"online\", \"onsite\" or \"blended\"",
        "How learners take part in the learning activities (form of participation).",
        Some("form of participation"),
    ),
    property(
        "learningSetting",
        "Achievement",
        "\"formal\" or \"non-formal\"",
        "Whether the learning takes place in a formal education setting or outside one.",
        None,
    ),
    property(
        "assessmentSupervision",
        "Achievement (as designed) or Result (as it happened)",
        "\"unsupervised-no-id-verification\", \"supervised-no-id-verification\", \"supervised-online-id-verification\" or \"supervised-onsite-id-verification\"",
        "Whether the assessment was supervised and whether the learner's identity was verified during it.",
        Some("supervision and identity verification"),
    ),
    property(
        "entryRequirement",
        "Achievement",
        "text (Markdown)",
        "What a learner needs to know or have done before starting (prerequisites).",
        Some("prerequisites"),
    ),
    property(
        "awardingBody",
        "Achievement",
        "Profile objects",
        "The bodies that award the achievement jointly with the issuer, when there are several.",
        Some("awarding body"),
    ),
    property(
        "qualificationLevel",
        "Achievement",
        "IRIs of levels in a qualifications framework, e.g. http://data.europa.eu/snb/eqf/5",
        "The level of the achievement in the European Qualifications Framework or a national one, where it has one.",
        Some("level (EQF/NQF), if applicable"),
    ),
    class(
        "QualityAssurance",
        "A statement of the quality assurance that covers the achievement.",
    ),
    property(
        "qualityAssurance",
        "Achievement",
        "QualityAssurance objects (qualityAssuranceType, name, description, url)",
        "The quality assurance processes that cover this achievement, and who runs them.",
        Some("type of quality assurance"),
    ),
    property(
        "qualityAssuranceType",
        "QualityAssurance",
        "text, e.g. \"institutional\", \"external-accreditation\"",
        "The kind of quality assurance.",
        None,
    ),
    class(
        "Stackability",
        "How an achievement can be combined with others into a larger credential.",
    ),
    property(
        "stackability",
        "Achievement",
        "a Stackability object (integrationOption, stacksInto)",
        "Whether the achievement stands alone or stacks into larger credentials, and which.",
        Some("integration / stackability options"),
    ),
    property(
        "integrationOption",
        "Stackability",
        "\"standalone\" or \"stackable\"",
        "Whether the achievement is a standalone credential or can be stacked.",
        None,
    ),
    property(
        "stacksInto",
        "Stackability",
        "IRIs of achievements",
        "The larger achievements this one counts towards.",
        None,
    ),
    class(
        "StackingRequirement",
        "The rule by which component achievements make up a larger one.",
    ),
    property(
        "stackingRequirement",
        "Achievement (the larger one)",
        "a StackingRequirement object",
        "What a learner must hold to be awarded this achievement through stacking.",
        None,
    ),
    property(
        "requiredAchievement",
        "StackingRequirement",
        "IRIs of achievements",
        "The component achievements that count towards this one.",
        None,
    ),
    property(
        "minimumRequired",
        "StackingRequirement",
        "integer",
        "How many of the required achievements must be held (all of them when absent).",
        None,
    ),
    property(
        "minimumCredits",
        "StackingRequirement",
        "number",
        "The least sum of credits the counted components must have earned.",
        None,
    ),
    property(
        "completionWindow",
        "StackingRequirement",
        "ISO 8601 duration",
        "The time within which the components must have been earned.",
        None,
    ),
    property(
        "reviewPeriod",
        "Achievement",
        "ISO 8601 duration",
        "How often the institution reviews the achievement's currency and relevance.",
        None,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary defines exactly the terms of the inline context, in its order.
    #[test]
    fn vocabulary_matches_the_inline_context() {
        let ctx: serde_json::Value =
            serde_json::from_str(crate::MICROCRED_INLINE_CONTEXT_TEXT).unwrap_or_default();
        let terms: Vec<&str> = ctx
            .as_object()
            .map(|m| {
                m.keys()
                    .map(String::as_str)
                    .filter(|k| !k.starts_with('@') && *k != "mc")
                    .collect()
            })
            .unwrap_or_default();
        let documented: Vec<&str> = MICROCRED_VOCABULARY.iter().map(|t| t.term).collect();
        let (mut a, mut b) = (terms.clone(), documented.clone());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        assert_eq!(
            ctx.get("mc").and_then(|v| v.as_str()),
            Some(crate::MICROCRED_VOCAB)
        );
        assert_eq!(crate::microcred_context(), ctx);
    }
}
