//! Offline key resolution: `did:key` is computed; any other controller (e.g. `did:web`) is
//! resolved only from documents the caller supplies (a saved DID document, a public key file).

use std::collections::HashMap;
use std::sync::RwLock;

use base64::Engine as _;
use serde_json::Value;

use crate::keys::{decode_multibase, KeyError, PublicKey};

/// A verification method could not be resolved or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No document for this method was supplied, and it is not a `did:key`.
    #[error("cannot resolve verification method `{0}` offline: supply its DID document or key file (e.g. `--issuer-key did.json`)")]
    Unresolvable(String),
    /// The method was found but its key cannot be read.
    #[error("verification method `{id}`: {reason}")]
    BadMethod {
        /// The method id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A supplied document is not a DID / controller document or key.
    #[error("not a DID document or public key: {0}")]
    BadDocument(String),
}

/// A resolved verification method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// The method's id (absolute).
    pub id: String,
    /// The method's controller (a DID or URL).
    pub controller: String,
    /// Its Ed25519 key.
    pub key: PublicKey,
    /// Whether the controller document authorizes this method for `assertionMethod`
    /// (issuing credentials).
    pub assertion: bool,
}

/// The keys known to a verifier: supplied documents plus `did:key` computed on demand.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    methods: HashMap<String, Method>,
    did_keys: DidKeyCache,
}

/// `did:key` methods already decoded (decoding a curve point costs microseconds).
#[derive(Debug, Default)]
struct DidKeyCache(RwLock<HashMap<String, Method>>);

impl DidKeyCache {
    /// Entries kept at most, so a stream of distinct keys cannot grow memory without bound.
    const CAPACITY: usize = 4096;

    fn get(&self, id: &str) -> Option<Method> {
        self.0.read().ok()?.get(id).cloned()
    }

    fn put(&self, method: &Method) {
        if let Ok(mut map) = self.0.write() {
            if map.len() < Self::CAPACITY {
                map.insert(method.id.clone(), method.clone());
            }
        }
    }
}

impl Clone for DidKeyCache {
    fn clone(&self) -> Self {
        Self(RwLock::new(
            self.0.read().map(|m| m.clone()).unwrap_or_default(),
        ))
    }
}

impl KeyRing {
    /// An empty key ring (still resolves `did:key`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every Ed25519 verification method of a DID / controller document and returns them.
    ///
    /// A verification method saved on its own (W3C Controlled Identifiers §2.2: a document
    /// with `id`, `type`, `controller` and the key, as served at the method's URL) is accepted
    /// too, as by [`add_method`](Self::add_method): supplying it is the caller's statement that
    /// its controller uses it, since the controller document that would list it under
    /// `assertionMethod` is not at hand.
    pub fn add_controller_document(&mut self, doc: &Value) -> Result<Vec<Method>, ResolveError> {
        let obj = doc
            .as_object()
            .ok_or_else(|| ResolveError::BadDocument("expected a JSON object".into()))?;
        if is_method_document(obj) {
            return self.add_method(doc).map(|m| vec![m]);
        }
        let doc_id = obj
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ResolveError::BadDocument("the document has no string `id`".into()))?;
        let mut assertion_ids = Vec::new();
        let mut candidates: Vec<&Value> = Vec::new();
        for entry in as_list(obj.get("assertionMethod")) {
            match entry {
                Value::String(s) => assertion_ids.push(absolute(doc_id, s)),
                Value::Object(_) => {
                    if let Some(id) = entry.get("id").and_then(Value::as_str) {
                        assertion_ids.push(absolute(doc_id, id));
                    }
                    candidates.push(entry);
                }
                _ => {}
            }
        }
        candidates.extend(as_list(obj.get("verificationMethod")));
        let mut added = Vec::new();
        // Methods with other key types (an X25519 key-agreement key, a P-256 key, ...) are
        // skipped: they are common in DID documents and must not make the Ed25519 ones unusable.
        for vm in candidates.into_iter().filter(|vm| may_be_ed25519(vm)) {
            let method = parse_method(doc_id, vm, &assertion_ids)?;
            if !added.iter().any(|m: &Method| m.id == method.id) {
                self.methods.insert(method.id.clone(), method.clone());
                added.push(method);
            }
        }
        if added.is_empty() {
            return Err(ResolveError::BadDocument(format!(
                "`{doc_id}` lists no Ed25519 verification method"
            )));
        }
        Ok(added)
    }

    /// Adds one verification method or public key file (`{"id","type":"Multikey","controller","publicKeyMultibase"}`),
    /// trusted for assertion by the caller's say-so.
    pub fn add_method(&mut self, vm: &Value) -> Result<Method, ResolveError> {
        let controller = vm
            .get("controller")
            .and_then(Value::as_str)
            .ok_or_else(|| ResolveError::BadDocument("the key has no `controller`".into()))?;
        let mut method = parse_method(controller, vm, &[])?;
        method.assertion = true;
        self.methods.insert(method.id.clone(), method.clone());
        Ok(method)
    }

    /// Resolves a verification method id.
    pub fn resolve(&self, id: &str) -> Result<Method, ResolveError> {
        if let Some(m) = self.methods.get(id) {
            return Ok(m.clone());
        }
        if id.starts_with("did:key:") {
            if let Some(m) = self.did_keys.get(id) {
                return Ok(m);
            }
            let key = PublicKey::from_did_key(id).map_err(|e| ResolveError::BadMethod {
                id: id.to_owned(),
                reason: e.to_string(),
            })?;
            let Some((controller, _)) = id.split_once('#') else {
                return Err(ResolveError::BadMethod {
                    id: id.to_owned(),
                    reason: "a verification method id needs the `#fragment` naming the key".into(),
                });
            };
            let method = Method {
                id: id.to_owned(),
                controller: controller.to_owned(),
                key,
                assertion: true,
            };
            self.did_keys.put(&method);
            return Ok(method);
        }
        Err(ResolveError::Unresolvable(id.to_owned()))
    }
}

/// Whether `obj` is one verification method on its own rather than a controller document:
/// it lists no verification relationships, names a `controller` other than itself and has a
/// verification-method type.
pub(crate) fn is_method_document(obj: &serde_json::Map<String, Value>) -> bool {
    const RELATIONSHIPS: [&str; 6] = [
        "verificationMethod",
        "assertionMethod",
        "authentication",
        "capabilityInvocation",
        "capabilityDelegation",
        "keyAgreement",
    ];
    let is_vm_type = matches!(
        obj.get("type").and_then(Value::as_str),
        Some(
            "Multikey"
                | "JsonWebKey"
                | "JsonWebKey2020"
                | "Ed25519VerificationKey2020"
                | "Ed25519VerificationKey2018"
        )
    );
    let controller = obj.get("controller").and_then(Value::as_str);
    is_vm_type
        && controller.is_some()
        && controller != obj.get("id").and_then(Value::as_str)
        && !RELATIONSHIPS.iter().any(|r| obj.contains_key(*r))
}

/// False when a verification method certainly holds a key other than Ed25519. Methods that
/// claim an Ed25519 type, or that cannot be read, are kept so that their errors are reported.
fn may_be_ed25519(vm: &Value) -> bool {
    match vm.get("type").and_then(Value::as_str) {
        Some("Multikey") => match vm.get("publicKeyMultibase").and_then(Value::as_str) {
            Some(mb) => decode_multibase(mb).map_or(true, |b| b.starts_with(&[0xed, 0x01])),
            None => true,
        },
        Some("JsonWebKey2020" | "JsonWebKey") => !matches!(
            vm.get("publicKeyJwk").and_then(|j| j.get("crv")).and_then(Value::as_str),
            Some(crv) if crv != "Ed25519"
        ),
        Some("Ed25519VerificationKey2020" | "Ed25519VerificationKey2018") => true,
        _ => false,
    }
}

fn as_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other @ Value::Object(_)) | Some(other @ Value::String(_)) => vec![other],
        _ => Vec::new(),
    }
}

fn absolute(base: &str, id: &str) -> String {
    if id.starts_with('#') {
        format!("{base}{id}")
    } else {
        id.to_owned()
    }
}

fn parse_method(
    doc_id: &str,
    vm: &Value,
    assertion_ids: &[String],
) -> Result<Method, ResolveError> {
    let raw_id = vm
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ResolveError::BadDocument("a verification method has no `id`".into()))?;
    let id = absolute(doc_id, raw_id);
    let bad = |reason: String| ResolveError::BadMethod {
        id: id.clone(),
        reason,
    };
    let controller = vm
        .get("controller")
        .and_then(Value::as_str)
        .unwrap_or(doc_id)
        .to_owned();
    let vm_type = vm.get("type").and_then(Value::as_str).unwrap_or("");
    let key = match vm_type {
        "Multikey" | "Ed25519VerificationKey2020" => {
            let mb = vm
                .get("publicKeyMultibase")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no publicKeyMultibase".into()))?;
            PublicKey::from_multibase(mb).map_err(|e| bad(e.to_string()))?
        }
        "Ed25519VerificationKey2018" => {
            let b58 = vm
                .get("publicKeyBase58")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no publicKeyBase58".into()))?;
            let bytes = decode_multibase(&format!("z{b58}")).map_err(|e| bad(e.to_string()))?;
            let raw: [u8; 32] = bytes
                .try_into()
                .map_err(|_| bad("publicKeyBase58 is not 32 bytes".into()))?;
            PublicKey::from_bytes(&raw).map_err(|e: KeyError| bad(e.to_string()))?
        }
        "JsonWebKey2020" | "JsonWebKey" => {
            let jwk = vm
                .get("publicKeyJwk")
                .ok_or_else(|| bad("no publicKeyJwk".into()))?;
            if jwk.get("kty").and_then(Value::as_str) != Some("OKP")
                || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519")
            {
                return Err(bad("only Ed25519 (OKP) JWKs are supported".into()));
            }
            let x = jwk
                .get("x")
                .and_then(Value::as_str)
                .and_then(base64url_decode)
                .ok_or_else(|| bad("publicKeyJwk.x is not base64url".into()))?;
            let raw: [u8; 32] = x
                .try_into()
                .map_err(|_| bad("publicKeyJwk.x is not 32 bytes".into()))?;
            PublicKey::from_bytes(&raw).map_err(|e| bad(e.to_string()))?
        }
        other => return Err(bad(format!("unsupported key type `{other}` (supported: Multikey, Ed25519VerificationKey2020/2018, Ed25519 JsonWebKey)"))),
    };
    let assertion = assertion_ids.contains(&id);
    Ok(Method {
        id,
        controller,
        key,
        assertion,
    })
}

/// Decodes base64url (RFC 4648 §5), as JWK members are written (RFC 7515 §2: no padding);
/// trailing `=` padding is tolerated, as it always was. Unused bits in the last character
/// must be zero, so each key has one spelling.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_did_key_and_supplied_did_web_documents() {
        let key = crate::IssuerKey::from_seed(&[3u8; 32]).unwrap();
        let ring = KeyRing::new();
        let m = ring.resolve(key.id()).unwrap();
        assert_eq!(m.controller, key.controller());

        let mb = key.public_key().to_multibase();
        let doc = json!({
            "id": "did:web:college.example",
            "verificationMethod": [{"id": "#key-1", "type": "Multikey", "controller": "did:web:college.example", "publicKeyMultibase": mb}],
            "assertionMethod": ["#key-1"]
        });
        let mut ring = KeyRing::new();
        ring.add_controller_document(&doc).unwrap();
        let m = ring.resolve("did:web:college.example#key-1").unwrap();
        assert!(m.assertion);
        assert_eq!(m.key, key.public_key());
        assert!(matches!(
            ring.resolve("did:web:other.example#k"),
            Err(ResolveError::Unresolvable(_))
        ));
    }

    #[test]
    fn base64url() {
        assert_eq!(base64url_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64url_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(base64url_decode("-_-_").unwrap(), [0xFB, 0xFF, 0xBF]);
        // Standard-alphabet characters, padding inside, non-zero unused bits, and a length
        // no encoding has.
        for bad in ["+/+/", "aG=VsbG8", "aGVsbG9", "aGVsb"] {
            assert!(base64url_decode(bad).is_none(), "{bad}");
        }
    }
}
