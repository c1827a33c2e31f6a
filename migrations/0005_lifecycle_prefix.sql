-- Our tables live inside the Hermes home's state.db beside hermes-agent's own (`sessions`,
-- `messages`, `schema_version`, `state_meta`, ...): every table, index and trigger of ours
-- carries the prefix `lifecycle_`, so no name of ours is ever one of hermes-agent's.
-- The pre-prefix tables are copied into the new ones (their rows, ids and AUTOINCREMENT
-- counter kept) and dropped, children first.  A file with no pre-prefix tables never runs
-- this script: the runner installs the latest schema in one step (store/migrate.py).
CREATE TABLE lifecycle_events (
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

CREATE UNIQUE INDEX lifecycle_events_idempotency_key ON lifecycle_events (stream, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- History reads walk only transitions, newest first, without scanning the log.
CREATE INDEX lifecycle_events_transitions ON lifecycle_events (stream, seq) WHERE kind = 'transition';

CREATE INDEX lifecycle_events_run ON lifecycle_events (run_id, seq);

CREATE INDEX lifecycle_events_stream_trigger ON lifecycle_events (stream, trigger, seq);

CREATE TABLE lifecycle_streams (
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

-- Conversations the gateway serves, and their messages: a restart must lose nothing.
-- A session id is unique within its profile (stream), not within the home.
CREATE TABLE lifecycle_sessions (
    id               TEXT    NOT NULL,
    stream           TEXT    NOT NULL,                 -- the profile that serves it
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    resume_pending   INTEGER NOT NULL DEFAULT 0,       -- marked by a drain, cleared by the next boot
    interruptions    INTEGER NOT NULL DEFAULT 0,       -- drains since the last completed turn
    interrupted_runs TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(interrupted_runs)),
    parked           INTEGER NOT NULL DEFAULT 0,       -- interrupted boot after boot: not resumed
    parked_at        TEXT,
    PRIMARY KEY (stream, id)
);

CREATE INDEX lifecycle_sessions_stream ON lifecycle_sessions (stream, resume_pending);

CREATE TABLE lifecycle_messages (
    stream     TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    seq        INTEGER NOT NULL,                       -- 1, 2, 3... per session
    role       TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text       TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    run_id     TEXT,                                   -- the run that stored it
    PRIMARY KEY (stream, session_id, seq),
    FOREIGN KEY (stream, session_id) REFERENCES lifecycle_sessions (stream, id)
);

-- Old runs may be removed only by `hermes gateway prune`, which opens this gate inside its
-- own transaction (one row here while it deletes) and closes it before committing.
CREATE TABLE lifecycle_prune_gate (
    token TEXT PRIMARY KEY   -- the prune operation holding the gate open
);

-- Normal operation never rewrites history.
CREATE TRIGGER lifecycle_events_are_append_only BEFORE UPDATE ON lifecycle_events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER lifecycle_events_are_deleted_only_by_prune BEFORE DELETE ON lifecycle_events
WHEN NOT EXISTS (SELECT 1 FROM lifecycle_prune_gate)
BEGIN
    SELECT RAISE(ABORT, 'events are deleted only by hermes gateway prune');
END;

INSERT INTO lifecycle_events (seq, stream, version, run_id, at, kind, trigger, from_state, to_state, pid,
                              actor, reason, data, idempotency_key)
SELECT seq, stream, version, run_id, at, kind, trigger, from_state, to_state, pid,
       actor, reason, data, idempotency_key
FROM events;

-- Sequence numbers are never reused, even those of events a prune removed.
DELETE FROM sqlite_sequence WHERE name = 'lifecycle_events';

INSERT INTO sqlite_sequence (name, seq) SELECT 'lifecycle_events', seq FROM sqlite_sequence WHERE name = 'events';

INSERT INTO lifecycle_streams (stream, state, version, last_seq, run_id, pid, create_time, since, data)
SELECT stream, state, version, last_seq, run_id, pid, create_time, since, data
FROM streams;

INSERT INTO lifecycle_sessions (id, stream, created_at, updated_at, resume_pending, interruptions,
                                interrupted_runs, parked, parked_at)
SELECT id, stream, created_at, updated_at, resume_pending, interruptions, interrupted_runs, parked, parked_at
FROM sessions;

INSERT INTO lifecycle_messages (stream, session_id, seq, role, text, at, run_id)
SELECT stream, session_id, seq, role, text, at, run_id
FROM messages;

DROP TABLE messages;

DROP TABLE sessions;

DROP TABLE events;

DROP TABLE streams;

DROP TABLE prune_gate;
