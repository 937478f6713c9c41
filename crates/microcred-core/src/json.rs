//! Strict JSON input: the parser every verification path goes through.
//!
//! JSON parsers disagree on duplicate member names (first wins, last wins, error), so a
//! credential that contains them could mean one thing to the signer and another to the
//! verifier. We refuse such input. Nesting depth is bounded by serde_json's recursion limit
//! (128), so hostile input yields an error, never a stack overflow.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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
/// than 128 levels and objects that repeat a member name (the error names the member's path,
/// e.g. `credentialSubject.result[0].value`).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { at: None }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| JsonError {
            message: e.to_string(),
        })?;
    Ok(value)
}

impl JsonError {
    /// What is wrong, without the "not acceptable JSON" prefix of its `Display`.
    pub fn reason(&self) -> &str {
        &self.message
    }
}

/// One step of the path from the document's root to the value being read: a linked list
/// on the stack (each level points at its parent), so the path costs nothing unless an
/// error needs it.
struct Step<'a> {
    parent: Option<&'a Self>,
    at: StepKind<'a>,
}

enum StepKind<'a> {
    Member(&'a str),
    Index(usize),
}

/// `a.b[2].c` for the steps ending at `step` (the root is the empty path).
fn render(step: Option<&Step<'_>>) -> String {
    let mut steps = Vec::new();
    let mut cur = step;
    while let Some(s) = cur {
        steps.push(&s.at);
        cur = s.parent;
    }
    let mut out = String::new();
    for s in steps.into_iter().rev() {
        match s {
            StepKind::Member(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            StepKind::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Reads a `serde_json::Value` and fails on duplicate member names; `at` is where the value
/// sits in the document (for the error message).
struct StrictSeed<'a> {
    at: Option<&'a Step<'a>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
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
        loop {
            let step = Step {
                parent: self.at,
                at: StepKind::Index(out.len()),
            };
            match seq.next_element_seed(StrictSeed { at: Some(&step) })? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = Step {
                parent: self.at,
                at: StepKind::Member(&key),
            };
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate member name \"{key}\" at `{}` (parsers disagree on which value wins, so it is refused)",
                    render(Some(&step))
                )));
            }
            let v = map.next_value_seed(StrictSeed { at: Some(&step) })?;
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
        assert!(err.reason().contains("`a.x`"), "{err}");
        let err = parse_strict(br#"{"a":[0,{"b":[{"y":1,"y":1}]}]}"#).unwrap_err();
        assert!(err.reason().contains("`a[1].b[0].y`"), "{err}");
        assert!(parse_strict(br#"{"x":1,"y":{"x":2},"z":[{"x":3},{"x":4}]}"#).is_ok());
    }

    #[test]
    fn rejects_invalid_utf8_trailing_data_and_deep_nesting() {
        assert!(parse_strict(b"\"\xff\"").is_err());
        assert!(parse_strict(b"{} {}").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
    }
}
