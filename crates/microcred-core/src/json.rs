//! Strict JSON input: the parser every verification path goes through.
//!
//! JSON parsers disagree on duplicate member names (first wins, last wins, error), so a
//! credential that contains them could mean one thing to the signer and another to the
//! verifier. We refuse such input. Nesting depth is bounded by serde_json's recursion limit
//! (128), so hostile input yields an error, never a stack overflow.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why bytes could not be accepted as a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not acceptable JSON: {message}")]
pub struct JsonError {
    message: String,
}

impl JsonError {
    /// True when the input parsed as JSON syntax but repeated a member name.
    pub fn is_duplicate_member(&self) -> bool {
        self.message.contains("duplicate member name")
    }
}

/// Parses `bytes` as one JSON value, rejecting invalid UTF-8, trailing data, nesting deeper
/// than 128 levels and objects that repeat a member name.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v.0))
        .map_err(|e| JsonError {
            message: e.to_string(),
        })?;
    Ok(value)
}

/// A `serde_json::Value` whose deserializer fails on duplicate member names.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate member name \"{key}\" (parsers disagree on which value wins, so it is refused)"
                )));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json_and_keeps_member_order() {
        let v = parse_strict(br#"{"b":1,"a":[true,null,"x",1.5]}"#).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["b", "a"]);
    }

    #[test]
    fn rejects_duplicate_members_at_any_depth() {
        let err = parse_strict(br#"{"a":{"x":1,"x":2}}"#).unwrap_err();
        assert!(err.is_duplicate_member(), "{err}");
    }

    #[test]
    fn rejects_invalid_utf8_trailing_data_and_deep_nesting() {
        assert!(parse_strict(b"\"\xff\"").is_err());
        assert!(parse_strict(b"{} {}").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
    }
}
