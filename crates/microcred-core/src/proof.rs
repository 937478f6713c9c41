//! Data Integrity proofs (W3C VC Data Integrity 1.0) with the EdDSA cryptosuites
//! (W3C vc-di-eddsa, <https://www.w3.org/TR/vc-di-eddsa/>).
//!
//! The pipeline is the same for every suite: split the proof from the document, check the
//! proof options, then `hash = SHA-256(canonical proof config) ‖ SHA-256(canonical document)`
//! and an Ed25519 signature over those 64 bytes, encoded base58btc multibase in `proofValue`.
//! A suite only decides how a JSON document becomes canonical bytes ([`SuiteImpl`]), so
//! `eddsa-rdfc-2022` plugs in beside `eddsa-jcs-2022` as one more implementation.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use microcred_rdf::{CanonicalOptions, ContextLoader, DocumentView};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::keys::{decode_multibase_fixed, encode_multibase, IssuerKey};
use crate::resolve::{KeyRing, Method, ResolveError};
use crate::time_fmt;

/// The proof type of every Data Integrity proof this module makes.
pub const DATA_INTEGRITY_PROOF: &str = "DataIntegrityProof";
/// The legacy proof type still found in badges issued by other platforms (verify only).
pub const ED25519_SIGNATURE_2020: &str = "Ed25519Signature2020";
/// The proof purpose of credentials issued by an institution.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// A cryptosuite this implementation can create and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cryptosuite {
    /// `eddsa-rdfc-2022`: JSON-LD to RDF, RDFC-1.0 canonical N-Quads, SHA-256, Ed25519
    /// (<https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022>). The default for Open Badges
    /// 3.0: it is what 1EdTech conformance and the Open Badges ecosystem check.
    EddsaRdfc2022,
    /// `eddsa-jcs-2022`: RFC 8785 JSON canonicalization, SHA-256, Ed25519
    /// (<https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022>).
    EddsaJcs2022,
}

impl Cryptosuite {
    /// Every supported suite, the default first.
    pub const ALL: &'static [Self] = &[Self::EddsaRdfc2022, Self::EddsaJcs2022];
    /// The suite used when none is chosen.
    pub const DEFAULT: Self = Self::EddsaRdfc2022;

    /// The suite's registered name, as in `proof.cryptosuite`.
    pub fn name(self) -> &'static str {
        match self {
            Self::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Self::EddsaJcs2022 => "eddsa-jcs-2022",
        }
    }

    fn implementation(self) -> &'static dyn SuiteImpl {
        match self {
            Self::EddsaRdfc2022 => &Rdfc,
            Self::EddsaJcs2022 => &Jcs,
        }
    }

    /// Whether the proof object carries the document's `@context` (jcs does; rdfc proofs
    /// inherit the document's context, as in the W3C test vectors).
    fn proof_has_context(self) -> bool {
        matches!(self, Self::EddsaJcs2022)
    }
}

impl fmt::Display for Cryptosuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cryptosuite {
    type Err = ProofError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| ProofError::UnsupportedSuite(s.to_owned()))
    }
}

/// The bundled JSON-LD contexts, processed once and shared (processing is cached inside).
pub fn bundled_contexts() -> &'static ContextLoader {
    static LOADER: OnceLock<ContextLoader> = OnceLock::new();
    LOADER.get_or_init(ContextLoader::bundled)
}

/// How a suite turns JSON into the bytes that are hashed.
trait SuiteImpl: Sync {
    /// Canonical bytes of the unsecured document: `document` without its `proof` member,
    /// with `@context` replaced by `context` when given.
    fn transform_document(
        &self,
        document: &Map<String, Value>,
        context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError>;
    /// Canonical bytes of `document`, which has no `proof` member and keeps its own
    /// `@context` (the signing case: no copy of the document is made).
    fn transform_unsecured(
        &self,
        document: &Value,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError>;
    /// Whether a proof's own `@context` replaces the document's when verifying. Only
    /// `eddsa-jcs-2022` does this (vc-di-eddsa §3.3.2, Verify Proof step 4: the document is
    /// hashed with the proof's `@context`, so contexts appended after signing are allowed).
    /// RDF-based proofs never do: the proof configuration is interpreted with the document's
    /// `@context` (vc-di-eddsa §3.2.5), whatever the proof carries.
    fn proof_context_replaces_document(&self) -> bool {
        false
    }
    /// Canonical bytes of the proof configuration: the proof options `config` without their
    /// `proofValue` member, if any (so a received proof is read as it is, not copied);
    /// `document_context` is the document's `@context`.
    fn transform_config(
        &self,
        config: &Map<String, Value>,
        document_context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError>;
    /// SHA-256 of [`Self::transform_document`].
    fn hash_document(
        &self,
        document: &Map<String, Value>,
        context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        Ok(Sha256::digest(self.transform_document(document, context, contexts)?).into())
    }
    /// SHA-256 of [`Self::transform_unsecured`].
    fn hash_unsecured(
        &self,
        document: &Value,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        Ok(Sha256::digest(self.transform_unsecured(document, contexts)?).into())
    }
    /// SHA-256 of [`Self::transform_config`].
    fn hash_config(
        &self,
        config: &Map<String, Value>,
        document_context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        Ok(Sha256::digest(self.transform_config(config, document_context, contexts)?).into())
    }
}

/// `eddsa-jcs-2022` (vc-di-eddsa §3.3): both parts are canonicalized with RFC 8785.
struct Jcs;

impl SuiteImpl for Jcs {
    fn proof_context_replaces_document(&self) -> bool {
        true
    }
    fn transform_document(
        &self,
        document: &Map<String, Value>,
        context: Option<&Value>,
        _: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        Ok(crate::jcs::canonicalize_document_view(document, "proof", context).into_bytes())
    }
    fn transform_unsecured(
        &self,
        document: &Value,
        _: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        Ok(crate::jcs::canonicalize(document))
    }
    fn transform_config(
        &self,
        config: &Map<String, Value>,
        _: Option<&Value>,
        _: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        Ok(crate::jcs::canonicalize_document_view(config, "proofValue", None).into_bytes())
    }
}

/// `eddsa-rdfc-2022` (vc-di-eddsa §3.2) and the legacy `Ed25519Signature2020`: JSON-LD to RDF
/// in safe mode, RDFC-1.0 canonical N-Quads. The proof configuration is interpreted with the
/// document's `@context`.
struct Rdfc;

impl Rdfc {
    /// The unsecured document: `document` without `proof`, its `@context` replaced by
    /// `context`. A replacement @context only ever comes with a document that has one (it
    /// must start with the proof's); `with_context` would add it otherwise.
    fn document_view<'a>(
        document: &'a Map<String, Value>,
        context: Option<&'a Value>,
    ) -> DocumentView<'a> {
        let view = DocumentView::new(document).without("proof");
        match context.filter(|_| document.contains_key("@context")) {
            Some(ctx) => view.with_context(ctx),
            None => view,
        }
    }

    /// The proof configuration: `config` without `proofValue`, read with the document's
    /// `@context`.
    fn config_view<'a>(
        config: &'a Map<String, Value>,
        document_context: Option<&'a Value>,
    ) -> DocumentView<'a> {
        let view = DocumentView::new(config).without("proofValue");
        match document_context {
            Some(ctx) => view.with_context(ctx),
            None => view,
        }
    }

    /// Canonical N-Quads of the object `view` describes (nothing is copied).
    fn view_nquads(
        view: DocumentView<'_>,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        microcred_rdf::canonicalize_view(view, contexts, &CanonicalOptions::default())
            .map(|c| c.nquads.into_bytes())
            .map_err(ProofError::from)
    }

    /// SHA-256 of [`Self::view_nquads`], without joining the canonical lines into one string.
    fn view_hash(view: DocumentView<'_>, contexts: &ContextLoader) -> Result<[u8; 32], ProofError> {
        microcred_rdf::canonical_sha256_view(view, contexts, &CanonicalOptions::default())
            .map_err(ProofError::from)
    }
}

impl SuiteImpl for Rdfc {
    fn hash_document(
        &self,
        document: &Map<String, Value>,
        context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        Self::view_hash(Self::document_view(document, context), contexts)
    }
    fn hash_unsecured(
        &self,
        document: &Value,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        microcred_rdf::canonical_sha256_document(document, contexts, &CanonicalOptions::default())
            .map_err(ProofError::from)
    }
    /// From a remembered template when one applies (see [`crate::config_template`]): the
    /// configurations of one issuer's proofs differ only in `created`.
    fn hash_config(
        &self,
        config: &Map<String, Value>,
        document_context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        crate::config_template::hash(config, document_context, contexts, |config| {
            Self::view_nquads(Self::config_view(config, document_context), contexts)
        })
    }
    fn transform_document(
        &self,
        document: &Map<String, Value>,
        context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        Self::view_nquads(Self::document_view(document, context), contexts)
    }
    fn transform_unsecured(
        &self,
        document: &Value,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        microcred_rdf::canonicalize_document(document, contexts, &CanonicalOptions::default())
            .map(|c| c.nquads.into_bytes())
            .map_err(ProofError::from)
    }
    fn transform_config(
        &self,
        config: &Map<String, Value>,
        document_context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        Self::view_nquads(Self::config_view(config, document_context), contexts)
    }
}

/// A proof could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The document to sign is not a JSON object.
    #[error("the document must be a JSON object")]
    NotAnObject,
    /// `proof.cryptosuite` names a suite this build does not implement.
    #[error("unsupported cryptosuite `{0}` (supported: eddsa-rdfc-2022, eddsa-jcs-2022; Ed25519Signature2020 proofs are verified too)")]
    UnsupportedSuite(String),
    /// `proof.type` is not one this build implements.
    #[error("unsupported proof type `{0}` (supported: DataIntegrityProof, and Ed25519Signature2020 for verification)")]
    UnsupportedProofType(String),
    /// The proof is structurally wrong.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// JSON-LD processing failed: an unknown context, or (safe mode) data that would be
    /// dropped and so not be covered by the signature.
    #[error("JSON-LD: {0}")]
    JsonLd(#[from] microcred_rdf::Error),
    /// The key's external signer (HSM, PKCS#11 token) could not sign, or returned a signature
    /// that does not verify: nothing was signed.
    #[error("signing: {0}")]
    Signer(#[from] crate::keys::SignerError),
}

impl ProofError {
    /// True when the error only means a context is missing (add it and try again), not that
    /// the document is wrong.
    pub fn is_missing_context(&self) -> bool {
        matches!(
            self,
            Self::JsonLd(
                microcred_rdf::Error::UnknownContext { .. }
                    | microcred_rdf::Error::InvalidContextDocument { .. }
            )
        )
    }

    /// True when JSON-LD processing stopped at a work limit (too many look-alike blank nodes,
    /// too much context processing): the document is too costly to check, not shown wrong.
    pub fn is_work_limit(&self) -> bool {
        matches!(self, Self::JsonLd(e) if e.is_work_limit())
    }
}

/// The intermediate values of one proof, for debugging interop problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashData {
    /// Canonical proof configuration.
    pub canonical_config: Vec<u8>,
    /// Canonical document.
    pub canonical_document: Vec<u8>,
    /// SHA-256(config) ‖ SHA-256(document): the signed message.
    pub hash: [u8; 64],
}

/// Computes the canonical forms and the 64-byte message signed for `document` under the
/// proof configuration `config` (a proof without `proofValue`; one it has is left out), with
/// the bundled contexts. Exposed for test vectors and for debugging interop.
pub fn hash_data(
    suite: Cryptosuite,
    document: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Result<HashData, ProofError> {
    hash_view(
        suite.implementation(),
        document,
        None,
        config,
        bundled_contexts(),
    )
}

/// [`hash_data`] over `document` without `proof` and with `@context` replaced by `context`.
fn hash_view(
    imp: &dyn SuiteImpl,
    document: &Map<String, Value>,
    context: Option<&Value>,
    config: &Map<String, Value>,
    contexts: &ContextLoader,
) -> Result<HashData, ProofError> {
    let document_context = context.or_else(|| document.get("@context"));
    let canonical_config = imp.transform_config(config, document_context, contexts)?;
    let canonical_document = imp.transform_document(document, context, contexts)?;
    let mut hash = [0u8; 64];
    hash[..32].copy_from_slice(&Sha256::digest(&canonical_config));
    hash[32..].copy_from_slice(&Sha256::digest(&canonical_document));
    Ok(HashData {
        canonical_config,
        canonical_document,
        hash,
    })
}

/// The message [`hash_view`] computes, without keeping the canonical forms.
fn hash_only(
    imp: &dyn SuiteImpl,
    document: &Map<String, Value>,
    context: Option<&Value>,
    config: &Map<String, Value>,
    contexts: &ContextLoader,
) -> Result<[u8; 64], ProofError> {
    let document_context = context.or_else(|| document.get("@context"));
    let config_hash = imp.hash_config(config, document_context, contexts)?;
    let document_hash = imp.hash_document(document, context, contexts)?;
    let mut hash = [0u8; 64];
    hash[..32].copy_from_slice(&config_hash);
    hash[32..].copy_from_slice(&document_hash);
    Ok(hash)
}

/// Adds a Data Integrity proof made with `key` to `document` and returns the secured
/// document, resolving JSON-LD contexts from the bundled set. See [`sign_with_contexts`].
pub fn sign(
    document: &Value,
    key: &IssuerKey,
    suite: Cryptosuite,
    created: OffsetDateTime,
) -> Result<Value, ProofError> {
    sign_with_contexts(document, key, suite, created, bundled_contexts())
}

/// Adds a Data Integrity proof made with `key` to `document` and returns the secured document.
///
/// `created` is the proof's creation time (the caller's clock). If the document already has
/// a proof, the new one joins it in a proof set (every proof signs the document without
/// proofs). With `eddsa-rdfc-2022`, JSON-LD processing runs in safe mode: a property or type
/// that would be dropped, or become a relative IRI, is an error naming its path, because it
/// would not be covered by the signature.
pub fn sign_with_contexts(
    document: &Value,
    key: &IssuerKey,
    suite: Cryptosuite,
    created: OffsetDateTime,
    contexts: &ContextLoader,
) -> Result<Value, ProofError> {
    if !document.is_object() {
        return Err(ProofError::NotAnObject);
    }
    sign_owned(document.clone(), key, suite, created, contexts)
}

/// [`sign_with_contexts`] taking the document by value: the secured document is `document`
/// with its proof added, so no copy of it is made (for callers that build a document only to
/// sign it, such as an issuing service).
pub fn sign_owned(
    document: Value,
    key: &IssuerKey,
    suite: Cryptosuite,
    created: OffsetDateTime,
    contexts: &ContextLoader,
) -> Result<Value, ProofError> {
    // The proof options are made for this document's own `@context`, so they are used as
    // they are: no copy of them (or of the context) is kept, as a reusable setup would.
    let (config, config_hash) = ProofSetup::config_parts(
        key,
        suite,
        created,
        document.get("@context"),
        ASSERTION_METHOD,
        &[],
        contexts,
    )?;
    let Value::Object(mut unsecured) = document else {
        return Err(ProofError::NotAnObject);
    };
    let existing = unsecured.shift_remove("proof");
    finish_signing(
        suite,
        config,
        config_hash,
        unsecured,
        existing,
        key,
        contexts,
    )
}

/// Signs `unsecured` (a document without `proof`; `existing` is the proof it had, if any)
/// with the proof options `config`, whose canonical form hashes to `config_hash`, and returns
/// the secured document: `unsecured` with the new proof added to `existing`.
fn finish_signing(
    suite: Cryptosuite,
    mut config: Map<String, Value>,
    config_hash: [u8; 32],
    unsecured: Map<String, Value>,
    existing: Option<Value>,
    key: &IssuerKey,
    contexts: &ContextLoader,
) -> Result<Value, ProofError> {
    let unsecured = Value::Object(unsecured);
    let document_hash = suite
        .implementation()
        .hash_unsecured(&unsecured, contexts)?;
    let mut hash = [0u8; 64];
    hash[..32].copy_from_slice(&config_hash);
    hash[32..].copy_from_slice(&document_hash);
    let signature = key.sign(&hash)?;
    config.insert("proofValue".into(), encode_multibase(&signature).into());
    let proof = match existing {
        None => Value::Object(config),
        Some(Value::Array(mut proofs)) => {
            proofs.push(Value::Object(config));
            Value::Array(proofs)
        }
        Some(single) => Value::Array(vec![single, Value::Object(config)]),
    };
    let Value::Object(mut secured) = unsecured else {
        return Err(ProofError::NotAnObject);
    };
    secured.insert("proof".into(), proof);
    Ok(Value::Object(secured))
}

/// The proof options of one signing key, suite and creation time, with their canonical form
/// and hash computed once: signing many documents that share an `@context` (a batch of
/// credentials) then canonicalizes only each document. Signing a document whose `@context`
/// differs from the one given here still works (its configuration is then canonicalized for
/// it); the proofs are exactly those [`sign_owned`] makes.
pub struct ProofSetup {
    suite: Cryptosuite,
    /// The proof without `proofValue`.
    config: Map<String, Value>,
    /// The document `@context` the hash was made with.
    context: Option<Value>,
    config_hash: [u8; 32],
}

impl fmt::Debug for ProofSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofSetup")
            .field("suite", &self.suite)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ProofSetup {
    /// The cryptosuite of the proofs this setup makes.
    pub fn suite(&self) -> Cryptosuite {
        self.suite
    }

    /// Proof options for `key` (its verification method), `suite` and `created`, for
    /// documents whose `@context` is `context`.
    pub fn new(
        key: &IssuerKey,
        suite: Cryptosuite,
        created: OffsetDateTime,
        context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<Self, ProofError> {
        Self::build(
            key,
            suite,
            created,
            context,
            ASSERTION_METHOD,
            &[],
            contexts,
        )
    }

    /// Proof options for a holder signing a verifiable presentation: purpose
    /// `authentication`, with the verifier's `challenge` and `domain` when given.
    pub fn for_presentation(
        key: &IssuerKey,
        suite: Cryptosuite,
        created: OffsetDateTime,
        context: Option<&Value>,
        challenge: Option<&str>,
        domain: Option<&str>,
        contexts: &ContextLoader,
    ) -> Result<Self, ProofError> {
        let extra: Vec<(&str, &str)> = [("challenge", challenge), ("domain", domain)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        Self::build(
            key,
            suite,
            created,
            context,
            "authentication",
            &extra,
            contexts,
        )
    }

    fn build(
        key: &IssuerKey,
        suite: Cryptosuite,
        created: OffsetDateTime,
        context: Option<&Value>,
        purpose: &str,
        extra: &[(&str, &str)],
        contexts: &ContextLoader,
    ) -> Result<Self, ProofError> {
        let (config, config_hash) =
            Self::config_parts(key, suite, created, context, purpose, extra, contexts)?;
        Ok(Self {
            suite,
            config,
            context: context.cloned(),
            config_hash,
        })
    }

    /// The proof options (without `proofValue`) for documents whose `@context` is `context`,
    /// and the hash of their canonical form.
    fn config_parts(
        key: &IssuerKey,
        suite: Cryptosuite,
        created: OffsetDateTime,
        context: Option<&Value>,
        purpose: &str,
        extra: &[(&str, &str)],
        contexts: &ContextLoader,
    ) -> Result<(Map<String, Value>, [u8; 32]), ProofError> {
        let mut config = Map::with_capacity(6 + extra.len());
        config.insert("type".into(), DATA_INTEGRITY_PROOF.into());
        config.insert("cryptosuite".into(), suite.name().into());
        config.insert("created".into(), time_fmt::format(created).into());
        config.insert("verificationMethod".into(), key.id().into());
        config.insert("proofPurpose".into(), purpose.into());
        for (k, v) in extra {
            config.insert((*k).into(), (*v).into());
        }
        if suite.proof_has_context() {
            if let Some(ctx) = context {
                config.insert("@context".into(), ctx.clone());
            }
        }
        let config_hash = Self::hash_config(suite, &config, context, contexts)?;
        Ok((config, config_hash))
    }

    fn hash_config(
        suite: Cryptosuite,
        config: &Map<String, Value>,
        context: Option<&Value>,
        contexts: &ContextLoader,
    ) -> Result<[u8; 32], ProofError> {
        suite
            .implementation()
            .hash_config(config, context, contexts)
    }

    /// Adds the proof to `document` (see [`sign_with_contexts`]); `key` must be the key the
    /// setup was made for.
    pub fn sign_owned(
        &self,
        document: Value,
        key: &IssuerKey,
        contexts: &ContextLoader,
    ) -> Result<Value, ProofError> {
        if self
            .config
            .get("verificationMethod")
            .and_then(Value::as_str)
            != Some(key.id())
        {
            return Err(ProofError::Malformed(
                "the key is not the one this proof setup was made for".into(),
            ));
        }
        let Value::Object(mut unsecured) = document else {
            return Err(ProofError::NotAnObject);
        };
        let existing = unsecured.shift_remove("proof");
        let mut config = self.config.clone();
        let document_context = unsecured.get("@context");
        let config_hash = if document_context == self.context.as_ref() {
            self.config_hash
        } else {
            config.shift_remove("@context");
            if self.suite.proof_has_context() {
                if let Some(ctx) = document_context {
                    config.insert("@context".into(), ctx.clone());
                }
            }
            Self::hash_config(self.suite, &config, document_context, contexts)?
        };
        finish_signing(
            self.suite,
            config,
            config_hash,
            unsecured,
            existing,
            key,
            contexts,
        )
    }
}

/// What checking one proof found. Produced by [`check_proof`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProofFinding {
    /// The proof cannot be checked here (unknown type or suite, missing context).
    Unsupported(String),
    /// The proof is malformed or violates the suite's rules.
    Malformed(String),
    /// The verification method could not be resolved offline.
    Unresolved {
        /// The proof type and suite, for the report.
        suite: &'static str,
        /// Why the method could not be resolved.
        error: ResolveError,
    },
    /// Everything was checked; `valid` says whether the signature verified.
    Checked {
        /// The proof type and suite, for the report.
        suite: &'static str,
        /// The resolved method.
        method: Box<Method>,
        /// The proof purpose stated.
        purpose: String,
        /// Whether the Ed25519 signature verified (strict).
        valid: bool,
    },
}

/// Checks one proof of `secured` (the whole received document, proofs included); `all` is
/// every proof of the document (for a proof chain's `previousProof`).
pub(crate) fn check_proof(
    secured: &Map<String, Value>,
    proof: &Value,
    all: &[&Value],
    keys: &KeyRing,
    contexts: &ContextLoader,
) -> ProofFinding {
    let Some(proof) = proof.as_object() else {
        return ProofFinding::Malformed("a proof must be a JSON object".into());
    };
    let text = |name: &str| proof.get(name).and_then(Value::as_str);
    let (imp, label): (&dyn SuiteImpl, &'static str) = match text("type") {
        Some(DATA_INTEGRITY_PROOF) => match text("cryptosuite").map(Cryptosuite::from_str) {
            Some(Ok(Cryptosuite::EddsaRdfc2022)) => {
                (&Rdfc, "DataIntegrityProof with cryptosuite eddsa-rdfc-2022")
            }
            Some(Ok(Cryptosuite::EddsaJcs2022)) => {
                (&Jcs, "DataIntegrityProof with cryptosuite eddsa-jcs-2022")
            }
            Some(Err(e)) => return ProofFinding::Unsupported(e.to_string()),
            None => return ProofFinding::Malformed("the proof has no string `cryptosuite`".into()),
        },
        // Legacy (vc-di-eddsa's predecessor): URDNA2015 = RDFC-1.0, the same hashing.
        Some(ED25519_SIGNATURE_2020) => (&Rdfc, "Ed25519Signature2020 (legacy)"),
        Some(other) => {
            return ProofFinding::Unsupported(
                ProofError::UnsupportedProofType(other.to_owned()).to_string(),
            )
        }
        None => return ProofFinding::Malformed("the proof has no string `type`".into()),
    };
    // A proof chain (Data Integrity §4.5): the proofs named by `previousProof` are part of
    // what this proof signed. (Each of them is checked on its own as a member of the set.)
    let previous = match previous_proofs(proof, all) {
        Ok(p) => p,
        Err(why) => return ProofFinding::Malformed(why),
    };
    let Some(purpose) = text("proofPurpose") else {
        return ProofFinding::Malformed("the proof has no string `proofPurpose`".into());
    };
    let Some(vm) = text("verificationMethod") else {
        return ProofFinding::Malformed("the proof has no string `verificationMethod`".into());
    };
    if let Some(created) = proof.get("created") {
        if created.as_str().and_then(time_fmt::parse).is_none() {
            return ProofFinding::Malformed("`created` is not an XML Schema dateTime".into());
        }
    }
    let signature: [u8; 64] = match text("proofValue") {
        Some(value) => match decode_multibase_fixed::<64>(value) {
            Some(sig) => sig,
            // Tell a wrong length from text that is not base58btc at all.
            None if value.strip_prefix('z').is_some_and(|b58| {
                b58.bytes()
                    .all(|b| b.is_ascii_alphanumeric() && !b"0OIl".contains(&b))
            }) =>
            {
                return ProofFinding::Malformed(
                    "proofValue is not a 64-byte Ed25519 signature".into(),
                )
            }
            None => {
                return ProofFinding::Malformed(
                    "proofValue is not base58btc multibase (`z...`)".into(),
                )
            }
        },
        None => return ProofFinding::Malformed("the proof has no string `proofValue`".into()),
    };
    // The proof configuration is the proof without `proofValue`: the suites read `proof`
    // leaving that member out, so nothing is copied.
    let config = proof;
    let proof_context = config.get("@context");
    if let Some(proof_ctx) = proof_context {
        // Data Integrity: the document's @context must start with the proof's, in order.
        if !context_starts_with(secured.get("@context"), proof_ctx) {
            return ProofFinding::Malformed(
                "the proof's @context is not a prefix of the document's @context".into(),
            );
        }
    }
    // Which @context the document is hashed with: the proof's for eddsa-jcs-2022, the
    // document's own otherwise (the rdfc proof configuration takes the document's @context).
    let context = proof_context.filter(|_| imp.proof_context_replaces_document());
    let method = match keys.resolve(vm) {
        Ok(m) => m,
        Err(error) => {
            return ProofFinding::Unresolved {
                suite: label,
                error,
            }
        }
    };
    let data = match previous {
        None => hash_only(imp, secured, context, config, contexts),
        Some(chain) => {
            let mut chained = secured.clone();
            chained.insert("proof".into(), Value::Array(chain));
            if let Some(ctx) = context {
                chained.insert("@context".into(), ctx.clone());
            }
            hash_chained(imp, Value::Object(chained), config, contexts).map(|d| d.hash)
        }
    };
    let data = match data {
        Ok(d) => d,
        Err(e) if e.is_missing_context() || e.is_work_limit() => {
            return ProofFinding::Unsupported(format!("cannot process the credential: {e}"))
        }
        Err(e) => {
            return ProofFinding::Malformed(format!(
                "the credential cannot be processed as JSON-LD, so not all of it would be covered by the signature: {e}"
            ))
        }
    };
    let valid = method.key.verify_strict(&data, &signature);
    ProofFinding::Checked {
        suite: label,
        method: Box::new(method),
        purpose: purpose.to_owned(),
        valid,
    }
}

/// The proofs named by `proof.previousProof` (a string or a list of strings), in the order
/// named; `None` if the proof is not part of a chain. An id that names no proof of the
/// document is an error (Data Integrity §4.5: PROOF_VERIFICATION_ERROR).
fn previous_proofs(
    proof: &Map<String, Value>,
    all: &[&Value],
) -> Result<Option<Vec<Value>>, String> {
    let ids: Vec<&str> = match proof.get("previousProof") {
        None => return Ok(None),
        Some(Value::String(id)) => vec![id],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    "`previousProof` must be a string or a list of strings".to_owned()
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`previousProof` must be a string or a list of strings".into()),
    };
    ids.into_iter()
        .map(|id| {
            all.iter()
                .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
                .map(|p| (*p).clone())
                .ok_or_else(|| {
                    format!("`previousProof` names \"{id}\", but no proof of the credential has that id")
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// [`hash_view`] for a proof in a chain: `document` is the document as that proof signed it
/// (`proof` holding the previous proofs, `@context` already the proof's when it has one).
fn hash_chained(
    imp: &dyn SuiteImpl,
    document: Value,
    config: &Map<String, Value>,
    contexts: &ContextLoader,
) -> Result<HashData, ProofError> {
    let canonical_config = imp.transform_config(config, document.get("@context"), contexts)?;
    let canonical_document = imp.transform_unsecured(&document, contexts)?;
    let mut hash = [0u8; 64];
    hash[..32].copy_from_slice(&Sha256::digest(&canonical_config));
    hash[32..].copy_from_slice(&Sha256::digest(&canonical_document));
    Ok(HashData {
        canonical_config,
        canonical_document,
        hash,
    })
}

fn context_starts_with(document: Option<&Value>, proof: &Value) -> bool {
    fn as_slice(v: &Value) -> &[Value] {
        match v {
            Value::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    let Some(document) = document else {
        return false;
    };
    let (doc, prefix) = (as_slice(document), as_slice(proof));
    prefix.len() <= doc.len() && doc.iter().zip(prefix).all(|(a, b)| a == b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The hashes taken without building the canonical forms are the hashes of those forms,
    /// for both suites, with the document's own `@context` or a replacement one.
    #[test]
    fn streamed_hashes_match_canonical_forms() {
        let mut doc: Value = serde_json::from_str(include_str!(
            "../../microcred-rdf/tests/data/vectors/samples/df-101-productivity-tools.json"
        ))
        .unwrap();
        // Its credential schema type is defined by the OB extensions context.
        doc["@context"]
            .as_array_mut()
            .unwrap()
            .push("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json".into());
        let key = IssuerKey::from_seed(&[7u8; 32]).unwrap();
        let created = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let contexts = bundled_contexts();
        for suite in Cryptosuite::ALL {
            let signed = sign(&doc, &key, *suite, created).unwrap();
            let secured = signed.as_object().unwrap();
            let config = secured["proof"].as_object().unwrap();
            let imp = suite.implementation();
            for context in [None, secured.get("@context")] {
                let full = hash_view(imp, secured, context, config, contexts).unwrap();
                let quick = hash_only(imp, secured, context, config, contexts).unwrap();
                assert_eq!(full.hash, quick, "{suite}");
            }
            let mut unsecured = secured.clone();
            unsecured.shift_remove("proof");
            let unsecured = Value::Object(unsecured);
            let canonical = imp.transform_unsecured(&unsecured, contexts).unwrap();
            let expected: [u8; 32] = Sha256::digest(&canonical).into();
            assert_eq!(imp.hash_unsecured(&unsecured, contexts).unwrap(), expected);
        }
    }
}
