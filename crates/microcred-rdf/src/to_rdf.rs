//! Deserialize JSON-LD to RDF: turns the expanded form into quads directly. Because a dataset
//! is a set, emitting while walking the tree gives the same dataset as building the node map
//! first (nodes with the same `@id` merge by set union).

use crate::dataset::{
    Dataset, Literal, Quad, Str, Term, RDF_FIRST, RDF_JSON, RDF_LANG_STRING, RDF_NIL, RDF_REST,
    RDF_TYPE, XSD_BOOLEAN, XSD_DOUBLE, XSD_INTEGER, XSD_STRING,
};
use crate::expand::{Item, Lit, Node, Val, MAX_DEPTH};
use crate::iri::{is_blank, is_well_formed_language};
use crate::lexical;
use crate::seeded::SeededMap;
use crate::RdfDirection;

const I18N: &str = "https://www.w3.org/ns/i18n#";
const RDF_VALUE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value";
const RDF_LANGUAGE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#language";
const RDF_DIRECTION: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#direction";

/// Which graph quads go to.
#[derive(Clone)]
enum G<'a> {
    Default,
    Named(Term<'a>),
    /// The graph name is not well-formed: its triples are dropped.
    Skip,
}

use crate::iri::is_well_formed_iri as iri_ok;

pub(crate) struct Emitter<'a> {
    rdf_direction: RdfDirection,
    quads: Vec<Quad<'a>>,
    labels: SeededMap<Str<'a>, u32>,
    blank_labels: Vec<Option<Str<'a>>>,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(rdf_direction: RdfDirection) -> Self {
        Emitter {
            rdf_direction,
            quads: Vec::with_capacity(64),
            labels: SeededMap::default(),
            blank_labels: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> Dataset<'a> {
        Dataset::new(self.quads, self.blank_labels)
    }

    fn fresh(&mut self) -> Term<'a> {
        let n = self.blank_labels.len() as u32;
        self.blank_labels.push(None);
        Term::Blank(n)
    }

    fn labelled(&mut self, label: &Str<'a>) -> Term<'a> {
        if let Some(n) = self.labels.get(label) {
            return Term::Blank(*n);
        }
        let n = self.blank_labels.len() as u32;
        let short = match label {
            Str::B(s) => Str::B(s.get(2..).unwrap_or("")),
            Str::A(a) => Str::from(a.get(2..).unwrap_or("").to_owned()),
        };
        self.blank_labels.push(Some(short));
        self.labels.insert(label.clone(), n);
        Term::Blank(n)
    }

    /// A node's subject term, or `None` when its `@id` is not a well-formed IRI.
    fn node_term(&mut self, id: &Option<Str<'a>>, checked: bool) -> Option<Term<'a>> {
        match id {
            None => Some(self.fresh()),
            Some(s) if is_blank(s) => Some(self.labelled(s)),
            Some(s) if checked || iri_ok(s) => Some(Term::Iri(s.clone())),
            Some(_) => None,
        }
    }

    fn push(&mut self, s: Term<'a>, p: Str<'a>, o: Term<'a>, g: &G<'a>) {
        let graph = match g {
            G::Default => None,
            G::Named(t) => Some(t.clone()),
            G::Skip => return,
        };
        self.quads.push(Quad {
            subject: s,
            predicate: p,
            object: o,
            graph,
        });
    }

    pub(crate) fn emit_top(&mut self, items: &[Item<'a>]) {
        for it in items {
            if let Item::Node(n) = it {
                self.node(n, &G::Default, 0);
            }
        }
    }

    fn node(&mut self, node: &Node<'a>, g: &G<'a>, depth: usize) -> Option<Term<'a>> {
        if depth > MAX_DEPTH * 2 {
            return None;
        }
        let subject = self.node_term(&node.id, node.checked);
        if let Some(s) = &subject {
            for t in &node.types {
                let o = if is_blank(t) {
                    Some(self.labelled(t))
                } else if node.checked || iri_ok(t) {
                    Some(Term::Iri(t.clone()))
                } else {
                    None
                };
                if let Some(o) = o {
                    self.push(s.clone(), Str::B(RDF_TYPE), o, g);
                }
            }
        }
        for (p, vals, p_ok) in &node.props {
            let p_ok = *p_ok;
            for v in vals.as_slice() {
                let o = self.object(v, g, depth + 1);
                if let (Some(s), Some(o), true) = (&subject, o, p_ok) {
                    self.push(s.clone(), p.clone(), o, g);
                }
            }
        }
        for (p, vals, p_ok) in &node.reverse {
            let p_ok = *p_ok;
            for v in vals.as_slice() {
                if let Item::Node(n) = v {
                    let o = self.node(n, g, depth + 1);
                    if let (Some(s), Some(o), true) = (&subject, o, p_ok) {
                        self.push(o, p.clone(), s.clone(), g);
                    }
                }
            }
        }
        if let Some(items) = &node.graph {
            let inner = match &subject {
                Some(t) => G::Named(t.clone()),
                None => G::Skip,
            };
            for it in items {
                if let Item::Node(n) = it {
                    self.node(n, &inner, depth + 1);
                }
            }
        }
        for it in &node.included {
            if let Item::Node(n) = it {
                self.node(n, g, depth + 1);
            }
        }
        subject
    }

    fn object(&mut self, item: &Item<'a>, g: &G<'a>, depth: usize) -> Option<Term<'a>> {
        match item {
            Item::Node(n) => self.node(n, g, depth),
            Item::Value(v) => match (&v.direction, &v.value, self.rdf_direction) {
                (Some(dir), Lit::Str(s), RdfDirection::I18nDatatype) if v.dtype.is_none() => {
                    let lang = v.language.as_deref().unwrap_or("").to_ascii_lowercase();
                    if !lang.is_empty() && !is_well_formed_language(&lang) {
                        return None;
                    }
                    Some(Term::Literal(Box::new(Literal {
                        value: s.clone(),
                        datatype: Str::from(format!("{I18N}{lang}_{}", &**dir)),
                        language: None,
                    })))
                }
                (Some(dir), Lit::Str(s), RdfDirection::CompoundLiteral) if v.dtype.is_none() => {
                    if let Some(l) = &v.language {
                        if !is_well_formed_language(l) {
                            return None;
                        }
                    }
                    let node = self.fresh();
                    let plain = |x: Str<'a>| {
                        Term::Literal(Box::new(Literal {
                            value: x,
                            datatype: Str::B(XSD_STRING),
                            language: None,
                        }))
                    };
                    self.push(node.clone(), Str::B(RDF_VALUE), plain(s.clone()), g);
                    if let Some(l) = &v.language {
                        let lower = Str::from(l.to_ascii_lowercase());
                        self.push(node.clone(), Str::B(RDF_LANGUAGE), plain(lower), g);
                    }
                    self.push(node.clone(), Str::B(RDF_DIRECTION), plain(dir.clone()), g);
                    Some(node)
                }
                _ => literal(v),
            },
            Item::List(items) => self.list(items, g, depth),
        }
    }

    fn list(&mut self, items: &[Item<'a>], g: &G<'a>, depth: usize) -> Option<Term<'a>> {
        if items.is_empty() {
            return Some(Term::Iri(Str::B(RDF_NIL)));
        }
        let heads: Vec<Term<'a>> = items.iter().map(|_| self.fresh()).collect();
        for (i, (item, b)) in items.iter().zip(&heads).enumerate() {
            if let Some(o) = self.object(item, g, depth + 1) {
                self.push(b.clone(), Str::B(RDF_FIRST), o, g);
            }
            let rest = heads
                .get(i + 1)
                .cloned()
                .unwrap_or(Term::Iri(Str::B(RDF_NIL)));
            self.push(b.clone(), Str::B(RDF_REST), rest, g);
        }
        heads.into_iter().next()
    }
}

/// Object to RDF Conversion for a value object.
fn literal<'a>(v: &Val<'a>) -> Option<Term<'a>> {
    let dt = v.dtype.as_ref();
    let is_json = dt.is_some_and(|d| &**d == "@json");
    if let Some(d) = dt {
        if !is_json && !iri_ok(d) {
            return None;
        }
    }
    if let Some(l) = &v.language {
        if !is_well_formed_language(l) {
            return None;
        }
    }
    if is_json {
        let mut s = String::new();
        let ok = match &v.value {
            Lit::Json(j) => lexical::jcs(&mut s, j, MAX_DEPTH),
            Lit::Null => lexical::jcs(&mut s, &serde_json::Value::Null, 0),
            Lit::Str(x) => lexical::jcs(&mut s, &serde_json::Value::String(x.to_string()), 0),
            Lit::Bool(b) => lexical::jcs(&mut s, &serde_json::Value::Bool(*b), 0),
            Lit::Num(n) => lexical::jcs(&mut s, &serde_json::Value::Number((*n).clone()), 0),
        };
        if !ok {
            return None;
        }
        return Some(Term::Literal(Box::new(Literal {
            value: Str::from(s),
            datatype: Str::B(RDF_JSON),
            language: None,
        })));
    }
    let (value, default_dt): (Str<'a>, &'static str) = match &v.value {
        Lit::Null | Lit::Json(_) => return None,
        Lit::Bool(b) => (Str::B(if *b { "true" } else { "false" }), XSD_BOOLEAN),
        Lit::Num(n) => {
            let force_double = dt.is_some_and(|d| &**d == XSD_DOUBLE);
            let (lex, is_double) = lexical::number(n, force_double);
            (
                Str::from(lex),
                if is_double { XSD_DOUBLE } else { XSD_INTEGER },
            )
        }
        Lit::Str(s) => {
            if let (Some(l), None) = (&v.language, dt) {
                return Some(Term::Literal(Box::new(Literal {
                    value: s.clone(),
                    datatype: Str::B(RDF_LANG_STRING),
                    language: Some(l.clone()),
                })));
            }
            (s.clone(), XSD_STRING)
        }
    };
    Some(Term::Literal(Box::new(Literal {
        value,
        datatype: dt.cloned().unwrap_or(Str::B(default_dt)),
        language: None,
    })))
}
