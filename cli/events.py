"""``hermes gateway events``: the raw event log of one profile."""

from __future__ import annotations

import json

import click

from hermes_lifecycle import Home
from hermes_lifecycle.cli.output import SCHEMA_VERSION


def _print(event, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **event.to_json()},
                              separators=(",", ":"), default=str))
        return
    change = f"{event.from_state} -> {event.to_state}" if event.is_transition else f"[{event.from_state}]"
    reason = f"  {event.reason}" if event.reason else ""
    data = f"  {json.dumps(event.data, sort_keys=True)}" if event.data else ""
    click.echo(f"{event.seq:>6}  {event.at}  {event.trigger:<22} {change:<22} {event.actor}{reason}{data}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON lines).")
@click.option("--since", "since", type=click.IntRange(min=0, max=2**63 - 1), default=0, metavar="SEQ",
              help="Only events with a sequence number greater than SEQ.")
@click.option("--follow", is_flag=True,
              help="Keep running and print new events as they are committed (Ctrl+C or SIGTERM ends).")
@click.pass_obj
def events(home: Home, as_json: bool, since: int, follow: bool) -> None:
    """Print the profile's events, oldest first: transitions and audited side steps.

    With --follow it keeps running and prints each event within ~10 ms of its commit
    (PRAGMA data_version change detection; the log is never re-read), one JSON line
    each with --json: feed it to a log shipper, or watch a restart live.
    """
    from hermes_lifecycle import Journal

    with Journal(home) as journal:
        if not follow:
            for event in journal.events(after_seq=since):
                _print(event, as_json)
            return
        from hermes_lifecycle import follow_log

        _end_on_sigterm()
        try:
            for event in follow_log(journal.conn, home.profile, since):
                _print(event, as_json)
        except (KeyboardInterrupt, BrokenPipeError):
            _quiet_stdout()


def _end_on_sigterm() -> None:
    """SIGTERM (a container or a supervisor stopping the shipper) ends the follow like Ctrl+C."""
    import signal

    def _interrupt(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)


def _quiet_stdout() -> None:
    """After the reader went away, make the interpreter's final flush a no-op, not a traceback."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
