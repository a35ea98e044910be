"""`consultant db upgrade` applies the packaged migrations to DATABASE_URL (or the embedded default);
`consultant db purge [--older-than DAYS]` deletes stored data older than the retention period."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations")
    upgrade.set_defaults(run=_upgrade, log_default="INFO")
    purge = actions.add_parser("purge", help="delete stored conversations, facts, feedback and events older than "
                                             "the retention period")
    purge.add_argument("--older-than", type=_days, default=None, metavar="DAYS",
                       help="age in days (default $CONSULTANT_RETENTION_DAYS, else 90)")
    purge.set_defaults(run=_purge, log_default="WARNING")


def _days(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"DAYS must be a number, got {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"DAYS must be more than 0, got {raw!r}")
    return value


def _purge(args: argparse.Namespace) -> int:
    import asyncio

    from bot.config import Settings
    from bot.errors import ConfigError
    from bot.retention import purge_older_than
    from bot.store.migrate import upgrade
    from bot.store.sql import SqlStore

    settings = Settings.from_env()
    days = args.older_than if args.older_than is not None else settings.retention_days
    if days <= 0:
        raise ConfigError("CONSULTANT_RETENTION_DAYS is 0 (keep everything); pass --older-than DAYS to purge anyway")

    async def go() -> dict[str, int]:
        store = SqlStore.from_url(settings.database_url)
        try:
            if settings.uses_embedded_database:
                await upgrade(store.engine)
            return await purge_older_than(store, days)
        finally:
            await store.close()

    deleted = asyncio.run(go())
    summary = ", ".join(f"{count} {table}" for table, count in deleted.items())
    print(f"purged data older than {days:g} days: {summary}")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bot.config import Settings
    from bot.store.migrate import current, upgrade
    from bot.store.sql import make_engine

    async def go() -> str | None:
        settings = Settings.from_env()
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(go())
    logging.getLogger("consultant.db").info("database at revision", extra={"revision": revision})
    print(f"database upgraded to revision {revision}")
    return 0
