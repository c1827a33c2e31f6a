"""``parse_at`` reads the one ``at`` format quickly and refuses anything else, as before."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given

from hermes_lifecycle.store.events import parse_at, utc_now
from tests.strategies import utc_moments

AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@given(utc_moments)
def test_every_stamp_reads_back_as_the_utc_moment_strptime_gives(moment):
    stamp = moment.strftime(AT_FORMAT)
    parsed = parse_at(stamp)
    assert parsed == datetime.strptime(stamp, AT_FORMAT).replace(tzinfo=timezone.utc) == moment
    assert parsed.utcoffset().total_seconds() == 0


def test_a_fresh_stamp_reads_back():
    assert parse_at(utc_now()).tzinfo is not None


@pytest.mark.parametrize("text", ["2026-11-26", "2026-11-26T13:18:34.170084+00:00", "2026-11-26T13:18:34Z",
                                  "2026-13-26T13:18:34.170084Z", "2026-11-26 13:18:34.170084Z", "x" * 27, ""])
def test_anything_but_the_at_format_is_refused(text):
    with pytest.raises(ValueError):
        parse_at(text)
