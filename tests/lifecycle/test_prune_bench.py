"""bench/prune.py measures prune, not a migration nor the spool (a regression of its figures
after the ``lifecycle_`` prefix: 6.4 s, +26 %, 600 MB of peak extra disk)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import prune as prune_bench  # noqa: E402
import status as status_bench  # noqa: E402


def test_a_cached_bench_store_of_older_code_is_built_again(tmp_path: Path) -> None:
    """A cache built before the prefix would be migrated (1M events copied) by the timed command."""
    home = tmp_path / "home-1000"
    home.mkdir()
    legacy = sqlite3.connect(home / "state.db")
    legacy.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   "applied_at TEXT NOT NULL)")
    legacy.executemany("INSERT INTO schema_migrations VALUES (?, ?, '2025-01-01')",
                       [(n, f"m{n}") for n in range(1, 5)])
    legacy.execute("PRAGMA user_version = 4")
    legacy.commit()
    legacy.close()

    assert status_bench.prepared(tmp_path, 1000) == home
    conn = sqlite3.connect(home / "state.db")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    count = conn.execute("SELECT count(*) FROM lifecycle_events").fetchone()[0] if "lifecycle_events" in tables else 0
    conn.close()
    assert "schema_migrations" not in tables and count == 1000


def test_the_bench_counts_the_database_files_not_the_spool(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "state.db")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    database = (tmp_path / "state.db").stat().st_blocks * 512
    (tmp_path / "state.db-spool").write_bytes(b"\1" * 512 * 1024)
    assert prune_bench.disk_used(tmp_path) == database
