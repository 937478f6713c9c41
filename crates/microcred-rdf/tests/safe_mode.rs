//! Safe mode, error messages and resource limits.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_rdf::{canonicalize_document, to_rdf, CanonicalOptions, ContextLoader, Error};
use serde_json::{json, Value};

fn canon(doc: &Value) -> Result<String, Error> {
    canonicalize_document(doc, &ContextLoader::bundled(), &CanonicalOptions::default())
        .map(|c| c.nquads)
}

fn lax(doc: &Value) -> Result<String, Error> {
    let opts = CanonicalOptions::default().with_safe_mode(false);
    canonicalize_document(doc, &ContextLoader::bundled(), &opts).map(|c| c.nquads)
}

fn ob(achievement_extra: Value) -> Value {
    let mut achievement = json!({
        "id": "https://example.edu/achievements/1",
        "type": ["Achievement"],
        "name": "A",
        "criteria": {"narrative": "n"}
    });
    for (k, v) in achievement_extra.as_object().unwrap() {
        achievement[k] = v.clone();
    }
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": "urn:uuid:9c7f3a2e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "I"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": achievement}
    })
}

#[test]
fn valid_credential_passes() {
    let out = canon(&ob(json!({}))).unwrap();
    assert!(out.contains("<https://example.edu/achievements/1> <https://schema.org/name> \"A\" ."));
}

#[test]
fn undefined_property_names_the_path() {
    let err = canon(&ob(json!({"fooBar": 1}))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "credentialSubject.achievement.fooBar: term \"fooBar\" is not defined by any @context, so it \
         would not be signed; define it in a context (or use a full IRI) or remove it"
    );
    // Without safe mode it is dropped silently, exactly like the document without it.
    assert_eq!(
        lax(&ob(json!({"fooBar": 1}))).unwrap(),
        canon(&ob(json!({}))).unwrap()
    );
}

#[test]
fn undefined_type_is_an_error() {
    let err = canon(&ob(json!({"type": ["Achievement", "NoSuchType"]}))).unwrap_err();
    assert!(
        matches!(&err, Error::UndefinedTerm { path, term, .. }
            if path == "credentialSubject.achievement.type" && term == "NoSuchType"),
        "{err}"
    );
}

#[test]
fn relative_ids_are_errors() {
    let err = canon(&ob(json!({"id": "foo"}))).unwrap_err();
    assert!(
        matches!(&err, Error::RelativeIri { path, value } if path == "credentialSubject.achievement.id" && value == "foo"),
        "{err}"
    );
    // A `@type: @id` value without a scheme (issuer is `@type: @id` in VC 2.0).
    let mut doc = ob(json!({}));
    doc["issuer"] = json!("issuers/1");
    let err = canon(&doc).unwrap_err();
    assert!(
        matches!(&err, Error::RelativeIri { path, .. } if path == "issuer"),
        "{err}"
    );
    // Without safe mode the triples with relative IRIs are dropped.
    assert!(!lax(&doc).unwrap().contains("issuers/1"));
}

#[test]
fn full_iris_and_compact_iris_are_fine() {
    let doc = ob(json!({"https://example.org/vocab#extra": "x"}));
    assert!(canon(&doc)
        .unwrap()
        .contains("<https://example.org/vocab#extra> \"x\""));
}

#[test]
fn blank_node_ids_are_fine() {
    let doc = ob(json!({"id": "_:ach"}));
    let out = canon(&doc).unwrap();
    assert!(out.contains("_:c14n"));
}

#[test]
fn invalid_language_tag_is_an_error() {
    let doc = json!({
        "@context": {"@vocab": "https://example.org/", "@language": "not a tag"},
        "@id": "https://example.org/s",
        "label": "x"
    });
    assert!(matches!(canon(&doc), Err(Error::Dropped { .. })));
}

#[test]
fn free_floating_value_is_an_error() {
    let doc = json!({"@context": {"@vocab": "https://example.org/"}, "@graph": ["just a string"]});
    assert!(matches!(canon(&doc), Err(Error::Dropped { .. })));
    assert_eq!(lax(&doc).unwrap(), "");
}

#[test]
fn protected_term_redefinition_is_an_error() {
    let doc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", {"name": "https://example.org/name"}],
        "type": "VerifiableCredential",
        "name": "x"
    });
    let err = canon(&doc).unwrap_err();
    assert_eq!(
        err.json_ld_code(),
        Some("protected term redefinition"),
        "{err}"
    );
}

fn nest(depth: usize) -> Value {
    // Built by hand: `json!` would serialize the inner value recursively.
    let mut v = Value::String("leaf".into());
    for _ in 0..depth {
        let mut m = serde_json::Map::new();
        m.insert("https://example.org/p".into(), Value::Array(vec![v]));
        v = Value::Object(m);
    }
    let mut doc = serde_json::Map::new();
    doc.insert("@id".into(), "https://example.org/root".into());
    doc.insert("https://example.org/p".into(), v);
    Value::Object(doc)
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [40usize, 500, 100_000] {
        let doc = nest(depth);
        let err = to_rdf(
            &doc,
            &ContextLoader::bundled(),
            &CanonicalOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::TooDeep { limit: 64, .. }), "{err}");
        // Dropping a very deep serde_json value recurses (in serde_json); keep the test to our code.
        std::mem::forget(doc);
    }
}

#[test]
fn nesting_at_the_limit_works_on_a_small_stack() {
    // 1 + 2 * 31 = 63 JSON levels, just under the limit of 64; run on a 1 MiB stack (debug build).
    let out = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let doc = nest(31);
            canon(&doc).map(|s| s.lines().count())
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(out.unwrap(), 32);
}

#[test]
fn added_context_overrides_and_is_used() {
    let mut loader = ContextLoader::bundled();
    loader
        .add(
            "https://example.org/ctx",
            r#"{"@context": {"foo": "https://example.org/foo"}}"#,
        )
        .unwrap();
    let doc = json!({"@context": "https://example.org/ctx", "@id": "urn:x:1", "foo": "bar"});
    let out = canonicalize_document(&doc, &loader, &CanonicalOptions::default()).unwrap();
    assert_eq!(
        out.nquads,
        "<urn:x:1> <https://example.org/foo> \"bar\" .\n"
    );
    let bad = loader
        .add("https://example.org/bad", "{\"no\": 1}")
        .unwrap_err();
    assert!(matches!(bad, Error::InvalidContextDocument { .. }), "{bad}");
    assert!(loader.add("https://example.org/bad", "not json").is_err());
}

#[test]
fn json_literals_numbers_and_lists() {
    let doc = json!({
        "@context": {
            "@vocab": "https://example.org/",
            "data": {"@type": "@json"},
            "list": {"@container": "@list"}
        },
        "@id": "urn:x:1",
        "data": {"b": [1.0, 2.5e0, "x"], "a": null},
        "int": 5,
        "dbl": 1.1,
        "big": 1e21,
        "flag": true,
        "list": ["a", 2]
    });
    let out = canon(&doc).unwrap();
    assert!(out.contains(
        "<urn:x:1> <https://example.org/data> \"{\\\"a\\\":null,\\\"b\\\":[1,2.5,\\\"x\\\"]}\"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ."
    ), "{out}");
    assert!(out.contains("\"5\"^^<http://www.w3.org/2001/XMLSchema#integer>"));
    assert!(out.contains("\"1.1E0\"^^<http://www.w3.org/2001/XMLSchema#double>"));
    assert!(out.contains("\"1.0E21\"^^<http://www.w3.org/2001/XMLSchema#double>"));
    assert!(out.contains("\"true\"^^<http://www.w3.org/2001/XMLSchema#boolean>"));
    assert!(out.contains("<http://www.w3.org/1999/02/22-rdf-syntax-ns#first> \"a\""));
    assert!(out.contains("<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> <http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"));
}

#[test]
fn proof_graph_is_a_named_graph() {
    let doc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {"id": "did:example:2"},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": "did:example:1#key",
            "proofPurpose": "assertionMethod"
        }
    });
    let out = canon(&doc).unwrap();
    assert!(
        out.contains("<urn:uuid:1> <https://w3id.org/security#proof> _:c14n0 ."),
        "{out}"
    );
    assert!(
        out.contains("<https://w3id.org/security#DataIntegrityProof> _:c14n0 ."),
        "{out}"
    );
}

#[test]
fn embedded_contexts_are_cached_by_content() {
    let loader = ContextLoader::bundled();
    let doc = |iri: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", {"extra": iri}],
            "id": "urn:uuid:1",
            "type": ["VerifiableCredential"],
            "issuer": "did:example:1",
            "credentialSubject": {"id": "did:example:2", "extra": "x"}
        })
    };
    let opts = CanonicalOptions::default();
    let a1 = canonicalize_document(&doc("https://a.example/extra"), &loader, &opts).unwrap();
    let b = canonicalize_document(&doc("https://b.example/extra"), &loader, &opts).unwrap();
    let a2 = canonicalize_document(&doc("https://a.example/extra"), &loader, &opts).unwrap();
    assert_eq!(a1, a2);
    assert_ne!(a1, b);
    assert!(a1
        .nquads
        .contains("<did:example:2> <https://a.example/extra> \"x\" ."));
    assert!(b
        .nquads
        .contains("<did:example:2> <https://b.example/extra> \"x\" ."));
}
