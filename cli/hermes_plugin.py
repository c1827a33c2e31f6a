"""The hermes-agent plugin: ``hermes lifecycle ...`` runs the ``hermes-lifecycle`` commands.

hermes-agent finds this module through the entry-point group ``hermes_agent.plugins`` and
calls :func:`register` once the plugin is enabled (``hermes plugins enable lifecycle``).
It is imported on every ``hermes`` invocation that discovers plugins, so it imports nothing
of the engine: the command line is forwarded, unparsed, to our click group when it runs.
"""

from __future__ import annotations

import argparse
from typing import Any

NAME = "lifecycle"
HELP = "Gateway lifecycle: start, stop, drain, restart, install, with every step in state.db"
DESCRIPTION = ("The hermes-lifecycle commands, e.g. `hermes lifecycle status --history`. "
               "`hermes lifecycle` alone lists them; `hermes lifecycle COMMAND --help` explains one.")


def register(ctx: Any) -> None:
    """hermes-agent's plugin hook: add ``hermes lifecycle``."""
    ctx.register_cli_command(NAME, HELP, setup, handle, description=DESCRIPTION)


def setup(parser: argparse.ArgumentParser) -> None:
    """Everything from the command on is ours: click parses it, so argparse must not.

    argparse's remainder cannot start with an option, so the option that comes before the
    command (``--home``) is taken here and handed on.  ``--profile`` never arrives: hermes-agent
    takes ``-p/--profile`` itself and sets ``HERMES_HOME`` to that profile's home, which we read
    as that profile.
    """
    parser.add_argument("--home", dest="lifecycle_home", metavar="DIR", default=None,
                        help="Hermes home holding state.db (default: $HERMES_HOME, else ~/.hermes)")
    parser.add_argument("lifecycle_argv", nargs=argparse.REMAINDER, metavar="COMMAND ...",
                        help="a hermes-lifecycle command and its options")


def forwarded_argv(args: argparse.Namespace) -> list[str]:
    """The command line for our click group, rebuilt from what argparse took."""
    argv = ["--home", args.lifecycle_home] if args.lifecycle_home is not None else []
    return argv + list(args.lifecycle_argv)


def handle(args: argparse.Namespace) -> None:
    """Run the command and leave with its exit code (hermes-agent ignores a return value)."""
    from hermes_lifecycle.cli.main import lifecycle_main

    raise SystemExit(lifecycle_main(forwarded_argv(args), prog_name="hermes lifecycle"))
