-- The living plan: dependency agreements (requested → accepted, with a committed date; a
-- proposed date; declined) and cancelled dependencies; risks accepted with a reason; key
-- milestones and the unit of their durations; a project's own holidays; the program's
-- named end milestone. Every existing dependency is accepted; every existing duration
-- stays in calendar days.

ALTER TABLE dependencies DROP CONSTRAINT dependencies_state_check;
ALTER TABLE dependencies ADD CONSTRAINT dependencies_state_check
    CHECK (state IN ('open', 'at-risk', 'blocked', 'delivered', 'cancelled'));
ALTER TABLE dependencies
    ADD COLUMN agreement text NOT NULL DEFAULT 'accepted'
        CHECK (agreement IN ('requested', 'accepted', 'proposed', 'declined')),
    ADD COLUMN committed_on date,
    ADD COLUMN proposed_on date,
    ADD COLUMN agreement_note text,
    ADD COLUMN requested_at timestamptz,
    ADD COLUMN cancel_reason text;

ALTER TABLE risks DROP CONSTRAINT risks_state_check;
ALTER TABLE risks ADD CONSTRAINT risks_state_check
    CHECK (state IN ('open', 'mitigating', 'accepted', 'closed', 'realized'));
ALTER TABLE risks ADD COLUMN accepted_reason text;

ALTER TABLE milestones
    ADD COLUMN key_milestone boolean NOT NULL DEFAULT false,
    ADD COLUMN duration_unit text NOT NULL DEFAULT 'calendar' CHECK (duration_unit IN ('calendar', 'work'));
ALTER TABLE projects ADD COLUMN holidays jsonb NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN end_key text;
