-- +goose Up
-- Handling findings (issue 9, work queues): every finding kind — those the
-- trace core records, and later inspections, samples and monitoring rules —
-- goes open → in_progress (taken up by an official, with a due date) →
-- closed (with a note saying what was done); a closed finding can be
-- reopened. Each step is a guarded UPDATE … WHERE status = … plus a row of
-- finding_actions (who, when, what, note) and an audit event.
ALTER TABLE findings ADD COLUMN status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'closed'));
ALTER TABLE findings ADD COLUMN assignee_id BIGINT;
ALTER TABLE findings ADD COLUMN assignee_name TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN due_on TEXT;
ALTER TABLE findings ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN handled_at TIMESTAMP;
CREATE INDEX findings_status ON findings (status, region_code);

CREATE TABLE finding_actions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id  BIGINT NOT NULL REFERENCES findings (id),
    at          TIMESTAMP NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,       -- start | close | reopen
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    due_on      TEXT,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX finding_actions_finding ON finding_actions (finding_id, id);

-- +goose Down
DROP TABLE finding_actions;
DROP INDEX findings_status;
ALTER TABLE findings DROP COLUMN handled_at;
ALTER TABLE findings DROP COLUMN note;
ALTER TABLE findings DROP COLUMN due_on;
ALTER TABLE findings DROP COLUMN assignee_name;
ALTER TABLE findings DROP COLUMN assignee_id;
ALTER TABLE findings DROP COLUMN status;
