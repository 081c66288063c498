-- Launch readiness: a checklist of what must be true before a milestone ships, numbered per
-- program. An item may name its milestone (or stand for the program's launch), an owner and
-- a due date; checking it records who and when, unchecking clears both.
CREATE TABLE readiness_items (
    id             INTEGER PRIMARY KEY,
    program_id     INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    milestone_id   INTEGER REFERENCES milestones(id),
    title          TEXT NOT NULL,
    owner_id       INTEGER REFERENCES people(id),
    due            TEXT,
    checked_on     TEXT,
    checked_by_id  INTEGER REFERENCES people(id),
    created_at     TEXT NOT NULL,
    UNIQUE (program_id, number)
);

-- The TPM's summary for a period, which leads the next digest of that audience.
CREATE TABLE digest_notes (
    id          INTEGER PRIMARY KEY,
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    audience    TEXT NOT NULL CHECK (audience IN ('engineering', 'executive', 'product')),
    body        TEXT NOT NULL,
    author_id   INTEGER REFERENCES people(id),
    written_at  TEXT NOT NULL
);

CREATE INDEX digest_notes_program ON digest_notes (program_id, audience, written_at);

-- The program's health as each digest found it, one per day: what the next executive
-- digest compares with ("RED, was AMBER").
CREATE TABLE health_marks (
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    rag         TEXT NOT NULL CHECK (rag IN ('green', 'amber', 'red')),
    PRIMARY KEY (program_id, day)
);
