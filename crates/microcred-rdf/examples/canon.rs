//! Prints the canonical N-Quads of a JSON-LD document with the bundled contexts.
//!
//! `cargo run -p microcred-rdf --example canon -- [--lax] [--context URL=FILE]... FILE.json`

use microcred_rdf::{canonicalize_document, CanonicalOptions, ContextLoader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut loader = ContextLoader::bundled();
    let mut opts = CanonicalOptions::default();
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lax" => opts.safe_mode = false,
            "--context" => {
                let spec = args.next().ok_or("--context needs URL=FILE")?;
                let (url, path) = spec.split_once('=').ok_or("--context needs URL=FILE")?;
                loader.add(url, &std::fs::read_to_string(path)?)?;
            }
            _ => file = Some(a),
        }
    }
    let file = file.ok_or("usage: canon [--lax] [--context URL=FILE]... FILE.json")?;
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let c = canonicalize_document(&doc, &loader, &opts)?;
    print!("{}", c.nquads);
    Ok(())
}
