"""Durations as people type them (`--older-than`, `--since`) and read them (verdicts)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hermes_lifecycle.durations import human, parse_duration, parse_since
from hermes_lifecycle.errors import UsageError


@pytest.mark.parametrize("seconds, text", [
    (0.0016, "1.6 ms"), (0.0, "0.0 ms"), (0.21, "0.21 s"), (12.4, "12 s"), (180, "3 min"),
    (9000, "2.5 h"), (4 * 86400, "4 d"), (-1, "0.0 ms"),
])
def test_human_reads_each_scale_in_its_own_unit(seconds, text):
    assert human(seconds) == text


def test_a_drain_of_two_milliseconds_is_not_read_as_no_time_at_all():
    assert human(0.002) != human(0.0) and human(0.002).endswith(" ms")


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("10m", 600), ("2h", 7200), ("7d", 604800),
                                           ("1w", 604800), ("0.5h", 1800), (" 30D ", 2592000)])
def test_parse_duration_takes_a_number_and_a_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "m", "ten minutes", "-5m", "5 years"])
def test_parse_duration_refuses_anything_else_with_one_line(text):
    with pytest.raises(UsageError, match="invalid duration") as refused:
        parse_duration(text)
    assert "\n" not in str(refused.value)


def test_parse_since_takes_a_duration_back_or_a_utc_time():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("2026-11-26T10:00:00Z", now) == datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
    assert parse_since("2026-11-26T10:00:00", now).tzinfo is not None
    with pytest.raises(UsageError, match="invalid --since 'yesterday'"):
        parse_since("yesterday", now)


@pytest.mark.parametrize("text, seconds", [("1h30m", 5400), ("2d 4h", 187200), ("1m30s", 90), ("PT1H30M", 5400),
                                           ("pt90m", 5400), ("P1DT12H", 129600), ("P2W", 1209600),
                                           ("PT0.5S", 0.5)])
def test_parse_duration_takes_compound_and_iso_8601_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1M", "P1Y", "1h30", "h30m", "P1DT"])
def test_iso_durations_of_calendar_length_or_half_typed_are_refused(text):
    with pytest.raises(UsageError, match="invalid duration"):
        parse_duration(text)


def test_parse_since_reads_a_time_without_a_zone_as_local_time(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        moment = parse_since("2026-11-26T10:00:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert moment == datetime(2026, 11, 26, 4, 30, tzinfo=timezone.utc)
