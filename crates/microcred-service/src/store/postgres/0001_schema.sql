-- microcred schema, PostgreSQL version 1 (the SQLite schema version 5, same constraints).
-- Every text column compares byte-wise (COLLATE "C"): ordering and the idempotency-key
-- prefix scan are byte order, as in SQLite. Counters are BIGINT, bytes are BYTEA.

CREATE TABLE meta (
    name TEXT COLLATE "C" PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE institutions (
    slug TEXT COLLATE "C" PRIMARY KEY,
    did TEXT COLLATE "C" NOT NULL,
    identity TEXT COLLATE "C" NOT NULL,
    profile TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE keys (
    method_id TEXT COLLATE "C" PRIMARY KEY,
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    seq BIGINT NOT NULL,
    public_multibase TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    retired_at TEXT COLLATE "C",
    storage TEXT COLLATE "C" NOT NULL DEFAULT 'sealed',
    nonce BYTEA,
    ciphertext BYTEA,
    token_label TEXT COLLATE "C",
    token_key_id BYTEA,
    UNIQUE (institution, seq),
    CHECK ((storage = 'sealed' AND nonce IS NOT NULL AND ciphertext IS NOT NULL
            AND token_label IS NULL AND token_key_id IS NULL)
        OR (storage = 'pkcs11' AND nonce IS NULL AND ciphertext IS NULL
            AND token_label IS NOT NULL AND token_key_id IS NOT NULL))
);
CREATE UNIQUE INDEX keys_one_active ON keys(institution) WHERE status = 'active';

CREATE TABLE tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    scopes BIGINT NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    hash BYTEA NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tokens_institution ON tokens(institution);

CREATE TABLE achievements (
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    slug TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT COLLATE "C" NOT NULL,
    content_hash BYTEA NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    lint_profile TEXT COLLATE "C",
    PRIMARY KEY (institution, slug, version)
);

-- `seq` is the insertion order ("newest first" listings).
CREATE TABLE credentials (
    id TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    achievement TEXT COLLATE "C" NOT NULL,
    achievement_version BIGINT NOT NULL,
    idempotency_key TEXT COLLATE "C",
    request_hash BYTEA NOT NULL,
    issued_at TEXT COLLATE "C" NOT NULL,
    method_id TEXT COLLATE "C" NOT NULL,
    body BYTEA NOT NULL,
    revoked_at TEXT COLLATE "C",
    revocation_reason TEXT COLLATE "C"
);
CREATE UNIQUE INDEX credentials_idempotency
    ON credentials(institution, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX credentials_institution ON credentials(institution, seq);

CREATE TABLE body_parts (
    hash BYTEA PRIMARY KEY,
    parts BYTEA NOT NULL
);

CREATE TABLE institution_settings (
    institution TEXT COLLATE "C" PRIMARY KEY REFERENCES institutions(slug),
    suspension BOOLEAN NOT NULL DEFAULT FALSE,
    lint_profile TEXT COLLATE "C"
);

CREATE TABLE status_lists (
    id TEXT COLLATE "C" PRIMARY KEY,
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    purpose TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    issuer TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    allocated BIGINT NOT NULL,
    permutation_key BYTEA NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    CONSTRAINT status_lists_seq_unique UNIQUE (institution, purpose, seq),
    CHECK (allocated >= 0 AND allocated <= size)
);

CREATE TABLE status_bits (
    list_id TEXT COLLATE "C" NOT NULL REFERENCES status_lists(id),
    idx BIGINT NOT NULL,
    PRIMARY KEY (list_id, idx)
);

CREATE TABLE status_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    credential_id TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    changed BOOLEAN NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX status_events_credential ON status_events(institution, credential_id, seq);
CREATE INDEX status_events_institution ON status_events(institution, seq);
