"""Budgets: turn and token limits counted in the database, shared by replicas, answered offline when exhausted."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from bot.budgets import TENANT_DAY, BudgetLimits, Budgets
from bot.config import Settings
from bot.consult.engine import Engine
from bot.llm.openai_llm import OpenAIChat, build_client
from bot.messages import Inbound
from bot.metrics import REGISTRY
from bot.store.sql import SqlStore
from tests.fakes import FAKE_NOTES, FakeLLM, KeywordRetriever
from tests.openai_server import FakeOpenAIServer, Scripted

HOUR = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def ask(user: str = "U1", tenant: str = "T1", thread: str = "t1") -> Inbound:
    return Inbound("slack", tenant, "C1", thread, user, "our orders API is slow, n+1 in the orm?")


def refusals(budget: str) -> float:
    return REGISTRY.get_sample_value("consultant_budget_refusals_total", {"budget": budget}) or 0.0


def engine_on(store, limits: BudgetLimits, llm=None, clock=lambda: HOUR) -> Engine:  # noqa: ANN001
    return Engine(store=store, retriever=KeywordRetriever(FAKE_NOTES), llm=llm or FakeLLM("Batch the loads."),
                  budgets=Budgets(store, limits, clock=clock))


async def test_add_usage_is_atomic_across_store_instances(sql_store):
    replica = SqlStore(sql_store.engine)  # a second store (no shared process state), as another replica has
    window = HOUR
    results = await asyncio.gather(*[(sql_store if i % 2 else replica).add_usage("tenant-hour", "slack:T1", window,
                                                                                  turns=1) for i in range(20)])
    assert sorted(r.turns for r in results) == list(range(1, 21))
    assert (await replica.usage("tenant-hour", "slack:T1", window)).turns == 20
    assert (await sql_store.usage("tenant-hour", "slack:T2", window)).turns == 0
    assert (await sql_store.add_usage(TENANT_DAY, "slack:T1", window, tokens=1500)).tokens == 1500


async def test_user_turn_limit_answers_offline_politely_and_skips_the_llm(sql_store):
    llm = FakeLLM("Batch the loads.")
    engine = engine_on(sql_store, BudgetLimits(user_turns_per_hour=2), llm)
    before = refusals("user_turns")
    first, second = await engine.handle(ask()), await engine.handle(ask())
    third = await engine.handle(ask())
    assert first.mode == second.mode == "llm" and len(llm.requests) == 2
    assert third.mode == "offline" and len(llm.requests) == 2
    assert third.text.startswith("Sorry") and "2 questions this hour" in third.text
    assert "### How to measure" in third.text  # the offline answer follows the apology
    assert (await engine.handle(ask(user="U2"))).mode == "llm"  # another user of the tenant is not limited
    assert refusals("user_turns") == before + 1


async def test_tenant_turn_limit_is_shared_by_replicas(sql_store):
    limits = BudgetLimits(tenant_turns_per_hour=3)
    replicas = [engine_on(sql_store, limits), engine_on(SqlStore(sql_store.engine), limits)]
    modes = [(await replicas[i % 2].handle(ask(user=f"U{i}", thread=f"t{i}"))).mode for i in range(5)]
    assert modes == ["llm", "llm", "llm", "offline", "offline"]
    assert (await replicas[0].handle(ask(tenant="T2"))).mode == "llm"


async def test_turn_limits_reset_with_the_next_hour(sql_store):
    now = [HOUR + timedelta(minutes=59)]
    engine = engine_on(sql_store, BudgetLimits(user_turns_per_hour=1), clock=lambda: now[0])
    assert (await engine.handle(ask())).mode == "llm"
    assert (await engine.handle(ask())).mode == "offline"
    now[0] = HOUR + timedelta(hours=1, minutes=1)
    assert (await engine.handle(ask())).mode == "llm"


async def test_daily_token_budget_counts_the_usage_the_api_reports(sql_store):
    async with FakeOpenAIServer(Scripted(text="Add the index.", total_tokens=600)) as server:
        settings = Settings.from_env({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url})
        llm = OpenAIChat(build_client(settings), settings.openai_model, settings.llm_deadline)
        engine = engine_on(sql_store, BudgetLimits(tenant_tokens_per_day=1000), llm)
        before = refusals("tenant_tokens")

        async def sink(_piece: str) -> None:
            return None

        first = await engine.handle(ask(thread="a"), on_token=sink)  # streamed: usage comes in the last chunk
        second = await engine.handle(ask(thread="b"))  # plain: usage comes with the response
        third = await engine.handle(ask(thread="c"), on_token=sink)
        await llm.close()
    assert [first.mode, second.mode, third.mode] == ["llm", "llm", "offline"]
    assert len(server.requests) == 2 and server.requests[0]["stream_options"] == {"include_usage": True}
    assert "daily allowance" in third.text and "1,000 tokens" in third.text
    day = HOUR.replace(hour=0)
    assert (await sql_store.usage(TENANT_DAY, "slack:T1", day)).tokens == 1200
    assert refusals("tenant_tokens") == before + 1


async def test_without_limits_nothing_is_counted(sql_store):
    engine = engine_on(sql_store, BudgetLimits())
    await engine.handle(ask())
    assert (await sql_store.usage("user-hour", "slack:T1:U1", HOUR)).turns == 0


def test_limits_come_from_the_environment():
    settings = Settings.from_env({"CONSULTANT_USER_TURNS_PER_HOUR": "20", "CONSULTANT_TENANT_TURNS_PER_HOUR": "200",
                                  "CONSULTANT_TENANT_TOKENS_PER_DAY": "2000000"})
    assert (settings.user_turns_per_hour, settings.tenant_turns_per_hour, settings.tenant_tokens_per_day) == \
        (20, 200, 2_000_000)


async def test_a_database_failure_while_recording_tokens_keeps_the_answer():
    from tests.fakes import MemoryStore

    store = MemoryStore()
    budgets = Budgets(store, BudgetLimits(tenant_tokens_per_day=1000), clock=lambda: HOUR)
    store.down = True
    await budgets.record_tokens(ask(), 500)  # logged, not raised
    store.down = False
    assert (await store.usage(TENANT_DAY, "slack:T1", HOUR.replace(hour=0))).tokens == 0


async def test_one_user_over_their_limit_does_not_use_up_the_workspace(sql_store):
    from bot.budgets import BudgetLimits, Budgets

    budgets = Budgets(sql_store, BudgetLimits(user_turns_per_hour=2, tenant_turns_per_hour=5))
    for _ in range(20):
        await budgets.admit(ask(user="spammer"))
    assert await budgets.admit(ask(user="alice")) is None, "alice's first question is within every limit"
