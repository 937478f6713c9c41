//! `openapi.json` documents exactly the routes the router serves (read from `src/app.rs`), and
//! every `$ref` in it resolves. Whether each answer matches the document is checked against a
//! running service by `tests/schema/run.sh` (schemathesis, in CI).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::Value;

const OPENAPI: &str = include_str!("../openapi.json");
const APP: &str = include_str!("../src/app.rs");

/// `(METHOD, path)` of every `.route("path", method(handler)...)` in `app.rs`.
fn served() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for chunk in APP.split(".route(").skip(1) {
        let path = chunk
            .trim_start()
            .strip_prefix('"')
            .and_then(|rest| rest.split('"').next())
            .expect("a route's path is a string literal");
        // The route's handlers run up to the next builder call.
        let end = [".route(", ".layer(", ".merge(", ".fallback("]
            .iter()
            .filter_map(|call| chunk.find(call))
            .min()
            .unwrap_or(chunk.len());
        let handlers = &chunk[..end];
        for method in ["get", "post", "put", "delete"] {
            if handlers.contains(&format!("{method}(routes::")) {
                out.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_served() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    let served = served();
    assert!(served.len() > 30, "the route parser found only {served:?}");
    let documented = documented(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in openapi.json: {undocumented:?}; in openapi.json but not served: {unserved:?}"
    );
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}
