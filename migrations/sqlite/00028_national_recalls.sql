-- +goose NO TRANSACTION
-- +goose Up
-- Recalls decided at the national node (issue 13 item 3, docs/exchange.md
-- "Recalls from the national node"). A province node keeps a copy of a
-- national recall that reaches its batches, so that the batches are held
-- here under it (trace_codes.held_recall) and the holders record what
-- became of them: such a recall has no sample on this node, and its root
-- (the sampled batch) may be another province's code. source_node names
-- the node that decided it ('' for this node's own).
--
-- SQLite cannot drop NOT NULL in place: the table is rebuilt by SQLite's
-- documented procedure (foreign keys off, so that dropping the old table
-- and renaming the new one leave recall_batches' reference to "recalls"
-- as it is; one transaction). One block, so that it runs on one
-- connection (foreign_keys is a connection's setting).
-- +goose StatementBegin
PRAGMA foreign_keys = OFF; -- drift:engine-only
BEGIN IMMEDIATE; -- drift:engine-only
CREATE TABLE recalls_00028 ( -- drift:engine-only
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- drift:engine-only
    number         TEXT NOT NULL UNIQUE, -- drift:engine-only
    sample_id      BIGINT REFERENCES samples (id), -- drift:engine-only
    root_code      TEXT REFERENCES trace_codes (code), -- drift:engine-only
    region_code    TEXT NOT NULL, -- drift:engine-only
    status         TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'released', 'closed')), -- drift:engine-only
    reason         TEXT NOT NULL, -- drift:engine-only
    opened_at      TIMESTAMP NOT NULL, -- drift:engine-only
    decided_by     TEXT NOT NULL DEFAULT '', -- drift:engine-only
    decided_at     TIMESTAMP, -- drift:engine-only
    release_reason TEXT NOT NULL DEFAULT '', -- drift:engine-only
    closed_at      TIMESTAMP, -- drift:engine-only
    source_node    TEXT NOT NULL DEFAULT '' -- drift:engine-only
); -- drift:engine-only
INSERT INTO recalls_00028 (id, number, sample_id, root_code, region_code, status, reason, opened_at, decided_by, decided_at, release_reason, closed_at) -- drift:engine-only
    SELECT id, number, sample_id, root_code, region_code, status, reason, opened_at, decided_by, decided_at, release_reason, closed_at FROM recalls; -- drift:engine-only
DROP TABLE recalls; -- drift:engine-only
ALTER TABLE recalls_00028 RENAME TO recalls; -- drift:engine-only
CREATE INDEX recalls_status ON recalls (status, region_code); -- drift:engine-only
COMMIT; -- drift:engine-only
PRAGMA foreign_keys = ON; -- drift:engine-only
-- +goose StatementEnd

-- +goose Down
ALTER TABLE recalls DROP COLUMN source_node;
