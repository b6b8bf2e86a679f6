-- +goose Up
-- Standard import (issue 13 item 5, docs/exchange.md "Import and export"):
-- one row per file an administrator or an integration client imported.
-- A job records who imported what (kind, mode, format, the file's SHA-256),
-- how far it got and the rows it refused with their reasons. The rows
-- themselves are written through the services (their events are the audit
-- of what was pushed); this table is the job's bookkeeping only.
CREATE TABLE import_jobs (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT REFERENCES users (id),          -- NULL: the platform itself (demo, CLI)
    actor_name  TEXT NOT NULL,
    region_code TEXT NOT NULL,                         -- the importer's jurisdiction root when it imported
    kind        TEXT NOT NULL CHECK (kind IN ('operators', 'batches', 'events')),
    mode        TEXT NOT NULL CHECK (mode IN ('all_or_nothing', 'valid_rows')),
    format      TEXT NOT NULL CHECK (format IN ('json', 'xlsx')),
    file_name   TEXT NOT NULL DEFAULT '',
    file_sha256 TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    total_rows  INTEGER NOT NULL,
    processed   INTEGER NOT NULL DEFAULT 0,            -- rows looked at so far (first pass)
    accepted    INTEGER NOT NULL DEFAULT 0,            -- rows written
    unchanged   INTEGER NOT NULL DEFAULT 0,            -- rows identical to what is already recorded
    rejected    INTEGER NOT NULL DEFAULT 0,            -- rows refused (or, all_or_nothing, rolled back with the file)
    errors      TEXT NOT NULL DEFAULT '[]',            -- JSON [{row, field, code, message, message_zh}], the first 1000
    message_zh  TEXT NOT NULL DEFAULT '',              -- why the job failed as a whole, if it did
    message_en  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX import_jobs_user ON import_jobs (user_id, id);
CREATE INDEX import_jobs_status ON import_jobs (status, updated_at);

-- The export reads records of a region and a date range in a stable order,
-- and a transformation by its outputs (its key in the exchange is its
-- first output code).
CREATE INDEX trace_codes_transformation ON trace_codes (transformation_id) WHERE transformation_id IS NOT NULL;
CREATE INDEX transfers_seller_shipped ON transfers (seller_region, shipped_on);
CREATE INDEX transformations_on ON transformations (on_date);

-- +goose Down
DROP INDEX transformations_on;
DROP INDEX transfers_seller_shipped;
DROP INDEX trace_codes_transformation;
DROP TABLE import_jobs;
