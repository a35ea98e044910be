"""Retention purge, `consultant db purge`, the purge `serve` runs, and `forget`."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from adapters.cli import main
from adapters.server import create_web_app
from bot.bootstrap import build_app
from bot.config import Settings
from bot.consult.engine import Engine
from bot.messages import Inbound
from bot.retention import purge_older_than
from bot.store import tables as t
from bot.store.sql import SqlStore
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=120)


async def _age(store, thread_id: str, when: datetime) -> None:  # noqa: ANN001
    """Backdate a thread and everything in it, as if it had been written `when`."""
    async with store.engine.begin() as conn:
        await conn.execute(update(t.threads).where(t.threads.c.id == thread_id).values(created_at=when))
        await conn.execute(update(t.messages).where(t.messages.c.thread_id == thread_id).values(created_at=when))
        await conn.execute(update(t.case_facts).where(t.case_facts.c.thread_id == thread_id).values(updated_at=when))
        answers = select(t.messages.c.id).where(t.messages.c.thread_id == thread_id)
        await conn.execute(update(t.feedback).where(t.feedback.c.answer_id.in_(answers)).values(created_at=when))


async def _count(store, table) -> int:  # noqa: ANN001
    async with store.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar()


async def _conversation(store, key) -> str:  # noqa: ANN001
    thread = await store.thread_id(key)
    await store.add_turn(thread, "user", "orders slow on postgres 15")
    answer = await store.add_turn(thread, "assistant", "Batch the loads.")
    await store.save_facts(thread, {"database": "PostgreSQL"})
    await store.add_feedback(answer, "U1", "up", key[0])
    return thread


async def test_purge_deletes_what_is_older_than_the_cutoff_and_keeps_the_rest(sql_store):
    old = await _conversation(sql_store, ("slack", "T1", "C1", "old"))
    recent = await _conversation(sql_store, ("slack", "T1", "C1", "recent"))
    await _age(sql_store, old, OLD)
    await sql_store.claim_event("slack:Ev-old", "slack")
    async with sql_store.engine.begin() as conn:
        await conn.execute(update(t.processed_events).values(created_at=OLD))
    await sql_store.claim_event("slack:Ev-new", "slack")
    await sql_store.add_usage("tenant-hour", "slack:T1", OLD, turns=3)

    deleted = await purge_older_than(sql_store, 90)

    assert deleted == {"feedback": 1, "messages": 2, "case_facts": 1, "processed_events": 1, "usage_counters": 1,
                       "threads": 1}
    assert await sql_store.turns(recent) and await sql_store.facts(recent)
    assert await sql_store.find_thread(("slack", "T1", "C1", "old")) is None
    assert await _count(sql_store, t.feedback) == 1 and await _count(sql_store, t.processed_events) == 1
    assert not await sql_store.claim_event("slack:Ev-new", "slack")  # recent dedupe keys still hold
    # The purged thread starts afresh when someone writes in it again.
    again = await sql_store.thread_id(("slack", "T1", "C1", "old"))
    assert again != old and await sql_store.turns(again) == []


async def test_forget_deletes_the_threads_data_and_nothing_else(sql_store):
    keep = await _conversation(sql_store, ("teams", "T1", "C1", "keep"))
    await _conversation(sql_store, ("teams", "T1", "C1", "gone"))
    engine = Engine(store=sql_store, retriever=KeywordRetriever(FAKE_NOTES))
    reply = await engine.handle(Inbound("teams", "T1", "C1", "gone", "U1", "forget", kind="command",
                                        command="forget"))
    assert "deleted this thread's 2 stored messages" in reply.text
    gone = await sql_store.find_thread(("teams", "T1", "C1", "gone"))
    assert await sql_store.turns(gone) == [] and await sql_store.facts(gone) == {}
    assert await _count(sql_store, t.feedback) == 1 and len(await sql_store.turns(keep)) == 2
    again = await engine.handle(Inbound("teams", "T1", "C1", "gone", "U1", "forget", kind="command",
                                        command="forget"))
    assert "nothing stored" in again.text
    # The conversation can go on afterwards, from a clean slate.
    await engine.handle(Inbound("teams", "T1", "C1", "gone", "U1", "orders slow n+1"))
    assert [t.role for t in await sql_store.turns(gone)] == ["user", "assistant"]


async def test_memory_store_forget_and_purge_agree_with_the_sql_store():
    store = MemoryStore()
    thread = await store.thread_id(("console", "local", "cli", "x"))
    answer = await store.add_turn(thread, "assistant", "hi")
    await store.add_feedback(answer, "local", "up", "console")
    assert await store.forget_thread(("console", "local", "cli", "x")) == 1
    assert store.feedback == [] and await store.turns(thread) == []
    assert (await store.purge(NOW + timedelta(seconds=1)))["messages"] == 0


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return {"CONSULTANT_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
            **extra}


async def _seed_old_and_new(tmp_path) -> None:  # noqa: ANN001
    app = await build_app(Settings.from_env(_env(tmp_path)), retriever=KeywordRetriever(FAKE_NOTES))
    for name in ("old", "new"):
        await _conversation(app.store, ("console", "local", "cli", name))
    old = await app.store.find_thread(("console", "local", "cli", "old"))
    await app.close()
    rows = SqlStore.from_url(_env(tmp_path)["DATABASE_URL"])  # the console wrote with sqlite3; age through SQLAlchemy
    await _age(rows, old, OLD)
    await rows.close()


def _messages(tmp_path) -> int:  # noqa: ANN001
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0]


@pytest.mark.parametrize("argv, left", [(["db", "purge"], 2), (["db", "purge", "--older-than", "200"], 4)])
async def test_db_purge_command(tmp_path, monkeypatch, capsys, argv, left):
    await _seed_old_and_new(tmp_path)
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(main, argv)
    assert code == 0 and "purged data older than" in capsys.readouterr().out
    assert _messages(tmp_path) == left


async def test_db_purge_rejects_a_bad_age(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "purge", "--older-than", "soon"])
    assert exit_info.value.code == 2 and "DAYS must be a number" in capsys.readouterr().err


async def test_serve_purges_at_startup(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    await _seed_old_and_new(tmp_path)
    app = await build_app(Settings.from_env(_env(tmp_path, CONSULTANT_RETENTION_DAYS="30")),
                          retriever=KeywordRetriever(FAKE_NOTES))
    async with TestClient(TestServer(create_web_app(app, mounts=[]))) as client:
        assert (await client.get("/healthz")).status == 200
        for _ in range(100):
            if _messages(tmp_path) == 2:
                break
            await asyncio.sleep(0.02)
    assert _messages(tmp_path) == 2


def test_retention_days_default_and_zero():
    assert Settings.from_env({}).retention_days == 90
    assert Settings.from_env({"CONSULTANT_RETENTION_DAYS": "0"}).retention_days == 0
