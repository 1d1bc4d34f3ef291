-- Verified endpoints: an endpoint whose URL has not passed verification keeps its
-- deliveries waiting; claims skip it. Endpoints from before verification need none.
ALTER TABLE endpoints ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
