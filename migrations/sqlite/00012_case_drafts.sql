-- +goose Up
-- Draft cases (issue 11 meets issue 10): a failed sample opens a draft
-- enforcement case (案源, status draft) in the sampled operator's county,
-- which an enforcer files (立案) or declines with a reason. The only change
-- is the status CHECK: PostgreSQL swaps the constraint; SQLite cannot alter
-- a CHECK, so it rebuilds cases and the two tables that reference it, with
-- every row and id kept (inside goose's transaction, foreign keys on).
CREATE TABLE cases_old AS SELECT * FROM cases; -- drift:engine-only
CREATE TABLE case_operators_old AS SELECT * FROM case_operators; -- drift:engine-only
CREATE TABLE case_steps_old AS SELECT * FROM case_steps; -- drift:engine-only
DROP TABLE case_steps; -- drift:engine-only
DROP TABLE case_operators; -- drift:engine-only
DROP TABLE cases; -- drift:engine-only
CREATE TABLE cases ( -- drift:engine-only
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- drift:engine-only
    number         TEXT NOT NULL UNIQUE, -- drift:engine-only
    source         TEXT NOT NULL CHECK (source IN ('inspection', 'sample', 'complaint', 'finding', 'manual')), -- drift:engine-only
    source_id      TEXT NOT NULL DEFAULT '', -- drift:engine-only
    violation      TEXT NOT NULL CHECK (violation IN ('false_records', 'broken_chain', 'forged_codes', 'batch_mixing', 'other')), -- drift:engine-only
    summary        TEXT NOT NULL, -- drift:engine-only
    evidence       TEXT NOT NULL DEFAULT '[]', -- drift:engine-only
    region_code    TEXT NOT NULL, -- drift:engine-only
    status         TEXT NOT NULL CHECK (status IN ('draft', 'filed', 'investigated', 'decided', 'follow_up', 'closed')), -- drift:engine-only
    decision       TEXT NOT NULL DEFAULT '', -- drift:engine-only
    rectify_days   INTEGER, -- drift:engine-only
    penalty_fen    BIGINT, -- drift:engine-only
    legal_basis    TEXT NOT NULL DEFAULT '', -- drift:engine-only
    due_on         TEXT, -- drift:engine-only
    filed_on       TEXT NOT NULL, -- drift:engine-only
    decided_on     TEXT, -- drift:engine-only
    filed_by       BIGINT, -- drift:engine-only
    filed_by_name  TEXT NOT NULL, -- drift:engine-only
    created_at     TIMESTAMP NOT NULL, -- drift:engine-only
    updated_at     TIMESTAMP NOT NULL, -- drift:engine-only
    closed_at      TIMESTAMP -- drift:engine-only
); -- drift:engine-only
CREATE INDEX cases_region ON cases (region_code, status); -- drift:engine-only
CREATE INDEX cases_due ON cases (status, due_on); -- drift:engine-only
CREATE TABLE case_operators ( -- drift:engine-only
    case_id     BIGINT NOT NULL REFERENCES cases (id), -- drift:engine-only
    operator_id BIGINT NOT NULL REFERENCES operators (id), -- drift:engine-only
    PRIMARY KEY (case_id, operator_id) -- drift:engine-only
); -- drift:engine-only
CREATE INDEX case_operators_operator ON case_operators (operator_id); -- drift:engine-only
CREATE TABLE case_steps ( -- drift:engine-only
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- drift:engine-only
    case_id     BIGINT NOT NULL REFERENCES cases (id), -- drift:engine-only
    step        TEXT NOT NULL, -- drift:engine-only
    from_status TEXT NOT NULL, -- drift:engine-only
    to_status   TEXT NOT NULL, -- drift:engine-only
    detail      TEXT NOT NULL DEFAULT '{}', -- drift:engine-only
    note        TEXT NOT NULL DEFAULT '', -- drift:engine-only
    due_on      TEXT, -- drift:engine-only
    actor_id    BIGINT, -- drift:engine-only
    actor_name  TEXT NOT NULL, -- drift:engine-only
    on_date     TEXT NOT NULL, -- drift:engine-only
    at          TIMESTAMP NOT NULL -- drift:engine-only
); -- drift:engine-only
CREATE INDEX case_steps_case ON case_steps (case_id, id); -- drift:engine-only
INSERT INTO cases SELECT * FROM cases_old; -- drift:engine-only
INSERT INTO case_operators SELECT * FROM case_operators_old; -- drift:engine-only
INSERT INTO case_steps SELECT * FROM case_steps_old; -- drift:engine-only
DROP TABLE case_steps_old; -- drift:engine-only
DROP TABLE case_operators_old; -- drift:engine-only
DROP TABLE cases_old; -- drift:engine-only

-- +goose Down
DELETE FROM case_steps WHERE case_id IN (SELECT id FROM cases WHERE status = 'draft');
DELETE FROM case_operators WHERE case_id IN (SELECT id FROM cases WHERE status = 'draft');
DELETE FROM cases WHERE status = 'draft';
CREATE TABLE cases_old AS SELECT * FROM cases; -- drift:engine-only
CREATE TABLE case_operators_old AS SELECT * FROM case_operators; -- drift:engine-only
CREATE TABLE case_steps_old AS SELECT * FROM case_steps; -- drift:engine-only
DROP TABLE case_steps; -- drift:engine-only
DROP TABLE case_operators; -- drift:engine-only
DROP TABLE cases; -- drift:engine-only
CREATE TABLE cases ( -- drift:engine-only
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- drift:engine-only
    number         TEXT NOT NULL UNIQUE, -- drift:engine-only
    source         TEXT NOT NULL CHECK (source IN ('inspection', 'sample', 'complaint', 'finding', 'manual')), -- drift:engine-only
    source_id      TEXT NOT NULL DEFAULT '', -- drift:engine-only
    violation      TEXT NOT NULL CHECK (violation IN ('false_records', 'broken_chain', 'forged_codes', 'batch_mixing', 'other')), -- drift:engine-only
    summary        TEXT NOT NULL, -- drift:engine-only
    evidence       TEXT NOT NULL DEFAULT '[]', -- drift:engine-only
    region_code    TEXT NOT NULL, -- drift:engine-only
    status         TEXT NOT NULL CHECK (status IN ('filed', 'investigated', 'decided', 'follow_up', 'closed')), -- drift:engine-only
    decision       TEXT NOT NULL DEFAULT '', -- drift:engine-only
    rectify_days   INTEGER, -- drift:engine-only
    penalty_fen    BIGINT, -- drift:engine-only
    legal_basis    TEXT NOT NULL DEFAULT '', -- drift:engine-only
    due_on         TEXT, -- drift:engine-only
    filed_on       TEXT NOT NULL, -- drift:engine-only
    decided_on     TEXT, -- drift:engine-only
    filed_by       BIGINT, -- drift:engine-only
    filed_by_name  TEXT NOT NULL, -- drift:engine-only
    created_at     TIMESTAMP NOT NULL, -- drift:engine-only
    updated_at     TIMESTAMP NOT NULL, -- drift:engine-only
    closed_at      TIMESTAMP -- drift:engine-only
); -- drift:engine-only
CREATE INDEX cases_region ON cases (region_code, status); -- drift:engine-only
CREATE INDEX cases_due ON cases (status, due_on); -- drift:engine-only
CREATE TABLE case_operators ( -- drift:engine-only
    case_id     BIGINT NOT NULL REFERENCES cases (id), -- drift:engine-only
    operator_id BIGINT NOT NULL REFERENCES operators (id), -- drift:engine-only
    PRIMARY KEY (case_id, operator_id) -- drift:engine-only
); -- drift:engine-only
CREATE INDEX case_operators_operator ON case_operators (operator_id); -- drift:engine-only
CREATE TABLE case_steps ( -- drift:engine-only
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- drift:engine-only
    case_id     BIGINT NOT NULL REFERENCES cases (id), -- drift:engine-only
    step        TEXT NOT NULL, -- drift:engine-only
    from_status TEXT NOT NULL, -- drift:engine-only
    to_status   TEXT NOT NULL, -- drift:engine-only
    detail      TEXT NOT NULL DEFAULT '{}', -- drift:engine-only
    note        TEXT NOT NULL DEFAULT '', -- drift:engine-only
    due_on      TEXT, -- drift:engine-only
    actor_id    BIGINT, -- drift:engine-only
    actor_name  TEXT NOT NULL, -- drift:engine-only
    on_date     TEXT NOT NULL, -- drift:engine-only
    at          TIMESTAMP NOT NULL -- drift:engine-only
); -- drift:engine-only
CREATE INDEX case_steps_case ON case_steps (case_id, id); -- drift:engine-only
INSERT INTO cases SELECT * FROM cases_old; -- drift:engine-only
INSERT INTO case_operators SELECT * FROM case_operators_old; -- drift:engine-only
INSERT INTO case_steps SELECT * FROM case_steps_old; -- drift:engine-only
DROP TABLE case_steps_old; -- drift:engine-only
DROP TABLE case_operators_old; -- drift:engine-only
DROP TABLE cases_old; -- drift:engine-only
