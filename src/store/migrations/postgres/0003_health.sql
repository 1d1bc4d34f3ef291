-- Each endpoint's circuit breaker (a JSON document; NULL while it never failed), and until
-- when its deliveries may not be claimed because the breaker is open.
ALTER TABLE endpoints ADD COLUMN health TEXT;
ALTER TABLE endpoints ADD COLUMN paused_until BIGINT;
