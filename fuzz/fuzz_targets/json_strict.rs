//! The strict JSON parser every verification and request body goes through: any bytes give a
//! value or an error, never a panic; a value it accepts serializes and parses back to itself.
//!
//! It is written by hand, so it is also held to serde_json (differentially): where serde_json
//! reads a value, `parse_strict` reads the identical value (numbers of the same kind and bits,
//! members in the same order) or refuses a repeated member name; where serde_json refuses the
//! bytes, `parse_strict` refuses them with the same error text and position (or for a repeated
//! member name read before serde_json's error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Equal as JSON and in representation (`-0.0` is not `0.0`, `1` is not `1.0`, member order
/// counts).
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

fuzz_target!(|data: &[u8]| {
    let ours = microcred_core::parse_strict(data);
    let theirs = serde_json::from_slice::<Value>(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert!(identical(a, b), "read differently from serde_json"),
        (Ok(_), Err(e)) => panic!("accepted what serde_json refuses: {e}"),
        (Err(e), Ok(_)) => assert!(
            e.is_duplicate_member(),
            "refused what serde_json reads: {e}"
        ),
        (Err(e), Err(_)) if e.is_duplicate_member() => {}
        (Err(e), Err(s)) => assert_eq!(e.reason(), s.to_string(), "error differs from serde_json"),
    }
    if let Ok(value) = ours {
        let text = serde_json::to_vec(&value).unwrap_or_default();
        let again = microcred_core::parse_strict(&text);
        assert!(
            again.is_ok_and(|v| v == value),
            "strict JSON does not round-trip"
        );
    }
});
