-- A session id is unique within its profile, not within the home: two profiles' apps may use
-- the same id (a chat id) without one profile creating, marking, resuming or reading the
-- other's conversation.  Rebuilt tables (SQLite cannot change a primary key in place);
-- children first, so no foreign key ever points at a dropped table.
CREATE TABLE sessions_by_profile (
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

INSERT INTO sessions_by_profile (id, stream, created_at, updated_at, resume_pending, interruptions,
                                 interrupted_runs, parked, parked_at)
SELECT id, stream, created_at, updated_at, resume_pending, interruptions, interrupted_runs, parked, parked_at
FROM sessions;

CREATE TABLE messages_by_profile (
    stream     TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    seq        INTEGER NOT NULL,                       -- 1, 2, 3... per session
    role       TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text       TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    run_id     TEXT,                                   -- the run that stored it
    PRIMARY KEY (stream, session_id, seq),
    FOREIGN KEY (stream, session_id) REFERENCES sessions_by_profile (stream, id)
);

INSERT INTO messages_by_profile (stream, session_id, seq, role, text, at, run_id)
SELECT s.stream, m.session_id, m.seq, m.role, m.text, m.at, m.run_id
FROM messages m JOIN sessions s ON s.id = m.session_id;

DROP TABLE messages;

DROP TABLE sessions;

ALTER TABLE sessions_by_profile RENAME TO sessions;

ALTER TABLE messages_by_profile RENAME TO messages;

CREATE INDEX sessions_stream ON sessions (stream, resume_pending);
