"""Test fixture: ``hermes lifecycle-host ARGS`` runs ``python -m hermes_lifecycle.cli.main ARGS``."""

import argparse


def _setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def _handle(args: argparse.Namespace) -> None:
    from hermes_lifecycle.cli.main import hermes

    hermes.main(args=list(args.rest), prog_name="hermes lifecycle-host")


def register(ctx) -> None:
    ctx.register_cli_command("lifecycle-host", "our gateway commands (test fixture)", _setup, _handle)
