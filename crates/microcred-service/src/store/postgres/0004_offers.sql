-- Version 4: offers of credentials to learners' wallets (OpenID for Verifiable Credential
-- Issuance, VC API exchanges) and the nonces of their key proofs.
CREATE TABLE offers (
    id TEXT COLLATE "C" PRIMARY KEY,
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    version BIGINT NOT NULL,
    code_hash BYTEA NOT NULL UNIQUE,
    token_hash BYTEA UNIQUE,
    exchange_hash BYTEA NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    body BYTEA NOT NULL
);
CREATE INDEX offers_institution ON offers(institution, created_at);

CREATE TABLE offer_nonces (
    hash BYTEA PRIMARY KEY,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX offer_nonces_expiry ON offer_nonces(expires_at);
