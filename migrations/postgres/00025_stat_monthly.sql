-- +goose Up
-- Monthly roll-up of stat_daily (issue 14: a province's dashboard over a
-- year reads twelve rows per county, product and key instead of 365). Kept
-- by the same job in the same transaction: whenever a figure's days are
-- recomputed, the months holding them are summed again from stat_daily, so
-- stat_monthly always equals stat_daily grouped by month
-- (docs/insight.md, "Reading: months and days"). Each month also has
-- rows with product_code and sub '*': the month summed over products and
-- sub-keys, which a request without a product that does not group by
-- product or kind reads instead (a few rows per county and key).
CREATE TABLE stat_monthly (
    figure       TEXT NOT NULL,
    region_code  TEXT NOT NULL,            -- the county (6 digits)
    month        TEXT NOT NULL,            -- YYYY-MM, China time
    product_code TEXT NOT NULL DEFAULT '',
    key          TEXT NOT NULL,
    sub          TEXT NOT NULL DEFAULT '',
    value        BIGINT NOT NULL,
    PRIMARY KEY (figure, region_code, month, product_code, key, sub)
);
INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
SELECT figure, region_code, SUBSTR(day, 1, 7), product_code, key, sub, SUM(value) FROM stat_daily
GROUP BY figure, region_code, SUBSTR(day, 1, 7), product_code, key, sub;
INSERT INTO stat_monthly (figure, region_code, month, product_code, key, sub, value)
SELECT figure, region_code, month, '*', key, '*', SUM(value) FROM stat_monthly
GROUP BY figure, region_code, month, key;

-- +goose Down
DROP TABLE stat_monthly;
