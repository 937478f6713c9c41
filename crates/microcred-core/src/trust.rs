//! Trust lists: the institutions a verifier knows, with their identifiers and keys.

use serde::Deserialize;

use crate::keys::PublicKey;

/// A trust file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trust list: {0}; expected {{\"institutions\": [{{\"name\", \"id\" (DID or URL), \"keys\": [\"z6Mk...\"]}}]}}")]
pub struct TrustError(String);

/// One known institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// Human name, shown in reports.
    pub name: String,
    /// The issuer id (DID or URL) as it appears in `issuer.id`.
    pub id: String,
    /// The keys this institution signs with; empty means "any key its identifier controls".
    pub keys: Vec<PublicKey>,
}

/// The institutions a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustList {
    issuers: Vec<TrustedIssuer>,
}

/// What a trust list says about an issuer and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustDecision<'a> {
    /// Listed, and the key is one of its keys (or no keys are listed).
    Trusted(&'a TrustedIssuer),
    /// Listed, but this key is not one of the listed keys.
    KeyNotListed(&'a TrustedIssuer),
    /// Not listed.
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    institutions: Vec<TrustFileEntry>,
}

#[derive(Deserialize)]
struct TrustFileEntry {
    name: String,
    id: String,
    #[serde(default)]
    keys: Vec<String>,
}

impl TrustList {
    /// Reads a trust file (JSON text).
    pub fn from_json(text: &str) -> Result<Self, TrustError> {
        let file: TrustFile = serde_json::from_str(text).map_err(|e| TrustError(e.to_string()))?;
        let mut issuers = Vec::with_capacity(file.institutions.len());
        for entry in file.institutions {
            let keys = entry
                .keys
                .iter()
                .map(|k| {
                    PublicKey::from_multibase(k)
                        .map_err(|e| TrustError(format!("institution \"{}\": {e}", entry.name)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            issuers.push(TrustedIssuer {
                name: entry.name,
                id: entry.id,
                keys,
            });
        }
        Ok(Self { issuers })
    }

    /// Builds a list in code.
    pub fn new(issuers: Vec<TrustedIssuer>) -> Self {
        Self { issuers }
    }

    /// Looks up an issuer id and signing key.
    pub fn decide(&self, issuer_id: &str, key: &PublicKey) -> TrustDecision<'_> {
        match self.issuers.iter().find(|i| i.id == issuer_id) {
            None => TrustDecision::Unknown,
            Some(i) if i.keys.is_empty() || i.keys.contains(key) => TrustDecision::Trusted(i),
            Some(i) => TrustDecision::KeyNotListed(i),
        }
    }
}
