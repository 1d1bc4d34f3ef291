-- Indexes for the lists a support engineer runs, so each is a range scan however large the
-- log grows (see `store::filter`).
--
-- A label lookup goes through the label table: one row per label of each event, in event
-- order within each (app, name, value). Deliveries carry their event's labels and are found
-- through their events (deliveries_event).
CREATE TABLE event_labels (
    app   TEXT NOT NULL,
    name  TEXT NOT NULL,
    value TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (app, name, value, event)
);
INSERT INTO event_labels (app, name, value, event)
    SELECT e.app_id, l.key, l.value, e.id FROM events e, jsonb_each_text(e.labels) l;

CREATE INDEX events_type ON events (app_id, type, id);
CREATE INDEX deliveries_status ON deliveries (app_id, status, id);
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id, id);
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, id);
-- Claims go endpoint by endpoint (deliveries_endpoint_due); nothing reads this one.
DROP INDEX deliveries_due;
