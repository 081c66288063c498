-- Tenants that left: `drumbeat tenant purge` removes everything of a tenant, its event log
-- included, and records here that it did, when, and how many rows of each table went. The
-- record names the tenant and nothing of what it held.
CREATE TABLE tenant_purges (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL,
    purged_at   TEXT NOT NULL,
    removed     TEXT NOT NULL CHECK (json_valid(removed))
);
