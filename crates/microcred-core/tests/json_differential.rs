//! `parse_strict` is a hand-written parser; these tests hold it to serde_json. The reference is
//! the strict parser it replaced: serde_json's own `Deserializer` driven by a visitor that
//! refuses repeated member names. On any input both give the same value (numbers of the same
//! kind and bits, members in the same order) or the same error text, position included; and
//! where no member name repeats, `parse_strict` accepts exactly what
//! `serde_json::from_slice::<Value>` accepts and reads the same value.

// Test helpers may unwrap and panic: a failure is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;

use microcred_core::parse_strict;
use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// The reference: serde_json's `Deserializer` with the duplicate-refusing visitor (the previous
// implementation of `parse_strict`, kept verbatim apart from its result type).

fn reference(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut members = Vec::with_capacity(32);
    StrictSeed {
        at: None,
        members: &mut members,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| e.to_string())
}

struct Step<'a> {
    parent: Option<&'a Self>,
    at: StepKind<'a>,
}

enum StepKind<'a> {
    Member(&'a str),
    Index(usize),
}

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

const COMPARE_MAX: usize = 16;

fn duplicate<E: de::Error>(key: &str, step: &Step<'_>) -> E {
    E::custom(format!(
        "duplicate member name \"{key}\" at `{}` (parsers disagree on which value wins, so it is refused)",
        render(Some(step))
    ))
}

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

// ---------------------------------------------------------------------------------------------
// Comparison.

/// Equal as JSON *and* in representation: numbers of the same kind (u64, i64, f64) and bits
/// (so `-0.0` differs from `0.0`), members in the same order.
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.is_u64() == y.is_u64()
                && x.is_i64() == y.is_i64()
                && x.is_f64() == y.is_f64()
                && x.as_u64() == y.as_u64()
                && x.as_i64() == y.as_i64()
                && x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| identical(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
        }
        _ => a == b,
    }
}

/// Checks `parse_strict` against the reference and against `serde_json::from_slice`.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let ours = parse_strict(bytes);
    let theirs = reference(bytes);
    let plain = serde_json::from_slice::<Value>(bytes);
    let shown = String::from_utf8_lossy(bytes);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => prop_assert!(identical(a, b), "{a:?} != {b:?} for {shown:?}"),
        (Err(a), Err(b)) => prop_assert_eq!(a.reason(), b.as_str(), "for {:?}", shown),
        _ => prop_assert!(false, "{ours:?} vs {theirs:?} for {shown:?}"),
    }
    match (&ours, &plain) {
        (Ok(a), Ok(b)) => prop_assert!(identical(a, b), "{a:?} != {b:?} for {shown:?}"),
        // Repeated member names are the one difference (refused as soon as they are read, so
        // also when a syntax error follows them).
        (Err(a), Ok(_)) => prop_assert!(a.is_duplicate_member(), "{a} for {shown:?}"),
        (Err(a), Err(_)) if a.is_duplicate_member() => {}
        (Err(a), Err(b)) => prop_assert_eq!(a.reason(), b.to_string(), "for {:?}", shown),
        (Ok(_), Err(b)) => prop_assert!(false, "accepted what serde_json refuses ({b}): {shown:?}"),
    }
    Ok(())
}

fn assert_same(bytes: &[u8]) {
    if let Err(e) = check(bytes) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Generators of JSON text.

/// Insignificant whitespace, mostly none.
fn ws() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", "", " ", "\n", "\t", "\r\n  ", "  "])
}

/// Numbers in every form the grammar allows, and beyond what u64, i64 and f64 hold.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "0",
            "-0",
            "-0.0",
            "0.0",
            "1E2",
            "1e+2",
            "-1e-2",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1e308",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e309",
            "1e400",
            "-1e400",
            "4.9e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1e-400",
            "-1e-400",
            "0e999999999999",
            "1e2147483647",
            "1e2147483648",
            "1e-2147483648",
            "0.1e-2147483648",
            "123456789012345678901234567890",
            "0.30000000000000004",
            "9007199254740993",
            "-9007199254740993.0",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
        ])
        .prop_map(String::from),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        (
            any::<bool>(),
            "(0|[1-9][0-9]{0,30})",
            proptest::option::of("[0-9]{1,30}"),
            proptest::option::of("[eE][+-]?[0-9]{1,12}"),
        )
            .prop_map(|(neg, int, frac, exp)| {
                let mut s = String::new();
                if neg {
                    s.push('-');
                }
                s.push_str(&int);
                if let Some(frac) = frac {
                    s.push('.');
                    s.push_str(&frac);
                }
                s.push_str(exp.as_deref().unwrap_or(""));
                s
            }),
    ]
}

/// One piece of string content, as written between the quotes.
fn string_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9 _:/.#@-]{1,12}",
        2 => any::<char>()
            .prop_filter("written unescaped", |c| !matches!(c, '"' | '\\') && *c >= ' ')
            .prop_map(String::from),
        2 => prop::sample::select(vec![
            "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "é", "€", "😀", "\u{7f}",
            "\u{a0}", "\u{2028}", "\u{fffd}", "\\ud83d\\ude00", "\\uD83D\\uDE00", "\\u00e9",
            "\\u0000", "\\u001f", "\\u0061",
        ])
        .prop_map(String::from),
        1 => (any::<u16>(), any::<bool>()).prop_map(|(n, upper)| if upper {
            format!("\\u{n:04X}")
        } else {
            format!("\\u{n:04x}")
        }),
        1 => (0xD800u16..0xDC00, 0xDC00u16..0xE000).prop_map(|(hi, lo)| format!("\\u{hi:04x}\\u{lo:04x}")),
        // Invalid on purpose: control characters, lone surrogates, bad escapes.
        1 => prop::sample::select(vec![
            "\u{0}", "\u{1f}", "\n", "\t", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\ud800x",
            "\\ud800\\", "\\ud800\\n", "\\x", "\\u12", "\\u12G4", "\\U0041",
        ])
        .prop_map(String::from),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop::collection::vec(string_piece(), 0..4).prop_map(|p| format!("\"{}\"", p.concat()))
}

/// Member names: a few that repeat often (also spelled with escapes) and arbitrary ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["\"a\"", "\"b\"", "\"id\"", "\"type\"", "\"\\u0061\"", "\"é\"", "\"\\u00e9\"", "\"\""])
            .prop_map(String::from),
        2 => "\"[a-z]{1,3}\"",
        1 => string(),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => number(),
        3 => string(),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(String::from),
    ]
}

/// A JSON document (or nearly one: strings may hold errors on purpose).
fn json_text() -> impl Strategy<Value = String> {
    let leaf = (ws(), scalar(), ws()).prop_map(|(a, s, b)| format!("{a}{s}{b}"));
    leaf.prop_recursive(6, 96, 24, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key(), ws(), inner.clone()), 0..6).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, w, v)| format!("{k}{w}:{v}"))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
            // Objects larger than `COMPARE_MAX`, checked for repeats through their map.
            prop::collection::vec((key(), inner), 15..24).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .enumerate()
                    .map(|(i, (k, v))| {
                        if i % 3 == 0 {
                            format!("{k}:{v}")
                        } else {
                            format!("\"m{i}\":{v}")
                        }
                    })
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Bytes worth putting into a document to break it.
fn breaking_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(
            b"{}[]:,\"\\u0123456789abcdefABCDEF.eE+-tfnrl \n\t\r\x00\x1f\x7f\x0c".to_vec()
        ),
        1 => prop::sample::select(vec![0x80u8, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff]),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), breaking_byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        3 => (any::<Index>(), breaking_byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<Index>().prop_map(Mutation::Delete),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Replace(i, b) if len > 0 => bytes[i.index(len)] = *b,
            Mutation::Insert(i, b) => bytes.insert(i.index(len + 1), *b),
            Mutation::Delete(i) if len > 0 => {
                bytes.remove(i.index(len));
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(len + 1)),
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Generated documents: same value or same error.
    #[test]
    fn generated_documents_read_as_serde_json_reads_them(text in json_text(), a in ws(), b in ws()) {
        check(format!("{a}{text}{b}").as_bytes())?;
    }

    /// Generated documents with a few bytes replaced, inserted or removed.
    #[test]
    fn mutated_documents_are_refused_as_serde_json_refuses_them(
        text in json_text(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        check(&mutate(text.into_bytes(), &mutations))?;
    }

    /// Arbitrary bytes (mostly refused early, in every way serde_json refuses them).
    #[test]
    fn arbitrary_bytes_are_refused_as_serde_json_refuses_them(
        bytes in prop::collection::vec(breaking_byte(), 0..48),
    ) {
        check(&bytes)?;
    }

    /// Numbers alone and in arrays, where every syntax and range rule applies.
    #[test]
    fn numbers_read_as_serde_json_reads_them(n in number(), m in number(), cut in any::<Index>()) {
        check(n.as_bytes())?;
        check(format!("[{n},{m}]").as_bytes())?;
        check(&n.as_bytes()[..cut.index(n.len() + 1)])?;
    }
}

// ---------------------------------------------------------------------------------------------
// Edge cases, each against the reference.

#[test]
fn nesting_limit_is_serde_jsons() {
    for n in 120..=140 {
        let arrays = "[".repeat(n) + &"]".repeat(n);
        let objects = "{\"a\":".repeat(n) + "1" + &"}".repeat(n);
        let mixed = "[{\"a\":".repeat(n / 2) + "[]" + &"}]".repeat(n / 2);
        let open = "[".repeat(n);
        for text in [arrays, objects, mixed, open] {
            assert_same(text.as_bytes());
        }
    }
    // The exact boundary: 127 nested arrays are read, 128 are refused.
    assert!(parse_strict(("[".repeat(127) + &"]".repeat(127)).as_bytes()).is_ok());
    let err = parse_strict(("[".repeat(128) + &"]".repeat(128)).as_bytes()).unwrap_err();
    assert!(
        err.reason().starts_with("recursion limit exceeded"),
        "{err}"
    );
}

#[test]
fn numbers_are_serde_jsons() {
    let cases = [
        "0",
        "-0",
        "-0.0",
        "0.0",
        "-0e5",
        "1E2",
        "1e2",
        "1E+2",
        "1e-2",
        "01",
        "-01",
        "1.",
        "1.e2",
        ".5",
        "+1",
        "-",
        "--1",
        "1e",
        "1e+",
        "1e-",
        "1ee2",
        "0x10",
        "1.5e",
        "1.5e-3",
        "-1.5E+03",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "-18446744073709551616",
        "99999999999999999999999999999999",
        "1e309",
        "1e400",
        "-1e400",
        "1e-400",
        "0e99999999999",
        "1e99999999999",
        "1e-99999999999",
        "-0.0e99999999999",
        "0.000e2147483648",
        "123.456e2147483647",
        "1e2147483647",
        "1e-2147483648",
        "4.9e-324",
        "5e-324",
        "2e-324",
        "2.4703282292062328e-324",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "0.1",
        "0.30000000000000004",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "12345678901234567890.12345678901234567890e-10",
        "NaN",
        "Infinity",
        "-Infinity",
        "1 2",
        "[1,]",
        "[-]",
        "[1e]",
        "{\"a\":-}",
        "[01]",
        "[1.]",
        "[0.e1]",
    ];
    for text in cases {
        assert_same(text.as_bytes());
    }
}

#[test]
fn strings_are_serde_jsons() {
    let cases: &[&[u8]] = &[
        b"\"\"",
        b"\"abc",
        b"\"abc\\",
        b"\"\\u",
        b"\"\\u12",
        b"\"\\u12\"",
        b"\"\\u12G4\"",
        b"\"\\ud83d\\ude00\"",
        b"\"\\ud83d\"",
        b"\"\\ud83d",
        b"\"\\ud83d\\",
        b"\"\\ud83d\\n\"",
        b"\"\\ud83d\\u0041\"",
        b"\"\\ud83d\\ud83d\"",
        b"\"\\ude00\"",
        b"\"\\u0000\"",
        b"\"a\x00b\"",
        b"\"a\x1fb\"",
        b"\"a\x7fb\"",
        b"\"tab\there\"",
        b"\"\\x\"",
        b"\"\\'\"",
        b"\"\\U0041\"",
        b"\"\xc3\xa9\"",
        b"\"\xff\"",
        b"\"ab\xffcd\"",
        b"\"ab\\n\xffcd\"",
        b"\"\xc3\"",
        b"\"\xc3",
        b"\"\xed\xa0\x80\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"\xe2\x82\"",
        b"\"\xff\\x\"",
        b"\"\xff\x01\"",
        b"\"\xff",
        b"\xff",
        b"[\"a\",\xff]",
        b"\xef\xbb\xbf{}",
        b"{\"\xff\":1}",
        b"{\"a\xff\":1,\"a\xff\":2}",
        b"\"line\n\"",
        b"\n\n  \"a\\q\"",
        b"[\"\\u00e9\\u20ac\\ud83d\\ude00\", \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
    ];
    for text in cases {
        assert_same(text);
    }
}

#[test]
fn structure_errors_are_serde_jsons() {
    let cases = [
        "",
        " ",
        "\n",
        "\u{c}1",
        "\u{a0}1",
        "nul",
        "nulll",
        "tru",
        "True",
        "fals",
        "n",
        "[",
        "]",
        "{",
        "}",
        "[1",
        "[1,",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1:2]",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1",
        "{\"a\":1,",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "{a:1}",
        "{,}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1}}",
        "[]]",
        "[] x",
        "{} {}",
        "1 ",
        " 1\r\n\t",
        "\"a\" \"b\"",
        "[\n1,\n2\n",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"a\"}",
        "{\"a\":1,\"a\" }",
        "{\"a\":1 , \"a\" : 2}",
        "[{\"a\":{\"x\":1,\"x\":2}}]",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"a\":{\"b\":1},\"a\":[]}",
        "\n\n{\"x\":[1,\n{\"y\":1,\"y\":2}]}",
        "{\"a\":1,\"b\":2,\"a\":3",
        "{\"a\":1,\"a\":2,",
    ];
    for text in cases {
        assert_same(text.as_bytes());
    }
    // Large objects report their repeated names once read to the end.
    let members: Vec<String> = (0..20).map(|i| format!("\"m{i}\":{i}")).collect();
    let mut with_repeat = members.clone();
    with_repeat.push("\"m3\":1".into());
    assert_same(format!("{{{}}}", with_repeat.join(",")).as_bytes());
    assert_same(format!("{{{}}}  ", with_repeat.join(",\n")).as_bytes());
    assert_same(format!("[{{{}}}]", with_repeat.join(",")).as_bytes());
    assert_same(format!("[{{{}}} x", with_repeat.join(",")).as_bytes());
    assert_same(format!("{{{},}}", with_repeat.join(",")).as_bytes());
}
