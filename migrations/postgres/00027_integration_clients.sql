-- +goose Up
-- Integration clients (issue 13, item 6): each integration token has its
-- own rate, requests a minute and a burst, set by an administrator (0: the
-- default, auth.DefaultClientRate), and every request an integration token
-- makes is logged: buffered in memory, written in batches about once a
-- second (auth.CallLog), kept 90 days. docs/security.md, "Integration clients".
ALTER TABLE sessions ADD COLUMN rate_per_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;

CREATE TABLE integration_calls (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL,  -- the integration account
    token_id      TEXT NOT NULL,    -- the token's id (first hex digits of its hash)
    at            TIMESTAMPTZ NOT NULL,
    day           TEXT NOT NULL,    -- the civil date in China time, for per-day counts
    method        TEXT NOT NULL,
    route         TEXT NOT NULL,    -- the route pattern, e.g. POST /api/v1/batches
    status        INTEGER NOT NULL,
    rows_out      INTEGER NOT NULL, -- items a list answered (-1: not a list)
    operator_code TEXT NOT NULL,    -- Agtrace-Operator of a push ('' otherwise)
    ms            INTEGER NOT NULL  -- how long the answer took
);
CREATE INDEX integration_calls_user ON integration_calls (user_id, id);
CREATE INDEX integration_calls_day ON integration_calls (user_id, day);
CREATE INDEX integration_calls_at ON integration_calls (at);

-- +goose Down
DROP TABLE integration_calls;
ALTER TABLE sessions DROP COLUMN rate_burst;
ALTER TABLE sessions DROP COLUMN rate_per_minute;
