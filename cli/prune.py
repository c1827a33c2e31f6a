"""``hermes-lifecycle prune``: remove whole old runs from the log, keeping the current one."""

from __future__ import annotations

from typing import Any

import click

from hermes_lifecycle import Home
from hermes_lifecycle.cli.options import Count
from hermes_lifecycle.cli.output import emit_json


@click.command()
@click.option("--keep-runs", "keep_runs", type=Count(), default=None, metavar="N",
              help="Keep the newest N runs (the current run counts as one) and remove the older ones.")
@click.option("--older-than", "older_than", metavar="DURATION", default=None,
              help="Remove the runs whose last event is older than DURATION (e.g. 30d, 12h).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON shapes).")
@click.pass_obj
def prune(home: Home, keep_runs: int | None, older_than: str | None, dry_run: bool, as_json: bool) -> None:
    """Remove whole old runs, on the record (a `pruned` event with the range), in batches.

    The current run is never touched, and the state stays the fold of what remains.
    Example: hermes-lifecycle prune --keep-runs 50
    """
    from hermes_lifecycle import Journal, UsageError, parse_duration, plan_keep_runs, plan_older_than, prune_runs, who

    if (keep_runs is None) == (older_than is None):
        raise UsageError("give exactly one of --keep-runs N or --older-than DURATION")
    with Journal(home) as journal:
        rule: dict[str, Any]
        if keep_runs is not None:
            rule = {"keep_runs": keep_runs}
            plan = plan_keep_runs(journal.conn, home.profile, keep_runs)
        else:
            seconds = parse_duration(older_than)
            rule = {"older_than": older_than, "older_than_s": seconds}
            plan = plan_older_than(journal.conn, home.profile, seconds)
        event = None
        if plan is not None and not dry_run:
            event = prune_runs(journal, plan, actor=who("controller"), rule=rule)
    if as_json:
        emit_json({"profile": home.profile, "dry_run": dry_run, "rule": rule,
                   "removed": plan.to_json() if plan else None, "pruned_seq": event.seq if event else None})
        return
    if plan is None:
        click.echo("nothing to prune: no run is older than the rule keeps")
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {plan.runs} run(s) ({plan.first_run_id} .. {plan.last_run_id}), {plan.events} events "
               f"(seq {plan.from_seq}-{plan.to_seq}, {plan.from_at} .. {plan.to_at}); "
               f"kept from run {plan.kept_from_run_id}")
