-- Share links: a signed, expiring address at which a program's (later also a portfolio's)
-- read-only page opens without signing in. The token names the row's id and expiry and is
-- signed with the installation's link key; the row says what it opens, in which tenant,
-- until when, and whether it was revoked. `subject_id` has no foreign key, so a link can
-- name a program or a portfolio alike; links go with their tenant and with their program.
-- `created_by` is empty for the links digests make for themselves.
CREATE TABLE share_links (
    id              INTEGER PRIMARY KEY,
    tenant          TEXT NOT NULL,
    subject_kind    TEXT NOT NULL CHECK (subject_kind IN ('program', 'portfolio')),
    subject_id      INTEGER NOT NULL,
    created_by      INTEGER REFERENCES people(id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    revoked_at      TEXT,
    last_opened_at  TEXT
);

CREATE INDEX share_links_subject ON share_links (tenant, subject_kind, subject_id);
