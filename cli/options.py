"""Option types shared by the commands, so one name means one thing everywhere.

``--since``/``--until`` are always times (:class:`When`), ``--after-seq`` a sequence number,
``-n`` a count (:class:`Count`).  Help shows ``x>=1``, not SQLite's integer ceiling.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

#: SQLite's INTEGER ceiling: a count or sequence number past it cannot be asked of the log.
INTEGER_MAX = 2**63 - 1


class Count(click.IntRange):
    """A whole number from ``min`` up, bounded by SQLite's INTEGER without saying so in the help."""

    name = "count"

    def __init__(self, min: int = 1) -> None:  # noqa: A002 (click's own word)
        super().__init__(min=min, max=INTEGER_MAX)

    def _describe_range(self) -> str:
        return f"x>={self.min}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = click.INT.convert(value, param, ctx)
        if number > INTEGER_MAX:
            self.fail(f"{number} is too large (at most {INTEGER_MAX})", param, ctx)
        return super().convert(number, param, ctx)


class When(click.ParamType):
    """A moment: a duration back from now (``2h``, ``1h30m``, ``PT90M``) or a timestamp
    (``2026-11-26T12:00:00Z``; without a zone it is local time)."""

    name = "when"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        from hermes_lifecycle import UsageError, parse_since

        try:
            return parse_since(str(value), option="time")
        except UsageError as exc:
            self.fail(str(exc), param, ctx)
