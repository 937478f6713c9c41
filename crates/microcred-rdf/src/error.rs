//! The one error type of this crate.

/// Everything that can go wrong while turning JSON-LD into canonical N-Quads.
///
/// Each message names where the problem is (a JSON path such as
/// `credentialSubject.achievement.fooBar`, a context URL or an N-Quads line) and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `@context` URL that is neither bundled nor added with [`crate::ContextLoader::add`].
    #[error(
        "unknown JSON-LD context \"{url}\": it is not bundled; add it with --context URL=FILE \
         (ContextLoader::add)"
    )]
    UnknownContext {
        /// The URL as resolved.
        url: String,
    },

    /// A context document that is not JSON, or has no top-level `@context`.
    #[error(
        "JSON-LD context \"{url}\" is not a usable context document: {reason}; \
         supply a JSON file whose top-level object has an \"@context\" entry"
    )]
    InvalidContextDocument {
        /// The URL the document was registered under.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A JSON-LD 1.1 processing error; `code` is the error code from the JSON-LD 1.1 API
    /// specification (e.g. `protected term redefinition`).
    #[error("{path}: JSON-LD error \"{code}\": {detail}")]
    JsonLd {
        /// The JSON-LD error code, as spelled in the specification.
        code: &'static str,
        /// Where in the input (or which context) the error was found.
        path: String,
        /// Explanation and, where possible, what to change.
        detail: String,
    },

    /// Safe mode: a property or type that JSON-LD expansion would silently drop.
    #[error(
        "{path}: term \"{term}\" is not defined by any @context, so it would not be signed; \
         define it in a context (or use a full IRI) or remove it{hint}"
    )]
    UndefinedTerm {
        /// JSON path of the offending key or value.
        path: String,
        /// The term.
        term: String,
        /// Empty, or a suggestion such as a bundled context that defines the term.
        hint: String,
    },

    /// Safe mode: a value that would become a relative IRI (documents have no base IRI).
    #[error(
        "{path}: \"{value}\" is a relative IRI and the document has no base IRI, so it would not \
         be signed; use an absolute IRI such as urn:uuid:..., https://... or did:..."
    )]
    RelativeIri {
        /// JSON path of the offending value.
        path: String,
        /// The value as written.
        value: String,
    },

    /// Safe mode: data that expansion or RDF conversion would silently drop for another reason.
    #[error("{path}: {what}, so it would not be signed; {fix}")]
    Dropped {
        /// JSON path of the offending value.
        path: String,
        /// What would be dropped and why.
        what: String,
        /// What to do about it.
        fix: &'static str,
    },

    /// The input nests deeper than the processing limit.
    #[error(
        "{path}: too complex: the input nests more than {limit} levels deep; flatten the document \
         (this limit protects against stack exhaustion)"
    )]
    TooDeep {
        /// Where the limit was hit.
        path: String,
        /// The limit.
        limit: usize,
    },

    /// A syntax error in N-Quads input.
    #[error("N-Quads line {line}: {reason}")]
    NQuadsSyntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },

    /// RDFC-1.0 gave up: the blank nodes that look alike (same first-degree hash) need more
    /// N-degree hashing than the caps allow. Verifiers should report "could not check", not
    /// "invalid": the data may be fine, it is only too costly to canonicalize.
    #[error(
        "too complex to canonicalize: the credential has too many indistinguishable blank \
         nodes (N-degree hashing limit: more than {limit} {what}); give the blank nodes ids \
         or make them differ (this limit protects verifiers against denial-of-service input)"
    )]
    TooComplex {
        /// Which cap was reached, e.g. "blank nodes that need N-degree hashing".
        what: &'static str,
        /// The cap.
        limit: u64,
    },

    /// JSON-LD context processing gave up: the document's embedded and scoped contexts need
    /// more work than the limit allows. Like [`Error::TooComplex`], a limit of this
    /// implementation, not proof that the document is wrong.
    #[error(
        "{path}: too complex to expand: the document's JSON-LD contexts need more than {limit} \
         steps of context processing (term definitions made or copied for embedded @context \
         maps and scoped contexts); use fewer or smaller embedded contexts (this limit protects \
         verifiers against denial-of-service input)"
    )]
    ContextTooComplex {
        /// Where the limit was hit.
        path: String,
        /// The limit.
        limit: u64,
    },

    /// A base IRI given in the options that is not an absolute IRI.
    #[error("base IRI \"{iri}\" is not an absolute IRI; pass an IRI with a scheme, e.g. https://example.org/")]
    InvalidBaseIri {
        /// The rejected value.
        iri: String,
    },
}

impl Error {
    /// The JSON-LD error code for [`Error::JsonLd`] errors, `None` for the others.
    pub fn json_ld_code(&self) -> Option<&'static str> {
        match self {
            Self::JsonLd { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when processing stopped at one of this crate's work limits
    /// ([`Error::TooComplex`], [`Error::ContextTooComplex`], [`Error::TooDeep`]): the input
    /// may be valid, it is only too costly to process, so a verifier cannot decide either way.
    pub fn is_work_limit(&self) -> bool {
        matches!(
            self,
            Self::TooComplex { .. } | Self::ContextTooComplex { .. } | Self::TooDeep { .. }
        )
    }
}
