//! The context loader: bundled and caller-supplied context documents, and the cache of
//! processed contexts.

use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;

use crate::context::{next_id, Ctx};
use crate::seeded::SeededMap;
use crate::Error;

/// Most processed contexts kept per loader; past this, results are recomputed, not cached.
/// (Real credentials need tens: the OB and CLR samples together fill 58.)
const CACHE_CAPACITY: usize = 1024;
/// Most distinct inline (embedded) contexts remembered per loader.
const INLINE_CAPACITY: usize = 256;
/// Largest inline context remembered, by the size of its key (see [`inline_key`]; about the
/// size of its JSON text): documents from anyone reach the shared loader, so what it keeps
/// stays small (at most `INLINE_CAPACITY` times this); larger inline contexts are processed
/// each time instead.
const INLINE_MAX_BYTES: usize = 16 * 1024;
/// Deepest inline context remembered (real ones are two or three levels deep).
const INLINE_MAX_DEPTH: usize = 32;

macro_rules! ctx {
    ($file:literal) => {
        include_str!(concat!("../../../contexts/", $file))
    };
}

/// Every bundled context: URL it is served at (aliases listed separately) → file contents.
static BUNDLED: &[(&str, &str)] = &[
    // W3C Verifiable Credentials
    (
        "https://www.w3.org/2018/credentials/v1",
        ctx!("credentials-v1.jsonld"),
    ),
    (
        "https://w3id.org/credentials/v1",
        ctx!("credentials-v1.jsonld"),
    ),
    (
        "https://www.w3.org/ns/credentials/v2",
        ctx!("credentials-v2.jsonld"),
    ),
    (
        "https://www.w3.org/ns/credentials/examples/v2",
        ctx!("credentials-examples-v2.jsonld"),
    ),
    // W3C Data Integrity, Multikey, Controlled Identifiers, DID
    (
        "https://w3id.org/security/data-integrity/v2",
        ctx!("data-integrity-v2.jsonld"),
    ),
    (
        "https://w3id.org/security/data-integrity/v1",
        ctx!("data-integrity-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/multikey/v1",
        ctx!("multikey-v1.jsonld"),
    ),
    ("https://www.w3.org/ns/cid/v1", ctx!("cid-v1.jsonld")),
    ("https://www.w3.org/ns/did/v1", ctx!("did-v1.jsonld")),
    (
        "https://w3id.org/security/suites/ed25519-2020/v1",
        ctx!("ed25519-signature-2020-v1.jsonld"),
    ),
    ("https://w3id.org/security/v1", ctx!("security-v1.jsonld")),
    ("https://w3id.org/security/v2", ctx!("security-v2.jsonld")),
    (
        "https://w3id.org/vc/status-list/2021/v1",
        ctx!("vc-status-list-2021-v1.jsonld"),
    ),
    // 1EdTech Open Badges 3.0 (context.json is 3.0.0)
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        ctx!("ob-context-3.0.0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld",
        ctx!("ob-context-3.0.0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        ctx!("ob-context-3.0.1.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        ctx!("ob-context-3.0.2.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ctx!("ob-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        ctx!("ob-v3p0-extensions.json"),
    ),
    // 1EdTech Open Badges extensions
    (
        "https://purl.imsglobal.org/spec/ob-assessment/v2p0/context/",
        ctx!("ob-assessment-v2p0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob-assessment/v2p0/context",
        ctx!("ob-assessment-v2p0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob-accred/v2p0/context/",
        ctx!("ob-accred-v2p0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob-accred/v2p0/context",
        ctx!("ob-accred-v2p0.json"),
    ),
    (
        "https://openbadgespec.org/extensions/accessibilityExtension/context-3.0.0.json",
        ctx!("ob-ext-accessibility-3.0.0.json"),
    ),
    (
        "https://openbadgespec.org/extensions/applyLinkExtension/context-3.0.0.json",
        ctx!("ob-ext-applylink-3.0.0.json"),
    ),
    (
        "https://openbadgespec.org/extensions/geoCoordinatesExtension/context-3.0.0.json",
        ctx!("ob-ext-geocoordinates-3.0.0.json"),
    ),
    (
        "https://openbadgespec.org/extensions/licenseExtension/context-3.0.0.json",
        ctx!("ob-ext-license-3.0.0.json"),
    ),
    // 1EdTech Comprehensive Learner Record 2.0
    (
        "https://purl.imsglobal.org/spec/clr/v2p0/context.json",
        ctx!("clr-context-2.0.0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        ctx!("clr-context-2.0.1.json"),
    ),
    // microcred 0.1 put this placeholder URL (nobody serves it) in credentials; kept so they
    // still verify in microcred. New credentials carry the inline context instead.
    (
        "https://microcredential.example/ns/v1/context.json",
        ctx!("microcred-v1.jsonld"),
    ),
];

/// The bundled contexts: `(url, json_text)` pairs. Some files are listed under several URLs
/// (aliases used in the wild, e.g. the Open Badges `context.json` is version 3.0.0).
pub fn bundled_contexts() -> &'static [(&'static str, &'static str)] {
    BUNDLED
}

/// One context document.
#[derive(Debug)]
pub(crate) struct DocEntry {
    pub(crate) id: u64,
    pub(crate) url: Arc<str>,
    text: &'static str,
    parsed: OnceLock<Result<Value, Error>>,
}

impl DocEntry {
    fn parse(url: &str, text: &str) -> Result<Value, Error> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::InvalidContextDocument {
            url: url.to_owned(),
            reason: format!("not JSON ({e})"),
        })?;
        match &v {
            Value::Object(m) if m.contains_key("@context") => {}
            _ => {
                return Err(Error::InvalidContextDocument {
                    url: url.to_owned(),
                    reason: "the top-level value is not an object with an \"@context\" entry"
                        .to_owned(),
                })
            }
        }
        Ok(v)
    }

    /// The value of the document's `@context` entry (parsed on first use).
    pub(crate) fn context(&self) -> Result<&Value, Error> {
        let parsed = self
            .parsed
            .get_or_init(|| Self::parse(&self.url, self.text));
        match parsed {
            Ok(v) => Ok(v.get("@context").unwrap_or(&Value::Null)),
            Err(e) => Err(e.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Src {
    Doc(u64),
    Scoped(u64),
    Inline(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub(crate) parent: u64,
    pub(crate) src: Src,
    pub(crate) flags: u8,
}

/// Resolves `@context` URLs to context documents, fully offline, and caches processed contexts.
///
/// It is `Send + Sync`; share one loader (e.g. in an `Arc`) across threads and documents so the
/// processed contexts are reused: the first document with a given `@context` array pays for
/// context processing, later ones only for a few cache look-ups.
#[derive(Debug)]
pub struct ContextLoader {
    docs: SeededMap<Box<str>, Arc<DocEntry>>,
    cache: RwLock<SeededMap<CacheKey, Arc<Ctx>>>,
    /// Embedded contexts seen in documents, by their [`inline_key`], so that their results
    /// can be cached like those of remote contexts.
    inline: RwLock<SeededMap<Box<[u8]>, u64>>,
    /// The embedded contexts given an id most recently, with their ids, newest first (at
    /// most [`RECENT_INLINE`]): a document repeating one (as every credential of an issuer
    /// does) is recognized by comparing it with them, without encoding it.
    recent_inline: RwLock<Vec<(Value, u64)>>,
    empty: Arc<Ctx>,
    /// See [`ContextLoader::state_id`].
    state: u64,
}

/// How many embedded contexts [`ContextLoader::inline_id`] compares a context with before
/// encoding it.
const RECENT_INLINE: usize = 4;

impl Default for ContextLoader {
    fn default() -> Self {
        Self::bundled()
    }
}

impl ContextLoader {
    /// A loader with no contexts at all (every URL is unknown until added).
    pub fn empty() -> Self {
        Self {
            docs: SeededMap::default(),
            cache: RwLock::new(SeededMap::default()),
            inline: RwLock::new(SeededMap::default()),
            recent_inline: RwLock::new(Vec::new()),
            empty: Arc::new(Ctx::empty(None)),
            state: next_id(),
        }
    }

    /// Identifies this loader with the documents it holds now: no other loader has it, and
    /// [`Self::add`] gives the loader a new one. Results computed with one loader can be
    /// remembered under it (a processed result is only ever a function of the documents).
    pub fn state_id(&self) -> u64 {
        self.state
    }

    /// A loader with every bundled context (see [`bundled_contexts`]). Documents are parsed on
    /// first use.
    pub fn bundled() -> Self {
        let mut l = Self::empty();
        for (url, text) in BUNDLED {
            l.docs.insert(
                Box::from(*url),
                Arc::new(DocEntry {
                    id: next_id(),
                    url: Arc::from(*url),
                    text,
                    parsed: OnceLock::new(),
                }),
            );
        }
        l
    }

    /// Adds (or replaces) the context document served at `url`, e.g. from `--context URL=FILE`.
    /// The text must be JSON with a top-level `@context` entry.
    pub fn add(&mut self, url: &str, json_text: &str) -> Result<(), Error> {
        let v = DocEntry::parse(url, json_text)?;
        let parsed = OnceLock::new();
        // Cannot fail: the cell was just created.
        let _ = parsed.set(Ok(v));
        self.docs.insert(
            Box::from(url),
            Arc::new(DocEntry {
                id: next_id(),
                url: Arc::from(url),
                text: "",
                parsed,
            }),
        );
        self.cache_clear();
        self.state = next_id();
        Ok(())
    }

    /// True if a document is registered for exactly this URL.
    pub fn contains(&self, url: &str) -> bool {
        self.docs.contains_key(url)
    }

    pub(crate) fn doc(&self, url: &str) -> Result<Arc<DocEntry>, Error> {
        self.docs
            .get(url)
            .cloned()
            .ok_or_else(|| Error::UnknownContext {
                url: url.to_owned(),
            })
    }

    /// The URL of a registered context whose top level defines `term`, for error messages.
    pub(crate) fn suggest(&self, term: &str) -> Option<String> {
        let mut found: Vec<&str> = Vec::new();
        for d in self.docs.values() {
            let defines = match d.context() {
                Ok(Value::Object(m)) => m.contains_key(term),
                Ok(Value::Array(a)) => a
                    .iter()
                    .any(|x| x.as_object().is_some_and(|m| m.contains_key(term))),
                _ => false,
            };
            if defines {
                found.push(&d.url);
            }
        }
        found.sort_unstable();
        found.first().map(|s| (*s).to_owned())
    }

    pub(crate) fn empty_ctx(&self) -> &Arc<Ctx> {
        &self.empty
    }

    /// A stable id for an embedded context (equal ids for equal JSON, member order
    /// included), or `None` when it is too large or too many are known.
    pub(crate) fn inline_id(&self, context: &Value) -> Option<u64> {
        if let Some(id) = self
            .recent_inline
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(v, _)| same_inline(v, context))
            .map(|(_, id)| *id)
        {
            return Some(id);
        }
        let id = self.encoded_inline_id(context)?;
        let mut recent = self
            .recent_inline
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if !recent.iter().any(|(_, known)| *known == id) {
            recent.insert(0, (context.clone(), id));
            recent.truncate(RECENT_INLINE);
        }
        Some(id)
    }

    /// [`Self::inline_id`] by the context's [`inline_key`].
    fn encoded_inline_id(&self, context: &Value) -> Option<u64> {
        let mut key = Vec::with_capacity(1024);
        inline_key(context, &mut key, 0)?;
        let key = key.as_slice();
        if let Some(id) = self
            .inline
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return Some(*id);
        }
        let mut map = self.inline.write().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = map.get(key) {
            return Some(*id);
        }
        if map.len() >= INLINE_CAPACITY {
            return None;
        }
        let id = next_id();
        map.insert(Box::from(key), id);
        Some(id)
    }

    pub(crate) fn cache_get(&self, key: &CacheKey) -> Option<Arc<Ctx>> {
        let map = self.cache.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    pub(crate) fn cache_put(&self, key: CacheKey, ctx: Arc<Ctx>) {
        let mut map = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if map.len() < CACHE_CAPACITY {
            map.insert(key, ctx);
        }
    }

    /// Number of processed contexts in the cache.
    #[cfg(test)]
    pub(crate) fn cache_len(&self) -> usize {
        self.cache.read().map_or(0, |m| m.len())
    }

    fn cache_clear(&mut self) {
        self.cache
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.inline
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Appends to `out` an unambiguous encoding of `v`: a tag per value, and the length of every
/// string, array and object before its contents, so that two values have the same encoding
/// exactly when they are the same JSON with members in the same order (as their texts would
/// be, but without the cost of writing JSON: strings are copied, not escaped). `None` when the
/// encoding would pass [`INLINE_MAX_BYTES`] or the value is nested deeper than
/// [`INLINE_MAX_DEPTH`].
fn inline_key(v: &Value, out: &mut Vec<u8>, depth: usize) -> Option<()> {
    fn len(out: &mut Vec<u8>, n: usize) -> Option<()> {
        out.extend_from_slice(&u32::try_from(n).ok()?.to_le_bytes());
        Some(())
    }
    fn text(out: &mut Vec<u8>, s: &str) -> Option<()> {
        len(out, s.len())?;
        out.extend_from_slice(s.as_bytes());
        Some(())
    }
    if depth > INLINE_MAX_DEPTH || out.len() > INLINE_MAX_BYTES {
        return None;
    }
    match v {
        Value::Null => out.push(b'n'),
        Value::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Value::Number(n) => {
            // Integers and floats stay apart, as in JSON text (`1` is not `1.0`).
            let (tag, bits) = if let Some(u) = n.as_u64() {
                (b'u', u)
            } else if let Some(i) = n.as_i64() {
                (b'i', i as u64)
            } else {
                (b'd', n.as_f64().map_or(0, f64::to_bits))
            };
            out.push(tag);
            out.extend_from_slice(&bits.to_le_bytes());
        }
        Value::String(s) => {
            out.push(b's');
            text(out, s)?;
        }
        Value::Array(items) => {
            out.push(b'[');
            len(out, items.len())?;
            for item in items {
                inline_key(item, out, depth + 1)?;
            }
        }
        Value::Object(m) => {
            out.push(b'{');
            len(out, m.len())?;
            for (k, item) in m {
                text(out, k)?;
                inline_key(item, out, depth + 1)?;
            }
        }
    }
    (out.len() <= INLINE_MAX_BYTES).then_some(())
}

/// Whether `a` and `b` have the same [`inline_key`] (when it exists): the same JSON, member
/// order included, integers apart from floats (`serde_json`'s own equality ignores member
/// order, so it would not do).
fn same_inline(a: &Value, b: &Value) -> bool {
    fn number_key(n: &serde_json::Number) -> (u8, u64) {
        if let Some(u) = n.as_u64() {
            (b'u', u)
        } else if let Some(i) = n.as_i64() {
            (b'i', i as u64)
        } else {
            (b'd', n.as_f64().map_or(0, f64::to_bits))
        }
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => number_key(x) == number_key(y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_inline(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, x), (ky, y))| kx == ky && same_inline(x, y))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_stays_small_for_real_credentials() {
        let loader = ContextLoader::bundled();
        let opts = crate::CanonicalOptions::default().with_safe_mode(false);
        for text in [
            include_str!("../tests/data/vectors/samples/df-101-productivity-tools.json"),
            include_str!("../tests/data/vectors/samples/clr-digital-fluency-pathway.json"),
        ] {
            let doc: Value = serde_json::from_str(text).unwrap();
            crate::canonicalize_document(&doc, &loader, &opts).unwrap();
        }
        let n = loader.cache_len();
        assert!(n > 10 && n < 400, "{n} cached contexts");
        // A second pass hits the cache only.
        let doc: Value = serde_json::from_str(include_str!(
            "../tests/data/vectors/samples/clr-digital-fluency-pathway.json"
        ))
        .unwrap();
        crate::canonicalize_document(&doc, &loader, &opts).unwrap();
        assert_eq!(loader.cache_len(), n);
    }

    #[test]
    fn large_inline_contexts_are_not_remembered() {
        let loader = ContextLoader::bundled();
        let small = serde_json::json!({"a": "https://e/a"});
        assert!(loader.inline_id(&small).is_some());
        let big = serde_json::json!({"a": format!("https://e/{}", "x".repeat(INLINE_MAX_BYTES))});
        assert_eq!(loader.inline_id(&big), None);
        let mut deep = small.clone();
        for _ in 0..=INLINE_MAX_DEPTH {
            deep = serde_json::json!({ "a": deep });
        }
        assert_eq!(loader.inline_id(&deep), None);
    }

    /// Equal contexts share an id, whatever their addresses; any difference (member order,
    /// a number's kind, a string that would read the same once escaped) gives another.
    #[test]
    fn inline_ids_follow_the_json() {
        let loader = ContextLoader::bundled();
        let base = serde_json::json!({"a": "https://e/a", "b": {"@id": "https://e/b", "@type": "@id"}, "n": [1, null, true]});
        let id = loader.inline_id(&base);
        assert!(id.is_some());
        assert_eq!(loader.inline_id(&base.clone()), id);
        for other in [
            serde_json::json!({"b": {"@id": "https://e/b", "@type": "@id"}, "a": "https://e/a", "n": [1, null, true]}),
            serde_json::json!({"a": "https://e/a", "b": {"@id": "https://e/b", "@type": "@id"}, "n": [1.0, null, true]}),
            serde_json::json!({"a": "https://e/a", "b": {"@id": "https://e/b", "@type": "@id"}, "n": [1, null, false]}),
            serde_json::json!({"a": "https://e/a", "b": {"@id": "https://e/b", "@type": "@id"}, "n": [[1, null], true]}),
            serde_json::json!({"a": "https://e/a\"", "b": {"@id": "https://e/b", "@type": "@id"}, "n": [1, null, true]}),
            serde_json::json!({"ab": "https://e/", "b": {"@id": "https://e/b", "@type": "@id"}, "n": [1, null, true]}),
        ] {
            let other_id = loader.inline_id(&other);
            assert!(other_id.is_some());
            assert_ne!(other_id, id, "{other}");
            // Again, now that both are among the recent ones.
            assert_eq!(loader.inline_id(&other), other_id);
            assert_eq!(loader.inline_id(&base), id);
            assert!(!same_inline(&base, &other));
        }
    }
}
