"""Durations as people type and read them: ``90s``, ``10m``, ``2h``, ``7d``; "0.21 s", "3 min".

One module so that `prune --older-than`, `status --since` and every verdict speak the
same units.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hermes_lifecycle.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: One or more number-unit pairs, largest first or not: ``90s``, ``1h30m``, ``2d 4h``.
_PART = r"(\d+(?:\.\d+)?)\s*([smhdw])"
#: Patterns as text, compiled (and cached by ``re``) when a duration is parsed: `status` and the
#: verdicts only format times, and compiling these cost every such command ~1 ms of start-up.
_COMPOUND = rf"(?:{_PART}\s*)+"
#: ISO 8601 durations without years or months (their length depends on the calendar): ``PT1H30M``.
_ISO = (r"p(?:(\d+(?:\.\d+)?)w)?(?:(\d+(?:\.\d+)?)d)?"
        r"(?:t(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?)?")
_EXAMPLES = "e.g. 90s, 10m, 1h30m, 7d or ISO 8601 PT1H30M"


def _seconds(text: str) -> float | None:
    """Seconds in a compound or ISO 8601 duration, None when ``text`` is neither."""
    clean = text.strip().lower()
    if re.fullmatch(_COMPOUND, clean):
        return sum(float(number) * _UNITS[unit] for number, unit in re.findall(_PART, clean))
    iso = re.fullmatch(_ISO, clean)
    if iso and any(iso.groups()) and not clean.endswith("t"):
        weights = (_UNITS["w"], _UNITS["d"], _UNITS["h"], _UNITS["m"], _UNITS["s"])
        return sum(float(g) * w for g, w in zip(iso.groups(), weights, strict=True) if g)
    return None


def parse_duration(text: str) -> float:
    """Seconds in ``text``: number-unit pairs (``30s``, ``10m``, ``1h30m``, ``7d``, ``1w``) or an
    ISO 8601 duration (``PT1H30M``, ``P1DT12H``); UsageError otherwise."""
    seconds = _seconds(text)
    if seconds is None:
        raise UsageError(f"invalid duration {text!r}: use numbers with units, {_EXAMPLES}")
    if seconds > 36500 * 86400:  # past that, "now - it" leaves the calendar (an OverflowError)
        raise UsageError(f"invalid duration {text!r}: at most 36500d (100 years)")
    return seconds


def parse_since(text: str, now: datetime | None = None, option: str = "--since") -> datetime:
    """A point in time: a duration back from now (``2h``, ``1h30m``, ``PT2H``) or an ISO 8601
    timestamp; one without a zone is local time, as people mean it when they type it."""
    now = now or datetime.now(timezone.utc)
    if _seconds(text) is not None:
        return now - timedelta(seconds=parse_duration(text))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid {option} {text!r}: give a duration back from now (2h, 1h30m, PT90M) "
            "or a time (2026-11-26T12:00:00Z; without a zone it is local time)"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()  # naive: this machine's local time


def format_at(moment: datetime) -> str:
    """The log's own ``at`` format, so a moment compares with ``at`` columns as text."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_at(at: str | None) -> str:
    """A log ``at`` (UTC) as people read it: local time with its zone, to the second.
    JSON keeps the UTC text; human output uses this."""
    if not at:
        return ""
    from hermes_lifecycle.store.events import parse_at

    return parse_at(at).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


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
