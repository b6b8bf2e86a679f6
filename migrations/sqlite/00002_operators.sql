-- +goose Up
-- Operators (生产经营者): the registered producers and traders. Personal
-- numbers are stored encrypted (SM4-GCM) with a keyed hash for matching.

CREATE TABLE operators (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    code               TEXT UNIQUE,          -- 18-digit operator code, issued on approval (or at once for temporary codes)
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,        -- enterprise | cooperative | family_farm | slaughterhouse | individual
    category           TEXT NOT NULL,        -- producer | trader | producer_trader | input_supplier | temporary
    credit_code        TEXT UNIQUE,          -- USCC, NULL for individuals
    id_number_enc      TEXT NOT NULL DEFAULT '',
    id_number_hash     TEXT NOT NULL DEFAULT '',
    id_number_masked   TEXT NOT NULL DEFAULT '',
    legal_rep          TEXT NOT NULL DEFAULT '',
    contact_name       TEXT NOT NULL DEFAULT '',
    phone_enc          TEXT NOT NULL DEFAULT '',
    phone_masked       TEXT NOT NULL DEFAULT '',
    region_code        TEXT NOT NULL REFERENCES regions (code),
    county_code        TEXT NOT NULL,
    address            TEXT NOT NULL DEFAULT '',
    lat                DOUBLE PRECISION,
    lng                DOUBLE PRECISION,
    products           TEXT NOT NULL DEFAULT '[]',  -- JSON array of names or catalogue codes
    annual_output      DOUBLE PRECISION,
    annual_output_unit TEXT NOT NULL DEFAULT '',
    leading_enterprise TEXT,                 -- national | provincial | municipal | NULL
    demo_cooperative   BOOLEAN NOT NULL DEFAULT FALSE,
    certifications     TEXT NOT NULL DEFAULT '[]',  -- JSON array of {kind, number, valid_until}
    status             TEXT NOT NULL,        -- draft | pending | approved | rejected | suspended | cancelled
    owner_user_id      BIGINT REFERENCES users (id),
    submitted_at       TIMESTAMP,
    review_due         TEXT,                 -- YYYY-MM-DD, submission + 5 working days
    approved_at        TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX operators_region ON operators (region_code);
CREATE INDEX operators_county_status ON operators (county_code, status);
CREATE INDEX operators_id_hash ON operators (id_number_hash);

-- +goose Down
DROP TABLE operators;
