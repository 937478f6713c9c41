//! RDF terms, quads and datasets, plus N-Quads reading and canonical writing.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use crate::seeded::SeededMap;
use crate::Error;

pub(crate) const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
pub(crate) const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
pub(crate) const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
pub(crate) const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
pub(crate) const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";
pub(crate) const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
pub(crate) const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
pub(crate) const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
pub(crate) const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
pub(crate) const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";

/// A string that is either borrowed from the input or shared from a context.
#[derive(Clone)]
pub(crate) enum Str<'a> {
    B(&'a str),
    A(Arc<str>),
}

impl Deref for Str<'_> {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        match self {
            Str::B(s) => s,
            Str::A(a) => a,
        }
    }
}

impl PartialEq for Str<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}
impl Eq for Str<'_> {}
impl PartialOrd for Str<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Str<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}
impl Hash for Str<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}
impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<String> for Str<'_> {
    fn from(s: String) -> Self {
        Str::A(Arc::from(s))
    }
}

/// An RDF term. Blank nodes are numbered per dataset.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Term<'a> {
    Iri(Str<'a>),
    Blank(u32),
    Literal(Box<Literal<'a>>),
}

/// A literal: lexical form, datatype IRI and, for `rdf:langString`, a language tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Literal<'a> {
    pub(crate) value: Str<'a>,
    pub(crate) datatype: Str<'a>,
    pub(crate) language: Option<Str<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Quad<'a> {
    pub(crate) subject: Term<'a>,
    pub(crate) predicate: Str<'a>,
    pub(crate) object: Term<'a>,
    pub(crate) graph: Option<Term<'a>>,
}

/// An RDF dataset: a set of quads (duplicates are removed on construction).
///
/// Strings are borrowed from the JSON document or N-Quads text it was made from where possible,
/// hence the lifetime.
#[derive(Clone, Debug, Default)]
pub struct Dataset<'a> {
    pub(crate) quads: Vec<Quad<'a>>,
    /// Label of each blank node (index = blank node number): the label from N-Quads input, or a
    /// generated `b<n>`.
    pub(crate) blank_labels: Vec<Option<Str<'a>>>,
}

impl<'a> Dataset<'a> {
    pub(crate) fn new(mut quads: Vec<Quad<'a>>, blank_labels: Vec<Option<Str<'a>>>) -> Self {
        dedup(&mut quads);
        Dataset {
            quads,
            blank_labels,
        }
    }

    /// Number of quads (after removing duplicates).
    pub fn len(&self) -> usize {
        self.quads.len()
    }

    /// True when the dataset has no quads.
    pub fn is_empty(&self) -> bool {
        self.quads.is_empty()
    }

    pub(crate) fn blank_count(&self) -> usize {
        self.blank_labels.len()
    }

    pub(crate) fn blank_label(&self, b: u32) -> String {
        match self.blank_labels.get(b as usize) {
            Some(Some(l)) => l.to_string(),
            _ => format!("b{b}"),
        }
    }

    /// Serializes the dataset as N-Quads with its own (not canonical) blank node labels, one
    /// line per quad, sorted. Useful for debugging and tests.
    pub fn to_nquads(&self) -> String {
        let mut lines: Vec<String> = self
            .quads
            .iter()
            .map(|q| {
                let mut s = String::new();
                write_quad(&mut s, q, &mut |b, out: &mut String| {
                    out.push_str(&self.blank_label(b));
                });
                s
            })
            .collect();
        lines.sort_unstable();
        lines.concat()
    }
}

/// A hash of a string that looks at its length and its first and last 8 bytes only: equal
/// strings hash equally, and IRIs sharing a long prefix still differ at their ends.
fn cheap_str_hash(s: &str, h: &mut u64) {
    let b = s.as_bytes();
    let (first, last) = match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(f), Some(l)) => (u64::from_le_bytes(*f), u64::from_le_bytes(*l)),
        _ => {
            let mut w = [0u8; 8];
            for (d, x) in w.iter_mut().zip(b) {
                *d = *x;
            }
            (u64::from_le_bytes(w), 0)
        }
    };
    for w in [b.len() as u64, first, last] {
        *h = (h.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn cheap_term_hash(t: &Term<'_>, h: &mut u64) {
    match t {
        Term::Iri(s) => cheap_str_hash(s, h),
        Term::Blank(b) => {
            *h = (h.rotate_left(5) ^ u64::from(*b) ^ 0xb1).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
        }
        Term::Literal(l) => {
            cheap_str_hash(&l.value, h);
            cheap_str_hash(&l.datatype, h);
            if let Some(lang) = &l.language {
                cheap_str_hash(lang, h);
            }
        }
    }
}

fn cheap_quad_hash(q: &Quad<'_>) -> u64 {
    let mut h = 0u64;
    cheap_term_hash(&q.subject, &mut h);
    cheap_str_hash(&q.predicate, &mut h);
    cheap_term_hash(&q.object, &mut h);
    if let Some(g) = &q.graph {
        cheap_term_hash(g, &mut h);
    }
    h
}

/// Removes duplicate quads (a dataset is a set), keeping first occurrences in order. Sorts
/// cheap hashes rather than quads, so only quads with equal hashes are compared.
fn dedup(quads: &mut Vec<Quad<'_>>) {
    if quads.len() < 2 {
        return;
    }
    let mut keyed: Vec<(u64, u32)> = quads
        .iter()
        .enumerate()
        .map(|(i, q)| (cheap_quad_hash(q), i as u32))
        .collect();
    keyed.sort_unstable();
    let mut drop = vec![false; quads.len()];
    let mut any = false;
    let mut group = 0;
    while group < keyed.len() {
        let h = keyed.get(group).map_or(0, |k| k.0);
        let end = keyed
            .get(group..)
            .and_then(|rest| rest.iter().position(|k| k.0 != h))
            .map_or(keyed.len(), |n| group + n);
        let members = keyed.get(group..end).unwrap_or(&[]);
        any |= if members.len() <= SMALL_GROUP {
            mark_small_group(quads, members, &mut drop)
        } else {
            mark_large_group(quads, members, &mut drop)
        };
        group = end;
    }
    if any {
        let mut it = drop.iter();
        quads.retain(|_| !it.next().copied().unwrap_or(false));
    }
}

/// Groups of quads with equal cheap hashes up to this size are compared pair by pair. Real
/// groups hold one quad, or a few duplicates; but the cheap hash only looks at the ends of
/// strings, so input can put any number of distinct quads in one group (literals that differ
/// only in the middle), and pairwise comparison would then take quadratic time.
const SMALL_GROUP: usize = 8;

/// Within a group (indexes ascending), drops every quad equal to an earlier kept one.
fn mark_small_group(quads: &[Quad<'_>], members: &[(u64, u32)], drop: &mut [bool]) -> bool {
    let mut any = false;
    for (i, &(_, qi)) in members.iter().enumerate() {
        let dup = members.get(..i).unwrap_or(&[]).iter().any(|&(_, qj)| {
            drop.get(qj as usize) == Some(&false)
                && quads.get(qi as usize) == quads.get(qj as usize)
        });
        if dup {
            if let Some(d) = drop.get_mut(qi as usize) {
                *d = true;
                any = true;
            }
        }
    }
    any
}

/// Like [`mark_small_group`] in O(n log n): sorts the group by quad, then by index, so each run
/// of equal quads starts with its first occurrence.
fn mark_large_group(quads: &[Quad<'_>], members: &[(u64, u32)], drop: &mut [bool]) -> bool {
    let mut order: Vec<u32> = members.iter().map(|&(_, qi)| qi).collect();
    order.sort_unstable_by(|&a, &b| {
        quads
            .get(a as usize)
            .cmp(&quads.get(b as usize))
            .then(a.cmp(&b))
    });
    let mut any = false;
    for pair in order.windows(2) {
        if let [kept, next] = *pair {
            if quads.get(kept as usize) == quads.get(next as usize) {
                if let Some(d) = drop.get_mut(next as usize) {
                    *d = true;
                    any = true;
                }
            }
        }
    }
    any
}

/// Writes a term in canonical N-Quads form; `blank` writes a blank node label (without `_:`).
pub(crate) fn write_term<F: FnMut(u32, &mut String)>(
    out: &mut String,
    t: &Term<'_>,
    blank: &mut F,
) {
    match t {
        Term::Iri(i) => {
            out.push('<');
            out.push_str(i);
            out.push('>');
        }
        Term::Blank(b) => {
            out.push_str("_:");
            blank(*b, out);
        }
        Term::Literal(l) => {
            out.push('"');
            escape_literal(out, &l.value);
            out.push('"');
            if let Some(lang) = &l.language {
                out.push('@');
                out.push_str(lang);
            } else if &*l.datatype != XSD_STRING {
                out.push_str("^^<");
                out.push_str(&l.datatype);
                out.push('>');
            }
        }
    }
}

/// Writes one quad in canonical N-Quads form, including the final newline.
pub(crate) fn write_quad<F: FnMut(u32, &mut String)>(
    out: &mut String,
    q: &Quad<'_>,
    blank: &mut F,
) {
    write_term(out, &q.subject, blank);
    out.push_str(" <");
    out.push_str(&q.predicate);
    out.push_str("> ");
    write_term(out, &q.object, blank);
    if let Some(g) = &q.graph {
        out.push(' ');
        write_term(out, g, blank);
    }
    out.push_str(" .\n");
}

/// RDFC-1.0 canonical N-Quads escaping of a string literal's lexical form: `\b \t \n \f \r
/// \" \\` for those characters, `\uXXXX` (upper-case hex) for the other control characters,
/// U+007F, U+FFFE and U+FFFF, and every other character as it is.
pub(crate) fn escape_literal(out: &mut String, s: &str) {
    // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8; 0xEF also starts other characters,
    // which only sends those strings down the slower path.
    // Branch-free so the compiler can vectorize the scan.
    let special = s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\') | (b == 0x7f) | (b == 0xef)
    });
    if !special {
        out.push_str(s);
        return;
    }
    // Copies the runs between characters to escape as they are. Every escaped character is
    // ASCII or starts with 0xEF, so runs start and end on character boundaries.
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (escape, len): (Option<u32>, usize) = match b {
            0..=0x1f | b'"' | b'\\' | 0x7f => (Some(u32::from(b)), 1),
            0xef => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(0xbf), Some(0xbe)) => (Some(0xfffe), 3),
                (Some(0xbf), Some(0xbf)) => (Some(0xffff), 3),
                _ => (None, 1),
            },
            _ => (None, 1),
        };
        if let Some(c) = escape {
            out.push_str(s.get(run..i).unwrap_or(""));
            push_escape(out, c);
            run = i + len;
        }
        i += len;
    }
    out.push_str(s.get(run..).unwrap_or(""));
}

/// The canonical N-Quads escape of the character `c` (one that needs escaping).
fn push_escape(out: &mut String, c: u32) {
    match c {
        0x08 => out.push_str("\\b"),
        0x09 => out.push_str("\\t"),
        0x0a => out.push_str("\\n"),
        0x0c => out.push_str("\\f"),
        0x0d => out.push_str("\\r"),
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        _ => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push_str("\\u");
            for shift in [12u32, 8, 4, 0] {
                let nibble = ((c >> shift) & 0xf) as usize;
                out.push(char::from(*HEX.get(nibble).unwrap_or(&b'0')));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// N-Quads parsing
// ---------------------------------------------------------------------------------------------

struct LineParser<'a, 'l> {
    line: &'a str,
    pos: usize,
    lineno: usize,
    labels: &'l mut SeededMap<&'a str, u32>,
    blank_labels: &'l mut Vec<Option<Str<'a>>>,
}

impl<'a> LineParser<'a, '_> {
    fn err(&self, reason: impl Into<String>) -> Error {
        Error::NQuadsSyntax {
            line: self.lineno,
            reason: reason.into(),
        }
    }

    fn rest(&self) -> &'a str {
        self.line.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches([' ', '\t']);
        self.pos += rest.len() - trimmed.len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn iri(&mut self) -> Result<Str<'a>, Error> {
        // Positioned after '<'.
        let rest = self.rest();
        let end = rest
            .find('>')
            .ok_or_else(|| self.err("IRI is missing its closing '>'"))?;
        let raw = rest.get(..end).unwrap_or("");
        self.pos += end + 1;
        let value: Str<'a> = if raw.contains('\\') {
            Str::from(self.unescape(raw, false)?)
        } else {
            Str::B(raw)
        };
        if value.chars().any(|c| {
            matches!(
                c,
                '\u{0}'..='\u{20}' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\'
            )
        }) {
            return Err(self.err(format!(
                "IRI <{}> contains a character IRIs cannot contain",
                &*value
            )));
        }
        if !crate::iri::is_absolute_iri(&value) {
            return Err(self.err(format!("IRI <{}> is not absolute", &*value)));
        }
        Ok(value)
    }

    fn unescape(&self, raw: &str, allow_echar: bool) -> Result<String, Error> {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = chars.next().ok_or_else(|| self.err("dangling backslash"))?;
            let n = match e {
                'u' => 4,
                'U' => 8,
                _ if allow_echar => {
                    out.push(match e {
                        't' => '\t',
                        'b' => '\u{8}',
                        'n' => '\n',
                        'r' => '\r',
                        'f' => '\u{c}',
                        '"' => '"',
                        '\'' => '\'',
                        '\\' => '\\',
                        _ => return Err(self.err(format!("unknown escape \\{e}"))),
                    });
                    continue;
                }
                _ => return Err(self.err(format!("unknown escape \\{e} in IRI"))),
            };
            let mut v: u32 = 0;
            for _ in 0..n {
                let d = chars
                    .next()
                    .and_then(|h| h.to_digit(16))
                    .ok_or_else(|| self.err("bad \\u escape"))?;
                v = v * 16 + d;
            }
            out.push(
                char::from_u32(v)
                    .ok_or_else(|| self.err(format!("\\u escape {v:X} is not a character")))?,
            );
        }
        Ok(out)
    }

    fn blank(&mut self) -> Result<Term<'a>, Error> {
        // Positioned after "_:".
        let rest = self.rest();
        let end = rest.find([' ', '\t', '<', '"', '#']).unwrap_or(rest.len());
        let mut label = rest.get(..end).unwrap_or("");
        // A trailing '.' belongs to the statement terminator, not the label.
        while let Some(l) = label.strip_suffix('.') {
            label = l;
        }
        if label.is_empty() {
            return Err(self.err("empty blank node label"));
        }
        self.pos += label.len();
        let next =
            u32::try_from(self.blank_labels.len()).map_err(|_| self.err("too many blank nodes"))?;
        let id = *self.labels.entry(label).or_insert_with(|| {
            self.blank_labels.push(Some(Str::B(label)));
            next
        });
        Ok(Term::Blank(id))
    }

    fn literal(&mut self) -> Result<Term<'a>, Error> {
        // Positioned after the opening quote.
        let rest = self.rest();
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = Some(i);
                break;
            }
        }
        let end = end.ok_or_else(|| self.err("literal is missing its closing quote"))?;
        let raw = rest.get(..end).unwrap_or("");
        self.pos += end + 1;
        let value: Str<'a> = if raw.contains('\\') {
            Str::from(self.unescape(raw, true)?)
        } else {
            Str::B(raw)
        };
        if let Some(r) = self.rest().strip_prefix('@') {
            let len = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(r.len());
            let lang = r.get(..len).unwrap_or("");
            if !crate::iri::is_well_formed_language(lang) {
                return Err(self.err(format!("bad language tag @{lang}")));
            }
            self.pos += 1 + len;
            return Ok(Term::Literal(Box::new(Literal {
                value,
                datatype: Str::B(RDF_LANG_STRING),
                language: Some(Str::B(lang)),
            })));
        }
        if self.rest().starts_with("^^<") {
            self.pos += 3;
            let dt = self.iri()?;
            return Ok(Term::Literal(Box::new(Literal {
                value,
                datatype: dt,
                language: None,
            })));
        }
        Ok(Term::Literal(Box::new(Literal {
            value,
            datatype: Str::B(XSD_STRING),
            language: None,
        })))
    }

    fn term(&mut self, what: &str) -> Result<Term<'a>, Error> {
        self.skip_ws();
        match self.peek() {
            Some('<') => {
                self.pos += 1;
                Ok(Term::Iri(self.iri()?))
            }
            Some('_') if self.rest().starts_with("_:") => {
                self.pos += 2;
                self.blank()
            }
            Some('"') => {
                self.pos += 1;
                self.literal()
            }
            _ => Err(self.err(format!("expected {what}"))),
        }
    }

    fn quad(&mut self) -> Result<Quad<'a>, Error> {
        let subject = self.term("a subject")?;
        if matches!(subject, Term::Literal(_)) {
            return Err(self.err("a literal cannot be a subject"));
        }
        let Term::Iri(predicate) = self.term("a predicate")? else {
            return Err(self.err("the predicate must be an IRI"));
        };
        let object = self.term("an object")?;
        self.skip_ws();
        let graph = if self.peek() == Some('.') {
            None
        } else {
            let g = self.term("a graph name or '.'")?;
            if matches!(g, Term::Literal(_)) {
                return Err(self.err("a literal cannot be a graph name"));
            }
            Some(g)
        };
        self.skip_ws();
        if self.peek() != Some('.') {
            return Err(self.err("expected '.' at the end of the statement"));
        }
        self.pos += 1;
        self.skip_ws();
        match self.peek() {
            None | Some('#') => {}
            Some(_) => return Err(self.err("unexpected text after '.'")),
        }
        Ok(Quad {
            subject,
            predicate,
            object,
            graph,
        })
    }
}

/// Parses N-Quads text into a dataset. Blank node labels are kept (see
/// [`crate::canonicalize_with_map`]); duplicate quads are removed.
pub fn parse_nquads(text: &str) -> Result<Dataset<'_>, Error> {
    let mut labels = SeededMap::default();
    let mut blank_labels = Vec::new();
    let mut quads = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut p = LineParser {
            line,
            pos: 0,
            lineno: i + 1,
            labels: &mut labels,
            blank_labels: &mut blank_labels,
        };
        quads.push(p.quad()?);
    }
    Ok(Dataset::new(quads, blank_labels))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Escaping character by character, as RDFC-1.0 states it.
    fn escape_reference(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '\u{8}' => out.push_str("\\b"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\u{c}' => out.push_str("\\f"),
                '\r' => out.push_str("\\r"),
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{fffe}' | '\u{ffff}' => {
                    out.push_str(&format!("\\u{:04X}", c as u32))
                }
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn literals_escape_as_rdfc_states() {
        let cases = [
            "",
            "plain text",
            "line\nbreak \"quoted\" back\\slash\ttab\r\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f} \u{80}",
            "\u{fffe}\u{ffff}\u{fffd}\u{feff}\u{ef}\u{f000}\u{ffef}",
            "caf\u{e9} \u{1f600} \u{fffe}x\u{ffff}",
            "\u{ffff}",
            "x\u{feff}",
        ];
        for s in cases {
            let mut out = String::from("<");
            escape_literal(&mut out, s);
            assert_eq!(out, format!("<{}", escape_reference(s)), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn literals_escape_as_rdfc_states_for_any_string(
            s in "(\\PC|[\\x00-\\x1f\\x7f\"\\\\\u{fffe}\u{ffff}\u{fffd}\u{feff}])*"
        ) {
            let mut out = String::new();
            escape_literal(&mut out, &s);
            proptest::prop_assert_eq!(out, escape_reference(&s));
        }
    }

    #[test]
    fn dedup_keeps_first_occurrences_in_groups_of_any_size() {
        // Literals of one length with the same first and last 8 bytes share a cheap hash.
        for distinct in [3, SMALL_GROUP + 1, 500] {
            let mut text = String::new();
            for round in 0..3 {
                for i in 0..distinct {
                    text.push_str(&format!("<urn:s> <urn:p> \"aaaaaaaa{i:05}zzzzzzzz\" .\n"));
                }
                text.push_str(&format!("<urn:s> <urn:q> \"{round}\" .\n"));
            }
            let ds = parse_nquads(&text).unwrap();
            assert_eq!(ds.len(), distinct + 3, "{distinct}");
            let values: Vec<&str> = ds
                .quads
                .iter()
                .map(|q| match &q.object {
                    Term::Literal(l) => &*l.value,
                    _ => "",
                })
                .collect();
            // Input order, the repeated rounds' copies removed.
            let mut expected: Vec<String> = (0..distinct)
                .map(|i| format!("aaaaaaaa{i:05}zzzzzzzz"))
                .collect();
            expected.extend(["0", "1", "2"].map(String::from));
            assert_eq!(
                values,
                expected.iter().map(String::as_str).collect::<Vec<_>>()
            );
        }
    }
}
