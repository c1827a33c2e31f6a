"""The controller's one entry for ``start``, ``stop`` and ``restart``: through the installed
service, or directly.

Where a service manager owns the gateway (it started it, it revives it), the controller
must not spawn a detached gateway beside it, and its stop ends with the manager's stop
(:mod:`.through_service`); otherwise the controller acts on the process itself.  That choice
is made here and nowhere else, so the CLI, an embedding program and ``uninstall`` all get
the same behaviour.  The service path is imported only when a service is installed: a
polite ``stop`` of an unmanaged gateway pays for none of it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

from hermes_lifecycle.journal import Journal

if TYPE_CHECKING:
    from hermes_lifecycle.controller.countdown import Countdown
    from hermes_lifecycle.controller.outcome import StopOutcome
    from hermes_lifecycle.controller.restart import RestartOutcome
    from hermes_lifecycle.controller.start import StartOutcome
    from hermes_lifecycle.platforms import Platform


def _platform(platform: Platform | None) -> Platform:
    from hermes_lifecycle.platforms import current_platform

    return platform or current_platform()


def start(journal: Journal, platform: Platform | None = None, *, timeout: float = 60.0, wait_ready: bool = True,
          run_args: Sequence[str] = (), countdown: Countdown | None = None) -> StartOutcome:
    """Start the profile's gateway (its service manager starts it where one is installed) and
    report what the log confirms: ``ready``, or ``starting`` without ``wait_ready``."""
    from hermes_lifecycle.services.installed import installed_service

    platform = _platform(platform)
    service = installed_service(journal.home, platform)
    if service is not None:
        from hermes_lifecycle.controller.through_service import start_through_service

        return start_through_service(journal, service, timeout=timeout, wait_ready=wait_ready,
                                     run_args=run_args, countdown=countdown)
    from hermes_lifecycle.controller.start import start_gateway

    return start_gateway(journal, platform, timeout=timeout, wait_ready=wait_ready, run_args=run_args,
                         countdown=countdown)


def stop(journal: Journal, platform: Platform | None = None, *, timeout: float | None = None,
         force: bool = False, countdown: Countdown | None = None,
         command_started: float | None = None) -> StopOutcome:
    """Stop the profile's gateway: stop request, drain wait, escalation; then, where a service
    is installed, the manager's stop.  ``timeout`` counts from ``command_started`` (a
    ``time.monotonic()`` reading; the process's own creation where the OS tells it precisely)."""
    from hermes_lifecycle.services.installed import installed_service

    platform = _platform(platform)
    service = installed_service(journal.home, platform, strict=False)  # the drain needs no manager
    if service is not None:
        from hermes_lifecycle.controller.through_service import stop_through_service

        return stop_through_service(journal, platform, service, timeout=timeout, force=force, countdown=countdown)
    from hermes_lifecycle.controller.stop import stop_gateway

    age = platform.own_age()  # from the process's creation, if the OS can tell precisely
    began = command_started if age is None else time.monotonic() - age
    return stop_gateway(journal, platform, timeout=timeout, force=force, countdown=countdown, started_at=began)


def restart(journal: Journal, platform: Platform | None = None, *, timeout: float | None = None,
            start_timeout: float = 60.0, restart_id: str | None = None,
            countdown: Countdown | None = None) -> RestartOutcome:
    """Drain the gateway with intent ``restart`` and confirm a new run is ready: the service
    manager revives it where one is installed, the controller spawns it otherwise."""
    from hermes_lifecycle.services.installed import installed_service

    platform = _platform(platform)
    service = installed_service(journal.home, platform)
    if service is not None:
        from hermes_lifecycle.controller.through_service import restart_through_service

        return restart_through_service(journal, platform, service, timeout=timeout, start_timeout=start_timeout,
                                       restart_id=restart_id, countdown=countdown)
    from hermes_lifecycle.controller.restart import restart_gateway

    return restart_gateway(journal, platform, timeout=timeout, start_timeout=start_timeout,
                           restart_id=restart_id, countdown=countdown)
