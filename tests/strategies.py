"""Hypothesis strategies shared by the whole suite (the one place they live)."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import strategies as st

from hermes_lifecycle.machine import TRIGGERS

#: Real triggers, plus names the machine has never heard of: both must be judged.
trigger_names = st.one_of(st.sampled_from(TRIGGERS), st.sampled_from(["explode", "Start", ""]))

pids = st.one_of(st.none(), st.integers(min_value=1, max_value=4_194_304))
run_ids = st.one_of(st.none(), st.from_regex(r"r-[0-9a-f]{8}", fullmatch=True))
reasons = st.one_of(st.none(), st.text(max_size=40))

#: What writers put in an event's data: run facts the projection keeps, and anything else.
event_data = st.fixed_dictionaries(
    {},
    optional={
        "create_time": st.floats(min_value=1e9, max_value=2e9, allow_nan=False),
        "port": st.integers(min_value=1, max_value=65535),
        "host": st.sampled_from(["127.0.0.1", "::1"]),
        "session_ids": st.lists(st.text(alphabet="abcdef0123456789", min_size=1, max_size=8), max_size=3),
        "note": st.text(max_size=20),
    },
)

fire_context = st.fixed_dictionaries(
    {"run_id": run_ids, "pid": pids, "reason": reasons, "data": event_data}
)

#: A sequence of (trigger, context) that a crowd of writers might fire at one stream.
trigger_sequences = st.lists(st.tuples(trigger_names, fire_context), max_size=40)


# -- Windows command lines (service managers): paths and arguments that break naive quoting --

#: Characters each parser treats specially, plus spaces, tabs and non-ASCII.
_WINDOWS_AWKWARD = ' \t"%^&|<>()!\\\'=;,éßü中文🚀'
_windows_char = st.one_of(
    st.sampled_from(_WINDOWS_AWKWARD),
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n\0"),
)

#: One command-line argument (may be empty, may be all quotes and backslashes).
windows_args = st.text(alphabet=_windows_char, max_size=24)
#: A program path: like an argument but never a double quote (Windows forbids it in names).
windows_programs = st.text(alphabet=_windows_char.filter(lambda c: c != '"'), min_size=1, max_size=24).map(
    lambda name: "C:\\Users\\" + name + "\\python.exe")
windows_argvs = st.tuples(windows_programs, st.lists(windows_args, max_size=6)).map(lambda t: [t[0], *t[1]])

#: A word for a systemd ExecStart line (no control characters: a unit file cannot hold them).
unit_words = st.text(alphabet=st.one_of(st.sampled_from(' "\'\\%$;é中'),
                                        st.characters(blacklist_categories=("Cs", "Cc"))), max_size=24)


# -- Histories of whole runs (forensics, prune) --

#: How one run ends; tests/journal_runs.py writes each as the gateway and controller would.
run_endings = st.sampled_from(["stop", "restart", "signal", "timeout", "kill", "crash", "start_failed"])
#: A profile's history: some ended runs, then maybe a run that is still alive.
run_histories = st.tuples(st.lists(run_endings, min_size=1, max_size=8), st.booleans())
#: How many runs `prune --keep-runs` keeps.
runs_to_keep = st.integers(min_value=1, max_value=10)

#: Any moment an ``at`` column can hold: four-digit years, microseconds, always UTC.
utc_moments = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)).map(
    lambda d: d.replace(tzinfo=timezone.utc))
