-- +goose Up
-- Early warning (预警, issue 14 item 3): rules over the pre-aggregated
-- figures (stat_daily) per county and product raise warnings for the
-- officials of the county. The rules are data (internal/insight/warnrules.go);
-- each warning keeps the evidence it was raised on (the series, the
-- baseline, the threshold and the statistic) as JSON, and its handling
-- (open → acknowledged → closed / dismissed, with a note) — docs/insight.md.
CREATE TABLE warnings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    rule         TEXT NOT NULL,                -- the rule's key (failure_rate, transfer_surge …)
    region_code  TEXT NOT NULL,                -- the county (6 digits)
    product_code TEXT NOT NULL DEFAULT '',     -- '' for rules over every product
    window_from  TEXT NOT NULL,                -- the recent window evaluated, YYYY-MM-DD (China)
    window_to    TEXT NOT NULL,
    statistic    DOUBLE PRECISION NOT NULL,    -- what the rule computed (a p-value, a count)
    threshold    DOUBLE PRECISION NOT NULL,    -- what it was compared with
    evidence     TEXT NOT NULL,                -- JSON: series, baseline, threshold, parameters
    status       TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed', 'dismissed')),
    note         TEXT NOT NULL DEFAULT '',     -- the last handling note
    raised_at    TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
-- one active warning per rule, county and product: evaluations never raise
-- it twice while it is open or acknowledged (also under concurrent runs)
CREATE UNIQUE INDEX warnings_active ON warnings (rule, region_code, product_code) WHERE status IN ('open', 'acknowledged');
CREATE INDEX warnings_region ON warnings (region_code, status);
CREATE INDEX warnings_raised ON warnings (raised_at);

-- The handling history of a warning: every status it was given, by whom, why.
CREATE TABLE warning_steps (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id BIGINT NOT NULL REFERENCES warnings (id),
    status     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    user_id    BIGINT REFERENCES users (id),   -- NULL: the platform (the evaluation job)
    user_name  TEXT NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX warning_steps_warning ON warning_steps (warning_id, id);

-- A rule's parameter set for a region (the nearest ancestor's applies;
-- without any, the rule's default): like monitor_settings, one row per
-- parameter (window, baseline, alpha, min_events, enabled …).
CREATE TABLE warning_settings (
    region_code TEXT NOT NULL,                 -- 000000 = national
    rule        TEXT NOT NULL,
    param       TEXT NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (region_code, rule, param)
);

-- +goose Down
DROP TABLE warning_settings;
DROP TABLE warning_steps;
DROP TABLE warnings;
