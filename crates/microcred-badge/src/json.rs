//! The JSON check a credential passes before it is baked: the same rules as
//! `microcred_core::parse_strict` (one JSON value, UTF-8, nothing after it, nesting bounded by
//! serde_json's recursion limit of 128, no object repeating a member name), without building
//! the value. Kept here so that baking does not depend on the signing core; the core still
//! parses whatever is unbaked with its own strict parser before verifying it.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// What the document is at the top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopLevel {
    /// A JSON object.
    Object,
    /// Any other JSON value.
    Other,
}

/// Checks `bytes` as one strict JSON document. The error reads like core's `JsonError`.
pub(crate) fn top_level(bytes: &[u8]) -> Result<TopLevel, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Strict::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v.0))
        .map_err(|e| format!("not acceptable JSON: {e}"))
}

/// A JSON value, checked and dropped.
struct Strict(TopLevel);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TopLevel, E> {
        if v.is_finite() {
            Ok(TopLevel::Other)
        } else {
            Err(E::custom("number out of range"))
        }
    }
    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
    fn visit_none<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(TopLevel::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate member name \"{key}\" (parsers disagree on which value wins, so it is refused)"
                )));
            }
            map.next_value::<Strict>()?;
            seen.insert(key);
        }
        Ok(TopLevel::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_other_values() {
        assert_eq!(
            top_level(br#"{"b":1,"a":[true,null,"x",1.5,{"b":2}]}"#),
            Ok(TopLevel::Object)
        );
        for other in [&b"[1]"[..], b"1", b"-1.5e3", b"\"x\"", b"null", b"true"] {
            assert_eq!(top_level(other), Ok(TopLevel::Other));
        }
    }

    #[test]
    fn refuses_what_the_core_parser_refuses() {
        let dup = top_level(br#"{"a":{"x":1,"x":2}}"#).unwrap_err();
        assert!(dup.contains("duplicate member name \"x\""), "{dup}");
        assert!(top_level(br#"[{"a":1,"a":1}]"#).is_err());
        // The same name in sibling objects is fine.
        assert_eq!(
            top_level(br#"{"a":{"x":1},"b":{"x":1}}"#),
            Ok(TopLevel::Object)
        );
        assert!(top_level(b"\"\xff\"").is_err());
        assert!(top_level(b"{} {}").is_err());
        assert!(top_level(b"").is_err());
        assert!(top_level(b"1e400").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(top_level(deep.as_bytes()).is_err());
        let deep = "{\"a\":".repeat(200) + "1" + &"}".repeat(200);
        assert!(top_level(deep.as_bytes()).is_err());
    }
}
