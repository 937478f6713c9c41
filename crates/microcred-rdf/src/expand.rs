//! The JSON-LD 1.1 Expansion algorithm, producing a compact internal expanded form.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Number, Value};

use crate::context::Ctx;
use crate::context::{container, CtxError, Opts, Processor, TermDef};
use crate::dataset::Str;
use crate::iri::{
    has_keyword_form, is_absolute_iri, is_blank, is_keyword, is_well_formed_iri,
    is_well_formed_language,
};
use crate::seeded::SeededMap;
use crate::Error;

/// Maximum JSON nesting depth accepted (objects and arrays both count).
pub(crate) const MAX_DEPTH: usize = 64;

/// A property (or reverse property) of a node: IRI, values, and whether the IRI is a
/// well-formed IRI that RDF can use as a predicate (not a blank node).
pub(crate) type Prop<'a> = (Str<'a>, Out<'a>, bool);

/// The literal part of a value object.
#[derive(Debug)]
pub(crate) enum Lit<'a> {
    Null,
    Str(Str<'a>),
    Bool(bool),
    Num(&'a Number),
    Json(&'a Value),
}

#[derive(Debug)]
pub(crate) struct Val<'a> {
    pub(crate) value: Lit<'a>,
    /// Datatype IRI or `@json`.
    pub(crate) dtype: Option<Str<'a>>,
    pub(crate) language: Option<Str<'a>>,
    pub(crate) direction: Option<Str<'a>>,
    pub(crate) index: Option<&'a str>,
}

#[derive(Debug, Default)]
pub(crate) struct Node<'a> {
    pub(crate) id: Option<Str<'a>>,
    pub(crate) types: Vec<Str<'a>>,
    pub(crate) props: Vec<Prop<'a>>,
    pub(crate) reverse: Vec<Prop<'a>>,
    pub(crate) graph: Option<Vec<Item<'a>>>,
    pub(crate) included: Vec<Item<'a>>,
    pub(crate) index: Option<&'a str>,
    /// Safe mode already checked that `id` and `types` are well-formed (or blank node ids).
    pub(crate) checked: bool,
}

impl Node<'_> {
    fn is_graph_object(&self) -> bool {
        self.graph.is_some()
            && self.types.is_empty()
            && self.props.is_empty()
            && self.reverse.is_empty()
            && self.included.is_empty()
    }
}

#[derive(Debug)]
pub(crate) enum Item<'a> {
    Node(Box<Node<'a>>),
    Value(Val<'a>),
    List(Vec<Self>),
}

/// Result of expanding one element: null, a single item, or an array.
#[derive(Debug)]
pub(crate) enum Out<'a> {
    Null,
    One(Item<'a>),
    Many(Vec<Item<'a>>),
}

impl<'a> Out<'a> {
    pub(crate) fn as_slice(&self) -> &[Item<'a>] {
        match self {
            Out::Null => &[],
            Out::One(i) => std::slice::from_ref(i),
            Out::Many(v) => v,
        }
    }

    fn map(self, f: impl Fn(Item<'a>) -> Item<'a>) -> Self {
        match self {
            Out::Null => Out::Null,
            Out::One(i) => Out::One(f(i)),
            Out::Many(v) => Out::Many(v.into_iter().map(f).collect()),
        }
    }

    fn push_front(&mut self, item: Item<'a>) {
        let old = std::mem::replace(self, Out::Null);
        *self = match old {
            Out::Null => Out::One(item),
            Out::One(i) => Out::Many(vec![item, i]),
            Out::Many(mut v) => {
                v.insert(0, item);
                Out::Many(v)
            }
        };
    }

    fn into_vec(self) -> Vec<Item<'a>> {
        match self {
            Out::Null => Vec::new(),
            Out::One(i) => vec![i],
            Out::Many(v) => v,
        }
    }
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

mod kw {
    pub(super) const ID: u32 = 1;
    pub(super) const VALUE: u32 = 2;
    pub(super) const LANGUAGE: u32 = 4;
    pub(super) const DIRECTION: u32 = 8;
    pub(super) const INDEX: u32 = 16;
    pub(super) const LIST: u32 = 32;
    pub(super) const SET: u32 = 64;
    pub(super) const REVERSE: u32 = 128;
    pub(super) const GRAPH: u32 = 256;
    pub(super) const TYPE: u32 = 512;
    pub(super) const INCLUDED: u32 = 1024;
}

/// The result map of expanding one JSON object, before it is classified.
#[derive(Default)]
struct Acc<'a> {
    seen: u32,
    null_id: bool,
    id: Option<Str<'a>>,
    types: Vec<Str<'a>>,
    value: Option<Lit<'a>>,
    language: Option<Str<'a>>,
    direction: Option<Str<'a>>,
    index: Option<&'a str>,
    list: Option<Vec<Item<'a>>>,
    set: Option<Out<'a>>,
    graph: Option<Vec<Item<'a>>>,
    included: Vec<Item<'a>>,
    reverse: Vec<Prop<'a>>,
    props: Vec<Prop<'a>>,
}

/// How the top-level object of a document is read (see [`crate::DocumentView`]): one member
/// left out, and the `@context` replaced.
#[derive(Clone, Copy, Default)]
pub(crate) struct RootView<'a> {
    pub(crate) without: Option<&'a str>,
    pub(crate) context: Option<&'a Value>,
}

pub(crate) struct Expander<'a, 'l> {
    proc: Processor<'l>,
    safe: bool,
    /// False when RDF conversion drops `@direction` (`rdfDirection` null).
    keep_direction: bool,
    path: Vec<Seg<'a>>,
    depth: usize,
    /// Processed inline (document) contexts, keyed by parent context id and value address;
    /// valid for this expansion only.
    local_cache: SeededMap<(u64, usize), Arc<Ctx>>,
    /// The view of the top-level object, taken by the first (outermost) object expanded.
    root: Option<RootView<'a>>,
}

type R<T> = Result<T, Error>;

fn lower<'a>(s: &'a str) -> Str<'a> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Str::from(s.to_ascii_lowercase())
    } else {
        Str::B(s)
    }
}

impl<'a, 'l> Expander<'a, 'l> {
    pub(crate) fn new(proc: Processor<'l>, safe: bool, keep_direction: bool) -> Self {
        Expander {
            proc,
            safe,
            keep_direction,
            path: Vec::with_capacity(16),
            depth: 0,
            local_cache: SeededMap::default(),
            root: None,
        }
    }

    #[cfg(test)]
    pub(crate) fn context_work(&self) -> u64 {
        self.proc.work()
    }

    fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        if s.is_empty() {
            s.push_str("(document)");
        }
        s
    }

    fn jerr<T>(&self, code: &'static str, detail: impl Into<String>) -> R<T> {
        Err(Error::JsonLd {
            code,
            path: self.path_string(),
            detail: detail.into(),
        })
    }

    fn ctx_err(&self, e: CtxError) -> Error {
        match e {
            CtxError::JsonLd { code, detail } => Error::JsonLd {
                code,
                path: self.path_string(),
                detail,
            },
            CtxError::TooComplex => Error::ContextTooComplex {
                path: self.path_string(),
                limit: crate::context::CONTEXT_WORK_LIMIT,
            },
            CtxError::Other(o) => o,
        }
    }

    fn undefined(&self, term: &str) -> Error {
        let hint = match self.proc.loader.suggest(term) {
            Some(url) => format!(" (the bundled context \"{url}\" defines it: add it to @context)"),
            None => String::new(),
        };
        Error::UndefinedTerm {
            path: self.path_string(),
            term: term.to_owned(),
            hint,
        }
    }

    fn dropped<T>(&self, what: String, fix: &'static str) -> R<T> {
        Err(Error::Dropped {
            path: self.path_string(),
            what,
            fix,
        })
    }

    /// Safe-mode check of an IRI that names a node (`@id`, `@type: @id` values).
    fn check_node_iri(&self, s: &str) -> R<()> {
        if !self.safe || is_blank(s) {
            return Ok(());
        }
        if !is_absolute_iri(s) {
            return Err(Error::RelativeIri {
                path: self.path_string(),
                value: s.to_owned(),
            });
        }
        if !is_well_formed_iri(s) {
            return self.dropped(
                format!("\"{s}\" is not a valid IRI (it contains spaces or characters IRIs cannot contain)"),
                "percent-encode or remove the offending characters",
            );
        }
        Ok(())
    }

    fn apply_scoped(&mut self, ctx: &Arc<Ctx>, def: &TermDef, opts: Opts) -> R<Arc<Ctx>> {
        match &def.context {
            Some(sc) => self
                .proc
                .apply_scoped(ctx, sc, opts)
                .map_err(|e| self.ctx_err(e)),
            None => Ok(ctx.clone()),
        }
    }

    /// Applies an embedded `@context` value of the document.
    fn apply_local(&mut self, ctx: &Arc<Ctx>, local: &'a Value) -> R<Arc<Ctx>> {
        self.path.push(Seg::Key("@context"));
        let items = match local {
            Value::Array(a) => a.as_slice(),
            other => std::slice::from_ref(other),
        };
        let mut cur = ctx.clone();
        for item in items {
            // `{"@context": ...}` as an array item: the context it wraps (see
            // `context::Processor::process_inner`).
            let item = match (local, item) {
                (Value::Array(_), Value::Object(m)) => m.get("@context").unwrap_or(item),
                _ => item,
            };
            let shared = match item {
                Value::Object(_) => self
                    .proc
                    .apply_inline(&cur, item)
                    .map_err(|e| self.ctx_err(e))?,
                _ => None,
            };
            let r = if let Some(c) = shared {
                Ok(c)
            } else if let Value::Object(_) = item {
                let key = (cur.id, item as *const Value as usize);
                if let Some(c) = self.local_cache.get(&key) {
                    Ok(c.clone())
                } else {
                    let r = self.proc.process(
                        &cur,
                        item,
                        cur.original_base.as_ref(),
                        Opts::DEFAULT,
                        &[],
                    );
                    if let Ok(c) = &r {
                        self.proc
                            .charge(c.terms.len())
                            .map_err(|e| self.ctx_err(e))?;
                        let mut c2 = (**c).clone();
                        c2.cacheable = false;
                        let c2 = Arc::new(c2);
                        self.local_cache.insert(key, c2.clone());
                        Ok(c2)
                    } else {
                        r
                    }
                }
            } else {
                self.proc
                    .process(&cur, item, cur.original_base.as_ref(), Opts::DEFAULT, &[])
            };
            cur = r.map_err(|e| self.ctx_err(e))?;
        }
        self.path.pop();
        Ok(cur)
    }

    fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep {
                path: self.path_string(),
                limit: MAX_DEPTH,
            });
        }
        self.depth += 1;
        Ok(())
    }

    /// Expands the whole document.
    pub(crate) fn expand_document(&mut self, ctx: &Arc<Ctx>, doc: &'a Value) -> R<Vec<Item<'a>>> {
        let out = self.expand(ctx, None, None, doc, false)?;
        Ok(Self::top_level(out))
    }

    /// Expands a document given as its top-level object read through `view`, as
    /// [`Self::expand_document`] expands the object the view describes.
    pub(crate) fn expand_document_view(
        &mut self,
        ctx: &Arc<Ctx>,
        m: &'a Map<String, Value>,
        view: RootView<'a>,
    ) -> R<Vec<Item<'a>>> {
        self.root = Some(view);
        self.enter()?;
        let out = self.expand_object(ctx, None, None, m, false);
        self.depth -= 1;
        self.root = None;
        Ok(Self::top_level(out?))
    }

    /// The expanded top level: a top-level map with only `@graph` is its graph.
    fn top_level(out: Out<'a>) -> Vec<Item<'a>> {
        let mut items = out.into_vec();
        // A top-level map with only @graph: its graph is the default graph.
        if items.len() == 1 {
            if let Some(Item::Node(n)) = items.first() {
                if n.is_graph_object() && n.id.is_none() && n.index.is_none() {
                    if let Some(Item::Node(n)) = items.pop() {
                        return n.graph.unwrap_or_default();
                    }
                }
            }
        }
        items
    }

    fn expand(
        &mut self,
        ctx: &Arc<Ctx>,
        prop: Option<&'a str>,
        pdef: Option<&Arc<TermDef>>,
        el: &'a Value,
        from_map: bool,
    ) -> R<Out<'a>> {
        match el {
            Value::Null => Ok(Out::Null),
            Value::Array(a) => {
                self.enter()?;
                let is_list = prop
                    .and_then(|p| ctx.term(p))
                    .is_some_and(|d| d.container & container::LIST != 0);
                let mut out = Vec::with_capacity(a.len());
                for (i, item) in a.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    let e = self.expand(ctx, prop, pdef, item, from_map)?;
                    self.path.pop();
                    match e {
                        Out::Many(v) if is_list => out.push(Item::List(v)),
                        Out::Many(v) => out.extend(v),
                        Out::One(x) => out.push(x),
                        Out::Null => {}
                    }
                }
                self.depth -= 1;
                Ok(Out::Many(out))
            }
            Value::Object(m) => {
                self.enter()?;
                let r = self.expand_object(ctx, prop, pdef, m, from_map);
                self.depth -= 1;
                r
            }
            scalar => {
                if matches!(prop, None | Some("@graph")) {
                    if self.safe {
                        return self.dropped(
                            format!("the value {scalar} is not the value of any property"),
                            "put it under a property defined by the @context",
                        );
                    }
                    return Ok(Out::Null);
                }
                match pdef {
                    Some(d) if d.context.is_some() => {
                        let ctx = self.apply_scoped(ctx, d, Opts::DEFAULT)?;
                        let def = prop.and_then(|p| ctx.term(p)).cloned();
                        Ok(Out::One(self.value_expand(&ctx, def.as_ref(), scalar)?))
                    }
                    _ => Ok(Out::One(self.value_expand(ctx, pdef, scalar)?)),
                }
            }
        }
    }

    /// Value Expansion.
    fn value_expand(&mut self, ctx: &Ctx, def: Option<&Arc<TermDef>>, v: &'a Value) -> R<Item<'a>> {
        let tm = def.and_then(|d| d.type_mapping.as_deref());
        if let Value::String(s) = v {
            match tm {
                Some("@id") => {
                    let id = ctx.expand_iri(s, true, false);
                    if let Some(i) = &id {
                        self.check_node_iri(i)?;
                    }
                    return Ok(Item::Node(Box::new(Node {
                        id,
                        checked: self.safe,
                        ..Node::default()
                    })));
                }
                Some("@vocab") => {
                    let id = ctx.expand_iri(s, true, true);
                    if let Some(i) = &id {
                        self.check_node_iri(i)?;
                    }
                    return Ok(Item::Node(Box::new(Node {
                        id,
                        checked: self.safe,
                        ..Node::default()
                    })));
                }
                _ => {}
            }
        }
        let value = match v {
            Value::String(s) => Lit::Str(Str::B(s)),
            Value::Bool(b) => Lit::Bool(*b),
            Value::Number(n) => Lit::Num(n),
            Value::Null => Lit::Null,
            other => Lit::Json(other),
        };
        let mut val = Val {
            value,
            dtype: None,
            language: None,
            direction: None,
            index: None,
        };
        match (tm, def) {
            (Some(t), Some(d)) if !matches!(t, "@id" | "@vocab" | "@none") => {
                val.dtype = d.type_mapping.as_ref().map(|a| Str::A(a.clone()));
            }
            _ => {
                if v.is_string() {
                    let lang = match def.and_then(|d| d.language.as_ref()) {
                        Some(l) => l.clone(),
                        None => ctx.language.clone(),
                    };
                    let dir = match def.and_then(|d| d.direction) {
                        Some(d) => d,
                        None => ctx.direction,
                    };
                    val.language = lang.map(Str::A);
                    val.direction = dir.map(|d| Str::B(d.as_str()));
                }
            }
        }
        if self.safe && !self.keep_direction && val.direction.is_some() {
            return self.dropped(
                "the base direction of this string would be dropped (rdfDirection is null)"
                    .to_owned(),
                "use RdfDirection::I18nDatatype or remove the @direction",
            );
        }
        if self.safe {
            if let Some(l) = &val.language {
                if !is_well_formed_language(l) {
                    return self.dropped(
                        format!("language tag \"{}\" is not well-formed", &**l),
                        "use a BCP 47 language tag such as en or en-CA",
                    );
                }
            }
        }
        Ok(Item::Value(val))
    }

    fn expand_object(
        &mut self,
        active: &Arc<Ctx>,
        prop: Option<&'a str>,
        prop_def: Option<&Arc<TermDef>>,
        m: &'a Map<String, Value>,
        from_map: bool,
    ) -> R<Out<'a>> {
        // The document's top-level object may be read through a view (outermost call only).
        let view = if self.depth == 1 {
            self.root.take().unwrap_or_default()
        } else {
            RootView::default()
        };
        let skip = view.without;
        let members = || m.iter().filter(move |(k, _)| Some(k.as_str()) != skip);
        // The active context is borrowed until a context replaces it: most objects have none
        // of their own, and each clone of an `Arc` is an atomic update.
        let mut ctx: Cow<'_, Arc<Ctx>> = Cow::Borrowed(active);
        // Revert a non-propagated (type-scoped) context on entering a new node object.
        if !from_map {
            if let Some(prev) = &active.previous {
                let has_value = members().any(|(k, _)| active.is_value_key(k));
                let single_id =
                    members().count() == 1 && members().all(|(k, _)| active.is_id_key(k));
                if !has_value && !single_id {
                    ctx = Cow::Borrowed(prev);
                }
            }
        }
        if let Some(d) = &prop_def {
            if d.context.is_some() {
                let o = Opts {
                    override_protected: true,
                    ..Opts::DEFAULT
                };
                ctx = Cow::Owned(self.apply_scoped(&ctx, d, o)?);
            }
        }
        let local = match view.context {
            Some(c) => Some(c),
            None if skip == Some("@context") => None,
            None => map_get(m, "@context"),
        };
        if let Some(c) = local {
            ctx = Cow::Owned(self.apply_local(&ctx, c)?);
        }
        // Type-scoped contexts: `type_scoped` keeps the context as it is now, `ctx` goes on.
        let type_scoped = ctx;
        let mut ctx: Cow<'_, Arc<Ctx>> = Cow::Borrowed(&*type_scoped);
        let mut type_entries: Vec<(&'a str, &'a Value)> = Vec::new();
        let mut single_type_entry: Option<(&'a str, &'a Value)> = None;
        for (k, v) in members() {
            if type_scoped.is_type_key(k) {
                match single_type_entry.take() {
                    None if type_entries.is_empty() => single_type_entry = Some((k, v)),
                    prev => {
                        type_entries.extend(prev);
                        type_entries.push((k, v));
                    }
                }
            }
        }
        type_entries.extend(single_type_entry);
        type_entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut input_type: Option<Str<'a>> = None;
        for (n, (_, v)) in type_entries.iter().enumerate() {
            let mut buf: [&'a str; 8] = [""; 8];
            let mut spill: Vec<&'a str>;
            let terms: &mut [&'a str] = match v {
                Value::String(s) => {
                    buf[0] = s.as_str();
                    &mut buf[..1]
                }
                Value::Array(a) if a.len() <= buf.len() => {
                    let mut len = 0;
                    for (slot, t) in buf.iter_mut().zip(a.iter().filter_map(Value::as_str)) {
                        *slot = t;
                        len += 1;
                    }
                    &mut buf[..len]
                }
                Value::Array(a) => {
                    spill = a.iter().filter_map(Value::as_str).collect();
                    &mut spill[..]
                }
                _ => &mut buf[..0],
            };
            if n == 0 {
                if let Some(last) = terms.last() {
                    input_type = type_scoped.expand_iri(last, true, true);
                }
            }
            terms.sort_unstable();
            for t in terms.iter() {
                if let Some(d) = type_scoped.term(t) {
                    if d.context.is_some() {
                        let o = Opts {
                            propagate: false,
                            ..Opts::DEFAULT
                        };
                        ctx = Cow::Owned(self.apply_scoped(&ctx, d, o)?);
                    }
                }
            }
        }
        let input_is_json = input_type.as_deref() == Some("@json");
        let mut acc = Acc {
            props: Vec::with_capacity(m.len()),
            ..Acc::default()
        };
        let mut nests: Vec<&'a str> = Vec::new();
        self.expand_entries(
            &ctx,
            &type_scoped,
            prop,
            m,
            skip,
            &mut acc,
            &mut nests,
            input_is_json,
        )?;
        // Nested properties.
        for nk in nests {
            if let Some(nv) = m.get(nk) {
                self.expand_nest_value(&ctx, &type_scoped, prop, nk, nv, &mut acc, input_is_json)?;
            }
        }
        self.finish(acc, prop)
    }

    #[allow(clippy::too_many_arguments)]
    fn expand_nest_value(
        &mut self,
        ctx: &Arc<Ctx>,
        type_scoped: &Arc<Ctx>,
        prop: Option<&'a str>,
        nk: &'a str,
        nv: &'a Value,
        acc: &mut Acc<'a>,
        input_is_json: bool,
    ) -> R<()> {
        self.path.push(Seg::Key(nk));
        let nested: &'a [Value] = match nv {
            Value::Array(a) => a.as_slice(),
            other => std::slice::from_ref(other),
        };
        let nctx = match ctx.term(nk).cloned() {
            Some(d) if d.context.is_some() => {
                let o = Opts {
                    override_protected: true,
                    ..Opts::DEFAULT
                };
                self.apply_scoped(ctx, &d, o)?
            }
            _ => ctx.clone(),
        };
        for (i, item) in nested.iter().enumerate() {
            self.path.push(Seg::Index(i));
            let Value::Object(nm) = item else {
                return self.jerr(
                    "invalid @nest value",
                    "the value of a nesting property must be an object",
                );
            };
            if nm
                .keys()
                .any(|k| nctx.expand_iri(k, false, true).as_deref() == Some("@value"))
            {
                return self.jerr(
                    "invalid @nest value",
                    "a nested object cannot contain @value",
                );
            }
            let mut inner = Vec::new();
            self.expand_entries(
                &nctx,
                type_scoped,
                prop,
                nm,
                None,
                acc,
                &mut inner,
                input_is_json,
            )?;
            for inn in inner {
                if let Some(v) = nm.get(inn) {
                    self.enter()?;
                    let r = self.expand_nest_value(
                        &nctx,
                        type_scoped,
                        prop,
                        inn,
                        v,
                        acc,
                        input_is_json,
                    );
                    self.depth -= 1;
                    r?;
                }
            }
            self.path.pop();
        }
        self.path.pop();
        Ok(())
    }

    /// Step 13 of the Expansion algorithm: every entry of `m` but `skip` into `acc`.
    #[allow(clippy::too_many_arguments)]
    fn expand_entries(
        &mut self,
        ctx: &Arc<Ctx>,
        type_scoped: &Arc<Ctx>,
        prop: Option<&'a str>,
        m: &'a Map<String, Value>,
        skip: Option<&str>,
        acc: &mut Acc<'a>,
        nests: &mut Vec<&'a str>,
        input_is_json: bool,
    ) -> R<()> {
        for (key, value) in m {
            let key = key.as_str();
            if key == "@context" || Some(key) == skip {
                continue;
            }
            self.path.push(Seg::Key(key));
            let (expanded, def) = if key.starts_with('@') && is_keyword(key) {
                (Some(Str::B(key)), None)
            } else if key.starts_with('@') && has_keyword_form(key) {
                (None, None)
            } else if let Some(d) = ctx.term(key) {
                (d.iri.clone().map(Str::A), Some(d))
            } else {
                (ctx.expand_iri(key, false, true), None)
            };
            let Some(ep) = expanded else {
                if self.safe {
                    return Err(self.undefined(key));
                }
                self.path.pop();
                continue;
            };
            // Term definitions only hold keywords and absolute IRIs or blank node identifiers.
            let is_kw = ep.starts_with('@') && is_keyword(&ep);
            if !is_kw && def.is_none() && !ep.contains(':') {
                if self.safe {
                    return Err(self.undefined(key));
                }
                self.path.pop();
                continue;
            }
            if is_kw {
                self.keyword_entry(
                    ctx,
                    type_scoped,
                    prop,
                    &ep,
                    value,
                    acc,
                    nests,
                    key,
                    input_is_json,
                )?;
                self.path.pop();
                continue;
            }
            // A property.
            let p_ok = match &def {
                Some(d) => d.iri_ok,
                None => is_well_formed_iri(&ep),
            };
            if self.safe {
                let ok = p_ok;
                if !ok {
                    if is_blank(&ep) {
                        return self.dropped(
                            format!("property \"{key}\" expands to the blank node {}, which RDF does not allow as a property", &*ep),
                            "map the term to an IRI in the @context",
                        );
                    }
                    return self.dropped(
                        format!(
                            "property \"{key}\" expands to \"{}\", which is not a valid IRI",
                            &*ep
                        ),
                        "map the term to a valid IRI in the @context",
                    );
                }
            }
            let cont = def.as_ref().map_or(0, |d| d.container);
            let items: Out<'a> = if def
                .as_ref()
                .is_some_and(|d| d.type_mapping.as_deref() == Some("@json"))
            {
                Out::One(Item::Value(Val {
                    value: Lit::Json(value),
                    dtype: Some(Str::B("@json")),
                    language: None,
                    direction: None,
                    index: None,
                }))
            } else if cont & container::LANGUAGE != 0 && value.is_object() {
                Out::Many(self.language_map(ctx, def.map(|d| &**d), value)?)
            } else if cont & (container::INDEX | container::TYPE | container::ID) != 0
                && value.is_object()
            {
                Out::Many(self.index_map(ctx, key, def.map(|d| &**d), cont, value)?)
            } else {
                match self.expand(ctx, Some(key), def, value, false)? {
                    Out::One(Item::List(l)) if cont & container::LIST != 0 => {
                        Out::One(Item::List(l))
                    }
                    Out::One(x) if cont & container::LIST != 0 => Out::One(Item::List(vec![x])),
                    Out::Many(v) if cont & container::LIST != 0 => Out::One(Item::List(v)),
                    Out::Null if cont & container::LIST != 0 => {
                        // `null` is no value at all, even for a list property.
                        self.path.pop();
                        continue;
                    }
                    Out::Null => {
                        self.path.pop();
                        continue;
                    }
                    o => o,
                }
            };
            let items =
                if cont & container::GRAPH != 0 && cont & (container::ID | container::INDEX) == 0 {
                    items.map(|ev| {
                        Item::Node(Box::new(Node {
                            graph: Some(vec![ev]),
                            ..Node::default()
                        }))
                    })
                } else {
                    items
                };
            if def.as_ref().is_some_and(|d| d.reverse) {
                for it in items.as_slice() {
                    if !matches!(it, Item::Node(_)) {
                        return self.jerr(
                            "invalid reverse property value",
                            format!(
                                "the value of reverse property \"{key}\" must be a node object"
                            ),
                        );
                    }
                }
                acc.reverse.push((ep, items, p_ok));
            } else {
                acc.props.push((ep, items, p_ok));
            }
            self.path.pop();
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn keyword_entry(
        &mut self,
        ctx: &Arc<Ctx>,
        type_scoped: &Arc<Ctx>,
        prop: Option<&'a str>,
        ep: &str,
        value: &'a Value,
        acc: &mut Acc<'a>,
        nests: &mut Vec<&'a str>,
        key: &'a str,
        input_is_json: bool,
    ) -> R<()> {
        if prop == Some("@reverse") {
            return self.jerr(
                "invalid reverse property map",
                format!("keyword {ep} inside @reverse"),
            );
        }
        let bit = match ep {
            "@id" => kw::ID,
            "@value" => kw::VALUE,
            "@language" => kw::LANGUAGE,
            "@direction" => kw::DIRECTION,
            "@index" => kw::INDEX,
            "@list" => kw::LIST,
            "@set" => kw::SET,
            "@reverse" => kw::REVERSE,
            "@graph" => kw::GRAPH,
            "@type" => kw::TYPE,
            "@included" => kw::INCLUDED,
            _ => 0,
        };
        if bit != 0 && bit != kw::TYPE && bit != kw::INCLUDED && acc.seen & bit != 0 {
            return self.jerr(
                "colliding keywords",
                format!("{ep} is given more than once (via \"{key}\")"),
            );
        }
        acc.seen |= bit;
        match ep {
            "@id" => {
                let Value::String(s) = value else {
                    return self.jerr("invalid @id value", format!("{value} is not a string"));
                };
                match ctx.expand_iri(s, true, false) {
                    Some(i) => {
                        self.check_node_iri(&i)?;
                        acc.id = Some(i);
                    }
                    // An @id with the form of a keyword is ignored, and so is its node.
                    None => acc.null_id = true,
                }
            }
            "@type" => {
                let vals: &'a [Value] = match value {
                    Value::String(_) => std::slice::from_ref(value),
                    Value::Array(a) if a.iter().all(Value::is_string) => a.as_slice(),
                    _ => {
                        return self.jerr(
                            "invalid type value",
                            format!("{value} is not a string or an array of strings"),
                        )
                    }
                };
                for v in vals {
                    let Some(s) = v.as_str() else { continue };
                    let Some(t) = type_scoped.expand_iri(s, true, true) else {
                        if self.safe {
                            return Err(self.undefined(s));
                        }
                        continue;
                    };
                    if self.safe && !is_blank(&t) && !is_well_formed_iri(&t) {
                        if !is_absolute_iri(&t) {
                            return Err(self.undefined(s));
                        }
                        return self.dropped(
                            format!(
                                "type \"{s}\" expands to \"{}\", which is not a valid IRI",
                                &*t
                            ),
                            "define the type in the @context or use a valid IRI",
                        );
                    }
                    acc.types.push(t);
                }
            }
            "@graph" => {
                let out = self.expand(ctx, Some("@graph"), None, value, false)?;
                let mut items = out.into_vec();
                items.retain(|i| matches!(i, Item::Node(_)));
                match &mut acc.graph {
                    Some(g) => g.extend(items),
                    None => acc.graph = Some(items),
                }
            }
            "@included" => {
                let out = self.expand(ctx, Some("@included"), None, value, false)?;
                for it in out.into_vec() {
                    if !matches!(it, Item::Node(_)) {
                        return self.jerr(
                            "invalid @included value",
                            "@included must hold node objects",
                        );
                    }
                    acc.included.push(it);
                }
            }
            "@value" => {
                acc.value = Some(if input_is_json {
                    Lit::Json(value)
                } else {
                    match value {
                        Value::Null => Lit::Null,
                        Value::String(s) => Lit::Str(Str::B(s)),
                        Value::Bool(b) => Lit::Bool(*b),
                        Value::Number(n) => Lit::Num(n),
                        _ => {
                            return self.jerr(
                                "invalid value object value",
                                format!("@value {value} is not a string, number, boolean or null"),
                            )
                        }
                    }
                });
            }
            "@language" => {
                let Value::String(s) = value else {
                    return self.jerr(
                        "invalid language-tagged string",
                        format!("@language {value} is not a string"),
                    );
                };
                acc.language = Some(lower(s));
            }
            "@direction" => match value.as_str() {
                Some(d @ ("ltr" | "rtl")) => acc.direction = Some(Str::B(d)),
                _ => {
                    return self.jerr(
                        "invalid base direction",
                        format!("@direction {value} is not \"ltr\" or \"rtl\""),
                    )
                }
            },
            "@index" => {
                let Value::String(s) = value else {
                    return self.jerr(
                        "invalid @index value",
                        format!("@index {value} is not a string"),
                    );
                };
                acc.index = Some(s);
            }
            "@list" => {
                if matches!(prop, None | Some("@graph")) {
                    if self.safe {
                        return self.dropped(
                            "a list that is not the value of any property".to_owned(),
                            "put the list under a property",
                        );
                    }
                    return Ok(());
                }
                let pdef = prop.and_then(|p| ctx.term(p)).cloned();
                let out = self.expand(ctx, prop, pdef.as_ref(), value, false)?;
                acc.list = Some(out.into_vec());
            }
            "@set" => {
                let pdef = prop.and_then(|p| ctx.term(p)).cloned();
                acc.set = Some(self.expand(ctx, prop, pdef.as_ref(), value, false)?);
            }
            "@reverse" => {
                let Value::Object(_) = value else {
                    return self.jerr("invalid @reverse value", "@reverse must be an object");
                };
                let out = self.expand(ctx, Some("@reverse"), None, value, false)?;
                if let Out::One(Item::Node(n)) = out {
                    let n = *n;
                    // Properties reversed twice are forward properties.
                    for prop in n.reverse {
                        acc.props.push(prop);
                    }
                    for (p, items, ok) in n.props {
                        for it in items.as_slice() {
                            if !matches!(it, Item::Node(_)) {
                                return self.jerr(
                                    "invalid reverse property value",
                                    "values of reverse properties must be node objects",
                                );
                            }
                        }
                        acc.reverse.push((p, items, ok));
                    }
                }
            }
            "@nest" => nests.push(key),
            _ => {
                // Framing keywords and keywords that have no meaning here are ignored.
                if self.safe {
                    return self.dropped(
                        format!(
                            "keyword {ep} has no meaning in a node object and would be ignored"
                        ),
                        "remove it",
                    );
                }
            }
        }
        Ok(())
    }

    fn language_map(
        &mut self,
        ctx: &Arc<Ctx>,
        def: Option<&TermDef>,
        value: &'a Value,
    ) -> R<Vec<Item<'a>>> {
        let mut out = Vec::new();
        let Value::Object(lm) = value else {
            return Ok(out);
        };
        let dir = match def.and_then(|d| d.direction) {
            Some(d) => d,
            None => ctx.direction,
        };
        for (lang, lv) in lm {
            self.path.push(Seg::Key(lang));
            let items: &'a [Value] = match lv {
                Value::Array(a) => a.as_slice(),
                other => std::slice::from_ref(other),
            };
            let is_none =
                lang == "@none" || ctx.expand_iri(lang, false, true).as_deref() == Some("@none");
            for item in items {
                match item {
                    Value::Null => continue,
                    Value::String(s) => {
                        if self.safe && !is_none && !is_well_formed_language(lang) {
                            return self.dropped(
                                format!("language tag \"{lang}\" is not well-formed"),
                                "use a BCP 47 language tag such as en or en-CA",
                            );
                        }
                        out.push(Item::Value(Val {
                            value: Lit::Str(Str::B(s)),
                            dtype: None,
                            language: if is_none { None } else { Some(lower(lang)) },
                            direction: dir.map(|d| Str::B(d.as_str())),
                            index: None,
                        }));
                    }
                    other => {
                        return self.jerr(
                            "invalid language map value",
                            format!("{other} is not a string"),
                        );
                    }
                }
            }
            self.path.pop();
        }
        Ok(out)
    }

    fn index_map(
        &mut self,
        ctx: &Arc<Ctx>,
        key: &'a str,
        def: Option<&TermDef>,
        cont: u8,
        value: &'a Value,
    ) -> R<Vec<Item<'a>>> {
        let mut out = Vec::new();
        let Value::Object(im) = value else {
            return Ok(out);
        };
        let index_key: Option<Arc<str>> = def.and_then(|d| d.index.clone());
        for (index, iv) in im {
            self.path.push(Seg::Key(index));
            let mut map_ctx = if cont & (container::ID | container::TYPE) != 0 {
                ctx.previous.clone().unwrap_or_else(|| ctx.clone())
            } else {
                ctx.clone()
            };
            if cont & container::TYPE != 0 {
                if let Some(d) = map_ctx.term(index).cloned() {
                    if d.context.is_some() {
                        map_ctx = self.apply_scoped(&map_ctx, &d, Opts::DEFAULT)?;
                    }
                }
            }
            let mdef = map_ctx.term(key).cloned();
            let expanded_index = ctx.expand_iri(index, false, true);
            let is_none = expanded_index.as_deref() == Some("@none");
            let items = match iv {
                Value::Array(_) => self
                    .expand(&map_ctx, Some(key), mdef.as_ref(), iv, true)?
                    .into_vec(),
                other => {
                    self.enter()?;
                    let r = self.expand(&map_ctx, Some(key), mdef.as_ref(), other, true);
                    self.depth -= 1;
                    r?.into_vec()
                }
            };
            for mut item in items {
                if cont & container::GRAPH != 0 {
                    let is_graph = matches!(&item, Item::Node(n) if n.is_graph_object());
                    if !is_graph {
                        item = Item::Node(Box::new(Node {
                            graph: Some(vec![item]),
                            ..Node::default()
                        }));
                    }
                }
                if cont & container::INDEX != 0
                    && index_key.as_deref().is_some_and(|k| k != "@index")
                    && !is_none
                {
                    let ik = index_key.as_deref().unwrap_or("@index");
                    let re = reexpand_index(ctx, ik, index);
                    let Some(eik) = ctx
                        .expand_iri(ik, false, true)
                        .map(|e| Str::from(e.to_string()))
                    else {
                        continue;
                    };
                    match &mut item {
                        Item::Node(n) => {
                            if let Some(pos) = n.props.iter().position(|(p, _, _)| *p == eik) {
                                if let Some((_, vals, _)) = n.props.get_mut(pos) {
                                    vals.push_front(re);
                                }
                            } else {
                                let ok = is_well_formed_iri(&eik);
                                n.props.push((eik, Out::One(re), ok));
                            }
                        }
                        _ => {
                            return self.jerr(
                                "invalid value object",
                                format!("values of the property-valued index \"{key}\" must be node objects"),
                            );
                        }
                    }
                } else if cont & container::INDEX != 0 && !is_none {
                    match &mut item {
                        Item::Node(n) if n.index.is_none() => n.index = Some(index),
                        Item::Value(v) if v.index.is_none() => v.index = Some(index),
                        _ => {}
                    }
                } else if cont & container::ID != 0 && !is_none {
                    if let Item::Node(n) = &mut item {
                        if n.id.is_none() {
                            let id = ctx.expand_iri(index, true, false);
                            if let Some(i) = &id {
                                self.check_node_iri(i)?;
                            }
                            n.id = id;
                        }
                    }
                } else if cont & container::TYPE != 0 && !is_none {
                    if let (Item::Node(n), Some(t)) = (&mut item, expanded_index.clone()) {
                        n.checked = false;
                        n.types.insert(0, t);
                    }
                }
                out.push(item);
            }
            self.path.pop();
        }
        Ok(out)
    }

    /// Steps 15-20: classify the result map.
    fn finish(&mut self, acc: Acc<'a>, prop: Option<&'a str>) -> R<Out<'a>> {
        let free_floating = matches!(prop, None | Some("@graph"));
        if let Some(value) = acc.value {
            let extra =
                acc.seen & !(kw::VALUE | kw::LANGUAGE | kw::DIRECTION | kw::INDEX | kw::TYPE) != 0
                    || !acc.props.is_empty()
                    || !acc.reverse.is_empty();
            if extra {
                return self.jerr(
                    "invalid value object",
                    "a value object may only have @value, @type, @language, @direction and @index",
                );
            }
            if acc.types.len() > 1 {
                return self.jerr(
                    "invalid typed value",
                    "a value object can have only one @type",
                );
            }
            if acc.seen & kw::TYPE != 0 && (acc.language.is_some() || acc.direction.is_some()) {
                return self.jerr(
                    "invalid value object",
                    "a value object cannot have both @type and @language or @direction",
                );
            }
            let dtype = acc.types.into_iter().next();
            let is_json = dtype.as_deref() == Some("@json");
            if !is_json {
                if matches!(value, Lit::Null) {
                    return Ok(Out::Null);
                }
                if acc.language.is_some() && !matches!(value, Lit::Str(_)) {
                    return self.jerr(
                        "invalid language-tagged value",
                        "only strings can have a @language",
                    );
                }
                if let Some(t) = &dtype {
                    if !is_well_formed_iri(t) || is_blank(t) {
                        return self.jerr(
                            "invalid typed value",
                            format!("@type \"{}\" of a value is not an IRI", &**t),
                        );
                    }
                }
                if self.safe {
                    if let Some(l) = &acc.language {
                        if !is_well_formed_language(l) {
                            return self.dropped(
                                format!("language tag \"{}\" is not well-formed", &**l),
                                "use a BCP 47 language tag such as en or en-CA",
                            );
                        }
                    }
                }
            }
            if self.safe && !self.keep_direction && acc.direction.is_some() {
                return self.dropped(
                    "the base direction of this string would be dropped (rdfDirection is null)"
                        .to_owned(),
                    "use RdfDirection::I18nDatatype or remove the @direction",
                );
            }
            if free_floating {
                if self.safe {
                    return self.dropped(
                        "a value that is not the value of any property".to_owned(),
                        "put it under a property",
                    );
                }
                return Ok(Out::Null);
            }
            return Ok(Out::One(Item::Value(Val {
                value,
                dtype,
                language: acc.language,
                direction: acc.direction,
                index: acc.index,
            })));
        }
        if acc.seen & (kw::SET | kw::LIST) != 0 {
            let others = acc.seen & !(kw::SET | kw::LIST | kw::INDEX) != 0
                || acc.seen & kw::SET != 0 && acc.seen & kw::LIST != 0
                || !acc.props.is_empty()
                || !acc.reverse.is_empty()
                || !acc.types.is_empty();
            if others {
                return self.jerr(
                    "invalid set or list object",
                    "@set and @list may only be combined with @index",
                );
            }
            if let Some(set) = acc.set {
                return Ok(set);
            }
            if let Some(list) = acc.list {
                if free_floating {
                    return Ok(Out::Null);
                }
                return Ok(Out::One(Item::List(list)));
            }
            return Ok(Out::Null);
        }
        if acc.seen == kw::LANGUAGE && acc.props.is_empty() && acc.reverse.is_empty() {
            return Ok(Out::Null);
        }
        if acc.null_id {
            if self.safe {
                return self.dropped(
                    "an @id with the form of a keyword is ignored, and its node with it".to_owned(),
                    "use an absolute IRI as @id",
                );
            }
            return Ok(Out::Null);
        }
        let node = Node {
            checked: self.safe,
            id: acc.id,
            types: acc.types,
            props: acc.props,
            reverse: acc.reverse,
            graph: acc.graph,
            included: acc.included,
            index: acc.index,
        };
        if free_floating {
            let only_id = acc.seen & !kw::ID == 0
                && node.types.is_empty()
                && node.props.is_empty()
                && node.reverse.is_empty();
            if only_id {
                return Ok(Out::Null);
            }
        }
        Ok(Out::One(Item::Node(Box::new(node))))
    }
}

/// Looks a key up by scanning: cheaper than hashing for the small objects of credentials.
fn map_get<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if m.len() > 16 {
        return m.get(key);
    }
    m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

/// Value Expansion of an index value (an `@index` mapping to a property).
fn reexpand_index<'a>(ctx: &Ctx, ik: &str, index: &'a str) -> Item<'a> {
    let def = ctx.term(ik);
    match def.and_then(|d| d.type_mapping.as_deref()) {
        Some("@id") => Item::Node(Box::new(Node {
            id: ctx.expand_iri(index, true, false),
            ..Node::default()
        })),
        Some("@vocab") => Item::Node(Box::new(Node {
            id: ctx.expand_iri(index, true, true),
            ..Node::default()
        })),
        Some(t) if t != "@none" => Item::Value(Val {
            value: Lit::Str(Str::B(index)),
            dtype: def.and_then(|d| d.type_mapping.clone()).map(Str::A),
            language: None,
            direction: None,
            index: None,
        }),
        _ => {
            let lang = match def.and_then(|d| d.language.as_ref()) {
                Some(l) => l.clone(),
                None => ctx.language.clone(),
            };
            let dir = match def.and_then(|d| d.direction) {
                Some(d) => d,
                None => ctx.direction,
            };
            Item::Value(Val {
                value: Lit::Str(Str::B(index)),
                dtype: None,
                language: lang.map(Str::A),
                direction: dir.map(|d| Str::B(d.as_str())),
                index: None,
            })
        }
    }
}
