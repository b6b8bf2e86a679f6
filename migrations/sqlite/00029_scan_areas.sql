-- +goose Up
-- Public views per day, county of the code (the first six digits of its
-- region), product and client class (issue 12): the scan log's fold adds a
-- chunk's views here in the transaction that adds them to trace_scans, so
-- the dashboards' "public scans" figure reads a few rows a day instead of
-- joining every code viewed that day with trace_codes once a minute.
-- folded_at: when the row last changed.
CREATE TABLE trace_scan_areas (
    day          TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    product_code TEXT NOT NULL,
    client       TEXT NOT NULL,
    count        BIGINT NOT NULL,
    folded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (day, region_code, product_code, client)
) WITHOUT ROWID; -- drift:engine-only (one B-tree per row)
CREATE INDEX trace_scan_areas_folded ON trace_scan_areas (folded_at);
INSERT INTO trace_scan_areas (day, region_code, product_code, client, count, folded_at)
    SELECT s.day, SUBSTR(c.region_code, 1, 6), c.product_code, s.client, SUM(s.count), MAX(s.last_at)
    FROM trace_scans s JOIN trace_codes c ON c.code = s.code
    GROUP BY s.day, SUBSTR(c.region_code, 1, 6), c.product_code, s.client;

-- +goose Down
DROP TABLE trace_scan_areas;
