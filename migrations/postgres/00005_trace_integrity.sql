-- +goose Up
-- Trace integrity (docs/architecture.md, "Integrity rules"): plausible
-- transformation yields as data, refused over-shipment attempts, and the
-- issuer's choice to print the contact on a compliance certificate.

-- Plausible yield of a transformation per input → output pair: the output
-- amount divided by the input amount, both in the basis unit (kg: by weight,
-- L: by volume), in thousandths. A key is a product code or a leaf category
-- code (containing '/'); product pairs win over category pairs. Seeded from
-- internal/trace/integrity.go (missing rows only: edited rows are kept).
CREATE TABLE yield_rules (
    input_key  TEXT NOT NULL,
    output_key TEXT NOT NULL,
    basis      TEXT NOT NULL DEFAULT 'kg' CHECK (basis IN ('kg', 'L')),
    min_milli  BIGINT NOT NULL CHECK (min_milli >= 0),
    max_milli  BIGINT NOT NULL CHECK (max_milli > 0),
    note       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (input_key, output_key),
    CHECK (max_milli >= min_milli)
);

-- Every refused attempt to ship or consume more than a code's stock. An
-- attempt becomes an over_shipment finding only when repeated on the same
-- code within 24 hours or far above the stock (finding_id names it).
CREATE TABLE refused_attempts (
    id              BIGSERIAL PRIMARY KEY,
    code            TEXT NOT NULL,
    operator_id     BIGINT,
    region_code     TEXT NOT NULL,
    operation       TEXT NOT NULL,       -- sell | split | merge | transform | correct
    requested_milli BIGINT NOT NULL,
    available_milli BIGINT NOT NULL,
    finding_id      BIGINT,
    on_date         TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX refused_attempts_code ON refused_attempts (code, at);

-- The issuer chose to print its contact phone in full on the certificate
-- (masked otherwise; public pages always mask it).
ALTER TABLE certificates ADD COLUMN show_contact BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE certificates DROP COLUMN show_contact;
DROP TABLE refused_attempts;
DROP TABLE yield_rules;
