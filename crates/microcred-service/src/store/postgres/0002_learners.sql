-- Version 2: the learner key of a credential's recipient (stacking, learner records), and the
-- queue of learners whose credentials may now satisfy a pathway.
ALTER TABLE credentials ADD COLUMN learner TEXT COLLATE "C";
CREATE INDEX credentials_learner ON credentials(learner) WHERE learner IS NOT NULL;

CREATE TABLE stack_checks (
    learner TEXT COLLATE "C" PRIMARY KEY,
    recipient BYTEA NOT NULL,
    version BIGINT NOT NULL,
    queued_at TEXT COLLATE "C" NOT NULL
);
