-- The rooms list (`GET /v1/apps/{app}/rooms`) is the rooms whose last event is the newest.
CREATE INDEX sequences_recent ON sequences (app, last_at);
