"""``hermes-lifecycle logs``: the gateway's own output, so nobody has to know where it is written."""

from __future__ import annotations

import click

from hermes_lifecycle import CLI, Home
from hermes_lifecycle.cli.options import Count


@click.command()
@click.option("-n", "--lines", "lines", type=Count(min=0), default=None, metavar="N",
              help="Only the last N lines (default: all; with --follow: 10).")
@click.option("-f", "--follow", "follow", is_flag=True,
              help="Keep running and print new output as it is written (Ctrl+C or SIGTERM ends).")
@click.pass_obj
def logs(home: Home, lines: int | None, follow: bool) -> None:
    """Print the gateway's own output: logs/gateway-stdio.log under the home and its rotations
    (name.1, name.2.gz, ...), oldest first, as the detached gateway and the service write it.

    A gateway run in the foreground (`hermes-lifecycle run`) writes to its terminal instead.
    """
    from hermes_lifecycle import follow_gateway_log as follow_log
    from hermes_lifecycle import gateway_log_files as log_files
    from hermes_lifecycle import gateway_log_tail as last_lines

    if not log_files(home.stdio_log) and not follow:
        click.echo(f"no gateway output yet: {home.stdio_log} does not exist "
                   f"(`{CLI} start` or the service writes it)", err=True)
        return
    shown, offset = last_lines(home.stdio_log, 10 if lines is None and follow else lines)
    click.echo("".join(shown), nl=False)
    if not follow:
        return
    from hermes_lifecycle.cli.terminal import end_on_sigterm, quiet_stdout

    end_on_sigterm()
    try:
        for line in follow_log(home.stdio_log, offset):
            click.echo(line, nl=False)
    except (KeyboardInterrupt, BrokenPipeError):
        quiet_stdout()
