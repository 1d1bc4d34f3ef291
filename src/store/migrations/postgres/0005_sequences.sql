-- Room sequences: each event with a room (its ordering key, else its room_id label) is
-- numbered 1, 2, 3, ... per app and room in commit order. `sequences` holds each room's last
-- number and the creation time of its last event, so that numbers never repeat after the
-- events are purged and a room's creation times never go back.
CREATE TABLE sequences (
    app     TEXT NOT NULL,
    key     TEXT NOT NULL,
    last    BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (app, key)
);

ALTER TABLE events ADD COLUMN sequence BIGINT;
ALTER TABLE events ADD COLUMN sequence_key TEXT;
-- The catch-up route reads a room's events by sequence; unique, so a repeat cannot be stored.
CREATE UNIQUE INDEX events_sequence ON events (app_id, sequence_key, sequence)
    WHERE sequence IS NOT NULL;
