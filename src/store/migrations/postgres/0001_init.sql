-- Herald's PostgreSQL schema. Times are milliseconds since the Unix epoch, as in SQLite, so
-- both backends share one notion of time.

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
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
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
    enabled    BOOLEAN NOT NULL,
    doc        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX endpoints_app ON endpoints (app_id, id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL,
    type            TEXT NOT NULL,
    data            TEXT NOT NULL,
    labels          JSONB NOT NULL,
    occurred_at     BIGINT NOT NULL,
    idempotency_key TEXT,
    metadata        TEXT,
    ordering_key    TEXT,
    created_at      BIGINT NOT NULL
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
    next_attempt_at BIGINT,
    -- When a dispatcher may next take this delivery: its creation or its next attempt.
    due_at          BIGINT NOT NULL,
    -- The process holding it (a row of nodes); NULL when any process may claim it.
    lease_owner     TEXT,
    trigger         TEXT NOT NULL,
    labels          JSONB NOT NULL,
    ordering_key    TEXT,
    -- Insertion order across every process: per-room ordering follows it, because ids minted
    -- by different processes in the same millisecond need not sort in publish order.
    seq             BIGINT GENERATED ALWAYS AS IDENTITY,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX deliveries_app ON deliveries (app_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, status, created_at);
CREATE INDEX deliveries_due ON deliveries (due_at)
    WHERE status = 'pending' AND lease_owner IS NULL;
CREATE INDEX deliveries_leased ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX deliveries_ordered ON deliveries (endpoint_id, ordering_key, seq)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;

CREATE TABLE attempts (
    id              TEXT PRIMARY KEY,
    delivery_id     TEXT NOT NULL,
    number          INTEGER NOT NULL,
    started_at      BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    status_code     INTEGER,
    error_kind      TEXT,
    response_body   TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    trigger         TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

-- The dispatcher processes and how long each is known to be alive; their heartbeat keeps
-- every lease they hold.
CREATE TABLE nodes (
    owner       TEXT PRIMARY KEY,
    alive_until BIGINT NOT NULL
);
