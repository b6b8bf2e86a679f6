-- +goose Up
-- Trace core: product catalogue, trace codes (batches), the append-only
-- stock ledger, transfers, the trace graph's edges, aliases, certificates,
-- the print log, findings and public scan counts.
--
-- Records are history, not state: trace_codes, stock_moves, trace_edges,
-- transformations, batch_inputs, farming_operations, batch_corrections,
-- trace_aliases, certificates, print_log and findings are only ever
-- inserted. Stock is SUM(stock_moves.delta_milli) per code. The one row
-- that changes is a transfer, exactly once (pending → confirmed | rejected,
-- issued → accepted), by a guarded UPDATE; the facts it records are also
-- written to stock_moves and the audit log in the same transaction.
-- Quantities are BIGINT thousandths of the unit; civil dates are TEXT
-- YYYY-MM-DD in China time.

CREATE TABLE product_categories (
    code        TEXT PRIMARY KEY,        -- path, e.g. planting/fruit
    parent_code TEXT REFERENCES product_categories (code),
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    sort        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE products (
    code          TEXT PRIMARY KEY,      -- stable slug, e.g. apple, live_pig
    category_code TEXT NOT NULL REFERENCES product_categories (code),
    name          TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    units         TEXT NOT NULL,         -- JSON array of unit codes; the first is the default
    schema        TEXT NOT NULL DEFAULT '[]', -- JSON array of extension fields (see internal/trace/catalogue.go)
    certificate   BOOLEAN NOT NULL DEFAULT TRUE, -- a compliance certificate is required when sold
    pilot         BOOLEAN NOT NULL DEFAULT FALSE,
    sort          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX products_category ON products (category_code);

-- A split, merge or transformation: inputs consumed (stock_moves kind
-- consume, ref = id) and outputs produced (kind produce, ref = id).
CREATE TABLE transformations (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,           -- split | merge | transform
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    on_date     TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  BIGINT,
    created_at  TIMESTAMPTZ NOT NULL
);

-- One row per trace code (type 1 production, 2 circulation, 3 market-entry).
-- operator_id is the holder: the producer (1), the buyer (2), the seller
-- that issued the market-entry code (3).
CREATE TABLE trace_codes (
    code              TEXT PRIMARY KEY,
    type              SMALLINT NOT NULL CHECK (type IN (1, 2, 3)),
    operator_id       BIGINT NOT NULL REFERENCES operators (id),
    region_code       TEXT NOT NULL,     -- the holder's region at issue (jurisdiction)
    product_code      TEXT NOT NULL REFERENCES products (code),
    unit              TEXT NOT NULL,
    quantity_milli    BIGINT NOT NULL CHECK (quantity_milli > 0),
    produced_on       TEXT NOT NULL,     -- production / harvest / slaughter date of the goods
    origin            TEXT NOT NULL DEFAULT '',
    attributes        TEXT NOT NULL DEFAULT '{}',
    source            TEXT NOT NULL,     -- record | smallholder | split | merge | transform | transfer | market
    parent_code       TEXT,              -- sold from (2, 3) or split from
    transformation_id BIGINT REFERENCES transformations (id),
    override_reason   TEXT NOT NULL DEFAULT '',
    created_by        BIGINT,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX trace_codes_operator ON trace_codes (operator_id, created_at);
CREATE INDEX trace_codes_region ON trace_codes (region_code, created_at);

-- The ledger: stock of a code = SUM(delta_milli).
CREATE TABLE stock_moves (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL REFERENCES trace_codes (code),
    delta_milli BIGINT NOT NULL,
    kind        TEXT NOT NULL,           -- produce | receive | ship | return | consume | adjust
    ref         TEXT NOT NULL DEFAULT '',-- transfer code, transformation id or correction id
    on_date     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_moves_code ON stock_moves (code, delta_milli);

-- The trace graph. quantity_milli is in the unit of to_code.
CREATE TABLE trace_edges (
    from_code      TEXT NOT NULL REFERENCES trace_codes (code),
    to_code        TEXT NOT NULL REFERENCES trace_codes (code),
    kind           TEXT NOT NULL,        -- transfer | split | merge | transform
    quantity_milli BIGINT NOT NULL,
    PRIMARY KEY (from_code, to_code)
);
CREATE INDEX trace_edges_to ON trace_edges (to_code, from_code);

-- A sale: to a registered operator (kind operator, code type 2) or into a
-- market / processor (kind market, code type 3).
CREATE TABLE transfers (
    code               TEXT PRIMARY KEY REFERENCES trace_codes (code),
    from_code          TEXT NOT NULL REFERENCES trace_codes (code),
    kind               TEXT NOT NULL,    -- operator | market
    seller_operator_id BIGINT NOT NULL REFERENCES operators (id),
    seller_region      TEXT NOT NULL,
    buyer_operator_id  BIGINT REFERENCES operators (id),
    buyer_region       TEXT NOT NULL,    -- the buyer's or the market's region
    market_name        TEXT NOT NULL DEFAULT '',
    market_kind        TEXT NOT NULL DEFAULT '', -- wholesale | retail | processor
    quantity_milli     BIGINT NOT NULL,
    unit               TEXT NOT NULL,
    shipped_on         TEXT NOT NULL,
    status             TEXT NOT NULL,    -- pending | confirmed | rejected | issued | accepted
    received_milli     BIGINT,
    responded_on       TEXT,
    reason             TEXT NOT NULL DEFAULT '',
    created_by         BIGINT,
    created_at         TIMESTAMPTZ NOT NULL,
    responded_by       BIGINT,
    responded_at       TIMESTAMPTZ
);
CREATE INDEX transfers_from ON transfers (from_code);
CREATE INDEX transfers_buyer ON transfers (buyer_operator_id, status);
CREATE INDEX transfers_seller ON transfers (seller_operator_id, created_at);
CREATE INDEX transfers_market ON transfers (buyer_region, status) WHERE kind = 'market';
CREATE INDEX transfers_open ON transfers (shipped_on) WHERE status = 'pending';

-- Inputs used on a batch (投入品) and farming operations (农事操作).
CREATE TABLE batch_inputs (
    id            BIGSERIAL PRIMARY KEY,
    code          TEXT NOT NULL REFERENCES trace_codes (code),
    kind          TEXT NOT NULL,         -- pesticide | fertiliser | feed | vet_drug | fishery_drug | other
    name          TEXT NOT NULL,
    reg_no        TEXT NOT NULL DEFAULT '',
    dose          TEXT NOT NULL DEFAULT '',
    used_on       TEXT NOT NULL,
    interval_days INTEGER NOT NULL DEFAULT 0 -- safety interval / withdrawal period
);
CREATE INDEX batch_inputs_code ON batch_inputs (code);

CREATE TABLE farming_operations (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL REFERENCES trace_codes (code),
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    on_date     TEXT NOT NULL
);
CREATE INDEX farming_operations_code ON farming_operations (code);

-- Corrections: each is a full new version of a batch's recorded facts with
-- a reason; version 1 is the trace_codes row itself.
CREATE TABLE batch_corrections (
    id             BIGSERIAL PRIMARY KEY,
    code           TEXT NOT NULL REFERENCES trace_codes (code),
    version        INTEGER NOT NULL,
    corrects       INTEGER NOT NULL,
    quantity_milli BIGINT NOT NULL,
    produced_on    TEXT NOT NULL,
    origin         TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    created_by     BIGINT,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (code, version)
);

-- Other identifiers that resolve to a code: ear tags, quarantine
-- certificate numbers, GS1 GTIN + lot, provincial codes.
CREATE TABLE trace_aliases (
    scheme     TEXT NOT NULL,            -- ear_tag | quarantine_cert | gs1 | provincial
    value      TEXT NOT NULL,
    code       TEXT NOT NULL REFERENCES trace_codes (code),
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scheme, value)
);
CREATE INDEX trace_aliases_value ON trace_aliases (value);
CREATE INDEX trace_aliases_code ON trace_aliases (code);

-- Compliance certificates (承诺达标合格证), kept at least 2 years.
CREATE TABLE certificates (
    number         TEXT PRIMARY KEY,
    code           TEXT NOT NULL REFERENCES trace_codes (code),
    operator_id    BIGINT NOT NULL REFERENCES operators (id),
    basis          TEXT NOT NULL,        -- control | self_test | commissioned_test
    test_ref       TEXT NOT NULL DEFAULT '',
    quantity_milli BIGINT NOT NULL,
    scope          TEXT NOT NULL,        -- batch | vehicle
    vehicle_plate  TEXT NOT NULL DEFAULT '',
    issued_on      TEXT NOT NULL,
    created_by     BIGINT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX certificates_code ON certificates (code);

-- Every printed document: T trace label, P trace certificate, X market-entry
-- certificate, C compliance certificate (合格证).
CREATE TABLE print_log (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        TEXT NOT NULL DEFAULT '',
    copies      INTEGER NOT NULL DEFAULT 1,
    doc_ref     TEXT NOT NULL DEFAULT '',
    operator_id BIGINT,
    user_id     BIGINT,
    username    TEXT NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX print_log_code ON print_log (code, at);

-- Findings recorded when they happen (over-shipment attempts, quantity
-- mismatches, safety-interval overrides, backward timelines). Unconfirmed
-- transfers are computed when listed (they depend on today).
CREATE TABLE findings (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    code        TEXT NOT NULL,
    operator_id BIGINT,
    region_code TEXT NOT NULL,           -- the operator's region
    region2     TEXT NOT NULL DEFAULT '', -- the counterparty's region (transfers), so both jurisdictions see it
    detail      TEXT NOT NULL DEFAULT '{}',
    on_date     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX findings_region ON findings (region_code, at);
CREATE INDEX findings_region2 ON findings (region2, at);
CREATE INDEX findings_code ON findings (code);

-- Public scans per code and day (for clone detection later).
CREATE TABLE trace_scans (
    code     TEXT NOT NULL,
    day      TEXT NOT NULL,
    count    BIGINT NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, day)
);

-- +goose Down
DROP TABLE trace_scans;
DROP TABLE findings;
DROP TABLE print_log;
DROP TABLE certificates;
DROP TABLE trace_aliases;
DROP TABLE batch_corrections;
DROP TABLE farming_operations;
DROP TABLE batch_inputs;
DROP TABLE transfers;
DROP TABLE trace_edges;
DROP TABLE stock_moves;
DROP TABLE trace_codes;
DROP TABLE transformations;
DROP TABLE products;
DROP TABLE product_categories;
