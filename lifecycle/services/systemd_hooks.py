"""What the unit's ``ExecStop=`` and ``ExecStopPost=`` run: ``hermes-lifecycle stop --from-service-manager``.

systemd runs ``ExecStop=`` for its own stops (``systemctl --user stop`` and ``restart``, a
logout without linger, a shutdown) while the main process still lives (``$MAINPID`` set),
and only signals once it returns.  So the hook appends a stop request addressed to
``$MAINPID`` whose actor is the service manager, then waits for the drain: the gateway
exits 0 and the unit ends inactive, not failed.  It never calls ``systemctl``: a stop hook
that asks systemd to stop the unit would wait on its own stop job.

``ExecStopPost=`` runs after the main process is gone, however it ended, with
``$SERVICE_RESULT``, ``$EXIT_CODE`` and ``$EXIT_STATUS``; ``ExecStop=`` runs too, with the same
variables, after a main process that ended by itself.  Either records that end as systemd
saw it (one ``exited`` per invocation, matched to the run whose ``start`` names the same
``$INVOCATION_ID``), then reconciles: a run that vanished with no drain (a watchdog's
SIGABRT, a SIGKILL) becomes ``lost`` at once, its forensics naming systemd's reason.

A SIGTERM from anyone else reaches the gateway with no request: an unplanned stop (exit 1),
which ``Restart=on-failure`` revives.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Mapping

from hermes_lifecycle.errors import HermesError, IllegalTransition
from hermes_lifecycle.identity import ProcessIdentity, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.machine import ALIVE_STATES
from hermes_lifecycle.reconcile import reconcile
from hermes_lifecycle.stop_request import request_stop

if TYPE_CHECKING:
    from hermes_lifecycle.platforms import Platform

ROLE = "service-manager"
#: Beyond the run's drain timeout: the app's close, ``drained``, the exit.
EXIT_MARGIN = 15.0


def from_service_manager(journal: Journal, platform: "Platform", environ: Mapping[str, str]) -> str:
    """Run the hook for the environment systemd gave it; return what was done, in words."""
    done = []
    main = environ.get("MAINPID", "")
    if main.isdigit() and platform.process_create_time(int(main)) is not None:
        done.append(ask_and_wait(journal, platform, int(main), environ))
    if environ.get("EXIT_CODE"):
        done.append(record_end(journal, environ))
    return "; ".join(done) or "nothing to do: no main process and no exit to record"


def _details(environ: Mapping[str, str]) -> dict[str, Any]:
    """What systemd tells its stop hooks about why, as far as it tells."""
    found = {"manager": "systemd"}
    for name, key in (("SERVICE_RESULT", "service_result"), ("INVOCATION_ID", "invocation_id"),
                      ("MAINPID", "main_pid"), ("EXIT_CODE", "exit_how"), ("EXIT_STATUS", "exit_status")):
        if environ.get(name):
            found[key] = environ[name]
    return found


def ask_and_wait(journal: Journal, platform: "Platform", pid: int, environ: Mapping[str, str]) -> str:
    """A planned stop of ``pid``: request it (actor: the service manager), wait for the exit."""
    current = reconcile(journal, actor_role=ROLE)
    created = platform.process_create_time(pid)
    if current.state not in ALIVE_STATES or current.pid != pid or created is None:
        return (f"the log records no live run of main pid {pid} ({current.state}); "
                "systemd's SIGTERM follows (an unplanned stop)")
    limit = _drain_timeout(journal, current.run_id) + EXIT_MARGIN
    try:
        request = request_stop(journal, ProcessIdentity(pid, created), "stop", time.time() + limit, ROLE,
                               idempotency_key=f"stop:{current.run_id}:{pid}", details=_details(environ))
    except IllegalTransition:
        return f"run {current.run_id} ended before the request"
    until = time.monotonic() + limit
    while time.monotonic() < until and platform.process_create_time(pid) is not None:
        platform.sleep_until_exit(pid, min(1.0, max(until - time.monotonic(), 0.01)))
    if platform.process_create_time(pid) is not None:
        return f"stop request seq {request.seq}: pid {pid} still running after {limit:g} s; systemd takes over"
    return f"stop request seq {request.seq}: pid {pid} drained and exited"


def _drain_timeout(journal: Journal, run_id: str | None) -> float:
    from hermes_lifecycle.config import DEFAULT_DRAIN_TIMEOUT, drain_timeout

    for event in journal.events(run_id=run_id, triggers=("start",), limit=1) if run_id else []:
        value = event.data.get("drain_timeout")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    try:
        return drain_timeout(journal.home)
    except HermesError:
        return DEFAULT_DRAIN_TIMEOUT


def record_end(journal: Journal, environ: Mapping[str, str]) -> str:
    """``exited`` as systemd saw it, for the run of this invocation; then reconcile."""
    invocation = environ.get("INVOCATION_ID")
    start = next((e for e in reversed(journal.events(triggers=("start",)))
                  if invocation and e.data.get("service_invocation") == invocation), None)
    if start is None:
        return f"no run of invocation {invocation} in the log: its end is not recorded"
    how, status = environ.get("EXIT_CODE", ""), environ.get("EXIT_STATUS", "")
    by_signal = how in ("killed", "dumped")
    data = {**_details(environ), "exit_code": int(status) if how == "exited" and status.isdigit() else None,
            "signal": ("SIG" + status if status.isalpha() else status) if by_signal else None}
    ended = f"signal {data['signal']}" if by_signal else f"exit code {data['exit_code']}"
    try:
        journal.fire("exited", actor=who(ROLE), run_id=start.run_id, pid=start.pid,
                     reason=f"systemd: {ended}, result {environ.get('SERVICE_RESULT', 'unknown')}",
                     data=data, idempotency_key=f"service-exit:{invocation}")
    except IllegalTransition:
        return f"run {start.run_id}: not recorded"
    reconcile(journal, actor_role=ROLE)
    return f"run {start.run_id} ended by {ended} (systemd result {environ.get('SERVICE_RESULT', 'unknown')})"
