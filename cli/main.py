"""The command line: ``hermes-lifecycle ...`` (console script), ``hermes lifecycle ...`` (the
hermes-agent plugin) and ``python -m hermes_lifecycle.cli.main gateway ...`` (services, discovery).

Subcommands are imported only when invoked, so ``hermes gateway status`` loads
click, sqlite3 and its own module, not the whole engine.  Every
:class:`hermes_lifecycle.errors.HermesError` becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import click

from hermes_lifecycle import USER_ERRORS

#: name -> "module:attribute"; the one list of ``hermes gateway`` commands.
GATEWAY_COMMANDS: dict[str, str] = {
    "status": "hermes_lifecycle.cli.status:status",
    "events": "hermes_lifecycle.cli.events:events",
    "diagram": "hermes_lifecycle.cli.diagram:diagram",
    "install": "hermes_lifecycle.cli.install:install",
    "uninstall": "hermes_lifecycle.cli.uninstall:uninstall",
    "run": "hermes_lifecycle.cli.run:run",
    "start": "hermes_lifecycle.cli.start:start",
    "stop": "hermes_lifecycle.cli.stop:stop",
    "restart": "hermes_lifecycle.cli.restart:restart",
    "wait": "hermes_lifecycle.cli.wait:wait",
    "sessions": "hermes_lifecycle.cli.sessions:sessions",
    "forensics": "hermes_lifecycle.cli.forensics:forensics",
    "prune": "hermes_lifecycle.cli.prune:prune",
    "timeline": "hermes_lifecycle.cli.timeline:timeline",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)


def _refuse_usage(exc: click.UsageError) -> NoReturn:
    """Click's usage error as one line (click's own is usage, hint and error over 3+ lines)."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc  # a bare `hermes` or `hermes gateway` asks for the help text
    hint = f"`{exc.ctx.command_path} --help`" if exc.ctx is not None else "--help"
    message = " ".join(exc.format_message().split())
    click.echo(f"hermes: {message} (see {hint})", err=True)
    raise click.exceptions.Exit(exc.exit_code)


def _os_error_line(exc: OSError) -> str:
    """One line for an OS error; the home's hint only where a file or the disk is the cause."""
    import errno

    where = f"cannot use {exc.filename}: " if exc.filename else ""
    storage = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, getattr(errno, "EDQUOT", errno.ENOSPC)}
    if exc.filename or exc.errno in storage:
        return (f"{where}{exc.strerror or exc}; the Hermes home must be a folder this user can write, "
                "on a disk with free space")
    return f"{exc.strerror or exc}"


class HermesGroup(click.Group):
    """The root group: every error ends the process with one line on stderr and its exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            _refuse_usage(exc)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _refuse_usage(exc)
        except USER_ERRORS as exc:
            click.echo(f"hermes: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            raise  # the reader went away: click ends quietly
        except OSError as exc:
            # A folder or file this user may not write (a read-only home, a full disk) is
            # the user's to fix, not a traceback.
            click.echo(f"hermes: {_os_error_line(exc)}", err=True)
            ctx.exit(1)
        except Exception as exc:
            # A database that fails mid-read (a corrupt page, a full disk) is a user's
            # problem to fix, not a traceback; sqlite3 is only imported when it happened.
            sqlite3 = sys.modules.get("sqlite3")
            if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
                raise
            from hermes_lifecycle import is_denied

            advice = ("this user needs write access to state.db and its folder" if is_denied(exc)
                      else "if it persists, move state.db aside or restore a backup")
            click.echo(f"hermes: state database error: {exc}; the log was not changed ({advice})", err=True)
            ctx.exit(1)


@click.group(cls=HermesGroup)
@click.version_option(package_name="hermes-lifecycle", prog_name="hermes")
def hermes() -> None:
    """Hermes chat gateway tools."""


def _home_options(command):
    """``--home`` and ``--profile``: the options of whichever group is the root of the commands."""
    command = click.option(
        "--profile", metavar="NAME", default=None, envvar="HERMES_PROFILE",
        help="Hermes profile: its home is HOME/profiles/NAME, `default` is HOME itself; one event "
             "stream and one gateway ([a-z0-9][a-z0-9_-]{0,63}). Default: the one HOME names "
             "(.../profiles/NAME), else default.")(command)
    return click.option("--home", metavar="DIR", default=None,
                        help="Hermes home holding state.db (default: $HERMES_HOME, else ~/.hermes).")(command)


def _resolve_home(ctx: click.Context, home: str | None, profile: str | None) -> None:
    from hermes_lifecycle import Home

    ctx.obj = Home.resolve(home, profile)


@hermes.group(cls=LazyGroup, lazy_commands=GATEWAY_COMMANDS)
@_home_options
@click.pass_context
def gateway(ctx: click.Context, home: str | None, profile: str | None) -> None:
    """Start, stop, restart, install and inspect the gateway of one profile.

    Every step is recorded in the event log in HOME/state.db; `status --history`,
    `events` and `forensics` read it back.
    """
    _resolve_home(ctx, home, profile)


class LifecycleGroup(HermesGroup, LazyGroup):
    """The root of ``hermes-lifecycle``: the gateway commands, one level up."""


@click.group(cls=LifecycleGroup, lazy_commands=GATEWAY_COMMANDS)
@click.version_option(package_name="hermes-lifecycle", prog_name="hermes-lifecycle")
@_home_options
@click.pass_context
def lifecycle(ctx: click.Context, home: str | None, profile: str | None) -> None:
    """Start, stop, restart, install and inspect the Hermes gateway of one profile.

    The same commands as `python -m hermes_lifecycle.cli.main gateway ...`, and, inside a Hermes
    install with the plugin enabled, `hermes lifecycle ...`.  Every step is recorded in the event
    log in HOME/state.db; `status --history`, `events` and `forensics` read it back.
    """
    _resolve_home(ctx, home, profile)


#: Commands that end the process as soon as their output is flushed (see :func:`main`).
#: Not ``run`` (a gateway's own exit path drains, releases its lock and logs).
FAST_EXIT = frozenset(GATEWAY_COMMANDS) - {"run"}


def _fast_exit_allowed(argv: list[str]) -> bool:
    return any(arg in FAST_EXIT for arg in argv) and "run" not in argv


def _exit_now(code: object) -> NoReturn:
    """Flush what the command printed and end the process without the interpreter's teardown
    (~20 % of a `status` here: every module's and object's clean-up, for nothing).  Every
    write the command made is committed before this point; SQLite's WAL needs no close."""
    import os

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader went away, or the stream was closed
            pass
    os._exit(code)


def main() -> None:
    """The console script.  A short command (not ``run``) ends with :func:`_exit_now`."""
    if not _fast_exit_allowed(sys.argv[1:]):
        hermes(prog_name="hermes")
        return
    try:
        hermes(prog_name="hermes")
    except SystemExit as end:
        _exit_now(end.code)
    _exit_now(0)


def lifecycle_console() -> NoReturn:
    """The ``hermes-lifecycle`` console script: :func:`lifecycle_main`, and a short command
    (not ``run``) ends with :func:`_exit_now`, like :func:`main`.  The plugin's ``hermes
    lifecycle`` calls :func:`lifecycle_main` instead: its host's teardown is not ours to skip."""
    argv = sys.argv[1:]
    code = lifecycle_main(argv)
    if _fast_exit_allowed(argv):
        _exit_now(code)
    sys.exit(code)


def lifecycle_main(argv: list[str] | None = None, prog_name: str = "hermes-lifecycle") -> int:
    """What the ``hermes-lifecycle`` console script runs (and the plugin's ``hermes lifecycle``):
    returns the exit code instead of leaving the process, so a host can forward to it."""
    try:
        lifecycle.main(args=argv, prog_name=prog_name, standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    main()  # click ends the process with the command's exit code
