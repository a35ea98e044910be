"""Shared fixtures: a migrated SQL store on SQLite always, and on PostgreSQL when configured."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("CONSULTANT_TEST_DATABASE_URL")
STORE_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL store tests need CONSULTANT_TEST_DATABASE_URL (set by .ci/run)"))]


@pytest.fixture(params=STORE_BACKENDS)
async def sql_store(request, tmp_path):
    from bot.store.migrate import upgrade
    from bot.store.sql import SqlStore

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
