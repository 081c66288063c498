-- A program's calendar feed (`/ical/{program}.ics?token=…`): off until someone asks for its
-- token with `program ical-token`, then readable by whoever holds the token. The token is a
-- secret: rotating it replaces it, and the old feed address stops working.
CREATE TABLE ical_feeds (
    program_id  INTEGER PRIMARY KEY REFERENCES programs(id) ON DELETE CASCADE,
    token       TEXT NOT NULL UNIQUE CHECK (length(token) >= 32),
    created_at  TEXT NOT NULL,
    created_by  INTEGER REFERENCES people(id)
);
