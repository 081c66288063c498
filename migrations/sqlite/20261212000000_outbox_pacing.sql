-- Per-destination pacing shared by every delivery worker: the earliest instant the next
-- message to a paced destination (a Slack incoming webhook: one a second) may go, moved on
-- by the claim that takes a message for it. Tenant indexes serve `drumbeat tenant purge`.
CREATE TABLE outbox_pacing (
    destination  TEXT PRIMARY KEY,
    next_at      TEXT NOT NULL
);
CREATE INDEX events_tenant ON events(tenant);
CREATE INDEX outbox_tenant ON outbox(tenant);
