-- +goose Up
-- The ledger (issue 12): every event tx.Emit writes becomes, in the same
-- transaction, a leaf of an append-only Merkle log (RFC 6962 tree shape,
-- SM3 or SHA-256), with signed checkpoints. docs/ledger.md.

-- One row: the log's size (the next leaf's seq) and hash algorithm. Writers
-- take the next seq with UPDATE … RETURNING, which holds the row until they
-- commit, so seqs are gapless across app replicas on one PostgreSQL.
CREATE TABLE ledger_head (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    size       BIGINT NOT NULL,
    algorithm  TEXT NOT NULL CHECK (algorithm IN ('sm3', 'sha256')),
    created_at TIMESTAMP NOT NULL
);

-- A leaf is the canonical JSON of {"at","digest","kind","seq","subject"};
-- digest is the hash of record, the full record's canonical JSON (the audit
-- row and, for some kinds of subject, the subject's state after the write).
CREATE TABLE ledger_leaves (
    seq      BIGINT PRIMARY KEY,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    at       TEXT NOT NULL,
    digest   TEXT NOT NULL,
    record   TEXT NOT NULL,
    audit_id BIGINT
);
CREATE INDEX ledger_leaves_subject ON ledger_leaves (subject, seq);

CREATE TABLE ledger_checkpoints (
    size        BIGINT PRIMARY KEY,
    root_hash   TEXT NOT NULL,
    at          TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    signature   TEXT NOT NULL,
    key_id      TEXT NOT NULL
);

-- +goose Down
DROP TABLE ledger_checkpoints;
DROP TABLE ledger_leaves;
DROP TABLE ledger_head;
