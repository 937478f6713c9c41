//! Status entries and Bitstring Status Lists, read the way a verifier reads them.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use microcred_core::{Bitstring, StatusEntry, StatusListCredential};
use serde_json::Value;

use super::http::Client;

/// The path (and query) of an absolute URL.
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

/// The credential's entries, by purpose.
pub fn entries(credential: &Value) -> HashMap<String, StatusEntry> {
    microcred_core::status_entries(credential)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            (e.purpose.clone(), e)
        })
        .collect()
}

/// The status list published at `url`.
pub fn fetch_list(c: &Client, url: &str) -> StatusListCredential {
    let r = c.get(&path_of(url), None);
    assert_eq!(r.status, 200, "{}", r.text());
    StatusListCredential::from_bytes(&r.body)
        .unwrap()
        .fetched_from(url)
}

/// The bits of the status list published at `url`.
pub fn bits(c: &Client, url: &str) -> Bitstring {
    fetch_list(c, url).bitstring().unwrap().clone()
}
