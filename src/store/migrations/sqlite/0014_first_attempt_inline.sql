-- A delivery's first attempt, when it changed the delivery (almost always: it succeeded),
-- is kept in the delivery's own row, written by the same update that records its outcome.
-- The common case then writes no row of `attempts` and none of its two indexes. Retries,
-- and attempts that came under a lapsed lease, are rows of `attempts` as before; the log
-- reads both (store::sqlite::deliveries).
ALTER TABLE deliveries ADD COLUMN a1_id TEXT;
ALTER TABLE deliveries ADD COLUMN a1_started_at INTEGER;
ALTER TABLE deliveries ADD COLUMN a1_duration_ms INTEGER;
ALTER TABLE deliveries ADD COLUMN a1_status_code INTEGER;
ALTER TABLE deliveries ADD COLUMN a1_error_kind TEXT;
ALTER TABLE deliveries ADD COLUMN a1_response_body TEXT;
ALTER TABLE deliveries ADD COLUMN a1_request_headers TEXT;
ALTER TABLE deliveries ADD COLUMN a1_trigger TEXT;
