//! Offers of credentials to learners' wallets, and the rules every redemption follows, for
//! both protocols wallets speak: OpenID for Verifiable Credential Issuance 1.0 (pre-authorized
//! code flow) and VC API exchanges (DID Authentication). The routes (`routes/oid4vci.rs`) only
//! translate HTTP; the store only keeps [`OfferRecord`]s.
//!
//! An offer holds up to [`MAX_ITEMS`] items, each one credential to issue: an issuance request
//! (as `POST /v1/institutions/{inst}/credentials` takes it), or an issued credential to issue
//! again bound to the wallet's key. Secrets (the pre-authorized code, the access token, the
//! exchange id, the transaction code, deferred transaction ids, nonces) are random, shown once,
//! and stored only as SHA-256 hashes. Every change is a compare-and-swap on the offer's version,
//! so across instances a code is redeemed once and an item is issued once; the credential of an
//! item is issued under the idempotency key `offer:{offer}:{item}`, so a retry finds it again
//! instead of issuing a second one.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::store::{OfferRecord, Store, StoreError};

/// Items one offer may hold (a learner's credentials of a term, say).
pub(crate) const MAX_ITEMS: usize = 20;
/// How long an offer's codes work, unless the institution says otherwise.
pub(crate) const DEFAULT_TTL: Duration = Duration::minutes(15);
/// The longest an offer may stay redeemable.
pub(crate) const MAX_TTL: Duration = Duration::days(7);
/// How long an access token works.
pub(crate) const TOKEN_TTL: Duration = Duration::minutes(10);
/// How long a nonce for a key proof works.
pub(crate) const NONCE_TTL: Duration = Duration::minutes(5);
/// Wrong transaction codes accepted before the offer is locked.
pub(crate) const MAX_TX_ATTEMPTS: u32 = 5;
/// Digits of a transaction code.
pub(crate) const TX_CODE_DIGITS: usize = 6;
/// How far a key proof's `iat` may lie in the past (or, for clock skew, the future).
pub(crate) const PROOF_AGE: Duration = Duration::minutes(5);
/// Seconds a wallet should wait before asking again for a deferred credential.
pub(crate) const DEFERRED_INTERVAL_SECS: u64 = 5;

/// Where an offer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OfferState {
    /// Made; its code (or exchange) not used yet.
    Offered,
    /// A wallet has an access token or completed the exchange; items are being issued.
    Redeemed,
    /// Too many wrong transaction codes: nothing more can be redeemed.
    Locked,
    /// The institution withdrew it.
    Cancelled,
}

/// What one item issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Source {
    /// An issuance request (the body of `POST /v1/institutions/{inst}/credentials`), whose
    /// recipient (a learner's e-mail address, say) names the learner; the wallet's DID becomes
    /// the credential's subject.
    Request(Value),
    /// An issued credential, issued again with the same achievement version and results,
    /// bound to the wallet's DID.
    Credential(String),
}

/// One credential of an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Item {
    /// The credential configuration (`{achievement}` or `{achievement}/eddsa-jcs-2022`).
    pub(crate) configuration_id: String,
    /// What to issue.
    pub(crate) source: Source,
    /// Not ready yet: a wallet asking gets a transaction id to come back with.
    #[serde(default)]
    pub(crate) pending: bool,
    /// SHA-256 (hex) of the deferred transaction id handed out for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) transaction: Option<String>,
    /// The wallet's DID the credential is (to be) bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) holder: Option<String>,
    /// The issued credential's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) credential_id: Option<String>,
    /// When it was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issued_at: Option<String>,
}

/// The transaction code (PIN) a wallet must send with the pre-authorized code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TxCode {
    /// SHA-256 (hex) of the offer id and the code.
    hash: String,
    /// Wrong codes sent so far.
    attempts: u32,
}

impl std::fmt::Debug for TxCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxCode")
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// A VC API exchange in progress: the challenge the wallet must sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Exchange {
    pub(crate) challenge: String,
    pub(crate) at: String,
}

/// Something that happened to the offer (the institution's audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Event {
    pub(crate) at: String,
    pub(crate) what: String,
}

/// Everything about an offer the store keeps as its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Offer {
    pub(crate) state: OfferState,
    pub(crate) items: Vec<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tx_code: Option<TxCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exchange: Option<Exchange>,
    /// Who made it (a token id, or `admin`).
    pub(crate) created_by: String,
    #[serde(default)]
    pub(crate) events: Vec<Event>,
}

/// An offer as stored, with its body read.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) record: OfferRecord,
    pub(crate) offer: Offer,
}

/// Why a redemption step is refused, as the protocols name it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OfferError {
    /// The code is unknown, used, expired, or the offer locked or withdrawn; or the transaction
    /// code is wrong (OAuth `invalid_grant`).
    #[error("{0}")]
    InvalidGrant(String),
    /// The request is malformed or lacks something (OAuth `invalid_request`).
    #[error("{0}")]
    InvalidRequest(String),
    /// The access token is unknown or expired (`invalid_token`, 401).
    #[error("{0}")]
    InvalidToken(String),
    /// The key proof is not acceptable (`invalid_proof`).
    #[error("{0}")]
    InvalidProof(String),
    /// The proof's nonce is unknown, used or expired (`invalid_nonce`).
    #[error("{0}")]
    InvalidNonce(String),
    /// The request names no credential of this offer (`unknown_credential_configuration` /
    /// `unknown_credential_identifier`).
    #[error("{0}")]
    UnknownCredential(String),
    /// The item was already issued to another wallet, or cannot be issued
    /// (`credential_request_denied`).
    #[error("{0}")]
    Denied(String),
    /// The deferred transaction id is unknown (`invalid_transaction_id`).
    #[error("{0}")]
    InvalidTransaction(String),
    /// Another request changed the offer at the same moment: try again.
    #[error("the offer changed while this request was handled: try again")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored offer cannot be read.
    #[error("offer {0} is unreadable")]
    Corrupt(String),
}

impl OfferError {
    /// The OAuth / OID4VCI error code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidRequest(_) | Self::Conflict => "invalid_request",
            Self::InvalidToken(_) => "invalid_token",
            Self::InvalidProof(_) => "invalid_proof",
            Self::InvalidNonce(_) => "invalid_nonce",
            Self::UnknownCredential(_) => "unknown_credential_configuration",
            Self::Denied(_) => "credential_request_denied",
            Self::InvalidTransaction(_) => "invalid_transaction_id",
            Self::Store(_) | Self::Corrupt(_) => "server_error",
        }
    }
}

/// SHA-256 of a secret.
pub(crate) fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A fresh random secret: 32 bytes, base64url.
pub(crate) fn secret() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// A fresh offer id: 16 random bytes, hex (it ends the offer's URL; it is also a secret, since
/// the offer it names carries the pre-authorized code).
pub(crate) fn offer_id() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b)?;
    Ok(hex::encode(b))
}

/// A fresh transaction code: [`TX_CODE_DIGITS`] random digits (rejection-sampled).
pub(crate) fn tx_code() -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(TX_CODE_DIGITS);
    while out.len() < TX_CODE_DIGITS {
        let mut b = [0u8; 1];
        getrandom::getrandom(&mut b)?;
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    Ok(out)
}

fn tx_hash(offer: &str, code: &str) -> String {
    hex::encode(hash(&format!("{offer}\n{code}")))
}

impl TxCode {
    /// The stored form of `code` for offer `offer`.
    pub(crate) fn new(offer: &str, code: &str) -> Self {
        Self {
            hash: tx_hash(offer, code),
            attempts: 0,
        }
    }
}

fn fmt(t: OffsetDateTime) -> String {
    microcred_core::format_datetime(t)
}

fn expired(at: &str, now: OffsetDateTime) -> bool {
    microcred_core::parse_datetime(at).is_none_or(|t| t <= now)
}

impl Stored {
    /// Reads a stored offer.
    pub(crate) fn read(record: OfferRecord) -> Result<Self, OfferError> {
        let offer = serde_json::from_slice(&record.body)
            .map_err(|_| OfferError::Corrupt(record.id.clone()))?;
        Ok(Self { record, offer })
    }

    /// Stores the changed offer if nobody changed it since it was read.
    pub(crate) fn save(mut self, store: &dyn Store) -> Result<Self, OfferError> {
        let expected = self.record.version;
        self.record.version += 1;
        self.record.body = serde_json::to_vec(&self.offer)
            .map_err(|_| OfferError::Corrupt(self.record.id.clone()))?;
        if store.update_offer(&self.record, expected)? {
            Ok(self)
        } else {
            Err(OfferError::Conflict)
        }
    }

    fn log(&mut self, now: OffsetDateTime, what: impl Into<String>) {
        self.offer.events.push(Event {
            at: fmt(now),
            what: what.into(),
        });
    }

    fn redeemable(&self, now: OffsetDateTime) -> Result<(), OfferError> {
        match self.offer.state {
            OfferState::Locked => Err(OfferError::InvalidGrant(
                "the offer is locked after too many wrong transaction codes: ask the institution for a new offer".into(),
            )),
            OfferState::Cancelled => Err(OfferError::InvalidGrant(
                "the institution withdrew this offer".into(),
            )),
            OfferState::Redeemed => Err(OfferError::InvalidGrant(
                "this offer was already redeemed: its pre-authorized code and its exchange work once".into(),
            )),
            OfferState::Offered if expired(&self.record.expires_at, now) => Err(
                OfferError::InvalidGrant("the offer has expired: ask the institution for a new one".into()),
            ),
            OfferState::Offered => Ok(()),
        }
    }

    /// Token request: checks the transaction code and hands out an access token (once).
    /// Returns the token.
    pub(crate) fn redeem_code(
        mut self,
        store: &dyn Store,
        tx_code: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(Self, String), OfferError> {
        self.redeemable(now)?;
        if let Some(tx) = &self.offer.tx_code {
            let Some(given) = tx_code else {
                return Err(OfferError::InvalidRequest(
                    "this offer needs the transaction code (tx_code) the institution sent the learner".into(),
                ));
            };
            let ok = subtle::ConstantTimeEq::ct_eq(
                tx_hash(&self.record.id, given).as_bytes(),
                tx.hash.as_bytes(),
            );
            if !bool::from(ok) {
                let attempts = tx.attempts + 1;
                let left = MAX_TX_ATTEMPTS.saturating_sub(attempts);
                if let Some(t) = self.offer.tx_code.as_mut() {
                    t.attempts = attempts;
                }
                if left == 0 {
                    self.offer.state = OfferState::Locked;
                    self.log(now, "locked: too many wrong transaction codes");
                }
                self.save(store)?;
                return Err(OfferError::InvalidGrant(if left == 0 {
                    "wrong transaction code; the offer is now locked".into()
                } else {
                    format!("wrong transaction code ({left} attempts left)")
                }));
            }
        } else if tx_code.is_some() {
            return Err(OfferError::InvalidRequest(
                "this offer has no transaction code, but tx_code was sent".into(),
            ));
        }
        let token = secret().map_err(|e| OfferError::Store(StoreError::Backend(e.to_string())))?;
        self.record.token_hash = Some(hash(&token));
        self.offer.state = OfferState::Redeemed;
        self.offer.token_expires_at = Some(fmt(now + TOKEN_TTL));
        self.log(now, "pre-authorized code redeemed: access token issued");
        Ok((self.save(store)?, token))
    }

    /// The access token still works.
    pub(crate) fn check_token(&self, now: OffsetDateTime) -> Result<(), OfferError> {
        match (&self.offer.state, &self.offer.token_expires_at) {
            (OfferState::Redeemed, Some(until)) if !expired(until, now) => Ok(()),
            _ => Err(OfferError::InvalidToken(
                "the access token has expired or was withdrawn".into(),
            )),
        }
    }

    /// VC API exchange, first step: a fresh challenge for the wallet to sign.
    pub(crate) fn start_exchange(
        mut self,
        store: &dyn Store,
        now: OffsetDateTime,
    ) -> Result<(Self, String), OfferError> {
        self.redeemable(now)?;
        if self.offer.tx_code.is_some() {
            return Err(OfferError::Denied(
                "this offer needs a transaction code, which VC API exchanges cannot carry: use the OpenID for Verifiable Credential Issuance link".into(),
            ));
        }
        let challenge =
            secret().map_err(|e| OfferError::Store(StoreError::Backend(e.to_string())))?;
        self.offer.exchange = Some(Exchange {
            challenge: challenge.clone(),
            at: fmt(now),
        });
        self.log(now, "exchange started");
        Ok((self.save(store)?, challenge))
    }

    /// VC API exchange, second step: the wallet proved control of `holder` over the
    /// challenge; the offer is redeemed and every ready item is bound to `holder`.
    pub(crate) fn finish_exchange(
        mut self,
        store: &dyn Store,
        holder: &str,
        now: OffsetDateTime,
    ) -> Result<Self, OfferError> {
        self.redeemable(now)?;
        if self.offer.exchange.is_none() {
            return Err(OfferError::InvalidRequest(
                "the exchange has not started: POST {} to it first to get the challenge".into(),
            ));
        }
        self.offer.state = OfferState::Redeemed;
        self.offer.exchange = None;
        for item in &mut self.offer.items {
            item.holder.get_or_insert_with(|| holder.to_owned());
        }
        self.log(now, format!("exchange completed by {holder}"));
        self.save(store)
    }

    /// Binds item `index` to `holder` (the key proof's DID), or finds it already bound to the
    /// same holder. Another holder is refused: an item goes to one wallet.
    pub(crate) fn bind(
        mut self,
        store: &dyn Store,
        index: usize,
        holder: &str,
        now: OffsetDateTime,
    ) -> Result<Self, OfferError> {
        let item = self.offer.items.get_mut(index).ok_or_else(|| {
            OfferError::UnknownCredential("no such credential in this offer".into())
        })?;
        match &item.holder {
            Some(h) if h == holder => Ok(self),
            Some(_) => Err(OfferError::Denied(
                "this credential was already issued to another wallet".into(),
            )),
            None => {
                item.holder = Some(holder.to_owned());
                self.log(now, format!("item {index} requested by {holder}"));
                self.save(store)
            }
        }
    }

    /// A deferred transaction id for pending item `index` (a new one each time it is asked).
    pub(crate) fn defer(
        mut self,
        store: &dyn Store,
        index: usize,
        now: OffsetDateTime,
    ) -> Result<(Self, String), OfferError> {
        let id = secret().map_err(|e| OfferError::Store(StoreError::Backend(e.to_string())))?;
        let item = self.offer.items.get_mut(index).ok_or_else(|| {
            OfferError::UnknownCredential("no such credential in this offer".into())
        })?;
        item.transaction = Some(hex::encode(hash(&id)));
        self.log(now, format!("item {index} deferred: not ready"));
        Ok((self.save(store)?, id))
    }

    /// The item a deferred transaction id names.
    pub(crate) fn deferred_item(&self, transaction_id: &str) -> Result<usize, OfferError> {
        let h = hex::encode(hash(transaction_id));
        self.offer
            .items
            .iter()
            .position(|i| i.transaction.as_deref() == Some(h.as_str()))
            .ok_or_else(|| {
                OfferError::InvalidTransaction(
                    "unknown transaction_id for this access token".into(),
                )
            })
    }

    /// Records that item `index` was issued as `credential_id`.
    pub(crate) fn issued(
        mut self,
        store: &dyn Store,
        index: usize,
        credential_id: &str,
        now: OffsetDateTime,
    ) -> Result<Self, OfferError> {
        if let Some(item) = self.offer.items.get_mut(index) {
            if item.credential_id.as_deref() == Some(credential_id) {
                return Ok(self);
            }
            item.credential_id = Some(credential_id.to_owned());
            item.issued_at = Some(fmt(now));
            item.transaction = None;
        }
        self.log(now, format!("item {index} issued as {credential_id}"));
        self.save(store)
    }

    /// Marks pending item `index` ready (the institution's release).
    pub(crate) fn release(
        mut self,
        store: &dyn Store,
        index: usize,
        request: Option<Value>,
        now: OffsetDateTime,
    ) -> Result<Self, OfferError> {
        if matches!(self.offer.state, OfferState::Cancelled | OfferState::Locked) {
            return Err(OfferError::Denied(
                "the offer was withdrawn or is locked: nothing in it can be released".into(),
            ));
        }
        let item = self.offer.items.get_mut(index).ok_or_else(|| {
            OfferError::UnknownCredential(format!("the offer has no item {index}"))
        })?;
        if item.credential_id.is_some() {
            return Err(OfferError::Denied("this item was already issued".into()));
        }
        if let Some(r) = request {
            if !matches!(item.source, Source::Request(_)) {
                return Err(OfferError::InvalidRequest(
                    "this item issues an issued credential again: it takes no request".into(),
                ));
            }
            item.source = Source::Request(r);
        }
        item.pending = false;
        self.log(now, format!("item {index} released"));
        self.save(store)
    }

    /// Withdraws the offer: its code, token and exchange stop working.
    pub(crate) fn cancel(
        mut self,
        store: &dyn Store,
        now: OffsetDateTime,
    ) -> Result<Self, OfferError> {
        self.offer.state = OfferState::Cancelled;
        self.record.token_hash = None;
        self.log(now, "withdrawn by the institution");
        self.save(store)
    }

    /// The credential's idempotency key of item `index`.
    pub(crate) fn idempotency_key(&self, index: usize) -> String {
        format!("offer:{}:{index}", self.record.id)
    }
}

/// Which item a credential request names: by `credential_identifier` (`{offer}:{index}`, as
/// the token response lists them), by configuration id (the first item of that configuration
/// not yet issued, else the one issued to this holder: a retry), or — for requests without
/// either — the next item not yet issued.
pub(crate) fn find_item(
    offer: &Stored,
    identifier: Option<&str>,
    configuration: Option<&str>,
    holder: &str,
) -> Result<usize, OfferError> {
    let items = &offer.offer.items;
    if let Some(id) = identifier {
        return id
            .strip_prefix(&format!("{}:", offer.record.id))
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|i| *i < items.len())
            .ok_or_else(|| {
                OfferError::UnknownCredential(format!(
                    "no credential \"{id}\" in this offer (credential_identifier values are in the token response)"
                ))
            });
    }
    let free = |i: &Item| i.holder.as_deref().is_none_or(|h| h == holder);
    let open = |i: &Item| free(i) && i.credential_id.is_none();
    if let Some(conf) = configuration {
        let of_conf: Vec<usize> = (0..items.len())
            .filter(|i| items[*i].configuration_id == conf)
            .collect();
        if of_conf.is_empty() {
            return Err(OfferError::UnknownCredential(format!(
                "this offer has no credential of configuration \"{conf}\""
            )));
        }
        return of_conf
            .iter()
            .copied()
            .find(|i| open(&items[*i]))
            .or_else(|| of_conf.iter().copied().find(|i| free(&items[*i])))
            .ok_or_else(|| {
                OfferError::Denied("this credential was already issued to another wallet".into())
            });
    }
    // Earlier drafts' wallets ask for an offer's credentials one after the other without
    // naming them: each request gets the next one.
    (0..items.len()).find(|i| open(&items[*i])).ok_or_else(|| {
        OfferError::Denied("every credential of this offer was already issued".into())
    })
}

/// Creates a nonce for a key proof.
pub(crate) fn new_nonce(store: &dyn Store, now: OffsetDateTime) -> Result<String, OfferError> {
    let nonce = secret().map_err(|e| OfferError::Store(StoreError::Backend(e.to_string())))?;
    store.insert_nonce(&hash(&nonce), &fmt(now + NONCE_TTL), &fmt(now))?;
    Ok(nonce)
}

/// A key proof (OID4VCI 1.0 §8.2.1, `jwt`): what it proves, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyProof {
    /// The holder's DID (`did:key` or `did:jwk`), to bind the credential to.
    pub(crate) holder: String,
    /// The nonce it carried.
    pub(crate) nonce: String,
}

/// Checks a `jwt` key proof: type `openid4vci-proof+jwt`, `EdDSA` over Ed25519, the key named
/// by a `did:key` or `did:jwk` `kid` (or a `jwk` header, bound as `did:jwk`), `aud` the
/// credential issuer, `iat` recent, and a `nonce` (taken from the store separately, by the
/// caller, so that a proof with a bad signature does not use up a nonce).
pub(crate) fn check_key_proof(
    jwt: &str,
    audience: &str,
    now: OffsetDateTime,
) -> Result<KeyProof, OfferError> {
    let bad = |why: &str| OfferError::InvalidProof(why.to_owned());
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if jwt.len() > 16 * 1024 {
        return Err(bad("the key proof is too large"));
    }
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(
            "the key proof is not a compact JWS (header.payload.signature)",
        ));
    };
    let json = |part: &str, what: &str| -> Result<Value, OfferError> {
        let bytes = b64
            .decode(part)
            .map_err(|_| bad(&format!("the key proof's {what} is not base64url")))?;
        microcred_core::parse_strict(&bytes)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| bad(&format!("the key proof's {what} is not a JSON object")))
    };
    let header = json(h, "header")?;
    let payload = json(p, "payload")?;
    if header.get("typ").and_then(Value::as_str) != Some("openid4vci-proof+jwt") {
        return Err(bad("the key proof's typ must be \"openid4vci-proof+jwt\""));
    }
    match header.get("alg").and_then(Value::as_str) {
        Some("EdDSA" | "Ed25519") => {}
        Some(other) => {
            return Err(bad(&format!(
                "key proofs signed with {other} are not accepted: sign with EdDSA (Ed25519)"
            )))
        }
        None => return Err(bad("the key proof has no alg")),
    }
    let (holder, key) = holder_key(&header)?;
    let signature: [u8; 64] = b64
        .decode(sig)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad("the key proof's signature is not 64 bytes of base64url"))?;
    let signing_input = &jwt[..h.len() + 1 + p.len()];
    if !key.verify_strict(signing_input.as_bytes(), &signature) {
        return Err(bad(
            "the key proof's signature does not verify with the key it names",
        ));
    }
    let aud_ok = match payload.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad(&format!(
            "the key proof's aud must be the credential issuer \"{audience}\""
        )));
    }
    let iat = payload
        .get("iat")
        .and_then(Value::as_i64)
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(|| bad("the key proof has no iat (seconds since the epoch)"))?;
    if iat < now - PROOF_AGE || iat > now + PROOF_AGE {
        return Err(bad("the key proof's iat is not within five minutes of now"));
    }
    let nonce = payload
        .get("nonce")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            OfferError::InvalidNonce(
                "the key proof has no nonce: get one from the nonce endpoint".into(),
            )
        })?;
    Ok(KeyProof {
        holder,
        nonce: nonce.to_owned(),
    })
}

/// The holder's DID and key from a key proof's header.
fn holder_key(header: &Value) -> Result<(String, microcred_core::PublicKey), OfferError> {
    let bad = |why: String| OfferError::InvalidProof(why);
    if let Some(kid) = header.get("kid").and_then(Value::as_str) {
        let did = kid.split('#').next().unwrap_or(kid);
        if did.starts_with("did:key:") {
            let key = microcred_core::PublicKey::from_did_key(kid)
                .map_err(|e| bad(format!("the kid {kid} is not an Ed25519 did:key: {e}")))?;
            return Ok((did.to_owned(), key));
        }
        if let Some(encoded) = did.strip_prefix("did:jwk:") {
            let jwk = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded)
                .ok()
                .and_then(|b| microcred_core::parse_strict(&b).ok())
                .ok_or_else(|| bad(format!("the kid {kid} is not a did:jwk")))?;
            return Ok((did.to_owned(), okp_key(&jwk)?));
        }
        return Err(bad(format!(
            "the kid {kid} is neither a did:key nor a did:jwk: those are the holder DIDs this issuer binds credentials to"
        )));
    }
    if let Some(jwk) = header.get("jwk") {
        let key = okp_key(jwk)?;
        // Bound as the did:jwk of the public key alone.
        let public = serde_json::json!({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]});
        let did = format!(
            "did:jwk:{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public.to_string())
        );
        return Ok((did, key));
    }
    Err(bad(
        "the key proof names no key: give a kid (did:key or did:jwk) or a jwk".into(),
    ))
}

/// An Ed25519 public key from an OKP JWK (RFC 8037).
fn okp_key(jwk: &Value) -> Result<microcred_core::PublicKey, OfferError> {
    let bad = |why: &str| OfferError::InvalidProof(why.to_owned());
    if jwk.get("kty").and_then(Value::as_str) != Some("OKP")
        || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519")
    {
        return Err(bad("the holder's JWK must be an OKP Ed25519 key"));
    }
    if jwk.get("d").is_some() {
        return Err(bad(
            "the holder's JWK contains a private key: never send it",
        ));
    }
    let x: [u8; 32] = jwk
        .get("x")
        .and_then(Value::as_str)
        .and_then(|x| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(x)
                .ok()
        })
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("the holder's JWK has no 32-byte x"))?;
    microcred_core::PublicKey::from_bytes(&x)
        .map_err(|_| bad("the holder's key is not a valid Ed25519 point"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    const AUD: &str = "https://c.example/institutions/north";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
    }

    fn jwt(key: &ed25519_dalek::SigningKey, header: Value, payload: Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(payload.to_string())
        );
        let sig = key.sign(input.as_bytes());
        format!("{input}.{}", b64.encode(sig.to_bytes()))
    }

    fn did_key(key: &ed25519_dalek::SigningKey) -> String {
        microcred_core::PublicKey::from_bytes(&key.verifying_key().to_bytes())
            .unwrap()
            .did_key()
    }

    #[test]
    fn key_proofs() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let did = did_key(&key);
        let kid = format!("{did}#{}", did.trim_start_matches("did:key:"));
        let header = serde_json::json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": kid});
        let payload =
            serde_json::json!({"aud": AUD, "iat": now().unix_timestamp(), "nonce": "n-1"});
        let good = jwt(&key, header.clone(), payload.clone());
        let p = check_key_proof(&good, AUD, now()).unwrap();
        assert_eq!((p.holder.as_str(), p.nonce.as_str()), (did.as_str(), "n-1"));

        // did:jwk, and a bare jwk header bound as its did:jwk.
        let x =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        let jwk = serde_json::json!({"crv": "Ed25519", "kty": "OKP", "x": x});
        let did_jwk = format!(
            "did:jwk:{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jwk.to_string())
        );
        let h = serde_json::json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "kid": format!("{did_jwk}#0")});
        assert_eq!(
            check_key_proof(&jwt(&key, h, payload.clone()), AUD, now())
                .unwrap()
                .holder,
            did_jwk
        );
        let h = serde_json::json!({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": jwk});
        assert_eq!(
            check_key_proof(&jwt(&key, h, payload.clone()), AUD, now())
                .unwrap()
                .holder,
            did_jwk
        );

        let refused = |t: String| check_key_proof(&t, AUD, now()).unwrap_err();
        // Wrong audience, stale iat, wrong typ, another key's signature, ES256, no nonce.
        let mut p2 = payload.clone();
        p2["aud"] = "https://elsewhere.example".into();
        assert_eq!(
            refused(jwt(&key, header.clone(), p2)).code(),
            "invalid_proof"
        );
        let mut p2 = payload.clone();
        p2["iat"] = (now().unix_timestamp() - 3600).into();
        assert_eq!(
            refused(jwt(&key, header.clone(), p2)).code(),
            "invalid_proof"
        );
        let mut h2 = header.clone();
        h2["typ"] = "JWT".into();
        assert_eq!(
            refused(jwt(&key, h2, payload.clone())).code(),
            "invalid_proof"
        );
        let other = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
        assert!(refused(jwt(&other, header.clone(), payload.clone()))
            .to_string()
            .contains("does not verify"));
        let mut h2 = header.clone();
        h2["alg"] = "ES256".into();
        assert!(refused(jwt(&key, h2, payload.clone()))
            .to_string()
            .contains("EdDSA"));
        let mut p2 = payload;
        p2.as_object_mut().unwrap().remove("nonce");
        assert_eq!(refused(jwt(&key, header, p2)).code(), "invalid_nonce");
        assert_eq!(refused("a.b".into()).code(), "invalid_proof");
    }

    fn stored(state: OfferState, expires_at: &str, items: Vec<Item>) -> Stored {
        Stored {
            record: OfferRecord {
                id: "0123456789abcdef0123456789abcdef".into(),
                institution: "north".into(),
                version: 1,
                code_hash: [1; 32],
                token_hash: None,
                exchange_hash: [2; 32],
                created_at: "2026-01-01T00:00:00Z".into(),
                expires_at: expires_at.into(),
                body: Vec::new(),
            },
            offer: Offer {
                state,
                items,
                tx_code: None,
                token_expires_at: None,
                exchange: None,
                created_by: "admin".into(),
                events: Vec::new(),
            },
        }
    }

    fn item(conf: &str, holder: Option<&str>, issued: bool) -> Item {
        Item {
            configuration_id: conf.into(),
            source: Source::Credential("c".into()),
            pending: false,
            transaction: None,
            holder: holder.map(str::to_owned),
            credential_id: issued.then(|| "x".to_owned()),
            issued_at: None,
        }
    }

    #[test]
    fn only_an_open_unexpired_offer_is_redeemable() {
        let later = "2027-01-01T00:00:00Z";
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap(); // 2026-09
        assert!(stored(OfferState::Offered, later, vec![])
            .redeemable(at)
            .is_ok());
        let expired = stored(OfferState::Offered, "2026-01-02T00:00:00Z", vec![]);
        let e = expired.redeemable(at).unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
        assert!(e.to_string().contains("expired"), "{e}");
        for state in [
            OfferState::Redeemed,
            OfferState::Locked,
            OfferState::Cancelled,
        ] {
            assert_eq!(
                stored(state, later, vec![])
                    .redeemable(at)
                    .unwrap_err()
                    .code(),
                "invalid_grant"
            );
        }
        // An expired access token is refused as a token.
        let mut s = stored(OfferState::Redeemed, later, vec![]);
        s.offer.token_expires_at = Some("2026-01-02T00:00:00Z".into());
        assert_eq!(s.check_token(at).unwrap_err().code(), "invalid_token");
    }

    #[test]
    fn which_item_a_request_names() {
        let s = stored(
            OfferState::Redeemed,
            "2027-01-01T00:00:00Z",
            vec![
                item("df-101", Some("did:key:a"), true),
                item("df-101", None, false),
                item("df-102", None, false),
            ],
        );
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            find_item(&s, Some(&format!("{id}:2")), None, "did:key:b").unwrap(),
            2
        );
        assert!(find_item(&s, Some(&format!("{id}:9")), None, "did:key:b").is_err());
        assert!(find_item(&s, Some("other:0"), None, "did:key:b").is_err());
        // The first item of the configuration not yet issued, for another holder…
        assert_eq!(find_item(&s, None, Some("df-101"), "did:key:b").unwrap(), 1);
        // …and for the holder who has one, the next (two were offered).
        assert_eq!(find_item(&s, None, Some("df-101"), "did:key:a").unwrap(), 1);
        // Once none is open, a retry finds the holder's own.
        let mut all = s.clone();
        all.offer.items[1] = item("df-101", Some("did:key:c"), true);
        assert_eq!(
            find_item(&all, None, Some("df-101"), "did:key:a").unwrap(),
            0
        );
        assert_eq!(
            find_item(&all, None, Some("df-101"), "did:key:b")
                .unwrap_err()
                .code(),
            "credential_request_denied"
        );
        assert_eq!(
            find_item(&s, None, Some("df-103"), "did:key:b")
                .unwrap_err()
                .code(),
            "unknown_credential_configuration"
        );
        // Without a name: the next open item.
        assert_eq!(find_item(&s, None, None, "did:key:b").unwrap(), 1);
    }

    #[test]
    fn transaction_codes_are_digits() {
        for _ in 0..50 {
            let c = tx_code().unwrap();
            assert_eq!(c.len(), TX_CODE_DIGITS);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_ne!(tx_hash("o1", "123456"), tx_hash("o2", "123456"));
    }
}
