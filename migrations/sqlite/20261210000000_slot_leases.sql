-- Digests and nudges are built outside the write lock: their slot is claimed under a lease
-- (who holds it, and until when, in Unix milliseconds), built, then finished by the same
-- claimant. A lease that ran out on a slot not yet done (its process died) is taken over.
ALTER TABLE job_runs ADD COLUMN claimant TEXT;
ALTER TABLE job_runs ADD COLUMN lease_expires INTEGER;
