//! The institutions' signing keys as the service holds them: where keys are made and opened
//! (the master key, and the PKCS#11 token if configured), and each institution's active key,
//! opened once and cached (which key is active is asked again after [`KEY_CACHE_TTL`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cache::KEY_CACHE_TTL;
use crate::crypto::MasterKey;
use crate::error::DomainError;
use crate::issuer::{self, ActiveKey, Vault};
use crate::pkcs11::Token;
use crate::store::{KeyStatus, Store};

/// The keys sub-state.
pub(crate) struct KeyRing {
    store: Arc<dyn Store>,
    master: MasterKey,
    /// The PKCS#11 token institutions' keys may live in, when `[pkcs11]` is configured.
    token: Option<Arc<Token>>,
    /// Each institution's active key.
    cache: Mutex<HashMap<String, CachedKey>>,
}

/// An institution's active key as cached: which key record it is, and when the store last
/// confirmed that this record is the active one.
#[derive(Clone)]
struct CachedKey {
    key: Arc<ActiveKey>,
    method_id: String,
    checked: Instant,
}

impl KeyRing {
    pub(crate) fn new(store: Arc<dyn Store>, master: MasterKey, token: Option<Arc<Token>>) -> Self {
        Self {
            store,
            master,
            token,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Where keys are made and opened.
    pub(crate) fn vault(&self) -> Vault<'_> {
        Vault {
            master: &self.master,
            token: self.token.as_ref(),
        }
    }

    /// The master key (also for learner keys and sealed recipients, see `learner.rs`).
    pub(crate) fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Whether a PKCS#11 token is configured.
    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The institution's active signing key (decrypted, or bound to its token, once; then
    /// cached).
    pub(crate) fn active(&self, inst: &str) -> Result<Arc<ActiveKey>, DomainError> {
        Ok(self.checked(inst)?.key)
    }

    /// [`Self::active`], with when the store last confirmed it is the active key.
    pub(crate) fn active_checked(
        &self,
        inst: &str,
    ) -> Result<(Arc<ActiveKey>, Instant), DomainError> {
        let c = self.checked(inst)?;
        Ok((c.key, c.checked))
    }

    /// Forgets the cached key of an institution (after a rotation or a key marked
    /// compromised).
    pub(crate) fn forget(&self, inst: &str) {
        if let Ok(mut m) = self.cache.lock() {
            m.remove(inst);
        }
    }

    /// The institution's active key with when the store last confirmed it: the cached key
    /// while that is less than [`KEY_CACHE_TTL`] ago; else the store says which key is
    /// active, and only a different one is opened.
    fn checked(&self, inst: &str) -> Result<CachedKey, DomainError> {
        let cached = self.cache.lock().ok().and_then(|m| m.get(inst).cloned());
        if let Some(c) = &cached {
            if c.checked.elapsed() < KEY_CACHE_TTL {
                return Ok(c.clone());
            }
        }
        // Taken before the read: the answer is at least this fresh.
        let checked = Instant::now();
        let rec = self
            .store
            .keys(inst)?
            .into_iter()
            .find(|k| k.status == KeyStatus::Active)
            .ok_or_else(|| {
                DomainError::Internal(format!("institution {inst} has no active key"))
            })?;
        let key = match cached {
            Some(c) if c.method_id == rec.method_id => c.key,
            _ => Arc::new(ActiveKey {
                key: issuer::open_key(self.vault(), &rec)?,
            }),
        };
        let entry = CachedKey {
            key,
            method_id: rec.method_id,
            checked,
        };
        if let Ok(mut m) = self.cache.lock() {
            m.insert(inst.to_owned(), entry.clone());
        }
        Ok(entry)
    }
}
