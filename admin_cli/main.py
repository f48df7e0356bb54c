"""``haven-admin``: the operators' command line over Haven's database.

It finds the database from ``--database-url``, ``HAVEN_DATABASE_URL`` or the
service's config file (``--config`` / ``HAVEN_CONFIG``), so it works while the
service is down. This first version covers the schema and the room list;
reports, members, sanctions and the audit log come with their issues.

Examples::

    haven-admin --config /etc/haven/haven.toml rooms list
    haven-admin --database-url postgresql://haven@db/haven rooms list --json
    haven-admin db upgrade
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from muc.storage.models import AffiliationRow, MessageRow, RoomRow
from muc.storage.store import StorageError, Store


def _database_url(config: str | None, url: str | None) -> str:
    if url:
        return url
    path = Path(config or "haven.toml")
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise click.ClickException(
            f"no database given: pass --database-url, set HAVEN_DATABASE_URL, or point "
            f"--config at the service's config file ({path}: {exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"{path} is not valid TOML: {exc}") from exc
    return str(data.get("database", {}).get("url", "sqlite:///haven.db"))


@click.group()
@click.option("--config", "-c", envvar="HAVEN_CONFIG", type=click.Path(dir_okay=False),
              help="The service's TOML config file (default haven.toml).")
@click.option("--database-url", envvar="HAVEN_DATABASE_URL",
              help="SQLAlchemy URL of the database, instead of the config file's.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, database_url: str | None) -> None:
    """Administer a Haven service: rooms and the database schema."""
    ctx.obj = {"url": lambda: _database_url(config, database_url)}


def _store(ctx: click.Context) -> Store:
    try:
        store = Store(ctx.obj["url"]())
        store.check()
    except StorageError as exc:
        raise click.ClickException(f"database: {exc}") from exc
    return store


@cli.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply migrations up to the newest schema.

    Example: haven-admin --config haven.toml db upgrade
    """
    store = _store(ctx)
    store.upgrade()
    click.echo(f"Database at revision {store.current_revision()}")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the schema revision and the newest one.

    Example: haven-admin --config haven.toml db current
    """
    store = _store(ctx)
    click.echo(f"current: {store.current_revision() or '(empty)'}  head: {store.head_revision()}")


@cli.group()
def rooms() -> None:
    """The rooms the service keeps."""


@rooms.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_rooms(ctx: click.Context, as_json: bool) -> None:
    """List stored rooms with their name, flags and archive size.

    Example: haven-admin rooms list --json
    """
    store = _store(ctx)
    rows = []
    with Session(store.engine) as s:
        counts = dict(s.execute(select(MessageRow.room_id, func.count()).group_by(
            MessageRow.room_id)).all())
        owners: dict[int, list[str]] = {}
        for a in s.scalars(select(AffiliationRow).where(AffiliationRow.affiliation == "owner")):
            owners.setdefault(a.room_id, []).append(a.jid)
        for r in s.scalars(select(RoomRow).order_by(RoomRow.jid)):
            cfg = r.config
            rows.append({
                "jid": r.jid, "name": cfg.get("name", ""),
                "public": cfg.get("public", True), "moderated": cfg.get("moderated", False),
                "members_only": cfg.get("members_only", False),
                "messages": counts.get(r.id, 0), "owners": owners.get(r.id, []),
                "subject": r.subject,
            })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No rooms.")
        return
    width = max(len(r["jid"]) for r in rows)
    click.echo(f"{'ROOM'.ljust(width)}  {'NAME':24} FLAGS      MESSAGES")
    for r in rows:
        flags = ("P" if r["public"] else "h") + ("M" if r["moderated"] else "-") + (
            "m" if r["members_only"] else "-")
        click.echo(f"{r['jid'].ljust(width)}  {r['name'][:24]:24} {flags:10} {r['messages']}")


@cli.group()
def audit() -> None:
    """The audit trail of moderation and administration actions."""


@audit.command("list")
@click.option("--room", help="Only actions in this room (its JID).")
@click.option("--action", help="Only this action (kick, ban, role, affiliation, retract, …).")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="How many of the newest entries.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def audit_list(ctx: click.Context, room: str | None, action: str | None, limit: int,
               as_json: bool) -> None:
    """Show the newest audit entries, oldest first.

    Example: haven-admin audit list --room anxiety@rooms.example.org --action ban
    """
    store = _store(ctx)
    rows = [r for r in store.audit_entries()
            if (room is None or r.room == room) and (action is None or r.action == action)]
    rows = rows[-limit:]
    data = [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
             "room": r.room, "target": r.target, "reason": r.reason, "details": r.details}
            for r in rows]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data:
        click.echo("No audit entries.")
        return
    for d in data:
        reason = f"  ({d['reason']})" if d["reason"] else ""
        click.echo(f"{d['id']:>5} {d['at'][:19]} {d['actor']:<24} {d['action']:<12} "
                   f"{d['target'] or '-'} in {d['room'] or '-'}{reason}")


@audit.command()
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the hash chain; exit 1 and name the first bad entry if it was tampered with.

    Example: haven-admin audit verify
    """
    ok, bad = _store(ctx).verify_audit()
    if not ok:
        click.echo(f"TAMPERED: the audit log's hash chain breaks at entry {bad}.", err=True)
        ctx.exit(1)
    click.echo("OK: the audit log's hash chain is intact.")
