//! The hash of an RDF proof configuration (`eddsa-rdfc-2022`, `Ed25519Signature2020`) from a
//! remembered template.
//!
//! The proofs one issuer makes, and those a verifier sees from one issuer, differ in their
//! configuration only by `created`: the same type, suite, verification method and purpose,
//! read with the same document `@context`. Turning such a configuration into canonical
//! N-Quads (context look-ups, expansion, RDF, RDFC-1.0) cost about 4 µs of the 40-55 µs an
//! rdfc signature takes on the `sign_verify` bench, for a result that is, byte for byte, one
//! fixed text with the `created` literal inside. This module keeps that text per thread, split
//! around the literal, and hashes `prefix ‖ created ‖ suffix`; whatever the template does not
//! cover goes the general way ([`hash`]'s `canonical`).
//!
//! Why a template gives exactly the general answer for every `created` it is used with:
//! - It is made by running the general algorithm on the same configuration with `created`
//!   replaced by a placeholder, and it is kept only if the placeholder comes out once, as the
//!   lexical form of a typed literal (`"…"^^<…>`). A string value becomes a typed literal when
//!   its term has a datatype, and then the text of the value changes nothing else: not the
//!   quads produced, not the errors.
//! - The configuration has at most one blank node (the output has no `_:c14n1`), so its label
//!   is `_:c14n0` whatever the hashes that RDFC-1.0 computes from the literal.
//! - Every other canonical line differs from the literal's line before the literal starts, so
//!   the sorted order of the lines is the same for every `created`.
//! - `created` is used only when it is plain ASCII letters, digits and `:.+-` (an XML Schema
//!   dateTime is), which N-Quads writes without escaping.
//! - Substituting the configuration's own `created` into the new template must give the bytes
//!   the general algorithm gave for it, or the template is not kept.
//!
//! Inputs are bounded before anything is remembered: the configuration's other members must be
//! strings (its `@context` a URL or a list of URLs), and so must the document `@context`; a
//! thread keeps [`TEMPLATES`] templates, replaced round-robin, so a verifier fed hostile
//! proofs holds at most about 80 KB per thread and does at most twice the work of the general
//! way on a configuration.

use std::cell::RefCell;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::proof::ProofError;
use microcred_rdf::ContextLoader;

/// Templates kept per thread.
const TEMPLATES: usize = 8;

/// The longest string member (or context URL) a template is made for: a `did:web`
/// verification method or a context URL is far shorter.
const MAX_TEXT: usize = 256;

/// The most members (or context URLs) a template is made for. With [`MAX_TEXT`], a template
/// holds at most about 10 KB, so a thread at most about 80 KB, whatever it verified.
const MAX_MEMBERS: usize = 12;

/// Stands for `created` while a template is made: not a dateTime, so no caller's `created`
/// is ever this text.
const PLACEHOLDER: &str = "microcred-created-placeholder-00f1";

thread_local! {
    static KEPT: RefCell<Kept> = const { RefCell::new(Kept { templates: Vec::new(), next: 0 }) };
}

/// SHA-256 of the canonical N-Quads of the proof configuration `config` (read without its
/// `proofValue`) with the document `@context` `context`, using a template when one applies.
/// `canonical` is the general way: the canonical N-Quads of a configuration (read the same
/// way, with the same context and loader).
pub(crate) fn hash(
    config: &Map<String, Value>,
    context: Option<&Value>,
    loader: &ContextLoader,
    canonical: impl Fn(&Map<String, Value>) -> Result<Vec<u8>, ProofError>,
) -> Result<[u8; 32], ProofError> {
    let Some(created) = eligible_created(config, context) else {
        return Ok(Sha256::digest(canonical(config)?).into());
    };
    let state = loader.state_id();
    let found = KEPT.with(|kept| {
        let kept = kept.borrow();
        kept.templates
            .iter()
            .find(|t| t.matches(config, context, state))
            .map(|t| {
                Sha256::new()
                    .chain_update(&t.prefix)
                    .chain_update(created)
                    .chain_update(&t.suffix)
                    .finalize()
                    .into()
            })
    });
    if let Some(hash) = found {
        return Ok(hash);
    }
    let nquads = canonical(config)?;
    if let Some(template) = Template::make(config, context, state, created, &nquads, &canonical) {
        KEPT.with(|kept| kept.borrow_mut().keep(template));
    }
    Ok(Sha256::digest(&nquads).into())
}

/// `config`'s `created` if the configuration and context are of the kind templates are made
/// for (see the module documentation).
fn eligible_created<'a>(
    config: &'a Map<String, Value>,
    context: Option<&Value>,
) -> Option<&'a str> {
    let created = config.get("created")?.as_str()?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":.+-".contains(&b))
    };
    if !plain(created) || config.len() > MAX_MEMBERS || !context.is_none_or(is_url_list) {
        return None;
    }
    let bounded = config.iter().all(|(k, v)| match (k.as_str(), v) {
        ("created" | "proofValue", _) => true,
        ("@context", v) => is_url_list(v),
        (_, Value::String(s)) => s.len() <= MAX_TEXT,
        _ => false,
    });
    bounded.then_some(created)
}

/// A string, or a list of at most [`MAX_MEMBERS`] strings, none longer than [`MAX_TEXT`].
fn is_url_list(value: &Value) -> bool {
    match value {
        Value::String(s) => s.len() <= MAX_TEXT,
        Value::Array(items) => {
            items.len() <= MAX_MEMBERS
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| s.len() <= MAX_TEXT))
        }
        _ => false,
    }
}

/// The canonical N-Quads of one kind of configuration, around its `created` literal.
struct Template {
    /// [`ContextLoader::state_id`] of the loader it was made with.
    loader: u64,
    context: Option<Value>,
    /// The configuration's members in order, without `proofValue`; `created` has no value.
    members: Vec<(String, Option<Value>)>,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

impl Template {
    fn matches(&self, config: &Map<String, Value>, context: Option<&Value>, loader: u64) -> bool {
        if self.loader != loader || self.context.as_ref() != context {
            return false;
        }
        let mut members = config.iter().filter(|(k, _)| k.as_str() != "proofValue");
        for (name, value) in &self.members {
            let Some((k, v)) = members.next() else {
                return false;
            };
            let same = k == name
                && match value {
                    None => k == "created",
                    Some(value) => v == value,
                };
            if !same {
                return false;
            }
        }
        members.next().is_none()
    }

    /// The template of `config` (whose canonical N-Quads are `nquads`, from `canonical`), if
    /// it passes every condition of the module documentation.
    fn make(
        config: &Map<String, Value>,
        context: Option<&Value>,
        loader: u64,
        created: &str,
        nquads: &[u8],
        canonical: &impl Fn(&Map<String, Value>) -> Result<Vec<u8>, ProofError>,
    ) -> Option<Self> {
        // The placeholder must come from `created` alone.
        let mentions = |v: &Value| v.as_str().is_some_and(|s| s.contains(PLACEHOLDER));
        if config.values().any(mentions) {
            return None;
        }
        let mut probe = config.clone();
        probe.insert("created".into(), PLACEHOLDER.into());
        let text = canonical(&probe).ok()?;
        let at = find(&text, PLACEHOLDER.as_bytes())?;
        let end = at + PLACEHOLDER.len();
        let (before, after) = (text.get(..at)?, text.get(end..)?);
        let once = find(after, PLACEHOLDER.as_bytes()).is_none();
        let typed_literal = before.ends_with(b"\"") && after.starts_with(b"\"^^<");
        let one_blank_node = find(&text, b"_:c14n1").is_none();
        if !(once && typed_literal && one_blank_node && order_is_fixed(&text, at)) {
            return None;
        }
        let substituted = [before, created.as_bytes(), after].concat();
        if substituted != nquads {
            return None;
        }
        let members = config
            .iter()
            .filter(|(k, _)| k.as_str() != "proofValue")
            .map(|(k, v)| (k.clone(), (k != "created").then(|| v.clone())))
            .collect();
        Some(Self {
            loader,
            context: context.cloned(),
            members,
            prefix: before.to_vec(),
            suffix: after.to_vec(),
        })
    }
}

/// Whether every line of the canonical N-Quads `text` other than the one holding byte `at`
/// differs from that line before `at`: then the lines sort the same whatever text replaces
/// what starts at `at`.
fn order_is_fixed(text: &[u8], at: usize) -> bool {
    let start = text
        .get(..at)
        .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
        .map_or(0, |i| i + 1);
    let Some(line) = text.get(start..) else {
        return false;
    };
    let line = line.split(|&c| c == b'\n').next().unwrap_or(line);
    let column = at.saturating_sub(start);
    text.split(|&c| c == b'\n')
        .filter(|other| !other.is_empty() && !std::ptr::eq(other.as_ptr(), line.as_ptr()))
        .all(|other| {
            let common = other.iter().zip(line).take_while(|(a, b)| a == b).count();
            common < column
        })
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The templates of one thread.
struct Kept {
    templates: Vec<Template>,
    next: usize,
}

impl Kept {
    fn keep(&mut self, template: Template) {
        if self.templates.len() < TEMPLATES {
            self.templates.push(template);
        } else if let Some(slot) = self.templates.get_mut(self.next) {
            *slot = template;
            self.next = (self.next + 1) % TEMPLATES;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use microcred_rdf::{CanonicalOptions, DocumentView};
    use serde_json::json;

    /// The general way: the canonical N-Quads of `config` without `proofValue`, read with
    /// `context`.
    fn general(
        config: &Map<String, Value>,
        context: Option<&Value>,
        loader: &ContextLoader,
    ) -> Result<Vec<u8>, ProofError> {
        let view = DocumentView::new(config).without("proofValue");
        let view = match context {
            Some(c) => view.with_context(c),
            None => view,
        };
        microcred_rdf::canonicalize_view(view, loader, &CanonicalOptions::default())
            .map(|c| c.nquads.into_bytes())
            .map_err(ProofError::from)
    }

    /// [`hash`] and the hash of the general way, for `config` with `created`.
    fn both(
        config: &Map<String, Value>,
        created: &str,
        context: Option<&Value>,
        loader: &ContextLoader,
    ) -> (Result<[u8; 32], ProofError>, Result<[u8; 32], ProofError>) {
        let mut config = config.clone();
        config.insert("created".into(), created.into());
        let quick = hash(&config, context, loader, |c| general(c, context, loader));
        let slow = general(&config, context, loader).map(|n| Sha256::digest(n).into());
        (quick, slow)
    }

    fn kept() -> usize {
        KEPT.with(|k| k.borrow().templates.len())
    }

    fn forget() {
        KEPT.with(|k| {
            *k.borrow_mut() = Kept {
                templates: Vec::new(),
                next: 0,
            }
        });
    }

    /// The configuration of a proof microcred makes (`created` to be filled in).
    fn proof_config() -> Map<String, Value> {
        let members = json!({
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "",
            "verificationMethod": "did:key:z6Mkq#z6Mkq",
            "proofPurpose": "assertionMethod",
        });
        members.as_object().unwrap().clone()
    }

    const VC2: &str = "https://www.w3.org/ns/credentials/v2";
    const OB: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

    proptest::proptest! {
        /// Whatever the configuration and `created`, the hash is the general one; the first
        /// call makes the template (where one applies) and the second uses it.
        #[test]
        fn templates_give_the_general_hash(
            first in "[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-][01][0-9]:[0-5][0-9])",
            second in "[A-Za-z0-9:.+-]{1,30}",
            purpose in proptest::sample::select(vec!["assertionMethod", "authentication", "capabilityInvocation"]),
            suite in proptest::sample::select(vec!["eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019"]),
            extra in proptest::option::of(("(challenge|domain|expires|id|nonce|previousProof)", "[ -~]{0,24}")),
            context in 0usize..5,
            created_first in proptest::bool::ANY,
        ) {
            forget();
            let loader = crate::proof::bundled_contexts();
            let contexts = [
                Some(json!(VC2)),
                Some(json!([VC2, OB])),
                Some(json!([VC2, OB, "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"])),
                None,
                Some(json!([VC2, "https://unknown.example/context.json"])),
            ];
            let context = contexts[context].as_ref();
            let mut members = Map::new();
            if created_first {
                members.insert("created".into(), "".into());
            }
            members.insert("type".into(), "DataIntegrityProof".into());
            members.insert("cryptosuite".into(), suite.into());
            members.insert(
                "verificationMethod".into(),
                "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into(),
            );
            members.insert("proofPurpose".into(), purpose.into());
            if let Some((name, value)) = extra {
                members.insert(name, value.into());
            }
            if context.is_none() {
                members.insert("@context".into(), VC2.into());
            }
            members.insert("proofValue".into(), "z3FXQ".into());
            for created in [first.as_str(), second.as_str(), first.as_str()] {
                let (quick, slow) = both(&members, created, context, loader);
                proptest::prop_assert_eq!(quick, slow);
            }
        }
    }

    /// The configuration of a proof microcred makes, with the contexts of a credential: a
    /// template is made once and then used.
    #[test]
    fn a_template_is_made_once_and_used() {
        forget();
        let loader = crate::proof::bundled_contexts();
        let context = json!([VC2, OB]);
        let members = proof_config();
        for created in [
            "2025-05-01T09:00:05Z",
            "2026-12-05T20:10:00Z",
            "2030-01-01T00:00:00.5+01:00",
        ] {
            let (quick, slow) = both(&members, created, Some(&context), loader);
            assert_eq!(quick.unwrap(), slow.unwrap());
            assert_eq!(kept(), 1);
        }
        // Another purpose is another template.
        let mut other = members.clone();
        other.insert("proofPurpose".into(), "authentication".into());
        let (quick, slow) = both(&other, "2025-05-01T09:00:05Z", Some(&context), loader);
        assert_eq!(quick.unwrap(), slow.unwrap());
        assert_eq!(kept(), 2);
        // Outside the bounds: the general way, nothing kept.
        for odd in [
            json!({"id": "urn:x"}),
            json!(7),
            json!(["x"]),
            json!("x".repeat(300)),
        ] {
            let mut odd_config = members.clone();
            odd_config.insert("domain".into(), odd);
            let (quick, slow) = both(&odd_config, "2025-05-01T09:00:05Z", Some(&context), loader);
            assert_eq!(quick.ok(), slow.ok());
        }
        let (quick, slow) = both(&members, "2025-05-01 09:00:05Z", Some(&context), loader);
        assert_eq!(quick.unwrap(), slow.unwrap());
        assert_eq!(kept(), 2);
    }

    /// A context whose `created` is not a typed literal (an IRI, a language-tagged string, a
    /// plain string) gets no template; the hashes stay the general ones. A loader that gets
    /// new documents does not reuse what was made with its old ones.
    #[test]
    fn no_template_unless_created_is_a_typed_literal() {
        forget();
        let url = "https://contexts.example/proof.json";
        let with_created = |created: Value| {
            json!({"@context": {
                "@vocab": "https://w3id.org/security#",
                "type": "@type",
                "DataIntegrityProof": "https://w3id.org/security#DataIntegrityProof",
                "cryptosuite": "https://w3id.org/security#cryptosuite",
                "proofPurpose": {"@id": "https://w3id.org/security#proofPurpose", "@type": "@vocab"},
                "verificationMethod": {"@id": "https://w3id.org/security#verificationMethod", "@type": "@id"},
                "created": created,
            }})
            .to_string()
        };
        let members = proof_config();
        let context = json!(url);
        let mut loader = ContextLoader::empty();
        let cases = [
            (
                json!({"@id": "http://purl.org/dc/terms/created", "@type": "@id"}),
                false,
            ),
            (
                json!({"@id": "http://purl.org/dc/terms/created", "@language": "en"}),
                false,
            ),
            (json!("http://purl.org/dc/terms/created"), false),
            (
                json!({"@id": "http://purl.org/dc/terms/created", "@type": "@json"}),
                false,
            ),
            (
                json!({"@id": "http://purl.org/dc/terms/created", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}),
                true,
            ),
            // Written as a simple literal (`"…"`, no datatype): no template, conservatively.
            (
                json!({"@id": "http://purl.org/dc/terms/issued", "@type": "http://www.w3.org/2001/XMLSchema#string"}),
                false,
            ),
            (
                json!({"@id": "http://purl.org/dc/terms/issued", "@type": "https://types.example/when"}),
                true,
            ),
        ];
        for (created, templated) in cases {
            forget();
            loader.add(url, &with_created(created.clone())).unwrap();
            // As IRIs, the first two are relative (an error in safe mode), the last absolute.
            for value in [
                "2025-05-01T09:00:05Z",
                "2026-01-01T00:00:00Z",
                "AAA",
                "urn:x:1",
            ] {
                let (quick, slow) = both(&members, value, Some(&context), &loader);
                assert_eq!(quick, slow, "{created}");
            }
            assert_eq!(kept(), usize::from(templated), "{created}");
            if templated {
                let (quick, _) = both(&members, "2025-05-01T09:00:05Z", Some(&context), &loader);
                assert!(quick.is_ok());
            }
        }
        // Made with the last context (`issued`, another datatype); the same URL now holds another
        // term definition: the template of the old documents is not used.
        assert_eq!(kept(), 1);
        loader
            .add(
                url,
                &with_created(json!({"@id": "http://purl.org/dc/terms/created", "@type": "@id"})),
            )
            .unwrap();
        for value in ["2025-05-01T09:00:05Z", "urn:x:1"] {
            let (quick, slow) = both(&members, value, Some(&context), &loader);
            assert_eq!(quick, slow);
        }
    }

    #[test]
    fn order_is_fixed_only_when_lines_differ_before_the_literal() {
        let text = b"_:c14n0 <a> \"X\"^^<t> .\n_:c14n0 <b> <c> .\n";
        assert!(order_is_fixed(text, 13));
        let text = b"_:c14n0 <a> \"X\"^^<t> .\n_:c14n0 <a> \"Y\"^^<t> .\n";
        assert!(!order_is_fixed(text, 13));
        assert!(!order_is_fixed(text, 36));
    }
}
