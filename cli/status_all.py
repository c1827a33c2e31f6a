"""``status --all``: every profile of a home, one line each (as ``supervisorctl status``)."""

from __future__ import annotations

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.output import emit_json, use_colour


def _profile_row(profile: Home) -> dict:
    """One profile's state, checked against the process table like ``status`` does."""
    from hermes_lifecycle import ALIVE_STATES, Journal, StatusUnknown
    from hermes_lifecycle.cli.status_codes import reading_state, status_exit

    row = {"profile": profile.profile, "state": None, "pid": None, "run_id": None, "since": None,
           "port": None, "exit_code": 4, "error": None}
    try:
        with reading_state(), Journal(profile) as journal:
            current = journal.state()
            if current.state in ALIVE_STATES:
                from hermes_lifecycle import reconcile_journal as reconcile

                current = reconcile(journal)
    except StatusUnknown as exc:
        row["error"] = str(exc)
        return row
    row.update(state=current.state, pid=current.pid, run_id=current.run_id, since=current.since,
               port=current.port, exit_code=status_exit(current.state))
    return row


def status_all(home: Home, as_json: bool) -> int:
    """Print every profile's state; return the worst exit code among them."""
    from hermes_lifecycle import local_at
    from hermes_lifecycle.cli.status import paint
    from hermes_lifecycle.cli.status_codes import worst

    rows = [_profile_row(profile) for profile in home.profiles()]
    code = worst([row["exit_code"] for row in rows])
    for row in rows:  # a state that cannot be read is a diagnostic: one line each on stderr
        if row["error"]:
            click.echo(f"{CLI}: {row['error']}", err=True)
    if as_json:
        emit_json({"home": str(home.root), "profiles": rows, "exit_code": code})
        return code
    if not rows:
        click.echo(f"no profile has recorded an event in {home.root} yet")
        return code
    colour = use_colour()
    width = max(len(row["profile"]) for row in rows)
    for row in rows:
        state = row["state"] or "unknown"
        facts = [f"pid {row['pid']}" if row["pid"] is not None else "",
                 f"port {row['port']}" if row["port"] is not None else "",
                 f"since {local_at(row['since'])}" if row["since"] else "",
                 f"run {row['run_id']}" if row["run_id"] else "", "(cannot tell: see stderr)" if row["error"] else ""]
        click.echo(f"{row['profile']:<{width}}  {paint(f'{state:<8}', state, colour)}  "
                   + "  ".join(f for f in facts if f))
    return code
