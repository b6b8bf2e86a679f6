-- +goose Up
-- Markets as places (issue 9, the market clerk): wholesale and retail
-- markets and processors that take goods in, registered once by the county
-- (or the market's own clerk) so that sellers pick them instead of typing a
-- name. A sale into a registered market records its id besides the name,
-- kind and region it copies (a sale keeps what the market was called then).
CREATE TABLE markets (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,       -- wholesale | retail | processor
    region_code TEXT NOT NULL,       -- county or township
    address     TEXT NOT NULL DEFAULT '',
    created_by  BIGINT,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX markets_region ON markets (region_code);
ALTER TABLE transfers ADD COLUMN market_id BIGINT;

-- +goose Down
ALTER TABLE transfers DROP COLUMN market_id;
DROP TABLE markets;
