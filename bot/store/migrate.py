"""Applies the packaged Alembic migrations on the store's own async engine, one process at a time.

Every path that migrates (`consultant db upgrade`, the first `ask`/`chat`, `serve` at start) goes through
`upgrade`, which holds a lock for the whole run: `pg_advisory_xact_lock` on PostgreSQL (released when the migration
transaction ends, even if the process dies) and an exclusive file lock next to the SQLite database. The second of
two concurrent starts then waits, finds the schema at head and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.store.port import StoreError

if TYPE_CHECKING:  # the console's sqlite3 store reads revisions here without importing SQLAlchemy
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory locks are keyed by one bigint; this one is "consultant migrations" to every replica of this app.
PG_LOCK_KEY = 0x636F6E73756C74


def _config(connection=None):  # noqa: ANN001, ANN202
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _revisions() -> tuple[set[str], set[str]]:
    """(every revision, every revision something builds on), read from the version files without alembic."""
    import re

    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"):
        source = path.read_text()
        if match := re.search(r'^revision = "([^"]+)"', source, re.M):
            revisions.add(match.group(1))
        if match := re.search(r'^down_revision = "([^"]+)"', source, re.M):
            parents.add(match.group(1))
    return revisions, parents


def head() -> str:
    """The newest revision, read from the version files (importing alembic costs ~0.1 s of every start)."""
    revisions, parents = _revisions()
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else ""


def _newer(at: str) -> str:
    return (f"the database schema is at revision {at}, which this release does not know (a newer release migrated "
            f"it; this one needs {head()}): deploy the newer release, or restore a backup from before it")


def _sqlite_path(engine: AsyncEngine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive lock on `<database>.migrate-lock`; waiting happens in a thread, off the event loop."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: msvcrt locks a byte range instead
            import msvcrt

            await asyncio.to_thread(msvcrt.locking, fd, msvcrt.LK_LOCK, 1)
        else:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    # Most starts find the schema current: one query, no lock and no alembic import.
    if revision == "head":
        try:
            if (wanted := head()) and await current(engine) == wanted:
                return
        except Exception:  # noqa: BLE001 - unreachable or odd database: the full path below reports it properly
            pass
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    def run(sync_conn):  # noqa: ANN001, ANN202
        command.upgrade(_config(sync_conn), revision)

    sqlite_path = _sqlite_path(engine)
    try:
        async with _file_lock(sqlite_path) if sqlite_path else contextlib.nullcontext():
            async with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
                await conn.run_sync(run)
    except (OSError, DBAPIError) as exc:
        raise StoreError(f"cannot migrate the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
    except CommandError as exc:  # "Can't locate revision …": the schema is ahead of this code
        at = await current(engine)
        raise StoreError(_newer(at) if at and at not in _revisions()[0] else f"cannot migrate the database: {exc}") \
            from exc


async def current(engine: AsyncEngine) -> str | None:
    """The database's revision (alembic_version), or None before the first migration."""
    from sqlalchemy import inspect, text

    async with engine.connect() as conn:
        if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
            return None
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


async def behind(engine: AsyncEngine) -> str | None:
    """Why this code cannot use the database's schema yet, or None when it is at the head revision."""
    from sqlalchemy.exc import DBAPIError

    try:
        at = await current(engine)
    except (OSError, DBAPIError) as exc:
        raise StoreError(f"cannot read the schema revision: {exc.__class__.__name__}") from exc
    return explain_revision(at)


def explain_revision(at: str | None) -> str | None:
    """Why a database at revision `at` (None: never migrated) cannot be used by this code, or None at head."""
    wanted = head()
    if at == wanted:
        return None
    if at is None:
        return f"the database is not migrated (code needs revision {wanted}); run `consultant db upgrade`"
    if at not in _revisions()[0]:
        return _newer(at)
    return f"the database schema is at revision {at}, the code needs {wanted}; run `consultant db upgrade`"
