-- The program's rhythm: what runs when, every run of it, and pings put off on purpose.

CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    program_id   INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('prompt', 'reminder', 'digest', 'nudge')),
    spec         TEXT NOT NULL,
    -- Digests only: who it is for, and where it goes (a JSON destination; NULL = the
    -- program's bound channel).
    audience     TEXT,
    destination  TEXT,
    created_at   TEXT NOT NULL,
    created_by   INTEGER REFERENCES people(id)
);
CREATE INDEX schedules_program ON schedules(program_id);

-- One row per (job, scheduled instant): inserting it is the claim, so a slot runs at most
-- once, across restarts and processes.
CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY,
    job           TEXT NOT NULL,
    schedule_id   INTEGER REFERENCES schedules(id) ON DELETE CASCADE,
    scheduled_at  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'skipped')),
    claimed_at    TEXT NOT NULL,
    finished_at   TEXT,
    outcome       TEXT NOT NULL DEFAULT '',
    UNIQUE (job, scheduled_at)
);
CREATE INDEX job_runs_schedule ON job_runs(schedule_id, scheduled_at);

-- "Not now": a dependency or risk whose pings wait until a date.
CREATE TABLE snoozes (
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    until       TEXT NOT NULL,
    by_id       INTEGER REFERENCES people(id),
    reason      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (program_id, subject)
);
