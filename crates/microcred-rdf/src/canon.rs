//! RDF Dataset Canonicalization RDFC-1.0 with SHA-256.

use std::collections::BTreeMap;

use sha2::digest::Output;
use sha2::{Digest, Sha256, Sha384};

use crate::dataset::{write_quad, Dataset, Term};
use crate::seeded::SeededMap;
use crate::Error;

// Caps on N-degree hashing (RDFC-1.0 §4.8-4.9), the one part of RDFC-1.0 that can grow
// faster than its input: blank nodes that share a first-degree hash ("look alike") need it,
// and for each of them it may recurse into the neighbours that look alike too and try every
// order of them. Credentials give their blank nodes different contents (an achievement, a
// result, an alignment...), so they need no N-degree hashing at all, or for a handful of
// nodes. The W3C RDFC-1.0 test suite needs at most 18 such nodes, 468 calls, recursion depth
// 7 and 26,028 work units; each cap is over ten times that (checked by the test
// `caps_leave_room_for_the_w3c_suite`), and any of them is reached within about a tenth of a
// second (see `tests/hostile.rs`). Above a cap the input is refused as too complex, which a
// verifier reports as "could not check", never as "invalid". The idea is rdf-canonize's
// `maxDeepIterations`, with numbers sized for credentials.

/// Most blank nodes that need N-degree hashing (those with a shared first-degree hash),
/// checked before any N-degree hashing: a flood of look-alike nodes (a 1 MiB credential holds
/// 55,000) is refused after first-degree hashing, in linear time. 1,000 is far more than a
/// credential has (a list of 300 results that only differ in nested blank nodes would pass).
pub(crate) const MAX_SHARED_NODES: u64 = 1_000;
/// Most N-degree hashing calls, top-level and recursive together: each node above needs one,
/// which leaves room for twenty recursive calls per node. Two look-alike nodes with ten
/// look-alike neighbours each need more.
pub(crate) const MAX_NDEGREE_CALLS: u64 = 20_000;
/// Deepest nesting of N-degree hashing calls: each level is a stack frame, and verification
/// may run on threads with small (2 MiB) stacks. A chain or ring of look-alike nodes recurses
/// along its length, so one of more than about 130 nodes stops here.
pub(crate) const MAX_NDEGREE_DEPTH: u64 = 128;
/// Work limit for N-degree hashing, in units of quads examined, blank nodes placed on paths
/// and identifiers copied with issuers (each permutation tried starts from a copy). A unit
/// costs from a few nanoseconds to one SHA-256 of a short line, so the limit is reached in
/// tens of milliseconds, a few hundred at most. A clique of 7 look-alike nodes (7! orders at
/// each level) or a ring of 100 stops here.
pub(crate) const WORK_LIMIT: u64 = 1_000_000;

fn too_complex(what: &'static str, limit: u64) -> Error {
    Error::TooComplex { what, limit }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, h: &[u8]) {
    for b in h {
        out.push(char::from(*HEX.get(usize::from(b >> 4)).unwrap_or(&b'0')));
        out.push(char::from(*HEX.get(usize::from(b & 0xf)).unwrap_or(&b'0')));
    }
}

fn push_u32(out: &mut String, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for b in buf.get(i..).unwrap_or(&[]) {
        out.push(char::from(*b));
    }
}

/// The canonical identifier issuer: one slot per blank node of the dataset. There is one per
/// run, so its size is that of the dataset.
struct CanonicalIssuer {
    ids: Vec<Option<u32>>,
    next: u32,
}

impl CanonicalIssuer {
    fn new(n: usize) -> Self {
        Self {
            ids: vec![None; n],
            next: 0,
        }
    }
    fn get(&self, b: u32) -> Option<u32> {
        self.ids.get(b as usize).copied().flatten()
    }
    fn issue(&mut self, b: u32) {
        if let Some(slot @ None) = self.ids.get_mut(b as usize) {
            *slot = Some(self.next);
            self.next += 1;
        }
    }
}

/// A temporary identifier issuer of N-degree hashing (`_:b0`, `_:b1`, ...). There is one per
/// look-alike node and one copy per permutation tried, so it must cost what it holds, not the
/// size of the dataset: a dense table per issuer made a 1 MiB credential with 55,000
/// look-alike nodes take 11 s and 3.8 GB.
#[derive(Clone, Default)]
struct TempIssuer {
    /// Blank nodes in issue order: `order[i]` has identifier `i`.
    order: Vec<u32>,
    /// Blank node → identifier, built once `order` is too long to scan.
    index: Option<SeededMap<u32, u32>>,
}

/// Issuers up to this size are searched by a scan (they usually hold a few nodes).
const SCAN_MAX: usize = 16;

impl TempIssuer {
    fn len(&self) -> usize {
        self.order.len()
    }
    fn get(&self, b: u32) -> Option<u32> {
        match &self.index {
            Some(index) => index.get(&b).copied(),
            None => self.order.iter().position(|&x| x == b).map(|i| i as u32),
        }
    }
    fn issue(&mut self, b: u32) -> u32 {
        if let Some(id) = self.get(b) {
            return id;
        }
        let id = self.order.len() as u32;
        self.order.push(b);
        match &mut self.index {
            Some(index) => {
                index.insert(b, id);
            }
            None if self.order.len() > SCAN_MAX => {
                self.index = Some(
                    self.order
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| (x, i as u32))
                        .collect(),
                );
            }
            None => {}
        }
        id
    }
}

/// Every quad serialized once in canonical N-Quads form, with holes for blank node labels.
struct Templates {
    text: String,
    parts: Vec<Part>,
    /// Per quad: range in `parts`.
    quads: Vec<(u32, u32)>,
}

#[derive(Clone, Copy)]
enum Part {
    Text(u32, u32),
    Blank(u32),
}

impl Templates {
    fn new(ds: &Dataset<'_>) -> Self {
        let mut t = Self {
            text: String::with_capacity(ds.quads.len() * 140),
            parts: Vec::with_capacity(ds.quads.len() * 2),
            quads: Vec::with_capacity(ds.quads.len()),
        };
        for q in &ds.quads {
            let first = t.parts.len() as u32;
            let mut start = t.text.len();
            // A quad has at most three blank node positions (subject, object, graph).
            let mut holes = [(0usize, 0u32); 3];
            let mut n = 0;
            write_quad(&mut t.text, q, &mut |b, out: &mut String| {
                if let Some(h) = holes.get_mut(n) {
                    *h = (out.len(), b);
                    n += 1;
                }
            });
            for &(at, b) in holes.get(..n).unwrap_or(&[]) {
                t.parts.push(Part::Text(start as u32, at as u32));
                t.parts.push(Part::Blank(b));
                start = at;
            }
            t.parts.push(Part::Text(start as u32, t.text.len() as u32));
            t.quads.push((first, t.parts.len() as u32));
        }
        t
    }

    /// Appends quad `qi` with blank node labels written by `label`.
    fn write<F: FnMut(u32, &mut String)>(&self, out: &mut String, qi: u32, label: &mut F) {
        let Some(&(a, b)) = self.quads.get(qi as usize) else {
            return;
        };
        for p in self.parts.get(a as usize..b as usize).unwrap_or(&[]) {
            match *p {
                Part::Text(s, e) => {
                    out.push_str(self.text.get(s as usize..e as usize).unwrap_or(""))
                }
                Part::Blank(n) => label(n, out),
            }
        }
    }
}

struct State<'d, 'a, D: Digest> {
    ds: &'d Dataset<'a>,
    tpl: Templates,
    /// Quad indexes mentioning each blank node.
    quads_of: Vec<Vec<u32>>,
    first_degree: Vec<Output<D>>,
    canonical: CanonicalIssuer,
    /// Spent so far, against the caps above.
    work: u64,
    calls: u64,
    depth: u64,
    max_depth: u64,
    buf: String,
    lines: Vec<(usize, usize)>,
}

impl<D: Digest> State<'_, '_, D> {
    fn first_degree_hash(&mut self, b: u32) -> Output<D> {
        self.buf.clear();
        self.lines.clear();
        let Some(qs) = self.quads_of.get(b as usize) else {
            return D::digest(b"");
        };
        for &qi in qs {
            let start = self.buf.len();
            self.tpl
                .write(&mut self.buf, qi, &mut |x, out: &mut String| {
                    out.push(if x == b { 'a' } else { 'z' });
                });
            self.lines.push((start, self.buf.len()));
        }
        let buf = &self.buf;
        self.lines
            .sort_unstable_by(|x, y| buf.get(x.0..x.1).cmp(&buf.get(y.0..y.1)));
        let mut h = D::new();
        for &(s, e) in &self.lines {
            h.update(buf.get(s..e).unwrap_or("").as_bytes());
        }
        h.finalize()
    }

    fn hash_related(
        &self,
        related: u32,
        qi: u32,
        issuer: &TempIssuer,
        position: char,
    ) -> Output<D> {
        let mut input = String::with_capacity(128);
        input.push(position);
        if position != 'g' {
            if let Some(q) = self.ds.quads.get(qi as usize) {
                input.push('<');
                input.push_str(&q.predicate);
                input.push('>');
            }
        }
        if let Some(id) = self.canonical.get(related) {
            input.push_str("_:c14n");
            push_u32(&mut input, id);
        } else if let Some(id) = issuer.get(related) {
            input.push_str("_:b");
            push_u32(&mut input, id);
        } else if let Some(h) = self.first_degree.get(related as usize) {
            push_hex(&mut input, h);
        }
        D::digest(input.as_bytes())
    }

    fn tick(&mut self, units: usize) -> Result<(), Error> {
        self.work += units as u64 + 1;
        if self.work > WORK_LIMIT {
            return Err(too_complex("steps of N-degree hashing work", WORK_LIMIT));
        }
        Ok(())
    }

    /// Hash N-Degree Quads (RDFC-1.0 §4.9), counted against the caps on calls and depth.
    fn hash_n_degree(
        &mut self,
        id: u32,
        issuer: TempIssuer,
    ) -> Result<(Output<D>, TempIssuer), Error> {
        self.calls += 1;
        if self.calls > MAX_NDEGREE_CALLS {
            return Err(too_complex("N-degree hashing calls", MAX_NDEGREE_CALLS));
        }
        if self.depth >= MAX_NDEGREE_DEPTH {
            return Err(too_complex(
                "nested N-degree hashing calls",
                MAX_NDEGREE_DEPTH,
            ));
        }
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let r = self.hash_n_degree_inner(id, issuer);
        self.depth -= 1;
        r
    }

    fn hash_n_degree_inner(
        &mut self,
        id: u32,
        mut issuer: TempIssuer,
    ) -> Result<(Output<D>, TempIssuer), Error> {
        let qs_len = self.quads_of.get(id as usize).map_or(0, Vec::len);
        self.tick(qs_len)?;
        let mut hn: BTreeMap<Output<D>, Vec<u32>> = BTreeMap::new();
        let qs = self.quads_of.get(id as usize).cloned().unwrap_or_default();
        for qi in qs {
            let Some(q) = self.ds.quads.get(qi as usize) else {
                continue;
            };
            let comps = [(&q.subject, 's'), (&q.object, 'o')];
            let g = q.graph.as_ref().map(|g| (g, 'g'));
            for (t, pos) in comps.into_iter().chain(g) {
                if let Term::Blank(r) = t {
                    if *r != id {
                        let h = self.hash_related(*r, qi, &issuer, pos);
                        hn.entry(h).or_default().push(*r);
                    }
                }
            }
        }
        let mut data = String::new();
        for (related_hash, mut list) in hn {
            push_hex(&mut data, &related_hash);
            let mut chosen_path = String::new();
            let mut chosen_issuer: Option<TempIssuer> = None;
            list.sort_unstable();
            let mut perm = Permutations::new(list);
            while let Some(p) = perm.next_perm() {
                // Each permutation copies the issuer and places every node of `p` on a path.
                self.tick(p.len() + issuer.len())?;
                let mut issuer_copy = issuer.clone();
                let mut path = String::new();
                let mut recursion = Vec::new();
                let mut skip = false;
                for &related in p {
                    if let Some(c) = self.canonical.get(related) {
                        path.push_str("_:c14n");
                        push_u32(&mut path, c);
                    } else {
                        if issuer_copy.get(related).is_none() {
                            recursion.push(related);
                        }
                        path.push_str("_:b");
                        let n = issuer_copy.issue(related);
                        push_u32(&mut path, n);
                    }
                    if !chosen_path.is_empty()
                        && path.len() >= chosen_path.len()
                        && path > chosen_path
                    {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                for related in recursion {
                    let (h, iss) = self.hash_n_degree(related, issuer_copy)?;
                    issuer_copy = iss;
                    path.push_str("_:b");
                    let n = issuer_copy.issue(related);
                    push_u32(&mut path, n);
                    path.push('<');
                    push_hex(&mut path, &h);
                    path.push('>');
                    if !chosen_path.is_empty()
                        && path.len() >= chosen_path.len()
                        && path > chosen_path
                    {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                if chosen_path.is_empty() || path < chosen_path {
                    chosen_path = path;
                    chosen_issuer = Some(issuer_copy);
                }
            }
            data.push_str(&chosen_path);
            if let Some(ci) = chosen_issuer {
                issuer = ci;
            }
        }
        Ok((D::digest(data.as_bytes()), issuer))
    }
}

/// Lexicographic permutations (Heap's order is not required: RDFC-1.0 tries all of them).
struct Permutations {
    items: Vec<u32>,
    first: bool,
    done: bool,
}

impl Permutations {
    fn new(items: Vec<u32>) -> Self {
        Self {
            items,
            first: true,
            done: false,
        }
    }

    fn next_perm(&mut self) -> Option<&[u32]> {
        if self.done {
            return None;
        }
        if self.first {
            self.first = false;
            return Some(&self.items);
        }
        // Standard next lexicographic permutation.
        let n = self.items.len();
        let mut i = n.checked_sub(1)?;
        loop {
            if i == 0 {
                self.done = true;
                return None;
            }
            let (a, b) = (self.items.get(i - 1)?, self.items.get(i)?);
            if a < b {
                break;
            }
            i -= 1;
        }
        let pivot = *self.items.get(i - 1)?;
        let mut j = n - 1;
        while *self.items.get(j)? <= pivot {
            j -= 1;
        }
        self.items.swap(i - 1, j);
        self.items.get_mut(i..)?.reverse();
        Some(&self.items)
    }
}

/// What one run of RDFC-1.0 spent, against the caps.
#[derive(Debug, Default, Clone, Copy)]
// Read only by the test that checks the caps against the W3C suite.
#[cfg_attr(not(test), allow(dead_code))]
struct Spent {
    shared_nodes: u64,
    calls: u64,
    max_depth: u64,
    work: u64,
}

/// Runs RDFC-1.0 and returns the canonical issuer (blank node number → canonical number).
fn issue_canonical<D: Digest>(
    ds: &Dataset<'_>,
) -> Result<(CanonicalIssuer, Templates, Spent), Error> {
    let n = ds.blank_count();
    let mut quads_of: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (qi, q) in ds.quads.iter().enumerate() {
        let qi = qi as u32;
        let mut add = |t: &Term<'_>| {
            if let Term::Blank(b) = t {
                if let Some(v) = quads_of.get_mut(*b as usize) {
                    if v.last() != Some(&qi) {
                        v.push(qi);
                    }
                }
            }
        };
        add(&q.subject);
        add(&q.object);
        if let Some(g) = &q.graph {
            add(g);
        }
    }
    let mut st: State<'_, '_, D> = State {
        ds,
        tpl: Templates::new(ds),
        quads_of,
        first_degree: Vec::with_capacity(n),
        canonical: CanonicalIssuer::new(n),
        work: 0,
        calls: 0,
        depth: 0,
        max_depth: 0,
        buf: String::with_capacity(1024),
        lines: Vec::new(),
    };
    // RDFC-1.0 §4.4.3 step 5: a blank node whose first-degree hash no other node shares is
    // issued its identifier at once, in hash order. With a single blank node (such as a proof
    // configuration's) there is a single hash, so the node gets `c14n0` whatever its hash is,
    // and none is computed. (First-degree hashes are otherwise read only by N-degree hashing,
    // which needs two nodes sharing a hash.)
    let mut used = st
        .quads_of
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_empty());
    if let (Some((only, _)), None) = (used.next(), used.next()) {
        st.canonical.issue(only as u32);
        let spent = Spent {
            shared_nodes: 0,
            calls: st.calls,
            max_depth: st.max_depth,
            work: st.work,
        };
        return Ok((st.canonical, st.tpl, spent));
    }
    // Blank nodes that occur in no quad (possible only for unused labels) get no identifier.
    let mut by_hash: Vec<(Output<D>, u32)> = Vec::with_capacity(n);
    for b in 0..n as u32 {
        let h = st.first_degree_hash(b);
        if st.quads_of.get(b as usize).is_some_and(|v| !v.is_empty()) {
            by_hash.push((h.clone(), b));
        }
        st.first_degree.push(h);
    }
    by_hash.sort_unstable();
    let mut shared: Vec<Vec<u32>> = Vec::new();
    let mut shared_nodes: u64 = 0;
    let mut i = 0;
    while let Some((h, b)) = by_hash.get(i) {
        let b = *b;
        let mut j = i + 1;
        while by_hash.get(j).is_some_and(|x| x.0 == *h) {
            j += 1;
        }
        if j == i + 1 {
            st.canonical.issue(b);
        } else {
            shared_nodes += (j - i) as u64;
            shared.push(
                by_hash
                    .get(i..j)
                    .unwrap_or(&[])
                    .iter()
                    .map(|x| x.1)
                    .collect(),
            );
        }
        i = j;
    }
    if shared_nodes > MAX_SHARED_NODES {
        return Err(too_complex(
            "blank nodes that need N-degree hashing",
            MAX_SHARED_NODES,
        ));
    }
    for nodes in shared {
        let mut results: Vec<(Output<D>, TempIssuer)> = Vec::new();
        for b in nodes {
            if st.canonical.get(b).is_some() {
                continue;
            }
            let mut tmp = TempIssuer::default();
            tmp.issue(b);
            results.push(st.hash_n_degree(b, tmp)?);
        }
        results.sort_by(|x, y| x.0.cmp(&y.0));
        for (_, iss) in results {
            for &b in &iss.order {
                st.canonical.issue(b);
            }
        }
    }
    let spent = Spent {
        shared_nodes,
        calls: st.calls,
        max_depth: st.max_depth,
        work: st.work,
    };
    Ok((st.canonical, st.tpl, spent))
}

/// Serializes with canonical labels, sorted, as one string.
fn serialize(tpl: &Templates, canon: &CanonicalIssuer) -> String {
    let (buf, lines) = sorted_lines(tpl, canon);
    let mut out = String::with_capacity(buf.len());
    for (s, e) in lines {
        out.push_str(buf.get(s..e).unwrap_or(""));
    }
    out
}

/// SHA-256 of the canonical N-Quads of `dataset` (RDFC-1.0 with SHA-256): the hash of what
/// [`canonicalize`] returns, without joining the lines into one string.
pub(crate) fn canonical_sha256(dataset: &Dataset<'_>) -> Result<[u8; 32], Error> {
    let (canon, tpl, _) = run(dataset, HashAlgorithm::Sha256)?;
    let (buf, lines) = sorted_lines(&tpl, &canon);
    let mut hasher = Sha256::new();
    for (s, e) in lines {
        hasher.update(buf.as_bytes().get(s..e).unwrap_or(&[]));
    }
    Ok(hasher.finalize().into())
}

/// The N-Quads lines with canonical labels, each ending in `\n`, written one after the other
/// in `buf`, and their spans in `buf` in canonical (code point) order.
fn sorted_lines(tpl: &Templates, canon: &CanonicalIssuer) -> (String, Vec<(usize, usize)>) {
    let mut buf = String::with_capacity(tpl.text.len() + tpl.quads.len() * 8);
    let mut lines = Vec::with_capacity(tpl.quads.len());
    for qi in 0..tpl.quads.len() as u32 {
        let start = buf.len();
        tpl.write(&mut buf, qi, &mut |b, out: &mut String| {
            out.push_str("c14n");
            push_u32(out, canon.get(b).unwrap_or(u32::MAX));
        });
        lines.push((start, buf.len()));
    }
    // No duplicates to remove: the dataset is a set and canonical labels are distinct.
    sort_lines(buf.as_bytes(), &mut lines);
    (buf, lines)
}

/// Sorts the lines `buf[s..e]` in byte order, which for UTF-8 is code point order (what
/// RDFC-1.0 requires of the canonical N-Quads).
///
/// Lines of one document share long prefixes (the credential's IRI), so the prefix common to
/// all lines is skipped, and each line is first compared by a key: its next 8 bytes, read big
/// endian, zero-padded past its end. Keys order as the lines do when they differ: at the first
/// byte where they differ either both lines have that byte, or the shorter line has ended
/// (padding 0, below any byte the other has there, and a prefix sorts first). Equal keys fall
/// back to comparing the rest of the lines, so the order is exactly byte order.
fn sort_lines(buf: &[u8], lines: &mut [(usize, usize)]) {
    let line = |&(s, e): &(usize, usize)| buf.get(s..e).unwrap_or(&[]);
    let mut common = lines.first().map_or(0, |l| line(l).len());
    if let Some(first) = lines.first() {
        let first = line(first);
        for l in lines.iter() {
            let l = line(l);
            common = first
                .iter()
                .zip(l)
                .take(common)
                .take_while(|(a, b)| a == b)
                .count();
        }
    }
    let mut keyed: Vec<(u64, usize, usize)> = lines
        .iter()
        .map(|l| {
            let rest = line(l).get(common..).unwrap_or(&[]);
            let mut key = [0u8; 8];
            for (k, b) in key.iter_mut().zip(rest) {
                *k = *b;
            }
            (u64::from_be_bytes(key), l.0 + common, l.1)
        })
        .collect();
    keyed.sort_unstable_by(|x, y| {
        x.0.cmp(&y.0)
            .then_with(|| buf.get(x.1..x.2).cmp(&buf.get(y.1..y.2)))
    });
    for (l, k) in lines.iter_mut().zip(keyed) {
        *l = (k.1 - common, k.2);
    }
}

/// The hash function RDFC-1.0 runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256: the RDFC-1.0 default, used by `eddsa-rdfc-2022` and `ecdsa-rdfc-2019` (P-256).
    #[default]
    Sha256,
    /// SHA-384: used by `ecdsa-rdfc-2019` with P-384.
    Sha384,
}

fn run(
    dataset: &Dataset<'_>,
    alg: HashAlgorithm,
) -> Result<(CanonicalIssuer, Templates, Spent), Error> {
    match alg {
        HashAlgorithm::Sha256 => issue_canonical::<Sha256>(dataset),
        HashAlgorithm::Sha384 => issue_canonical::<Sha384>(dataset),
    }
}

/// RDFC-1.0 (SHA-256): the canonical N-Quads of `dataset`, each line ending in `\n`, sorted.
pub fn canonicalize(dataset: &Dataset<'_>) -> Result<String, Error> {
    canonicalize_with_hash(dataset, HashAlgorithm::Sha256)
}

/// RDFC-1.0 with the given hash function.
pub fn canonicalize_with_hash(dataset: &Dataset<'_>, alg: HashAlgorithm) -> Result<String, Error> {
    let (canon, tpl, _) = run(dataset, alg)?;
    Ok(serialize(&tpl, &canon))
}

/// Like [`canonicalize_with_hash`], and also returns the issued identifiers map: input blank
/// node label (without `_:`) → canonical label (`c14n0`, ...). Labels of blank nodes made by
/// [`crate::to_rdf`] are `b0`, `b1`, ... (or the document's own `_:` labels).
pub fn canonicalize_with_map(
    dataset: &Dataset<'_>,
    alg: HashAlgorithm,
) -> Result<(String, BTreeMap<String, String>), Error> {
    let (canon, tpl, _) = run(dataset, alg)?;
    let mut map = BTreeMap::new();
    for (b, id) in canon.ids.iter().enumerate() {
        if let Some(id) = id {
            map.insert(dataset.blank_label(b as u32), format!("c14n{id}"));
        }
    }
    Ok((serialize(&tpl, &canon), map))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::parse_nquads;

    proptest::proptest! {
        /// The keyed sort of canonical lines gives exactly byte (code point) order, with
        /// long shared prefixes, lines that are prefixes of others, NUL and non-ASCII bytes.
        #[test]
        fn line_sort_is_byte_order(
            prefix in "(<urn:x>)?",
            parts in proptest::collection::vec("[a\\x00\u{e9}\u{1f600}<> ]{0,12}\n?", 0..24),
        ) {
            let mut buf = String::new();
            let mut lines = Vec::new();
            for p in &parts {
                let start = buf.len();
                buf.push_str(&prefix);
                buf.push_str(p);
                lines.push((start, buf.len()));
            }
            let mut expected: Vec<&str> = lines.iter().map(|&(s, e)| &buf[s..e]).collect();
            expected.sort_unstable();
            sort_lines(buf.as_bytes(), &mut lines);
            let got: Vec<&str> = lines.iter().map(|&(s, e)| &buf[s..e]).collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    /// The most any positive test of the W3C RDFC-1.0 suite spends, per cap.
    fn w3c_suite_maximum() -> Spent {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rdf-canon/tests");
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&read("manifest.jsonld")).unwrap();
        let mut max = Spent::default();
        for e in manifest["entries"].as_array().unwrap() {
            if e["type"] == "rdfc:RDFC10NegativeEvalTest" {
                continue;
            }
            let text = read(e["action"].as_str().unwrap());
            let ds = parse_nquads(&text).unwrap();
            let alg = match e.get("hashAlgorithm").and_then(|v| v.as_str()) {
                Some("SHA384") => HashAlgorithm::Sha384,
                _ => HashAlgorithm::Sha256,
            };
            let (_, _, s) = run(&ds, alg).unwrap_or_else(|err| panic!("{}: {err}", e["id"]));
            max.shared_nodes = max.shared_nodes.max(s.shared_nodes);
            max.calls = max.calls.max(s.calls);
            max.max_depth = max.max_depth.max(s.max_depth);
            max.work = max.work.max(s.work);
        }
        max
    }

    #[test]
    fn caps_leave_room_for_the_w3c_suite() {
        let max = w3c_suite_maximum();
        println!("the W3C suite spends at most {max:?}");
        assert!(
            max.shared_nodes > 0 && max.calls > 0,
            "the suite exercises N-degree hashing"
        );
        assert!(max.shared_nodes * 10 <= MAX_SHARED_NODES, "{max:?}");
        assert!(max.calls * 10 <= MAX_NDEGREE_CALLS, "{max:?}");
        assert!(max.max_depth * 10 <= MAX_NDEGREE_DEPTH, "{max:?}");
        assert!(max.work * 10 <= WORK_LIMIT, "{max:?}");
    }

    #[test]
    fn temporary_issuers_cost_what_they_hold() {
        let mut iss = TempIssuer::default();
        for b in (0..100u32).rev() {
            assert_eq!(iss.issue(b * 1000), 99 - b);
        }
        // Switched from scanning to an index on the way; identifiers are unchanged.
        assert!(iss.index.is_some());
        assert_eq!(iss.len(), 100);
        assert_eq!(iss.get(99_000), Some(0));
        assert_eq!(iss.get(0), Some(99));
        assert_eq!(iss.get(1), None);
        assert_eq!(
            iss.issue(5000),
            94,
            "issuing again returns the same identifier"
        );
        let small = {
            let mut s = TempIssuer::default();
            s.issue(4_000_000);
            s
        };
        assert!(small.index.is_none() && small.order.capacity() < 16);
    }
}
