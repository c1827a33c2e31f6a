"""The platform seam: everything that differs between Linux, macOS and Windows.

:func:`current_platform` is the one place that chooses by ``sys.platform`` (inside this
package, guards on it also tell the type checker which OS a call belongs to).  The rest
of the code asks the returned :class:`Platform` (locks, console hygiene, detached
spawning, process-tree termination, the service manager) and never branches on the
OS itself.  Every platform class can be built on any OS, so tests on Linux drive the
Windows and macOS paths through the runner seam and assert on recorded command lines.
"""

from __future__ import annotations

import sys
from typing import Any

from hermes_lifecycle.platforms.base import InstanceLock, Platform

__all__ = [
    "CommandResult", "InstanceLock", "Platform", "RecordingRunner", "Runner", "SubprocessRunner",
    "current_platform", "platform_named",
]


def platform_named(name: str, **kwargs) -> Platform:
    """A platform by name (``linux``, ``macos``, ``windows``), whatever OS this is."""
    if name == "windows":
        from hermes_lifecycle.platforms.windows import WindowsPlatform

        return WindowsPlatform(**kwargs)
    if name == "macos":
        from hermes_lifecycle.platforms.posix import MacPlatform

        return MacPlatform(**kwargs)
    if name == "linux":
        from hermes_lifecycle.platforms.posix import LinuxPlatform

        return LinuxPlatform(**kwargs)
    raise ValueError(f"unknown platform {name!r}")


def current_platform(**kwargs) -> Platform:
    """The platform this process runs on."""
    if sys.platform == "win32":
        return platform_named("windows", **kwargs)
    if sys.platform == "darwin":
        return platform_named("macos", **kwargs)
    return platform_named("linux", **kwargs)


def __getattr__(name: str) -> Any:
    """The runner names load on first use (``subprocess`` is not needed to read /proc)."""
    if name in ("CommandResult", "RecordingRunner", "Runner", "SubprocessRunner"):
        from hermes_lifecycle.platforms import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
