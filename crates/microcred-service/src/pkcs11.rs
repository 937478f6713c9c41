//! Institutions' keys in a PKCS#11 token (an HSM, a cloud KMS front-end, SoftHSM2): the
//! service's implementation of the core's [`ExternalSigner`].
//!
//! Keys are generated inside the token (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, Ed25519) as token
//! objects that are private, sensitive and not extractable, with a random `CKA_ID` and the
//! label `microcred:<institution>:<seq>`; the service keeps only the token's label and the
//! key's `CKA_ID` (and its public key). Signing is `CKM_EDDSA` (pure Ed25519) inside the
//! token: the secret never leaves it. The core checks every signature with the public key
//! before using it.
//!
//! The module is initialized once with OS locking; the service logs in once (the user PIN
//! comes from an environment variable or a file, is held only as a zeroized secret and is
//! never logged) on a session it keeps open, since a PKCS#11 login lasts while the
//! application has a session with the token. Signing borrows a session from a small pool
//! (the pool's lock is held only to take or give back a session, never while signing), so
//! signing threads run in parallel as far as the token allows.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use microcred_core::{ExternalSigner, PublicKey, SignerError};
use zeroize::Zeroizing;

use crate::config::Pkcs11Config;

/// `CKA_EC_PARAMS` of Ed25519: the DER object identifier 1.3.101.112 (RFC 8410).
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// `CKA_EC_PARAMS` of Ed25519 as the PrintableString `edwards25519`, which tokens that
/// predate PKCS#11 3.0 curve OIDs accept.
const ED25519_NAME: &[u8] = &[
    0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
];
/// Idle sessions kept for signing; more are opened when threads sign at once, and closed
/// after use beyond this number.
const IDLE_SESSIONS: usize = 8;

/// The token could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum TokenError {
    /// The configuration does not lead to a usable token (module, label, PIN).
    #[error("PKCS#11: {0}")]
    Config(String),
    /// The token failed now (removed, session lost, device error).
    #[error("PKCS#11 token \"{token}\" is unavailable ({cause}): check that it is connected, then retry")]
    Unavailable {
        /// The token's label.
        token: String,
        /// What failed.
        cause: String,
    },
    /// The token refused what was asked (no such key, a key not as required).
    #[error("PKCS#11 token \"{token}\": {cause}")]
    Refused {
        /// The token's label.
        token: String,
        /// What was refused.
        cause: String,
    },
}

impl From<TokenError> for SignerError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Refused { .. } => Self::Refused(e.to_string()),
            TokenError::Config(_) | TokenError::Unavailable { .. } => {
                Self::Unavailable(e.to_string())
            }
        }
    }
}

/// A logged-in PKCS#11 token holding institutions' keys.
pub(crate) struct Token {
    ctx: Pkcs11,
    slot: Slot,
    label: String,
    pin: AuthPin,
    /// The session that holds the login (a login lasts while a session is open).
    login: Mutex<Option<Session>>,
    /// Idle sessions for signing.
    idle: Mutex<Vec<Session>>,
    /// The token refused the PIN once: it is never offered again (until a restart), so the
    /// token's PIN retry counter is not used up.
    pin_refused: AtomicBool,
    /// Held while objects are made or destroyed. These are rare (an institution's creation, a
    /// rotation), and a token may fail them when they run at once: SoftHSM2 did, under eight
    /// concurrent creations of one institution in the tests. Signing does not take it.
    changes: Mutex<()>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// A key generated in the token: what the key record keeps.
#[derive(Debug)]
pub(crate) struct GeneratedKey {
    /// `CKA_ID` of the key pair.
    pub(crate) key_id: Vec<u8>,
    /// Its public key.
    pub(crate) public: PublicKey,
}

impl Token {
    /// Loads the module, finds the token by its label and logs in with the configured PIN.
    pub(crate) fn open(config: &Pkcs11Config) -> Result<Arc<Self>, TokenError> {
        let pin = read_pin(config)?;
        let module = &config.module;
        if !module.exists() {
            return Err(TokenError::Config(format!(
                "module {} does not exist: set pkcs11.module to the token's PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
                module.display()
            )));
        }
        let ctx = Pkcs11::new(module).map_err(|e| {
            TokenError::Config(format!("cannot load module {}: {e}", module.display()))
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(TokenError::Config(format!(
                    "cannot initialize module {}: {e}",
                    module.display()
                )))
            }
        }
        let label = config.token_label.trim().to_owned();
        let slots = ctx
            .get_slots_with_initialized_token()
            .map_err(|e| TokenError::Config(format!("cannot list slots: {e}")))?;
        let mut found = Vec::new();
        for slot in slots {
            let info = ctx.get_token_info(slot).map_err(|e| {
                TokenError::Config(format!("cannot read a token's information: {e}"))
            })?;
            if info.label().trim() == label {
                found.push(slot);
            }
        }
        let slot = match found.as_slice() {
            [slot] => *slot,
            [] => {
                return Err(TokenError::Config(format!(
                    "no initialized token labelled \"{label}\" in module {}: check pkcs11.token_label (SoftHSM2: softhsm2-util --show-slots)",
                    module.display()
                )))
            }
            _ => {
                return Err(TokenError::Config(format!(
                    "{} tokens are labelled \"{label}\": give the service's token a unique label",
                    found.len()
                )))
            }
        };
        let token = Arc::new(Self {
            ctx,
            slot,
            label,
            pin,
            login: Mutex::new(None),
            idle: Mutex::new(Vec::new()),
            pin_refused: AtomicBool::new(false),
            changes: Mutex::new(()),
        });
        token.log_in().map_err(|e| match e {
            TokenError::Refused { cause, .. } => TokenError::Config(cause),
            other => other,
        })?;
        tracing::info!(token = %token.label, "PKCS#11 token ready");
        Ok(token)
    }

    /// The token's label.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Logs in (again) on a new session kept open for as long as the token is used.
    fn log_in(&self) -> Result<(), TokenError> {
        if self.pin_refused.load(Ordering::Relaxed) {
            return Err(self.refused(
                "it refused the user PIN earlier: set the right PIN and restart the service".into(),
            ));
        }
        let session = self
            .ctx
            .open_ro_session(self.slot)
            .map_err(|e| self.failed("opening a session", e))?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(
                rv @ (RvError::PinIncorrect
                | RvError::PinLocked
                | RvError::PinExpired
                | RvError::PinInvalid
                | RvError::PinLenRange
                | RvError::UserPinNotInitialized),
                _,
            )) => {
                self.pin_refused.store(true, Ordering::Relaxed);
                return Err(self.refused(format!(
                    "the user PIN was refused ({rv}): set the token's user PIN in the configured PIN variable or file; the service does not try again, so as not to lock the token"
                )));
            }
            Err(e) => return Err(self.failed("logging in", e)),
        }
        *lock(&self.login)? = Some(session);
        Ok(())
    }

    /// Generates an Ed25519 key pair in the token for `institution`'s key number `seq`.
    pub(crate) fn generate(&self, institution: &str, seq: i64) -> Result<GeneratedKey, TokenError> {
        let mut id = vec![0u8; 16];
        getrandom::getrandom(&mut id)
            .map_err(|e| TokenError::Config(format!("no random numbers for a key id: {e}")))?;
        let label = format!("microcred:{institution}:{seq}").into_bytes();
        let _changing = lock(&self.changes)?;
        let session = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| self.failed("opening a read-write session", e))?;
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Id(id.clone()),
            Attribute::Label(label.clone()),
        ];
        // The curve as an OID first (PKCS#11 3.0), then by name for older tokens.
        let mut result = Err(CkError::NotSupported);
        for params in [ED25519_OID, ED25519_NAME] {
            let public = [
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::EcParams(params.to_vec()),
                Attribute::Id(id.clone()),
                Attribute::Label(label.clone()),
            ];
            result = session.generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private);
            if !matches!(
                &result,
                Err(CkError::Pkcs11(
                    RvError::CurveNotSupported
                        | RvError::AttributeValueInvalid
                        | RvError::DomainParamsInvalid,
                    _,
                ))
            ) {
                break;
            }
        }
        let (public, private) =
            result.map_err(|e| self.failed("generating an Ed25519 key pair", e))?;
        let made = self.check_generated(&session, public, private);
        if made.is_err() {
            // Leave nothing behind that the service will not use.
            let _ = session.destroy_object(private);
            let _ = session.destroy_object(public);
        }
        let public = made?;
        tracing::info!(token = %self.label, key_id = %hex::encode(&id), institution, seq, "key pair generated in the PKCS#11 token");
        Ok(GeneratedKey { key_id: id, public })
    }

    /// Destroys the key pair with `CKA_ID` `key_id` (both objects): for a key just generated
    /// that the service could not store (another instance created the same institution or
    /// rotated its key first), which nothing would ever use or find again.
    pub(crate) fn destroy(&self, key_id: &[u8]) -> Result<usize, TokenError> {
        let n =
            self.destroy_matching(vec![Attribute::Id(key_id.to_vec())], "the unused key pair")?;
        tracing::info!(token = %self.label, key_id = %hex::encode(key_id), objects = n, "unused key pair destroyed in the PKCS#11 token");
        Ok(n)
    }

    /// Destroys the private key with `CKA_ID` `key_id` (a key marked compromised: it must never
    /// sign again; its public half stays, as in the database, for the record). Returns how many
    /// private keys it destroyed (0 when there was none).
    pub(crate) fn destroy_private(&self, key_id: &[u8]) -> Result<usize, TokenError> {
        let template = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(key_id.to_vec()),
        ];
        let n = self.destroy_matching(template, "the compromised private key")?;
        tracing::warn!(token = %self.label, key_id = %hex::encode(key_id), destroyed = n, "compromised private key destroyed in the PKCS#11 token");
        Ok(n)
    }

    /// Destroys every object matching `template` (`what` names them in errors), taking turns
    /// with other changes to the token; how many it destroyed.
    fn destroy_matching(&self, template: Vec<Attribute>, what: &str) -> Result<usize, TokenError> {
        let _changing = lock(&self.changes)?;
        let session = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| self.failed("opening a read-write session", e))?;
        let found = session
            .find_objects(&template)
            .map_err(|e| self.failed(&format!("finding {what}"), e))?;
        for object in &found {
            session
                .destroy_object(*object)
                .map_err(|e| self.failed(&format!("destroying {what}"), e))?;
        }
        Ok(found.len())
    }

    /// Reads the new key pair's public key and checks that the private key is sensitive and
    /// not extractable, as asked.
    fn check_generated(
        &self,
        session: &Session,
        public: ObjectHandle,
        private: ObjectHandle,
    ) -> Result<PublicKey, TokenError> {
        let attrs = session
            .get_attributes(
                private,
                &[AttributeType::Sensitive, AttributeType::Extractable],
            )
            .map_err(|e| self.failed("reading the new private key's attributes", e))?;
        let sensitive = attrs
            .iter()
            .any(|a| matches!(a, Attribute::Sensitive(true)));
        let extractable = attrs
            .iter()
            .any(|a| matches!(a, Attribute::Extractable(true)));
        if !sensitive || extractable {
            return Err(self.refused(
                "the token made a private key that is not sensitive or is extractable: use a token that honours CKA_SENSITIVE and CKA_EXTRACTABLE".into(),
            ));
        }
        let attrs = session
            .get_attributes(public, &[AttributeType::EcPoint])
            .map_err(|e| self.failed("reading the new public key", e))?;
        let point = attrs.into_iter().find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        });
        point
            .as_deref()
            .and_then(ed25519_point)
            .and_then(|raw| PublicKey::from_bytes(&raw).ok())
            .ok_or_else(|| {
                self.refused("the new key's CKA_EC_POINT is not an Ed25519 public key".into())
            })
    }

    /// The signer of the key with `CKA_ID` `key_id`.
    pub(crate) fn signer(self: &Arc<Self>, key_id: &[u8]) -> Arc<TokenKey> {
        Arc::new(TokenKey {
            token: self.clone(),
            key_id: key_id.to_vec(),
            handle: Mutex::new(None),
        })
    }

    /// Takes an idle session, or opens one.
    fn session(&self) -> Result<Session, TokenError> {
        if let Some(s) = lock(&self.idle)?.pop() {
            return Ok(s);
        }
        self.ctx
            .open_ro_session(self.slot)
            .map_err(|e| self.failed("opening a session", e))
    }

    /// Gives a session that worked back to the pool.
    fn give_back(&self, session: Session) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_SESSIONS {
                idle.push(session);
            }
        }
    }

    /// Forgets every session (after the token lost them: removed, reset).
    fn reset_sessions(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
        if let Ok(mut login) = self.login.lock() {
            *login = None;
        }
    }

    fn failed(&self, what: &str, e: CkError) -> TokenError {
        TokenError::Unavailable {
            token: self.label.clone(),
            cause: format!("{what}: {e}"),
        }
    }

    fn refused(&self, cause: String) -> TokenError {
        TokenError::Refused {
            token: self.label.clone(),
            cause,
        }
    }
}

/// One key in the token, as an [`ExternalSigner`].
pub(crate) struct TokenKey {
    token: Arc<Token>,
    key_id: Vec<u8>,
    /// The private key's object handle, once found (valid for the application's life with
    /// the token; found again if the token says it is not).
    handle: Mutex<Option<ObjectHandle>>,
}

impl TokenKey {
    /// The private key object, found by `CKA_ID` (exactly one Ed25519 private key).
    fn handle(&self, session: &Session) -> Result<ObjectHandle, TokenError> {
        if let Some(h) = *lock(&self.handle)? {
            return Ok(h);
        }
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(KeyType::EC_EDWARDS),
                Attribute::Id(self.key_id.clone()),
            ])
            .map_err(|e| self.token.failed("finding the private key", e))?;
        match found.as_slice() {
            [h] => {
                *lock(&self.handle)? = Some(*h);
                Ok(*h)
            }
            [] => Err(self.token.refused(format!(
                "it holds no Ed25519 private key with CKA_ID {}: restore the token from its backup, or rotate the institution's key",
                hex::encode(&self.key_id)
            ))),
            _ => Err(self.token.refused(format!(
                "it holds {} private keys with CKA_ID {}: remove the copies",
                found.len(),
                hex::encode(&self.key_id)
            ))),
        }
    }

    /// One attempt: a session from the pool, the key, `CKM_EDDSA`.
    fn try_sign(&self, message: &[u8]) -> Result<[u8; 64], (TokenError, Option<RvError>)> {
        let session = self.token.session().map_err(|e| (e, None))?;
        let handle = self.handle(&session).map_err(|e| (e, None))?;
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        match session.sign(&mechanism, handle, message) {
            Ok(signature) => {
                self.token.give_back(session);
                let signature: [u8; 64] = signature.try_into().map_err(|s: Vec<u8>| {
                    (
                        self.token.refused(format!(
                            "CKM_EDDSA returned {} bytes, not a 64-byte Ed25519 signature",
                            s.len()
                        )),
                        None,
                    )
                })?;
                Ok(signature)
            }
            Err(e) => {
                let rv = match &e {
                    CkError::Pkcs11(rv, Function::Sign | Function::SignInit) => Some(*rv),
                    _ => None,
                };
                // A session that failed is not reused.
                drop(session);
                Err((self.token.failed("signing", e), rv))
            }
        }
    }
}

impl ExternalSigner for TokenKey {
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        match self.try_sign(message) {
            Ok(signature) => Ok(signature),
            Err((e, rv)) => {
                // Recover once from what a token reset or a re-inserted token causes: stale
                // sessions, a lost login, a stale key handle.
                match rv {
                    Some(
                        RvError::SessionHandleInvalid
                        | RvError::SessionClosed
                        | RvError::UserNotLoggedIn
                        | RvError::DeviceRemoved
                        | RvError::TokenNotPresent,
                    ) => {
                        self.token.reset_sessions();
                        if let Ok(mut h) = self.handle.lock() {
                            *h = None;
                        }
                        self.token.log_in()?;
                    }
                    Some(RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid) => {
                        if let Ok(mut h) = self.handle.lock() {
                            *h = None;
                        }
                    }
                    _ => return Err(e.into()),
                }
                tracing::warn!(token = %self.token.label, error = %e, "PKCS#11 signing failed; trying once more");
                self.try_sign(message).map_err(|(e, _)| e.into())
            }
        }
    }
}

/// The user PIN: from `pin_file` when set, else from the environment variable `pin_env`.
fn read_pin(config: &Pkcs11Config) -> Result<AuthPin, TokenError> {
    let text = match &config.pin_file {
        Some(path) => read_pin_file(path)?,
        None => Zeroizing::new(std::env::var(&config.pin_env).map_err(|_| {
            TokenError::Config(format!(
                "no user PIN: set the environment variable {} (pkcs11.pin_env), or pkcs11.pin_file",
                config.pin_env
            ))
        })?),
    };
    let pin = text.trim_end_matches(['\r', '\n']);
    if pin.is_empty() {
        return Err(TokenError::Config("the user PIN is empty".into()));
    }
    Ok(AuthPin::new(Box::from(pin)))
}

fn read_pin_file(path: &Path) -> Result<Zeroizing<String>, TokenError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        TokenError::Config(format!("cannot read the PIN file {}: {e}", path.display()))
    })?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "the PKCS#11 PIN file is readable by group or others: chmod 600 it");
            }
        }
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| TokenError::Config(format!("the PIN file {} is not UTF-8", path.display())))?;
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or_default().to_owned(),
    ))
}

/// The 32 bytes of an Ed25519 `CKA_EC_POINT`: DER-wrapped (`04 20 <32 bytes>`, as PKCS#11
/// 3.0 asks) or raw.
pub(crate) fn ed25519_point(value: &[u8]) -> Option<[u8; 32]> {
    match value {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest.try_into().ok(),
        raw if raw.len() == 32 => raw.try_into().ok(),
        _ => None,
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, TokenError> {
    m.lock()
        .map_err(|_| TokenError::Config("a PKCS#11 lock was poisoned by a panic".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_points_are_read_wrapped_or_raw() {
        let raw = [7u8; 32];
        let mut wrapped = vec![0x04, 0x20];
        wrapped.extend_from_slice(&raw);
        assert_eq!(ed25519_point(&wrapped), Some(raw));
        assert_eq!(ed25519_point(&raw), Some(raw));
        assert_eq!(ed25519_point(&wrapped[..33]), None);
        assert_eq!(ed25519_point(&[0x04, 0x21, 1]), None);
        // 0x04 0x20 followed by 30 bytes is 32 bytes in all: a raw point.
        let mut odd = vec![0x04, 0x20];
        odd.extend_from_slice(&[1u8; 30]);
        assert_eq!(ed25519_point(&odd).map(|p| p[0]), Some(0x04));
    }

    #[test]
    fn pin_comes_from_the_named_variable_or_a_file_and_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "4711\n").unwrap();
        let config = Pkcs11Config {
            pin_file: Some(file),
            ..Pkcs11Config::for_token("/nonexistent.so", "t")
        };
        let pin = read_pin(&config).unwrap();
        assert!(!format!("{pin:?}").contains("4711"));
        let missing = Pkcs11Config {
            pin_env: "MICROCRED_TEST_PIN_THAT_IS_NOT_SET".into(),
            ..Pkcs11Config::for_token("/nonexistent.so", "t")
        };
        let e = read_pin(&missing).unwrap_err().to_string();
        assert!(e.contains("MICROCRED_TEST_PIN_THAT_IS_NOT_SET"), "{e}");
    }
}
