"""The command line: ``hermes-lifecycle ...`` (console script), ``hermes lifecycle ...`` (the
hermes-agent plugin) and ``python -m hermes_lifecycle.cli.main gateway ...`` (services, discovery).

Subcommands are imported only when invoked, so ``hermes-lifecycle status`` loads
click, sqlite3 and its own module, not the whole engine.  Every
:class:`hermes_lifecycle.errors.HermesError` becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import click

from hermes_lifecycle import CLI, USER_ERRORS

#: The environment variable that asks for a shell completion script (click's protocol).
COMPLETE_VAR = "_HERMES_LIFECYCLE_COMPLETE"

#: ``ctx.meta`` key set when the command was given ``--json``.
JSON_ASKED = "hermes.json"
#: ``ctx.meta`` key holding the arguments as typed (a usage error may come before ``--json`` is read).
TYPED_ARGS = "hermes.typed_args"

#: name -> "module:attribute"; the one list of our gateway commands (``hermes-lifecycle X``).
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
    "logs": "hermes_lifecycle.cli.logs:logs",
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
            return _json_errors(getattr(importlib.import_module(module_name), attribute))
        return super().get_command(ctx, name)


def _remember_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """Note in the shared ``ctx.meta`` that this command was asked for JSON: its errors are JSON too."""
    if value:
        ctx.meta[JSON_ASKED] = True
    return value


def _json_errors(command: click.Command) -> click.Command:
    """A command's ``--json`` flag also makes its errors a JSON document (see :func:`_fail`)."""
    for param in command.params:
        if param.name == "as_json" and param.callback is None:
            param.callback = _remember_json
    return command


def _fail(ctx: click.Context, message: str, code: int, kind: str) -> None:
    """One line on stderr; with ``--json`` also ``{"schema_version": 1, "error": {...}}`` on stdout."""
    click.echo(f"{CLI}: {message}", err=True)
    if ctx.meta.get(JSON_ASKED):
        from hermes_lifecycle.cli.output import emit_json

        emit_json({"error": {"kind": kind, "message": message, "exit_code": code}})
    ctx.exit(code)


def _reader_gone() -> NoReturn:
    """The reader closed the pipe (`| head -1`): end quietly with exit 0, so `set -o pipefail`
    scripts do not fail on a reader that had read enough; nothing more can reach it."""
    from hermes_lifecycle.cli.terminal import quiet_stdout

    quiet_stdout()
    raise click.exceptions.Exit(0)


def _refuse_usage(exc: click.UsageError, ctx: click.Context | None = None) -> NoReturn:
    """Click's usage error as one line (click's own is usage, hint and error over 3+ lines)."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc  # a bare `hermes-lifecycle` (or `... cli.main gateway`) asks for the help text
    hint = f"`{exc.ctx.command_path} --help`" if exc.ctx is not None else "--help"
    message = " ".join(exc.format_message().split())
    if ctx is not None:
        typed = ctx.meta.get(TYPED_ARGS, [])
        if "--json" in typed[:typed.index("--") if "--" in typed else len(typed)]:
            ctx.meta[JSON_ASKED] = True  # a bad value typed before --json: the error is JSON all the same
        _fail(ctx, f"{message} (see {hint})", exc.exit_code, "usage")
    click.echo(f"{CLI}: {message} (see {hint})", err=True)
    raise click.exceptions.Exit(exc.exit_code)


def os_error_line(exc: OSError) -> str:
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
        ctx.meta[TYPED_ARGS] = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            _refuse_usage(exc)

    def invoke(self, ctx: click.Context):
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        except BrokenPipeError:
            _reader_gone()
        except click.UsageError as exc:
            _refuse_usage(exc, ctx)
        except USER_ERRORS as exc:
            _fail(ctx, str(exc), exc.exit_code, _error_kind(exc))
        except OSError as exc:
            # A folder or file this user may not write (a read-only home, a full disk) is
            # the user's to fix, not a traceback.
            _fail(ctx, os_error_line(exc), 1, "os")
        except Exception as exc:
            # A database that fails mid-read (a corrupt page, a full disk) is a user's
            # problem to fix, not a traceback; sqlite3 is only imported when it happened.
            sqlite3 = sys.modules.get("sqlite3")
            if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
                raise
            from hermes_lifecycle import is_denied

            advice = ("this user needs write access to state.db and its folder" if is_denied(exc)
                      else "if it persists, move state.db aside or restore a backup")
            _fail(ctx, f"state database error: {exc}; the log was not changed ({advice})", 1, "database")


def _error_kind(exc: Exception) -> str:
    """A stable word for the JSON error's ``kind``: which of our error families (or the recorder's) it is."""
    from hermes_lifecycle import GatewayError, ServiceError, StatusUnknown, StoreError, UsageError

    for kind, family in (("usage", UsageError), ("status_unknown", StatusUnknown),
                         ("store", StoreError), ("gateway", GatewayError),
                         ("service", ServiceError)):
        if isinstance(exc, family):
            return kind
    return "error"


@click.group(cls=HermesGroup)
@click.version_option(package_name="hermes-lifecycle", prog_name=CLI)
def hermes() -> None:
    """Hermes chat gateway tools."""


def _home_options(command):
    """``--home``, ``--profile`` and ``--color``: the options of whichever group is the root of the commands."""
    command = click.option(
        "--color", "--colour", "colour", type=click.Choice(["auto", "always", "never"]), default="auto",
        show_default=True,
        help="Colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.")(command)
    command = click.option(
        "--profile", metavar="NAME", default=None, envvar="HERMES_PROFILE",
        shell_complete=lambda ctx, param, incomplete: _complete("complete_profiles", ctx, param, incomplete),
        help="Hermes profile: its home is HOME/profiles/NAME, `default` is HOME itself; one event "
             "stream and one gateway ([a-z0-9][a-z0-9_-]{0,63}). Default: the one HOME names "
             "(.../profiles/NAME), else default.")(command)
    return click.option("--home", metavar="DIR", default=None,
                        help="Hermes home holding state.db (default: $HERMES_HOME, else ~/.hermes).")(command)


def _resolve_home(ctx: click.Context, home: str | None, profile: str | None, colour: str) -> None:
    from hermes_lifecycle import Home
    from hermes_lifecycle.cli.terminal import COLOR_CHOICE

    ctx.meta[COLOR_CHOICE] = colour
    if colour != "auto":
        ctx.color = colour == "always"  # click.echo keeps (or strips) escapes as told, even into a pipe
    ctx.obj = Home.resolve(home, profile)


@hermes.group(cls=LazyGroup, lazy_commands=GATEWAY_COMMANDS)
@_home_options
@click.pass_context
def gateway(ctx: click.Context, home: str | None, profile: str | None, colour: str) -> None:
    """Start, stop, restart, install and inspect the gateway of one profile.

    Every step is recorded in the event log in HOME/state.db; `status --history`,
    `events` and `forensics` read it back.
    """
    _resolve_home(ctx, home, profile, colour)


#: The hidden ``gateway`` under the ``lifecycle`` root: ``hermes lifecycle gateway run`` is the
#: command line hermes-agent recognises a gateway by (``... gateway run``), so hermes-agent's
#: own status and stop see the gateway we host.
LIFECYCLE_GATEWAY_ALIAS = "gateway"


class LifecycleGroup(HermesGroup, LazyGroup):
    """The root of ``hermes-lifecycle``: the gateway commands, one level up, and again under a
    hidden ``gateway`` (``hermes lifecycle gateway run``)."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == LIFECYCLE_GATEWAY_ALIAS:
            return _gateway_alias()
        return super().get_command(ctx, name)


def _gateway_alias() -> click.Group:
    """The same lazy commands as the root's; ``--home``/``--profile`` here (as in ``python -m
    hermes_lifecycle.cli.main gateway --home DIR --profile NAME run``) override the root's."""

    @click.group(LIFECYCLE_GATEWAY_ALIAS, cls=LazyGroup, lazy_commands=GATEWAY_COMMANDS, hidden=True)
    @click.option("--profile", metavar="NAME", default=None, help="Hermes profile (as the root's --profile).")
    @click.option("--home", metavar="DIR", default=None, help="Hermes home (as the root's --home).")
    @click.pass_context
    def alias(ctx: click.Context, home: str | None, profile: str | None) -> None:
        """The gateway commands again: `hermes lifecycle gateway run` is `hermes lifecycle run`."""
        from hermes_lifecycle.cli.terminal import COLOR_CHOICE

        colour = ctx.meta.get(COLOR_CHOICE, "auto")  # the root's --color stands (ctx.meta is shared)
        if home is not None:
            _resolve_home(ctx, home, profile, colour)
        elif profile is not None:
            _resolve_home(ctx, str(ctx.obj.root), profile, colour)

    return alias


@click.group(cls=LifecycleGroup, lazy_commands=GATEWAY_COMMANDS)
@click.version_option(package_name="hermes-lifecycle", prog_name="hermes-lifecycle")
@_home_options
@click.pass_context
def lifecycle(ctx: click.Context, home: str | None, profile: str | None, colour: str) -> None:
    """Start, stop, restart, install and inspect the Hermes gateway of one profile.

    The same commands as `python -m hermes_lifecycle.cli.main gateway ...`, and, inside a Hermes
    install with the plugin enabled, `hermes lifecycle ...`.  Every step is recorded in the event
    log in HOME/state.db; `status --history`, `events` and `forensics` read it back.
    """
    _resolve_home(ctx, home, profile, colour)


def _complete(name: str, ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """A completer of cli/completion.py, imported only when the shell asks (never on a command)."""
    from hermes_lifecycle.cli import completion

    return getattr(completion, name)(ctx, param, incomplete)


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


#: How ``python -m`` names this module: the program name of :func:`main` in usage hints.
PYTHON_ENTRY = "python -m hermes_lifecycle.cli.main"


def main() -> None:
    """The console script.  A short command (not ``run``) ends with :func:`_exit_now`."""
    import os

    # The completion script is bound to the name the shell runs; usage hints name this entry
    # itself (a bare `hermes-lifecycle ...` would be hermes-agent's own gateway).
    prog = os.path.basename(sys.argv[0]) if os.environ.get(COMPLETE_VAR) else PYTHON_ENTRY
    if not _fast_exit_allowed(sys.argv[1:]):
        hermes(prog_name=prog, complete_var=COMPLETE_VAR)
        return
    try:
        hermes(prog_name=prog, complete_var=COMPLETE_VAR)
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
        lifecycle.main(args=argv, prog_name=prog_name, standalone_mode=True, complete_var=COMPLETE_VAR)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    main()  # click ends the process with the command's exit code
