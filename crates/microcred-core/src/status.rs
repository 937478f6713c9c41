//! Bitstring Status List v1.0 (W3C Recommendation, <https://www.w3.org/TR/vc-bitstring-status-list/>):
//! the bitstring and its `encodedList` form, `credentialStatus` entries, and status list
//! credentials as a verifier receives them.
//!
//! No I/O here: a caller that fetched or saved a list passes it in as a
//! [`StatusListCredential`] (with the time it was captured), and verification
//! ([`crate::VerifyOptions::status_lists`]) reads the credential's bit from it.
//!
//! - `encodedList` is the GZIP-compressed (RFC 1952) bitstring, multibase base64url without
//!   padding (prefix `u`).
//! - Index 0 is the left-most (most significant) bit of the first byte (spec §2.2).
//! - A list has at least [`MIN_STATUS_LIST_ENTRIES`] (131,072) entries, 16 KB uncompressed.

use std::io::{Read, Write};

use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

/// The GZIP level of [`Bitstring::encode`]: 1 (`Compression::fast()`), chosen by measurement
/// (`benches/status.rs`, groups `gzip_level_*`; flate2 with miniz_oxide, one core of the
/// development machine) on full 131,072-entry lists with random bits set. GZIP time, and
/// `encodedList` length in characters:
///
/// | bits set         | level 1         | level 2         | level 3         | level 6 (default) | level 9         |
/// |------------------|-----------------|-----------------|-----------------|-------------------|-----------------|
/// | 300              |  13 µs,  1,473  |  34 µs,  1,088  |  60 µs,  1,113  | 145 µs,    991    | 311 µs,    920  |
/// | 2,000            |  33 µs,  5,275  |  55 µs,  4,427  | 100 µs,  4,264  | 569 µs,  3,795    | 2.1 ms,  3,599  |
/// | 65,536 (random)  |  54 µs, 21,877  | 147 µs, 21,877  | 147 µs, 21,877  | 147 µs, 21,877    | 147 µs, 21,877  |
///
/// A list is re-encoded and re-signed on every revocation, so encoding time counts; the
/// default level spent 0.57 ms on a usual (sparse) list to save 1.5 KB of text over level 1,
/// and a random list does not compress at any level (level 1 is just the fastest at storing
/// it). With level 1, encoding and signing (eddsa-rdfc-2022) the list credential takes about
/// 60 µs for 2,000 bits set and 95 µs for a random list (target: under 200 µs for a sparse
/// list; it was about 650 µs).
const ENCODE_LEVEL: flate2::Compression = flate2::Compression::fast();

/// The smallest list the spec allows (16 KB): it gives holders group privacy.
pub const MIN_STATUS_LIST_ENTRIES: usize = 131_072;
/// The largest decompressed list accepted (16 MiB, 134 million entries): a GZIP bomb stops
/// here instead of filling memory.
pub const MAX_STATUS_LIST_BYTES: usize = 16 * 1024 * 1024;
/// `type` of a `credentialStatus` entry of this method.
pub const STATUS_LIST_ENTRY: &str = "BitstringStatusListEntry";
/// `type` of the credential that carries a list.
pub const STATUS_LIST_CREDENTIAL: &str = "BitstringStatusListCredential";
/// `type` of the list (the list credential's subject).
pub const STATUS_LIST: &str = "BitstringStatusList";

/// Something about a status list or a status entry is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// A list shorter than the spec's minimum was requested.
    #[error("a status list needs at least {min} entries (16 KB uncompressed); {got} is too short", min = MIN_STATUS_LIST_ENTRIES)]
    TooShort {
        /// The requested length in entries.
        got: usize,
    },
    /// List lengths are whole bytes.
    #[error("a status list's length must be a multiple of 8 entries (whole bytes); {0} is not")]
    NotWholeBytes(usize),
    /// The index is outside the list.
    #[error("index {index} is outside the status list (it has {len} entries)")]
    OutOfRange {
        /// The index asked for.
        index: u64,
        /// The list's length in entries.
        len: usize,
    },
    /// `encodedList` is not multibase base64url.
    #[error(
        "encodedList is not multibase base64url (a 'u' followed by base64url without padding): {0}"
    )]
    Multibase(String),
    /// `encodedList` does not decompress.
    #[error("encodedList is not valid GZIP data: {0}")]
    Gzip(String),
    /// The decompressed list is larger than [`MAX_STATUS_LIST_BYTES`].
    #[error("the status list decompresses to more than {} MiB: refused (a GZIP bomb, or not a status list)", MAX_STATUS_LIST_BYTES >> 20)]
    TooLarge,
    /// The document is not a usable `BitstringStatusListCredential`.
    #[error("not a usable BitstringStatusListCredential: {0}")]
    NotAList(String),
    /// A `credentialStatus` entry is malformed.
    #[error("malformed BitstringStatusListEntry: {0}")]
    Entry(String),
    /// A `credentialStatus` entry of another status method.
    #[error("status method \"{0}\" is not supported (only BitstringStatusListEntry is)")]
    UnsupportedMethod(String),
}

/// A status bitstring: one bit per credential (`statusSize` 1). Index 0 is the most
/// significant bit of the first byte.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Bitstring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitstring")
            .field("entries", &self.len())
            .field("set", &self.count_set())
            .finish()
    }
}

impl Bitstring {
    /// An all-zero list of `entries` bits (at least [`MIN_STATUS_LIST_ENTRIES`], whole bytes).
    pub fn new(entries: usize) -> Result<Self, StatusError> {
        if entries < MIN_STATUS_LIST_ENTRIES {
            return Err(StatusError::TooShort { got: entries });
        }
        if entries & 7 != 0 {
            return Err(StatusError::NotWholeBytes(entries));
        }
        Ok(Self {
            bytes: vec![0; entries / 8],
        })
    }

    /// The list held by `bytes` (any length: a verifier checks the minimum itself).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self { bytes }
    }

    /// The bytes, index 0 in the most significant bit of byte 0.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries (bits).
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// True for a list of no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bit at `index`, or `None` outside the list.
    pub fn get(&self, index: u64) -> Option<bool> {
        let i = usize::try_from(index).ok()?;
        let byte = self.bytes.get(i / 8)?;
        Some(byte & (0x80 >> (i % 8)) != 0)
    }

    /// Sets or clears the bit at `index`.
    pub fn set(&mut self, index: u64, value: bool) -> Result<(), StatusError> {
        let len = self.len();
        let out = StatusError::OutOfRange { index, len };
        let i = usize::try_from(index).map_err(|_| out.clone())?;
        let byte = self.bytes.get_mut(i / 8).ok_or(out)?;
        let mask = 0x80 >> (i % 8);
        if value {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        Ok(())
    }

    /// How many bits are set.
    pub fn count_set(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Indexes of the set bits, ascending.
    pub fn set_indexes(&self) -> impl Iterator<Item = u64> + '_ {
        self.bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != 0)
            .flat_map(|(i, b)| {
                (0..8u64)
                    .filter(move |bit| b & (0x80 >> bit) != 0)
                    .map(move |bit| i as u64 * 8 + bit)
            })
    }

    /// The `encodedList` form: `u` + base64url (no padding) of the GZIP-compressed bytes.
    pub fn encode(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(self.bytes.len() / 8 + 64),
            ENCODE_LEVEL,
        );
        // Writing to a Vec cannot fail.
        let compressed = gz
            .write_all(&self.bytes)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        let mut out = String::with_capacity(compressed.len() * 4 / 3 + 2);
        out.push('u');
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&compressed, &mut out);
        out
    }

    /// Reads an `encodedList`. Refuses anything that is not multibase base64url, not GZIP, or
    /// larger than [`MAX_STATUS_LIST_BYTES`] once decompressed.
    pub fn decode(encoded: &str) -> Result<Self, StatusError> {
        let Some(b64) = encoded.strip_prefix('u') else {
            let prefix = encoded.chars().next().map_or_else(
                || "it is empty".to_owned(),
                |c| format!("it starts with '{c}'"),
            );
            return Err(StatusError::Multibase(prefix));
        };
        // Padding is not part of multibase base64url, but some encoders add it; it carries no
        // information, so it is accepted.
        let b64 = b64.trim_end_matches('=');
        let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|e| StatusError::Multibase(e.to_string()))?;
        let mut bytes = Vec::new();
        flate2::read::MultiGzDecoder::new(compressed.as_slice())
            .take(MAX_STATUS_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StatusError::Gzip(e.to_string()))?;
        if bytes.len() > MAX_STATUS_LIST_BYTES {
            return Err(StatusError::TooLarge);
        }
        Ok(Self { bytes })
    }
}

/// One `credentialStatus` entry of type `BitstringStatusListEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusEntry {
    /// The entry's `id`, if any.
    pub id: Option<String>,
    /// `statusPurpose`: `revocation`, `suspension`, `refresh`, `message`, or another.
    pub purpose: String,
    /// `statusListIndex`.
    pub index: u64,
    /// `statusListCredential`: the URL of the list credential.
    pub list: String,
    /// `statusSize` (1 when absent).
    pub size: u64,
}

impl StatusEntry {
    /// An entry for `index` in the list credential at `list` (`id` = `<list>#<index>`, which
    /// Open Badges requires and the spec suggests).
    pub fn new(list: &str, purpose: &str, index: u64) -> Self {
        Self {
            id: Some(format!("{list}#{index}")),
            purpose: purpose.to_owned(),
            index,
            list: list.to_owned(),
            size: 1,
        }
    }

    /// The entry as JSON, ready to go into a credential's `credentialStatus`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(id) = &self.id {
            m.insert("id".into(), id.clone().into());
        }
        m.insert("type".into(), STATUS_LIST_ENTRY.into());
        m.insert("statusPurpose".into(), self.purpose.clone().into());
        m.insert("statusListIndex".into(), self.index.to_string().into());
        m.insert("statusListCredential".into(), self.list.clone().into());
        if self.size != 1 {
            m.insert("statusSize".into(), self.size.into());
        }
        Value::Object(m)
    }

    /// Reads one entry. Another status method is [`StatusError::UnsupportedMethod`]; a
    /// `BitstringStatusListEntry` that breaks the spec's rules is [`StatusError::Entry`].
    pub fn from_value(entry: &Value) -> Result<Self, StatusError> {
        let Some(o) = entry.as_object() else {
            return Err(StatusError::Entry(
                "a credentialStatus entry must be an object".into(),
            ));
        };
        let types: Vec<&str> = match o.get("type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.contains(&STATUS_LIST_ENTRY) {
            let shown = if types.is_empty() {
                "(no type)".to_owned()
            } else {
                types.join(", ")
            };
            return Err(StatusError::UnsupportedMethod(shown));
        }
        let purpose = match o.get("statusPurpose") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(StatusError::Entry("statusPurpose must be a string".into())),
        };
        let index = match o.get("statusListIndex") {
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                // Digits that overflow u64 are a valid, but absurd, index: out of any list.
                s.parse::<u64>().unwrap_or(u64::MAX)
            }
            _ => {
                return Err(StatusError::Entry(
                    "statusListIndex must be a string of decimal digits, e.g. \"94567\"".into(),
                ))
            }
        };
        let list = match o.get("statusListCredential") {
            Some(Value::String(s)) if crate::verify::has_scheme(s) => s.clone(),
            _ => {
                return Err(StatusError::Entry(
                    "statusListCredential must be the URL of the status list credential".into(),
                ))
            }
        };
        let size = match o.get("statusSize") {
            None => 1,
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => n,
                _ => {
                    return Err(StatusError::Entry(
                        "statusSize must be an integer greater than zero".into(),
                    ))
                }
            },
        };
        let id = match o.get("id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(StatusError::Entry("id must be a URL string".into())),
        };
        if id.as_deref() == Some(list.as_str()) {
            return Err(StatusError::Entry(
                "the entry's id must not be the URL of the status list".into(),
            ));
        }
        Ok(Self {
            id,
            purpose,
            index,
            list,
            size,
        })
    }
}

/// The `credentialStatus` entries of a credential, in order (one object or an array).
pub fn status_entries(credential: &Value) -> Vec<Result<StatusEntry, StatusError>> {
    match credential.get("credentialStatus") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(StatusEntry::from_value).collect(),
        Some(one) => vec![StatusEntry::from_value(one)],
    }
}

/// The status list URLs a credential refers to (each once), for fetching.
pub fn status_list_urls(credential: &Value) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for entry in status_entries(credential).into_iter().flatten() {
        if !urls.contains(&entry.list) {
            urls.push(entry.list);
        }
    }
    urls
}

/// An unsigned `BitstringStatusListCredential` for `bits` (the issuer signs it).
///
/// `id` is the list's URL (what entries put in `statusListCredential`); `issuer` a string id
/// (the spec's form); `ttl_ms` the optional refresh hint, which should match HTTP caching.
pub fn status_list_credential(
    id: &str,
    issuer: &str,
    purpose: &str,
    bits: &Bitstring,
    valid_from: OffsetDateTime,
    ttl_ms: Option<u64>,
) -> Value {
    let mut subject = Map::new();
    subject.insert("id".into(), format!("{id}#list").into());
    subject.insert("type".into(), STATUS_LIST.into());
    subject.insert("statusPurpose".into(), purpose.into());
    subject.insert("encodedList".into(), bits.encode().into());
    if let Some(ttl) = ttl_ms {
        subject.insert("ttl".into(), ttl.into());
    }
    json!({
        "@context": [crate::verify::VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL],
        "issuer": issuer,
        "validFrom": crate::time_fmt::format(valid_from),
        "credentialSubject": Value::Object(subject),
    })
}

/// A status list credential as a verifier has it: fetched or saved (with the time it was
/// captured, when known), or a note that it could not be obtained.
///
/// Building one checks the shape and decodes the list; its proof and issuer are checked when a
/// credential is verified against it (with the same keys as the credential).
#[derive(Debug, Clone)]
pub struct StatusListCredential {
    /// The URL it was fetched from or saved for.
    source: Option<String>,
    captured: Option<OffsetDateTime>,
    content: Result<ListContent, String>,
}

#[derive(Debug, Clone)]
struct ListContent {
    value: Value,
    id: Option<String>,
    purposes: Vec<String>,
    bits: Bitstring,
}

impl StatusListCredential {
    /// Parses a list credential from its bytes (strict JSON).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StatusError> {
        let value = crate::json::parse_strict(bytes)
            .map_err(|e| StatusError::NotAList(format!("not JSON: {e}")))?;
        Self::from_value(value)
    }

    /// Reads a parsed list credential: `type` includes `BitstringStatusListCredential`, the
    /// subject is a `BitstringStatusList` with `statusPurpose` and a decodable `encodedList`.
    pub fn from_value(value: Value) -> Result<Self, StatusError> {
        let bad = |m: &str| StatusError::NotAList(m.to_owned());
        let doc = value.as_object().ok_or_else(|| bad("not a JSON object"))?;
        if !has_type(doc.get("type"), STATUS_LIST_CREDENTIAL) {
            return Err(bad("`type` does not include BitstringStatusListCredential"));
        }
        let id = match doc.get("id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("`id` is not a string")),
        };
        let subject = match doc.get("credentialSubject") {
            Some(Value::Array(items)) if items.len() == 1 => items.first(),
            other => other,
        }
        .and_then(Value::as_object)
        .ok_or_else(|| bad("`credentialSubject` must be one object"))?;
        if !has_type(subject.get("type"), STATUS_LIST) {
            return Err(bad("credentialSubject.type is not BitstringStatusList"));
        }
        let purposes: Vec<String> = match subject.get("statusPurpose") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => {
                return Err(bad(
                    "credentialSubject.statusPurpose must be a string or strings",
                ))
            }
        };
        let encoded = subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("credentialSubject.encodedList is missing"))?;
        let bits = Bitstring::decode(encoded)?;
        Ok(Self {
            source: None,
            captured: None,
            content: Ok(ListContent {
                value,
                id,
                purposes,
                bits,
            }),
        })
    }

    /// A list that could not be obtained (the server was down, the answer was not a list, ...):
    /// a credential that refers to `url` gets the status *unknown*, with `reason`.
    pub fn unavailable(url: &str, reason: impl Into<String>) -> Self {
        Self {
            source: Some(url.to_owned()),
            captured: None,
            content: Err(reason.into()),
        }
    }

    /// Records the URL the list was fetched from (it must then also be the list's `id`, if
    /// it has one).
    pub fn fetched_from(mut self, url: &str) -> Self {
        self.source = Some(url.to_owned());
        self
    }

    /// Records when the list was captured (fetched), reported with every status it decides.
    pub fn captured_at(mut self, at: OffsetDateTime) -> Self {
        self.captured = Some(at);
        self
    }

    /// The list's URL: its `id`, else the URL it was fetched from.
    pub fn url(&self) -> Option<&str> {
        match &self.content {
            Ok(c) => c.id.as_deref().or(self.source.as_deref()),
            Err(_) => self.source.as_deref(),
        }
    }

    /// When it was captured, if known.
    pub fn captured(&self) -> Option<OffsetDateTime> {
        self.captured
    }

    /// The list credential's JSON (`None` for an unavailable list).
    pub fn value(&self) -> Option<&Value> {
        self.content.as_ref().ok().map(|c| &c.value)
    }

    /// The decoded bitstring (`None` for an unavailable list).
    pub fn bitstring(&self) -> Option<&Bitstring> {
        self.content.as_ref().ok().map(|c| &c.bits)
    }

    /// Its `statusPurpose` values.
    pub fn purposes(&self) -> &[String] {
        self.content.as_ref().map_or(&[], |c| c.purposes.as_slice())
    }

    /// Why it could not be obtained, for an unavailable list.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.content.as_ref().err().map(String::as_str)
    }

    /// `validFrom` as written in the list, if any.
    pub fn valid_from(&self) -> Option<&str> {
        self.value()
            .and_then(|v| v.get("validFrom"))
            .and_then(Value::as_str)
    }

    fn matches(&self, url: &str) -> bool {
        let id = self.content.as_ref().ok().and_then(|c| c.id.as_deref());
        id == Some(url) || self.source.as_deref() == Some(url)
    }
}

fn has_type(v: Option<&Value>, name: &str) -> bool {
    match v {
        Some(Value::String(s)) => s == name,
        Some(Value::Array(a)) => a.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

/// The list to judge an entry pointing at `url` by: a usable one if any (the most recently
/// captured, then the most recently published), else an unavailable one (its reason is
/// reported), else none.
pub(crate) fn pick_list<'l>(
    lists: &'l [StatusListCredential],
    url: &str,
) -> Option<&'l StatusListCredential> {
    let usable = lists
        .iter()
        .filter(|l| l.matches(url) && l.content.is_ok())
        .max_by(|a, b| {
            a.captured.cmp(&b.captured).then_with(|| {
                let fa = a.valid_from().and_then(crate::time_fmt::parse);
                let fb = b.valid_from().and_then(crate::time_fmt::parse);
                fa.cmp(&fb)
            })
        });
    usable.or_else(|| lists.iter().find(|l| l.matches(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_order_is_most_significant_first() {
        let mut b = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
        b.set(0, true).unwrap();
        b.set(7, true).unwrap();
        b.set(9, true).unwrap();
        assert_eq!(b.as_bytes()[0], 0b1000_0001);
        assert_eq!(b.as_bytes()[1], 0b0100_0000);
        assert_eq!(b.get(9), Some(true));
        assert_eq!(b.get(10), Some(false));
        assert_eq!(b.get(131_072), None);
        assert!(b.set(131_072, true).is_err());
        assert_eq!(b.set_indexes().collect::<Vec<_>>(), vec![0, 7, 9]);
        b.set(7, false).unwrap();
        assert_eq!(b.count_set(), 2);
    }

    #[test]
    fn lengths_are_checked() {
        assert!(matches!(
            Bitstring::new(1000),
            Err(StatusError::TooShort { got: 1000 })
        ));
        assert!(matches!(
            Bitstring::new(131_073),
            Err(StatusError::NotWholeBytes(_))
        ));
        assert_eq!(Bitstring::new(262_144).unwrap().len(), 262_144);
    }

    #[test]
    fn round_trip_and_bad_encodings() {
        let mut b = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
        for i in [1u64, 500, 94_567, 131_071] {
            b.set(i, true).unwrap();
        }
        let e = b.encode();
        assert!(e.starts_with("uH4sI"), "{e}");
        assert_eq!(Bitstring::decode(&e).unwrap(), b);
        assert!(matches!(
            Bitstring::decode("zH4sI"),
            Err(StatusError::Multibase(_))
        ));
        assert!(matches!(
            Bitstring::decode("u!!!"),
            Err(StatusError::Multibase(_))
        ));
        assert!(matches!(
            Bitstring::decode("uAAAA"),
            Err(StatusError::Gzip(_))
        ));
    }

    #[test]
    fn gzip_bombs_are_refused() {
        let big = Bitstring::from_bytes(vec![0; MAX_STATUS_LIST_BYTES + 1]);
        assert!(matches!(
            Bitstring::decode(&big.encode()),
            Err(StatusError::TooLarge)
        ));
    }

    #[test]
    fn entries_parse_strictly() {
        let e = StatusEntry::new("https://x.example/status/1", "revocation", 42);
        let v = e.to_value();
        assert_eq!(v["id"], "https://x.example/status/1#42");
        assert_eq!(v["statusListIndex"], "42");
        assert_eq!(StatusEntry::from_value(&v).unwrap(), e);
        let mut n = v.clone();
        n["statusListIndex"] = json!(42);
        assert!(matches!(
            StatusEntry::from_value(&n),
            Err(StatusError::Entry(_))
        ));
        let mut n = v.clone();
        n["id"] = json!("https://x.example/status/1");
        assert!(StatusEntry::from_value(&n).is_err());
        let mut n = v.clone();
        n["type"] = json!("StatusList2021Entry");
        assert!(matches!(
            StatusEntry::from_value(&n),
            Err(StatusError::UnsupportedMethod(t)) if t == "StatusList2021Entry"
        ));
        let mut n = v;
        n["statusSize"] = json!(0);
        assert!(StatusEntry::from_value(&n).is_err());
        let cred = json!({"credentialStatus": [e.to_value(), e.to_value()]});
        assert_eq!(status_list_urls(&cred), vec!["https://x.example/status/1"]);
    }

    #[test]
    fn list_credentials_are_read() {
        let mut bits = Bitstring::new(MIN_STATUS_LIST_ENTRIES).unwrap();
        bits.set(3, true).unwrap();
        let v = status_list_credential(
            "https://x.example/status/1",
            "did:example:issuer",
            "revocation",
            &bits,
            OffsetDateTime::UNIX_EPOCH,
            Some(60_000),
        );
        let l = StatusListCredential::from_value(v.clone()).unwrap();
        assert_eq!(l.url(), Some("https://x.example/status/1"));
        assert_eq!(l.purposes(), ["revocation"]);
        assert_eq!(l.bitstring().unwrap().get(3), Some(true));
        assert_eq!(l.valid_from(), Some("1970-01-01T00:00:00Z"));
        let mut bad = v.clone();
        bad["type"] = json!(["VerifiableCredential"]);
        assert!(StatusListCredential::from_value(bad).is_err());
        let mut bad = v;
        bad["credentialSubject"]["encodedList"] = json!("nope");
        assert!(StatusListCredential::from_value(bad).is_err());
        let u = StatusListCredential::unavailable("https://x.example/status/2", "down");
        assert_eq!(u.unavailable_reason(), Some("down"));
        assert!(pick_list(std::slice::from_ref(&u), "https://x.example/status/2").is_some());
        assert!(pick_list(&[u], "https://x.example/status/3").is_none());
    }
}
