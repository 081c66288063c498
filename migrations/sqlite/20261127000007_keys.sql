-- Keys this installation makes for itself, created on first use and kept across restarts:
-- `links` signs the expiring chart URLs that Slack messages carry.
CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    key         BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
