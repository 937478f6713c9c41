//! JSON-LD expansion to RDF and RDFC-1.0 canonicalization (bundled contexts, safe mode on and
//! off): any JSON document gives canonical N-Quads or an error, never a panic or a hang.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use microcred_rdf::{canonicalize_document, CanonicalOptions, ContextLoader};

fn loader() -> &'static ContextLoader {
    static LOADER: OnceLock<ContextLoader> = OnceLock::new();
    LOADER.get_or_init(ContextLoader::bundled)
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = microcred_core::parse_strict(data) else {
        return;
    };
    for safe in [true, false] {
        let opts = CanonicalOptions::new().with_safe_mode(safe);
        if let Ok(first) = canonicalize_document(&doc, loader(), &opts) {
            // Canonical output is a pure function of the document.
            let second = canonicalize_document(&doc, loader(), &opts);
            assert!(second.is_ok_and(|c| c.nquads == first.nquads));
        }
    }
});
