-- +goose NO TRANSACTION
-- +goose Up
-- Recalls decided at the national node (issue 13 item 3, docs/exchange.md
-- "Recalls from the national node"). A province node keeps a copy of a
-- national recall that reaches its batches, so that the batches are held
-- here under it (trace_codes.held_recall) and the holders record what
-- became of them: such a recall has no sample on this node, and its root
-- (the sampled batch) may be another province's code. source_node names
-- the node that decided it ('' for this node's own).
--
-- PostgreSQL changes the columns in place; SQLite rebuilds the table
-- (its file has the reason), outside goose's transaction, so this file
-- runs as one block in its own transaction too.
-- +goose StatementBegin
BEGIN; -- drift:engine-only
ALTER TABLE recalls ALTER COLUMN sample_id DROP NOT NULL; -- drift:engine-only
ALTER TABLE recalls ALTER COLUMN root_code DROP NOT NULL; -- drift:engine-only
ALTER TABLE recalls ADD COLUMN source_node TEXT NOT NULL DEFAULT ''; -- drift:engine-only
COMMIT; -- drift:engine-only
-- +goose StatementEnd

-- +goose Down
ALTER TABLE recalls DROP COLUMN source_node;
