"""Shared fixtures: a migrated store on SQLite always (SQLAlchemy's and the console's sqlite3 one), and on
PostgreSQL when configured."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("CONSULTANT_TEST_DATABASE_URL")
STORE_BACKENDS = ["sqlite", "sqlite3", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL store tests need CONSULTANT_TEST_DATABASE_URL (set by .ci/run)"))]


@pytest.fixture(params=STORE_BACKENDS)
async def sql_store(request, tmp_path):
    from bot.store.migrate import upgrade
    from bot.store.sql import SqlStore, make_engine

    if request.param == "sqlite3":
        from bot.store.sqlite import SqliteStore

        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        store = await SqliteStore.open(url)
        # SQLAlchemy's view of the same file, for the tests that inspect rows or open a second store through
        # `.engine`: they also prove that the two SQLite stores read each other's rows.
        store.engine = make_engine(url)
        yield store
        await store.close()
        await store.engine.dispose()
        return
    if request.param == "sqlite":
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
        await upgrade(store.engine)
        yield store
        await store.close()
        return
    # Each test gets its own schema in the shared database, so runs never see each other's rows.
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = SqlStore(create_async_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}}))
    await upgrade(store.engine)
    yield store
    await store.close()
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()
