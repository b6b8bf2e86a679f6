-- +goose Up
-- Monitoring (issue 11), part 1: residue limits as data. Substances, and
-- limits per (substance, food or food category, standard edition) with the
-- dates the edition is in force and where each value was read; every edit
-- keeps the previous version in residue_limit_history.

CREATE TABLE substances (
    code     TEXT PRIMARY KEY,                 -- stable slug, e.g. clenbuterol
    name     TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    cas      TEXT NOT NULL DEFAULT '',
    synonyms TEXT NOT NULL DEFAULT '[]',       -- JSON array
    kind     TEXT NOT NULL CHECK (kind IN ('pesticide', 'vet_drug', 'banned', 'contaminant', 'quality'))
);

CREATE TABLE residue_limits (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    substance_code TEXT NOT NULL REFERENCES substances (code),
    food_code      TEXT NOT NULL,              -- a catalogue product code or product category code
    value          DOUBLE PRECISION NOT NULL,
    unit           TEXT NOT NULL,
    judgement      TEXT NOT NULL CHECK (judgement IN ('max', 'not_detected', 'min')),
    standard       TEXT NOT NULL,              -- e.g. GB 2763
    edition        TEXT NOT NULL,              -- e.g. 2026
    valid_from     TEXT NOT NULL,              -- YYYY-MM-DD the edition is in force from
    valid_to       TEXT,                       -- last day in force (NULL: still in force)
    source         TEXT NOT NULL,              -- where the value was read, and how far it is confirmed
    version        INTEGER NOT NULL DEFAULT 1,
    updated_by     TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX residue_limits_key ON residue_limits (substance_code, food_code, standard, edition);
CREATE INDEX residue_limits_food ON residue_limits (food_code, substance_code);

CREATE TABLE residue_limit_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    limit_id   BIGINT NOT NULL REFERENCES residue_limits (id),
    version    INTEGER NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    unit       TEXT NOT NULL,
    judgement  TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT,
    source     TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX residue_limit_history_limit ON residue_limit_history (limit_id, version);

-- +goose Down
DROP TABLE residue_limit_history;
DROP TABLE residue_limits;
DROP TABLE substances;
