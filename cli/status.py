"""``hermes-lifecycle status``: the current state, how the last run ended, and the runs that led here.

The read path stays light: no ``transitions``, ``sqlite_utils`` or ``psutil`` for a gateway
at rest, and every query is a bounded index walk (see ``bench/status_history.py``).
"""

from __future__ import annotations

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.options import Count
from hermes_lifecycle.cli.output import emit_json, use_colour

DEFAULT_HISTORY = 20

_COLOURS = {"stopped": "green", "running": "green", "starting": "cyan", "draining": "yellow",
            "killed": "red", "crashed": "red"}


def _transition_json(event) -> dict:
    return {
        "seq": event.seq,
        "at": event.at,
        "from": event.from_state,
        "to": event.to_state,
        "trigger": event.trigger,
        "run_id": event.run_id,
        "actor": event.actor,
        "reason": event.reason,
    }


#: Ends that are failures whatever state they leave: a failed start rests in `stopped`, but is not green.
FAILED_ENDS = frozenset({"start_failed", "kill", "lost"})
#: Ways a run ended (verdict.ending) that were planned: the rest are painted as failures.
PLANNED_ENDINGS = frozenset({"planned_stop", "planned_restart", "alive"})


def paint(text: str, state: str, colour: bool, trigger: str | None = None) -> str:
    """``text`` in the colour of ``state``; red when ``trigger`` is a failure (start_failed, kill, lost)."""
    if not colour:
        return text
    if trigger in FAILED_ENDS:
        return click.style(text, fg="red", bold=True)
    return click.style(text, fg=_COLOURS.get(state), bold=state in ("killed", "crashed"))


def _last_shutdown(conn, stream: str) -> dict | None:
    from hermes_lifecycle import build_story, last_ended_run_id

    run_id = last_ended_run_id(conn, stream)
    if run_id is None:
        return None
    from hermes_lifecycle import ending, verdict

    story = build_story(conn, stream, run_id)
    end = story.end
    return {"run_id": run_id, "ended_at": end.at, "end": end.trigger, "ending": ending(story),
            "verdict": verdict(story)}


def _print_history(runs, colour: bool) -> None:
    from hermes_lifecycle import human, local_at

    if not runs:
        click.echo("history: no transitions recorded yet")
        return
    click.echo("history (oldest first, grouped by run):")
    for run in runs:
        took = run.duration_s()
        lasted = f"{human(took)}" if took is not None else "earlier events not shown"
        end = f"ended by {run.end.trigger}" if run.end else "not ended"
        end += f", started by restart {run.started_by_restart}" if run.started_by_restart else ""
        end += f", stopped by restart {run.ended_by_restart}" if run.ended_by_restart else ""
        click.echo(paint(f"  run {run.run_id}: {run.state}, {lasted}, {end}", run.state, colour,
                         run.end.trigger if run.end else None))
        for e in run.transitions:
            who = e.actor.split(" ")[0]
            why = f"  {e.reason}" if e.reason else ""
            click.echo(f"    {e.seq:>6}  {local_at(e.at)}  {e.from_state:>8} -> "
                       f"{paint(f'{e.to_state:<8}', e.to_state, colour, e.trigger)}  {e.trigger:<12} {who}{why}")


def _strays(home: Home, current) -> list:
    """Gateway processes of this profile the log does not know (see lifecycle/controller/discovery.py)."""
    from hermes_lifecycle import find_strays

    return find_strays(home, current)


@click.command()
@click.option("--history", is_flag=True, help="Also show the transitions that led here, grouped by run.")
@click.option("-n", "limit", type=Count(), default=DEFAULT_HISTORY, show_default=True,
              help="How many transitions --history shows (the newest).")
@click.option("--since", "since", metavar="WHEN", default=None,
              help="With --history: only transitions since WHEN (a duration back from now such as "
                   "2h, 1h30m or PT90M, or a time such as 2026-11-26T12:00:00Z; without a zone, local "
                   "time), still at most -n of them: raise -n to see a busy day whole.")
@click.option("--all", "every_profile", is_flag=True,
              help="Every profile of the home, one line each (with --json: one object per profile).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def status(home: Home, history: bool, limit: int, since: str | None, every_profile: bool, as_json: bool) -> None:
    """Show the gateway's state: stopped, starting, running, draining, killed or crashed.

    A state that says a process is alive is checked against the process table first;
    a gateway that vanished is recorded as `lost` and shown as crashed.  Also shows how
    the last run ended, sessions waiting for resume, and warnings about patterns
    (crash loops, restarts that never came back, runs with no shutdown).

    Exit codes (as systemctl and LSB): 0 running (or starting, draining); 1 crashed;
    3 not running (stopped, killed); 4 cannot tell (the state database is unreadable).
    With --all: the worst of the profiles' codes (4, then 1, then 3, then 0).
    """
    from hermes_lifecycle.cli.status_codes import reading_state, status_exit

    if every_profile:
        if history or since is not None:
            from hermes_lifecycle import UsageError

            raise UsageError("--all shows one line per profile; --history and --since show one profile's runs")
        from hermes_lifecycle.cli.status_all import status_all

        with reading_state():
            code = status_all(home, as_json)
        click.get_current_context().exit(code)
    with reading_state():
        state = _status(home, history, limit, since, as_json)
    click.get_current_context().exit(status_exit(state))


def _status(home: Home, history: bool, limit: int, since: str | None, as_json: bool) -> str:
    """Print one profile's status; return its state."""
    from hermes_lifecycle import (
        Journal,
        count_resume_pending,
        group_by_run,
        local_at,
        service_status_json,
        service_status_lines,
    )
    from hermes_lifecycle import pattern_counts as counts
    from hermes_lifecycle import pattern_warnings as warnings

    cutoff = None
    if since is not None:
        from hermes_lifecycle import UsageError, format_at, parse_since

        if not history:
            raise UsageError(f"--since narrows --history: use `{CLI} status --history --since WHEN`")

        cutoff = format_at(parse_since(since))
    with Journal(home) as journal:
        current = journal.state()
        from hermes_lifecycle import ALIVE_STATES

        if current.state in ALIVE_STATES:
            from hermes_lifecycle import reconcile_journal as reconcile

            current = reconcile(journal)
        transitions = journal.recent_transitions(limit) if history else []
        if cutoff is not None:
            transitions = [e for e in transitions if e.at >= cutoff]
        conn = journal.conn
        last_shutdown = _last_shutdown(conn, home.profile)
        pending = count_resume_pending(conn, home.profile)
        found_warnings = warnings(conn, home.profile, current)
        window_counts = counts(conn, home.profile) if as_json else None
        log_behind = None
        if journal.spool is not None and journal.spool.fingerprint()[2]:  # events wait in the spool
            from hermes_lifecycle import spool_behind

            log_behind = spool_behind(journal)
    if current.state in ("running", "draining"):  # only a live gateway beats
        from hermes_lifecycle import stalled_loop_warning

        stalled = stalled_loop_warning(home, current)
        if stalled is not None:
            found_warnings.append(stalled)
    runs = group_by_run(transitions)
    strays = _strays(home, current)

    if as_json:
        document = {
            "profile": home.profile,
            "state": current.state,
            "pid": current.pid,
            "run_id": current.run_id,
            "since": current.since,
            "port": current.port,
            "version": current.version,
            "last_shutdown": last_shutdown,
            "resume_pending_sessions": pending,
            "counts": window_counts,
            "warnings": found_warnings,
            "strays": [s.to_json() for s in strays],
            "service": service_status_json(home),
            "log_behind": log_behind,
        }
        if history:
            document["history"] = [_transition_json(e) for e in transitions]
            document["runs"] = [r.to_json() for r in runs]
        emit_json(document)
        return current.state

    colour = use_colour()
    facts = []
    if current.pid is not None:
        facts.append(f"pid {current.pid}")
    if current.port is not None:
        facts.append(f"port {current.port}")
    detail = f" ({', '.join(facts)})" if facts else ""
    since_text = f" since {local_at(current.since)}" if current.since else ""
    click.echo(f"gateway {home.profile}: {paint(current.state, current.state, colour)}{detail}{since_text}")
    if current.run_id:
        click.echo(f"run: {current.run_id}")
    if last_shutdown:
        line = (f"last shutdown: {last_shutdown['verdict']} (run {last_shutdown['run_id']}, "
                f"{local_at(last_shutdown['ended_at'])})")
        planned = last_shutdown["ending"] in PLANNED_ENDINGS
        click.echo(click.style(line, fg="green" if planned else "red") if colour else line)
    if pending:
        click.echo(f"sessions waiting for resume: {pending}")
    if log_behind:
        click.echo(f"log behind: {log_behind['events']} event(s) since {log_behind['since']} wait in "
                   f"{log_behind['spool']} ({log_behind['why']}); they land in state.db, in order and with "
                   "their times, at its next write")
    for stray in strays:
        click.echo(f"stray gateway process: pid {stray.pid} (not in the log; `{CLI} stop --strays` takes it)")
    for warning in found_warnings:
        text = f"warning: {warning['message']}; see `{warning['command']}`"
        click.echo(click.style(text, fg="yellow") if colour else text)
    for line in service_status_lines(home):
        click.echo(line)
    if history:
        _print_history(runs, colour)
    return current.state
