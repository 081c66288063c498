-- What waits on a milestone: `milestone move` asks before it loads the schedule. Edges are
-- already indexed by predecessor through their primary key.
CREATE INDEX dependencies_from_milestone ON dependencies(from_milestone_id);
