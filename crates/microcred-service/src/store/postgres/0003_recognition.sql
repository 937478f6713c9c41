-- Version 3: recognition of prior learning — the issuers an institution recognizes, and the
-- credentials of other institutions it recorded for its learners.
ALTER TABLE institution_settings ADD COLUMN recognized_issuers TEXT COLLATE "C";

CREATE TABLE recognized_credentials (
    institution TEXT COLLATE "C" NOT NULL REFERENCES institutions(slug),
    learner TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    issuer TEXT COLLATE "C" NOT NULL,
    achievement TEXT COLLATE "C" NOT NULL,
    body BYTEA NOT NULL,
    verification BYTEA,
    recorded_at TEXT COLLATE "C" NOT NULL,
    recorded_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (institution, learner, id)
);
CREATE INDEX recognized_credentials_learner ON recognized_credentials(learner);
