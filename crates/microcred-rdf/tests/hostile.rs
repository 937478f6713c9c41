//! Inputs built to make canonicalization slow or large: each one either canonicalizes or is
//! refused with `Error::TooComplex` (RDFC-1.0) or `Error::ContextTooComplex` (JSON-LD contexts).
//! The outcome is what is asserted; in release builds every case takes well under a second and
//! a few tens of MiB (measured with `/usr/bin/time -v`, see the caps' comments in `canon.rs`).

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_rdf::{
    canonicalize, canonicalize_document, parse_nquads, to_rdf, CanonicalOptions, ContextLoader,
    Error,
};
use serde_json::{json, Value};

/// A sample Open Badges credential (165 quads, its blank nodes all different).
fn credential() -> Value {
    let mut v: Value = serde_json::from_str(include_str!(
        "data/vectors/samples/df-101-productivity-tools.json"
    ))
    .unwrap();
    // The sample's credentialSchema type is defined by the 1EdTech extensions context.
    v["@context"]
        .as_array_mut()
        .unwrap()
        .push("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json".into());
    v
}

/// The security review's shape: `n` blank nodes under the subject sharing three values, so
/// every node looks like a third of the others.
fn look_alike_credential(n: usize) -> Value {
    let mut v = credential();
    let values: Vec<Value> = (0..n)
        .map(|i| {
            let value = ["a", "b", "c"][i % 3];
            json!({ "http://e/v": value })
        })
        .collect();
    v["credentialSubject"]["http://e/x"] = Value::Array(values);
    v
}

fn canon_doc(doc: &Value) -> Result<String, Error> {
    let loader = ContextLoader::bundled();
    canonicalize_document(doc, &loader, &CanonicalOptions::default()).map(|c| c.nquads)
}

#[track_caller]
fn assert_too_complex(r: Result<String, Error>, what: &str) {
    match r {
        Err(e @ Error::TooComplex { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(what), "{msg}");
            assert!(msg.starts_with("too complex"), "{msg}");
            assert!(msg.contains("indistinguishable blank nodes"), "{msg}");
            assert!(e.is_work_limit());
        }
        Err(e) => panic!("expected TooComplex ({what}), got {e}"),
        Ok(_) => panic!("expected TooComplex ({what}), got canonical N-Quads"),
    }
}

#[test]
fn flood_of_look_alike_blank_nodes_is_refused_before_n_degree_hashing() {
    for n in [10_000, 55_000] {
        let doc = look_alike_credential(n);
        // Expansion itself is fine: the limit is RDFC-1.0's.
        let loader = ContextLoader::bundled();
        assert!(to_rdf(&doc, &loader, &CanonicalOptions::default()).is_ok());
        assert_too_complex(
            canon_doc(&doc),
            "1000 blank nodes that need N-degree hashing",
        );
    }
}

#[test]
fn hundreds_of_look_alike_blank_nodes_still_canonicalize() {
    let nquads = canon_doc(&look_alike_credential(900)).unwrap();
    assert_eq!(nquads.lines().count(), 165 + 2 * 900);
    // Canonical labels do not depend on the order the nodes were written in.
    let mut doc = look_alike_credential(900);
    doc["credentialSubject"]["http://e/x"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_eq!(canon_doc(&doc).unwrap(), nquads);
}

#[test]
fn results_that_differ_only_in_nested_blank_nodes_canonicalize() {
    // 300 look-alike results (each points to a blank node of its own, with its own value):
    // every one needs N-degree hashing, one call each.
    let mut v = credential();
    let results: Vec<Value> = (0..300)
        .map(|i| json!({"http://e/detail": {"http://e/score": i.to_string()}}))
        .collect();
    v["credentialSubject"]["http://e/result"] = Value::Array(results);
    assert!(canon_doc(&v).is_ok());
}

fn nq(lines: impl IntoIterator<Item = String>) -> String {
    lines.into_iter().collect()
}

fn chain(len: usize) -> String {
    nq((0..len).map(|i| format!("_:n{i} <urn:p> _:n{} .\n", i + 1)))
}

fn ring(len: usize) -> String {
    nq((0..len).map(|i| format!("_:n{i} <urn:p> _:n{} .\n", (i + 1) % len)))
}

/// `count` cliques of `size` look-alike blank nodes, every node linked to the others of its
/// clique.
fn cliques(size: usize, count: usize) -> String {
    nq((0..count).flat_map(|c| {
        (0..size).flat_map(move |a| {
            (0..size)
                .filter(move |b| *b != a)
                .map(move |b| format!("_:c{c}n{a} <urn:p> _:c{c}n{b} .\n"))
        })
    }))
}

/// Two identical chains whose nodes carry their position: groups of two look-alike nodes,
/// and N-degree hashing recurses along a whole chain.
fn two_chains(len: usize) -> String {
    nq(['A', 'B'].into_iter().flat_map(|c| {
        (0..len).flat_map(move |i| {
            let mut l = vec![format!("_:{c}{i} <urn:v> \"{i}\" .\n")];
            if i + 1 < len {
                l.push(format!("_:{c}{i} <urn:next> _:{c}{} .\n", i + 1));
            }
            l
        })
    }))
}

/// Two look-alike hubs, each with `leaves` look-alike leaves: every order of the leaves.
fn two_hubs(leaves: usize) -> String {
    nq((0..2).flat_map(|h| (0..leaves).map(move |i| format!("_:h{h} <urn:p> _:h{h}l{i} .\n"))))
}

/// A complete binary tree of look-alike blank nodes.
fn tree(depth: usize) -> String {
    fn grow(out: &mut String, name: &str, depth: usize) {
        if depth == 0 {
            return;
        }
        for c in ['0', '1'] {
            out.push_str(&format!("_:{name} <urn:p> _:{name}{c} .\n"));
            grow(out, &format!("{name}{c}"), depth - 1);
        }
    }
    let mut out = String::new();
    grow(&mut out, "t", depth);
    out
}

/// An n×n grid of look-alike blank nodes (links right and down).
fn grid(n: usize) -> String {
    let right = (0..n).flat_map(move |i| {
        (0..n - 1).map(move |j| format!("_:g{i}_{j} <urn:r> _:g{i}_{} .\n", j + 1))
    });
    let down = (0..n - 1)
        .flat_map(move |i| (0..n).map(move |j| format!("_:g{i}_{j} <urn:d> _:g{}_{j} .\n", i + 1)));
    nq(right.chain(down))
}

/// Every one of `k` look-alike nodes linked to every one of `k` others.
fn bipartite(k: usize) -> String {
    nq((0..k).flat_map(|i| (0..k).map(move |j| format!("_:a{i} <urn:p> _:b{j} .\n"))))
}

/// One hub (an IRI) with `n` look-alike blank leaves: each needs one call, no recursion.
fn star(n: usize) -> String {
    nq((0..n).map(|i| format!("<urn:hub> <urn:p> _:l{i} .\n")))
}

/// Two look-alike hubs with `n` leaves each, every leaf different: each hub's N-degree hash
/// examines `n` quads.
fn wide_hubs(n: usize) -> String {
    nq((0..2).flat_map(|h| {
        (0..n).map(move |i| {
            format!("_:h{h} <urn:p> _:h{h}l{i} .\n_:h{h}l{i} <urn:v> \"{h}-{i}\" .\n")
        })
    }))
}

const SHARED: &str = "1000 blank nodes that need N-degree hashing";
const CALLS: &str = "20000 N-degree hashing calls";
const DEPTH: &str = "128 nested N-degree hashing calls";
const WORK: &str = "1000000 steps of N-degree hashing work";

#[test]
fn blank_node_shapes_canonicalize_or_are_refused() {
    // (name, N-Quads, None = canonicalizes, Some(cap) = refused at that cap)
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("chain of 50", chain(50), None),
        ("chain of 100", chain(100), Some(WORK)),
        ("chain of 1,000", chain(1000), Some(DEPTH)),
        ("chain of 100,000", chain(100_000), Some(SHARED)),
        ("ring of 50", ring(50), None),
        ("ring of 100", ring(100), Some(WORK)),
        ("ring of 1,000", ring(1000), Some(DEPTH)),
        ("ring of 100,000", ring(100_000), Some(SHARED)),
        ("clique of 5", cliques(5, 1), None),
        ("clique of 6", cliques(6, 1), None),
        ("clique of 7", cliques(7, 1), Some(WORK)),
        ("clique of 8", cliques(8, 1), Some(WORK)),
        ("clique of 10", cliques(10, 1), Some(WORK)),
        ("300 cliques of 3", cliques(3, 300), None),
        ("250 cliques of 4", cliques(4, 250), None),
        ("2,500 cliques of 4", cliques(4, 2500), Some(SHARED)),
        ("40 cliques of 5", cliques(5, 40), Some(WORK)),
        ("100 cliques of 6", cliques(6, 100), Some(WORK)),
        ("two chains of 200", two_chains(200), None),
        ("two chains of 499", two_chains(499), Some(DEPTH)),
        ("two hubs of 10", two_hubs(10), Some(CALLS)),
        ("two hubs of 499", two_hubs(499), Some(WORK)),
        ("binary tree of depth 6", tree(6), Some(WORK)),
        ("binary tree of depth 9", tree(9), Some(SHARED)),
        ("grid 10x10", grid(10), None),
        ("grid 20x20", grid(20), Some(DEPTH)),
        ("K(4,4)", bipartite(4), None),
        ("K(6,6)", bipartite(6), Some(WORK)),
        ("star of 999", star(999), None),
        ("star of 100,000", star(100_000), Some(SHARED)),
        ("two hubs of 5,000 different leaves", wide_hubs(5000), None),
    ];
    for (name, text, want) in cases {
        let ds = parse_nquads(&text).unwrap();
        let r = canonicalize(&ds);
        match want {
            None => assert!(r.is_ok(), "{name}: {}", r.unwrap_err()),
            Some(cap) => {
                let got = r.as_ref().err().map(ToString::to_string);
                assert!(
                    got.as_deref().is_some_and(|m| m.contains(cap)),
                    "{name}: expected the cap \"{cap}\", got {got:?}"
                );
                assert_too_complex(r, cap);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON-LD expansion: shapes that were superlinear, or could be, on inputs up to ~2 MiB.
// ---------------------------------------------------------------------------------------------

/// The sample credential with `extra` added to its subject.
fn subject_with(extra: Value) -> Value {
    let mut v = credential();
    let subject = v["credentialSubject"].as_object_mut().unwrap();
    for (k, x) in extra.as_object().unwrap() {
        subject.insert(k.clone(), x.clone());
    }
    v
}

#[track_caller]
fn assert_context_too_complex(doc: &Value) {
    let loader = ContextLoader::bundled();
    match to_rdf(doc, &loader, &CanonicalOptions::default()) {
        Err(e @ Error::ContextTooComplex { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("too complex to expand"), "{msg}");
            assert!(e.is_work_limit());
        }
        Err(e) => panic!("expected ContextTooComplex, got {e}"),
        Ok(_) => panic!("expected ContextTooComplex, got a dataset"),
    }
}

#[track_caller]
fn quads(doc: &Value) -> usize {
    let loader = ContextLoader::bundled();
    let ds = to_rdf(doc, &loader, &CanonicalOptions::default()).unwrap();
    canonicalize(&ds).unwrap();
    ds.len()
}

fn object(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    Value::Object(entries.into_iter().collect())
}

#[test]
fn distinct_literals_with_equal_ends_are_all_kept() {
    // Same length, same first and last 8 bytes: one group for the dataset's cheap duplicate
    // check, which compared them pairwise (40,000 took 9 s).
    let values: Vec<Value> = (0..40_000)
        .map(|i| format!("aaaaaaaa{i:07}zzzzzzzz").into())
        .collect();
    let doc = subject_with(json!({ "http://e/p": values.clone() }));
    assert_eq!(quads(&doc), 165 + 40_000);
    // Written twice, each value is still one quad.
    let twice: Vec<Value> = values.iter().chain(&values).cloned().collect();
    let doc = subject_with(json!({ "http://e/p": twice }));
    assert_eq!(quads(&doc), 165 + 40_000);
}

#[test]
fn many_type_aliases_and_many_properties_are_linear() {
    // Every key of every node is checked against the @type aliases.
    let mut ctx = object((0..20_000).map(|i| (format!("t{i}"), "@type".into())));
    ctx["p"] = "http://e/p".into();
    let mut node = object((0..20_000).map(|i| (format!("http://e/k{i}"), "v".into())));
    node["@context"] = ctx;
    node["t7"] = "http://e/T".into();
    let doc = subject_with(json!({ "http://e/q": node }));
    assert_eq!(quads(&doc), 165 + 1 + 20_000 + 1);
}

#[test]
fn nodes_under_a_scoped_term_of_a_large_embedded_context_share_its_processing() {
    // A 10,000-term embedded context (too large for the loader to remember) and 10,000 nodes
    // under a property-scoped and a type-scoped term: each application of a scoped context
    // copied the 10,000 terms (3.7 s); now it is made once per document.
    let mut ctx = object((0..10_000).map(|i| (format!("x{i}"), format!("http://e/x{i}").into())));
    ctx["p"] = json!({"@id": "http://e/p", "@context": {"y": "http://e/y"}});
    ctx["T"] = json!({"@id": "http://e/T", "@context": {"z": "http://e/z"}});
    let nodes: Vec<Value> = (0..10_000)
        .map(|i| json!({"type": "T", "y": i.to_string(), "z": "1"}))
        .collect();
    let doc = subject_with(json!({ "http://e/q": {"@context": ctx, "p": nodes} }));
    assert_eq!(quads(&doc), 165 + 1 + 10_000 * 4);
}

#[test]
fn huge_embedded_context_long_list_many_types_and_properties_are_fine() {
    let ctx = object((0..60_000).map(|i| (format!("term{i}"), format!("http://e/term{i}").into())));
    let doc = subject_with(json!({ "http://e/q": {"@context": ctx, "term1": "x"} }));
    assert_eq!(quads(&doc), 165 + 2);

    let list: Vec<Value> = (0..50_000).map(|i| i.to_string().into()).collect();
    let doc = subject_with(json!({ "http://e/l": {"@list": list} }));
    assert_eq!(quads(&doc), 165 + 1 + 2 * 50_000);

    let mut types: Vec<Value> = vec!["AchievementSubject".into()];
    types.extend((0..50_000).map(|i| Value::from(format!("http://e/T{i}"))));
    let doc = subject_with(json!({ "type": types }));
    assert_eq!(quads(&doc), 165 + 50_000);

    let props = object((0..50_000).map(|i| (format!("http://e/P{i}"), "v".into())));
    let doc = subject_with(props);
    assert_eq!(quads(&doc), 165 + 50_000);
}

#[test]
fn embedded_context_with_thousands_of_scoped_terms_is_refused() {
    // Defining each scoped term validates its context against a copy of all terms so far.
    let mut ctx = object((0..5_000).map(|i| {
        let def = json!({"@id": format!("http://e/t{i}"), "@context": {}});
        (format!("t{i}"), def)
    }));
    ctx["p"] = "http://e/p".into();
    assert_context_too_complex(&subject_with(
        json!({ "http://e/q": {"@context": ctx, "p": "x"} }),
    ));
}

#[test]
fn context_array_of_thousands_of_maps_is_refused() {
    // Each map makes a new context with all the terms so far (10,000 took 9 s and 2 GB).
    let ctx: Vec<Value> = (0..5_000)
        .map(|i| object([(format!("t{i}"), format!("http://e/t{i}").into())]))
        .collect();
    assert_context_too_complex(&subject_with(
        json!({ "http://e/q": {"@context": ctx, "t1": "x"} }),
    ));
}

#[test]
fn thousands_of_nodes_each_with_its_own_contexts_are_refused() {
    // A distinct embedded context per node (so no cache helps), then the VC 2.0 context.
    let nodes: Vec<Value> = (0..2_000)
        .map(|i| {
            let own = object([(format!("z{i}"), format!("http://e/z{i}").into())]);
            json!({
                "@context": [own, "https://www.w3.org/ns/credentials/v2"],
                "id": format!("urn:x:{i}"),
                "type": "VerifiableCredential"
            })
        })
        .collect();
    assert_context_too_complex(&subject_with(json!({ "http://e/q": nodes })));
}

#[test]
fn scoped_context_with_a_huge_iri_applied_under_many_contexts_is_refused() {
    // Each application reads the 300 KB IRI again (5,000 nodes took 1 s and 400 MB).
    let big = json!({"P": {"@id": "http://e/P", "@context": {"k": format!("http://e/{}", "x".repeat(300_000))}}});
    let top = json!({
        "q": {"@id": "http://e/q", "@context": big},
        "z": "http://e/z",
        "leaf": "http://e/leaf",
        // Too large for the loader to remember, so nothing below it is shared between documents.
        "pad": format!("http://e/{}", "y".repeat(17_000))
    });
    let nodes: Vec<Value> = (0..1_000)
        .map(|i| json!({"@context": {"z": "http://e/z"}, "q": {"leaf": i.to_string()}}))
        .collect();
    let doc = subject_with(json!({ "http://e/top": {"@context": top, "http://e/n": nodes} }));
    assert_context_too_complex(&doc);
}
