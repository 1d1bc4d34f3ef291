-- Expiring events: a delivery not succeeded by `expires_at` (unix ms) ends `expired` instead
-- of being retried; NULL never expires. Custom event types carry their own default lifetime.
ALTER TABLE deliveries ADD COLUMN expires_at INTEGER;
ALTER TABLE event_types ADD COLUMN ttl_s INTEGER;
