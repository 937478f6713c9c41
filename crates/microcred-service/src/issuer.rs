//! Institutions' identities and keys, and building + signing credentials.
//!
//! No HTTP here: routes call these functions (on blocking threads where they sign or read).

use std::collections::HashMap;
use std::sync::Arc;

use microcred_core::{
    Achievement, AchievementSubject, ContextLoader, CredentialTemplate, Cryptosuite, IssuerKey,
    LintOptions, LintProfile, OpenBadgeCredential, Profile, ProofSetup, PublicKey, Recipient,
    MULTIKEY_CONTEXT,
};
pub(crate) use microcred_core::{IssueCheck, IssueRow, RowError, Spare};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::BaseUrl;
use crate::crypto::{self, CryptoError, MasterKey};
use crate::pkcs11::{Token, TokenError};
use crate::store::{
    BodyParts, IdentityKind, InstitutionRecord, KeyRecord, KeySecret, KeyStatus, KeyStorage,
    PackedBody, Packer, SealedSecret,
};

/// The suite used when a request names none: the core's default. Kept in one place.
pub(crate) fn default_suite() -> Cryptosuite {
    Cryptosuite::DEFAULT
}

/// Names of every suite this build can sign with.
pub(crate) fn suite_names() -> Vec<&'static str> {
    Cryptosuite::ALL.iter().map(|s| s.name()).collect()
}

/// Parses a suite name, or explains which are supported.
pub(crate) fn parse_suite(name: Option<&str>) -> Result<Cryptosuite, String> {
    match name {
        None => Ok(default_suite()),
        Some(n) => n.parse().map_err(|_| {
            format!(
                "unsupported cryptosuite \"{n}\"; supported: {}",
                suite_names().join(", ")
            )
        }),
    }
}

/// The `did:web` DID of an institution served by this service:
/// `did:web:<host>[%3A<port>][:<prefix>...]:institutions:<slug>`, resolved at
/// `<base_url>/institutions/<slug>/did.json`.
pub(crate) fn did_web(base: &BaseUrl, slug: &str) -> String {
    let mut did = format!("did:web:{}", base.authority.replace(':', "%3A"));
    for seg in &base.path {
        did.push(':');
        did.push_str(seg);
    }
    did.push_str(":institutions:");
    did.push_str(slug);
    did
}

/// A signing key, decrypted, ready to sign. The secret is zeroized on drop.
#[derive(Debug)]
pub(crate) struct ActiveKey {
    pub(crate) key: IssuerKey,
}

/// Where institutions' keys are made and opened: sealed under the master key, or in the
/// PKCS#11 token when one is configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vault<'a> {
    pub(crate) master: &'a MasterKey,
    pub(crate) token: Option<&'a Arc<Token>>,
}

/// A key could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyAccessError {
    /// Sealing or opening a sealed key failed (wrong master key, altered data, no randomness).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The PKCS#11 token failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A key is to be made in a PKCS#11 token and the service has none configured.
    #[error("keys in a PKCS#11 token need a [pkcs11] configuration (module, token_label, PIN); this service has none")]
    NotConfigured,
    /// The key lives in a PKCS#11 token and the service has none configured.
    #[error("key {method_id} lives in PKCS#11 token \"{token}\", but this service has no [pkcs11] configuration: configure [pkcs11] (module, token_label, PIN) and restart")]
    NoToken {
        /// The verification method id.
        method_id: String,
        /// The token's label.
        token: String,
    },
    /// The key lives in another token than the configured one.
    #[error("key {method_id} lives in PKCS#11 token \"{token}\", but this service is configured with token \"{configured}\": set pkcs11.token_label to the token holding the key")]
    OtherToken {
        /// The verification method id.
        method_id: String,
        /// The token holding the key.
        token: String,
        /// The configured token.
        configured: String,
    },
}

/// Makes a new key for an institution in `storage`: returns its record and the usable key.
/// For `did:web` the controller is `did` and the method `did#key-<seq>`; for `did:key` the
/// key's own DID. A PKCS#11 key is generated in the token (labelled
/// `microcred:<institution>:<seq>`); the record keeps only its token and `CKA_ID`.
pub(crate) fn new_key(
    vault: Vault<'_>,
    storage: KeyStorage,
    identity: IdentityKind,
    did_web: Option<&str>,
    institution: &str,
    seq: i64,
    now: &str,
) -> Result<(KeyRecord, IssuerKey), KeyAccessError> {
    let (key, secret) = match storage {
        KeyStorage::Sealed => {
            let seed = crypto::random_seed()?;
            let key = IssuerKey::from_seed(&seed).map_err(|_| CryptoError::Random)?;
            let key = with_method(key, identity, did_web, seq)?;
            let (nonce, ciphertext) = vault.master.seal(seed.as_ref(), key.id().as_bytes())?;
            let secret = KeySecret::Sealed(SealedSecret {
                nonce: nonce.to_vec(),
                ciphertext,
            });
            (key, secret)
        }
        KeyStorage::Pkcs11 => {
            let token = vault.token.ok_or(KeyAccessError::NotConfigured)?;
            let made = token.generate(institution, seq)?;
            let key = IssuerKey::from_external(made.public, token.signer(&made.key_id));
            let key = with_method(key, identity, did_web, seq)?;
            let secret = KeySecret::Pkcs11 {
                token: token.label().to_owned(),
                key_id: made.key_id,
            };
            (key, secret)
        }
    };
    let rec = KeyRecord {
        method_id: key.id().to_owned(),
        institution: institution.to_owned(),
        seq,
        public_multibase: key.public_key().to_multibase(),
        status: KeyStatus::Active,
        created_at: now.to_owned(),
        retired_at: None,
        secret,
    };
    Ok((rec, key))
}

/// Stores a key just made by `new_key` with `store`; if storing fails, a key generated in the
/// token is destroyed there (nothing would ever use or find it), and the store's error is
/// returned.
pub(crate) fn store_new_key<T, E>(
    vault: Vault<'_>,
    key: &KeyRecord,
    store: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let stored = store();
    if stored.is_err() {
        if let (KeySecret::Pkcs11 { key_id, .. }, Some(token)) = (&key.secret, vault.token) {
            if let Err(e) = token.destroy(key_id) {
                tracing::warn!(error = %e, key = %key.method_id, "a key generated in the token but not stored could not be destroyed");
            }
        }
    }
    stored
}

/// Destroys the private half of a compromised key kept in the PKCS#11 token, so that it can
/// never sign again (a sealed key marked compromised is never opened again by the service,
/// and its sealed secret is useless without the master key). Returns what the caller must know
/// when the token's key could not be destroyed.
pub(crate) fn destroy_compromised(vault: Vault<'_>, key: &KeyRecord) -> Option<String> {
    let KeySecret::Pkcs11 { token, key_id } = &key.secret else {
        return None;
    };
    let manual = format!(
        "destroy the private key with CKA_ID {} in the token \"{token}\" with the token's own tools",
        hex::encode(key_id)
    );
    let Some(configured) = vault.token else {
        return Some(format!(
            "this service has no PKCS#11 token configured, so the key's private half is still in it: {manual}"
        ));
    };
    match configured.destroy_private(key_id) {
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, key = %key.method_id, "a compromised key could not be destroyed in the token");
            Some(format!(
                "the key's private half could not be destroyed ({e}): {manual}"
            ))
        }
    }
}

/// `key` as the verification method of an institution's key number `seq`.
fn with_method(
    key: IssuerKey,
    identity: IdentityKind,
    did_web: Option<&str>,
    seq: i64,
) -> Result<IssuerKey, CryptoError> {
    match (identity, did_web) {
        (IdentityKind::DidWeb, Some(did)) => key
            .with_controller(&format!("{did}#key-{seq}"), did)
            .map_err(|_| CryptoError::Random),
        _ => Ok(key),
    }
}

/// The bytes the service issues for `row` (JSON, as in a batch) from `achievement` by an
/// institution with `profile` (its profile fields, as registered), signed with the key of
/// `seed` as a `did:key` institution, with credential URL `url`, e-mail salt `salt`, and
/// `created` as the issuance time, without status entries: for the test that the CLI issues
/// the same bytes. (The service itself always adds status entries.)
pub fn issue_as_service(
    achievement: &Value,
    profile: &Value,
    seed: &[u8; 32],
    row: &Value,
    url: &str,
    salt: &str,
    created: OffsetDateTime,
) -> Result<Vec<u8>, String> {
    let key = IssuerKey::from_seed(seed).map_err(|e| e.to_string())?;
    let Value::Object(fields) = profile else {
        return Err("the profile must be an object".into());
    };
    let issuer =
        Profile::from_value(make_profile(fields, key.controller())?).map_err(|e| e.to_string())?;
    let achievement = Achievement::from_value(achievement.clone()).map_err(|e| e.to_string())?;
    let row: IssueRow = serde_json::from_value(row.clone()).map_err(|e| e.to_string())?;
    let t = Template::new(
        "conformance",
        "conformance",
        1,
        achievement,
        issuer,
        Arc::new(ActiveKey { key }),
        Arc::from(""),
        None,
    )
    .map_err(|e| e.message())?;
    let mut spare = Spare::default();
    let value = t
        .core
        .build(&row, url, salt, created, &mut spare)
        .map_err(|e| e.message())?;
    let setup = t
        .proof_setup(Cryptosuite::DEFAULT, created)
        .map_err(|e| e.message())?;
    let issued = t
        .sign_built(
            String::new(),
            value,
            IssueCheck::Full,
            microcred_core::bundled_contexts(),
            &mut spare,
            &setup,
        )
        .map_err(|e| e.message())?;
    Ok(issued.body)
}

/// A stored key, ready to sign: a sealed one is decrypted (the method id is the associated
/// data); a PKCS#11 one is bound to its key in the configured token (which is used only when
/// it signs).
pub(crate) fn open_key(vault: Vault<'_>, rec: &KeyRecord) -> Result<IssuerKey, KeyAccessError> {
    let key = match &rec.secret {
        KeySecret::Sealed(sealed) => {
            let seed =
                vault
                    .master
                    .open(&sealed.nonce, &sealed.ciphertext, rec.method_id.as_bytes())?;
            let seed: Zeroizing<[u8; 32]> =
                Zeroizing::new(seed.as_slice().try_into().map_err(|_| CryptoError::Open)?);
            IssuerKey::from_seed(&seed).map_err(|_| CryptoError::Open)?
        }
        KeySecret::Pkcs11 { token, key_id } => {
            let configured = vault.token.ok_or_else(|| KeyAccessError::NoToken {
                method_id: rec.method_id.clone(),
                token: token.clone(),
            })?;
            if configured.label() != token {
                return Err(KeyAccessError::OtherToken {
                    method_id: rec.method_id.clone(),
                    token: token.clone(),
                    configured: configured.label().to_owned(),
                });
            }
            let public =
                PublicKey::from_multibase(&rec.public_multibase).map_err(|_| CryptoError::Open)?;
            IssuerKey::from_external(public, configured.signer(key_id))
        }
    };
    if key.public_key().to_multibase() != rec.public_multibase {
        return Err(CryptoError::Open.into());
    }
    if rec.method_id.starts_with("did:key:") {
        Ok(key)
    } else {
        let controller = rec.method_id.split('#').next().unwrap_or_default();
        Ok(key
            .with_controller(&rec.method_id, controller)
            .map_err(|_| CryptoError::Open)?)
    }
}

/// The DID document of an institution: current and retired keys (so credentials signed
/// before a rotation still verify); compromised keys are left out.
pub(crate) fn did_document(inst: &InstitutionRecord, keys: &[KeyRecord]) -> Value {
    let listed: Vec<&KeyRecord> = keys
        .iter()
        .filter(|k| matches!(k.status, KeyStatus::Active | KeyStatus::Retired))
        .filter(|k| match inst.identity {
            IdentityKind::DidWeb => true,
            // A did:key document can only hold its own key.
            IdentityKind::DidKey => k.method_id.starts_with(&format!("{}#", inst.did)),
        })
        .collect();
    let methods: Vec<Value> = listed
        .iter()
        .map(|k| {
            json!({
                "id": k.method_id,
                "type": "Multikey",
                "controller": inst.did,
                "publicKeyMultibase": k.public_multibase,
            })
        })
        .collect();
    let ids: Vec<&str> = listed.iter().map(|k| k.method_id.as_str()).collect();
    let active: Vec<&str> = listed
        .iter()
        .filter(|k| k.status == KeyStatus::Active)
        .map(|k| k.method_id.as_str())
        .collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", MULTIKEY_CONTEXT],
        "id": inst.did,
        "verificationMethod": methods,
        "authentication": active,
        "assertionMethod": ids,
    })
}

/// Builds the OB `Profile` of an institution from the submitted fields; `id` is the DID.
pub(crate) fn make_profile(input: &Map<String, Value>, did: &str) -> Result<Value, String> {
    let mut p = input.clone();
    p.shift_remove("id");
    p.insert("id".into(), did.into());
    p.entry("type").or_insert_with(|| json!(["Profile"]));
    match p.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => {}
        _ => return Err("the profile needs a `name` (the institution's name)".into()),
    }
    // Move `id` and `type` to the front for readability.
    let mut ordered = Map::new();
    for k in ["id", "type"] {
        if let Some(v) = p.shift_remove(k) {
            ordered.insert(k.into(), v);
        }
    }
    ordered.extend(p);
    let value = Value::Object(ordered);
    let profile = Profile::from_value(value.clone()).map_err(|e| e.to_string())?;
    check_profile(profile)?;
    Ok(value)
}

/// Refuses a profile that would make every credential of the institution invalid (a member no
/// context defines, a `type` without "Profile", a name that is not text, ...), which issuance
/// would otherwise refuse one credential at a time until the profile is fixed: it is linted as
/// the issuer of a credential of the sample achievement (which lints clean with a valid
/// issuer), without a lint profile, and its errors are reported.
fn check_profile(profile: Profile) -> Result<(), String> {
    let mut sample: Value = serde_json::from_str(crate::bench::SAMPLE_ACHIEVEMENT)
        .map_err(|e| format!("the sample achievement: {e}"))?;
    sample["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000".into();
    let achievement =
        Achievement::from_value(sample).map_err(|e| format!("the sample achievement: {e}"))?;
    let subject =
        AchievementSubject::new(&Recipient::Id("did:example:learner".into()), achievement);
    let credential = OpenBadgeCredential::new(
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        profile,
        OffsetDateTime::UNIX_EPOCH,
        subject,
    )
    .map_err(|e| e.to_string())?;
    let report = microcred_core::lint(&credential.to_value());
    if !report.has_errors() {
        return Ok(());
    }
    let errors: Vec<String> = report
        .errors()
        .take(3)
        .map(|f| format!("{}: {}", f.path, f.message))
        .collect();
    Err(format!(
        "the profile would make every credential invalid: {}",
        errors.join("; ")
    ))
}

/// Everything shared by the credentials issued against one achievement version: the core's
/// [`CredentialTemplate`] (the one issuance path the CLI uses too) plus what the service adds
/// (where credentials live, status entries, packed storage).
pub(crate) struct Template {
    pub(crate) institution: String,
    pub(crate) slug: String,
    pub(crate) version: i64,
    pub(crate) key: Arc<ActiveKey>,
    pub(crate) base_url: Arc<str>,
    core: CredentialTemplate,
    /// Gives each issued credential its `credentialStatus` (Bitstring Status List entries).
    status: Option<crate::status::StatusPlan>,
    /// `"name":value` JSON of the members every credential copies from the template
    /// unchanged (top level, and in `credentialSubject`): see [`Template::encode`].
    fragments: Fragments,
    /// The proof setup of the last single issuance: (suite, `created` second, setup). Single
    /// issuances within the same second share it (the proof's `created` has one-second
    /// resolution), so a busy template canonicalizes its proof options once a second, not
    /// once per credential.
    last_setup: std::sync::Mutex<Option<(Cryptosuite, i64, Arc<ProofSetup>)>>,
}

/// Serialized members shared by every credential of a template.
struct Fragments {
    /// `"name":value` of each shared member; `top` and `subject` give their numbers.
    parts: Arc<BodyParts>,
    top: HashMap<String, usize>,
    subject: HashMap<String, usize>,
    /// Bytes of the shared members: a capacity hint for the output.
    size: usize,
}

impl Fragments {
    fn new(t: &CredentialTemplate) -> Result<Self, RowError> {
        fn member(k: &str, v: &Value) -> Result<Vec<u8>, RowError> {
            let mut out = serde_json::to_vec(k).map_err(|e| RowError::Internal(e.to_string()))?;
            out.push(b':');
            serde_json::to_writer(&mut out, v).map_err(|e| RowError::Internal(e.to_string()))?;
            Ok(out)
        }
        let mut parts = Vec::new();
        let mut top = HashMap::new();
        for (k, v) in t.shared_members() {
            top.insert(k.clone(), parts.len());
            parts.push(member(k, v)?);
        }
        let mut subject = HashMap::new();
        for (k, v) in t.shared_subject_members() {
            subject.insert(k.clone(), parts.len());
            parts.push(member(k, v)?);
        }
        let size = parts.iter().map(Vec::len).sum::<usize>() + 512;
        Ok(Self {
            parts: Arc::new(BodyParts::new(parts)),
            top,
            subject,
            size,
        })
    }
}

/// A signed credential ready to store.
pub(crate) struct Issued {
    /// UUID (the last segment of its URL).
    pub(crate) id: String,
    /// The signed credential's bytes.
    pub(crate) body: Vec<u8>,
    /// The same without the bytes every credential of the template shares (what is stored).
    pub(crate) packed: PackedBody,
}

impl Template {
    /// Prepares issuing `achievement` (version `version`) as `issuer` with `key`, its
    /// credentials linted under `profile`: what they share is linted here, once.
    #[allow(
        clippy::too_many_arguments,
        reason = "what a template is made of; a struct of them would only be unpacked again"
    )]
    pub(crate) fn new(
        institution: &str,
        slug: &str,
        version: i64,
        achievement: Achievement,
        issuer: Profile,
        key: Arc<ActiveKey>,
        base_url: Arc<str>,
        profile: Option<&'static LintProfile>,
    ) -> Result<Self, RowError> {
        let core = CredentialTemplate::new(
            achievement,
            issuer,
            &LintOptions::new().with_profile(profile),
        )?;
        if core.report().has_errors() {
            return Err(RowError::Lint(core.report().clone()));
        }
        let fragments = Fragments::new(&core)?;
        Ok(Self {
            institution: institution.to_owned(),
            slug: slug.to_owned(),
            version,
            key,
            base_url,
            core,
            status: None,
            fragments,
            last_setup: std::sync::Mutex::new(None),
        })
    }

    /// The JSON bytes of `signed`, a credential made by [`Self::build`] (plus its status and
    /// proof): exactly `serde_json::to_vec(signed)`, but the members every credential copies
    /// unchanged from the template (the issuer profile, the achievement, contexts: most of the
    /// bytes) are written from [`Fragments`] made once instead of being serialized again for
    /// every learner. Also returns the bytes in packed form (the shared members as references).
    fn encode(&self, signed: &Value) -> Result<(Vec<u8>, PackedBody), RowError> {
        /// Writes `members` as a JSON object, shared members from `shared`; with `subject`,
        /// `credentialSubject` likewise from those parts.
        fn object(
            p: &mut Packer,
            members: &Map<String, Value>,
            shared: &HashMap<String, usize>,
            subject: Option<&HashMap<String, usize>>,
        ) -> Result<(), RowError> {
            p.out().push(b'{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    p.out().push(b',');
                }
                if let Some(&part) = shared.get(k) {
                    if p.part(part) {
                        continue;
                    }
                }
                let out = p.out();
                serde_json::to_writer(&mut *out, k)
                    .map_err(|e| RowError::Internal(e.to_string()))?;
                out.push(b':');
                match (subject, v) {
                    (Some(inner), Value::Object(m)) if k == "credentialSubject" => {
                        object(p, m, inner, None)?;
                    }
                    _ => serde_json::to_writer(&mut *out, v)
                        .map_err(|e| RowError::Internal(e.to_string()))?,
                }
            }
            p.out().push(b'}');
            Ok(())
        }
        let mut p = Packer::new(self.fragments.parts.clone(), self.fragments.size + 1024);
        match signed {
            Value::Object(doc) => object(
                &mut p,
                doc,
                &self.fragments.top,
                Some(&self.fragments.subject),
            )?,
            other => serde_json::to_writer(p.out(), other)
                .map_err(|e| RowError::Internal(e.to_string()))?,
        }
        Ok(p.finish())
    }

    /// Issues with `credentialStatus` entries from `plan` (fresh indexes per credential).
    /// The achievement every credential of the template is for.
    pub(crate) fn achievement(&self) -> &microcred_core::Achievement {
        self.core.achievement()
    }

    pub(crate) fn with_status(mut self, plan: crate::status::StatusPlan) -> Self {
        self.status = Some(plan);
        self
    }

    /// Builds, checks (as `check` asks) and signs one learner's credential.
    pub(crate) fn issue(
        &self,
        row: &IssueRow,
        suite: Cryptosuite,
        now: OffsetDateTime,
        check: IssueCheck,
    ) -> Result<Issued, RowError> {
        let second = now.unix_timestamp();
        let cached = self.last_setup.lock().ok().and_then(|last| match &*last {
            Some((s, t, setup)) if *s == suite && *t == second => Some(setup.clone()),
            _ => None,
        });
        let setup = match cached {
            Some(setup) => setup,
            None => {
                let setup = Arc::new(self.proof_setup(suite, now)?);
                if let Ok(mut last) = self.last_setup.lock() {
                    *last = Some((suite, second, setup.clone()));
                }
                setup
            }
        };
        self.issue_with(
            row,
            now,
            check,
            microcred_core::bundled_contexts(),
            &mut Spare::default(),
            &setup,
        )
    }

    /// Whether `row` can be issued: built, checked and signed as [`Self::issue`] does, then
    /// dropped, without drawing status list indexes (an offer checks its requests so).
    pub(crate) fn check(
        &self,
        row: &IssueRow,
        suite: Cryptosuite,
        now: OffsetDateTime,
    ) -> Result<(), RowError> {
        let setup = self.proof_setup(suite, now)?;
        let (_, value) = self.build_reusing(row, now, &mut Spare::default())?;
        self.core.sign(
            value,
            IssueCheck::Full,
            &setup,
            &self.key.key,
            microcred_core::bundled_contexts(),
        )?;
        Ok(())
    }

    /// [`Self::issue`] signing with `setup` (made by [`Self::proof_setup`] for `now`),
    /// resolving JSON-LD contexts with `contexts`, and moving the template's shared values
    /// from `spare` and back. (The batch signing pool gives each of its threads its own
    /// loader: the cache of a shared one is a lock and reference counts that cores signing at
    /// the same time keep taking from each other.)
    pub(crate) fn issue_with(
        &self,
        row: &IssueRow,
        now: OffsetDateTime,
        check: IssueCheck,
        contexts: &ContextLoader,
        spare: &mut Spare,
        setup: &ProofSetup,
    ) -> Result<Issued, RowError> {
        let (id, value) = self.build_reusing(row, now, spare)?;
        self.sign_built(id, value, check, contexts, spare, setup)
    }

    /// Signs `value`, the credential with UUID `id` built from this template, adding its
    /// status entries; encodes it.
    fn sign_built(
        &self,
        id: String,
        mut value: Value,
        check: IssueCheck,
        contexts: &ContextLoader,
        spare: &mut Spare,
        setup: &ProofSetup,
    ) -> Result<Issued, RowError> {
        if let (Some(plan), Value::Object(doc)) = (&self.status, &mut value) {
            let status = plan.credential_status().map_err(|e| {
                RowError::Internal(format!("allocating status list indexes failed: {e}"))
            })?;
            doc.insert("credentialStatus".into(), status);
        }
        let (signed, _warnings) = self
            .core
            .sign(value, check, setup, &self.key.key, contexts)?;
        let (body, packed) = self.encode(&signed)?;
        self.core.keep_spare(signed, spare);
        Ok(Issued { id, body, packed })
    }

    /// The proof options of a batch signed with this template's key and `suite` at `created`
    /// (canonicalized once for all its rows: they share the template's `@context`).
    pub(crate) fn proof_setup(
        &self,
        suite: Cryptosuite,
        created: OffsetDateTime,
    ) -> Result<ProofSetup, RowError> {
        self.core.proof_setup(
            &self.key.key,
            suite,
            created,
            microcred_core::bundled_contexts(),
        )
    }

    /// Builds one learner's unsigned credential; returns its UUID and JSON.
    pub(crate) fn build(
        &self,
        row: &IssueRow,
        now: OffsetDateTime,
    ) -> Result<(String, Value), RowError> {
        self.build_reusing(row, now, &mut Spare::default())
    }

    /// [`Self::build`] moving the shared members' values out of `spare` where it has them:
    /// a fresh credential id (UUIDv7 layout) under this service's URL, and a fresh salt.
    fn build_reusing(
        &self,
        row: &IssueRow,
        now: OffsetDateTime,
        spare: &mut Spare,
    ) -> Result<(String, Value), RowError> {
        let id = crypto::new_credential_id().map_err(|e| RowError::Internal(e.to_string()))?;
        let salt = crypto::random_hex(16).map_err(|e| RowError::Internal(e.to_string()))?;
        let url = format!("{}/credentials/{id}", self.base_url);
        let value = self.core.build(row, &url, &salt, now, spare)?;
        Ok((id, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_template() -> Template {
        let key = IssuerKey::from_seed(&[9u8; 32]).unwrap();
        let mut issuer: Value = serde_json::from_str(crate::bench::SAMPLE_ISSUER).unwrap();
        issuer["id"] = key.controller().into();
        let mut ach: Value = serde_json::from_str(crate::bench::SAMPLE_ACHIEVEMENT).unwrap();
        ach["id"] = "https://example.org/achievements/df-101".into();
        Template::new(
            "inst",
            "df-101",
            1,
            Achievement::from_value(ach).unwrap(),
            Profile::from_value(issuer).unwrap(),
            Arc::new(ActiveKey { key }),
            Arc::from("https://issuer.example"),
            None,
        )
        .unwrap()
    }

    #[test]
    fn profiles_that_would_make_every_credential_invalid_are_refused() {
        let did = "did:web:issuer.example:institutions:x";
        let sample: Map<String, Value> = serde_json::from_str(crate::bench::SAMPLE_ISSUER).unwrap();
        let made = make_profile(&sample, did).unwrap();
        assert_eq!(made["id"], did);
        for (member, value) in [
            ("type", json!("")),
            ("type", json!(["Organization"])),
            ("undefinedTerm", json!(1)),
        ] {
            let mut bad = sample.clone();
            bad.insert(member.into(), value);
            let e = make_profile(&bad, did).unwrap_err();
            assert!(e.contains("every credential invalid"), "{member}: {e}");
        }
    }

    #[test]
    fn encoded_credentials_are_their_json_byte_for_byte() {
        let t = sample_template();
        let now = OffsetDateTime::now_utc();
        let rows: Vec<IssueRow> = vec![
            serde_json::from_value(json!({"recipient": "did:example:a"})).unwrap(),
            serde_json::from_value(json!({
                "recipient": "Learner@Example.org",
                "results": {"final-assessment": 91, "status": "Completed"},
                "evidence": ["https://example.org/e/1", {"name": "Portfolio \"β\"", "narrative": "line\nbreak"}],
                "creditsEarned": 1.5,
                "activityStartDate": "2025-01-06T09:00:00-05:00",
                "activityEndDate": "2025-04-25T17:00:00Z",
                "validFrom": "2025-05-01T00:00:00Z",
                "validUntil": "2030-05-01T00:00:00Z"
            }))
            .unwrap(),
        ];
        for row in &rows {
            for suite in Cryptosuite::ALL {
                let issued = t.issue(row, *suite, now, IssueCheck::Full).unwrap();
                let signed: Value = serde_json::from_slice(&issued.body).unwrap();
                assert_eq!(issued.body, serde_json::to_vec(&signed).unwrap());
                // The packed form gives back the same bytes and is a fraction of them.
                let packed = issued.packed;
                assert!(packed.stored.len() * 2 < issued.body.len());
                // The subject's @context (microcred's extension terms) is shared: stored once.
                let ns = microcred_core::MICROCRED_VOCAB.as_bytes();
                assert!(issued.body.windows(ns.len()).any(|w| w == ns));
                assert!(!packed.stored.windows(ns.len()).any(|w| w == ns));
                assert_eq!(
                    crate::store::unpack(packed.stored, Some(&packed.parts)).unwrap(),
                    issued.body
                );
                let (_, mut doc) = t.build(row, now).unwrap();
                doc["credentialStatus"] = json!({"id": "x#1", "type": "BitstringStatusListEntry"});
                doc["proof"] = json!({"type": "DataIntegrityProof"});
                assert_eq!(t.encode(&doc).unwrap().0, serde_json::to_vec(&doc).unwrap());
            }
        }
    }

    #[test]
    fn did_web_encodes_port_and_prefix() {
        let base = crate::config::base_url_parts("http://127.0.0.1:8080/mc").unwrap();
        assert_eq!(
            did_web(&base, "north"),
            "did:web:127.0.0.1%3A8080:mc:institutions:north"
        );
    }

    #[test]
    fn keys_seal_and_open_bound_to_their_id() {
        let master = MasterKey::generate().unwrap();
        let master = Vault {
            master: &master,
            token: None,
        };
        let (rec, key) = new_key(
            master,
            KeyStorage::Sealed,
            IdentityKind::DidWeb,
            Some("did:web:x.example"),
            "x",
            1,
            "t",
        )
        .unwrap();
        assert_eq!(rec.method_id, "did:web:x.example#key-1");
        let again = open_key(master, &rec).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(again.id(), key.id());
        let mut moved = rec.clone();
        moved.method_id = "did:web:x.example#key-2".into();
        assert!(open_key(master, &moved).is_err());
        let (rec, key) = new_key(
            master,
            KeyStorage::Sealed,
            IdentityKind::DidKey,
            None,
            "x",
            1,
            "t",
        )
        .unwrap();
        assert!(rec.method_id.starts_with("did:key:z6Mk"));
        assert_eq!(open_key(master, &rec).unwrap().id(), key.id());
    }

    /// A PKCS#11 key without a configured token is a clear 503 naming what to configure,
    /// for a new key as for a stored one.
    #[test]
    fn pkcs11_keys_without_a_token_say_what_to_configure() {
        let master = MasterKey::generate().unwrap();
        let vault = Vault {
            master: &master,
            token: None,
        };
        let e = new_key(
            vault,
            KeyStorage::Pkcs11,
            IdentityKind::DidKey,
            None,
            "x",
            1,
            "t",
        )
        .unwrap_err();
        assert!(matches!(e, KeyAccessError::NotConfigured), "{e}");
        let (mut rec, _) = new_key(
            vault,
            KeyStorage::Sealed,
            IdentityKind::DidKey,
            None,
            "x",
            1,
            "t",
        )
        .unwrap();
        rec.secret = KeySecret::Pkcs11 {
            token: "hsm".into(),
            key_id: vec![1, 2, 3],
        };
        let e = crate::error::ApiError::from(open_key(vault, &rec).unwrap_err());
        assert_eq!(e.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.to_string().contains("[pkcs11]"), "{e}");
        assert!(e.to_string().contains("\"hsm\""), "{e}");
    }
}
