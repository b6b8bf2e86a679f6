-- +goose Up
-- Supervision and enforcement (issue 10): inspections signed by the
-- platform, reproducible random draws (双随机) turned into inspection tasks,
-- enforcement cases with working-day deadlines and their steps, credit
-- records, online-monitoring thresholds per region, and the lease that lets
-- one app replica run the monitoring job.

CREATE TABLE inspections (
    id              BIGSERIAL PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,            -- XC-<county>-<year>-<serial>
    operator_id     BIGINT NOT NULL REFERENCES operators (id),
    region_code     TEXT NOT NULL,                   -- the operator's region (jurisdiction)
    kind            TEXT NOT NULL CHECK (kind IN ('site', 'enforcement')),
    checklist       TEXT NOT NULL DEFAULT '[]',      -- JSON [{item, ok, note}]
    result          TEXT NOT NULL CHECK (result IN ('pass', 'rectify', 'violation')),
    rectify_days    INTEGER,
    rectify_due     TEXT,                            -- YYYY-MM-DD on the working-day calendar
    notes           TEXT NOT NULL DEFAULT '',
    lat             DOUBLE PRECISION,
    lng             DOUBLE PRECISION,
    accuracy_m      DOUBLE PRECISION,
    task_id         BIGINT,
    inspector_id    BIGINT REFERENCES users (id),
    inspector_login TEXT NOT NULL,
    inspector_name  TEXT NOT NULL,
    agency          TEXT NOT NULL DEFAULT '',
    on_date         TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    signed_text     TEXT NOT NULL,                   -- the canonical JSON the signature covers
    signature       TEXT NOT NULL                    -- base64 SM2 (platform key)
);
CREATE INDEX inspections_operator ON inspections (operator_id, at);
CREATE INDEX inspections_region ON inspections (region_code, at);

CREATE TABLE inspection_batches (
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    code          TEXT NOT NULL REFERENCES trace_codes (code), -- the batch looked at (resolved from what was scanned)
    scanned       TEXT NOT NULL DEFAULT '',          -- what was scanned or typed, when not the code itself
    PRIMARY KEY (inspection_id, code)
);
CREATE INDEX inspection_batches_code ON inspection_batches (code);

CREATE TABLE inspection_photos (
    id            BIGSERIAL PRIMARY KEY,
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    sha256        TEXT NOT NULL,                     -- content address in the documents store
    size          BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    filename      TEXT NOT NULL DEFAULT '',
    signature     TEXT NOT NULL,                     -- SM2 over inspection number + sha256
    uploaded_by   BIGINT,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX inspection_photos_inspection ON inspection_photos (inspection_id, id);

CREATE TABLE draws (
    id          BIGSERIAL PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,                -- CJ-<region>-<year>-<serial>
    title       TEXT NOT NULL,
    region_code TEXT NOT NULL,
    spec        TEXT NOT NULL,                       -- JSON: filter, size/percent, per_task, inspectors, recusals
    seed        TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    population  INTEGER NOT NULL,
    population_sha256 TEXT NOT NULL,                 -- SHA-256 of the canonical population list
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    due_on      TEXT NOT NULL,
    created_by  BIGINT,
    created_by_name TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ
);
CREATE INDEX draws_region ON draws (region_code, created_at);

CREATE TABLE draw_tasks (
    id            BIGSERIAL PRIMARY KEY,
    draw_id       BIGINT NOT NULL REFERENCES draws (id),
    position      INTEGER NOT NULL,
    operator_id   BIGINT NOT NULL REFERENCES operators (id),
    region_code   TEXT NOT NULL,
    inspectors    TEXT NOT NULL,                     -- JSON [username]
    status        TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    inspection_id BIGINT,
    result        TEXT NOT NULL DEFAULT '',
    done_at       TIMESTAMPTZ,
    UNIQUE (draw_id, position)
);
CREATE INDEX draw_tasks_operator ON draw_tasks (operator_id);
CREATE INDEX draw_tasks_status ON draw_tasks (status, region_code);

CREATE TABLE cases (
    id             BIGSERIAL PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,             -- AJ-<county>-<year>-<serial>
    source         TEXT NOT NULL CHECK (source IN ('inspection', 'sample', 'complaint', 'finding', 'manual')),
    source_id      TEXT NOT NULL DEFAULT '',
    violation      TEXT NOT NULL CHECK (violation IN ('false_records', 'broken_chain', 'forged_codes', 'batch_mixing', 'other')),
    summary        TEXT NOT NULL,
    evidence       TEXT NOT NULL DEFAULT '[]',       -- JSON [{kind, ref, note}]
    region_code    TEXT NOT NULL,                    -- the first operator's region (jurisdiction)
    status         TEXT NOT NULL CHECK (status IN ('filed', 'investigated', 'decided', 'follow_up', 'closed')),
    decision       TEXT NOT NULL DEFAULT '',
    rectify_days   INTEGER,
    penalty_fen    BIGINT,                           -- penalty in fen (0.01 yuan)
    legal_basis    TEXT NOT NULL DEFAULT '',
    due_on         TEXT,                             -- the open step's deadline, YYYY-MM-DD
    filed_on       TEXT NOT NULL,
    decided_on     TEXT,
    filed_by       BIGINT,
    filed_by_name  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ
);
CREATE INDEX cases_region ON cases (region_code, status);
CREATE INDEX cases_due ON cases (status, due_on);

CREATE TABLE case_operators (
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    PRIMARY KEY (case_id, operator_id)
);
CREATE INDEX case_operators_operator ON case_operators (operator_id);

CREATE TABLE case_steps (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    step        TEXT NOT NULL,                       -- filed | investigated | decision | follow_up | closed
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',          -- JSON: decision, rectify_days, penalty, legal_basis, rectified
    note        TEXT NOT NULL DEFAULT '',
    due_on      TEXT,
    actor_id    BIGINT,
    actor_name  TEXT NOT NULL,
    on_date     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_steps_case ON case_steps (case_id, id);

CREATE TABLE credit_entries (
    id            BIGSERIAL PRIMARY KEY,
    operator_id   BIGINT NOT NULL REFERENCES operators (id),
    level         TEXT NOT NULL CHECK (level IN ('warned', 'rectifying', 'penalised', 'blacklisted')),
    rule          TEXT NOT NULL,                     -- the credit rule that made it
    reason        TEXT NOT NULL,
    case_id       BIGINT,
    inspection_id BIGINT,
    from_on       TEXT NOT NULL,
    until_on      TEXT,                              -- NULL: until lifted (rectifying until the follow-up check)
    lifted_on     TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX credit_entries_operator ON credit_entries (operator_id, from_on);

CREATE TABLE monitor_settings (
    region_code TEXT NOT NULL,                       -- 000000 = national default
    rule        TEXT NOT NULL,
    threshold   DOUBLE PRECISION NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_by  TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, rule)
);

CREATE TABLE job_leases (
    name      TEXT PRIMARY KEY,
    holder    TEXT NOT NULL,
    until_at  TIMESTAMPTZ NOT NULL,
    last_run  TIMESTAMPTZ,
    runs      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE job_runs (
    id        BIGSERIAL PRIMARY KEY,
    name      TEXT NOT NULL,
    holder    TEXT NOT NULL,
    started   TIMESTAMPTZ NOT NULL,
    finished  TIMESTAMPTZ,
    findings  INTEGER NOT NULL DEFAULT 0,
    error     TEXT NOT NULL DEFAULT ''
);

ALTER TABLE findings ADD COLUMN rule_key TEXT NOT NULL DEFAULT '';
CREATE INDEX findings_rule_key ON findings (kind, rule_key);

-- +goose Down
DROP INDEX findings_rule_key;
ALTER TABLE findings DROP COLUMN rule_key;
DROP TABLE job_runs;
DROP TABLE job_leases;
DROP TABLE monitor_settings;
DROP TABLE credit_entries;
DROP TABLE case_steps;
DROP TABLE case_operators;
DROP TABLE cases;
DROP TABLE draw_tasks;
DROP TABLE draws;
DROP TABLE inspection_photos;
DROP TABLE inspection_batches;
DROP TABLE inspections;
