-- Per-room ordering follows `seq`, the order in which deliveries were written, on both
-- backends. Existing rows take their row order.
ALTER TABLE deliveries ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET seq = rowid;
DROP INDEX deliveries_ordered;
CREATE INDEX deliveries_ordered ON deliveries (endpoint_id, ordering_key, seq)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;
