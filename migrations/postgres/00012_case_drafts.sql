-- +goose Up
-- Draft cases (issue 11 meets issue 10): a failed sample opens a draft
-- enforcement case (案源, status draft) in the sampled operator's county,
-- which an enforcer files (立案) or declines with a reason. The only change
-- is the status CHECK: PostgreSQL swaps the constraint; SQLite cannot alter
-- a CHECK, so it rebuilds cases and the two tables that reference it, with
-- every row and id kept (inside goose's transaction, foreign keys on).
ALTER TABLE cases DROP CONSTRAINT cases_status_check; -- drift:engine-only
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('draft', 'filed', 'investigated', 'decided', 'follow_up', 'closed')); -- drift:engine-only

-- +goose Down
DELETE FROM case_steps WHERE case_id IN (SELECT id FROM cases WHERE status = 'draft');
DELETE FROM case_operators WHERE case_id IN (SELECT id FROM cases WHERE status = 'draft');
DELETE FROM cases WHERE status = 'draft';
ALTER TABLE cases DROP CONSTRAINT cases_status_check; -- drift:engine-only
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('filed', 'investigated', 'decided', 'follow_up', 'closed')); -- drift:engine-only
