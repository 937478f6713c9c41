//! Every bundled context is valid JSON-LD 1.1 and processes on its own and after VC 2.0.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use microcred_rdf::{bundled_contexts, to_rdf, CanonicalOptions, ContextLoader};
use serde_json::json;

#[test]
fn every_bundled_context_processes() {
    let loader = ContextLoader::bundled();
    let opts = CanonicalOptions::default();
    assert!(bundled_contexts().len() >= 30);
    for (url, text) in bundled_contexts() {
        let v: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(v.get("@context").is_some(), "{url}");
        assert!(loader.contains(url));
        let alone = json!({"@context": url, "@id": "urn:x:1"});
        to_rdf(&alone, &loader, &opts).unwrap_or_else(|e| panic!("{url}: {e}"));
        if url.contains("/2018/credentials/") || url.contains("w3id.org/credentials/v1") {
            continue; // VC 1.1 and 2.0 both protect `id`-style terms differently.
        }
        let after_v2 =
            json!({"@context": ["https://www.w3.org/ns/credentials/v2", url], "@id": "urn:x:1"});
        if let Err(e) = to_rdf(&after_v2, &loader, &opts) {
            // Contexts that redefine VC 2.0's protected terms cannot follow it; that is by design.
            assert_eq!(
                e.json_ld_code(),
                Some("protected term redefinition"),
                "{url}: {e}"
            );
            println!("{url} cannot follow VC 2.0: {e}");
        }
    }
}
