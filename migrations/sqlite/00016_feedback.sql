-- +goose Up
-- User feedback (问题反馈, issue 12): logged-in users of every role report
-- problems and suggestions about the platform itself; administrators triage
-- them (category, status, reply) and read a monthly summary by category and
-- region.
CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL,                   -- the user's role when filed
    region_code TEXT NOT NULL,                   -- the user's region when filed (000000: national accounts)
    category    TEXT NOT NULL CHECK (category IN ('bug', 'usability', 'data', 'suggestion', 'other')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    page        TEXT NOT NULL DEFAULT '',        -- the page the user was on, if given
    status      TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'answered', 'closed')),
    reply       TEXT NOT NULL DEFAULT '',        -- what the user reads
    triaged_by  BIGINT REFERENCES users (id),    -- the administrator who last triaged it
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX feedback_user ON feedback (user_id, created_at);
CREATE INDEX feedback_created ON feedback (created_at);
CREATE INDEX feedback_status ON feedback (status, created_at);

-- +goose Down
DROP TABLE feedback;
