//! JSON-LD 1.1 to RDF, and RDF Dataset Canonicalization (RDFC-1.0, SHA-256), for Verifiable
//! Credentials. This is the canonicalization step of the `eddsa-rdfc-2022` cryptosuite.
//!
//! Fully offline and free of I/O: `@context` URLs resolve only to contexts bundled in the crate
//! (see [`bundled_contexts`]) or added by the caller with [`ContextLoader::add`].
//!
//! ```
//! use microcred_rdf::{canonicalize_document, CanonicalOptions, ContextLoader};
//!
//! let loader = ContextLoader::bundled();
//! let doc = serde_json::json!({
//!     "@context": ["https://www.w3.org/ns/credentials/v2"],
//!     "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
//!     "type": ["VerifiableCredential"],
//!     "issuer": "https://vc.example/issuers/5678",
//!     "credentialSubject": {"id": "did:example:abcdefgh"}
//! });
//! let canon = canonicalize_document(&doc, &loader, &CanonicalOptions::default()).unwrap();
//! assert!(canon.nquads.starts_with("<urn:uuid:58172aac"));
//! ```
//!
//! Safe mode (on by default) turns every silent drop of JSON-LD expansion into an error naming
//! the JSON path: undefined terms and types, relative IRIs (documents have no base IRI), invalid
//! IRIs and language tags, values outside of any property, and `@direction` when it would be
//! lost. Note that the final VC 2.0 context has no `@vocab`, so an undefined term is an error even
//! under `https://www.w3.org/ns/credentials/v2` alone.
//!
//! # eddsa-rdfc-2022
//!
//! * Document: remove `proof`, then [`canonicalize_document`]; hash with [`Canonical::sha256`].
//! * Proof configuration: the proof options (the proof without `proofValue`) with `@context` set
//!   to the document's `@context`, canonicalized the same way with the same loader and options.
//! * The signed data is `sha256(proof config) ‖ sha256(document)`.
//!
//! Share one [`ContextLoader`] between calls: processed contexts are cached in it.
//!
//! # JSON-LD coverage
//!
//! JSON-LD 1.1 (processing mode `json-ld-1.1` only): remote contexts (from the loader only),
//! `@import`, protected terms and the redefinition rules, type-scoped and property-scoped
//! contexts, `@propagate`, `@vocab`, `@base`, compact IRIs and `@prefix`, keyword aliases,
//! `@type` coercion (`@id`, `@vocab`, `@json`, `@none`, datatype IRIs), containers `@set`,
//! `@list` (including lists of lists), `@graph`, `@language`, `@index` (including
//! property-valued indexes), `@id`, `@type`, `@nest`, `@reverse`, `@included`, value objects with
//! `@language`/`@direction`/`@index`, native numbers and booleans, `@json` literals in JCS form,
//! and the `rdfDirection` options. Not offered: JSON-LD 1.0 processing mode, generalized RDF
//! (blank node predicates are dropped), the `expandContext` option, and loading any document that
//! is not registered in the loader.
//!
//! # Limits
//!
//! Documents come from anyone, so every step is bounded: JSON nesting (64 levels), context
//! nesting, the work of context processing per document ([`Error::ContextTooComplex`]), and
//! RDFC-1.0's N-degree hashing, the one step that can grow faster than its input: at most
//! 1,000 blank nodes that look alike (share a first-degree hash), 20,000 hashing calls, 128
//! nested calls and 1,000,000 steps ([`Error::TooComplex`]). Credentials stay far below all
//! of them; inputs that reach one are refused within a fraction of a second, and
//! [`Error::is_work_limit`] tells a verifier to answer "could not check" rather than
//! "invalid". Hash maps whose keys come from the input use a random seed per map.

mod canon;
mod context;
mod dataset;
mod error;
mod expand;
mod iri;
mod lexical;
mod loader;
mod seeded;
mod to_rdf;

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use canon::{canonicalize, canonicalize_with_hash, canonicalize_with_map, HashAlgorithm};
pub use dataset::{parse_nquads, Dataset};
pub use error::Error;
pub use loader::{bundled_contexts, ContextLoader};

/// How strings with a base direction (`@direction`) become RDF (the JSON-LD `rdfDirection`
/// option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RdfDirection {
    /// `i18n-datatype` (default): a literal with datatype
    /// `https://www.w3.org/ns/i18n#{language}_{direction}`. This is what Digital Bazaar's
    /// `eddsa-rdfc-2022` implementation uses.
    #[default]
    I18nDatatype,
    /// `compound-literal`: a blank node with `rdf:value`, `rdf:language` and `rdf:direction`.
    CompoundLiteral,
    /// JSON-LD's `null`: the direction is dropped (an error in safe mode).
    Drop,
}

/// Options for [`to_rdf`] and [`canonicalize_document`].
#[derive(Debug, Clone)]
pub struct CanonicalOptions {
    /// Turn data that JSON-LD would silently drop into errors (default: true). Keep it on when
    /// signing: dropped data is not covered by the signature.
    pub safe_mode: bool,
    /// How `@direction` is represented in RDF (default: [`RdfDirection::I18nDatatype`]).
    pub rdf_direction: RdfDirection,
    base_iri: Option<Arc<str>>,
}

impl Default for CanonicalOptions {
    fn default() -> Self {
        Self {
            safe_mode: true,
            rdf_direction: RdfDirection::default(),
            base_iri: None,
        }
    }
}

impl CanonicalOptions {
    /// Safe mode on, no base IRI.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets safe mode.
    pub fn with_safe_mode(mut self, on: bool) -> Self {
        self.safe_mode = on;
        self
    }

    /// Sets how `@direction` becomes RDF.
    pub fn with_rdf_direction(mut self, d: RdfDirection) -> Self {
        self.rdf_direction = d;
        self
    }

    /// Resolves relative IRIs in the document against `iri` (credentials have no base IRI;
    /// this exists for testing and for documents retrieved from a URL). Must be absolute.
    pub fn with_base_iri(mut self, iri: &str) -> Result<Self, Error> {
        if !iri::is_absolute_iri(iri) {
            return Err(Error::InvalidBaseIri {
                iri: iri.to_owned(),
            });
        }
        self.base_iri = Some(Arc::from(iri));
        Ok(self)
    }

    /// The base IRI, if one was set.
    pub fn base_iri(&self) -> Option<&str> {
        self.base_iri.as_deref()
    }
}

/// A canonicalized document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    /// The canonical N-Quads: sorted, each line ending with `\n` (empty for an empty dataset).
    pub nquads: String,
    quad_count: usize,
}

impl Canonical {
    /// Number of quads (lines).
    pub fn quad_count(&self) -> usize {
        self.quad_count
    }

    /// SHA-256 of the canonical N-Quads (the hash `eddsa-rdfc-2022` signs).
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.nquads.as_bytes()).into()
    }
}

/// JSON-LD 1.1 expansion + Deserialize JSON-LD to RDF.
pub fn to_rdf<'a>(
    doc: &'a Value,
    loader: &ContextLoader,
    opts: &CanonicalOptions,
) -> Result<Dataset<'a>, Error> {
    let (root, mut ex) = expander(loader, opts);
    let items = ex.expand_document(&root, doc)?;
    Ok(emit(&items, opts))
}

/// The root context and an expander for `opts`.
fn expander<'a, 'l>(
    loader: &'l ContextLoader,
    opts: &CanonicalOptions,
) -> (Arc<context::Ctx>, expand::Expander<'a, 'l>) {
    let root = match &opts.base_iri {
        None => loader.empty_ctx().clone(),
        Some(b) => Arc::new(context::Ctx::empty(Some(b.clone()))),
    };
    let keep_direction = opts.rdf_direction != RdfDirection::Drop;
    let ex = expand::Expander::new(
        context::Processor::new(loader),
        opts.safe_mode,
        keep_direction,
    );
    (root, ex)
}

/// The RDF dataset of expanded `items`.
fn emit<'a>(items: &[expand::Item<'a>], opts: &CanonicalOptions) -> Dataset<'a> {
    let mut em = to_rdf::Emitter::new(opts.rdf_direction);
    em.emit_top(items);
    em.finish()
}

/// A JSON-LD document given as its top-level object, read with one member left out and its
/// `@context` replaced, without copying it.
///
/// This is how Data Integrity proofs see documents: the unsecured document is the secured one
/// without `proof`, and the proof configuration is the proof without `proofValue`, read with
/// the document's `@context`. [`to_rdf_view`] and [`canonicalize_view`] give exactly what
/// [`to_rdf`] and [`canonicalize_document`] give for the object the view describes.
///
/// ```
/// use microcred_rdf::{canonicalize_document, canonicalize_view, CanonicalOptions, ContextLoader, DocumentView};
///
/// let loader = ContextLoader::bundled();
/// let opts = CanonicalOptions::default();
/// let secured = serde_json::json!({
///     "@context": ["https://www.w3.org/ns/credentials/v2"],
///     "type": ["VerifiableCredential"],
///     "issuer": "https://vc.example/issuers/5678",
///     "credentialSubject": {"id": "did:example:abcdefgh"},
///     "proof": {"type": "DataIntegrityProof"}
/// });
/// let mut unsecured = secured.clone();
/// unsecured.as_object_mut().unwrap().shift_remove("proof");
/// let view = DocumentView::new(secured.as_object().unwrap()).without("proof");
/// assert_eq!(
///     canonicalize_view(view, &loader, &opts).unwrap(),
///     canonicalize_document(&unsecured, &loader, &opts).unwrap()
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DocumentView<'a> {
    members: &'a Map<String, Value>,
    without: Option<&'a str>,
    context: Option<&'a Value>,
}

impl<'a> DocumentView<'a> {
    /// The document whose top-level object is `members`, as it is.
    pub fn new(members: &'a Map<String, Value>) -> Self {
        Self {
            members,
            without: None,
            context: None,
        }
    }

    /// Leaves out the member named `name` (such as `proof`). One member at most is left out:
    /// a second call replaces the first.
    pub fn without(mut self, name: &'a str) -> Self {
        self.without = Some(name);
        self
    }

    /// Reads the document as if its `@context` were `context`, whether or not it has one.
    pub fn with_context(mut self, context: &'a Value) -> Self {
        self.context = Some(context);
        self
    }
}

/// [`to_rdf`] of the document `view` describes.
pub fn to_rdf_view<'a>(
    view: DocumentView<'a>,
    loader: &ContextLoader,
    opts: &CanonicalOptions,
) -> Result<Dataset<'a>, Error> {
    let (root, mut ex) = expander(loader, opts);
    let root_view = expand::RootView {
        without: view.without,
        context: view.context,
    };
    let items = ex.expand_document_view(&root, view.members, root_view)?;
    Ok(emit(&items, opts))
}

/// [`canonicalize_document`] of the document `view` describes.
pub fn canonicalize_view(
    view: DocumentView<'_>,
    loader: &ContextLoader,
    opts: &CanonicalOptions,
) -> Result<Canonical, Error> {
    let ds = to_rdf_view(view, loader, opts)?;
    let nquads = canonicalize(&ds)?;
    Ok(Canonical {
        nquads,
        quad_count: ds.len(),
    })
}

/// SHA-256 of the canonical N-Quads of the document `view` describes: equal to
/// [`Canonical::sha256`] of [`canonicalize_view`], without joining the lines into one string
/// (the hash `eddsa-rdfc-2022` signs).
pub fn canonical_sha256_view(
    view: DocumentView<'_>,
    loader: &ContextLoader,
    opts: &CanonicalOptions,
) -> Result<[u8; 32], Error> {
    let ds = to_rdf_view(view, loader, opts)?;
    canon::canonical_sha256(&ds)
}

/// SHA-256 of the canonical N-Quads of `doc`: equal to [`Canonical::sha256`] of
/// [`canonicalize_document`].
pub fn canonical_sha256_document(
    doc: &Value,
    loader: &ContextLoader,
    opts: &CanonicalOptions,
) -> Result<[u8; 32], Error> {
    let ds = to_rdf(doc, loader, opts)?;
    canon::canonical_sha256(&ds)
}

/// [`to_rdf`] followed by [`canonicalize`].
pub fn canonicalize_document(
    doc: &Value,
    loader: &ContextLoader,
    opts: &CanonicalOptions,
) -> Result<Canonical, Error> {
    let ds = to_rdf(doc, loader, opts)?;
    let nquads = canonicalize(&ds)?;
    Ok(Canonical {
        nquads,
        quad_count: ds.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<ContextLoader>();
        check::<Canonical>();
        check::<Error>();
    }

    /// Context processing work of expanding `doc` with a fresh bundled loader.
    fn context_work(doc: &Value) -> u64 {
        let loader = ContextLoader::bundled();
        let mut ex = expand::Expander::new(context::Processor::new(&loader), true, true);
        ex.expand_document(loader.empty_ctx(), doc).unwrap();
        ex.context_work()
    }

    /// The limit on context processing is far above what credentials need, even when the
    /// loader can cache nothing for them (here: a 20 KiB embedded context comes first, so
    /// every context after it is processed for this document alone).
    #[test]
    fn context_work_limit_leaves_room_for_credentials() {
        #![allow(clippy::unwrap_used)]
        let big: serde_json::Map<String, Value> = (0..700)
            .map(|i| {
                (
                    format!("dummy{i}"),
                    format!("https://dummy.example/{i}").into(),
                )
            })
            .collect();
        for text in [
            include_str!("../tests/data/vectors/samples/df-101-productivity-tools.json"),
            include_str!("../tests/data/vectors/samples/clr-digital-fluency-pathway.json"),
        ] {
            let mut doc: Value = serde_json::from_str(text).unwrap();
            let ctx = doc["@context"].as_array_mut().unwrap();
            ctx.push("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json".into());
            let cold = context_work(&doc);
            doc["@context"]
                .as_array_mut()
                .unwrap()
                .insert(0, Value::Object(big.clone()));
            let uncached = context_work(&doc);
            assert!(cold < uncached, "{cold} {uncached}");
            assert!(
                uncached * 10 < context::CONTEXT_WORK_LIMIT,
                "{uncached} of {}",
                context::CONTEXT_WORK_LIMIT
            );
        }
    }

    /// A view gives what the object it describes gives: without `proof` (or any member, even
    /// `@context` or `type`), and with the `@context` replaced or added.
    #[test]
    fn views_canonicalize_as_the_documents_they_describe() {
        #![allow(clippy::unwrap_used)]
        let loader = ContextLoader::bundled();
        let opts = CanonicalOptions::default();
        let unsafe_opts = CanonicalOptions::default().with_safe_mode(false);
        let expected = |doc: &serde_json::Map<String, Value>, opts: &CanonicalOptions| {
            canonicalize_document(&Value::Object(doc.clone()), &loader, opts)
        };
        for text in [
            include_str!("../tests/data/vectors/samples/df-101-productivity-tools.json"),
            include_str!("../tests/data/vectors/samples/clr-digital-fluency-pathway.json"),
            include_str!("../tests/data/vectors/samples/df-certificate-stacked.json"),
        ] {
            let doc: Value = serde_json::from_str(text).unwrap();
            let map = doc.as_object().unwrap();
            let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
            keys.push("absent");
            for key in keys {
                let mut without = map.clone();
                without.shift_remove(key);
                let view = DocumentView::new(map).without(key);
                for o in [&opts, &unsafe_opts] {
                    assert_eq!(
                        canonicalize_view(view, &loader, o),
                        expected(&without, o),
                        "{key}"
                    );
                    assert_eq!(
                        canonical_sha256_view(view, &loader, o),
                        expected(&without, o).map(|c| c.sha256()),
                        "{key}"
                    );
                    assert_eq!(
                        canonical_sha256_document(&Value::Object(without.clone()), &loader, o),
                        expected(&without, o).map(|c| c.sha256()),
                        "{key}"
                    );
                }
            }
            // The @context replaced (here by its first item alone: most terms are then
            // undefined, an error in safe mode), or added to a map without one.
            let first = doc["@context"][0].clone();
            let mut replaced = map.clone();
            replaced.insert("@context".into(), first.clone());
            let mut bare = map.clone();
            bare.shift_remove("@context");
            let bare_view = DocumentView::new(&bare).with_context(&doc["@context"]);
            for o in [&opts, &unsafe_opts] {
                let view = DocumentView::new(map).with_context(&first);
                assert_eq!(canonicalize_view(view, &loader, o), expected(&replaced, o));
                assert_eq!(canonicalize_view(bare_view, &loader, o), expected(map, o));
                let both = view.without("id");
                let mut no_id = replaced.clone();
                no_id.shift_remove("id");
                assert_eq!(canonicalize_view(both, &loader, o), expected(&no_id, o));
            }
        }
    }

    /// `{"@context": {...}}` as an item of a context array is read as the context it wraps
    /// (as jsonld.js and pyld do); as a lone local context it stays a keyword redefinition.
    #[test]
    fn wrapped_context_in_an_array_is_unwrapped() {
        #![allow(clippy::unwrap_used)]
        let loader = ContextLoader::bundled();
        let opts = CanonicalOptions::default();
        let terms = serde_json::json!({"p": "https://example.org/p"});
        let doc = |ctx: Value| serde_json::json!({"@context": ctx, "@id": "https://example.org/1", "p": "v"});
        let plain =
            canonicalize_document(&doc(serde_json::json!([terms])), &loader, &opts).unwrap();
        let wrapped = canonicalize_document(
            &doc(serde_json::json!([{"@context": terms}])),
            &loader,
            &opts,
        )
        .unwrap();
        assert_eq!(plain.nquads, wrapped.nquads);
        assert_eq!(plain.quad_count, 1);
        assert!(canonicalize_document(
            &doc(serde_json::json!({"@context": terms})),
            &loader,
            &opts
        )
        .is_err());
    }
}
