-- Herald's SQLite schema. Times are milliseconds since the Unix epoch.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    preset     TEXT NOT NULL,
    metadata   TEXT NOT NULL,
    ingest     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_app ON api_keys (app_id);

CREATE TABLE event_types (
    app_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    family      TEXT NOT NULL,
    description TEXT NOT NULL,
    schema      TEXT,
    PRIMARY KEY (app_id, name)
);

CREATE TABLE endpoints (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX endpoints_app ON endpoints (app_id, id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL,
    type            TEXT NOT NULL,
    data            TEXT NOT NULL,
    labels          TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    idempotency_key TEXT,
    metadata        TEXT,
    ordering_key    TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_app ON events (app_id, id);
CREATE UNIQUE INDEX events_idempotency ON events (app_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL,
    next_attempt_at INTEGER,
    -- When the dispatcher may next take this delivery: its next attempt, or the end of the
    -- lease held by the process that has it in memory. One column, so the claim query is
    -- a range scan over exactly the claimable rows.
    due_at          INTEGER NOT NULL,
    trigger         TEXT NOT NULL,
    labels          TEXT NOT NULL,
    -- Set for endpoints with per-room ordering: deliveries sharing it go one at a time.
    ordering_key    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_app ON deliveries (app_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, status, created_at);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE status = 'pending';
CREATE INDEX deliveries_ordered ON deliveries (endpoint_id, ordering_key, id)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;

CREATE TABLE attempts (
    id              TEXT PRIMARY KEY,
    delivery_id     TEXT NOT NULL,
    number          INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status_code     INTEGER,
    error_kind      TEXT,
    response_body   TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    trigger         TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
