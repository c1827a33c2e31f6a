"""``hermes-lifecycle run``: boot, serve until a shutdown cause arrives, drain, exit.

This module only sequences the parts: :mod:`boot` (lock, ``start``), the app
(:mod:`app`), :mod:`sessions` (resume), :mod:`watcher` and :mod:`shutdown`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from hermes_lifecycle.config import GatewayConfig, drain_timeout, load_config
from hermes_lifecycle.errors import USER_ERRORS, ConfigError, GatewayError, IllegalTransition
from hermes_lifecycle.exit_codes import GatewayExit
from hermes_lifecycle.heartbeat import Heartbeat
from hermes_lifecycle.home import Home
from hermes_lifecycle.identity import ProcessIdentity, own_identity, who
from hermes_lifecycle.journal import Journal
from hermes_lifecycle.platforms import Platform, current_platform
from hermes_lifecycle.reconcile import reconcile
from hermes_lifecycle.runtime.app import GatewayApp, RuntimeContext, load_app
from hermes_lifecycle.runtime.boot import acquire_instance, fire_start, new_run_id
from hermes_lifecycle.runtime.fatal_exit import exit_quietly_under_manager, fatal_config_exit
from hermes_lifecycle.runtime.health import HealthServer
from hermes_lifecycle.runtime.pulse import LoopPulse
from hermes_lifecycle.runtime.service_link import ServiceLink
from hermes_lifecycle.runtime.sessions import SessionStore
from hermes_lifecycle.runtime.shutdown import Cause, Shutdown, exit_now_if_nothing_holds, force_exit_after
from hermes_lifecycle.runtime.signals import SignalRoute
from hermes_lifecycle.runtime.watcher import StopRequestWatcher
from hermes_lifecycle.stop_request import StopRequest

DEFAULT_APP = "hermes_lifecycle.runtime.reference:create"
#: How long a console close/logoff handler blocks (Windows ends the process after ~5 s).
CONSOLE_WAIT = 4.5


@dataclass(frozen=True)
class RunOptions:
    port: int | None = None
    host: str | None = None
    drain_timeout: float | None = None
    app: str = DEFAULT_APP
    replace: bool = False
    #: ``(addr, port)`` for ``/livez`` and ``/readyz`` (``run --health``), or None
    health: tuple[str, int] | None = None


def service_invocation() -> dict[str, str]:
    """The service manager's id for this start (systemd's ``$INVOCATION_ID``), recorded in
    ``start`` so the manager's stop hooks find the run they are about, and nothing else."""
    invocation = os.environ.get("INVOCATION_ID")
    return {"service_invocation": invocation} if invocation else {}


def _stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def run_gateway(home: Home, options: RunOptions, *, platform: Platform | None = None,
                force_exit: bool = True) -> int:
    """Run the gateway of ``home`` until it is stopped; return its exit code (0, 1 or 75).

    Raises :class:`HermesError` when it cannot start (``ConfigError``: exit 78).  With
    ``force_exit`` (the CLI), the process is ended ``EXIT_GRACE`` seconds after the drain
    if something holds it up; an embedder that keeps its process alive passes False.
    """
    platform = platform or current_platform()
    hygiene = platform.install_console_hygiene(_stdin_is_tty())
    journal = Journal(home)
    try:
        config = load_config(home)
        timeout, config_error = drain_timeout(home, options.drain_timeout), None
    except ConfigError as exc:
        config, timeout, config_error = GatewayConfig(), None, exc
    _ = journal.conn  # a state.db that is not usable is refused before the lock (and locks/) is made
    lock = acquire_instance(home, platform, journal, replace=options.replace,
                            fallback_wait_s=config.restart_drain_timeout)
    signals = SignalRoute(platform, hygiene)
    try:
        reconcile(journal, actor_role="gateway")
        me, run_id = own_identity(), new_run_id()
        signals.hold()  # from `start` on, a signal must drain the run, not end the process
        start = fire_start(journal, me, run_id, {
            "app": options.app, "profile": home.profile, "platform": platform.name,
            "host": options.host or config.host, "drain_timeout": timeout, "console_hygiene": hygiene,
            **service_invocation()})
        if config_error is not None:
            raise _fatal_config(journal, me, run_id, config_error)
        assert timeout is not None  # read with the configuration, which raised above if it could not be
        config = GatewayConfig(options.host or config.host,
                               config.port if options.port is None else options.port, timeout)
        code = asyncio.run(_serve(home, journal, platform, signals, me, run_id, start.seq, config,
                                  options.app, ignore_late_signals=force_exit, health=options.health))
    except BaseException:  # an embedder's process lives on: give back the lock and the handlers
        signals.release(ignore=False)
        lock.release()
        journal.close()
        raise
    if not force_exit:
        lock.release()
        journal.close()
        return code
    journal.close()
    exit_now_if_nothing_holds(code)
    force_exit_after(home, me, run_id, code)  # the lock stays held until the process is gone
    return code


def _fatal_config(journal: Journal, me: ProcessIdentity, run_id: str, exc: ConfigError) -> ConfigError:
    """Record a fatal configuration; return the error to raise, with the exit code this manager needs."""
    code, extra = fatal_config_exit()
    _start_failed(journal, me, run_id, exc, code, extra)
    return exit_quietly_under_manager(exc, code, extra)


def _start_failed(journal: Journal, me: ProcessIdentity, run_id: str, exc: BaseException, code: int,
                  extra: dict | None = None) -> None:
    try:
        journal.fire("start_failed", actor=who("gateway"), run_id=run_id, pid=me.pid, reason=str(exc),
                     data={"error": str(exc), "type": type(exc).__name__, "exit_code": int(code), **(extra or {})})
    except IllegalTransition:
        pass  # a stop request already moved the run on; its drain is the record


async def _serve(home: Home, journal: Journal, platform: Platform, signals: SignalRoute, me: ProcessIdentity,
                 run_id: str, start_seq: int, config: GatewayConfig, app_spec: str, *,
                 ignore_late_signals: bool, health: tuple[str, int] | None = None) -> int:
    loop = asyncio.get_running_loop()
    link = ServiceLink(platform.service_notifier(), LoopPulse())
    link.begin(run_id)  # the watchdog beats from here on, from this loop
    shutdown = Shutdown(journal, me, run_id=run_id, start_seq=start_seq,
                        drain_timeout=config.restart_drain_timeout, link=link)
    if sys.stderr is not None and sys.stderr.isatty():  # a person watches: say what the drain does
        shutdown.say = lambda text: print(f"gateway {home.profile}: {text}", file=sys.stderr, flush=True)
    signals.attach(loop, lambda name: shutdown.request(Cause("signal", name)))

    def on_console_event(event: str) -> None:
        try:
            loop.call_soon_threadsafe(shutdown.request, Cause("console", event))
        except RuntimeError:  # the loop already closed: the drain is over
            return
        shutdown.drained.wait(CONSOLE_WAIT)

    platform.install_console_close_handler(on_console_event)

    def dispatch(request: StopRequest) -> None:
        try:
            loop.call_soon_threadsafe(shutdown.request, Cause("stop_request", request.intent, request=request))
        except RuntimeError:  # the loop already closed: the process is on its way out
            pass

    watcher = StopRequestWatcher(home, me, run_id=run_id, after_seq=start_seq, dispatch=dispatch,
                                 is_draining=lambda: shutdown.cause is not None).start()
    sessions = SessionStore(journal)
    heartbeat = Heartbeat(home, me, run_id).start(link.pulse)  # one timer on the loop: the link's pulse
    accepting = False  # /readyz: from `ready` until a drain begins
    probes = HealthServer(heartbeat.is_fresh, lambda: accepting and shutdown.cause is None)
    app: GatewayApp | None = None
    try:
        try:
            probed = await probes.start(*health) if health is not None else None
            app = load_app(app_spec)
            shutdown.app = app
            ready = await app.start(RuntimeContext(home, journal, sessions, run_id, config.host, config.port,
                                                   who("gateway"), config.restart_drain_timeout))
            await sessions.resume_on_boot(run_id=run_id, actor=who("gateway"), hand_over=app.resume)
        except ConfigError as exc:
            raise _fatal_config(journal, me, run_id, exc) from None
        except Exception as exc:  # whatever the app raised, the run records how its start failed
            _start_failed(journal, me, run_id, exc, GatewayExit.UNPLANNED)
            detail = exc if isinstance(exc, (OSError, *USER_ERRORS)) else f"{type(exc).__name__}: {exc}"
            raise GatewayError(f"the gateway could not start: {detail}") from None
        if shutdown.cause is None:
            if probed is not None:
                ready = {**ready, "health": f"{probed[0]}:{probed[1]}"}
            journal.fire("ready", actor=who("gateway"), run_id=run_id, pid=me.pid,
                         reason="accepting work", data=ready)
            link.ready(ready, run_id)
            accepting = True
            where = ready.get("host") if ready.get("port") is None else f"{ready.get('host')}:{ready.get('port')}"
            print(f"gateway {home.profile}: running on {where} (pid {me.pid}, run {run_id})"
                  + (f"; probes on {ready['health']}" if probed else ""), flush=True)
        await shutdown.requested.wait()
        watcher.stop(timeout=0)  # a drain acts on no later request: let the watch go while it runs
        return await shutdown.drain(app, sessions)
    finally:
        await probes.close()
        heartbeat.stop()
        watcher.stop()
        link.close()
        signals.release(ignore=ignore_late_signals)  # drained: a late SIGTERM must not turn 0/75 into a kill

