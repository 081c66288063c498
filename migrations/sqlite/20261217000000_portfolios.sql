-- Portfolios: a director's programs seen together. A portfolio belongs to one tenant and
-- holds programs of that tenant only, in the order given; its digests are scheduled like a
-- program's, read in the portfolio's timezone.
CREATE TABLE portfolios (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    owner_id    INTEGER NOT NULL REFERENCES people(id),
    timezone    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (tenant, key)
);

CREATE TABLE portfolio_programs (
    portfolio_id  INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    program_id    INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    PRIMARY KEY (portfolio_id, program_id)
);

CREATE INDEX portfolio_programs_program ON portfolio_programs (program_id);

-- A portfolio's digest subscriptions. Their runs are claimed in job_runs under the job
-- name `portfolio-digest:{id}` (schedule_id stays null there).
CREATE TABLE portfolio_schedules (
    id            INTEGER PRIMARY KEY,
    portfolio_id  INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    spec          TEXT NOT NULL,
    audience      TEXT NOT NULL CHECK (audience IN ('engineering', 'executive', 'product')),
    destination   TEXT,
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES people(id)
);

CREATE INDEX portfolio_schedules_portfolio ON portfolio_schedules (portfolio_id);
