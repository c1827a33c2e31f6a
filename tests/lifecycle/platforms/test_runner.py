"""The runner seam with real processes: argv as given, no shell, and both limits end a stuck command."""

from __future__ import annotations

import sys

from hermes_lifecycle.platforms.runner import RecordingRunner, SubprocessRunner

PY = sys.executable


def test_a_command_runs_without_a_shell_and_reports_its_output_and_code():
    result = SubprocessRunner().run([PY, "-c", "import sys; print(sys.argv[1]); sys.exit(3)", "$HOME; echo x"])
    assert result.returncode == 3 and not result.ok
    assert result.stdout == "$HOME; echo x\n"  # no shell expanded or split it
    assert not result.timed_out and not result.went_silent


def test_a_command_silent_past_the_idle_cutoff_is_killed_and_says_so():
    result = SubprocessRunner().run([PY, "-c", "import time; time.sleep(120)"], timeout=600, idle_timeout=0.5)
    assert result.went_silent and not result.timed_out
    assert result.returncode is None and not result.ok


def test_a_chatty_command_past_the_hard_timeout_is_killed_and_says_so():
    chatty = "import time\nwhile True:\n    print('.', flush=True)\n    time.sleep(0.05)\n"
    result = SubprocessRunner().run([PY, "-c", chatty], timeout=2.0, idle_timeout=60)
    assert result.timed_out and not result.went_silent
    assert result.returncode is None


def test_a_missing_program_is_a_failed_result_not_an_exception():
    result = SubprocessRunner().run(["/nonexistent/hermes-no-such-tool", "--flag"])
    assert result.returncode is None and not result.ok
    assert result.stderr.startswith("/nonexistent/hermes-no-such-tool: ")


def test_the_recording_runner_answers_by_the_longest_matching_prefix_and_records_argv():
    from hermes_lifecycle.platforms.runner import CommandResult

    runner = RecordingRunner({("systemctl",): CommandResult((), 1, stderr="no"),
                              ("systemctl", "--user", "is-active"): CommandResult((), 0, stdout="active\n")})
    assert runner.run(["systemctl", "--user", "is-active", "x.service"]).stdout == "active\n"
    assert runner.run(["systemctl", "--user", "stop", "x.service"]).returncode == 1
    assert runner.run(["launchctl", "list"]).ok
    assert runner.calls == [("systemctl", "--user", "is-active", "x.service"),
                            ("systemctl", "--user", "stop", "x.service"), ("launchctl", "list")]


def test_a_command_can_run_in_a_given_folder_and_the_recorder_keeps_it(tmp_path):
    result = SubprocessRunner().run([PY, "-c", "import os; print(os.getcwd())"], cwd=str(tmp_path))
    assert result.ok and result.stdout.strip() == str(tmp_path)
    recorder = RecordingRunner()
    recorder.run(["cmd.exe", "/d", "/c", "x.cmd"], cwd="C:\\Startup")
    recorder.run(["schtasks", "/Query"])
    assert recorder.cwds == ["C:\\Startup", None]
