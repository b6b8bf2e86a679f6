-- +goose Up
-- Idempotency-Key (issue 9, offline queue): a POST to the API carrying the
-- header is done at most once per account and key. The key row is written
-- inside the request's own write transaction (so a write and its key commit
-- together, and a concurrent duplicate fails on the primary key and rolls
-- back); the answer is stored after, and a retry within 24 hours gets it
-- again instead of writing twice.
CREATE TABLE idempotency_keys (
    actor_id     BIGINT NOT NULL,
    idem_key     TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    status       INTEGER,            -- the stored answer (NULL until it is stored)
    content_type TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (actor_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
