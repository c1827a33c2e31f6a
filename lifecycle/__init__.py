"""The gateway lifecycle: the machine, the journal, the runtime, the controller, platforms.

This is the public API, used by the CLI (``tests/test_architecture.py`` fails when a
``cli/`` module imports anything else of the package) and by programs that embed the
engine.  Each name is imported on first use, so that ``from hermes_lifecycle import
Home`` stays cheap and ``status`` imports neither ``transitions``, ``sqlite_utils`` nor
``psutil``.  Modules not named here are internal: they may change without notice.
"""

from __future__ import annotations

import importlib
from typing import Any

_P = "hermes_lifecycle."

#: Public name -> "module" (same attribute name) or "module:attribute".
_EXPORTS = {
    # the core: home, journal, machine, projection, identity, configuration, durations
    "Home": "home", "validate_profile": "home",
    "CLI": "command_line",  # the command people type: `hermes-lifecycle` (hints and messages spell it)
    "Journal": "journal",
    "spool_behind": "spooled:behind",  # `status`: the events waiting in the spool (log_behind)
    "StreamState": "projection",
    "decide": "machine", "STATES": "machine", "STATE_NAMES": "machine", "TRANSITIONS": "machine",
    "SIDE_STEPS": "machine", "ALIVE_STATES": "machine", "REST_STATES": "machine",
    "reconcile_journal": "reconcile:reconcile",  # not "reconcile": that is also the submodule's name
    "ProcessIdentity": "identity", "who": "identity",
    "drain_timeout": "config",
    "human": "durations", "parse_duration": "durations", "format_at": "durations", "parse_since": "durations",
    "local_at": "durations",
    # the errors (the recorder's are re-exported by errors)
    **dict.fromkeys((
        "USER_ERRORS", "ConfigError", "CorruptStore", "GatewayAlreadyRunning", "GatewayError", "HermesError",
        "IllegalTransition", "InvalidProfileName", "InvalidStopRequest", "QuotingError", "RunChanged",
        "SchemaTooNew", "ServiceError", "ServiceLocationError", "StatusUnknown", "StoreError", "UntrustedPath",
        "UsageError", "VersionConflict"), "errors"),
    # the exit codes of the commands and of the gateway process
    "CommandExit": "exit_codes", "GatewayExit": "exit_codes", "StatusExit": "exit_codes", "worst": "exit_codes",
    # what the store tells about a database it could not use, and the sessions waiting for resume
    "is_denied": "store.connection",
    "count_resume_pending": "store.sessions",
    "last_seq": "store.events",
    # read-only looks that never create or migrate a state.db (shell completion)
    "recent_run_ids": "store.peek",
    # the gateway's own output (logs/gateway-stdio.log and its rotations)
    "gateway_log_files": "gateway_log:log_files", "gateway_log_tail": "gateway_log:last_lines",
    "follow_gateway_log": "gateway_log:follow",
    # the controller: one entry each for start, stop and restart (through a service or directly)
    "start_gateway": "controller.entry:start",
    "stop_gateway": "controller.entry:stop",
    "restart_gateway": "controller.entry:restart",
    "wait_for_state": "controller.wait", "WaitOutcome": "controller.wait",
    "StartOutcome": "controller.start", "StopOutcome": "controller.outcome", "RestartOutcome": "controller.restart",
    "Countdown": "controller.countdown",
    "find_strays": "controller.discovery", "stop_strays": "controller.strays",
    "stop_through_service": "controller.through_service", "wait_for_new_run": "controller.through_service",
    "hermes_agent_gateway": "foreign_gateway",
    "current_platform": "platforms", "platform_named": "platforms",
    # services
    "InstallPlan": "services.base",
    "service_manager_for": "services.actions",
    "install_service": "services.actions:install",
    "uninstall_service": "services.actions:uninstall",
    "stop_from_service_manager": "services.systemd_hooks:from_service_manager",
    "service_status_json": "services.status", "service_status_lines": "services.status",
    # the runtime
    "run_gateway": "runtime.gateway", "RunOptions": "runtime.gateway", "DEFAULT_APP": "runtime.gateway",
    "SessionStore": "runtime.sessions",
    "parse_health_address": "runtime.health:parse_address",  # run --health ADDR:PORT
    "stalled_loop_warning": "heartbeat",  # status: a live gateway whose loop stopped beating
    # history: reading the log for people
    "build_story": "history.forensics",
    "ending": "history.verdict", "verdict": "history.verdict",
    "group_by_run": "history.runs", "last_ended_run_id": "history.runs",
    "pattern_counts": "history.patterns:counts", "pattern_warnings": "history.patterns:warnings",
    "plan_keep_runs": "history.prune", "plan_older_than": "history.prune", "prune_runs": "history.prune:prune",
    "follow_log": "history.follow:follow",
    "mermaid_gantt": "history.timeline", "recent_lanes": "history.timeline",
    "render_svg": "history.timeline_svg",
    "render_diagram": "history.diagram:render", "DIAGRAM_FORMATS": "history.diagram:FORMATS",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, _, attribute = _EXPORTS[name].partition(":")
        return getattr(importlib.import_module(_P + module), attribute or name)
    raise AttributeError(f"module 'hermes_lifecycle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
