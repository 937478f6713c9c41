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
///
/// Numbers and strings are read by serde_json exactly as `serde_json::from_slice` reads them.
/// The members of the objects being read wait on one stack shared by the whole parse, so each
/// object is built once at its final size, and each member name is hashed once (small objects
/// are checked for repeated names by comparing them).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut members = Vec::with_capacity(32);
    let value = StrictSeed {
        at: None,
        members: &mut members,
    }
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

/// Objects with up to this many members are checked for repeated names by comparing each new
/// name with the earlier ones; larger ones by the map they are built into.
const COMPARE_MAX: usize = 16;

/// The message of a repeated member name whose last step is `step`.
fn duplicate<E: de::Error>(key: &str, step: &Step<'_>) -> E {
    E::custom(format!(
        "duplicate member name \"{key}\" at `{}` (parsers disagree on which value wins, so it is refused)",
        render(Some(step))
    ))
}

/// Reads a `serde_json::Value` and fails on duplicate member names; `at` is where the value
/// sits in the document (for the error message). `members` is the stack the members of the
/// objects being read wait on until their object is complete.
struct StrictSeed<'a, 's> {
    at: Option<&'a Step<'a>>,
    members: &'s mut Vec<(String, Value)>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_, '_> {
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
            let seed = StrictSeed {
                at: Some(&step),
                members: &mut *self.members,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // This object's members are `members[base..]` until it is complete.
        let base = self.members.len();
        while let Some(key) = map.next_key::<String>()? {
            let step = Step {
                parent: self.at,
                at: StepKind::Member(&key),
            };
            let earlier = self.members.get(base..).unwrap_or(&[]);
            if earlier.len() < COMPARE_MAX && earlier.iter().any(|(k, _)| *k == key) {
                return Err(duplicate(&key, &step));
            }
            let v = map.next_value_seed(StrictSeed {
                at: Some(&step),
                members: &mut *self.members,
            })?;
            self.members.push((key, v));
        }
        let count = self.members.len().saturating_sub(base);
        let mut out = Map::with_capacity(count);
        for (key, v) in self.members.drain(base..) {
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                // Only objects of more than `COMPARE_MAX` members get here.
                serde_json::map::Entry::Occupied(slot) => {
                    let step = Step {
                        parent: self.at,
                        at: StepKind::Member(slot.key()),
                    };
                    return Err(duplicate(slot.key(), &step));
                }
            }
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

    /// Objects larger than `COMPARE_MAX` are checked through their map: a name repeated at
    /// any distance is refused with its path, also when nested objects were read in between.
    #[test]
    fn rejects_duplicate_members_of_large_objects() {
        let members = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| format!("\"m{i}\":{{\"x\":[{i},{{\"y\":{i}}}]}}"))
                .collect()
        };
        for n in [COMPARE_MAX, COMPARE_MAX + 1, 3 * COMPARE_MAX] {
            let ok = format!("{{\"a\":{{{}}}}}", members(n).join(","));
            assert!(parse_strict(ok.as_bytes()).is_ok(), "{n}");
            for (first, second) in [(0, n - 1), (n - 1, 0), (n / 2, n - 1)] {
                let mut m = members(n);
                m.push(format!("\"m{first}\":1"));
                m.swap(second, n);
                let text = format!("{{\"a\":{{{}}}}}", m.join(","));
                let err = parse_strict(text.as_bytes()).unwrap_err();
                assert!(err.is_duplicate_member(), "{n} {first} {second}: {err}");
                assert!(err.reason().contains(&format!("`a.m{first}`")), "{err}");
            }
        }
    }

    /// The values are the ones serde_json reads, numbers included.
    #[test]
    fn reads_what_serde_json_reads() {
        let texts = [
            r#"{"n":[0,-0,1,-1,1.5,-2.25e-3,1e300,18446744073709551615,-9223372036854775808]}"#,
            r#"{"f":[0.1,0.30000000000000004,5e-324,1.7976931348623157e308,123456789012345678901234567890]}"#,
            r#"{"s":["\u00e9\ud83d\ude00","\"\\\/\b\f\n\r\t",""],"e":{},"a":[],"z":null,"t":true}"#,
            r#"[{"a":{"b":{"c":[{"d":1,"e":2},{"d":3}]},"f":4},"g":[[],[{}]]},1,"x"]"#,
        ];
        for text in texts {
            let ours = parse_strict(text.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_utf8_trailing_data_and_deep_nesting() {
        assert!(parse_strict(b"\"\xff\"").is_err());
        assert!(parse_strict(b"{} {}").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_strict(deep.as_bytes()).is_err());
    }
}
