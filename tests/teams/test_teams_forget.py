"""`forget` in Teams deletes the conversation's stored data and confirms; redeliveries count as dedupe drops."""

from __future__ import annotations

from bot import metrics
from tests.fakes import MemoryStore
from tests.teams import teams_activities as A


def drops() -> float:
    return metrics.REGISTRY.get_sample_value("consultant_dedupe_drops_total", {"platform": "teams"}) or 0.0


async def test_forget_deletes_the_thread_and_confirms(start_bot, connector):
    store = MemoryStore()
    bot = await start_bot(store=store)
    assert await bot.send(A.personal_message(connector.service_url, "our orders API got slow, n+1?")) == 200
    thread_id = next(iter(store.turns_by_thread))
    assert store.turns_by_thread[thread_id]
    assert await bot.send(A.personal_message(connector.service_url, "forget")) == 200
    confirmation = connector.messages()[-1].body["text"]
    assert "deleted this thread's 2 stored messages" in confirmation
    assert store.turns_by_thread.get(thread_id, []) == [] and store.fact_rows.get(thread_id) is None


async def test_a_redelivered_activity_is_dropped_and_counted(start_bot, connector):
    bot = await start_bot()
    before = drops()
    activity = A.personal_message(connector.service_url, "orders slow n+1")
    assert await bot.send(activity) == 200 and await bot.send(activity) == 200
    assert len(connector.messages()) == 1
    assert drops() == before + 1
