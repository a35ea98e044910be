"""The inbox of durable turns and the migration lock, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.migrate import behind, head
from bot.store.sql import SqlStore
from tests.fakes import MemoryStore

PAYLOAD = {"event": {"channel": "C1", "ts": "1.1", "text": "[REDACTED] help"}, "kind": "mention"}


@pytest.fixture(params=["sql", "memory"])
async def store(request, sql_store):
    return sql_store if request.param == "sql" else MemoryStore()


async def test_a_claimed_turn_is_a_dedupe_claim_too(store):
    assert await store.claim_turn("slack:E1", "slack", PAYLOAD, "a", lease=30)
    assert not await store.claim_turn("slack:E1", "slack", PAYLOAD, "b", lease=30)
    assert not await store.claim_event("slack:E1", "slack")


async def test_only_expired_leases_are_taken_and_each_by_one_taker(store):
    await store.claim_turn("slack:live", "slack", PAYLOAD, "a", lease=30)
    await store.claim_turn("slack:dead", "slack", PAYLOAD, "a", lease=0.05)
    await store.note_turn("slack:dead", {"placeholder_ts": "9.9"})
    await asyncio.sleep(0.1)
    takes = await asyncio.gather(*[store.take_expired_turns("slack", f"r{i}", 30) for i in range(4)])
    taken = [item for batch in takes for item in batch]
    assert [i.key for i in taken] == ["slack:dead"]
    item = taken[0]
    assert item.payload == PAYLOAD and item.attempts == 2 and item.result == {"placeholder_ts": "9.9"}
    assert await store.take_expired_turns("slack", "x", 30) == []  # now leased to its taker
    assert await store.take_expired_turns("teams", "x", 30) == []


async def test_finished_turns_are_never_resumed_and_drop_their_payload(store):
    from sqlalchemy import select

    from bot.store.tables import processed_events

    await store.claim_turn("slack:E2", "slack", PAYLOAD, "a", lease=0.01)
    await store.claim_turn("slack:E2f", "slack", PAYLOAD, "a", lease=0.01)
    await store.finish_turn("slack:E2", "answered", {"answer_ts": "5.5"})
    await store.finish_turn("slack:E2f", "failed")
    await asyncio.sleep(0.05)
    assert await store.take_expired_turns("slack", "b", 30) == []
    if isinstance(store, MemoryStore):
        rows = {key: (row[1], row[2], row[6]) for key, row in store.inbox.items()}
    else:
        async with store.engine.connect() as conn:
            found = await conn.execute(select(processed_events.c.key, processed_events.c.payload,
                                              processed_events.c.state, processed_events.c.result))
            rows = {r.key: (r.payload, r.state, r.result) for r in found}
    assert rows["slack:E2"] == (None, "answered", {"answer_ts": "5.5"})
    assert rows["slack:E2f"] == (None, "failed", {}), "no message text is kept once a turn ends"


async def test_renewed_leases_do_not_expire_and_released_ones_resume_at_once(store):
    await store.claim_turn("slack:E3", "slack", PAYLOAD, "a", lease=0.2)
    await store.claim_turn("slack:E4", "slack", PAYLOAD, "a", lease=30)
    await store.renew_leases(["slack:E3"], "a", 30)
    await store.renew_leases(["slack:E4"], "someone-else", 0)  # not theirs: no effect
    await asyncio.sleep(0.3)
    assert await store.take_expired_turns("slack", "b", 30) == []
    await store.release_turns(["slack:E3", "slack:E4"], "a")
    taken = await store.take_expired_turns("slack", "b", 30)
    assert sorted(i.key for i in taken) == ["slack:E3", "slack:E4"] and {i.owner for i in taken} == {"b"}


async def test_a_rerun_drops_only_the_turns_of_its_event(store):
    thread = await store.thread_id(("slack", "T", "C", "1.1"))
    await store.add_turn(thread, "user", "earlier", {"event_id": "Ev0"})
    await store.add_turn(thread, "user", "question", {"event_id": "Ev1"})
    await store.add_turn(thread, "assistant", "half an answer", {"event_id": "Ev1"})
    assert await store.drop_event_turns(thread, "Ev1") == 2
    assert [t.text for t in await store.turns(thread)] == ["earlier"]


async def test_schema_behind_says_why_until_migrated(tmp_path):
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        reason = await store.schema_behind()
        assert reason and "not migrated" in reason and "consultant db upgrade" in reason
        from bot.store.migrate import upgrade

        await upgrade(store.engine, "0001")
        assert "at revision 0001" in (await behind(store.engine) or "")
        await upgrade(store.engine)
        assert await store.schema_behind() is None and head() >= "0002"
    finally:
        await store.close()


async def test_concurrent_upgrades_of_one_fresh_sqlite_file_all_succeed(tmp_path):
    from bot.store.migrate import current, upgrade

    for trial in range(3):
        stores = [SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / f'c{trial}.sqlite3'}") for _ in range(4)]
        try:
            await asyncio.gather(*[upgrade(s.engine) for s in stores])
            assert await current(stores[0].engine) == head()
        finally:
            for s in stores:
                await s.close()


async def test_concurrent_claims_share_writes_and_each_key_is_won_once(sql_store):
    keys = ["slack:B1"] * 5 + ["slack:B2", "slack:B3"] + ["slack:B2"]
    results = await asyncio.gather(*[sql_store.claim_turn(k, "slack", PAYLOAD, "a", 30) for k in keys])
    won = [k for k, first in zip(keys, results) if first]
    assert sorted(won) == ["slack:B1", "slack:B2", "slack:B3"]
    assert not await sql_store.claim_turn("slack:B3", "slack", PAYLOAD, "b", 30)


async def test_a_claim_is_served_before_queued_sqlite_writes(tmp_path):
    from bot.store.migrate import upgrade

    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'q.sqlite3'}")
    await upgrade(store.engine)
    order: list[str] = []
    try:
        thread = await store.thread_id(("slack", "T", "C", "1"))

        async def write(i: int) -> None:
            await store.add_turn(thread, "user", f"turn {i}")
            order.append(f"turn {i}")

        async def claim() -> None:
            await store.claim_turn("slack:P1", "slack", PAYLOAD, "a", 30)
            order.append("claim")

        writes = [asyncio.create_task(write(i)) for i in range(6)]
        await asyncio.sleep(0)  # the writes are queued (the first one holds the writer)
        await asyncio.gather(claim(), *writes)
        assert order.index("claim") <= 1, order
    finally:
        await store.close()


async def test_backlog_counts_pending_turns_and_the_oldest_age(sql_store):
    assert await sql_store.backlog() == (0, 0.0)
    await sql_store.claim_turn("slack:Ev1", "slack", {"event": {}}, "owner-a", 30)
    await sql_store.claim_turn("slack:Ev2", "slack", {"event": {}}, "owner-a", 30)
    depth, oldest = await sql_store.backlog()
    assert depth == 2 and 0 <= oldest < 60
    await sql_store.finish_turn("slack:Ev1", "answered")
    assert (await sql_store.backlog())[0] == 1


async def test_metrics_show_the_inbox_backlog(sql_store, tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from adapters.server import create_web_app
    from bot.bootstrap import App
    from bot.config import Settings
    from tests.fakes import FAKE_NOTES, KeywordRetriever
    from bot.consult.engine import Engine

    await sql_store.claim_turn("slack:Ev9", "slack", {"event": {}}, "owner-a", 30)
    app = App(settings=Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)}), store=sql_store,
              engine=Engine(store=sql_store, retriever=KeywordRetriever(FAKE_NOTES)))
    async with TestClient(TestServer(create_web_app(app, mounts=[]))) as client:
        body = await (await client.get("/metrics")).text()
    assert "consultant_inbox_depth 1.0" in body and "consultant_inbox_oldest_pending_seconds" in body



async def test_only_the_owner_records_the_end_of_a_turn_and_long_keys_work_throughout(store):
    key = "teams:" + "x" * 400  # activity ids come from the caller
    await store.claim_turn(key, "teams", PAYLOAD, "a", lease=0.01)
    await asyncio.sleep(0.05)
    [taken] = await store.take_expired_turns("teams", "b", 30)
    await store.finish_turn(key, "answered", owner="a")  # the old owner finishing late changes nothing
    await store.note_turn(key, {"answer_ts": "1.0"}, owner="a")
    assert (await store.backlog())[0] == 1, "still b's turn, still working"
    again = await store.take_expired_turns("teams", "c", 30)
    assert again == [] and taken.owner == "b"
    await store.finish_turn(taken.key, "answered", owner="b")
    await store.renew_leases([key], "b", 30)
    assert await store.backlog() == (0, 0.0)


async def test_every_string_of_a_recorded_payload_is_masked(tmp_path):
    from adapters.inbox import Inbox
    from bot.bootstrap import build_app
    from bot.config import Settings
    from tests.fakes import FAKE_NOTES, KeywordRetriever

    store = MemoryStore()
    app = await build_app(Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)}), store=store,
                          retriever=KeywordRetriever(FAKE_NOTES))
    secret = "postgres://app:Sup3rS3cret@db/prod and AKIAABCDEFGHIJKLMNOP"
    activity = {"type": "message", "id": "1", "text": secret,
                "attachments": [{"contentType": "text/html", "content": f"<div>{secret}</div>"}],
                "channelData": {"nested": [{"note": secret}]}}
    assert await Inbox(app, "teams", lambda coro, key: None).claim("teams:k1", {"activity": activity})
    stored = str(store.inbox["teams:k1"][1])
    assert "Sup3rS3cret" not in stored and "AKIAABCDEFGHIJKLMNOP" not in stored and "[REDACTED" in stored
