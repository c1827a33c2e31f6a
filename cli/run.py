"""``hermes-lifecycle run``: serve the gateway in the foreground until it is stopped."""

from __future__ import annotations

import logging

import click

from hermes_lifecycle import CLI, Home


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="TCP port on the host (default: config `port`, else 0 = any free port).")
@click.option("--host", default=None, help="Address to listen on (default: config `host`, else 127.0.0.1).")
@click.option("--drain-timeout", "drain_timeout", type=click.FloatRange(min=0, min_open=True, max=86400),
              default=None, metavar="S",
              help="Seconds in-flight work may take after a stop (default: config `restart_drain_timeout`, else 30).")
@click.option("--app", "app_spec", default=None, metavar="MODULE:FACTORY",
              help="Run another asyncio app through the runtime (default: the reference gateway).")
@click.option("--replace", is_flag=True,
              help="Ask the running gateway of this profile to stop (drain), wait for it, then start.")
@click.option("--health", "health", default=None, metavar="ADDR:PORT",
              help="Serve HTTP /livez and /readyz on ADDR:PORT for orchestrators (off by default).")
@click.pass_obj
def run(home: Home, port: int | None, host: str | None, drain_timeout: float | None,
        app_spec: str | None, replace: bool, health: str | None) -> None:
    """Run the gateway in the foreground until a signal or a stop request drains it.

    Exit codes: 0 planned stop, 75 planned restart, 1 unplanned signal or failure,
    78 fatal configuration error (see README: exit codes).
    """
    from hermes_lifecycle import DEFAULT_APP, RunOptions, parse_health_address, run_gateway

    try:
        probes = parse_health_address(health) if health is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--health") from None
    logging.basicConfig(level=logging.WARNING, format=f"{CLI}: %(message)s")
    code = run_gateway(home, RunOptions(port=port, host=host, drain_timeout=drain_timeout,
                                        app=app_spec or DEFAULT_APP, replace=replace,
                                        health=probes))
    click.get_current_context().exit(code)
