//! Strict JSON input: the parser every verification path goes through.
//!
//! JSON parsers disagree on duplicate member names (first wins, last wins, error), so a
//! credential that contains them could mean one thing to the signer and another to the
//! verifier. We refuse such input. Nesting depth is bounded by serde_json's recursion limit
//! (128), so hostile input yields an error, never a stack overflow.
//!
//! The parser is written by hand rather than driving serde_json's `Deserializer` with a
//! visitor, because it is measurably faster and no crate we tried was. On the 4.7 KB signed
//! credential of the `sign_verify` bench, both versions measured in one session:
//! `rdfc_parts/parse_strict_signed` 12.4 µs through serde_json's `Deserializer` (as fast as
//! plain `serde_json::from_slice`), 9.4 µs here (-24%); `jcs/verify_3KB` 63.1 -> 59.4 µs.
//! Driving the same visitor with sonic-rs or simd-json (measured on a 3.4 KB credential) gained
//! 0-12%, less than this, and changed what is read: sonic-rs reads `-0` as `0.0` and has no
//! depth limit, simd-json reads `-0` as the integer `0`, and both word and place errors their
//! own way. The cost is mostly in building the `Value` (an allocation per string, a SipHash
//! per member name), not in scanning the bytes. What this parser saves: the input is checked
//! as UTF-8 once, strings are scanned eight bytes at a time, arrays and objects are built once
//! at their final size, no value passes through serde's visitor layer, and nothing recurses.
//!
//! It accepts exactly what `serde_json::from_slice::<Value>` (with the workspace's
//! `preserve_order` and `float_roundtrip` features) accepts, reads the same values (numbers
//! included: `u64` for a non-negative integer that fits, `i64` for a negative one, else the
//! correctly rounded `f64`) and reports its errors with the same text and position, apart from
//! refusing duplicate member names. `tests/json_differential.rs` and the `json_strict` fuzz
//! target check this against serde_json.

use serde_json::{Map, Number, Value};

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
/// Numbers and strings are read exactly as `serde_json::from_slice` reads them, and other
/// errors read as serde_json's (`expected value at line 1 column 5`). The values of the arrays
/// and objects being read wait on one stack shared by the whole parse (member names on
/// another), so each array and object is built once at its final size; each member name is
/// hashed once (small objects are checked for repeated names by comparing them).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    // The input is checked as UTF-8 once. Invalid input is read as far as its valid prefix
    // goes: an invalid byte outside a string is a syntax error where it stands, and a string
    // holding one is refused once its closing quote is found, as serde_json does.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => bytes
            .get(..e.valid_up_to())
            .and_then(|valid| std::str::from_utf8(valid).ok())
            .unwrap_or_default(),
    };
    let mut parser = Parser {
        bytes,
        text,
        index: 0,
        open: Vec::with_capacity(16),
        values: Vec::with_capacity(32),
        keys: Vec::with_capacity(32),
    };
    let value = parser.parse_document()?;
    // Only whitespace may follow.
    match parser.skip_whitespace() {
        Some(_) => Err(parser.peek_error(TRAILING_CHARACTERS)),
        None => Ok(value),
    }
}

impl JsonError {
    /// What is wrong, without the "not acceptable JSON" prefix of its `Display`.
    pub fn reason(&self) -> &str {
        &self.message
    }
}

// serde_json's error texts.
const EOF_LIST: &str = "EOF while parsing a list";
const EOF_OBJECT: &str = "EOF while parsing an object";
const EOF_STRING: &str = "EOF while parsing a string";
const EOF_VALUE: &str = "EOF while parsing a value";
const EXPECTED_COLON: &str = "expected `:`";
const EXPECTED_LIST_COMMA_OR_END: &str = "expected `,` or `]`";
const EXPECTED_OBJECT_COMMA_OR_END: &str = "expected `,` or `}`";
const EXPECTED_IDENT: &str = "expected ident";
const EXPECTED_VALUE: &str = "expected value";
const INVALID_ESCAPE: &str = "invalid escape";
const INVALID_NUMBER: &str = "invalid number";
const NUMBER_OUT_OF_RANGE: &str = "number out of range";
const INVALID_UNICODE: &str = "invalid unicode code point";
const CONTROL_CHARACTER: &str = "control character (\\u0000-\\u001F) found while parsing a string";
const KEY_MUST_BE_A_STRING: &str = "key must be a string";
const LONE_SURROGATE: &str = "lone leading surrogate in hex escape";
const TRAILING_COMMA: &str = "trailing comma";
const TRAILING_CHARACTERS: &str = "trailing characters";
const END_OF_HEX_ESCAPE: &str = "unexpected end of hex escape";
const RECURSION_LIMIT: &str = "recursion limit exceeded";

/// serde_json's recursion limit: its `Deserializer` refuses to open an array or object when
/// this many are already open (counting the new one), so at most 127 can be nested.
const DEPTH_LIMIT: usize = 128;

/// An array or object being read.
#[derive(Clone, Copy)]
struct Open {
    object: bool,
    /// Where its elements (or members' values) start on `Parser::values`.
    values: usize,
    /// Where its members' names start on `Parser::keys`.
    keys: usize,
}

/// Objects with up to this many members are checked for repeated names by comparing each new
/// name with the earlier ones; larger ones by the map they are built into.
const COMPARE_MAX: usize = 16;

/// The reason of a repeated member name `key` of the object at `path`.
fn duplicate(path: &str, key: &str) -> String {
    let dot = if path.is_empty() { "" } else { "." };
    format!(
        "duplicate member name \"{key}\" at `{path}{dot}{key}` (parsers disagree on which value wins, so it is refused)"
    )
}

/// serde_json's position of byte `index`: 1-based line, and the number of bytes between the
/// line's start and `index`.
fn position(bytes: &[u8], index: usize) -> (usize, usize) {
    let before = bytes.get(..index).unwrap_or(bytes);
    let start_of_line = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = 1 + before
        .iter()
        .take(start_of_line)
        .filter(|&&b| b == b'\n')
        .count();
    (line, index.saturating_sub(start_of_line))
}

/// True for the bytes a string cannot hold unescaped.
const fn is_control(b: u8) -> bool {
    b < 0x20
}

/// The offset of the first `"`, `\\` or control character in `bytes` (its length if none),
/// eight bytes at a time (the bit trick serde_json's own string scan uses: a byte's high bit
/// is set in `x - 0x01..01 & !x` when it is zero, and the lowest such byte is exact). On the
/// short strings of a credential this one pass measured a few percent faster than `memchr2`
/// for `"` and `\\` followed by a second pass for control characters, and needs no dependency.
#[inline]
fn find_special(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::MAX / 255;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(word);
        let ctrl = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let bs = w ^ (ONES * u64::from(b'\\'));
        let backslash = bs.wrapping_sub(ONES) & !bs;
        let found = (ctrl | quote | backslash) & (ONES << 7);
        if found != 0 {
            return offset + found.trailing_zeros() as usize / 8;
        }
        offset += 8;
    }
    offset
        + chunks
            .remainder()
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || is_control(b))
            .unwrap_or(chunks.remainder().len())
}

struct Parser<'b> {
    bytes: &'b [u8],
    /// The longest valid UTF-8 prefix of `bytes` (all of it unless the input is invalid).
    text: &'b str,
    /// The next byte to read.
    index: usize,
    /// The arrays and objects being read, innermost last (at most `DEPTH_LIMIT - 1`).
    open: Vec<Open>,
    /// The elements of the arrays and the member values of the objects being read.
    values: Vec<Value>,
    /// The member names of the objects being read.
    keys: Vec<String>,
}

impl Parser<'_> {
    /// An error at byte `index`, worded as serde_json's.
    #[cold]
    #[inline(never)]
    fn error_at(&self, index: usize, reason: &str) -> JsonError {
        let (line, column) = position(self.bytes, index);
        JsonError {
            message: format!("{reason} at line {line} column {column}"),
        }
    }

    /// serde_json's `error`: caused by the byte just read.
    #[cold]
    fn error(&self, reason: &str) -> JsonError {
        self.error_at(self.index, reason)
    }

    /// serde_json's `peek_error`: caused by the next byte (not yet read).
    #[cold]
    fn peek_error(&self, reason: &str) -> JsonError {
        self.error_at((self.index + 1).min(self.bytes.len()), reason)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.index).copied()
    }

    /// Skips JSON whitespace and returns the next byte, not read.
    #[inline]
    fn skip_whitespace(&mut self) -> Option<u8> {
        loop {
            match self.peek() {
                Some(b' ' | b'\n' | b'\t' | b'\r') => self.index += 1,
                other => return other,
            }
        }
    }

    /// Reads the document's value. Not recursive: the arrays and objects being read are on
    /// `open`, their elements and members on `values` and `keys`.
    fn parse_document(&mut self) -> Result<Value, JsonError> {
        'value: loop {
            let mut value = match self.skip_whitespace() {
                None => return Err(self.peek_error(EOF_VALUE)),
                Some(b'"') => {
                    self.index += 1;
                    Value::String(self.parse_string()?)
                }
                Some(b'-' | b'0'..=b'9') => self.parse_number()?,
                Some(b'{') => {
                    if self.open.len() + 1 >= DEPTH_LIMIT {
                        return Err(self.peek_error(RECURSION_LIMIT));
                    }
                    self.index += 1;
                    match self.skip_whitespace() {
                        Some(b'}') => {
                            self.index += 1;
                            Value::Object(Map::new())
                        }
                        Some(b'"') => {
                            self.open.push(Open {
                                object: true,
                                values: self.values.len(),
                                keys: self.keys.len(),
                            });
                            self.parse_key(self.keys.len())?;
                            continue 'value;
                        }
                        Some(_) => return Err(self.peek_error(KEY_MUST_BE_A_STRING)),
                        None => return Err(self.peek_error(EOF_OBJECT)),
                    }
                }
                Some(b'[') => {
                    if self.open.len() + 1 >= DEPTH_LIMIT {
                        return Err(self.peek_error(RECURSION_LIMIT));
                    }
                    self.index += 1;
                    match self.skip_whitespace() {
                        Some(b']') => {
                            self.index += 1;
                            Value::Array(Vec::new())
                        }
                        Some(_) => {
                            self.open.push(Open {
                                object: false,
                                values: self.values.len(),
                                keys: self.keys.len(),
                            });
                            continue 'value;
                        }
                        None => return Err(self.peek_error(EOF_LIST)),
                    }
                }
                Some(b't') => {
                    self.parse_ident(b"true")?;
                    Value::Bool(true)
                }
                Some(b'f') => {
                    self.parse_ident(b"false")?;
                    Value::Bool(false)
                }
                Some(b'n') => {
                    self.parse_ident(b"null")?;
                    Value::Null
                }
                Some(_) => return Err(self.peek_error(EXPECTED_VALUE)),
            };
            // `value` is complete: it joins the innermost open array or object, which may be
            // complete in turn.
            loop {
                let Some(&Open {
                    object,
                    values,
                    keys,
                }) = self.open.last()
                else {
                    return Ok(value);
                };
                self.values.push(value);
                if object {
                    match self.skip_whitespace() {
                        Some(b',') => {
                            self.index += 1;
                            match self.skip_whitespace() {
                                Some(b'"') => {
                                    self.parse_key(keys)?;
                                    continue 'value;
                                }
                                Some(b'}') => return Err(self.peek_error(TRAILING_COMMA)),
                                Some(_) => return Err(self.peek_error(KEY_MUST_BE_A_STRING)),
                                None => return Err(self.peek_error(EOF_VALUE)),
                            }
                        }
                        Some(b'}') => {
                            self.index += 1;
                            self.open.pop();
                            value = self.finish_object(values, keys)?;
                        }
                        Some(_) => return Err(self.peek_error(EXPECTED_OBJECT_COMMA_OR_END)),
                        None => return Err(self.peek_error(EOF_OBJECT)),
                    }
                } else {
                    match self.skip_whitespace() {
                        Some(b',') => {
                            self.index += 1;
                            match self.skip_whitespace() {
                                Some(b']') => return Err(self.peek_error(TRAILING_COMMA)),
                                Some(_) => continue 'value,
                                None => return Err(self.peek_error(EOF_VALUE)),
                            }
                        }
                        Some(b']') => {
                            self.index += 1;
                            self.open.pop();
                            // Exactly the elements' size (`Drain` knows its length).
                            value = Value::Array(self.values.drain(values..).collect());
                        }
                        Some(_) => return Err(self.peek_error(EXPECTED_LIST_COMMA_OR_END)),
                        None => return Err(self.peek_error(EOF_LIST)),
                    }
                }
            }
        }
    }

    /// Reads a member name (its `"` peeked) and the `:` after it, for the innermost open
    /// object, whose earlier names are `keys[first..]`.
    fn parse_key(&mut self, first: usize) -> Result<(), JsonError> {
        self.index += 1;
        let key = self.parse_string()?;
        let earlier = self.keys.get(first..).unwrap_or_default();
        if earlier.len() < COMPARE_MAX && earlier.contains(&key) {
            // Where serde_json's `Deserializer` reports an error of its visitor: after the
            // whitespace (and a `}`) that follow the name.
            if self.skip_whitespace() == Some(b'}') {
                self.index += 1;
            }
            let path = self.path(self.open.len().saturating_sub(1));
            return Err(self.error(&duplicate(&path, &key)));
        }
        match self.skip_whitespace() {
            Some(b':') => self.index += 1,
            Some(_) => return Err(self.peek_error(EXPECTED_COLON)),
            None => return Err(self.peek_error(EOF_OBJECT)),
        }
        self.keys.push(key);
        Ok(())
    }

    /// The object whose `}` has just been read, its members `keys[keys..]` and
    /// `values[values..]` (no longer open), built once at its final size.
    fn finish_object(&mut self, values: usize, keys: usize) -> Result<Value, JsonError> {
        let count = self.keys.len() - keys;
        let mut out = Map::with_capacity(count);
        let mut repeated = None;
        for (key, v) in self.keys.drain(keys..).zip(self.values.drain(values..)) {
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                // Only objects of more than `COMPARE_MAX` members get here.
                serde_json::map::Entry::Occupied(slot) => {
                    repeated = Some(slot.key().clone());
                    break;
                }
            }
        }
        match repeated {
            // The `}` has been read, as by serde_json when it reports the visitor's error.
            Some(key) => {
                let path = self.path(self.open.len());
                Err(self.error(&duplicate(&path, &key)))
            }
            None => Ok(Value::Object(out)),
        }
    }

    /// `a.b[2]`: where the value being read by the `levels` outermost open arrays and
    /// objects sits (the member or element each is reading).
    #[cold]
    fn path(&self, levels: usize) -> String {
        let mut out = String::new();
        for (i, level) in self.open.iter().enumerate().take(levels) {
            // What the next level in had when it was opened, or what there is now.
            let (values, keys) = self
                .open
                .get(i + 1)
                .map_or((self.values.len(), self.keys.len()), |next| {
                    (next.values, next.keys)
                });
            if level.object {
                if let Some(name) = keys.checked_sub(1).and_then(|k| self.keys.get(k)) {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
            } else {
                out.push('[');
                out.push_str(&(values - level.values).to_string());
                out.push(']');
            }
        }
        out
    }

    /// Reads `ident` (its first byte already peeked).
    fn parse_ident(&mut self, ident: &[u8]) -> Result<(), JsonError> {
        if self.bytes.get(self.index..self.index + ident.len()) == Some(ident) {
            self.index += ident.len();
            return Ok(());
        }
        for &expected in ident {
            match self.peek() {
                None => return Err(self.error(EOF_VALUE)),
                Some(b) => {
                    self.index += 1;
                    if b != expected {
                        return Err(self.error(EXPECTED_IDENT));
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads a string whose opening `"` has been read.
    #[inline]
    fn parse_string(&mut self) -> Result<String, JsonError> {
        let start = self.index;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let len = find_special(rest);
        let end = start + len;
        if self.bytes.get(end) == Some(&b'"') {
            self.index = end + 1;
            return match self.text.get(start..end) {
                Some(s) => Ok(s.to_owned()),
                None => Err(self.invalid_utf8(rest.get(..len).unwrap_or_default())),
            };
        }
        self.parse_string_slow(start)
    }

    /// Reads a string holding escapes or control characters (or none of its end), from
    /// `start`.
    #[cold]
    #[inline(never)]
    fn parse_string_slow(&mut self, start: usize) -> Result<String, JsonError> {
        let mut out: Vec<u8> = Vec::new();
        // The first byte not yet copied to `out`.
        let mut copied = start;
        loop {
            let rest = self.bytes.get(self.index..).unwrap_or_default();
            let Some(len) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || is_control(b))
            else {
                self.index = self.bytes.len();
                return Err(self.error(EOF_STRING));
            };
            self.index += len;
            let segment = self.bytes.get(copied..self.index).unwrap_or_default();
            match self.peek() {
                Some(b'"') => {
                    out.extend_from_slice(segment);
                    self.index += 1;
                    return String::from_utf8(out).map_err(|e| self.invalid_utf8(e.as_bytes()));
                }
                Some(b'\\') => {
                    out.extend_from_slice(segment);
                    self.index += 1;
                    self.parse_escape(&mut out)?;
                    copied = self.index;
                }
                _ => {
                    self.index += 1;
                    return Err(self.error(CONTROL_CHARACTER));
                }
            }
        }
    }

    /// serde_json's error for a string whose content (unescaped) is `content`, not UTF-8; the
    /// closing quote has been read.
    #[cold]
    fn invalid_utf8(&self, content: &[u8]) -> JsonError {
        let valid = std::str::from_utf8(content)
            .err()
            .map_or(content.len(), |e| e.valid_up_to());
        let (line, column) = position(self.bytes, self.index);
        JsonError {
            message: format!(
                "{INVALID_UNICODE} at line {line} column {}",
                column.saturating_sub(content.len() - valid)
            ),
        }
    }

    /// Reads the escape after a `\` into `out`.
    fn parse_escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let Some(b) = self.peek() else {
            return Err(self.error(EOF_STRING));
        };
        self.index += 1;
        let byte = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => b'\x08',
            b'f' => b'\x0c',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.parse_unicode_escape(out),
            _ => return Err(self.error(INVALID_ESCAPE)),
        };
        out.push(byte);
        Ok(())
    }

    /// Reads the four hex digits of a `\u` escape.
    fn hex_escape(&mut self) -> Result<u32, JsonError> {
        let Some(digits) = self.bytes.get(self.index..self.index + 4) else {
            self.index = self.bytes.len();
            return Err(self.error(EOF_STRING));
        };
        self.index += 4;
        let mut n = 0;
        for &d in digits {
            match char::from(d).to_digit(16) {
                Some(v) => n = n * 16 + v,
                None => return Err(self.error(INVALID_ESCAPE)),
            }
        }
        Ok(n)
    }

    /// Reads a `\u` escape (after the `u`) into `out`: a surrogate must be a leading one
    /// followed by `\u` and a trailing one.
    fn parse_unicode_escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let n = self.hex_escape()?;
        let code = match n {
            0xDC00..=0xDFFF => return Err(self.error(LONE_SURROGATE)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        None => return Err(self.error(EOF_STRING)),
                        Some(b) => {
                            self.index += 1;
                            if b != expected {
                                return Err(self.error(END_OF_HEX_ESCAPE));
                            }
                        }
                    }
                }
                let n2 = self.hex_escape()?;
                if !(0xDC00..=0xDFFF).contains(&n2) {
                    return Err(self.error(LONE_SURROGATE));
                }
                (((n - 0xD800) << 10) | (n2 - 0xDC00)) + 0x1_0000
            }
            _ => n,
        };
        match char::from_u32(code) {
            Some(c) => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                Ok(())
            }
            None => Err(self.error(LONE_SURROGATE)),
        }
    }

    /// Reads a number (its first byte, `-` or a digit, peeked) as serde_json does: a `u64` if
    /// it is a non-negative integer that fits, an `i64` if it is a negative one that fits, else
    /// the correctly rounded `f64` (`-0` is the float `-0.0`); a number beyond the `f64` range
    /// is an error.
    #[inline(never)]
    fn parse_number(&mut self) -> Result<Value, JsonError> {
        let start = self.index;
        let positive = if self.peek() == Some(b'-') {
            self.index += 1;
            false
        } else {
            true
        };
        // The integer part, kept as a u64 while it fits.
        let mut significand: u64 = 0;
        let mut fits = true;
        match self.peek() {
            None => return Err(self.error(EOF_VALUE)),
            Some(b'0') => {
                self.index += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.peek_error(INVALID_NUMBER));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    self.index += 1;
                    match significand
                        .checked_mul(10)
                        .and_then(|s| s.checked_add(u64::from(d - b'0')))
                    {
                        Some(s) if fits => significand = s,
                        _ => fits = false,
                    }
                }
            }
            Some(_) => {
                self.index += 1;
                return Err(self.error(INVALID_NUMBER));
            }
        }
        let mut float = !fits;
        if self.peek() == Some(b'.') {
            self.index += 1;
            let digits = self.skip_digits();
            if digits == 0 {
                return Err(match self.peek() {
                    Some(_) => self.peek_error(INVALID_NUMBER),
                    None => self.peek_error(EOF_VALUE),
                });
            }
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let mantissa_end = self.index;
            self.index += 1;
            let positive_exp = match self.peek() {
                Some(b'+') => {
                    self.index += 1;
                    true
                }
                Some(b'-') => {
                    self.index += 1;
                    false
                }
                _ => true,
            };
            match self.peek() {
                None => return Err(self.error(EOF_VALUE)),
                Some(b'0'..=b'9') => {}
                Some(_) => {
                    self.index += 1;
                    return Err(self.error(INVALID_NUMBER));
                }
            }
            let mut exp: i32 = 0;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.index += 1;
                match exp
                    .checked_mul(10)
                    .and_then(|e| e.checked_add(i32::from(d - b'0')))
                {
                    Some(e) => exp = e,
                    None => return self.exponent_overflow(start, mantissa_end, positive_exp),
                }
            }
            float = true;
        }
        if !float {
            return Ok(Value::Number(if positive {
                Number::from(significand)
            } else {
                // As serde_json: a negative integer below `i64::MIN`, and `-0`, are floats.
                let neg = (significand as i64).wrapping_neg();
                if neg >= 0 {
                    let f = -(significand as f64);
                    return self.float(f);
                }
                Number::from(neg)
            }));
        }
        // The standard library's parse is correctly rounded, as serde_json's `float_roundtrip`
        // is, so both give the one nearest `f64`.
        let f = self
            .text
            .get(start..self.index)
            .and_then(|s| s.parse::<f64>().ok());
        match f {
            Some(f) => self.float(f),
            None => Err(self.error(INVALID_NUMBER)),
        }
    }

    /// Skips ASCII digits and returns how many there were.
    fn skip_digits(&mut self) -> usize {
        let rest = self.bytes.get(self.index..).unwrap_or_default();
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.index += n;
        n
    }

    /// A finite float as a number; beyond the `f64` range is an error.
    fn float(&self, f: f64) -> Result<Value, JsonError> {
        match Number::from_f64(f) {
            Some(n) if f.is_finite() => Ok(Value::Number(n)),
            _ => Err(self.error(NUMBER_OUT_OF_RANGE)),
        }
    }

    /// serde_json's reading of an exponent beyond `i32`: an error when it is positive and the
    /// significand is not zero, else zero (of the number's sign). The number's mantissa is
    /// `start..mantissa_end`.
    #[cold]
    fn exponent_overflow(
        &mut self,
        start: usize,
        mantissa_end: usize,
        positive_exp: bool,
    ) -> Result<Value, JsonError> {
        let mantissa = self.bytes.get(start..mantissa_end).unwrap_or_default();
        let zero = !mantissa.iter().any(|b| matches!(b, b'1'..=b'9'));
        if !zero && positive_exp {
            return Err(self.error(NUMBER_OUT_OF_RANGE));
        }
        self.skip_digits();
        self.float(if mantissa.first() == Some(&b'-') {
            -0.0
        } else {
            0.0
        })
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
