//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Members are sorted by their names' UTF-16 code units, strings use the minimal escaping of
//! ECMAScript's `JSON.stringify`, and numbers are written as ECMAScript's
//! `Number.prototype.toString` writes the IEEE 754 double they denote (via `ryu-js`).

use serde_json::Value;

/// The canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    canonicalize_to_string(value).into_bytes()
}

/// The canonical form of `value` as a string.
pub fn canonicalize_to_string(value: &Value) -> String {
    let mut w = Writer::new(String::with_capacity(1024));
    w.value(value);
    w.out
}

/// The canonical form of a document seen through a proof: without the member `skip`
/// (`proof`), and with `@context` replaced by `context` when given. Saves copying the document.
pub(crate) fn canonicalize_document_view<'a>(
    map: &'a serde_json::Map<String, Value>,
    skip: &str,
    context: Option<&'a Value>,
) -> String {
    let mut w = Writer::new(String::with_capacity(4096));
    w.document_view(map, skip, context);
    w.out
}

/// Writes canonical JSON into `out`. The members of the objects being written wait on one
/// stack, `scratch`, shared by the whole value (an object's members are sorted there and
/// removed once written), so no object needs an allocation of its own.
struct Writer<'v> {
    out: String,
    scratch: Vec<(&'v str, &'v Value)>,
}

impl<'v> Writer<'v> {
    fn new(out: String) -> Self {
        Self {
            out,
            scratch: Vec::with_capacity(64),
        }
    }

    /// Writes `map` without its member `skip`, its `@context` replaced by `context` if given.
    fn document_view(
        &mut self,
        map: &'v serde_json::Map<String, Value>,
        skip: &str,
        context: Option<&'v Value>,
    ) {
        for (k, v) in map {
            if k == skip {
                continue;
            }
            match (k.as_str(), context) {
                ("@context", Some(ctx)) => self.scratch.push((k, ctx)),
                _ => self.scratch.push((k, v)),
            }
        }
        self.members(0);
    }

    fn value(&mut self, value: &'v Value) {
        match value {
            Value::Null => self.out.push_str("null"),
            Value::Bool(true) => self.out.push_str("true"),
            Value::Bool(false) => self.out.push_str("false"),
            Value::Number(n) => write_number(n, &mut self.out),
            Value::String(s) => write_string(s, &mut self.out),
            Value::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(item);
                }
                self.out.push(']');
            }
            Value::Object(map) => {
                let base = self.scratch.len();
                self.scratch
                    .extend(map.iter().map(|(k, v)| (k.as_str(), v)));
                self.members(base);
            }
        }
    }

    /// Writes the object whose members are `scratch[base..]`, then removes them.
    fn members(&mut self, base: usize) {
        let end = self.scratch.len();
        if let Some(members) = self.scratch.get_mut(base..) {
            // ASCII names (nearly all) order by bytes; test that once, not per comparison.
            if members.iter().all(|(k, _)| k.is_ascii()) {
                members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            } else {
                members.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
            }
        }
        self.out.push('{');
        for i in base..end {
            // Nested objects use `scratch[end..]` and leave it as they found it.
            let Some(&(k, v)) = self.scratch.get(i) else {
                break;
            };
            if i > base {
                self.out.push(',');
            }
            write_string(k, &mut self.out);
            self.out.push(':');
            self.value(v);
        }
        self.out.push('}');
        self.scratch.truncate(base);
    }
}

/// Orders strings by UTF-16 code units, as RFC 8785 §3.2.3 requires.
fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn write_number(n: &serde_json::Number, out: &mut String) {
    // Every JSON number denotes an IEEE 754 double for JCS; integers beyond 2^53 round.
    let f = if let Some(i) = n.as_i64() {
        i as f64
    } else if let Some(u) = n.as_u64() {
        u as f64
    } else {
        n.as_f64().unwrap_or(0.0)
    };
    if f == 0.0 {
        // Negative zero serializes as "0" in ECMAScript.
        out.push('0');
        return;
    }
    let mut buf = ryu_js::Buffer::new();
    out.push_str(buf.format_finite(f));
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    // Most strings have nothing to escape: a branch-free test (vectorized) copies them whole.
    let special = s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !special {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    // Only ASCII controls, `"` and `\` are escaped, so the scan is over bytes (every byte of
    // a multi-byte character is >= 0x80) and the text between escapes is copied whole.
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or(""));
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_by_utf16_code_units_not_code_points() {
        // U+FB33 (one UTF-16 unit 0xFB33) sorts after U+1F600 (surrogates 0xD83D...).
        let v = json!({"\u{fb33}": 1, "\u{1f600}": 2, "a": 3});
        assert_eq!(
            canonicalize_to_string(&v),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    proptest::proptest! {
        /// Strings are escaped as ECMAScript's `JSON.stringify` escapes them, which is also
        /// what serde_json writes.
        #[test]
        fn strings_escape_like_json_stringify(text in "(?s).{0,40}", controls in "[\\x00-\\x1f\"\\\\]{0,4}") {
            for s in [text.clone(), format!("{controls}{text}{controls}")] {
                let mut out = String::new();
                write_string(&s, &mut out);
                proptest::prop_assert_eq!(out, serde_json::to_string(&s).unwrap_or_default());
            }
        }
    }

    #[test]
    fn escapes_controls_minimally() {
        let v = json!("\u{1}\n\u{1f}/\u{7f}é");
        assert_eq!(canonicalize_to_string(&v), "\"\\u0001\\n\\u001f/\u{7f}é\"");
    }
}
