-- +goose Up
-- Analysis and decision (分析决策, issue 14): pre-aggregated figures for the
-- dashboards. One row per figure, county, product, day, key and sub-key
-- holds a count; the figures themselves are defined as data in
-- internal/insight/figures.go. An incremental job recomputes the (figure,
-- day) rows touched by the audit rows written since its watermark; a rebuild
-- recomputes everything from the raw records (docs/insight.md).
CREATE TABLE stat_daily (
    figure       TEXT NOT NULL,
    region_code  TEXT NOT NULL,            -- the county (6 digits)
    day          TEXT NOT NULL,            -- YYYY-MM-DD, China time
    product_code TEXT NOT NULL DEFAULT '', -- '' when the figure has no product
    key          TEXT NOT NULL,            -- e.g. a status
    sub          TEXT NOT NULL DEFAULT '', -- a second key (finding kind, case violation, scan client …)
    value        BIGINT NOT NULL,
    PRIMARY KEY (figure, region_code, day, product_code, key, sub)
);
CREATE INDEX stat_daily_day ON stat_daily (figure, day);

-- The incremental job's position: the last audit_log id it has folded in,
-- and (for figures fed by tables that emit no events, such as public scans)
-- when it last ran.
CREATE TABLE stat_watermark (
    name     TEXT PRIMARY KEY,
    audit_id BIGINT NOT NULL,
    ran_at   TIMESTAMP NOT NULL,
    rebuilt  BOOLEAN NOT NULL DEFAULT FALSE
);

-- The day columns the job recomputes by (the raw tables' own indexes are by
-- region or operator first).
CREATE INDEX trace_codes_created ON trace_codes (created_at);
CREATE INDEX transfers_created ON transfers (created_at);
CREATE INDEX findings_on_date ON findings (on_date);
CREATE INDEX certificates_issued ON certificates (issued_on);
CREATE INDEX samples_sampled ON samples (sampled_on);
CREATE INDEX inspections_on_date ON inspections (on_date);

-- +goose Down
DROP INDEX inspections_on_date;
DROP INDEX samples_sampled;
DROP INDEX certificates_issued;
DROP INDEX findings_on_date;
DROP INDEX transfers_created;
DROP INDEX trace_codes_created;
DROP TABLE stat_watermark;
DROP TABLE stat_daily;
