-- +goose Up
-- Pilot performance assessment (绩效考核, issue 14 item 5): one scoring
-- sheet per level (province, prefecture, county) lists indicators from the
-- typed registry in internal/assess with a weight (percent, summing to 100)
-- and a target; an assessment ranks the regions of a level inside a root
-- region for one month, each region scored per indicator with its value
-- and evidence (docs/insight.md, "Performance assessment").
CREATE TABLE assessment_sheets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    level      TEXT NOT NULL UNIQUE CHECK (level IN ('province', 'prefecture', 'county')),
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,    -- raised by every edit (a stale edit is 409)
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- The sheet's indicators in display order; an indicator is a key of the
-- registry (assess.Indicators), its weight a percentage of the total.
CREATE TABLE assessment_sheet_items (
    sheet_id  BIGINT NOT NULL REFERENCES assessment_sheets (id),
    position  INTEGER NOT NULL,
    indicator TEXT NOT NULL,
    weight    REAL NOT NULL,
    target    REAL NOT NULL,
    PRIMARY KEY (sheet_id, indicator)
);

-- One assessment per level, month and root region: computing it again
-- (the monthly job, or on demand) replaces its results.
CREATE TABLE assessments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    level         TEXT NOT NULL,
    period        TEXT NOT NULL,               -- YYYY-MM
    region_code   TEXT NOT NULL,               -- the root: its regions of the level are ranked
    sheet_id      BIGINT NOT NULL REFERENCES assessment_sheets (id),
    sheet_version INTEGER NOT NULL,
    sheet         TEXT NOT NULL,               -- JSON: the indicators, weights and targets applied
    origin        TEXT NOT NULL CHECK (origin IN ('job', 'demand')),
    computed_by   TEXT NOT NULL,
    computed_at   TIMESTAMP NOT NULL,
    figures_as_of TIMESTAMP,                   -- when the aggregates it read were last brought up to date
    regions       INTEGER NOT NULL,
    UNIQUE (level, period, region_code)
);
CREATE INDEX assessments_region ON assessments (region_code, period);

-- Each ranked region: its total (0–100) and place (ties share a place).
CREATE TABLE assessment_results (
    assessment_id BIGINT NOT NULL REFERENCES assessments (id),
    region_code   TEXT NOT NULL,
    name          TEXT NOT NULL,
    rank_no       INTEGER NOT NULL,
    total         REAL NOT NULL,
    PRIMARY KEY (assessment_id, region_code)
);

-- Each region's indicator: what was counted, the value, the score and the
-- evidence (the figure query and the list page behind it, JSON).
CREATE TABLE assessment_scores (
    assessment_id BIGINT NOT NULL REFERENCES assessments (id),
    region_code   TEXT NOT NULL,
    indicator     TEXT NOT NULL,
    numerator     REAL NOT NULL,
    denominator   REAL NOT NULL,
    value         REAL,                        -- NULL: nothing to measure (no records)
    score         REAL NOT NULL,
    applicable    BOOLEAN NOT NULL,            -- false: left out of the total (its weight too)
    evidence      TEXT NOT NULL,
    PRIMARY KEY (assessment_id, region_code, indicator)
);

-- +goose Down
DROP TABLE assessment_scores;
DROP TABLE assessment_results;
DROP INDEX assessments_region;
DROP TABLE assessments;
DROP TABLE assessment_sheet_items;
DROP TABLE assessment_sheets;
