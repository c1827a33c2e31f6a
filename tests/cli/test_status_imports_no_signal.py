"""`status` reads /proc through the POSIX platform but signals nothing: it does not import `signal`
(~2 ms of enum building), nor `socket` or `transitions` (writers only)."""

from __future__ import annotations

import pytest

from tests.cli.test_read_path_imports import _imported_by, _record_a_finished_run


@pytest.mark.parametrize("args", [("status",), ("status", "--json")], ids=" ".join)
def test_status_imports_no_signal_module(journal, home_dir, tmp_path, args):
    _record_a_finished_run(journal)
    report = _imported_by(home_dir, tmp_path / "modules.json", *args)
    assert report["code"] == 3 and "hermes_lifecycle.store" in report["modules"]  # stopped: LSB 3 (i14)
    assert [m for m in ("signal", "socket", "transitions") if m in report["modules"]] == []
