-- +goose Up
-- Complaints (举报, issue 12): the public reports a problem from a scan page
-- or /report; the jurisdiction of the operator (or the region chosen)
-- assigns, replies, closes, or files an enforcement case from it.
CREATE TABLE complaints (
    id            BIGSERIAL PRIMARY KEY,
    ticket        TEXT NOT NULL UNIQUE,            -- JB-<year>-<10 random characters>: the reporter follows it
    category      TEXT NOT NULL CHECK (category IN ('quality', 'counterfeit', 'false_info', 'other')),
    description   TEXT NOT NULL,
    code          TEXT NOT NULL DEFAULT '',        -- the trace code it concerns (as resolved), if any
    typed_code    TEXT NOT NULL DEFAULT '',        -- what was typed when it does not resolve (a suspected counterfeit)
    operator_id   BIGINT REFERENCES operators (id),
    region_code   TEXT NOT NULL,                   -- routed to: the operator's region, else the region chosen
    contact       TEXT NOT NULL DEFAULT '',        -- SM4-GCM encrypted; empty when none was given
    status        TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'replied', 'closed')),
    assignee_id   BIGINT REFERENCES users (id),
    assignee_name TEXT NOT NULL DEFAULT '',
    reply         TEXT NOT NULL DEFAULT '',
    case_id       BIGINT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    closed_at     TIMESTAMP
);
CREATE INDEX complaints_region ON complaints (region_code, status, created_at);
CREATE INDEX complaints_code ON complaints (code);

CREATE TABLE complaint_photos (
    id           BIGSERIAL PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL
);
CREATE INDEX complaint_photos_complaint ON complaint_photos (complaint_id);

-- +goose Down
DROP TABLE complaint_photos;
DROP TABLE complaints;
