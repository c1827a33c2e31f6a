-- Conversations the gateway serves, and their messages: a restart must lose nothing.
CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    stream           TEXT    NOT NULL,                 -- the profile that serves it
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    resume_pending   INTEGER NOT NULL DEFAULT 0,       -- marked by a drain, cleared by the next boot
    interruptions    INTEGER NOT NULL DEFAULT 0,       -- drains since the last completed turn
    interrupted_runs TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(interrupted_runs)),
    parked           INTEGER NOT NULL DEFAULT 0,       -- interrupted boot after boot: not resumed
    parked_at        TEXT
);

CREATE INDEX sessions_stream ON sessions (stream, resume_pending);

CREATE TABLE messages (
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    seq        INTEGER NOT NULL,                       -- 1, 2, 3... per session
    role       TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text       TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    run_id     TEXT,                                   -- the run that stored it
    PRIMARY KEY (session_id, seq)
);
