//! What the employer knows besides the file: keys and DID documents, pinned issuer keys, a
//! trust list, status lists (saved, bundled or fetched by the caller) and extra JSON-LD
//! contexts. Everything arrives as bytes or JSON values; nothing is fetched here.
//!
//! A verification bundle (`microcred bundle`) is one JSON file:
//!
//! ```json
//! {"type": "MicrocredVerificationBundle", "version": 1, "createdAt": "2025-06-01T12:00:00Z",
//!  "credentials": ["https://.../credentials/..."],
//!  "didDocuments": [{"id": "did:web:...", ...}],
//!  "statusLists": [{"url": "https://.../status/...", "capturedAt": "2025-06-01T12:00:00Z",
//!                   "credential": {"type": ["VerifiableCredential", "BitstringStatusListCredential"], ...}}]}
//! ```

use microcred_core::{
    ContextLoader, KeyRing, PublicKey, StatusListCredential, TrustList, VerifyOptions,
};
use serde_json::Value;
use time::OffsetDateTime;

/// `type` of a verification bundle.
pub const BUNDLE_TYPE: &str = "MicrocredVerificationBundle";

/// A piece of evidence could not be used; the message says what it is and what to supply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvidenceError(String);

impl EvidenceError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Everything a verification may use besides the file itself.
#[derive(Debug, Default)]
pub struct Evidence {
    keys: KeyRing,
    pinned: Vec<PublicKey>,
    trust: Option<TrustList>,
    lists: Vec<StatusListCredential>,
    contexts: Option<ContextLoader>,
}

impl Evidence {
    /// No evidence: `did:key` issuers still resolve, and the bundled contexts are known.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a DID / controller document (or one verification method saved on its own), used
    /// to resolve keys without pinning them.
    pub fn add_did_document(&mut self, doc: &Value) -> Result<(), EvidenceError> {
        self.keys.add_controller_document(doc).map_err(|e| {
            EvidenceError::new(format!(
                "not a usable DID document or verification method: {e}"
            ))
        })?;
        Ok(())
    }

    /// Pins the institution's key: a credential signed by any other key is invalid. `spec` is
    /// a `z6Mk…` Multikey or a `did:key`.
    pub fn pin_key(&mut self, spec: &str) -> Result<(), EvidenceError> {
        let spec = spec.trim();
        let key = if spec.starts_with("did:key:") {
            PublicKey::from_did_key(spec)
                .map_err(|e| EvidenceError::new(format!("{spec} is not a usable did:key: {e}")))?
        } else {
            PublicKey::from_multibase(spec).map_err(|_| {
                EvidenceError::new(format!("{spec} is not an Ed25519 Multikey (z6Mk...)"))
            })?
        };
        self.pinned.push(key);
        Ok(())
    }

    /// Pins the keys a JSON document names: a DID / controller document (its `assertionMethod`
    /// keys), a verification method saved on its own, or a public key / key pair file (its
    /// `publicKeyMultibase`).
    pub fn pin_document(&mut self, doc: &Value) -> Result<(), EvidenceError> {
        // A DID / controller document, or one verification method saved on its own (Controlled
        // Identifiers): both go through the key ring, which knows both shapes.
        let key_pair_file = doc.get("secretKeyMultibase").is_some();
        if doc.get("verificationMethod").is_some()
            || doc.get("assertionMethod").is_some()
            || (doc.get("controller").is_some() && !key_pair_file)
        {
            let methods = self.keys.add_controller_document(doc).map_err(|e| {
                EvidenceError::new(format!(
                    "not a usable DID document or verification method: {e}"
                ))
            })?;
            let before = self.pinned.len();
            self.pinned
                .extend(methods.iter().filter(|m| m.assertion).map(|m| m.key));
            if self.pinned.len() == before {
                return Err(EvidenceError::new(
                    "the DID document authorizes no key for assertionMethod (issuing)",
                ));
            }
            return Ok(());
        }
        if let Some(mb) = doc.get("publicKeyMultibase").and_then(Value::as_str) {
            let key = PublicKey::from_multibase(mb)
                .map_err(|e| EvidenceError::new(format!("bad publicKeyMultibase: {e}")))?;
            if doc.get("controller").is_some() && doc.get("id").is_some() {
                self.keys
                    .add_method(doc)
                    .map_err(|e| EvidenceError::new(format!("not a usable key: {e}")))?;
            }
            self.pinned.push(key);
            return Ok(());
        }
        Err(EvidenceError::new(
            "expected a z6Mk... key, a key file or a DID document",
        ))
    }

    /// Sets the trust list (JSON text): issuers not on it are reported as unknown.
    pub fn set_trust_list(&mut self, text: &str) -> Result<(), EvidenceError> {
        let list = TrustList::from_json(text).map_err(|e| EvidenceError::new(e.to_string()))?;
        self.trust = Some(list);
        Ok(())
    }

    /// Adds a saved status list: the list credential itself (capture time unknown), or one
    /// entry of a bundle's `statusLists` (`{"url", "capturedAt", "credential"}`).
    pub fn add_status_list_file(&mut self, value: Value) -> Result<(), EvidenceError> {
        self.lists.push(saved_status_list(value)?);
        Ok(())
    }

    /// Adds a status list the caller fetched or built (e.g. `--online`).
    pub fn add_status_list(&mut self, list: StatusListCredential) {
        self.lists.push(list);
    }

    /// Adds a verification bundle (`microcred bundle`): its DID documents and status lists.
    pub fn add_bundle(&mut self, bundle: &Value) -> Result<(), EvidenceError> {
        if bundle.get("type").and_then(Value::as_str) != Some(BUNDLE_TYPE) {
            return Err(EvidenceError::new(
                "not a verification bundle (make one with `microcred bundle`)",
            ));
        }
        if bundle.get("version").and_then(Value::as_u64) != Some(1) {
            return Err(EvidenceError::new(format!(
                "bundle version {} is not supported (this build reads version 1)",
                bundle.get("version").unwrap_or(&Value::Null)
            )));
        }
        let docs: &[Value] = match bundle.get("didDocuments") {
            None => &[],
            Some(Value::Array(a)) => a,
            Some(_) => return Err(EvidenceError::new("`didDocuments` must be an array")),
        };
        let lists: &[Value] = match bundle.get("statusLists") {
            None => &[],
            Some(Value::Array(a)) => a,
            Some(_) => return Err(EvidenceError::new("`statusLists` must be an array")),
        };
        // All or nothing: a bundle that is partly unusable adds none of itself.
        let mut keys = self.keys.clone();
        for doc in docs {
            keys.add_controller_document(doc).map_err(|e| {
                EvidenceError::new(format!("a DID document in the bundle is not usable: {e}"))
            })?;
        }
        let lists = lists
            .iter()
            .enumerate()
            .map(|(i, e)| {
                bundle_entry(e).map_err(|why| {
                    EvidenceError::new(format!("statusLists[{i}] is not usable: {why}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.keys = keys;
        self.lists.extend(lists);
        Ok(())
    }

    /// Adds a JSON-LD context that is not bundled (never fetched).
    pub fn add_context(&mut self, url: &str, text: &str) -> Result<(), EvidenceError> {
        let loader = self.contexts.get_or_insert_with(ContextLoader::bundled);
        loader
            .add(url, text)
            .map_err(|e| EvidenceError::new(format!("cannot use it as the context {url}: {e}")))
    }

    /// The status lists gathered so far.
    pub fn status_lists(&self) -> &[StatusListCredential] {
        &self.lists
    }

    /// Options for verifying as of `at` with everything here.
    pub fn options(&self, at: OffsetDateTime) -> VerifyOptions<'_> {
        let mut options = VerifyOptions::new(at, &self.keys)
            .pinned_keys(&self.pinned)
            .status_lists(&self.lists);
        if let Some(c) = &self.contexts {
            options = options.contexts(c);
        }
        if let Some(t) = &self.trust {
            options = options.trust_list(t);
        }
        options
    }
}

/// A saved status list: the list credential itself (capture time unknown), or one entry of a
/// bundle's `statusLists` (`{"url", "capturedAt", "credential"}`).
pub fn saved_status_list(value: Value) -> Result<StatusListCredential, EvidenceError> {
    if value.get("credential").is_some() && value.get("url").is_some() {
        return bundle_entry(&value)
            .map_err(|e| EvidenceError::new(format!("not a usable status list entry: {e}")));
    }
    if value.get("type").and_then(Value::as_str) == Some(BUNDLE_TYPE) {
        return Err(EvidenceError::new(
            "this is a verification bundle, not a status list: add it as a bundle (--bundle)",
        ));
    }
    StatusListCredential::from_value(value).map_err(|e| {
        EvidenceError::new(format!(
            "not a status list credential (save the document at the credential's statusListCredential URL): {e}"
        ))
    })
}

/// One entry of a bundle's `statusLists`.
fn bundle_entry(entry: &Value) -> Result<StatusListCredential, String> {
    let url = entry
        .get("url")
        .and_then(Value::as_str)
        .ok_or("`url` is missing")?;
    let mut list = StatusListCredential::from_value(entry["credential"].clone())
        .map_err(|e| e.to_string())?
        .fetched_from(url);
    match entry.get("capturedAt") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let at = v
                .as_str()
                .and_then(microcred_core::parse_datetime)
                .ok_or("`capturedAt` is not a date-time")?;
            list = list.captured_at(at);
        }
    }
    Ok(list)
}

/// The status list URLs a file's credentials name: the credential's own, or for a CLR or a
/// presentation those of every credential in it (each once, in order). What `--online`
/// fetches before [`crate::check_file`].
pub fn status_list_urls(bytes: &[u8]) -> Vec<String> {
    let bytes = match crate::input::verify_input(bytes) {
        crate::input::VerifyInput::Credential { bytes, .. } => bytes,
        crate::input::VerifyInput::NotVerifiable(_) => return Vec::new(),
    };
    let Ok(value) = microcred_core::parse_strict(&bytes) else {
        return Vec::new();
    };
    let mut urls = microcred_core::status_list_urls(&value);
    for c in crate::report::embedded_credentials(&value) {
        for url in microcred_core::status_list_urls(c) {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
    }
    urls
}
