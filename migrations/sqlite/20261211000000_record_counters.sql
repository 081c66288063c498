-- Record numbers (dependencies, risks, decisions) come from one counter per program and
-- kind, raised in the same statement that reads it, so two writers never take one number
-- (max(number) + 1 would give both the same).
CREATE TABLE record_counters (
    program_id INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (program_id, kind)
);

INSERT INTO record_counters (program_id, kind, last)
    SELECT program_id, 'dependency', max(number) FROM dependencies GROUP BY program_id;
INSERT INTO record_counters (program_id, kind, last)
    SELECT program_id, 'risk', max(number) FROM risks GROUP BY program_id;
INSERT INTO record_counters (program_id, kind, last)
    SELECT program_id, 'decision', max(number) FROM decisions GROUP BY program_id;
