-- +goose Up
-- Public scan pages (issue 12), stored as rendered: a view of a code whose
-- page is stored and current costs one primary-key read instead of the
-- graph walk, the template and the compression. A page is current while
-- its rev equals the code's entry in public_page_revs (0 when absent) and
-- its epoch equals the entry under code '*': every write that changes what
-- a page shows bumps the revs of the codes whose pages it changes, in the
-- writer's transaction (internal/trace/pagestore.go); rare writes that
-- change many pages at once (an operator's name or credit, the catalogue)
-- bump the epoch. The body is raw DEFLATE in two parts around the scan
-- count, which is spliced in per view (docs/public.md).
CREATE TABLE public_pages (
    code     TEXT NOT NULL,
    variant  TEXT NOT NULL,        -- language and verification, e.g. zh-CN.v
    rev      BIGINT NOT NULL,
    epoch    BIGINT NOT NULL,
    etag     TEXT NOT NULL,        -- the facts' fingerprint
    head     BLOB NOT NULL,        -- DEFLATE of the page up to the scan count (sync-flushed)
    head_crc BIGINT NOT NULL,
    head_len BIGINT NOT NULL,
    tail     BLOB NOT NULL,        -- DEFLATE of the rest (final block)
    tail_crc BIGINT NOT NULL,
    tail_len BIGINT NOT NULL,
    PRIMARY KEY (code, variant)
);

CREATE TABLE public_page_revs (
    code TEXT PRIMARY KEY,         -- a trace code, or '*' for the epoch
    rev  BIGINT NOT NULL
) WITHOUT ROWID; -- drift:engine-only (one B-tree descent per lookup)

-- +goose Down
DROP TABLE public_page_revs;
DROP TABLE public_pages;
