"""How long opening a home takes when its schema must change: a new file (the latest schema
replayed from the migrations, then installed), a file hermes-agent made first, and a
pre-prefix home whose log migration 5 copies into the ``lifecycle_`` tables (once per home).

    .venv/bin/python bench/migrate_prefix.py [--events 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hermes_lifecycle.store import open_store  # noqa: E402
from tests.old_homes import create_pre_prefix_schema  # noqa: E402


def pre_prefix_home(path: Path, events: int) -> None:
    """A state.db as the code before the prefix left it, holding ``events`` events."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    create_pre_prefix_schema(conn)
    conn.executemany(
        "INSERT INTO events (stream, version, run_id, at, kind, trigger, from_state, to_state, pid, actor, data) "
        "VALUES ('default', ?, ?, '2026-01-01T00:00:00.000000Z', 'step', 'session_resumed', 'running', "
        "'running', 1, 'bench', '{\"session\": \"chat-1\"}')",
        ((n, f"r-{n // 10:07d}") for n in range(1, events + 1)))
    conn.execute("PRAGMA user_version = 4")
    conn.execute("COMMIT")
    conn.close()


def hermes_agent_first(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL)")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, content TEXT)")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.close()


def timed_open(prepare) -> float:
    with tempfile.TemporaryDirectory(prefix="hermes-bench-migrate-") as folder:
        path = Path(folder) / "state.db"
        prepare(path)
        began = time.perf_counter()
        open_store(path, sync="fast").close()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    cases = {"new file": lambda path: None, "hermes-agent's file": hermes_agent_first,
             f"pre-prefix home, {options.events:,} events": lambda path: pre_prefix_home(path, options.events)}
    for name, prepare in cases.items():
        times = [timed_open(prepare) * 1000 for _ in range(options.repeat)]
        print(f"{name:<36} median {statistics.median(times):8.1f} ms   min {min(times):8.1f}   "
              f"max {max(times):8.1f}   ({options.repeat} runs)")


if __name__ == "__main__":
    main()
