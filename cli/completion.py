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
    from hermes_lifecycle import Home

    found: click.Context | None = ctx
    while found is not None and "profile" not in found.params:
        found = found.parent
    params = found.params if found is not None else {}
    return Home.resolve(params.get("home"), params.get("profile"))


def complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The profiles of the home (read-only: see ``Home.profiles``)."""
    try:
        names = [home.profile for home in _home(ctx).profiles(with_self=False)]
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback into the shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_run_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The profile's run ids, newest first (the last 100 runs)."""
    from hermes_lifecycle import recent_run_ids

    try:
        home = _home(ctx)
        runs = recent_run_ids(home.state_db, home.profile, 100)
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback into the shell
        return []
    return [CompletionItem(run) for run in runs if run.startswith(incomplete)]
