-- Slack request signatures seen inside the 300 s window, so a signed request sent again
-- while its timestamp is still accepted is refused, by every process that shares the
-- database. Rows whose timestamp has left the window are pruned as new ones arrive.
CREATE TABLE slack_replays (
    signature  TEXT PRIMARY KEY,
    signed_at  INTEGER NOT NULL
);
CREATE INDEX slack_replays_by_time ON slack_replays (signed_at);
