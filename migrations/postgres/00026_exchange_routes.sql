-- +goose Up
-- Cross-province sales (issue 13 item 4, docs/exchange.md "Sales across
-- provinces"). The national node routes a sale recorded on one province
-- node to the buyer's node, and the buyer's answer back to the seller's;
-- a route is taken once per code and step (a redelivered or re-sent
-- message finds its row and routes nothing again). The route itself is an
-- exchange.route event in the national node's outbox, published to the
-- target node's subject by the national node's relay.
CREATE TABLE exchange_routes (
    code      TEXT NOT NULL,                   -- the trace code the sale issued
    step      TEXT NOT NULL,                   -- sale | answer
    from_node TEXT NOT NULL,                   -- the node whose message caused it
    to_node   TEXT NOT NULL,                   -- the node it is sent to
    routed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, step)
);

-- The province nodes the national node has heard from: reference data it
-- publishes (the holiday calendar, residue limits) goes to each of them,
-- and a node heard from for the first time is sent the calendar.
CREATE TABLE exchange_nodes (
    node       TEXT PRIMARY KEY,
    first_seen TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE exchange_nodes;
DROP TABLE exchange_routes;
