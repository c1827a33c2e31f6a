"""Test fixture: ``hermes lifecycle ARGS`` runs ``hermes_lifecycle.cli.main`` with ARGS."""

import argparse


def _setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def _handle(args: argparse.Namespace) -> None:
    from hermes_lifecycle.cli.main import hermes

    hermes.main(args=list(args.rest), prog_name="hermes lifecycle")


def register(ctx) -> None:
    ctx.register_cli_command("lifecycle", "hermes-lifecycle commands", _setup, _handle)
