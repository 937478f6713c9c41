//! # microcred-core
//!
//! Sign and verify Open Badges 3.0 microcredentials (W3C Verifiable Credentials 2.0) with
//! Ed25519 Data Integrity proofs. This crate does no I/O: no network, no disk, no clock.
//! Callers pass in the time, the keys and any documents needed to resolve keys.
//!
//! ```
//! use microcred_core::{sign, verify, Cryptosuite, IssuerKey, KeyRing, VerifyOptions, Verdict};
//! let key = IssuerKey::from_seed(&[42u8; 32])?;
//! let credential = serde_json::json!({
//!     "@context": ["https://www.w3.org/ns/credentials/v2"],
//!     "type": ["VerifiableCredential"],
//!     "issuer": key.controller(),
//!     "validFrom": "2025-01-01T00:00:00Z",
//!     "credentialSubject": {"id": "did:example:learner"}
//! });
//! let now = time::macros::datetime!(2025-06-01 12:00 UTC);
//! let signed = sign(&credential, &key, Cryptosuite::EddsaRdfc2022, now)?;
//! let bytes = serde_json::to_vec(&signed)?;
//! let keys = KeyRing::new();
//! let report = verify(&bytes, &VerifyOptions::new(now, &keys));
//! assert_eq!(report.verdict, Verdict::Valid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod clr;
mod config_template;
mod endorse;
mod issue;
pub mod jcs;
mod json;
mod keys;
mod lint;
mod model;
mod proof;
mod related;
mod resolve;
mod stack;
mod status;
mod time_fmt;
mod trust;
mod verify;
mod vocab;

pub use clr::{
    check_clr, clr_credential, is_clr, AssociationOutcome, ClrCheck, ClrCheckKind, ClrError,
    ClrOptions, ClrReport, ASSOCIATION_TYPES, CLR_CONTEXT, CLR_SCHEMA, MAX_CLR_ASSOCIATIONS,
    MAX_CLR_CREDENTIALS,
};
pub use endorse::{
    check_endorsements, endorsement_credential, Endorsed, EndorsementReport, EndorserTrust,
    ENDORSEMENT_CREDENTIAL, ENDORSEMENT_SCHEMA, ENDORSEMENT_SUBJECT, MAX_ENDORSEMENTS,
};
pub use issue::{
    parse_csv, sign_checked, CredentialTemplate, CsvError, CsvRow, IssueCheck, IssueRow, RowError,
    Spare,
};
pub use json::{parse_strict, JsonError};
pub use keys::{ExternalSigner, IssuerKey, KeyError, PublicKey, SignerError, MULTIKEY_CONTEXT};
pub use lint::{
    json_ld_problem, lint, lint_achievement, lint_achievement_with, lint_with, lint_with_contexts,
    Finding, LintOptions, LintProfile, LintReport, ProfileRule, Requirement, Severity,
    UnknownProfile, LEARNING_MODES, NO_PROFILE, SUPERVISION_VALUES,
};
pub use microcred_rdf::{ContextLoader, Error as JsonLdError};
pub use model::{
    json_number, microcred_context, Achievement, AchievementSubject, Address, Alignment, Criteria,
    Evidence, IdentityObject, ModelError, OpenBadgeCredential, Profile, Recipient,
    ResultDescription, ResultEntry, Types, MICROCRED_INLINE_CONTEXT_TEXT, MICROCRED_LEGACY_CONTEXT,
    MICROCRED_VOCAB, OB_ASSESSMENT_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT, OB_SCHEMA,
};
pub use proof::{
    bundled_contexts, hash_data, sign, sign_owned, sign_with_contexts, Cryptosuite, HashData,
    ProofError, ProofSetup, ASSERTION_METHOD, DATA_INTEGRITY_PROOF, ED25519_SIGNATURE_2020,
};
pub use related::{check_related_resource, published_bytes, RelatedResourceCheck};
pub use resolve::{KeyRing, Method, ResolveError};
pub use stack::{
    achievement_matches, check_rule, check_stack, Component, ComponentOutcome, KnownIdentity,
    RequirementOutcome, StackCheck, StackCheckKind, StackError, StackReport, StackTarget,
    StackingRequirement, MAX_REQUIRED_ACHIEVEMENTS,
};
pub use status::{
    status_entries, status_list_credential, status_list_urls, Bitstring, StatusEntry, StatusError,
    StatusListCredential, MAX_STATUS_LIST_BYTES, MIN_STATUS_LIST_ENTRIES, STATUS_LIST,
    STATUS_LIST_CREDENTIAL, STATUS_LIST_ENTRY,
};
pub use time_fmt::{format as format_datetime, parse as parse_datetime};
pub use trust::{TrustDecision, TrustError, TrustList, TrustedIssuer};
pub use verify::{
    verify, verify_presentation_proofs, verify_value, Check, CheckKind, Outcome,
    PresentationProofs, Report, Verdict, VerifyOptions, VC_V1_CONTEXT, VC_V2_CONTEXT,
};
pub use vocab::{TermDefinition, TermKind, MICROCRED_VOCABULARY};
