-- +goose Up
-- The scan log (issue 12): every second each instance appends the public
-- views it counted as one row (entries: one line per code, day, client and
-- region: "code<TAB>day<TAB>client<TAB>region<TAB>count<TAB>last unix ns");
-- once a minute it folds its own rows into trace_scans, deleting them in the
-- same transaction (rows of an instance silent for ten minutes are folded
-- by any other). One insert a second instead of an upsert per viewed code.
CREATE TABLE trace_scan_log (
    id      BIGSERIAL PRIMARY KEY,
    owner   TEXT NOT NULL,      -- the instance that counted the views
    at      TIMESTAMPTZ NOT NULL,
    entries TEXT NOT NULL
);
CREATE INDEX trace_scan_log_owner ON trace_scan_log (owner);

-- +goose Down
DROP TABLE trace_scan_log;
