"""Applies the packaged Alembic migrations on the store's own async engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.port import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(connection=None):  # noqa: ANN001, ANN202
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command
    from sqlalchemy.exc import DBAPIError

    def run(sync_conn):  # noqa: ANN001, ANN202
        command.upgrade(_config(sync_conn), revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    except (OSError, DBAPIError) as exc:
        raise StoreError(f"cannot migrate the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc


async def current(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(sync_conn):  # noqa: ANN001, ANN202
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
