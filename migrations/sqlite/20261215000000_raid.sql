-- The rest of the RAID log: assumptions, issues and action items, numbered per program and
-- kind. One table, since they share their shape: a one-line title, an owner, a project, a
-- date (validate-by or due), a state, an issue's severity, a note, and what an action is
-- for or which risk an issue came from. Pending decisions get a decider and a date.

CREATE TABLE raid_items (
    id           INTEGER PRIMARY KEY,
    program_id   INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('assumption', 'issue', 'action')),
    number       INTEGER NOT NULL,
    project_id   INTEGER REFERENCES projects(id),
    title        TEXT NOT NULL,
    owner_id     INTEGER REFERENCES people(id),
    due          TEXT,
    state        TEXT NOT NULL CHECK (state IN ('open', 'validated', 'invalidated', 'resolved', 'done')),
    severity     TEXT CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    note         TEXT NOT NULL DEFAULT '',
    link_kind    TEXT CHECK (link_kind IN ('decision', 'risk', 'issue', 'dep', 'assumption')),
    link_number  INTEGER,
    created_at   TEXT NOT NULL,
    closed_on    TEXT,
    UNIQUE (program_id, kind, number)
);

CREATE INDEX raid_items_owner ON raid_items (owner_id, state);

ALTER TABLE decisions ADD COLUMN decider_id INTEGER REFERENCES people(id);
ALTER TABLE decisions ADD COLUMN decide_by TEXT;

-- Change requests: a proposed change of scope or schedule with its reason and the moves it
-- implies; approving one applies the moves as slips and logs a decision.
CREATE TABLE change_requests (
    id               INTEGER PRIMARY KEY,
    program_id       INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    title            TEXT NOT NULL,
    why              TEXT NOT NULL,
    moves            TEXT NOT NULL DEFAULT '[]',
    scope_out        TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'rejected')),
    decider_id       INTEGER REFERENCES people(id),
    proposed_by_id   INTEGER REFERENCES people(id),
    rebaseline       INTEGER NOT NULL DEFAULT 0,
    reason           TEXT NOT NULL DEFAULT '',
    decision_number  INTEGER,
    created_at       TEXT NOT NULL,
    decided_at       TEXT,
    UNIQUE (program_id, number)
);
