-- +goose Up
-- Monitoring (issue 11), part 2: sampling tests judged against the limits,
-- and what a failed test does in the same transaction: the sampled batch
-- and every batch downstream of it are held (trace_codes.held_recall) under
-- a recall, whose scope lists each batch with its holder and what the
-- holder did with it.

ALTER TABLE trace_codes ADD COLUMN held_recall BIGINT; -- the recall holding the batch (NULL: free)

CREATE TABLE samples (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_no    TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('lab', 'quick')),
    operator_id  BIGINT NOT NULL REFERENCES operators (id),
    batch_code   TEXT NOT NULL REFERENCES trace_codes (code),
    product_code TEXT NOT NULL,
    region_code  TEXT NOT NULL,            -- the operator's region (jurisdiction)
    sampled_on   TEXT NOT NULL,
    place        TEXT NOT NULL DEFAULT '',
    agency       TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL DEFAULT '',
    verdict      TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'not_judged', 'positive', 'negative')),
    recall_id    BIGINT,
    tester_id    BIGINT,
    tester_name  TEXT NOT NULL,
    at           TIMESTAMP NOT NULL
);
CREATE INDEX samples_region ON samples (region_code, at);
CREATE INDEX samples_batch ON samples (batch_code);

CREATE TABLE sample_items (
    sample_id     BIGINT NOT NULL REFERENCES samples (id),
    position      INTEGER NOT NULL,
    substance     TEXT NOT NULL,           -- as given (a code when known)
    known         BOOLEAN NOT NULL,
    value         DOUBLE PRECISION,
    unit          TEXT NOT NULL DEFAULT '',
    lod           DOUBLE PRECISION,
    result        TEXT NOT NULL DEFAULT '', -- quick tests: positive | negative
    limit_id      BIGINT,
    limit_value   DOUBLE PRECISION,
    limit_unit    TEXT NOT NULL DEFAULT '',
    judgement     TEXT NOT NULL DEFAULT '',
    standard      TEXT NOT NULL DEFAULT '',
    edition       TEXT NOT NULL DEFAULT '',
    verdict       TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    in_limit_unit TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (sample_id, position)
);

CREATE TABLE recalls (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    number         TEXT NOT NULL UNIQUE,
    sample_id      BIGINT NOT NULL REFERENCES samples (id),
    root_code      TEXT NOT NULL REFERENCES trace_codes (code),
    region_code    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'released', 'closed')),
    reason         TEXT NOT NULL,
    opened_at      TIMESTAMP NOT NULL,
    decided_by     TEXT NOT NULL DEFAULT '',
    decided_at     TIMESTAMP,
    release_reason TEXT NOT NULL DEFAULT '',
    closed_at      TIMESTAMP
);
CREATE INDEX recalls_status ON recalls (status, region_code);

CREATE TABLE recall_batches (
    recall_id      BIGINT NOT NULL REFERENCES recalls (id),
    code           TEXT NOT NULL REFERENCES trace_codes (code),
    depth          INTEGER NOT NULL,       -- 0 = the sampled batch
    operator_id    BIGINT NOT NULL,
    region_code    TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    stock_milli    BIGINT NOT NULL,        -- at the time of the recall
    disposition    TEXT NOT NULL DEFAULT '', -- destroyed | returned | retested (empty: not accounted for)
    disposed_milli BIGINT,
    note           TEXT NOT NULL DEFAULT '',
    disposed_by    TEXT NOT NULL DEFAULT '',
    disposed_at    TIMESTAMP,
    PRIMARY KEY (recall_id, code)
);
CREATE INDEX recall_batches_code ON recall_batches (code);
CREATE INDEX recall_batches_region ON recall_batches (region_code, recall_id);

-- +goose Down
DROP TABLE recall_batches;
DROP TABLE recalls;
DROP TABLE sample_items;
DROP TABLE samples;
ALTER TABLE trace_codes DROP COLUMN held_recall;
