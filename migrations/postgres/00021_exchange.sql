-- +goose Up
-- Province ↔ national exchange over NATS JetStream (issue 13, docs/exchange.md).
-- A province node's relay publishes its outbox in id order and marks each
-- row published (outbox.published_at, 00001) only after the stream has
-- acknowledged it. The national node applies what arrives into its own
-- tables (operators, trace_codes …) and keeps here what makes that apply
-- idempotent and traceable to its source.

-- One row per message applied from another node, by the source node and
-- the source's outbox id: a replayed message finds its row and changes nothing.
CREATE TABLE exchange_applied (
    node          TEXT NOT NULL,               -- source node id
    seq           BIGINT NOT NULL,             -- the source node's outbox id
    stream_seq    BIGINT NOT NULL,             -- the JetStream sequence it arrived with
    topic         TEXT NOT NULL,
    resource_type TEXT NOT NULL DEFAULT '',
    resource_id   TEXT NOT NULL DEFAULT '',
    applied_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (node, seq)
);
CREATE INDEX exchange_applied_at ON exchange_applied (applied_at);

-- Which node each replicated record belongs to, and the newest message that
-- wrote it: a record of one node is never overwritten by another node, nor
-- by an older message of its own (a redelivered one). digest is a hash of
-- the record as last applied: a message that carries it unchanged (most
-- carry their operators) writes nothing. written_at is the instant of the
-- transaction that last wrote it, the same as its exchange.apply audit
-- row's: the dashboards' incremental job reaches the records an apply
-- wrote through it.
CREATE TABLE exchange_records (
    kind       TEXT NOT NULL,                  -- operator | trace_code
    record_key TEXT NOT NULL,                  -- operator code | trace code
    node       TEXT NOT NULL,
    first_seq  BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    digest     TEXT NOT NULL DEFAULT '',
    written_at TIMESTAMPTZ,
    PRIMARY KEY (kind, record_key)
);
CREATE INDEX exchange_records_node ON exchange_records (node, kind);
CREATE INDEX exchange_records_written ON exchange_records (written_at);

-- Local ids given to a source node's rows that have no global key.
CREATE TABLE exchange_ids (
    node      TEXT NOT NULL,
    kind      TEXT NOT NULL,                   -- transformation
    source_id BIGINT NOT NULL,
    local_id  BIGINT NOT NULL,
    PRIMARY KEY (node, kind, source_id)
);

-- Cross-node links: a batch recorded on one node that names another node's
-- trace code as where its goods came from (a provincial alias). The edge is
-- written when both codes are here (linked_at); until then the link waits.
CREATE TABLE exchange_links (
    from_code      TEXT NOT NULL,
    to_code        TEXT NOT NULL,
    node           TEXT NOT NULL,              -- the node that declared it
    quantity_milli BIGINT NOT NULL,
    linked_at      TIMESTAMPTZ,
    PRIMARY KEY (from_code, to_code)
);
CREATE INDEX exchange_links_to ON exchange_links (to_code);

-- Messages that failed validation MaxDeliver times: parked with their error
-- (and copied to the dead-letter subject), never blocking the stream; an
-- administrator retries them.
CREATE TABLE exchange_parked (
    id          BIGSERIAL PRIMARY KEY,
    node        TEXT NOT NULL,
    seq         BIGINT NOT NULL,               -- source outbox id (negative: unreadable message, minus its stream sequence)
    stream_seq  BIGINT NOT NULL,
    subject     TEXT NOT NULL,
    topic       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    error       TEXT NOT NULL,
    deliveries  INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('parked', 'applied')),
    retries     INTEGER NOT NULL DEFAULT 0,
    parked_at   TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_by BIGINT,
    UNIQUE (node, seq)
);
CREATE INDEX exchange_parked_status ON exchange_parked (status, id);

-- +goose Down
DROP TABLE exchange_parked;
DROP TABLE exchange_links;
DROP TABLE exchange_ids;
DROP TABLE exchange_records;
DROP TABLE exchange_applied;
