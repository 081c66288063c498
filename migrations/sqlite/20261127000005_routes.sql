-- Where a program's prompts, reminders and pings go instead of each person's direct
-- messages: a JSON destination (a Slack incoming webhook, or a channel), for the whole
-- program (project_id NULL) or for one project, which then wins for that project.
CREATE TABLE routes (
    id           INTEGER PRIMARY KEY,
    program_id   INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    project_id   INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    destination  TEXT NOT NULL,
    set_at       TEXT NOT NULL,
    set_by       INTEGER REFERENCES people(id)
);
CREATE UNIQUE INDEX routes_target ON routes(program_id, COALESCE(project_id, 0));
