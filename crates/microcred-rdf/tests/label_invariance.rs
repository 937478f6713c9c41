//! What the property test in `properties.rs` met: RDFC-1.0 does not give one canonical form
//! for every line order of every dataset. When two blank nodes differ only in which blank
//! graph each quad is in (here `_:n0` and `_:n1`, in graphs `_:n3` and `_:n4`), Hash N-Degree
//! Quads cannot tell them apart, and the spec's order of issuing identifiers — the order the
//! blank nodes were first met — decides. This is the algorithm's, not an implementation's:
//! Digital Bazaar's rdf-canonize (RDFC-1.0, the reference implementation) gives the same two
//! answers for the same 24 orders as this crate (the expected outputs below are its, per
//! order, recorded from rdf-canonize 4.x with `maxDeepIterations` raised). What signing and
//! verifying need is that both sides see the quads in the same order, which JSON-LD's
//! deterministic expansion gives them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_rdf::{canonicalize, parse_nquads};

const LINES: [&str; 4] = [
    "_:n0 <urn:p:2> _:n1 _:n3 .",
    "_:n2 <urn:p:0> _:n2 .",
    "_:n1 <urn:p:2> _:n0 _:n4 .",
    "_:n3 <urn:p:0> _:n2 .",
];

/// rdf-canonize's two answers (the only ones, over all 24 orders).
const FIRST: &str = "_:c14n1 <urn:p:0> _:c14n1 .\n_:c14n2 <urn:p:0> _:c14n1 .\n_:c14n3 <urn:p:2> _:c14n4 _:c14n2 .\n_:c14n4 <urn:p:2> _:c14n3 _:c14n0 .\n";
const SECOND: &str = "_:c14n1 <urn:p:0> _:c14n1 .\n_:c14n2 <urn:p:0> _:c14n1 .\n_:c14n3 <urn:p:2> _:c14n4 _:c14n0 .\n_:c14n4 <urn:p:2> _:c14n3 _:c14n2 .\n";

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

/// Which of the two answers rdf-canonize gives for a line order: FIRST when `_:n0` is met
/// before `_:n1` (its quad comes first), else SECOND.
fn reference(order: &[usize]) -> &'static str {
    let n0 = order.iter().position(|i| *i == 0).unwrap();
    let n1 = order.iter().position(|i| *i == 2).unwrap();
    if n0 < n1 {
        FIRST
    } else {
        SECOND
    }
}

#[test]
fn blank_graph_names_canonicalize_as_the_reference_does_in_every_line_order() {
    for order in permutations(LINES.len()) {
        let text: String = order.iter().map(|i| format!("{}\n", LINES[*i])).collect();
        let got = canonicalize(&parse_nquads(&text).unwrap()).unwrap();
        assert_eq!(got, reference(&order), "line order {order:?}");
    }
}
