"""``hermes gateway events``: the raw event log of one profile."""

from __future__ import annotations

import json
import time

import click

from cli.output import SCHEMA_VERSION
from lifecycle.home import Home

FOLLOW_POLL_SECONDS = 0.02


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
@click.option("--since", "since", type=click.IntRange(min=0), default=0, metavar="SEQ",
              help="Only events with a sequence number greater than SEQ.")
@click.option("--follow", is_flag=True,
              help="Keep running and print new events as they are committed (Ctrl+C ends).")
@click.pass_obj
def events(home: Home, as_json: bool, since: int, follow: bool) -> None:
    """Print the profile's events, oldest first: transitions and audited side steps."""
    from lifecycle.journal import Journal
    from store import data_version

    with Journal(home) as journal:
        last = since
        for event in journal.events(after_seq=last):
            _print(event, as_json)
            last = event.seq
        if not follow:
            return
        seen = data_version(journal.conn)
        try:
            while True:
                time.sleep(FOLLOW_POLL_SECONDS)
                now = data_version(journal.conn)
                if now == seen:
                    continue
                seen = now
                for event in journal.events(after_seq=last):
                    _print(event, as_json)
                    last = event.seq
        except KeyboardInterrupt:
            return
