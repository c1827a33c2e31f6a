"""``hermes-lifecycle forensics``: the story of one run, for a person or (``--json``) a script."""

from __future__ import annotations

import click

from hermes_lifecycle import CLI, Home, human, local_at
from hermes_lifecycle.cli.output import emit_json


def _who(requested_by: dict | None) -> str:
    if not requested_by:
        return "an unknown caller"
    if "actor" in requested_by:
        return requested_by["actor"]
    who = f"{requested_by.get('role', '?')} {requested_by.get('user', '?')}@{requested_by.get('host', '?')}"
    who += f" pid {requested_by.get('pid', '?')}"
    argv = requested_by.get("argv")
    return who + (f" ({' '.join(str(a) for a in argv)})" if argv else "")


def _cause_line(cause: dict) -> str:
    kind = cause["kind"]
    if kind == "stop_request":
        line = f"{cause['intent']} requested by {_who(cause['requested_by'])} at {local_at(cause['requested_at'])}"
        if cause["drain_timeout_s"] is not None:
            line += f", drain allowed {human(cause['drain_timeout_s'])}"
        if cause["force"]:
            line += ", --force"
        if cause["signal"]:
            line += f"; signal {cause['signal']} received"
    elif kind in ("signal", "console_close"):
        line = f"{cause['signal']} reached the gateway, no stop request was recorded"
    else:
        line = "nothing recorded: no stop request, no signal"
    return line + (" (while starting)" if cause["during_start"] else "")


def _restart_line(restart: dict) -> str:
    line = restart["restart_id"] or "(no restart id recorded)"
    if restart["linked_by"] == "restart_id":
        return line + f", brought up run {restart['next_run_id']} (its start carries the same restart id)"
    if restart["linked_by"] == "order":
        return line + f", followed by run {restart['next_run_id']} (the first run after it; its start carries no id)"
    return line + ", no run started by this restart is recorded"


def _drain_line(drain: dict | None) -> str:
    if drain is None:
        return "none recorded"
    took = human(drain["duration_s"]) if drain["duration_s"] is not None else "unfinished"
    parts = [f"{took}", f"{drain['sessions_marked']} session(s) marked"]
    if drain["in_flight_count"] is not None:
        parts.append(f"{drain['in_flight_count']} in flight")
    if drain["timed_out"]:
        parts.append(f"timed out, abandoned {drain['abandoned_count']}"
                     + (f": {_work_list(drain['abandoned'])}" if drain["abandoned"] else ""))
    if not drain["completed"]:
        parts.append("never completed")
    return ", ".join(parts)


def _names(items: list) -> str:
    """``s-1, s-2`` or ``none``: a list as words, not a Python list."""
    return ", ".join(str(i) for i in items) if items else "none"


def _work_list(abandoned: list) -> str:
    """Abandoned work as ``session s-1 (reply, 31 s)``, not as the JSON the event carries."""
    words = []
    for work in abandoned:
        if not isinstance(work, dict):
            words.append(str(work))
            continue
        facts = [str(work[k]) for k in ("what",) if work.get(k)]
        if isinstance(work.get("age_s"), (int, float)):
            facts.append(human(work["age_s"]))
        words.append(f"session {work.get('session', '?')}" + (f" ({', '.join(facts)})" if facts else ""))
    return "; ".join(words)


def _print_story(doc: dict) -> None:
    echo = click.echo
    echo(f"run {doc['run_id']} (pid {doc['pid']}) of profile {doc['profile']}: {doc['state']}")
    echo(f"verdict: {doc['verdict']}")
    lasted = f" after {human(doc['duration_s'])}" if doc["duration_s"] is not None else ""
    echo(f"started {local_at(doc['started_at'])}" + (f", ended {local_at(doc['ended_at'])}{lasted} ({doc['end']})"
                                          if doc["ended_at"] else ", not ended"))
    echo("timeline (seconds since start):")
    for e in doc["timeline"]:
        change = f"{e['from']} -> {e['to']}" if e["kind"] == "transition" else ""
        why = f"  {e['reason']}" if e["reason"] else ""
        echo(f"  {e['t_s']:>+10.3f}  {e['trigger']:<22} {change:<22} {e['actor']}{why}")
    if doc["started_by_restart"]:
        echo(f"started by restart {doc['started_by_restart']}")
    echo(f"stop cause: {_cause_line(doc['stop_cause'])}")
    if doc["restart"]:
        echo(f"restart: {_restart_line(doc['restart'])}")
    echo(f"drain: {_drain_line(doc['drain'])}")
    resume = doc["resume"]
    if resume["marked"]:
        outcomes = ", ".join(f"{s['session_id']} {s['outcome']}" for s in resume["sessions"])
        echo(f"sessions marked for resume: {outcomes}")
    if resume["resumed_at_boot"] or resume["abandoned_at_boot"]:
        echo(f"at boot: resumed {_names(resume['resumed_at_boot'])}, parked {_names(resume['abandoned_at_boot'])}")
    for step in doc["escalation"]:
        did = "; ".join(step["done"]) or f"{step['signal'] or ''} pids {_names(step['pids'])}"
        echo(f"escalation +{step['t_s']:.3f} s: {step['step']}: {did}")
    exit_info = doc["exit"]
    if exit_info:
        how = f"signal {exit_info['signal']}" if exit_info["signal"] else f"code {exit_info['code']}"
        echo(f"exit: {how}" + (" (forced after drain)" if exit_info["forced"] else ""))
    life = doc["last_sign_of_life"]
    if life:
        echo(f"last sign of life: {life['trigger']} at {local_at(life['at'])}, "
             f"{human(life['seconds_before_noticed'])} before {life['noticed_by']} noticed")


def _complete_runs(ctx, param, incomplete):
    """Run ids for --run, imported only when the shell asks."""
    from hermes_lifecycle.cli.completion import complete_run_ids

    return complete_run_ids(ctx, param, incomplete)


@click.command()
@click.option("--run", "run_id", metavar="RUN_ID", default=None, help="The run to explain.",
              shell_complete=lambda ctx, param, incomplete: _complete_runs(ctx, param, incomplete))
@click.option("--last", "last", is_flag=True, help="The newest run (the default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README: JSON shapes).")
@click.pass_obj
def forensics(home: Home, run_id: str | None, last: bool, as_json: bool) -> None:
    """Tell the story of one run: timeline, stop cause, drain, resumes, escalation, exit, verdict.

    Read from the event log alone, after recording `lost` if the log says a gateway is
    alive but its process is gone (as `status` does).
    Example: hermes-lifecycle forensics --last --json | jq .verdict
    """
    from hermes_lifecycle import Journal, UsageError, build_story
    from hermes_lifecycle import reconcile_journal as reconcile

    if run_id is not None and not run_id.strip():  # `--run "$RUN"` with RUN unset: not the last run
        raise UsageError(f"--run is empty: give a run id (`{CLI} status --history` lists them) or --last")
    if run_id and last:
        raise UsageError("give either --run RUN_ID or --last, not both")
    with Journal(home) as journal:
        reconcile(journal)
        doc = build_story(journal.conn, home.profile, run_id).to_json()
    if as_json:
        emit_json(doc)
    else:
        _print_story(doc)
