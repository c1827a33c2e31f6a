"""Durations as people type and read them: ``90s``, ``10m``, ``2h``, ``7d``; "0.21 s", "3 min".

One module so that `prune --older-than`, `status --since` and every verdict speak the
same units.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hermes_lifecycle.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (``30s``, ``10m``, ``2h``, ``7d``, ``1w``); UsageError otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise UsageError(f"invalid duration {text!r}: use a number and a unit, e.g. 90s, 10m, 2h, 7d")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > 36500 * 86400:  # past that, "now - it" leaves the calendar (an OverflowError)
        raise UsageError(f"invalid duration {text!r}: at most 36500d (100 years)")
    return seconds


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A point in time: a duration back from now (``2h``) or an ISO 8601 UTC timestamp."""
    now = now or datetime.now(timezone.utc)
    if _DURATION.fullmatch(text.strip().lower()):
        return now - timedelta(seconds=parse_duration(text))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid --since {text!r}: give a duration back from now (2h, 7d) "
            "or a UTC time (2026-11-26T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def format_at(moment: datetime) -> str:
    """The log's own ``at`` format, so a moment compares with ``at`` columns as text."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def human(seconds: float) -> str:
    """A short reading of a duration: "1.6 ms", "0.21 s", "12 s", "3 min", "2.5 h", "4 d".

    Below 10 ms it speaks milliseconds: a 2 ms drain read as "0.00 s" looks like no drain."""
    seconds = max(0.0, seconds)
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"
