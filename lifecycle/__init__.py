"""The gateway lifecycle: the machine, the journal, the runtime, the controller, platforms.

The public names are re-exported here and imported on first use, so that
``import lifecycle.errors`` (done by every command) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Home": "lifecycle.home",
    "validate_profile": "lifecycle.home",
    "Journal": "lifecycle.journal",
    "decide": "lifecycle.machine",
    "STATES": "lifecycle.machine",
    "TRANSITIONS": "lifecycle.machine",
    "SIDE_STEPS": "lifecycle.machine",
    "ALIVE_STATES": "lifecycle.machine",
    "reconcile": "lifecycle.reconcile",
    "ProcessIdentity": "lifecycle.identity",
    "HermesError": "lifecycle.errors",
    "IllegalTransition": "lifecycle.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lifecycle' has no attribute {name!r}")
