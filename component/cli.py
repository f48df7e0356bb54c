"""``haven``: run the service, or check a config file.

Examples::

    haven run --config /etc/haven/haven.toml
    haven check-config --config haven.toml

The schema is migrated on start; ``haven-admin db upgrade`` does it by hand.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import click

from component.config import ConfigError, HavenConfig, load
from muc.storage.store import StorageError, Store

CONFIG_OPTION = click.option(
    "--config", "-c", "config_path", envvar="HAVEN_CONFIG", default="haven.toml",
    show_default=True, type=click.Path(dir_okay=False),
    help="The TOML config file (or set HAVEN_CONFIG).")


def _load(config_path: str) -> HavenConfig:
    try:
        return load(config_path)
    except ConfigError as exc:
        raise click.ClickException(f"config: {exc}") from exc


def setup_logging(level: str) -> None:
    """Log to stderr. Message bodies are never logged at INFO or above."""
    logging.basicConfig(level=getattr(logging, level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        logging.getLogger("slixmpp").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


@click.group()
def main() -> None:
    """Haven: an XMPP multi-user chat service for peer-support rooms."""


@main.command()
@CONFIG_OPTION
def run(config_path: str) -> None:
    """Connect to the XMPP server and serve the rooms until SIGTERM/SIGINT.

    Example: haven run --config deploy/demo.toml
    """
    cfg = _load(config_path)
    setup_logging(cfg.log_level)
    from component.app import HavenApp

    async def serve() -> int:
        try:
            app = HavenApp(cfg)
        except StorageError as exc:
            raise click.ClickException(f"database: {exc}") from exc
        return await app.run()

    sys.exit(asyncio.run(serve()))


@main.command("check-config")
@CONFIG_OPTION
def check_config(config_path: str) -> None:
    """Validate the config file and reach the database; change nothing.

    Example: haven check-config --config haven.toml
    """
    cfg = _load(config_path)
    try:
        Store(cfg.database_url).check()
    except StorageError as exc:
        raise click.ClickException(f"database: {exc}") from exc
    click.echo(f"OK: {cfg.jid} on {cfg.server_host}:{cfg.server_port}, "
               f"{len(cfg.rooms)} room(s), database reachable")
