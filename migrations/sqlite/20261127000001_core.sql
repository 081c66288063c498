-- Core program state. Dates are ISO `YYYY-MM-DD` text; instants are RFC 3339 UTC text.
-- Every row belongs to a tenant, directly or through its program.

CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    tenant        TEXT NOT NULL,
    handle        TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    timezone      TEXT,
    away_until    TEXT,
    delegate_id   INTEGER REFERENCES people(id) ON DELETE SET NULL,
    UNIQUE (tenant, handle)
);

CREATE TABLE programs (
    id              INTEGER PRIMARY KEY,
    tenant          TEXT NOT NULL,
    key             TEXT NOT NULL,
    name            TEXT NOT NULL,
    owner_id        INTEGER NOT NULL REFERENCES people(id),
    timezone        TEXT NOT NULL,
    work_days       TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri',
    holidays        TEXT NOT NULL DEFAULT '[]',
    staleness_days  INTEGER NOT NULL DEFAULT 8 CHECK (staleness_days BETWEEN 1 AND 365),
    archived        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    goal            TEXT NOT NULL DEFAULT '',
    scope_in        TEXT NOT NULL DEFAULT '',
    scope_out       TEXT NOT NULL DEFAULT '',
    success_metrics TEXT NOT NULL DEFAULT '',
    stakeholders    TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant, key)
);

CREATE TABLE program_roles (
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    role        TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    PRIMARY KEY (program_id, person_id)
);

CREATE TABLE channel_bindings (
    tenant      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant, channel)
);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    owner_id    INTEGER NOT NULL REFERENCES people(id),
    removed     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (program_id, key)
);

CREATE TABLE milestones (
    id             INTEGER PRIMARY KEY,
    program_id     INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    project_id     INTEGER REFERENCES projects(id),
    key            TEXT NOT NULL,
    title          TEXT NOT NULL,
    owner_id       INTEGER REFERENCES people(id),
    baseline       TEXT NOT NULL,
    target         TEXT NOT NULL,
    duration_days  INTEGER CHECK (duration_days >= 0),
    state          TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'done', 'cancelled')),
    completed_on   TEXT,
    UNIQUE (program_id, key)
);

CREATE TABLE milestone_edges (
    predecessor_id  INTEGER NOT NULL REFERENCES milestones(id) ON DELETE CASCADE,
    successor_id    INTEGER NOT NULL REFERENCES milestones(id) ON DELETE CASCADE,
    PRIMARY KEY (predecessor_id, successor_id),
    CHECK (predecessor_id <> successor_id)
);
CREATE INDEX milestone_edges_successor ON milestone_edges(successor_id);

CREATE TABLE slips (
    id            INTEGER PRIMARY KEY,
    milestone_id  INTEGER NOT NULL REFERENCES milestones(id) ON DELETE CASCADE,
    from_date     TEXT NOT NULL,
    to_date       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    actor_id      INTEGER REFERENCES people(id),
    at            TEXT NOT NULL
);
CREATE INDEX slips_milestone ON slips(milestone_id);

CREATE TABLE dependencies (
    id                  INTEGER PRIMARY KEY,
    program_id          INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    number              INTEGER NOT NULL,
    needs_project_id    INTEGER REFERENCES projects(id),
    needs_milestone_id  INTEGER REFERENCES milestones(id),
    from_project_id     INTEGER REFERENCES projects(id),
    from_milestone_id   INTEGER REFERENCES milestones(id),
    from_external       TEXT,
    what                TEXT NOT NULL,
    need_by             TEXT NOT NULL,
    owner_id            INTEGER REFERENCES people(id),
    state               TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'at-risk', 'blocked', 'delivered')),
    blocked_since       TEXT,
    blocked_reason      TEXT,
    delivered_on        TEXT,
    UNIQUE (program_id, number),
    CHECK ((needs_project_id IS NULL) <> (needs_milestone_id IS NULL)),
    CHECK ((from_project_id IS NOT NULL) + (from_milestone_id IS NOT NULL) + (from_external IS NOT NULL) = 1)
);

CREATE TABLE risks (
    id               INTEGER PRIMARY KEY,
    program_id       INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    project_id       INTEGER REFERENCES projects(id),
    title            TEXT NOT NULL,
    likelihood       INTEGER NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact           INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
    owner_id         INTEGER REFERENCES people(id),
    mitigation       TEXT NOT NULL DEFAULT '',
    customer_impact  TEXT NOT NULL DEFAULT '',
    review_by        TEXT,
    state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'mitigating', 'closed', 'realized')),
    UNIQUE (program_id, number)
);

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    program_id     INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    title          TEXT NOT NULL,
    context        TEXT NOT NULL DEFAULT '',
    options        TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT '',
    decided_by_id  INTEGER REFERENCES people(id),
    decided_on     TEXT NOT NULL,
    UNIQUE (program_id, number)
);

CREATE TABLE status_updates (
    id          INTEGER PRIMARY KEY,
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    rag         TEXT NOT NULL CHECK (rag IN ('green', 'amber', 'red')),
    summary     TEXT NOT NULL,
    blockers    TEXT NOT NULL DEFAULT '',
    next_steps  TEXT NOT NULL DEFAULT '',
    author_id   INTEGER REFERENCES people(id),
    posted_at   TEXT NOT NULL
);
CREATE INDEX status_updates_project ON status_updates(project_id, posted_at);

-- The append-only log of every change.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL,
    program_id  INTEGER REFERENCES programs(id) ON DELETE CASCADE,
    actor_id    INTEGER REFERENCES people(id),
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    before      TEXT,
    after       TEXT
);
CREATE INDEX events_program ON events(program_id, at);

CREATE TRIGGER events_are_append_only BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
