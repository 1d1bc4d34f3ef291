-- Polling endpoints: a delivery is numbered for its endpoint's consumer when a poll first
-- serves it (see store::poll); the consumer's cursor is such a number.
ALTER TABLE deliveries ADD COLUMN poll_number BIGINT;
CREATE UNIQUE INDEX deliveries_poll ON deliveries (endpoint_id, poll_number)
    WHERE poll_number IS NOT NULL;
