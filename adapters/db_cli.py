"""`consultant db upgrade`: apply the packaged migrations to DATABASE_URL (or the embedded default)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations")
    upgrade.set_defaults(run=_upgrade, log_default="INFO")


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
