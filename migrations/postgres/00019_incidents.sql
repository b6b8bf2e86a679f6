-- +goose Up
-- Emergency command (应急指挥, issue 14 item 4): an incident declared from a
-- failed sample's recall, a warning, a complaint (cluster) or by hand. Its
-- affected batches are the source batches and everything made or sold from
-- them (the trace graph's downstream walk), each with a state from
-- unresolved to resolved; tasks assigned to county officials track the
-- work. The incident resolves when every affected batch is resolved and no
-- task is still open. The timeline is read from audit_log (resource
-- 'incident'), so there is no events table (docs/insight.md).
CREATE TABLE incidents (
    id            BIGSERIAL PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,            -- YJ-<year>-<5 digits>
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    source_kind   TEXT NOT NULL CHECK (source_kind IN ('recall', 'warning', 'complaint', 'manual')),
    source_id     BIGINT,                          -- the recall, warning or complaint (NULL when declared by hand)
    region_code   TEXT NOT NULL,                   -- the jurisdiction that declared it
    product_code  TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    declared_by   BIGINT REFERENCES users (id),
    declared_name TEXT NOT NULL,
    declared_at   TIMESTAMPTZ NOT NULL,
    resolved_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX incidents_source ON incidents (source_kind, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX incidents_region ON incidents (region_code, status);

-- The affected batches: depth 0 are the source batches (where the walk
-- starts), the others were reached from them. Holder, region and quantities
-- are those when the batch joined the incident; the page reads current
-- stock from the trace records.
CREATE TABLE incident_batches (
    incident_id    BIGINT NOT NULL REFERENCES incidents (id),
    code           TEXT NOT NULL,
    depth          INTEGER NOT NULL,
    operator_id    BIGINT NOT NULL,
    region_code    TEXT NOT NULL,                  -- where the goods are (a market entry: the market's region)
    quantity_milli BIGINT NOT NULL,
    stock_milli    BIGINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('unresolved', 'sealed', 'destroyed', 'released', 'cleared')),
    note           TEXT NOT NULL DEFAULT '',
    updated_by     TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMPTZ,
    PRIMARY KEY (incident_id, code)
);
CREATE INDEX incident_batches_region ON incident_batches (region_code, incident_id);

CREATE TABLE incident_tasks (
    id            BIGSERIAL PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    kind          TEXT NOT NULL CHECK (kind IN ('check', 'seal', 'sample', 'report')),
    batch_code    TEXT NOT NULL DEFAULT '',        -- the affected batch it is about ('' = the incident as a whole)
    region_code   TEXT NOT NULL,                   -- the assignee's jurisdiction when assigned
    assignee_id   BIGINT NOT NULL REFERENCES users (id),
    assignee_name TEXT NOT NULL,
    instructions  TEXT NOT NULL DEFAULT '',
    due_at        TIMESTAMPTZ NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cannot_complete')),
    report        TEXT NOT NULL DEFAULT '',        -- what the assignee reported back
    assigned_by   TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id, status);
CREATE INDEX incident_tasks_assignee ON incident_tasks (assignee_id, status);

-- +goose Down
DROP TABLE incident_tasks;
DROP TABLE incident_batches;
DROP TABLE incidents;
