//! The Open Badges 3.0 data model on VC 2.0, with the microcredential extension.
//!
//! Every type keeps members it does not know in `extra`, so a received credential read into
//! these types and written out again loses nothing. Verification never uses these types: it
//! works on the JSON received.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::time_fmt;
use crate::verify::{has_scheme, VC_V2_CONTEXT};

/// Open Badges 3.0.3 context.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// 1EdTech OB 3.0 extensions context (defines `1EdTechJsonSchemaValidator2019` and friends).
pub const OB_EXTENSIONS_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";
/// 1EdTech Open Badges Assessment Extension context.
pub const OB_ASSESSMENT_CONTEXT: &str =
    "https://purl.imsglobal.org/spec/ob-assessment/v2p0/context/";
/// The vocabulary (namespace) IRI of the microcredential extension terms: every term is
/// `<MICROCRED_VOCAB><term>`. Its human-readable definitions are published by every
/// microcred service at `/ns/microcred/v1` (see ARCHITECTURE.md, "Extension terms").
pub const MICROCRED_VOCAB: &str = "https://w3id.org/microcred/v1#";
/// The text of the microcredential extension's JSON-LD context **map** (not a URL), which every
/// credential using the extension carries as the `@context` of its `credentialSubject`, so
/// that any JSON-LD processor can expand it without fetching anything
/// (`contexts/microcred-inline-v1.json`).
pub const MICROCRED_INLINE_CONTEXT_TEXT: &str =
    include_str!("../../../contexts/microcred-inline-v1.json");
/// The placeholder context URL that microcred 0.1 put in credentials. Nobody serves it, so
/// verifiers in the field cannot process such credentials; microcred still verifies them
/// (its text is bundled) but lint refuses to sign anything that names it.
pub const MICROCRED_LEGACY_CONTEXT: &str = "https://microcredential.example/ns/v1/context.json";
/// The official OB 3.0 JSON Schema.
pub const OB_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json";

/// The microcredential extension's inline context map (parsed [`MICROCRED_INLINE_CONTEXT_TEXT`]),
/// ready to be pushed into a credential's `@context` array.
pub fn microcred_context() -> Value {
    static PARSED: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            // The text is compiled in and checked by a unit test; Null is never reached.
            serde_json::from_str(MICROCRED_INLINE_CONTEXT_TEXT).unwrap_or(Value::Null)
        })
        .clone()
}

/// Whether `item` (one entry of an `@context` array) is a context map that defines the
/// microcredential extension terms (microcred's inline context or an equivalent one).
pub(crate) fn defines_microcred_terms(item: &Value) -> bool {
    item.as_object()
        .is_some_and(|m| MICROCRED_TERMS.iter().any(|t| m.contains_key(*t)))
}

/// Whether any `@context` in `doc` (the top-level one or one embedded in a node) holds a map
/// that defines the microcredential extension terms.
pub(crate) fn has_microcred_context(doc: &Value) -> bool {
    match doc {
        Value::Object(m) => m.iter().any(|(k, v)| {
            if k == "@context" {
                match v {
                    Value::Array(items) => items.iter().any(defines_microcred_terms),
                    one => defines_microcred_terms(one),
                }
            } else {
                has_microcred_context(v)
            }
        }),
        Value::Array(items) => items.iter().any(has_microcred_context),
        _ => false,
    }
}

/// Terms defined by the microcredential extension context.
pub(crate) const MICROCRED_TERMS: &[&str] = &[
    "volumeOfLearning",
    "creditSystem",
    "qualificationLevel",
    "learningMode",
    "learningSetting",
    "assessmentSupervision",
    "entryRequirement",
    "awardingBody",
    "qualityAssurance",
    "stackability",
    "stackingRequirement",
    "reviewPeriod",
];
/// Terms defined by the 1EdTech assessment extension context.
pub(crate) const ASSESSMENT_TERMS: &[&str] = &[
    "assessmentType",
    "assessmentOutput",
    "hasGroupParticipation",
    "hasGroupEvaluation",
    "evaluationMethod",
    "AssessmentResultDescription",
];

/// Input that cannot form a valid credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// JSON that does not match the expected OB 3.0 shape.
    #[error("{what} does not have the Open Badges 3.0 shape: {reason}")]
    Shape {
        /// Which object.
        what: &'static str,
        /// serde's explanation.
        reason: String,
    },
    /// An identifier that must be an absolute IRI is not one.
    #[error("{field} \"{value}\" must be an absolute URL, URN or DID (with a scheme such as https: or did:)")]
    NotAnIri {
        /// The field.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// A recipient is neither an IRI nor an e-mail address.
    #[error("recipient \"{0}\" is neither a DID/URL nor an e-mail address")]
    BadRecipient(String),
}

/// `type`: one string or an array, kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Types {
    /// A single type name.
    One(String),
    /// Several type names.
    Many(Vec<String>),
}

impl Types {
    /// An array with one type, the form the OB 3.0 schema requires for most classes.
    pub fn of(name: &str) -> Self {
        Self::Many(vec![name.to_owned()])
    }
    /// Whether `name` is among the types.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::One(s) => s == name,
            Self::Many(v) => v.iter().any(|s| s == name),
        }
    }
}

/// An issuer or creator `Profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Profile {
    /// The institution's id: its DID (or URL); must equal the signing key's controller.
    pub id: String,
    /// `["Profile"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// Name of the institution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Home page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Contact e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Postal address (country and region matter for microcredentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Logo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Value>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Profile {
    /// A profile with the required `id` and a name.
    pub fn new(id: &str, name: &str) -> Result<Self, ModelError> {
        require_iri("issuer id", id)?;
        Ok(Self {
            id: id.to_owned(),
            types: Types::of("Profile"),
            name: Some(name.to_owned()),
            url: None,
            email: None,
            description: None,
            address: None,
            image: None,
            extra: Map::new(),
        })
    }

    /// Reads a profile from JSON.
    pub fn from_value(v: Value) -> Result<Self, ModelError> {
        let p: Self = from_value("issuer Profile", v)?;
        require_iri("issuer id", &p.id)?;
        Ok(p)
    }
}

/// A postal `Address`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Address {
    /// `["Address"]`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub types: Option<Types>,
    /// Country name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_country: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_country_code: Option<String>,
    /// Region (province, state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_region: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_locality: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The definition of what was achieved: an OB 3.0 `Achievement` (e.g. a `MicroCredential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Achievement {
    /// Stable id of the achievement definition.
    pub id: String,
    /// `["Achievement"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// E.g. `MicroCredential`, `Certificate`, `Course`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achievement_type: Option<String>,
    /// Title.
    pub name: String,
    /// Short description.
    pub description: String,
    /// How it is earned (narrative with the learning outcomes, and/or a URL).
    pub criteria: Criteria,
    /// Competencies and frameworks it aligns to (ESCO, CASE, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alignment: Vec<Alignment>,
    /// Assessments and the results they produce.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub result_description: Vec<ResultDescription>,
    /// Credits offered (pair with `creditSystem`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_number"
    )]
    pub credits_available: Option<f64>,
    /// Field of study.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_of_study: Option<String>,
    /// BCP 47 language of the achievement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_language: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<String>,
    /// The creator Profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<Profile>,
    /// Image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Value>,
    /// Human code such as `DF-101`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human_code: Option<String>,
    /// Version of the definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Notional workload, ISO 8601 duration such as `PT15H` (microcred extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_of_learning: Option<String>,
    /// `online`, `onsite` or `blended` (microcred extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learning_mode: Option<String>,
    /// Quality assurance (microcred extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quality_assurance: Vec<Value>,
    /// How it stacks into larger credentials (microcred extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stackability: Option<Value>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Achievement {
    /// An achievement with the fields OB 3.0 requires.
    pub fn new(
        id: &str,
        name: &str,
        description: &str,
        criteria: Criteria,
    ) -> Result<Self, ModelError> {
        require_iri("achievement id", id)?;
        Ok(Self {
            id: id.to_owned(),
            types: Types::of("Achievement"),
            achievement_type: None,
            name: name.to_owned(),
            description: description.to_owned(),
            criteria,
            alignment: Vec::new(),
            result_description: Vec::new(),
            credits_available: None,
            field_of_study: None,
            in_language: None,
            tag: Vec::new(),
            creator: None,
            image: None,
            human_code: None,
            version: None,
            volume_of_learning: None,
            learning_mode: None,
            quality_assurance: Vec::new(),
            stackability: None,
            extra: Map::new(),
        })
    }

    /// Reads an achievement definition from JSON.
    pub fn from_value(v: Value) -> Result<Self, ModelError> {
        let a: Self = from_value("Achievement", v)?;
        require_iri("achievement id", &a.id)?;
        Ok(a)
    }
}

/// `Criteria`: a narrative and/or a URL.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Criteria {
    /// URL of the criteria.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Markdown narrative (learning outcomes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Criteria {
    /// Criteria given as a narrative.
    pub fn narrative(text: &str) -> Self {
        Self {
            narrative: Some(text.to_owned()),
            ..Self::default()
        }
    }
}

/// An `Alignment` to a competency or framework item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Alignment {
    /// `["Alignment"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// Name of the target (e.g. ESCO skill label).
    pub target_name: String,
    /// URL of the target.
    pub target_url: String,
    /// Code within the framework.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_code: Option<String>,
    /// Framework name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_framework: Option<String>,
    /// `ext:ESCOSkill`, `CFItem`, `ceasn:Competency`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Alignment {
    /// An alignment to a framework item.
    pub fn new(target_name: &str, target_url: &str) -> Result<Self, ModelError> {
        require_iri("alignment targetUrl", target_url)?;
        Ok(Self {
            types: Types::of("Alignment"),
            target_name: target_name.to_owned(),
            target_url: target_url.to_owned(),
            target_code: None,
            target_framework: None,
            target_type: None,
            extra: Map::new(),
        })
    }
}

/// A `ResultDescription`: one assessment and how its result is expressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResultDescription {
    /// Id referenced by `Result.resultDescription`.
    pub id: String,
    /// `["ResultDescription"]` (plus `AssessmentResultDescription`).
    #[serde(rename = "type")]
    pub types: Types,
    /// Name.
    pub name: String,
    /// `Percent`, `Status`, `RubricCriterionLevel`, `LetterGrade`, ...
    pub result_type: String,
    /// Required value to pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_value: Option<String>,
    /// Required rubric level id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_level: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The learner (`AchievementSubject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AchievementSubject {
    /// An embedded JSON-LD context for this node (microcred's extension terms: set by
    /// [`OpenBadgeCredential::new`] when the subject uses them).
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// The learner's DID or URL, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `["AchievementSubject"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// Identifiers (e.g. salted-hash e-mail) when there is no DID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<IdentityObject>,
    /// What was achieved.
    pub achievement: Achievement,
    /// Results of the assessments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub result: Vec<ResultEntry>,
    /// Credits earned.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_number"
    )]
    pub credits_earned: Option<f64>,
    /// Start of the learning activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_start_date: Option<String>,
    /// End of the learning activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_end_date: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The learner, identified by a DID/URL or by e-mail (stored as a salted SHA-256 hash).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recipient {
    /// A DID or URL: becomes `credentialSubject.id`.
    Id(String),
    /// An e-mail address: becomes a hashed `IdentityObject`, with this salt.
    Email {
        /// The address.
        email: String,
        /// The salt (the caller supplies randomness).
        salt: String,
    },
}

impl Recipient {
    /// Interprets `text`: an e-mail address (has `@`, no scheme) or an IRI.
    pub fn parse(text: &str, salt: &str) -> Result<Self, ModelError> {
        let text = text.trim();
        if let Some(mail) = text.strip_prefix("mailto:") {
            return Self::parse(mail, salt);
        }
        if text.contains('@') && !text.starts_with("did:") && !text.contains("://") {
            let (local, domain) = text.split_once('@').unwrap_or(("", ""));
            if local.is_empty() || !domain.contains('.') || text.contains(char::is_whitespace) {
                return Err(ModelError::BadRecipient(text.to_owned()));
            }
            return Ok(Self::Email {
                email: text.to_lowercase(),
                salt: salt.to_owned(),
            });
        }
        if has_scheme(text) && !text.contains(char::is_whitespace) {
            return Ok(Self::Id(text.to_owned()));
        }
        Err(ModelError::BadRecipient(text.to_owned()))
    }
}

impl AchievementSubject {
    /// The subject for `recipient` who achieved `achievement`.
    pub fn new(recipient: &Recipient, achievement: Achievement) -> Self {
        let (id, identifier) = match recipient {
            Recipient::Id(id) => (Some(id.clone()), Vec::new()),
            Recipient::Email { email, salt } => {
                (None, vec![IdentityObject::hashed_email(email, salt)])
            }
        };
        Self {
            context: None,
            id,
            types: Types::of("AchievementSubject"),
            identifier,
            achievement,
            result: Vec::new(),
            credits_earned: None,
            activity_start_date: None,
            activity_end_date: None,
            extra: Map::new(),
        }
    }
}

/// An `IdentityObject` naming the learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IdentityObject {
    /// `"IdentityObject"`.
    #[serde(rename = "type")]
    pub types: Types,
    /// Whether `identity_hash` is hashed.
    pub hashed: bool,
    /// `sha256$<hex>` of value+salt, or the plain value.
    pub identity_hash: String,
    /// `emailAddress`, `name`, `sisSourcedId`, ...
    pub identity_type: String,
    /// The salt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

impl IdentityObject {
    /// A salted SHA-256 e-mail identifier: `sha256$hex(email + salt)`.
    pub fn hashed_email(email: &str, salt: &str) -> Self {
        let digest = Sha256::digest(format!("{email}{salt}").as_bytes());
        Self {
            types: Types::One("IdentityObject".into()),
            hashed: true,
            identity_hash: format!("sha256${}", hex::encode(digest)),
            identity_type: "emailAddress".into(),
            salt: Some(salt.to_owned()),
        }
    }
}

/// A learner's `Result` for one result description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResultEntry {
    /// `["Result"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// The `ResultDescription` id this result is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_description: Option<String>,
    /// The value (score, grade).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `Completed`, `Enrolled`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rubric level achieved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achieved_level: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResultEntry {
    /// A result for the description `description`, interpreting `value` by its result type:
    /// a `Status` becomes `status`, a `RubricCriterionLevel` becomes `achievedLevel`, anything
    /// else `value`.
    pub fn for_description(description: &ResultDescription, value: &str) -> Self {
        let mut r = Self {
            types: Types::of("Result"),
            result_description: Some(description.id.clone()),
            value: None,
            status: None,
            achieved_level: None,
            extra: Map::new(),
        };
        match description.result_type.as_str() {
            "Status" => r.status = Some(value.to_owned()),
            "RubricCriterionLevel" => r.achieved_level = Some(value.to_owned()),
            _ => r.value = Some(value.to_owned()),
        }
        r
    }
}

/// `Evidence` of the achievement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Evidence {
    /// URL of the evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `["Evidence"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Narrative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Evidence {
    /// Evidence at a URL.
    pub fn at(url: &str) -> Result<Self, ModelError> {
        require_iri("evidence id", url)?;
        Ok(Self {
            id: Some(url.to_owned()),
            types: Types::of("Evidence"),
            name: None,
            narrative: None,
            extra: Map::new(),
        })
    }
}

/// An `OpenBadgeCredential` (VC 2.0 + OB 3.0.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OpenBadgeCredential {
    /// `@context`.
    #[serde(rename = "@context")]
    pub context: Vec<Value>,
    /// The credential's id (`urn:uuid:...` or URL).
    pub id: String,
    /// `["VerifiableCredential", "OpenBadgeCredential"]`.
    #[serde(rename = "type")]
    pub types: Types,
    /// Display name (the achievement's name, never the learner's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The embedded issuer Profile.
    pub issuer: Profile,
    /// Start of validity.
    pub valid_from: String,
    /// End of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// When it was awarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awarded_date: Option<String>,
    /// The learner and the achievement.
    pub credential_subject: AchievementSubject,
    /// Evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// JSON Schemas the credential conforms to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_schema: Vec<Value>,
    /// Members not modelled here, preserved exactly.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OpenBadgeCredential {
    /// A credential `id` issued by `issuer` to `subject`, valid from `valid_from`.
    /// The contexts of the extensions the achievement uses are added automatically: 1EdTech's
    /// by URL, microcred's as a context map embedded in `credentialSubject` (see
    /// ARCHITECTURE.md, "Extension terms").
    pub fn new(
        id: &str,
        issuer: Profile,
        valid_from: OffsetDateTime,
        mut subject: AchievementSubject,
    ) -> Result<Self, ModelError> {
        require_iri("credential id", id)?;
        // The extensions context defines the credentialSchema type added below.
        let mut context: Vec<Value> = vec![
            VC_V2_CONTEXT.into(),
            OB_CONTEXT.into(),
            OB_EXTENSIONS_CONTEXT.into(),
        ];
        subject.context = None;
        let subject_value = serde_json::to_value(&subject).unwrap_or(Value::Null);
        if subject_value
            .get("achievement")
            .is_some_and(|a| uses_any_term(a, ASSESSMENT_TERMS))
        {
            context.push(OB_ASSESSMENT_CONTEXT.into());
        }
        // Embedded in the subject rather than listed in the top-level @context: verifiers
        // compare top-level entries with the proof's (eddsa-jcs-2022) and some do that by
        // identity, which fails for any map; a node's own @context is plain JSON-LD 1.1.
        if uses_any_term(&subject_value, MICROCRED_TERMS) {
            subject.context = Some(microcred_context());
        }
        let when = time_fmt::format(valid_from);
        Ok(Self {
            context,
            id: id.to_owned(),
            types: Types::Many(vec![
                "VerifiableCredential".into(),
                "OpenBadgeCredential".into(),
            ]),
            name: Some(subject.achievement.name.clone()),
            issuer,
            valid_from: when.clone(),
            valid_until: None,
            awarded_date: Some(when),
            credential_subject: subject,
            evidence: Vec::new(),
            credential_schema: vec![serde_json::json!({
                "id": OB_SCHEMA,
                "type": "1EdTechJsonSchemaValidator2019"
            })],
            extra: Map::new(),
        })
    }

    /// Reads a credential (e.g. a received one) from JSON; unknown members are kept.
    pub fn from_value(v: Value) -> Result<Self, ModelError> {
        from_value("OpenBadgeCredential", v)
    }

    /// The JSON form, ready to lint and sign.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A JSON number for `x`, written without a fraction when it is a whole number that JSON
/// processors hold exactly (`1` rather than `1.0`). Both mean the same to JSON-LD and JCS, but
/// some verifiers (SpruceID ssi 0.16) keep the JSON text `1.0` as the literal of an
/// `xsd:float`-typed term instead of JSON-LD's canonical form, and then reject the signature.
pub fn json_number(x: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.is_finite() && x.fract() == 0.0 && x.abs() < EXACT {
        // Exact: |x| < 2^53 and integral.
        #[allow(clippy::cast_possible_truncation)]
        let n = x as i64;
        Value::from(n)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

fn serialize_number<S: serde::Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => json_number(*v).serialize(s),
        None => s.serialize_none(),
    }
}

fn from_value<T: serde::de::DeserializeOwned>(
    what: &'static str,
    v: Value,
) -> Result<T, ModelError> {
    serde_json::from_value(v).map_err(|e| ModelError::Shape {
        what,
        reason: e.to_string(),
    })
}

pub(crate) fn require_iri(field: &'static str, value: &str) -> Result<(), ModelError> {
    if has_scheme(value) && !value.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(ModelError::NotAnIri {
            field,
            value: value.to_owned(),
        })
    }
}

/// Whether any object member or `type` value anywhere in `v` is one of `terms`.
pub(crate) fn uses_any_term(v: &Value, terms: &[&str]) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, val)| {
            terms.contains(&k.as_str())
                || (k == "type"
                    && match val {
                        Value::String(s) => terms.contains(&s.as_str()),
                        Value::Array(items) => items
                            .iter()
                            .any(|t| t.as_str().is_some_and(|s| terms.contains(&s))),
                        _ => false,
                    })
                || uses_any_term(val, terms)
        }),
        Value::Array(items) => items.iter().any(|i| uses_any_term(i, terms)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        assert_eq!(json_number(1.0).to_string(), "1");
        assert_eq!(json_number(-3.0).to_string(), "-3");
        assert_eq!(json_number(2.5).to_string(), "2.5");
        assert_eq!(json_number(1e300).to_string(), "1e+300");
        assert_eq!(json_number(f64::NAN), Value::Null);
        let ach: Achievement = serde_json::from_value(serde_json::json!({
            "id": "https://c.example/a", "type": ["Achievement"], "name": "A",
            "description": "d", "criteria": {"narrative": "n"}, "creditsAvailable": 3.0
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let text = serde_json::to_string(&ach).unwrap_or_default();
        assert!(text.contains("\"creditsAvailable\":3"), "{text}");
        assert!(!text.contains("\"creditsAvailable\":3.0"), "{text}");
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn achievements_round_trip_without_loss() {
        for text in [
            include_str!("../../../examples/achievements/df-101.json"),
            include_str!("../../../examples/achievements/df-102.json"),
            include_str!("../../../examples/achievements/df-103.json"),
            include_str!("../../../examples/achievements/df-certificate.json"),
        ] {
            let original: Value = serde_json::from_str(text).unwrap();
            let typed = Achievement::from_value(original.clone()).unwrap();
            assert_eq!(serde_json::to_value(&typed).unwrap(), original);
        }
    }

    #[test]
    fn received_credential_keeps_unknown_members() {
        let issuer = Profile::new("did:example:college", "College").unwrap();
        let achievement = Achievement::new(
            "https://college.example/a/1",
            "Name",
            "Description",
            Criteria::narrative("Do it"),
        )
        .unwrap();
        let subject = AchievementSubject::new(&Recipient::Id("did:example:l".into()), achievement);
        let built = OpenBadgeCredential::new(
            "urn:uuid:1",
            issuer,
            time::macros::datetime!(2025-01-01 0:00 UTC),
            subject,
        )
        .unwrap();
        let mut v = built.to_value();
        v["futureField"] = json!({"nested": [1, 2.5, "x"]});
        v["credentialSubject"]["achievement"]["ext:custom"] = json!(true);
        v["issuer"]["type"] = json!("Profile");
        let typed = OpenBadgeCredential::from_value(v.clone()).unwrap();
        assert_eq!(typed.to_value(), v);
    }

    #[test]
    fn recipients() {
        assert!(matches!(
            Recipient::parse("did:example:1", "s"),
            Ok(Recipient::Id(_))
        ));
        assert!(
            matches!(Recipient::parse("A@B.org", "s"), Ok(Recipient::Email { email, .. }) if email == "a@b.org")
        );
        assert!(Recipient::parse("nobody", "s").is_err());
        assert!(Recipient::parse("a b@c.org", "s").is_err());
        let id = IdentityObject::hashed_email("a@b.org", "salt");
        // sha256("a@b.orgsalt")
        assert_eq!(id.identity_hash.len(), "sha256$".len() + 64);
    }
}
