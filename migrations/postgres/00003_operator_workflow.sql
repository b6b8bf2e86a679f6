-- +goose Up
-- Operator workflow: review decisions (signed), proof documents, change
-- requests, rosters (监管名录) with reminders, agreement templates and
-- agreements. Staff accounts are users (role staff, operator_id, permissions).

ALTER TABLE operators ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN phone_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN created_by BIGINT;

-- Every decision on an operator, never updated: who, when, why; approvals
-- carry the SM2 signature of the platform over the canonical payload.
CREATE TABLE operator_decisions (
    id         BIGSERIAL PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    change_id  BIGINT,
    kind       TEXT NOT NULL,   -- submit | approve | reject | change_approve | change_reject | suspend | cancel | reinstate
    reason     TEXT NOT NULL DEFAULT '',
    actor_id   BIGINT REFERENCES users (id),
    actor_name TEXT NOT NULL DEFAULT '',
    at         TIMESTAMPTZ NOT NULL,
    payload    TEXT NOT NULL DEFAULT '',  -- canonical JSON that was signed
    signature  TEXT NOT NULL DEFAULT ''   -- base64 SM2 signature over payload
);
CREATE INDEX operator_decisions_operator ON operator_decisions (operator_id, id);

-- Proof documents; the content lives content-addressed on disk.
CREATE TABLE operator_documents (
    id           BIGSERIAL PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators (id),
    kind         TEXT NOT NULL,  -- licence | id_photo | certificate | other
    filename     TEXT NOT NULL DEFAULT '',
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    uploaded_by  BIGINT REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX operator_documents_operator ON operator_documents (operator_id);

-- Change requests after approval; the approved details stay in force until
-- the change is approved. data is the proposed details as JSON (personal
-- numbers encrypted as in operators).
CREATE TABLE operator_changes (
    id           BIGSERIAL PRIMARY KEY,
    operator_id  BIGINT NOT NULL REFERENCES operators (id),
    status       TEXT NOT NULL,  -- pending | approved | rejected
    data         TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    requested_by BIGINT REFERENCES users (id),
    requested_at TIMESTAMPTZ NOT NULL,
    review_due   TEXT NOT NULL,
    decided_by   BIGINT REFERENCES users (id),
    decided_at   TIMESTAMPTZ
);
CREATE INDEX operator_changes_operator ON operator_changes (operator_id, status);

-- Secrets the platform derives keyed hashes from (stored sealed with the data key).
CREATE TABLE platform_secrets (
    name      TEXT PRIMARY KEY,
    value_enc TEXT NOT NULL
);

-- Township census of operators, registered or not.
CREATE TABLE roster_entries (
    id                 BIGSERIAL PRIMARY KEY,
    region_code        TEXT NOT NULL REFERENCES regions (code), -- township (or county)
    county_code        TEXT NOT NULL,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    credit_code        TEXT NOT NULL DEFAULT '',
    id_number_enc      TEXT NOT NULL DEFAULT '',
    id_number_hash     TEXT NOT NULL DEFAULT '',
    id_number_masked   TEXT NOT NULL DEFAULT '',
    village            TEXT NOT NULL DEFAULT '',
    products           TEXT NOT NULL DEFAULT '[]',
    contact_name       TEXT NOT NULL DEFAULT '',
    phone_enc          TEXT NOT NULL DEFAULT '',
    phone_masked       TEXT NOT NULL DEFAULT '',
    leading_enterprise TEXT,
    demo_cooperative   BOOLEAN NOT NULL DEFAULT FALSE,
    certified          BOOLEAN NOT NULL DEFAULT FALSE,
    operator_id        BIGINT REFERENCES operators (id),
    match_method       TEXT NOT NULL DEFAULT '',  -- credit_code | id_number | confirmed
    matched_by         BIGINT REFERENCES users (id),
    created_by         BIGINT REFERENCES users (id),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX roster_entries_region ON roster_entries (region_code);
CREATE INDEX roster_entries_credit ON roster_entries (credit_code);
CREATE INDEX roster_entries_id_hash ON roster_entries (id_number_hash);
CREATE INDEX roster_entries_operator ON roster_entries (operator_id);

CREATE TABLE roster_reminders (
    id       BIGSERIAL PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES roster_entries (id),
    channel  TEXT NOT NULL DEFAULT '',  -- visit | phone | sms | notice
    note     TEXT NOT NULL DEFAULT '',
    by_user  BIGINT REFERENCES users (id),
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX roster_reminders_entry ON roster_reminders (entry_id);

-- Versioned agreement templates; region_code is the issuing authority's
-- region (000000 for the national template).
CREATE TABLE agreement_templates (
    id          BIGSERIAL PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions (code),
    version     TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  BIGINT REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (region_code, version)
);

CREATE TABLE agreements (
    id           BIGSERIAL PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,
    operator_id  BIGINT NOT NULL REFERENCES operators (id),
    template_id  BIGINT NOT NULL REFERENCES agreement_templates (id),
    version      TEXT NOT NULL,
    title        TEXT NOT NULL,
    department   TEXT NOT NULL,
    body         TEXT NOT NULL,
    text_sm3     TEXT NOT NULL,
    status       TEXT NOT NULL,  -- issued | signed
    issued_by    BIGINT REFERENCES users (id),
    issued_at    TIMESTAMPTZ NOT NULL,
    signed_by    BIGINT REFERENCES users (id),
    signed_at    TIMESTAMPTZ,
    signature    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agreements_operator ON agreements (operator_id);

-- +goose Down
DROP TABLE agreements;
DROP TABLE agreement_templates;
DROP TABLE roster_reminders;
DROP TABLE roster_entries;
DROP TABLE platform_secrets;
DROP TABLE operator_changes;
DROP TABLE operator_documents;
DROP TABLE operator_decisions;
ALTER TABLE operators DROP COLUMN created_by;
ALTER TABLE operators DROP COLUMN phone_hash;
ALTER TABLE operators DROP COLUMN status_reason;
