//! The employer's verifier in the browser: [`microcred_verifier`] compiled to WebAssembly
//! (`wasm32-unknown-unknown`), behind a byte-buffer ABI that the page's few lines of
//! JavaScript (`web/verifier/verifier.js`) drive.
//!
//! Why hand-written glue and not wasm-bindgen: everything crossing the boundary is bytes in
//! (files, a name) and one JSON document out, which needs six exported functions and no
//! imports at all; wasm-bindgen would add a build tool whose version must match the crate's
//! exactly (`wasm-bindgen-cli`, compiled from source in CI) and generated JavaScript, for no
//! gain here. The module imports nothing: no clock, no randomness, no network (the page passes
//! the time).
//!
//! # ABI (all exports; `memory` is exported too)
//!
//! There is one staging buffer (input) and one output buffer inside the module.
//!
//! - `mc_buffer(len) -> ptr`: makes the staging buffer `len` bytes long and returns its
//!   address (0 when `len` is over [`MAX_INPUT`]); JavaScript writes the bytes there.
//! - `mc_add(kind) -> 0 | 1`: takes the staged bytes as evidence: 1 trust list, 2 DID
//!   document or key file, 3 pinned issuer key (`z6Mk…`, `did:key:…` or a JSON key / DID
//!   document), 4 verification bundle, 5 status list, 6 a component credential of the
//!   stacked credential verified next (named by the name staged before it), 7 the learner's
//!   e-mail address or `TYPE=VALUE` identifier (to compare hashed identifiers), 9 the name of
//!   the file verified next. 1 means refused, and the output holds `{"error": "…"}`.
//! - `mc_reset()`: forgets all evidence, components and the learner.
//! - `mc_verify(at_ms: f64, flags) -> 0 | 1 | 2`: verifies the staged bytes as of `at_ms`
//!   (milliseconds since the Unix epoch); flags bit 0 requires a trusted issuer, bit 1 a known
//!   status. With components added, the staged bytes are the stacked credential and the
//!   stack is checked. The output holds [`microcred_verifier::Checked::to_value`] as JSON.
//! - `mc_output_ptr() -> ptr`, `mc_output_len() -> len`: the output buffer.

use std::cell::RefCell;

use microcred_core::KnownIdentity;
use microcred_verifier::{
    check_file, check_stack_files, known_identity, Evidence, Hints, Settings,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Largest file or piece of evidence accepted (as the CLI: 16 MiB).
pub const MAX_INPUT: usize = 16 * 1024 * 1024;

/// Kinds of staged bytes for [`Session::add`].
const TRUST_LIST: u32 = 1;
const DID_DOCUMENT: u32 = 2;
const PINNED_KEY: u32 = 3;
const BUNDLE: u32 = 4;
const STATUS_LIST: u32 = 5;
const COMPONENT: u32 = 6;
const LEARNER: u32 = 7;
const FILE_NAME: u32 = 9;

/// The most components of one stack (as many credentials as a CLR may hold).
const MAX_COMPONENTS: usize = microcred_core::MAX_CLR_CREDENTIALS;

/// What the page has handed over so far: evidence, components, the learner and the next
/// file's name.
#[derive(Debug, Default)]
pub struct Session {
    evidence: Evidence,
    /// Component credentials (name, bytes) of the stacked credential verified next.
    components: Vec<(String, Vec<u8>)>,
    learner: Vec<KnownIdentity>,
    name: String,
}

impl Session {
    /// Takes `bytes` as evidence of `kind` (see the ABI); the error says what is wrong with it.
    pub fn add(&mut self, kind: u32, bytes: &[u8]) -> Result<(), String> {
        let text =
            || std::str::from_utf8(bytes).map_err(|_| "this file is not UTF-8 text".to_owned());
        let json = || {
            microcred_core::parse_strict(bytes).map_err(|e| format!("this file is not JSON: {e}"))
        };
        let e = |e: microcred_verifier::EvidenceError| e.to_string();
        match kind {
            TRUST_LIST => self.evidence.set_trust_list(text()?).map_err(e),
            DID_DOCUMENT => self.evidence.add_did_document(&json()?).map_err(e),
            PINNED_KEY => {
                let t = text()?.trim();
                if t.starts_with('{') {
                    self.evidence.pin_document(&json()?).map_err(e)
                } else {
                    self.evidence.pin_key(t).map_err(e)
                }
            }
            BUNDLE => self.evidence.add_bundle(&json()?).map_err(e),
            STATUS_LIST => self.evidence.add_status_list_file(json()?).map_err(e),
            COMPONENT => {
                if self.components.len() >= MAX_COMPONENTS {
                    return Err(format!("at most {MAX_COMPONENTS} components are checked"));
                }
                let name = std::mem::take(&mut self.name);
                let name = if name.is_empty() {
                    format!("component {}", self.components.len() + 1)
                } else {
                    name
                };
                self.components.push((name, bytes.to_vec()));
                Ok(())
            }
            LEARNER => {
                let t = text()?.trim();
                if t.is_empty() || t.len() > 320 || t.chars().any(char::is_control) {
                    return Err("this is not an e-mail address or TYPE=VALUE identifier".into());
                }
                self.learner.push(known_identity(t));
                Ok(())
            }
            FILE_NAME => {
                // Shown in reports: no control characters.
                self.name = text()?
                    .chars()
                    .take(200)
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect();
                Ok(())
            }
            other => Err(format!("unknown kind of input {other}")),
        }
    }

    /// Verifies `bytes` as of `at_ms` (milliseconds since the Unix epoch): the exit code and
    /// the result as JSON.
    pub fn verify(&self, bytes: &[u8], at_ms: f64, flags: u32) -> (u8, Value) {
        let name = if self.name.is_empty() {
            "file"
        } else {
            &self.name
        };
        let Some(at) = time_of(at_ms) else {
            let checked = microcred_verifier::Checked::unreadable(
                name,
                "the verification time is not a valid date",
            );
            return (checked.exit_code, checked.to_value());
        };
        let mut settings = Settings::new(Hints::PAGE);
        settings.require_trusted = flags & 1 != 0;
        settings.require_status = flags & 2 != 0;
        settings.learner = self.learner.clone();
        let checked = if self.components.is_empty() {
            check_file(name, bytes, &self.evidence, at, &settings)
        } else {
            let components: Vec<(&str, &[u8])> = self
                .components
                .iter()
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect();
            check_stack_files((name, bytes), &components, &self.evidence, at, &settings)
        };
        (checked.exit_code, checked.to_value())
    }
}

/// Milliseconds since the epoch (a JavaScript `Date`'s value) as a time, if it is one.
fn time_of(at_ms: f64) -> Option<OffsetDateTime> {
    // JavaScript dates span ±8.64e15 ms; anything else (NaN, infinities) is not a date.
    if !at_ms.is_finite() || at_ms.abs() > 8.64e15 {
        return None;
    }
    let nanos = (at_ms * 1e6) as i128;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// The module's state: the page calls it from one thread only.
#[derive(Default)]
struct Module {
    session: Session,
    staged: Vec<u8>,
    output: Vec<u8>,
}

thread_local! {
    static MODULE: RefCell<Module> = RefCell::new(Module::default());
}

fn with_module<T>(f: impl FnOnce(&mut Module) -> T) -> T {
    MODULE.with(|m| f(&mut m.borrow_mut()))
}

/// Makes the staging buffer `len` bytes long; its address, or 0 when `len` is too large.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn mc_buffer(len: usize) -> *mut u8 {
    with_module(|m| {
        if len > MAX_INPUT {
            m.staged = Vec::new();
            return std::ptr::null_mut();
        }
        m.staged.clear();
        m.staged.resize(len, 0);
        m.staged.as_mut_ptr()
    })
}

/// Takes the staged bytes as evidence of `kind`: 0 accepted, 1 refused (the output says why).
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn mc_add(kind: u32) -> u32 {
    with_module(|m| {
        let staged = std::mem::take(&mut m.staged);
        match m.session.add(kind, &staged) {
            Ok(()) => {
                m.output.clear();
                0
            }
            Err(why) => {
                m.output = json!({ "error": why }).to_string().into_bytes();
                1
            }
        }
    })
}

/// Forgets all evidence and the file name.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn mc_reset() {
    with_module(|m| m.session = Session::default());
}

/// Verifies the staged bytes: 0 valid, 1 invalid, 2 could not check; the output holds the
/// result as JSON.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn mc_verify(at_ms: f64, flags: u32) -> u32 {
    with_module(|m| {
        let staged = std::mem::take(&mut m.staged);
        let (code, result) = m.session.verify(&staged, at_ms, flags);
        m.output = result.to_string().into_bytes();
        u32::from(code)
    })
}

/// The output buffer's address.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn mc_output_ptr() -> *const u8 {
    with_module(|m| m.output.as_ptr())
}

/// The output buffer's length.
#[allow(unsafe_code)] // `no_mangle` only: the export's name
#[no_mangle]
pub extern "C" fn mc_output_len() -> usize {
    with_module(|m| m.output.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_javascript() {
        assert_eq!(
            time_of(1_767_225_600_000.0).map(|t| t.unix_timestamp()),
            Some(1_767_225_600)
        );
        assert!(time_of(f64::NAN).is_none());
        assert!(time_of(f64::INFINITY).is_none());
        assert!(time_of(9e15).is_none());
    }

    #[test]
    fn evidence_is_refused_with_a_reason() {
        let mut s = Session::default();
        let e = s.add(BUNDLE, b"{\"type\": \"x\"}").unwrap_err();
        assert!(e.contains("not a verification bundle"), "{e}");
        let e = s.add(DID_DOCUMENT, b"\xff").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = s.add(PINNED_KEY, b"z6MkNope").unwrap_err();
        assert!(e.contains("Multikey"), "{e}");
        assert!(s.add(42, b"").is_err());
        s.add(FILE_NAME, b"cand\x1bidate.json").unwrap();
        assert_eq!(s.name, "cand?idate.json");
    }

    #[test]
    fn components_are_named_and_checked_with_the_stacked_credential() {
        let mut s = Session::default();
        s.add(FILE_NAME, b"df-101.png").unwrap();
        s.add(COMPONENT, b"\x89PNG not really").unwrap();
        s.add(COMPONENT, b"{}").unwrap();
        assert_eq!(s.components[0].0, "df-101.png");
        assert_eq!(s.components[1].0, "component 2");
        assert!(s.add(LEARNER, b"  ").is_err());
        s.add(LEARNER, b"amara@example.org").unwrap();
        s.add(FILE_NAME, b"cert.json").unwrap();
        // A component that is no credential leaves nothing to decide, and says which.
        let (code, v) = s.verify(b"{}", 1.7e12, 0);
        assert_eq!(code, 2, "{v}");
        assert_eq!(v["headline"], "COULD NOT CHECK", "{v}");
        assert!(
            v["explanation"]
                .as_str()
                .unwrap()
                .starts_with("df-101.png: "),
            "{v}"
        );
        // Without components the same bytes are checked as one file.
        let mut plain = Session::default();
        plain.add(FILE_NAME, b"cert.json").unwrap();
        let (_, v) = plain.verify(b"{}", 1.7e12, 0);
        assert_ne!(v["headline"], "STACK COULD NOT BE CHECKED", "{v}");
    }

    #[test]
    fn the_abi_round_trip() {
        let name = b"x.json";
        let p = mc_buffer(name.len());
        assert!(!p.is_null());
        with_module(|m| m.staged.copy_from_slice(name));
        assert_eq!(mc_add(FILE_NAME), 0);
        let p = mc_buffer(3);
        assert!(!p.is_null());
        with_module(|m| m.staged.copy_from_slice(b"{}x"));
        assert_eq!(mc_verify(1.7e12, 0), 2);
        let out = with_module(|m| m.output.clone());
        assert_eq!(out.len(), mc_output_len());
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["report"]["file"], "x.json");
        assert_eq!(v["headline"], "COULD NOT CHECK");
        assert!(mc_buffer(MAX_INPUT + 1).is_null());
    }
}
