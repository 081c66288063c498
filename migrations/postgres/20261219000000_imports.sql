-- Importing the plan people already keep elsewhere. A person may carry an email address, by
-- which an import from a tracker finds them (one person per address in a tenant, whatever
-- its case); imported records keep the tracker's id (a Jira issue key, a Linear id, a GitHub
-- milestone's address), by which importing again finds them (one record per id in a
-- program).
ALTER TABLE people ADD COLUMN email TEXT;
CREATE UNIQUE INDEX people_email ON people (tenant, lower(email)) WHERE email IS NOT NULL;

ALTER TABLE projects ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX projects_external_id ON projects (program_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE milestones ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX milestones_external_id ON milestones (program_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE dependencies ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX dependencies_external_id ON dependencies (program_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE risks ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX risks_external_id ON risks (program_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE raid_items ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX raid_items_external_id ON raid_items (program_id, kind, external_id) WHERE external_id IS NOT NULL;
