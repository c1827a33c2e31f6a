"""``hermes-lifecycle events``: the raw event log of one profile."""

from __future__ import annotations

import json

import click

from hermes_lifecycle import Home
from hermes_lifecycle.cli.options import Count, When
from hermes_lifecycle.cli.output import SCHEMA_VERSION


def _print(event, as_json: bool, width: int | None) -> None:
    if as_json:
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, **event.to_json()},
                              separators=(",", ":"), default=str))
        return
    from hermes_lifecycle import local_at
    from hermes_lifecycle.cli.terminal import fit

    change = f"{event.from_state} -> {event.to_state}" if event.is_transition else f"[{event.from_state}]"
    reason = f"  {event.reason}" if event.reason else ""
    data = f"  {_data_text(event.data)}" if event.data else ""
    click.echo(fit(f"{event.seq:>6}  {local_at(event.at)}  {event.trigger:<22} {change:<22} "
                   f"{event.actor}{reason}{data}", width))


def _data_text(data: dict, prefix: str = "") -> str:
    """An event's data as ``key=value`` words (nested keys dotted: ``requested_by.user=alice``),
    never a JSON blob or a Python repr; ``--json`` has it whole."""
    words = []
    for key, value in sorted(data.items()):
        if isinstance(value, dict) and value:
            words.append(_data_text(value, f"{prefix}{key}."))
        else:
            words.append(f"{prefix}{key}={_value_text(value)}")
    return " ".join(words)


def _value_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "none" if not value else " ".join(f"{k}:{_value_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(_value_text(v) for v in value) if value else "none"
    return str(value)


def _complete_runs(ctx, param, incomplete):
    """Run ids for --run, imported only when the shell asks (events stays light)."""
    from hermes_lifecycle.cli.completion import complete_run_ids

    return complete_run_ids(ctx, param, incomplete)


class _Filter:
    """What ``--run``, ``--trigger``, ``--since`` and ``--until`` keep, for the log and for --follow alike."""

    def __init__(self, run_id: str | None, triggers: tuple[str, ...], since, until) -> None:
        from hermes_lifecycle import format_at

        self.run_id = run_id
        self.triggers = frozenset(triggers)
        self.since = format_at(since) if since is not None else None
        self.until = format_at(until) if until is not None else None

    def keeps(self, event) -> bool:
        return ((self.run_id is None or event.run_id == self.run_id)
                and (not self.triggers or event.trigger in self.triggers)
                and (self.since is None or event.at >= self.since)
                and (self.until is None or event.at <= self.until))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON lines).")
@click.option("-n", "--lines", "lines", type=Count(min=0), default=None, metavar="N",
              help="Only the newest N events (with --follow: the newest N, then new ones).")
@click.option("--run", "run_id", metavar="RUN_ID", default=None, help="Only the events of this run.",
              shell_complete=lambda ctx, param, incomplete: _complete_runs(ctx, param, incomplete))
@click.option("--trigger", "triggers", metavar="NAME", multiple=True,
              help="Only events with this trigger (repeat for several: --trigger drain --trigger kill).")
@click.option("--since", "since", type=When(), default=None, metavar="WHEN",
              help="Only events at or after WHEN: a duration back (2h, 1h30m, PT90M) or a time "
                   "(2026-11-26T12:00:00Z; without a zone, local time).")
@click.option("--until", "until", type=When(), default=None, metavar="WHEN",
              help="Only events at or before WHEN (as --since).")
@click.option("--after-seq", "after_seq", type=Count(min=0), default=0, metavar="SEQ",
              help="Only events with a sequence number greater than SEQ.")
@click.option("--follow", "-f", "follow", is_flag=True,
              help="Keep running and print new events as they are committed (Ctrl+C or SIGTERM ends).")
@click.pass_obj
def events(home: Home, as_json: bool, lines: int | None, run_id: str | None, triggers: tuple[str, ...],
           since, until, after_seq: int, follow: bool) -> None:
    """Print the profile's events, oldest first: transitions and audited side steps.

    Filters combine (all must hold) and work with --follow and --json, as journalctl's do.
    Human lines show local time and are cut to the terminal's width; --json has every event whole,
    times in UTC.  With --follow it keeps running and prints each event within ~10 ms of its
    commit (PRAGMA data_version change detection; the log is never re-read): feed it to a log
    shipper, or watch a restart live.
    """
    from hermes_lifecycle import Journal
    from hermes_lifecycle.cli.terminal import end_on_sigterm, quiet_stdout, width_for

    keep = _Filter(run_id, triggers, since, until)
    width = None if as_json else width_for()
    with Journal(home) as journal:
        found = [e for e in journal.events(after_seq=after_seq, run_id=run_id, triggers=triggers or None)
                 if keep.keeps(e)]
        last_seen = max([after_seq, *(e.seq for e in found)])
        if follow:
            from hermes_lifecycle import last_seq

            last_seen = max(last_seen, last_seq(journal.conn))
        for event in found[-lines:] if lines is not None and lines > 0 else ([] if lines == 0 else found):
            _print(event, as_json, width)
        if not follow:
            return
        from hermes_lifecycle import follow_log

        end_on_sigterm()
        try:
            for event in follow_log(journal.conn, home.profile, last_seen):
                if keep.keeps(event):
                    _print(event, as_json, width)
        except (KeyboardInterrupt, BrokenPipeError):
            quiet_stdout()
