"""The gateway lifecycle: the machine, the journal, the runtime, the controller, platforms.

The public names are re-exported here and imported on first use, so that
``import lifecycle.errors`` (done by every command) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Home": "hermes_lifecycle.home",
    "validate_profile": "hermes_lifecycle.home",
    "Journal": "hermes_lifecycle.journal",
    "decide": "hermes_lifecycle.machine",
    "STATES": "hermes_lifecycle.machine",
    "TRANSITIONS": "hermes_lifecycle.machine",
    "SIDE_STEPS": "hermes_lifecycle.machine",
    "ALIVE_STATES": "hermes_lifecycle.machine",
    "reconcile": "hermes_lifecycle.reconcile",
    "ProcessIdentity": "hermes_lifecycle.identity",
    "HermesError": "hermes_lifecycle.errors",
    "IllegalTransition": "hermes_lifecycle.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lifecycle' has no attribute {name!r}")
