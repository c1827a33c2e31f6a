"""Both Windows quoting helpers round-trip awkward paths and arguments through a model of
their own parser, and each breaks under the other's parser (why they are separate)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings

from hermes_lifecycle.errors import QuotingError
from hermes_lifecycle.services.quoting import cmd_line, schtasks_task_run, task_arguments, windows_arg
from tests.lifecycle.services.windows_parsers import (
    ParserTrap, cmd_batch_line, crt_argv, crt_split_args, crt_split_program, expand_environment_strings,
    task_scheduler_argv,
)
from tests.strategies import windows_args, windows_argvs

PROFILE_ENV = {"PATH": "C:\\Windows", "USERNAME": "alice", "APPDATA": "C:\\Users\\alice\\AppData\\Roaming"}


@settings(max_examples=300, deadline=None)
@given(windows_args)
def test_one_argument_round_trips_through_the_c_runtime_splitter(arg):
    assert crt_split_args(windows_arg(arg)) == [arg]


@settings(max_examples=300, deadline=None)
@given(windows_argvs)
def test_schtasks_tr_value_round_trips_through_schtasks_and_task_scheduler(argv):
    if argv[0].count("%") >= 2:  # a path cannot be shielded: refused, never expanded
        with pytest.raises(QuotingError):
            schtasks_task_run(argv)
        return
    tr = schtasks_task_run(argv)
    # schtasks.exe receives /TR as one argument of its own command line (subprocess's quoting)
    schtasks_line = subprocess.list2cmdline(["schtasks", "/Create", "/TN", "HermesGateway-default", "/TR", tr])
    assert crt_split_args(schtasks_line)[5] == tr
    # schtasks stores the quoted program and the rest; Task Scheduler expands %NAME% in both
    # when it starts the task, and the program splits the rest
    program, tail = crt_split_program(tr)
    assert task_scheduler_argv(program, tail) == argv


@settings(max_examples=300, deadline=None)
@given(windows_argvs)
def test_cmd_line_round_trips_through_cmd_exe_then_the_c_runtime(argv):
    line = f'start "" {cmd_line(argv)}'
    after_cmd = cmd_batch_line(line, env=PROFILE_ENV)
    assert after_cmd.startswith('start "" ')
    assert crt_argv(after_cmd[len('start "" '):]) == argv


@settings(max_examples=200, deadline=None)
@given(windows_argvs)
def test_task_arguments_field_round_trips(argv):
    assert crt_split_args(expand_environment_strings(task_arguments(argv[1:]))) == argv[1:]


def test_the_expansion_model_does_what_task_scheduler_does():
    env = {"APPDATA": "C:\\Users\\alice\\AppData\\Roaming"}
    assert expand_environment_strings("%APPDATA%\\x", env) == "C:\\Users\\alice\\AppData\\Roaming\\x"
    assert expand_environment_strings("100% and 50%", env) == "100% and 50%"  # no such variable
    assert expand_environment_strings("%NOPE%APPDATA%", env) == "%NOPEC:\\Users\\alice\\AppData\\Roaming"
    assert expand_environment_strings("%%", env) == "%%"


def test_a_variable_name_in_a_task_argument_reaches_the_gateway_unexpanded():
    """A home literally named ``%APPDATA%`` (tools that forget to expand create such
    folders) must not become the real AppData when the task starts."""
    argv = ["C:\\P\\python.exe", "--home", "C:\\x\\%APPDATA%\\hermes", "%USERNAME%", "a b%PATH%\\"]
    assert task_scheduler_argv(*crt_split_program(schtasks_task_run(argv))) == argv
    assert crt_split_args(expand_environment_strings(task_arguments(argv[1:]))) == argv[1:]


def test_a_program_path_task_scheduler_would_expand_is_refused():
    with pytest.raises(QuotingError, match="expand"):
        schtasks_task_run(["C:\\%USERNAME%\\python.exe", "-m"])


def test_percent_variables_in_a_path_survive_cmd_expansion():
    argv = ["C:\\Users\\%USERNAME%\\python.exe", "--home", "C:\\h%APPDATA%\\x", "100%"]
    line = cmd_line(argv)
    assert "%%USERNAME%%" in line
    assert crt_argv(cmd_batch_line(line, env=PROFILE_ENV)) == argv


def test_ampersand_and_parentheses_outside_quotes_are_escaped_for_cmd():
    line = cmd_line(["C:\\Python\\python.exe", "a&b", "(x)", "^"])
    assert line == '"C:\\Python\\python.exe" a^&b ^(x^) ^^'


def test_quote_inside_an_argument_keeps_cmd_in_step():
    # cmd.exe toggles on the backslash-escaped quote too: after it, & is outside quotes for cmd
    argv = ["C:\\P\\python.exe", 'say "hi & bye']
    line = cmd_line(argv)
    assert line == '"C:\\P\\python.exe" "say \\"hi ^& bye"'
    assert crt_argv(cmd_batch_line(line)) == argv


def test_the_tr_helper_output_breaks_under_cmd_exe():
    """Mixing parsers breaks both: a /TR value run by cmd.exe starts a second command..."""
    tr = schtasks_task_run(["C:\\P\\python.exe", "a&b"])
    with pytest.raises(ParserTrap):
        cmd_batch_line(tr)


def test_the_cmd_helper_output_breaks_under_task_scheduler():
    """...and a .cmd line given to Task Scheduler hands carets and doubled percents to python."""
    argv = ["C:\\P\\python.exe", "a&b", "50%"]
    assert crt_argv(cmd_line(argv)) != argv


def test_line_breaks_cannot_be_written_into_a_cmd_line():
    with pytest.raises(QuotingError):
        cmd_line(["C:\\P\\python.exe", "two\nlines"])


def test_a_quote_in_the_program_path_is_refused():
    with pytest.raises(QuotingError):
        schtasks_task_run(['C:\\P"\\python.exe'])


def test_empty_argument_is_kept_as_an_empty_argument():
    assert windows_arg("") == '""'
    assert crt_split_args('a "" b') == ["a", "", "b"]
