"""Shell completion of the values only the home knows: profiles and run ids.

States and other fixed choices complete from their ``click.Choice``.  Completion runs on
every Tab, so it reads ``state.db`` read-only, never creates or migrates it, and any failure
completes nothing rather than printing a traceback into the shell.
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem

def _home(ctx: click.Context):
    """The home and profile typed so far on the command line (``--home``, ``--profile``)."""
    from hermes_lifecycle.home import Home

    while ctx is not None and "profile" not in ctx.params:
        ctx = ctx.parent
    params = ctx.params if ctx is not None else {}
    return Home.resolve(params.get("home"), params.get("profile") or "default")


def _read_only(home, sql: str, args: tuple = ()) -> list[str]:
    import sqlite3

    if not home.state_db.is_file():
        return []
    conn = sqlite3.connect(f"{home.state_db.as_uri()}?mode=ro", uri=True, timeout=0.2)
    try:
        return [row[0] for row in conn.execute(sql, args) if row[0]]
    finally:
        conn.close()


def complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The profiles of the home that have recorded an event."""
    try:
        names = _read_only(_home(ctx), "SELECT stream FROM streams ORDER BY stream")
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback into the shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_run_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The profile's run ids, newest first (the last 100 runs)."""
    try:
        home = _home(ctx)
        runs = _read_only(home, "SELECT run_id FROM events WHERE stream = ? AND trigger = 'start' "
                                "ORDER BY seq DESC LIMIT 100", (home.profile,))
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback into the shell
        return []
    return [CompletionItem(run) for run in runs if run.startswith(incomplete)]
