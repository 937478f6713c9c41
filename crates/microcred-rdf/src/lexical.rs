//! Canonical lexical forms: xsd:double, xsd:integer and JCS (RFC 8785) for `@json` literals.

use serde_json::{Number, Value};

/// Canonical xsd:double as JSON-LD processors write it: `%1.15E` with trailing zeros of the
/// mantissa removed (keeping one digit), e.g. `1.1E0`, `1.0E21`, `-5.0E-7`.
pub(crate) fn double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF" } else { "-INF" }.to_owned();
    }
    let s = format!("{f:.15e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = match mantissa.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{int}.0")
            } else {
                format!("{int}.{frac}")
            }
        }
        None => format!("{mantissa}.0"),
    };
    format!("{mantissa}E{exp}")
}

/// Canonical xsd:integer of a JSON number that has no fractional part.
pub(crate) fn integer(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        "0".to_owned()
    } else {
        format!("{f:.0}")
    }
}

/// How a JSON number becomes an RDF literal (JSON-LD 1.1 Object to RDF Conversion, steps 11-12).
/// Returns the lexical form and whether it is a double.
pub(crate) fn number(n: &Number, force_double: bool) -> (String, bool) {
    let as_f = n.as_f64().unwrap_or(0.0);
    let integral = n.is_i64() || n.is_u64() || (as_f.fract() == 0.0 && as_f.abs() < 1e21);
    if force_double || !integral {
        (double(as_f), true)
    } else {
        (integer(n), false)
    }
}

/// Appends the JCS (RFC 8785) serialization of `v`. Fails (returns false) if nesting exceeds
/// `depth_left`.
pub(crate) fn jcs(out: &mut String, v: &Value, depth_left: usize) -> bool {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => jcs_number(out, n),
        Value::String(s) => jcs_string(out, s),
        Value::Array(a) => {
            if depth_left == 0 {
                return false;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !jcs(out, x, depth_left - 1) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(m) => {
            if depth_left == 0 {
                return false;
            }
            let mut keys: Vec<(&String, &Value)> = m.iter().collect();
            // RFC 8785: sort by UTF-16 code units.
            keys.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, x)) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jcs_string(out, k);
                out.push(':');
                if !jcs(out, x, depth_left - 1) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

fn jcs_number(out: &mut String, n: &Number) {
    // ECMAScript Number::toString of the IEEE double.
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        out.push('0');
        return;
    }
    let mut buf = ryu_js::Buffer::new();
    out.push_str(buf.format_finite(f));
}

fn jcs_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles() {
        assert_eq!(double(1.1), "1.1E0");
        assert_eq!(double(1.0), "1.0E0");
        assert_eq!(double(1e21), "1.0E21");
        assert_eq!(double(-0.000_000_5), "-5.0E-7");
        assert_eq!(double(5.3), "5.3E0");
        assert_eq!(double(0.1 + 0.2), "3.0E-1");
    }

    #[test]
    fn jcs_sorts_and_formats() {
        // RFC 8785 sorts by UTF-16 code units: U+20AC before U+1F600 (a surrogate pair).
        let v: Value = serde_json::from_str(
            r#"{"b":[1.0,2.5,1e21,-0.0],"a":"\u0001x","\u20ac":1,"\ud83d\ude00":2}"#,
        )
        .unwrap();
        let mut s = String::new();
        assert!(jcs(&mut s, &v, 10));
        assert_eq!(
            s,
            "{\"a\":\"\\u0001x\",\"b\":[1,2.5,1e+21,0],\"\u{20ac}\":1,\"\u{1f600}\":2}"
        );
    }
}
