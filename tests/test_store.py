"""The SQL store, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.port import StoreError, Usage
from bot.store.sql import SqlStore


async def test_threads_are_keyed_by_platform_tenant_channel_thread(sql_store):
    a = await sql_store.thread_id(("slack", "T1", "C1", "100.1"))
    again = await SqlStore(sql_store.engine).thread_id(("slack", "T1", "C1", "100.1"))  # no process cache
    other_tenant = await sql_store.thread_id(("slack", "T2", "C1", "100.1"))
    other_platform = await sql_store.thread_id(("teams", "T1", "C1", "100.1"))
    assert a == again and len({a, other_tenant, other_platform}) == 3


async def test_find_thread_never_creates_one(sql_store):
    key = ("slack", "T1", "C1", "200.1")
    assert await sql_store.find_thread(key) is None
    created = await sql_store.thread_id(key)
    assert await SqlStore(sql_store.engine).find_thread(key) == created


async def test_turns_come_back_in_order_with_meta(sql_store):
    thread = await sql_store.thread_id(("console", "local", "cli", "x"))
    ids = [await sql_store.add_turn(thread, role, f"turn {i}", {"i": i})
           for i, role in enumerate(["user", "assistant", "context", "user"])]
    turns = await sql_store.turns(thread)
    assert [t.id for t in turns] == ids
    assert [t.meta["i"] for t in turns] == [0, 1, 2, 3] and turns[2].role == "context"


async def test_facts_upsert_keeps_unnamed_facts(sql_store):
    thread = await sql_store.thread_id(("console", "local", "cli", "f"))
    await sql_store.save_facts(thread, {"database": "PostgreSQL", "orm": "Django ORM"})
    await sql_store.save_facts(thread, {"database": "MySQL"})
    assert await sql_store.facts(thread) == {"database": "MySQL", "orm": "Django ORM"}


async def test_claim_event_is_exactly_once_even_concurrently(sql_store):
    results = await asyncio.gather(*[sql_store.claim_event("slack:Ev1", "slack") for _ in range(5)])
    assert sorted(results) == [False, False, False, False, True]
    assert await sql_store.claim_event("slack:Ev2", "slack") is True


async def test_claims_survive_a_new_store_on_the_same_database(sql_store):
    assert await sql_store.claim_event("teams:a1", "teams")
    assert not await SqlStore(sql_store.engine).claim_event("teams:a1", "teams")


async def test_feedback_is_stored_per_answer_and_user(sql_store):
    from sqlalchemy import select

    from bot.store.tables import feedback

    thread = await sql_store.thread_id(("slack", "T", "C", "1"))
    answer = await sql_store.add_turn(thread, "assistant", "answer")
    await sql_store.add_feedback(answer, "U1", "up", "slack")
    await sql_store.add_feedback(answer, "U1", "down", "slack")  # a changed vote replaces the old one
    await sql_store.add_feedback(answer, "U2", "up", "slack")
    async with sql_store.engine.connect() as conn:
        rows = (await conn.execute(select(feedback.c.user, feedback.c.value).order_by(feedback.c.user))).all()
    assert [tuple(r) for r in rows] == [("U1", "down"), ("U2", "up")]
    with pytest.raises(StoreError):
        await sql_store.add_feedback("no-such-answer", "U1", "up", "slack")


async def test_ping_succeeds_and_an_unreachable_database_raises_store_error(sql_store):
    await sql_store.ping()
    dead = SqlStore.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="unreachable"):
        await dead.ping()
    await dead.close()


def test_the_head_read_from_the_files_is_alembics_head():
    from alembic.script import ScriptDirectory

    from bot.store.migrate import _config, head

    assert head() == ScriptDirectory.from_config(_config()).get_current_head()


async def test_a_database_migrated_by_a_newer_release_gets_one_clear_line(tmp_path):
    from sqlalchemy import text

    from bot.store.migrate import behind, upgrade
    from bot.store.port import StoreError
    from bot.store.sql import SqlStore

    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'newer.sqlite3'}")
    await upgrade(store.engine)
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(StoreError, match="revision 0099, which this release does not know"):
        await upgrade(store.engine)
    assert "deploy the newer release" in await behind(store.engine)
    await store.close()


async def test_the_console_and_the_server_stores_share_one_sqlite_file(tmp_path):
    """`ask`/`chat` (sqlite3) and `serve` (SQLAlchemy) may run at once on the embedded file: their writes
    interleave under SQLite's locking, each reads the other's rows, and shared counters lose no increment."""
    from datetime import datetime, timezone

    from bot.store.sqlite import SqliteStore

    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    console = await SqliteStore.open(url)
    server = SqlStore.from_url(url)
    try:
        key = ("slack", "T1", "C1", "1.1")
        thread = await server.thread_id(key)
        assert await console.thread_id(key) == thread
        window = datetime(2026, 11, 30, 14, tzinfo=timezone.utc)

        async def write(store, who: str) -> None:  # noqa: ANN001
            for i in range(25):
                await store.add_turn(thread, "user", f"{who} {i}", {"who": who})
                await store.add_usage("tenant-hour", "slack:T1", window, turns=1, tokens=10)

        await asyncio.gather(write(console, "console"), write(server, "server"))
        orders = []
        for store in (console, server):
            turns = await store.turns(thread)
            assert len(turns) == 50 and {t.meta["who"] for t in turns} == {"console", "server"}
            orders.append([(t.id, t.text, t.created_at) for t in turns])
            assert await store.usage("tenant-hour", "slack:T1", window) == Usage(50, 500)
        assert orders[0] == orders[1]  # the same history, in the same order, whichever store reads it
        await console.save_facts(thread, {"database": "PostgreSQL 15"})
        assert await server.facts(thread) == {"database": "PostgreSQL 15"}
        assert await server.claim_turn("slack:Ev1", "slack", {"event": {"text": "hi"}}, "server", 30)
        assert not await console.claim_event("slack:Ev1", "slack")
    finally:
        await console.close()
        await server.close()
