"""The integration tier: the real hermes-agent (the ``hermes-agent`` test extra, pinned to the
version this engine was tested with).  It needs Python >= 3.11; elsewhere, or where the extra is
not installed, the tier is skipped with the reason."""

from __future__ import annotations

import sys

import pytest

PINNED = "0.19.0"



def require_hermes_agent() -> None:
    """Skip the calling test module (at import) unless the pinned hermes-agent is installed."""
    if sys.version_info < (3, 11):
        pytest.skip("hermes-agent needs Python >= 3.11: the hermes-agent tier is skipped",
                    allow_module_level=True)
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("hermes-agent")
    except PackageNotFoundError:
        installed = None
    if installed != PINNED:
        pytest.skip(f"hermes-agent=={PINNED} is not installed (found {installed}): "
                    "install the extra with `pip install -e .[test,hermes-agent]`", allow_module_level=True)
