-- Indexes for the lists a support engineer runs, so each is a range scan however large the
-- log grows (see `store::filter`).
--
-- A label lookup goes through a label table: one row per label of each event and of each
-- delivery, in id order within each (app, name, value).
CREATE TABLE event_labels (
    app      TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (app, name, value, event_id)
);
CREATE TABLE delivery_labels (
    app         TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    PRIMARY KEY (app, name, value, delivery_id)
);
INSERT INTO event_labels (app, name, value, event_id)
    SELECT e.app_id, l.key, l.value, e.id FROM events e, jsonb_each_text(e.labels) l;
INSERT INTO delivery_labels (app, name, value, delivery_id)
    SELECT d.app_id, l.key, l.value, d.id FROM deliveries d, jsonb_each_text(d.labels) l;

CREATE INDEX events_type ON events (app_id, type, id);
CREATE INDEX deliveries_status ON deliveries (app_id, status, id);
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id, id);
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, id);
-- Claims go endpoint by endpoint (deliveries_endpoint_due); nothing reads this one.
DROP INDEX deliveries_due;
