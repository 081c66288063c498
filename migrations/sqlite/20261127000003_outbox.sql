-- The durable outbox: every outbound message, written in the same transaction as the change
-- that caused it, then delivered by the worker with retries. Instants are RFC 3339 UTC text.

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    tenant           TEXT NOT NULL,
    program_id       INTEGER REFERENCES programs(id) ON DELETE CASCADE,
    -- A JSON `Destination`, and the JSON `Reply` to render for it.
    destination      TEXT NOT NULL,
    reply            TEXT NOT NULL,
    -- Why it was sent and how to stop it, shown to the reader.
    reason           TEXT NOT NULL,
    -- One logical message is queued once, even if the job that queues it runs twice.
    dedup_key        TEXT,
    -- Unique per row and short enough for Discord's 25-character nonce.
    nonce            TEXT NOT NULL UNIQUE CHECK (length(nonce) BETWEEN 1 AND 25),
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- How many of the reply's rendered parts were delivered: a retry resumes after them.
    parts_sent       INTEGER NOT NULL DEFAULT 0 CHECK (parts_sent >= 0),
    next_attempt_at  TEXT NOT NULL,
    claimed_at       TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);

CREATE UNIQUE INDEX outbox_dedup ON outbox(tenant, dedup_key) WHERE dedup_key IS NOT NULL;
-- The worker's question: which pending rows are due, oldest first.
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE state = 'pending';
-- Claims a crashed process left behind.
CREATE INDEX outbox_claimed ON outbox(claimed_at) WHERE state = 'sending';
CREATE INDEX outbox_program ON outbox(program_id, id);
