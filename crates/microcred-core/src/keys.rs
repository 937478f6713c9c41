//! Ed25519 issuer keys: Multikey encoding, `did:key`, and key files.
//!
//! An [`IssuerKey`] signs with its secret in this process, or through an [`ExternalSigner`]
//! (a PKCS#11 token, a KMS) that holds the secret and only hands out signatures.
//!
//! A key file is JSON in the shape of the widely used Multikey key-pair export
//! (`@digitalbazaar/ed25519-multikey`), so keys move between tools:
//! `{"@context", "id", "type": "Multikey", "controller", "publicKeyMultibase", "secretKeyMultibase"}`.

use std::fmt;
use std::sync::Arc;

use curve25519_dalek::edwards::EdwardsBasepointTableRadix32;
use ed25519_dalek::hazmat::ExpandedSecretKey;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Multicodec header of an Ed25519 public key (`ed25519-pub`, 0xed, varint encoded).
const ED25519_PUB_HEADER: [u8; 2] = [0xed, 0x01];
/// Multicodec header of an Ed25519 secret key seed (`ed25519-priv`, 0x1300, varint encoded).
const ED25519_PRIV_HEADER: [u8; 2] = [0x80, 0x26];
/// The JSON-LD context of a Multikey verification method.
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";

/// A key could not be read or does not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The multibase text is not base58btc (`z...`) or does not decode.
    #[error("`{0}` is not a base58btc multibase value (it must start with `z`)")]
    NotMultibase(String),
    /// The decoded bytes are not an Ed25519 key with the expected multicodec header.
    #[error(
        "not an Ed25519 {what} Multikey: expected multicodec header {expected} and {len} key bytes"
    )]
    WrongCodec {
        /// "public" or "secret".
        what: &'static str,
        /// The expected header as text.
        expected: &'static str,
        /// The expected number of key bytes.
        len: usize,
    },
    /// The 32 bytes are not a valid Ed25519 public key (not a curve point, or a weak key).
    #[error("the public key is not a valid Ed25519 point, or is a weak (small-order) key")]
    InvalidPoint,
    /// The key file is not in the expected shape.
    #[error("key file: {0}")]
    File(String),
    /// The public key in a key file does not belong to its secret key.
    #[error("key file: publicKeyMultibase does not match secretKeyMultibase; the file is corrupt or was edited")]
    Mismatch,
    /// A DID or verification method id could not be interpreted.
    #[error("`{0}` is not a did:key identifier with an Ed25519 key")]
    NotDidKey(String),
    /// The secret key is held by an external signer (an HSM, a PKCS#11 token) and never
    /// leaves it: it cannot be exported or written to a file.
    #[error("the secret of key {0} is held by an external signer (HSM or PKCS#11 token) and cannot be exported; publish its public key instead")]
    NotExportable(String),
}

/// An Ed25519 signer outside this process: a PKCS#11 token (HSM, SoftHSM2), a cloud KMS. It
/// holds the secret key; only signatures come out.
///
/// [`IssuerKey::from_external`] wraps one with its public key; every signature it returns is
/// verified with that public key before it is used, so a faulty or misconfigured signer gives
/// an error, never a credential that does not verify.
pub trait ExternalSigner: Send + Sync {
    /// Signs `message` with pure Ed25519 (RFC 8032: no pre-hash, no context).
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError>;
}

/// An external signer could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The signer cannot be reached now (token removed, session lost, HSM down).
    #[error("the signing key's token is unavailable ({0}): check that it is connected and configured, then retry")]
    Unavailable(String),
    /// The signer refused (the key is missing or not allowed to sign, the mechanism is not
    /// supported).
    #[error("the signing key's token refused to sign ({0}): check that it holds the institution's key with CKA_SIGN and supports Ed25519")]
    Refused(String),
    /// The signer returned a signature that does not verify with the key's public key.
    #[error("the external signer returned a signature that does not verify with public key {0}: nothing was signed; check that the token holds this key")]
    BadSignature(String),
}

/// An Ed25519 public key, checked to be a valid, non-weak curve point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads a Multikey `publicKeyMultibase` value (`z6Mk...`).
    pub fn from_multibase(text: &str) -> Result<Self, KeyError> {
        let bytes = decode_multibase(text)?;
        match bytes.as_slice() {
            [0xed, 0x01, rest @ ..] if rest.len() == 32 => {
                let mut raw = [0u8; 32];
                raw.copy_from_slice(rest);
                Self::from_bytes(&raw)
            }
            _ => Err(KeyError::WrongCodec {
                what: "public",
                expected: "0xed01",
                len: 32,
            }),
        }
    }

    /// Reads a raw 32-byte Ed25519 public key.
    ///
    /// Decompressing the point costs about as much as a tenth of a verification, and a
    /// verifier sees the same few issuer keys again and again, so the last keys that passed
    /// these checks are remembered per thread (see [`DecodedKeys`]): the same bytes give the
    /// same key, and bytes that fail are checked again each time.
    pub fn from_bytes(raw: &[u8; 32]) -> Result<Self, KeyError> {
        if let Some(key) = DecodedKeys::get(raw) {
            return Ok(Self(key));
        }
        let key = VerifyingKey::from_bytes(raw).map_err(|_| KeyError::InvalidPoint)?;
        if key.is_weak() {
            return Err(KeyError::InvalidPoint);
        }
        DecodedKeys::put(raw, key);
        Ok(Self(key))
    }

    /// Reads the key of a `did:key:z6Mk...` DID, or of a verification method id in that DID.
    pub fn from_did_key(did_or_vm: &str) -> Result<Self, KeyError> {
        let rest = did_or_vm
            .strip_prefix("did:key:")
            .ok_or_else(|| KeyError::NotDidKey(did_or_vm.to_owned()))?;
        let (id, fragment) = match rest.split_once('#') {
            Some((id, fragment)) => (id, Some(fragment)),
            None => (rest, None),
        };
        if fragment.is_some_and(|f| f != id) {
            return Err(KeyError::NotDidKey(did_or_vm.to_owned()));
        }
        Self::from_multibase(id).map_err(|_| KeyError::NotDidKey(did_or_vm.to_owned()))
    }

    /// The raw key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The Multikey `publicKeyMultibase` form (`z6Mk...`).
    pub fn to_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(34);
        bytes.extend_from_slice(&ED25519_PUB_HEADER);
        bytes.extend_from_slice(self.0.as_bytes());
        encode_multibase(&bytes)
    }

    /// The `did:key` DID of this key.
    pub fn did_key(&self) -> String {
        format!("did:key:{}", self.to_multibase())
    }

    /// The verification method id of this key in its `did:key` DID document.
    pub fn did_key_method_id(&self) -> String {
        let mb = self.to_multibase();
        format!("did:key:{mb}#{mb}")
    }

    /// Strict Ed25519 verification (rejects non-canonical and small-order components): the
    /// same answer as ed25519-dalek's `VerifyingKey::verify_strict`, for every input.
    ///
    /// Written out on curve25519-dalek (the curve ed25519-dalek itself uses) for speed: that
    /// function compresses the point `[s]B - [k]A` it computes to compare it with the
    /// signature's `R` bytes, and compressing costs a field inversion, a tenth of a
    /// verification. Here the decompressed `R` (which strict verification needs anyway, to
    /// refuse small-order points) is compared with the computed point in projective
    /// coordinates, which needs no inversion. The two comparisons agree once `R`'s encoding
    /// is canonical (`y < p`), which is checked first: compression is one-to-one on curve
    /// points and gives canonical encodings only, and the encodings of `x = 0` with the sign
    /// bit set (the other non-canonical case) decompress to small-order points, refused
    /// below. `tests::strict_verification_agrees_with_ed25519_dalek` checks the agreement on
    /// valid, forged and edge-case signatures.
    pub fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
        use curve25519_dalek::scalar::Scalar;
        use sha2::{Digest, Sha512};

        let mut r_bytes = [0u8; 32];
        let mut s_bytes = [0u8; 32];
        r_bytes.copy_from_slice(signature.get(..32).unwrap_or(&[0; 32]));
        s_bytes.copy_from_slice(signature.get(32..).unwrap_or(&[0; 32]));
        // `s` must be reduced (below the group order).
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        if !is_canonical_y(&r_bytes) {
            return false;
        }
        let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        // `A` is not of small order either: `from_bytes`, the only way to make a `PublicKey`,
        // refuses weak keys, so it is not tested again for every signature.
        let a = self.0.to_edwards();
        if r.is_small_order() {
            return false;
        }
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(r_bytes)
                .chain_update(self.0.as_bytes())
                .chain_update(message),
        );
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s) == r
    }
}

/// Whether the 32-byte point encoding `bytes` holds its `y` coordinate reduced, below
/// `p = 2^255 - 19` (the sign bit of `x`, the top bit, aside). The unreduced values are
/// `p ..= 2^255 - 1`: low byte at least `0xed`, every other byte `0xff` (the top one `0x7f`
/// without the sign bit).
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let (low, rest) = bytes.split_at(1);
    let (middle, top) = rest.split_at(30);
    let unreduced = low.first().is_some_and(|&b| b >= 0xed)
        && middle.iter().all(|&b| b == 0xff)
        && top.first().is_some_and(|&b| b & 0x7f == 0x7f);
    !unreduced
}

/// The public keys this thread decoded last (valid, non-weak points only), by their 32 bytes.
///
/// A pure memo of [`PublicKey::from_bytes`]: an entry is only ever the decoding of exactly its
/// bytes, so a hit returns what decoding would. Small, so a lookup is a few comparisons and a
/// thread holds about 1.5 KiB; replaced round-robin.
struct DecodedKeys {
    entries: [Option<([u8; 32], VerifyingKey)>; DECODED_KEYS],
    next: usize,
}

/// Keys remembered per thread by [`DecodedKeys`].
const DECODED_KEYS: usize = 8;

thread_local! {
    static DECODED: std::cell::RefCell<DecodedKeys> = const {
        std::cell::RefCell::new(DecodedKeys {
            entries: [None; DECODED_KEYS],
            next: 0,
        })
    };
}

impl DecodedKeys {
    /// The remembered key of `raw`, if any.
    fn get(raw: &[u8; 32]) -> Option<VerifyingKey> {
        DECODED
            .try_with(|cell| {
                let cache = cell.try_borrow().ok()?;
                cache
                    .entries
                    .iter()
                    .flatten()
                    .find(|(bytes, _)| bytes == raw)
                    .map(|(_, key)| *key)
            })
            .ok()
            .flatten()
    }

    /// Remembers `key`, the checked decoding of `raw`.
    fn put(raw: &[u8; 32], key: VerifyingKey) {
        // Nothing is remembered while the thread is being torn down.
        let _ = DECODED.try_with(|cell| {
            if let Ok(mut cache) = cell.try_borrow_mut() {
                let at = cache.next % DECODED_KEYS;
                if let Some(slot) = cache.entries.get_mut(at) {
                    *slot = Some((*raw, key));
                }
                cache.next = (at + 1) % DECODED_KEYS;
            }
        });
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_multibase())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_multibase())
    }
}

/// An institution's signing key: where its secret is (here, or in an external signer), its
/// verification method id and controller.
///
/// A local secret is zeroized on drop; no secret is ever printed by `Debug`.
pub struct IssuerKey {
    secret: Secret,
    public: PublicKey,
    id: String,
    controller: String,
}

/// Where the secret of an [`IssuerKey`] is.
// The local key stays inline (no indirection when signing); an issuer has few keys, so the
// size of the external variant's padding does not matter.
#[allow(clippy::large_enum_variant)]
enum Secret {
    /// In this process.
    Local(LocalSecret),
    /// In an external signer, which only returns signatures.
    External(Arc<dyn ExternalSigner>),
}

/// A secret key held in this process: its seed (what a key file stores) and the expanded
/// key derived from it (the secret scalar and the nonce prefix, RFC 8032 §5.1.5), derived
/// once rather than for every signature. Both are zeroized on drop.
struct LocalSecret {
    seed: SigningKey,
    expanded: ExpandedSecretKey,
}

impl LocalSecret {
    fn new(seed: SigningKey) -> Self {
        let expanded = ExpandedSecretKey::from(seed.as_bytes());
        Self { seed, expanded }
    }

    /// The Ed25519 signature of `message` (RFC 8032 §5.1.6) under this key, whose public key
    /// is `public`: byte for byte what ed25519-dalek's `SigningKey::sign` returns (a test says
    /// so), with the same curve25519-dalek operations, all constant time. Two things differ,
    /// both for speed: the expanded key is not derived again for each signature, and once a
    /// process has made [`RADIX32_AFTER`] signatures, `[r]B` is computed with a radix-32 table
    /// of the base point instead of the crate's radix-16 one (see [`basepoint_radix32`]).
    fn sign(&self, public: &[u8; 32], message: &[u8]) -> [u8; 64] {
        use curve25519_dalek::constants::ED25519_BASEPOINT_TABLE;

        match basepoint_radix32() {
            Some(table) => self.sign_with(table, public, message),
            None => self.sign_with(ED25519_BASEPOINT_TABLE, public, message),
        }
    }

    fn sign_with<T>(&self, table: &T, public: &[u8; 32], message: &[u8]) -> [u8; 64]
    where
        T: curve25519_dalek::traits::BasepointTable<Point = curve25519_dalek::EdwardsPoint>,
    {
        use curve25519_dalek::scalar::Scalar;
        use sha2::{Digest, Sha512};

        let r = Scalar::from_hash(
            Sha512::new()
                .chain_update(self.expanded.hash_prefix)
                .chain_update(message),
        );
        let big_r = table.mul_base(&r).compress();
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(public)
                .chain_update(message),
        );
        let s = k * self.expanded.scalar + r;
        let mut signature = [0u8; 64];
        let (left, right) = signature.split_at_mut(32);
        left.copy_from_slice(big_r.as_bytes());
        right.copy_from_slice(s.as_bytes());
        signature
    }
}

/// Local signatures a process makes with the radix-16 base point table before it builds the
/// radix-32 one: about what the larger table takes to pay for itself.
const RADIX32_AFTER: u64 = 2048;

/// The Ed25519 base point's radix-32 table (about 100 KB), once this process has made
/// [`RADIX32_AFTER`] local signatures; `None` before.
///
/// With it a signature took 1.0-1.3 µs less than `SigningKey::sign` (about 18 µs), the median
/// difference of alternating batches in each of three runs, every call following a 384 KB
/// memory sweep as a signing service's JSON work disturbs the caches. Radix-64 was no faster
/// than radix-16, and radix-128 and -256 slower (their constant-time look-ups scan more
/// entries). Building it takes about 2.5 ms, so a process that signs a few credentials
/// (`microcred sign`, one issuance) never pays for it, and a batch or a busy service pays once.
fn basepoint_radix32() -> Option<&'static EdwardsBasepointTableRadix32> {
    use std::sync::atomic::{AtomicU64, Ordering};

    static SIGNED: AtomicU64 = AtomicU64::new(0);
    if let Some(table) = RADIX32.get() {
        return Some(table);
    }
    if SIGNED.fetch_add(1, Ordering::Relaxed) < RADIX32_AFTER {
        return None;
    }
    Some(radix32_table())
}

/// The table of [`basepoint_radix32`], built on first call.
static RADIX32: std::sync::OnceLock<EdwardsBasepointTableRadix32> = std::sync::OnceLock::new();

fn radix32_table() -> &'static EdwardsBasepointTableRadix32 {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::traits::BasepointTable;

    RADIX32.get_or_init(|| BasepointTable::create(&ED25519_BASEPOINT_POINT))
}

impl IssuerKey {
    /// A `did:key` issuer key from a 32-byte seed (the caller supplies randomness).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let secret = SigningKey::from_bytes(seed);
        let public = PublicKey::from_bytes(&secret.verifying_key().to_bytes())?;
        Ok(Self {
            id: public.did_key_method_id(),
            controller: public.did_key(),
            secret: Secret::Local(LocalSecret::new(secret)),
            public,
        })
    }

    /// A `did:key` issuer key whose secret is held by `signer` (an HSM, a PKCS#11 token);
    /// `public` is its public key. Use [`Self::with_controller`] for another controller.
    ///
    /// Each signature `signer` returns is checked with `public` (strict Ed25519) before it is
    /// used: a signer holding another key, or returning garbage, makes signing fail with
    /// [`SignerError::BadSignature`].
    pub fn from_external(public: PublicKey, signer: Arc<dyn ExternalSigner>) -> Self {
        Self {
            id: public.did_key_method_id(),
            controller: public.did_key(),
            secret: Secret::External(signer),
            public,
        }
    }

    /// True when the secret is held by an external signer (it cannot be exported).
    pub fn is_external(&self) -> bool {
        matches!(self.secret, Secret::External(_))
    }

    /// The same key, presented as verification method `id` of `controller` (e.g. a `did:web`).
    /// `id` must be `controller` followed by `#fragment`.
    pub fn with_controller(mut self, id: &str, controller: &str) -> Result<Self, KeyError> {
        check_method_id(id, controller)?;
        self.id = id.to_owned();
        self.controller = controller.to_owned();
        Ok(self)
    }

    /// Reads a Multikey key-pair file (JSON text).
    pub fn from_key_file(json: &str) -> Result<Self, KeyError> {
        let file: KeyFile = serde_json::from_str(json).map_err(|e| {
            KeyError::File(format!(
                "{e}; expected {{\"id\", \"type\": \"Multikey\", \"controller\", \"publicKeyMultibase\", \"secretKeyMultibase\"}}"
            ))
        })?;
        if file.key_type != "Multikey" {
            return Err(KeyError::File(format!(
                "type is \"{}\", only \"Multikey\" is supported",
                file.key_type
            )));
        }
        let secret_text = file.secret_key_multibase.as_deref().ok_or_else(|| {
            KeyError::File("no secretKeyMultibase: this is a public key, it cannot sign".into())
        })?;
        let mut seed = decode_secret(secret_text)?;
        let key = Self::from_seed(&seed);
        seed.zeroize();
        let key = key?;
        if PublicKey::from_multibase(&file.public_key_multibase)? != key.public {
            return Err(KeyError::Mismatch);
        }
        let controller = file
            .controller
            .clone()
            .unwrap_or_else(|| key.controller.clone());
        let id = file.id.clone().unwrap_or_else(|| {
            if controller.starts_with("did:key:") {
                key.id.clone()
            } else {
                format!("{controller}#{}", key.public.to_multibase())
            }
        });
        key.with_controller(&id, &controller)
    }

    /// The key file (JSON, pretty-printed) including the secret. Write it with care.
    ///
    /// [`KeyError::NotExportable`] for a key held by an external signer.
    pub fn to_key_file(&self) -> Result<Zeroizing<String>, KeyError> {
        let secret = self.secret_multibase()?;
        let file = KeyFile {
            context: Some(MULTIKEY_CONTEXT.into()),
            id: Some(self.id.clone()),
            key_type: "Multikey".into(),
            controller: Some(self.controller.clone()),
            public_key_multibase: self.public.to_multibase(),
            secret_key_multibase: Some(secret.to_string()),
        };
        let text = serde_json::to_string_pretty(&file).unwrap_or_default();
        // The temporary copy inside `file` is dropped here; `secret` zeroizes itself.
        drop(file);
        Ok(Zeroizing::new(text))
    }

    /// The public part as a Multikey verification method (JSON), safe to publish.
    pub fn public_method(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public.to_multibase(),
        })
    }

    /// `secretKeyMultibase` (`z3u2...`): header 0x8026 and the 32-byte seed.
    ///
    /// [`KeyError::NotExportable`] for a key held by an external signer.
    pub fn secret_multibase(&self) -> Result<Zeroizing<String>, KeyError> {
        let Secret::Local(secret) = &self.secret else {
            return Err(KeyError::NotExportable(self.id.clone()));
        };
        let mut bytes = Zeroizing::new(Vec::with_capacity(34));
        bytes.extend_from_slice(&ED25519_PRIV_HEADER);
        bytes.extend_from_slice(secret.seed.as_bytes());
        Ok(Zeroizing::new(encode_multibase(&bytes)))
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The verification method id used in proofs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The controller (the issuer's DID or URL): it must equal the credential's `issuer.id`.
    pub fn controller(&self) -> &str {
        &self.controller
    }

    /// Signs `message`. A local key signs as ed25519-dalek does (see [`LocalSecret::sign`]); a
    /// signature from an external signer is returned only once it verifies with the public key.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        match &self.secret {
            Secret::Local(secret) => Ok(secret.sign(self.public.0.as_bytes(), message)),
            Secret::External(signer) => {
                let signature = signer.sign(message)?;
                if self.public.verify_strict(message, &signature) {
                    Ok(signature)
                } else {
                    Err(SignerError::BadSignature(self.public.to_multibase()))
                }
            }
        }
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("id", &self.id)
            .field("controller", &self.controller)
            .field("public", &self.public)
            .field(
                "secret",
                &match self.secret {
                    Secret::Local(_) => "local",
                    Secret::External(_) => "external signer",
                },
            )
            .finish_non_exhaustive()
    }
}

/// The on-disk shape of a Multikey key pair (or public key, without the secret).
#[derive(Deserialize, Serialize)]
struct KeyFile {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    context: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "type")]
    key_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    controller: Option<String>,
    #[serde(rename = "publicKeyMultibase")]
    public_key_multibase: String,
    #[serde(
        rename = "secretKeyMultibase",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    secret_key_multibase: Option<String>,
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        if let Some(s) = self.secret_key_multibase.as_mut() {
            s.zeroize();
        }
    }
}

fn check_method_id(id: &str, controller: &str) -> Result<(), KeyError> {
    match id.strip_prefix(controller) {
        Some(rest) if rest.len() > 1 && rest.starts_with('#') => Ok(()),
        _ => Err(KeyError::File(format!(
            "verification method id `{id}` must be its controller `{controller}` followed by `#fragment`"
        ))),
    }
}

fn decode_secret(text: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let bytes = Zeroizing::new(decode_multibase(text)?);
    match bytes.as_slice() {
        [0x80, 0x26, rest @ ..] if rest.len() == 32 => {
            let mut seed = Zeroizing::new([0u8; 32]);
            seed.copy_from_slice(rest);
            Ok(seed)
        }
        _ => Err(KeyError::WrongCodec {
            what: "secret",
            expected: "0x8026",
            len: 32,
        }),
    }
}

/// Decodes a base58btc multibase string (`z...`).
pub(crate) fn decode_multibase(text: &str) -> Result<Vec<u8>, KeyError> {
    text.strip_prefix('z')
        .and_then(|b58| base58::decode(b58).or_else(|| bs58::decode(b58).into_vec().ok()))
        .ok_or_else(|| KeyError::NotMultibase(truncate(text)))
}

/// Decodes a base58btc multibase string (`z...`) that must hold exactly `N` bytes (a
/// signature, a key); `None` if it is not base58btc or holds another number of bytes. Text
/// too long to hold `N` bytes is refused before any decoding.
pub(crate) fn decode_multibase_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    let b58 = text.strip_prefix('z')?;
    if b58.len() > base58::max_encoded_len(N) {
        return None;
    }
    base58::decode(b58)?.try_into().ok()
}

/// Encodes bytes as base58btc multibase (`z...`).
pub(crate) fn encode_multibase(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 138 / 100 + 2);
    out.push('z');
    if !base58::encode_into(bytes, &mut out) {
        out.push_str(&bs58::encode(bytes).into_string());
    }
    out
}

/// Base58btc (the Bitcoin alphabet) for the short values Data Integrity proofs carry: 64-byte
/// signatures, 34-byte Multikey keys.
///
/// Written here for speed: the `bs58` crate converts one digit at a time through the whole
/// number (quadratic in single digits), which made encoding a signature cost about 4 µs, a
/// third of the Ed25519 signature itself. This does the same base conversion on machine
/// words: 5 base-58 digits (58^5 < 2^30) against 32 bits at a time, with no allocation
/// beyond the result. Inputs longer than [`MAX_BYTES`] (none in practice) are left to `bs58`;
/// the tests check both agree on every length up to there.
mod base58 {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    /// 58^5, the base of the digit limbs.
    const R5: u64 = 656_356_768;
    /// Longest byte string handled here.
    pub(super) const MAX_BYTES: usize = 128;
    /// Limbs of 5 digits (29.29 bits each) for `MAX_BYTES` bytes, rounded up.
    const DIGIT_LIMBS: usize = 36;
    /// 32-bit limbs for the longest text decoded here (`max_encoded_len(MAX_BYTES)` digits,
    /// 5.858 bits each), rounded up.
    const WORD_LIMBS: usize = 33;

    /// Digit value of each byte, 0xff for bytes outside the alphabet.
    static DIGITS: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let mut i = 0;
        while i < ALPHABET.len() {
            t[ALPHABET[i] as usize] = i as u8;
            i += 1;
        }
        t
    };

    /// The most characters `n` bytes encode to: ceil(n * log(256) / log(58)).
    pub(super) const fn max_encoded_len(n: usize) -> usize {
        // 1.3657... = log(256) / log(58); 13657 / 10000 rounds it up slightly.
        (n * 13657).div_ceil(10000)
    }

    /// Appends the base58 form of `bytes` to `out`; false (nothing written) when `bytes` is
    /// longer than [`MAX_BYTES`].
    pub(super) fn encode_into(bytes: &[u8], out: &mut String) -> bool {
        if bytes.len() > MAX_BYTES {
            return false;
        }
        let zeros = bytes.iter().take_while(|&&b| b == 0).count();
        let rest = bytes.get(zeros..).unwrap_or(&[]);
        // The number, least significant limb first, in base 58^5.
        let mut limbs = [0u32; DIGIT_LIMBS];
        let mut len = 0usize;
        // A first group of 1-3 bytes, then groups of 4 (big-endian).
        let head = rest.len() % 4;
        let groups = rest
            .get(..head)
            .into_iter()
            .filter(|g| !g.is_empty())
            .chain(rest.get(head..).unwrap_or(&[]).chunks_exact(4));
        for group in groups {
            let shift = 8 * group.len() as u32;
            let mut carry = group.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
            for limb in limbs.iter_mut().take(len) {
                let t = (u64::from(*limb) << shift) + carry;
                *limb = (t % R5) as u32;
                carry = t / R5;
            }
            while carry > 0 {
                let Some(limb) = limbs.get_mut(len) else {
                    return false;
                };
                *limb = (carry % R5) as u32;
                carry /= R5;
                len += 1;
            }
        }
        // Digits, most significant first: the top limb without its leading zeros.
        let mut digits = [0u8; DIGIT_LIMBS * 5];
        let mut n = 0usize;
        for (i, &limb) in limbs.iter().take(len).enumerate() {
            let mut v = limb;
            let top = i + 1 == len;
            for _ in 0..5 {
                if top && v == 0 {
                    break;
                }
                if let Some(d) = digits.get_mut(n) {
                    *d = (v % 58) as u8;
                }
                v /= 58;
                n += 1;
            }
        }
        out.reserve(zeros + n);
        out.extend(std::iter::repeat_n('1', zeros));
        for &d in digits.get(..n).unwrap_or(&[]).iter().rev() {
            out.push(char::from(
                ALPHABET.get(usize::from(d)).copied().unwrap_or(b'1'),
            ));
        }
        true
    }

    /// The bytes `text` encodes; `None` if it has a character outside the alphabet, or (for
    /// the caller to fall back on) is longer than `max_encoded_len(MAX_BYTES)`.
    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let text = text.as_bytes();
        if text.len() > max_encoded_len(MAX_BYTES) {
            return None;
        }
        let zeros = text.iter().take_while(|&&c| c == b'1').count();
        let rest = text.get(zeros..).unwrap_or(&[]);
        // The number, least significant limb first, in base 2^32.
        let mut limbs = [0u32; WORD_LIMBS];
        let mut len = 0usize;
        let head = rest.len() % 5;
        let groups = rest
            .get(..head)
            .into_iter()
            .filter(|g| !g.is_empty())
            .chain(rest.get(head..).unwrap_or(&[]).chunks_exact(5));
        for group in groups {
            let mut carry = 0u64;
            let mut scale = 1u64;
            for &c in group {
                let d = DIGITS.get(usize::from(c)).copied().unwrap_or(0xff);
                if d == 0xff {
                    return None;
                }
                carry = carry * 58 + u64::from(d);
                scale *= 58;
            }
            for limb in limbs.iter_mut().take(len) {
                let t = u64::from(*limb) * scale + carry;
                *limb = t as u32;
                carry = t >> 32;
            }
            while carry > 0 {
                let limb = limbs.get_mut(len)?;
                *limb = carry as u32;
                carry >>= 32;
                len += 1;
            }
        }
        let mut out = Vec::with_capacity(zeros + 4 * len);
        out.resize(zeros, 0u8);
        let mut leading = true;
        for &limb in limbs.iter().take(len).rev() {
            for b in limb.to_be_bytes() {
                if leading && b == 0 {
                    continue;
                }
                leading = false;
                out.push(b);
            }
        }
        Some(out)
    }
}

fn truncate(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;

    /// Remembered keys are exactly the decodings of their bytes: more keys than the memo
    /// holds, read twice each, give the keys ed25519-dalek decodes, and bytes that are no
    /// valid key (a weak point, a non-point) are refused however often they come.
    #[test]
    fn remembered_public_keys_are_the_decoded_keys() {
        let raws: Vec<[u8; 32]> = (0..3 * DECODED_KEYS as u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]).verifying_key().to_bytes())
            .collect();
        // The identity point (weak) and a y coordinate with no point.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        for _ in 0..2 {
            for raw in &raws {
                let key = PublicKey::from_bytes(raw).unwrap();
                assert_eq!(key.to_bytes(), *raw);
                assert_eq!(key.0, VerifyingKey::from_bytes(raw).unwrap());
                assert_eq!(PublicKey::from_bytes(raw).unwrap(), key);
                assert_eq!(
                    PublicKey::from_bytes(&weak).unwrap_err(),
                    KeyError::InvalidPoint
                );
                assert_eq!(
                    PublicKey::from_bytes(&not_a_point).unwrap_err(),
                    KeyError::InvalidPoint
                );
            }
        }
    }

    #[test]
    fn key_file_round_trips_and_hides_secret_from_debug() {
        let key = IssuerKey::from_seed(&[7u8; 32]).unwrap();
        let file = key.to_key_file().unwrap();
        let again = IssuerKey::from_key_file(&file).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(again.id(), key.id());
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(key.secret_multibase().unwrap().as_str()));
        assert!(key.secret_multibase().unwrap().starts_with("z3u2"));
        assert!(key.public_key().to_multibase().starts_with("z6Mk"));
    }

    /// The word-based base58 agrees with `bs58` on every length it handles, for bytes with
    /// and without leading zeros, both ways.
    #[test]
    fn base58_agrees_with_bs58_on_every_length() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in 0..=base58::MAX_BYTES {
            for round in 0..40 {
                let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                // Leading zeros (base58 keeps them as '1's), all-0xff, all-zero.
                match round {
                    0 => bytes.iter_mut().for_each(|b| *b = 0),
                    1 => bytes.iter_mut().for_each(|b| *b = 0xff),
                    r if r % 3 == 0 => {
                        let z = (next() as usize) % (len + 1);
                        bytes.iter_mut().take(z).for_each(|b| *b = 0);
                    }
                    _ => {}
                }
                let expected = bs58::encode(&bytes).into_string();
                let mut ours = String::new();
                assert!(base58::encode_into(&bytes, &mut ours));
                assert_eq!(ours, expected, "{bytes:02x?}");
                assert!(ours.len() <= base58::max_encoded_len(len));
                assert_eq!(base58::decode(&expected), Some(bytes), "{expected}");
            }
        }
        assert!(!base58::encode_into(
            &[1u8; base58::MAX_BYTES + 1],
            &mut String::new()
        ));
        assert_eq!(base58::max_encoded_len(64), 88);
        assert_eq!(base58::max_encoded_len(34), 47);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// A local key's signature is ed25519-dalek's, byte for byte, for any seed and message
        /// (Ed25519 is deterministic), with either base point table, and verifies strictly.
        #[test]
        fn local_signatures_are_ed25519_dalek_signatures(
            seed in proptest::array::uniform32(proptest::prelude::any::<u8>()),
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            use curve25519_dalek::constants::ED25519_BASEPOINT_TABLE;

            let key = IssuerKey::from_seed(&seed).unwrap();
            let Secret::Local(local) = &key.secret else {
                unreachable!("a key from a seed is local");
            };
            let dalek = SigningKey::from_bytes(&seed).sign(&message).to_bytes();
            let public = key.public.0.to_bytes();
            proptest::prop_assert_eq!(local.sign_with(ED25519_BASEPOINT_TABLE, &public, &message), dalek);
            proptest::prop_assert_eq!(local.sign_with(radix32_table(), &public, &message), dalek);
            let signature = key.sign(&message).unwrap();
            proptest::prop_assert_eq!(signature, dalek);
            proptest::prop_assert!(key.public_key().verify_strict(&message, &signature));
        }
    }

    /// RFC 8032 §7.1 test 3 (two-byte message), through the local signer.
    #[test]
    fn local_signature_matches_rfc8032_vector() {
        let seed: [u8; 32] =
            hex::decode("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7")
                .unwrap()
                .try_into()
                .unwrap();
        let key = IssuerKey::from_seed(&seed).unwrap();
        assert_eq!(
            hex::encode(key.public_key().0.as_bytes()),
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025"
        );
        assert_eq!(
            hex::encode(key.sign(&[0xaf, 0x82]).unwrap()),
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac\
             18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        );
    }

    proptest::proptest! {
        /// Any text over the alphabet (leading '1's included) decodes as `bs58` decodes it;
        /// any other character is refused by both.
        #[test]
        fn base58_decode_agrees_with_bs58(
            text in "1{0,4}[1-9A-HJ-NP-Za-km-z]{0,170}",
            bad in "[0OIl+/ é]",
            at in 0usize..200,
        ) {
            let expected = bs58::decode(&text).into_vec().ok();
            proptest::prop_assert_eq!(base58::decode(&text), expected);
            let mut broken = text.clone();
            broken.insert_str(text.len().min(at), &bad);
            proptest::prop_assert_eq!(base58::decode(&broken), None);
            let multibase = format!("z{broken}");
            proptest::prop_assert!(decode_multibase(&multibase).is_err());
        }

        /// Encoding random bytes of any length (past the fast path too) matches `bs58`.
        #[test]
        fn multibase_encoding_agrees_with_bs58(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let mb = encode_multibase(&bytes);
            proptest::prop_assert_eq!(&mb, &format!("z{}", bs58::encode(&bytes).into_string()));
            proptest::prop_assert_eq!(decode_multibase(&mb), Ok(bytes));
        }
    }

    #[test]
    fn fixed_size_decoding_refuses_other_sizes_and_long_text() {
        let sig = [0xabu8; 64];
        let mb = encode_multibase(&sig);
        assert_eq!(decode_multibase_fixed::<64>(&mb), Some(sig));
        assert_eq!(decode_multibase_fixed::<63>(&mb), None);
        assert_eq!(
            decode_multibase_fixed::<64>(&mb[1..]),
            None,
            "no multibase prefix"
        );
        let zeros = format!("z{}", "1".repeat(64));
        assert_eq!(decode_multibase_fixed::<64>(&zeros), Some([0u8; 64]));
        let long = format!("z{}", "1".repeat(89));
        assert_eq!(decode_multibase_fixed::<64>(&long), None);
    }

    /// Signs with a local key held here, as a token would (or with another key, or returns
    /// garbage, as a faulty token would).
    struct FakeToken {
        key: SigningKey,
        flip: bool,
    }

    impl ExternalSigner for FakeToken {
        fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
            let mut signature = self.key.sign(message).to_bytes();
            if self.flip {
                signature[5] ^= 1;
            }
            Ok(signature)
        }
    }

    fn external(seed: u8, signer_seed: u8, flip: bool) -> IssuerKey {
        let public = IssuerKey::from_seed(&[seed; 32]).unwrap().public_key();
        IssuerKey::from_external(
            public,
            Arc::new(FakeToken {
                key: SigningKey::from_bytes(&[signer_seed; 32]),
                flip,
            }),
        )
    }

    /// An external signer's signature is used only when it verifies with the key's public
    /// key: a token holding another key, or returning a damaged signature, is an error.
    #[test]
    fn external_signatures_are_checked_before_use() {
        let good = external(3, 3, false);
        let local = IssuerKey::from_seed(&[3u8; 32]).unwrap();
        assert_eq!(good.sign(b"m").unwrap(), local.sign(b"m").unwrap());
        assert!(good.is_external() && !local.is_external());
        assert_eq!(good.id(), local.id());
        assert_eq!(good.controller(), local.controller());
        let expected = SignerError::BadSignature(local.public_key().to_multibase());
        assert_eq!(external(3, 4, false).sign(b"m").unwrap_err(), expected);
        assert_eq!(external(3, 3, true).sign(b"m").unwrap_err(), expected);
        // Another controller works as for a local key.
        let web = good
            .with_controller("did:web:example.org#key-1", "did:web:example.org")
            .unwrap();
        assert_eq!(web.id(), "did:web:example.org#key-1");
        assert!(web.sign(b"m").is_ok());
    }

    /// Nothing exports the secret of an external key, and `Debug` says where it is.
    #[test]
    fn external_keys_cannot_be_exported() {
        let key = external(3, 3, false);
        let not = KeyError::NotExportable(key.id().to_owned());
        assert_eq!(key.to_key_file().unwrap_err(), not);
        assert_eq!(key.secret_multibase().unwrap_err(), not);
        assert!(format!("{key:?}").contains("external signer"));
        assert_eq!(
            key.public_method()["publicKeyMultibase"],
            key.public_key().to_multibase()
        );
    }

    #[test]
    fn rejects_mismatched_public_key() {
        let a = IssuerKey::from_seed(&[1u8; 32]).unwrap();
        let b = IssuerKey::from_seed(&[2u8; 32]).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&a.to_key_file().unwrap()).unwrap();
        v["publicKeyMultibase"] = b.public_key().to_multibase().into();
        assert_eq!(
            IssuerKey::from_key_file(&v.to_string()).unwrap_err(),
            KeyError::Mismatch
        );
    }

    /// `PublicKey::verify_strict` gives ed25519-dalek's `verify_strict` answer: on valid
    /// signatures, on each one-bit change of them, on unreduced `s` (`s + L`), on every
    /// small-order `R` (and the unreduced and sign-bit variants of their encodings), on every
    /// unreduced `y` as `R`, and on random bytes (property test below).
    #[test]
    fn strict_verification_agrees_with_ed25519_dalek() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        use curve25519_dalek::scalar::Scalar;

        let agree = |public: &PublicKey, message: &[u8], sig: &[u8; 64]| {
            let dalek = public
                .0
                .verify_strict(message, &ed25519_dalek::Signature::from_bytes(sig))
                .is_ok();
            assert_eq!(
                public.verify_strict(message, sig),
                dalek,
                "{}",
                hex::encode(sig)
            );
            dalek
        };
        // `L`, the group order, little endian.
        let order = (Scalar::ZERO - Scalar::ONE).to_bytes();
        for seed in 0u8..2 {
            let signing = SigningKey::from_bytes(&[seed; 32]);
            let public = PublicKey::from_bytes(&signing.verifying_key().to_bytes()).unwrap();
            let message = [seed; 64];
            let good = signing.sign(&message).to_bytes();
            assert!(agree(&public, &message, &good));
            assert!(!agree(&public, b"another message", &good));
            for bit in 0..512 {
                let mut sig = good;
                sig[bit / 8] ^= 1 << (bit % 8);
                agree(&public, &message, &sig);
            }
            // s + L: the same s, unreduced (s < 2^253, so the sum fits in 32 bytes).
            let mut sig = good;
            let mut carry = 1u16; // L = (L - 1) + 1
            for (i, b) in sig[32..].iter_mut().enumerate() {
                let sum = u16::from(*b) + u16::from(order[i]) + carry;
                *b = sum as u8;
                carry = sum >> 8;
            }
            assert!(!agree(&public, &message, &sig));
            // Small-order R, encoded canonically, with the sign bit flipped and unreduced.
            for point in EIGHT_TORSION {
                let encoded = point.compress().to_bytes();
                let mut flipped = encoded;
                flipped[31] ^= 0x80;
                for r in [Some(encoded), Some(flipped), add_p(&encoded)]
                    .into_iter()
                    .flatten()
                {
                    let mut sig = good;
                    sig[..32].copy_from_slice(&r);
                    assert!(!agree(&public, &message, &sig));
                }
            }
            // Every unreduced y (p + 0 ..= p + 18), with either sign bit, as R.
            for low in 0u8..19 {
                let mut y = [0u8; 32];
                y[0] = low;
                for r in add_p(&y).into_iter().flat_map(|r| {
                    let mut signed = r;
                    signed[31] |= 0x80;
                    [r, signed]
                }) {
                    assert!(!is_canonical_y(&r));
                    let mut sig = good;
                    sig[..32].copy_from_slice(&r);
                    assert!(!agree(&public, &message, &sig));
                }
            }
        }
    }

    /// `bytes` (a point encoding whose y is at most 18) with p added to y: its unreduced
    /// encoding, if y + p still fits in 255 bits.
    fn add_p(bytes: &[u8; 32]) -> Option<[u8; 32]> {
        let y_low = bytes[0];
        if y_low > 18 || bytes[1..31].iter().any(|&b| b != 0) || bytes[31] & 0x7f != 0 {
            return None;
        }
        let mut out = [0xffu8; 32];
        out[0] = 0xed + y_low;
        out[31] = 0x7f | (bytes[31] & 0x80);
        Some(out)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// On arbitrary signature bytes, and on arbitrary R or s with a valid other half.
        #[test]
        fn strict_verification_agrees_on_any_bytes(
            r in proptest::array::uniform32(proptest::prelude::any::<u8>()),
            s in proptest::array::uniform32(proptest::prelude::any::<u8>()),
            seed in proptest::prelude::any::<u8>(),
        ) {
            let signing = SigningKey::from_bytes(&[seed; 32]);
            let public = PublicKey::from_bytes(&signing.verifying_key().to_bytes()).unwrap();
            let message = b"a message";
            let good = signing.sign(message).to_bytes();
            let mut candidates = Vec::new();
            let mut whole = [0u8; 64];
            whole[..32].copy_from_slice(&r);
            whole[32..].copy_from_slice(&s);
            candidates.push(whole);
            let mut new_r = good;
            new_r[..32].copy_from_slice(&r);
            candidates.push(new_r);
            let mut new_s = good;
            new_s[32..].copy_from_slice(&s);
            candidates.push(new_s);
            for sig in candidates {
                let dalek = public
                    .0
                    .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
                    .is_ok();
                proptest::prop_assert_eq!(public.verify_strict(message, &sig), dalek);
            }
        }
    }
}
