-- The living plan: dependency agreements (requested → accepted, with a committed date; a
-- proposed date; declined) and cancelled dependencies; risks accepted with a reason; key
-- milestones and the unit of their durations; a project's own holidays; the program's
-- named end milestone. SQLite cannot change a CHECK in place, so `dependencies` and
-- `risks` are rebuilt with their rows (nothing references either table). Every existing
-- dependency is accepted; every existing duration stays in calendar days.

CREATE TABLE dependencies_new (
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
    state               TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'at-risk', 'blocked', 'delivered', 'cancelled')),
    blocked_since       TEXT,
    blocked_reason      TEXT,
    delivered_on        TEXT,
    agreement           TEXT NOT NULL DEFAULT 'accepted' CHECK (agreement IN ('requested', 'accepted', 'proposed', 'declined')),
    committed_on        TEXT,
    proposed_on         TEXT,
    agreement_note      TEXT,
    requested_at        TEXT,
    cancel_reason       TEXT,
    UNIQUE (program_id, number),
    CHECK ((needs_project_id IS NULL) <> (needs_milestone_id IS NULL)),
    CHECK ((from_project_id IS NOT NULL) + (from_milestone_id IS NOT NULL) + (from_external IS NOT NULL) = 1)
);
INSERT INTO dependencies_new (id, program_id, number, needs_project_id, needs_milestone_id,
    from_project_id, from_milestone_id, from_external, what, need_by, owner_id, state,
    blocked_since, blocked_reason, delivered_on)
SELECT id, program_id, number, needs_project_id, needs_milestone_id, from_project_id,
    from_milestone_id, from_external, what, need_by, owner_id, state, blocked_since,
    blocked_reason, delivered_on
FROM dependencies;
DROP TABLE dependencies;
ALTER TABLE dependencies_new RENAME TO dependencies;
CREATE INDEX dependencies_from_milestone ON dependencies(from_milestone_id);

CREATE TABLE risks_new (
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
    state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'mitigating', 'accepted', 'closed', 'realized')),
    accepted_reason  TEXT,
    UNIQUE (program_id, number)
);
INSERT INTO risks_new (id, program_id, number, project_id, title, likelihood, impact,
    owner_id, mitigation, customer_impact, review_by, state)
SELECT id, program_id, number, project_id, title, likelihood, impact, owner_id, mitigation,
    customer_impact, review_by, state
FROM risks;
DROP TABLE risks;
ALTER TABLE risks_new RENAME TO risks;

ALTER TABLE milestones ADD COLUMN key_milestone INTEGER NOT NULL DEFAULT 0 CHECK (key_milestone IN (0, 1));
ALTER TABLE milestones ADD COLUMN duration_unit TEXT NOT NULL DEFAULT 'calendar' CHECK (duration_unit IN ('calendar', 'work'));
ALTER TABLE projects ADD COLUMN holidays TEXT NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN end_key TEXT;
