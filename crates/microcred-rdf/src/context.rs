//! Active contexts, term definitions and the JSON-LD 1.1 Context Processing algorithm.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::dataset::Str;
use crate::iri::{
    ends_with_gen_delim, has_keyword_form, is_absolute_iri, is_blank, is_keyword,
    is_well_formed_iri, resolve,
};
use crate::loader::{CacheKey, ContextLoader, Src};
use crate::seeded::SeededMap;
use crate::Error;

/// Maximum number of nested remote context loads (`context overflow` above it).
const MAX_REMOTE_DEPTH: usize = 32;
/// Maximum nesting of context processing (scoped contexts within scoped contexts, ...).
const MAX_PROCESSING_DEPTH: usize = 48;
/// Most context-processing work per document, in units of term definitions copied or scanned
/// and of JSON read from context definitions (one per value, one per 32 bytes of text). Each
/// context made from a map copies the active context's terms, so K embedded or scoped
/// contexts applied over T terms cost K×T, and a scoped context is read again for each
/// context it is applied to: without a limit a 2 MiB document could make that 10^9 and more
/// (one `@context` array of 10,000 one-term maps took 9 s and 2 GB before this limit,
/// 5,000 nodes under a scoped context holding a 300 KB IRI 1 s and 400 MB). Credentials need
/// far less: the sample CLR (853 quads) with a cold loader about 23,000 units, and about
/// 200,000 with a 20 KiB embedded context ahead of the standard ones (so that the loader may
/// cache nothing); the costliest JSON-LD toRdf test about 1,000. At the limit, 20 times that,
/// a document is refused within about 0.2 s, having kept at most about 130 MB.
pub(crate) const CONTEXT_WORK_LIMIT: u64 = 4_000_000;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// An error from context processing, before a JSON path is attached.
#[derive(Debug)]
pub(crate) enum CtxError {
    JsonLd {
        code: &'static str,
        detail: String,
    },
    /// [`CONTEXT_WORK_LIMIT`] reached.
    TooComplex,
    Other(Error),
}

impl From<Error> for CtxError {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

fn jerr<T>(code: &'static str, detail: impl Into<String>) -> Result<T, CtxError> {
    Err(CtxError::JsonLd {
        code,
        detail: detail.into(),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Ltr,
    Rtl,
}

impl Direction {
    fn parse(v: &Value) -> Result<Option<Self>, CtxError> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s == "ltr" => Ok(Some(Self::Ltr)),
            Value::String(s) if s == "rtl" => Ok(Some(Self::Rtl)),
            _ => jerr(
                "invalid base direction",
                format!("{v} is not \"ltr\", \"rtl\" or null"),
            ),
        }
    }
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ltr => "ltr",
            Self::Rtl => "rtl",
        }
    }
}

pub(crate) mod container {
    pub(crate) const LIST: u8 = 1;
    pub(crate) const SET: u8 = 2;
    pub(crate) const INDEX: u8 = 4;
    pub(crate) const LANGUAGE: u8 = 8;
    pub(crate) const ID: u8 = 16;
    pub(crate) const TYPE: u8 = 32;
    pub(crate) const GRAPH: u8 = 64;
}

fn parse_container(v: &Value) -> Option<u8> {
    use container::*;
    fn one(s: &str) -> Option<u8> {
        Some(match s {
            "@list" => LIST,
            "@set" => SET,
            "@index" => INDEX,
            "@language" => LANGUAGE,
            "@id" => ID,
            "@type" => TYPE,
            "@graph" => GRAPH,
            _ => return None,
        })
    }
    let bits = match v {
        Value::String(s) => one(s)?,
        Value::Array(a) => {
            let mut bits = 0u8;
            for x in a {
                let b = one(x.as_str()?)?;
                if bits & b != 0 {
                    return None;
                }
                bits |= b;
            }
            if bits == 0 {
                return None;
            }
            bits
        }
        _ => return None,
    };
    let rest = bits & !SET;
    let ok = if bits & LIST != 0 {
        bits == LIST
    } else if rest & GRAPH != 0 {
        matches!(rest & !GRAPH, 0 | ID | INDEX)
    } else {
        rest.count_ones() <= 1
    };
    ok.then_some(bits)
}

/// A scoped context attached to a term definition.
#[derive(Debug)]
pub(crate) struct Scoped {
    pub(crate) value: Value,
    pub(crate) base: Option<Arc<str>>,
    pub(crate) id: u64,
}

#[derive(Debug)]
pub(crate) struct TermDef {
    /// IRI mapping; `None` for a term mapped to null. Keywords are kept as `@...` strings.
    pub(crate) iri: Option<Arc<str>>,
    pub(crate) prefix: bool,
    pub(crate) protected: bool,
    pub(crate) reverse: bool,
    pub(crate) type_mapping: Option<Arc<str>>,
    pub(crate) container: u8,
    pub(crate) has_container: bool,
    pub(crate) language: Option<Option<Arc<str>>>,
    pub(crate) direction: Option<Option<Direction>>,
    pub(crate) index: Option<Arc<str>>,
    pub(crate) nest: Option<Arc<str>>,
    pub(crate) context: Option<Arc<Scoped>>,
    /// Precomputed: the IRI mapping is a well-formed absolute IRI.
    pub(crate) iri_ok: bool,
}

impl TermDef {
    /// Equality for the protected-term check: everything but the protected flag.
    fn same_as(&self, o: &Self) -> bool {
        self.iri == o.iri
            && self.prefix == o.prefix
            && self.reverse == o.reverse
            && self.type_mapping == o.type_mapping
            && self.container == o.container
            && self.has_container == o.has_container
            && self.language == o.language
            && self.direction == o.direction
            && self.index == o.index
            && self.nest == o.nest
            && match (&self.context, &o.context) {
                (None, None) => true,
                (Some(a), Some(b)) => a.value == b.value,
                _ => false,
            }
    }
}

/// An active context.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) id: u64,
    /// Built only from loader-owned context documents, so results may be cached in the loader.
    pub(crate) cacheable: bool,
    pub(crate) terms: SeededMap<Arc<str>, Arc<TermDef>>,
    pub(crate) base: Option<Arc<str>>,
    pub(crate) original_base: Option<Arc<str>>,
    pub(crate) vocab: Option<Arc<str>>,
    pub(crate) language: Option<Arc<str>>,
    pub(crate) direction: Option<Direction>,
    pub(crate) previous: Option<Arc<Self>>,
    /// Terms that are aliases of `@type`, `@id` and `@value` (computed after processing).
    pub(crate) type_aliases: Vec<Arc<str>>,
    pub(crate) id_aliases: Vec<Arc<str>>,
    pub(crate) value_aliases: Vec<Arc<str>>,
    pub(crate) has_protected: bool,
}

impl Ctx {
    pub(crate) fn empty(base: Option<Arc<str>>) -> Self {
        Self {
            id: next_id(),
            cacheable: true,
            terms: SeededMap::default(),
            base: base.clone(),
            original_base: base,
            vocab: None,
            language: None,
            direction: None,
            previous: None,
            type_aliases: Vec::new(),
            id_aliases: Vec::new(),
            value_aliases: Vec::new(),
            has_protected: false,
        }
    }

    fn finish(mut self) -> Self {
        self.type_aliases.clear();
        self.id_aliases.clear();
        self.value_aliases.clear();
        self.has_protected = false;
        for (k, d) in &self.terms {
            self.has_protected |= d.protected;
            match d.iri.as_deref() {
                Some("@type") => self.type_aliases.push(k.clone()),
                Some("@id") => self.id_aliases.push(k.clone()),
                Some("@value") => self.value_aliases.push(k.clone()),
                _ => {}
            }
        }
        self
    }

    pub(crate) fn term(&self, key: &str) -> Option<&Arc<TermDef>> {
        self.terms.get(key)
    }

    #[inline]
    pub(crate) fn is_type_key(&self, key: &str) -> bool {
        key == "@type" || self.is_alias(&self.type_aliases, key, "@type")
    }
    #[inline]
    pub(crate) fn is_id_key(&self, key: &str) -> bool {
        key == "@id" || self.is_alias(&self.id_aliases, key, "@id")
    }
    #[inline]
    pub(crate) fn is_value_key(&self, key: &str) -> bool {
        key == "@value" || self.is_alias(&self.value_aliases, key, "@value")
    }

    /// Whether `key` is one of `aliases` (the terms mapped to `keyword`). Every key of every
    /// node is checked, so many aliases (an embedded context can define thousands) are looked
    /// up in the term map rather than scanned.
    #[inline]
    fn is_alias(&self, aliases: &[Arc<str>], key: &str, keyword: &str) -> bool {
        if aliases.len() <= 4 {
            aliases.iter().any(|a| &**a == key)
        } else {
            self.terms
                .get(key)
                .is_some_and(|d| d.iri.as_deref() == Some(keyword))
        }
    }

    /// IRI Expansion (no local context): returns `None` for null.
    pub(crate) fn expand_iri<'a>(
        &self,
        value: &'a str,
        document_relative: bool,
        vocab: bool,
    ) -> Option<Str<'a>> {
        if value.starts_with('@') {
            if is_keyword(value) {
                return Some(Str::B(value));
            }
            if has_keyword_form(value) {
                return None;
            }
        }
        if let Some(def) = self.terms.get(value) {
            if let Some(iri) = &def.iri {
                if iri.starts_with('@') && is_keyword(iri) {
                    return Some(Str::A(iri.clone()));
                }
            }
            if vocab {
                return def.iri.as_ref().map(|i| Str::A(i.clone()));
            }
        }
        if let Some(colon) = value.find(':').filter(|&c| c > 0) {
            let prefix = value.get(..colon).unwrap_or("");
            let suffix = value.get(colon + 1..).unwrap_or("");
            if prefix == "_" || suffix.starts_with("//") {
                return Some(Str::B(value));
            }
            if let Some(def) = self.terms.get(prefix) {
                if let (Some(iri), true) = (&def.iri, def.prefix) {
                    let mut s = String::with_capacity(iri.len() + suffix.len());
                    s.push_str(iri);
                    s.push_str(suffix);
                    return Some(Str::from(s));
                }
            }
            if is_absolute_iri(value) {
                return Some(Str::B(value));
            }
        }
        if vocab {
            if let Some(v) = &self.vocab {
                let mut s = String::with_capacity(v.len() + value.len());
                s.push_str(v);
                s.push_str(value);
                return Some(Str::from(s));
            }
        }
        if document_relative {
            if let Some(base) = &self.base {
                return Some(Str::from(resolve(base, value)));
            }
        }
        Some(Str::B(value))
    }
}

/// Flags of one context-processing call (part of the cache key).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Opts {
    pub(crate) override_protected: bool,
    pub(crate) propagate: bool,
    pub(crate) validate_scoped: bool,
    /// False while validating scoped contexts: results are thrown away, do not cache them.
    pub(crate) cacheable: bool,
}

impl Opts {
    pub(crate) const DEFAULT: Self = Self {
        override_protected: false,
        propagate: true,
        validate_scoped: true,
        cacheable: true,
    };
    fn bits(self) -> u8 {
        u8::from(self.override_protected)
            | (u8::from(self.propagate) << 1)
            | (u8::from(self.validate_scoped) << 2)
    }
}

/// Runs the Context Processing algorithm for one document, with caching in the loader.
pub(crate) struct Processor<'l> {
    pub(crate) loader: &'l ContextLoader,
    depth: usize,
    /// Work done so far, against [`CONTEXT_WORK_LIMIT`].
    work: u64,
    /// Contexts made from a context the loader may not cache (one built from an embedded
    /// context), for this document only: nodes under the same property or type then share
    /// one processing instead of copying all terms each.
    local: SeededMap<CacheKey, Arc<Ctx>>,
}

impl<'l> Processor<'l> {
    pub(crate) fn new(loader: &'l ContextLoader) -> Self {
        Processor {
            loader,
            depth: 0,
            work: 0,
            local: SeededMap::default(),
        }
    }

    /// Counts `units` of work (see [`CONTEXT_WORK_LIMIT`] for the unit).
    pub(crate) fn charge(&mut self, units: usize) -> Result<(), CtxError> {
        self.work = self.work.saturating_add(units as u64 + 1);
        if self.work > CONTEXT_WORK_LIMIT {
            return Err(CtxError::TooComplex);
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn work(&self) -> u64 {
        self.work
    }

    fn cached(&self, key: &CacheKey, shared: bool) -> Option<Arc<Ctx>> {
        if shared {
            self.loader.cache_get(key)
        } else {
            self.local.get(key).cloned()
        }
    }

    fn keep(&mut self, key: CacheKey, ctx: &Arc<Ctx>, shared: bool) {
        if shared {
            self.loader.cache_put(key, ctx.clone());
        } else {
            self.local.insert(key, ctx.clone());
        }
    }

    /// Applies an embedded context of a document, cached by its JSON text when the parent
    /// context is cacheable.
    pub(crate) fn apply_inline(
        &mut self,
        active: &Arc<Ctx>,
        local: &Value,
    ) -> Result<Option<Arc<Ctx>>, CtxError> {
        if !active.cacheable || active.base.is_some() {
            return Ok(None);
        }
        let Some(id) = self.loader.inline_id(local) else {
            return Ok(None);
        };
        let key = CacheKey {
            parent: active.id,
            src: Src::Inline(id),
            flags: Opts::DEFAULT.bits(),
        };
        if let Some(c) = self.loader.cache_get(&key) {
            return Ok(Some(c));
        }
        let r = self.process(
            active,
            local,
            active.original_base.as_ref(),
            Opts::DEFAULT,
            &[],
        )?;
        self.loader.cache_put(key, r.clone());
        Ok(Some(r))
    }

    /// Applies a scoped context stored in a term definition (cached by its id).
    pub(crate) fn apply_scoped(
        &mut self,
        active: &Arc<Ctx>,
        scoped: &Scoped,
        opts: Opts,
    ) -> Result<Arc<Ctx>, CtxError> {
        let key = CacheKey {
            parent: active.id,
            src: Src::Scoped(scoped.id),
            flags: opts.bits(),
        };
        // Results of validation runs (not cacheable) are thrown away; the others are kept in
        // the loader when every context they come from is the loader's, else locally.
        let shared = active.cacheable;
        if opts.cacheable {
            if let Some(c) = self.cached(&key, shared) {
                return Ok(c);
            }
        }
        let r = self.process(active, &scoped.value, scoped.base.as_ref(), opts, &[])?;
        if opts.cacheable {
            self.keep(key, &r, shared);
        }
        Ok(r)
    }

    /// Context Processing: `local` may be null, a string, a map or an array of those.
    pub(crate) fn process(
        &mut self,
        active: &Arc<Ctx>,
        local: &Value,
        base_url: Option<&Arc<str>>,
        opts: Opts,
        remote: &[Arc<str>],
    ) -> Result<Arc<Ctx>, CtxError> {
        if self.depth >= MAX_PROCESSING_DEPTH {
            return jerr(
                "context overflow",
                format!("contexts nest more than {MAX_PROCESSING_DEPTH} levels deep"),
            );
        }
        self.depth += 1;
        let r = self.process_inner(active, local, base_url, opts, remote);
        self.depth -= 1;
        r
    }

    fn process_inner(
        &mut self,
        active: &Arc<Ctx>,
        local: &Value,
        base_url: Option<&Arc<str>>,
        mut opts: Opts,
        remote: &[Arc<str>],
    ) -> Result<Arc<Ctx>, CtxError> {
        if let Value::Object(m) = local {
            if let Some(p) = m.get("@propagate") {
                match p {
                    Value::Bool(b) => opts.propagate = *b,
                    _ => return jerr("invalid @propagate value", format!("{p} is not a boolean")),
                }
            }
        }
        let items = match local {
            Value::Array(a) => a.as_slice(),
            other => std::slice::from_ref(other),
        };
        let mut result = active.clone();
        for item in items {
            // A context document's shape (`{"@context": ...}`) as an item of a context array
            // (also unwrapped by `Expander::apply_local` for a document's own `@context`):
            // JSON-LD 1.1 has no rule for it (`@context` would be a keyword redefinition, as
            // the spec's test er56 requires for a lone local context, which stays an error),
            // but jsonld.js and pyld unwrap it, and credentials signed with them (among them
            // the W3C Data Integrity test suite's fixtures) rely on that.
            if let (Value::Array(_), Value::Object(m)) = (local, item) {
                if let Some(inner) = m.get("@context") {
                    result = self.process(&result, inner, base_url, opts, remote)?;
                    continue;
                }
            }
            result = self.process_item(&result, item, base_url, opts, remote)?;
        }
        Ok(result)
    }

    fn process_item(
        &mut self,
        result: &Arc<Ctx>,
        item: &Value,
        base_url: Option<&Arc<str>>,
        opts: Opts,
        remote: &[Arc<str>],
    ) -> Result<Arc<Ctx>, CtxError> {
        match item {
            Value::Null => {
                if !opts.override_protected && result.has_protected {
                    return jerr(
                        "invalid context nullification",
                        "a null @context would remove protected term definitions; remove the null",
                    );
                }
                let mut c = Ctx::empty(result.original_base.clone());
                c.cacheable = result.cacheable;
                if !opts.propagate {
                    c.previous = Some(result.clone());
                }
                Ok(Arc::new(c))
            }
            Value::String(s) => self.process_remote(result, s, base_url, opts, remote),
            Value::Object(m) => {
                // Copying the terms, scanning them again in `Ctx::finish`, and reading (and
                // for scoped contexts copying and comparing) the definitions.
                self.charge(2 * result.terms.len() + json_weight(item))?;
                let mut c: Ctx = (**result).clone();
                c.id = next_id();
                if !opts.propagate && c.previous.is_none() {
                    c.previous = Some(result.clone());
                }
                self.definition(c, m, base_url, opts, remote).map(Arc::new)
            }
            other => jerr(
                "invalid local context",
                format!("a context must be a URL string, an object or null, not {other}"),
            ),
        }
    }

    fn process_remote(
        &mut self,
        result: &Arc<Ctx>,
        s: &str,
        base_url: Option<&Arc<str>>,
        opts: Opts,
        remote: &[Arc<str>],
    ) -> Result<Arc<Ctx>, CtxError> {
        let url: std::borrow::Cow<'_, str> = if is_absolute_iri(s) && !s.contains("/.") {
            s.into()
        } else {
            match base_url {
                Some(b) => resolve(b, s).into(),
                None if is_absolute_iri(s) => resolve(s, "").into(),
                None => {
                    return jerr(
                        "loading document failed",
                        format!(
                            "context reference \"{s}\" is relative and there is no base URL; \
                             use the context's absolute URL"
                        ),
                    )
                }
            }
        };
        if !opts.validate_scoped && remote.iter().any(|r| **r == *url) {
            return Ok(result.clone());
        }
        if remote.len() >= MAX_REMOTE_DEPTH {
            return jerr(
                "context overflow",
                format!("more than {MAX_REMOTE_DEPTH} nested context loads at \"{url}\""),
            );
        }
        let doc = self.loader.doc(&url)?;
        let key = CacheKey {
            parent: result.id,
            src: Src::Doc(doc.id),
            flags: opts.bits(),
        };
        let shared = result.cacheable;
        if opts.cacheable {
            if let Some(c) = self.cached(&key, shared) {
                return Ok(c);
            }
        }
        let loaded = doc.context()?;
        let mut chain = remote.to_vec();
        chain.push(doc.url.clone());
        // Set the previous context here: the recursive call runs with default propagation.
        let start = if !opts.propagate && result.previous.is_none() {
            self.charge(result.terms.len())?;
            let mut c: Ctx = (**result).clone();
            c.id = next_id();
            c.previous = Some(result.clone());
            Arc::new(c)
        } else {
            result.clone()
        };
        let inner = Opts {
            override_protected: false,
            propagate: true,
            validate_scoped: opts.validate_scoped,
            cacheable: opts.cacheable,
        };
        let r = self.process(&start, loaded, Some(&doc.url), inner, &chain)?;
        if opts.cacheable {
            self.keep(key, &r, shared);
        }
        Ok(r)
    }

    /// Processes one context definition (a map) into `c`.
    fn definition(
        &mut self,
        mut c: Ctx,
        m: &Map<String, Value>,
        base_url: Option<&Arc<str>>,
        opts: Opts,
        remote: &[Arc<str>],
    ) -> Result<Ctx, CtxError> {
        if let Some(v) = m.get("@version") {
            if v.as_f64() != Some(1.1) {
                return jerr("invalid @version value", format!("@version {v} is not 1.1"));
            }
        }
        let imported: Map<String, Value>;
        let m = if let Some(imp) = m.get("@import") {
            let Some(s) = imp.as_str() else {
                return jerr(
                    "invalid @import value",
                    format!("@import {imp} is not a string"),
                );
            };
            let url = match base_url {
                Some(b) => resolve(b, s),
                None => s.to_owned(),
            };
            let doc = self.loader.doc(&url).map_err(|e| match e {
                Error::UnknownContext { .. } => CtxError::Other(e),
                other => CtxError::JsonLd {
                    code: "loading remote context failed",
                    detail: other.to_string(),
                },
            })?;
            let Value::Object(ic) = doc.context()? else {
                return jerr(
                    "invalid remote context",
                    format!("@import \"{url}\" does not hold a context object"),
                );
            };
            if ic.contains_key("@import") {
                return jerr(
                    "invalid context entry",
                    format!("@import \"{url}\" itself has @import"),
                );
            }
            self.charge(json_weight(doc.context()?))?;
            let mut merged = ic.clone();
            for (k, v) in m {
                if k != "@import" {
                    merged.insert(k.clone(), v.clone());
                }
            }
            imported = merged;
            &imported
        } else {
            m
        };
        if let Some(v) = m.get("@base") {
            if remote.is_empty() {
                match v {
                    Value::Null => c.base = None,
                    Value::String(s) if is_absolute_iri(s) => c.base = Some(Arc::from(s.as_str())),
                    Value::String(s) => match &c.base {
                        Some(b) => c.base = Some(Arc::from(resolve(b, s))),
                        None => {
                            return jerr(
                                "invalid base IRI",
                                format!("@base \"{s}\" is relative and there is no base IRI"),
                            )
                        }
                    },
                    _ => return jerr("invalid base IRI", format!("@base {v} is not a string")),
                }
            }
        }
        if let Some(v) = m.get("@vocab") {
            match v {
                Value::Null => c.vocab = None,
                Value::String(s) => {
                    let e = c.expand_iri(s, true, true);
                    c.vocab = e.map(|x| Arc::from(&*x));
                }
                _ => {
                    return jerr(
                        "invalid vocab mapping",
                        format!("@vocab {v} is not a string"),
                    )
                }
            }
        }
        if let Some(v) = m.get("@language") {
            match v {
                Value::Null => c.language = None,
                Value::String(s) => c.language = Some(Arc::from(s.to_ascii_lowercase())),
                _ => {
                    return jerr(
                        "invalid default language",
                        format!("@language {v} is not a string"),
                    )
                }
            }
        }
        if let Some(v) = m.get("@direction") {
            c.direction = Direction::parse(v)?;
        }
        if let Some(v) = m.get("@propagate") {
            if !v.is_boolean() {
                return jerr("invalid @propagate value", format!("{v} is not a boolean"));
            }
        }
        let protected = match m.get("@protected") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return jerr("invalid @protected value", format!("{v} is not a boolean")),
        };
        let mut defined: SeededMap<&str, bool> = SeededMap::default();
        let env = TermEnv {
            local: m,
            base_url,
            protected,
            opts,
            remote,
        };
        for key in m.keys() {
            if matches!(
                key.as_str(),
                "@base"
                    | "@direction"
                    | "@import"
                    | "@language"
                    | "@propagate"
                    | "@protected"
                    | "@version"
                    | "@vocab"
            ) {
                continue;
            }
            self.create_term(&mut c, &env, key, &mut defined)?;
        }
        Ok(c.finish())
    }

    /// IRI Expansion during context processing (may define terms of the local context).
    fn expand_iri_local<'m>(
        &mut self,
        c: &mut Ctx,
        env: &TermEnv<'m>,
        defined: &mut SeededMap<&'m str, bool>,
        value: &str,
        document_relative: bool,
        vocab: bool,
    ) -> Result<Option<String>, CtxError> {
        if is_keyword(value) {
            return Ok(Some(value.to_owned()));
        }
        if has_keyword_form(value) {
            return Ok(None);
        }
        if let Some((k, _)) = env.local.get_key_value(value) {
            if defined.get(k.as_str()) != Some(&true) {
                self.create_term(c, env, k, defined)?;
            }
        }
        if let Some(def) = c.terms.get(value) {
            if let Some(iri) = &def.iri {
                if is_keyword(iri) {
                    return Ok(Some(iri.to_string()));
                }
            }
            if vocab {
                return Ok(def.iri.as_deref().map(str::to_owned));
            }
        }
        if let Some(colon) = value.find(':').filter(|&i| i > 0) {
            let prefix = value.get(..colon).unwrap_or("");
            let suffix = value.get(colon + 1..).unwrap_or("");
            if prefix == "_" || suffix.starts_with("//") {
                return Ok(Some(value.to_owned()));
            }
            if let Some((k, _)) = env.local.get_key_value(prefix) {
                if defined.get(k.as_str()) != Some(&true) {
                    self.create_term(c, env, k, defined)?;
                }
            }
            if let Some(def) = c.terms.get(prefix) {
                if let (Some(iri), true) = (&def.iri, def.prefix) {
                    return Ok(Some(format!("{iri}{suffix}")));
                }
            }
            if is_absolute_iri(value) {
                return Ok(Some(value.to_owned()));
            }
        }
        if vocab {
            if let Some(v) = &c.vocab {
                return Ok(Some(format!("{v}{value}")));
            }
        }
        if document_relative {
            if let Some(b) = &c.base {
                return Ok(Some(resolve(b, value)));
            }
        }
        Ok(Some(value.to_owned()))
    }

    /// Create Term Definition.
    fn create_term<'m>(
        &mut self,
        c: &mut Ctx,
        env: &TermEnv<'m>,
        term: &'m str,
        defined: &mut SeededMap<&'m str, bool>,
    ) -> Result<(), CtxError> {
        match defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => {
                return jerr(
                    "cyclic IRI mapping",
                    format!("term \"{term}\" is defined in terms of itself"),
                )
            }
            None => {}
        }
        if term.is_empty() {
            return jerr(
                "invalid term definition",
                "the empty string cannot be a term",
            );
        }
        defined.insert(term, false);
        let Some(value) = env.local.get(term) else {
            defined.insert(term, true);
            return Ok(());
        };
        if term == "@type" {
            let ok = match value {
                Value::Object(o) => {
                    !o.is_empty()
                        && o.iter().all(|(k, v)| match k.as_str() {
                            "@container" => v.as_str() == Some("@set"),
                            "@protected" => v.is_boolean(),
                            _ => false,
                        })
                }
                _ => false,
            };
            if !ok {
                return jerr(
                    "keyword redefinition",
                    "@type may only be given @container @set and @protected",
                );
            }
        } else if is_keyword(term) {
            return jerr(
                "keyword redefinition",
                format!("keyword {term} cannot be redefined"),
            );
        } else if has_keyword_form(term) {
            defined.insert(term, true);
            return Ok(());
        }
        let previous = c.terms.remove(term);
        let single;
        let (map, simple_term): (&Map<String, Value>, bool) = match value {
            Value::Null => {
                let mut o = Map::new();
                o.insert("@id".to_owned(), Value::Null);
                single = o;
                (&single, false)
            }
            Value::String(s) => {
                let mut o = Map::new();
                o.insert("@id".to_owned(), Value::String(s.clone()));
                single = o;
                (&single, true)
            }
            Value::Object(o) => (o, false),
            other => {
                return jerr(
                    "invalid term definition",
                    format!(
                        "term \"{term}\" is defined as {other}; use a string, an object or null"
                    ),
                )
            }
        };
        let mut def = TermDef {
            iri: None,
            prefix: false,
            protected: env.protected,
            reverse: false,
            type_mapping: None,
            container: 0,
            has_container: false,
            language: None,
            direction: None,
            index: None,
            nest: None,
            context: None,
            iri_ok: false,
        };
        if let Some(p) = map.get("@protected") {
            match p {
                Value::Bool(b) => def.protected = *b,
                _ => return jerr("invalid @protected value", format!("{p} is not a boolean")),
            }
        }
        if let Some(t) = map.get("@type") {
            let Some(ts) = t.as_str() else {
                return jerr(
                    "invalid type mapping",
                    format!("@type {t} of term \"{term}\" is not a string"),
                );
            };
            let ty = self
                .expand_iri_local(c, env, defined, ts, false, true)?
                .unwrap_or_default();
            let ok = matches!(ty.as_str(), "@id" | "@json" | "@none" | "@vocab")
                || (is_absolute_iri(&ty) && !is_blank(&ty));
            if !ok {
                return jerr(
                    "invalid type mapping",
                    format!("@type \"{ts}\" of term \"{term}\" is not an IRI, @id, @json, @none or @vocab"),
                );
            }
            def.type_mapping = Some(Arc::from(ty));
        }
        if let Some(rev) = map.get("@reverse") {
            if map.contains_key("@id") || map.contains_key("@nest") {
                return jerr(
                    "invalid reverse property",
                    format!("term \"{term}\" has @reverse with @id or @nest"),
                );
            }
            let Some(rs) = rev.as_str() else {
                return jerr(
                    "invalid IRI mapping",
                    format!("@reverse of term \"{term}\" is not a string"),
                );
            };
            if has_keyword_form(rs) {
                defined.insert(term, true);
                return Ok(());
            }
            let iri = self
                .expand_iri_local(c, env, defined, rs, false, true)?
                .unwrap_or_default();
            if !(is_absolute_iri(&iri) || is_blank(&iri)) || is_keyword(&iri) {
                return jerr(
                    "invalid IRI mapping",
                    format!("@reverse \"{rs}\" of term \"{term}\" is not an IRI"),
                );
            }
            def.iri = Some(Arc::from(iri));
            def.reverse = true;
        } else if let Some(idv) = map.get("@id").filter(|v| v.as_str() != Some(term)) {
            match idv {
                Value::Null => {}
                Value::String(ids) => {
                    if !is_keyword(ids) && has_keyword_form(ids) {
                        defined.insert(term, true);
                        return Ok(());
                    }
                    let iri = self
                        .expand_iri_local(c, env, defined, ids, false, true)?
                        .unwrap_or_default();
                    if !(is_keyword(&iri) || is_absolute_iri(&iri) || is_blank(&iri)) {
                        return jerr(
                            "invalid IRI mapping",
                            format!("@id \"{ids}\" of term \"{term}\" does not expand to an IRI"),
                        );
                    }
                    if iri == "@context" {
                        return jerr(
                            "invalid keyword alias",
                            format!("term \"{term}\" aliases @context"),
                        );
                    }
                    let inner_colon = term.find(':').is_some_and(|i| i > 0 && i + 1 < term.len());
                    if inner_colon || term.contains('/') {
                        defined.insert(term, true);
                        let again = self.expand_iri_local(c, env, defined, term, false, true)?;
                        if again.as_deref() != Some(iri.as_str()) {
                            return jerr(
                                "invalid IRI mapping",
                                format!("term \"{term}\" looks like an IRI but maps to a different IRI \"{iri}\""),
                            );
                        }
                    }
                    if !term.contains(':')
                        && !term.contains('/')
                        && simple_term
                        && (ends_with_gen_delim(&iri) || is_blank(&iri))
                    {
                        def.prefix = true;
                    }
                    def.iri = Some(Arc::from(iri));
                }
                other => {
                    return jerr(
                        "invalid IRI mapping",
                        format!("@id {other} of term \"{term}\" is not a string"),
                    )
                }
            }
        } else if let Some(colon) = term.find(':').filter(|&i| i > 0) {
            let prefix = term.get(..colon).unwrap_or("");
            let suffix = term.get(colon + 1..).unwrap_or("");
            let is_compact = prefix != "_" && !suffix.starts_with("//");
            if is_compact {
                if let Some((k, _)) = env.local.get_key_value(prefix) {
                    self.create_term(c, env, k, defined)?;
                }
            }
            match c
                .terms
                .get(prefix)
                .and_then(|d| d.iri.clone())
                .filter(|_| is_compact)
            {
                Some(p) => def.iri = Some(Arc::from(format!("{p}{suffix}"))),
                None => def.iri = Some(Arc::from(term)),
            }
        } else if term.contains('/') {
            let iri = c
                .expand_iri(term, true, false)
                .map(|x| x.to_string())
                .unwrap_or_default();
            if !is_absolute_iri(&iri) {
                return jerr(
                    "invalid IRI mapping",
                    format!("term \"{term}\" is a relative IRI"),
                );
            }
            def.iri = Some(Arc::from(iri));
        } else if term == "@type" {
            def.iri = Some(Arc::from("@type"));
        } else if let Some(v) = &c.vocab {
            def.iri = Some(Arc::from(format!("{v}{term}")));
        } else {
            return jerr(
                "invalid IRI mapping",
                format!("term \"{term}\" has no @id and there is no @vocab to derive one"),
            );
        }
        if let Some(cv) = map.get("@container") {
            let Some(bits) = parse_container(cv) else {
                return jerr(
                    "invalid container mapping",
                    format!("@container {cv} of term \"{term}\""),
                );
            };
            if def.reverse && bits & !(container::SET | container::INDEX) != 0 {
                return jerr(
                    "invalid reverse property",
                    format!("reverse term \"{term}\" may only use @set or @index containers"),
                );
            }
            def.container = bits;
            def.has_container = true;
            if bits & container::TYPE != 0 {
                match def.type_mapping.as_deref() {
                    None => def.type_mapping = Some(Arc::from("@id")),
                    Some("@id" | "@vocab") => {}
                    Some(_) => {
                        return jerr(
                            "invalid type mapping",
                            format!(
                                "term \"{term}\" with @container @type needs @type @id or @vocab"
                            ),
                        )
                    }
                }
            }
        }
        if let Some(iv) = map.get("@index") {
            if def.container & container::INDEX == 0 {
                return jerr(
                    "invalid term definition",
                    format!("term \"{term}\" has @index without an @index container"),
                );
            }
            let Some(is) = iv.as_str() else {
                return jerr(
                    "invalid term definition",
                    format!("@index of term \"{term}\" is not a string"),
                );
            };
            let e = self.expand_iri_local(c, env, defined, is, false, true)?;
            if !e.as_deref().is_some_and(is_absolute_iri) || is_keyword(is) {
                return jerr(
                    "invalid term definition",
                    format!("@index \"{is}\" of term \"{term}\" is not an IRI"),
                );
            }
            def.index = Some(Arc::from(is));
        }
        if let Some(sc) = map.get("@context") {
            self.charge(c.terms.len())?;
            let probe = Arc::new(c.clone());
            let vopts = Opts {
                override_protected: true,
                propagate: true,
                validate_scoped: false,
                cacheable: false,
            };
            if let Err(e) = self.process(&probe, sc, env.base_url, vopts, env.remote) {
                return Err(match e {
                    CtxError::JsonLd { code, detail } => CtxError::JsonLd {
                        code: "invalid scoped context",
                        detail: format!(
                            "in the scoped context of term \"{term}\": {code}: {detail}"
                        ),
                    },
                    other => other,
                });
            }
            def.context = Some(Arc::new(Scoped {
                value: sc.clone(),
                base: env.base_url.cloned(),
                id: next_id(),
            }));
        }
        if !map.contains_key("@type") {
            if let Some(l) = map.get("@language") {
                match l {
                    Value::Null => def.language = Some(None),
                    Value::String(s) => {
                        def.language = Some(Some(Arc::from(s.to_ascii_lowercase())))
                    }
                    _ => {
                        return jerr(
                            "invalid language mapping",
                            format!("@language {l} of term \"{term}\""),
                        )
                    }
                }
            }
            if let Some(d) = map.get("@direction") {
                def.direction = Some(Direction::parse(d)?);
            }
        }
        if let Some(n) = map.get("@nest") {
            match n.as_str() {
                Some(s) if s == "@nest" || !is_keyword(s) => def.nest = Some(Arc::from(s)),
                _ => {
                    return jerr(
                        "invalid @nest value",
                        format!("@nest {n} of term \"{term}\""),
                    )
                }
            }
        }
        if let Some(p) = map.get("@prefix") {
            if term.contains(':') || term.contains('/') {
                return jerr(
                    "invalid term definition",
                    format!("term \"{term}\" cannot have @prefix"),
                );
            }
            match p {
                Value::Bool(b) => def.prefix = *b,
                _ => {
                    return jerr(
                        "invalid @prefix value",
                        format!("@prefix {p} of term \"{term}\""),
                    )
                }
            }
            if def.prefix && def.iri.as_deref().is_some_and(is_keyword) {
                return jerr(
                    "invalid term definition",
                    format!("keyword alias \"{term}\" cannot be a prefix"),
                );
            }
        }
        for k in map.keys() {
            if !matches!(
                k.as_str(),
                "@id"
                    | "@reverse"
                    | "@container"
                    | "@context"
                    | "@direction"
                    | "@index"
                    | "@language"
                    | "@nest"
                    | "@prefix"
                    | "@protected"
                    | "@type"
            ) {
                return jerr(
                    "invalid term definition",
                    format!("term \"{term}\" has unknown entry \"{k}\""),
                );
            }
        }
        def.iri_ok = def.iri.as_deref().is_some_and(is_well_formed_iri);
        let def = match previous {
            Some(prev) if prev.protected && !env.opts.override_protected => {
                if !def.same_as(&prev) {
                    return jerr(
                        "protected term redefinition",
                        format!(
                            "term \"{term}\" is protected by an earlier context and cannot be \
                             redefined; remove the conflicting definition or the conflicting context"
                        ),
                    );
                }
                prev
            }
            _ => Arc::new(def),
        };
        c.terms.insert(Arc::from(term), def);
        defined.insert(term, true);
        Ok(())
    }
}

/// The work of reading or copying a JSON value, in the units of [`CONTEXT_WORK_LIMIT`]: one
/// per value and member name, plus one per 32 bytes of text.
fn json_weight(v: &Value) -> usize {
    let text = |s: &str| 1 + s.len() / 32;
    let mut weight = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        weight += match v {
            Value::String(s) => text(s),
            Value::Array(a) => {
                stack.extend(a);
                1
            }
            Value::Object(m) => {
                stack.extend(m.values());
                1 + m.keys().map(|k| text(k)).sum::<usize>()
            }
            _ => 1,
        };
    }
    weight
}

struct TermEnv<'m> {
    local: &'m Map<String, Value>,
    base_url: Option<&'m Arc<str>>,
    protected: bool,
    opts: Opts,
    remote: &'m [Arc<str>],
}
