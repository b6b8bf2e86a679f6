-- +goose Up
-- Scan statistics (issue 12): public views per code, day, coarse client
-- class (wechat | alipay | mobile | desktop | tool | other) and the province
-- the viewer chose to share ('' when none). Addresses are never stored.
CREATE TABLE trace_scans_v2 (
    code     TEXT NOT NULL,
    day      TEXT NOT NULL,
    client   TEXT NOT NULL,
    region   TEXT NOT NULL DEFAULT '',
    count    BIGINT NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, day, client, region)
);
INSERT INTO trace_scans_v2 (code, day, client, region, count, last_at)
    SELECT code, day, 'other', '', count, last_at FROM trace_scans;
DROP TABLE trace_scans;
ALTER TABLE trace_scans_v2 RENAME TO trace_scans;
CREATE INDEX trace_scans_day ON trace_scans (day);

-- +goose Down
CREATE TABLE trace_scans_v1 (
    code     TEXT NOT NULL,
    day      TEXT NOT NULL,
    count    BIGINT NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, day)
);
INSERT INTO trace_scans_v1 (code, day, count, last_at)
    SELECT code, day, SUM(count), MAX(last_at) FROM trace_scans GROUP BY code, day;
DROP TABLE trace_scans;
ALTER TABLE trace_scans_v1 RENAME TO trace_scans;
