-- The append-only lifecycle log and the projection of each stream's current state.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- global order
    stream          TEXT    NOT NULL,                   -- the profile
    version         INTEGER NOT NULL,                   -- 1, 2, 3... per stream
    run_id          TEXT,                               -- the boot this event belongs to
    at              TEXT    NOT NULL,                   -- UTC, ISO 8601 with microseconds
    kind            TEXT    NOT NULL CHECK (kind IN ('transition', 'step')),
    trigger         TEXT    NOT NULL,
    from_state      TEXT    NOT NULL,
    to_state        TEXT    NOT NULL,
    pid             INTEGER,
    actor           TEXT    NOT NULL,
    reason          TEXT,
    data            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    idempotency_key TEXT,
    UNIQUE (stream, version)
);

CREATE UNIQUE INDEX events_idempotency_key ON events (stream, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- History reads walk only transitions, newest first, without scanning the log.
CREATE INDEX events_transitions ON events (stream, seq) WHERE kind = 'transition';

CREATE INDEX events_run ON events (run_id, seq);

CREATE INDEX events_stream_trigger ON events (stream, trigger, seq);

-- Normal operation never rewrites history.
CREATE TRIGGER events_are_append_only BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE streams (
    stream      TEXT PRIMARY KEY,
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    run_id      TEXT,
    pid         INTEGER,
    create_time REAL,
    since       TEXT    NOT NULL,   -- when the current state was entered
    data        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data))
);
