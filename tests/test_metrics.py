"""GET /metrics: Prometheus text with turns, phases, LLM trouble and backlog; never message text; can be off."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from adapters.server import create_web_app
from bot import metrics
from bot.bootstrap import build_app
from bot.config import Settings
from bot.llm.openai_llm import OpenAIChat, build_client
from bot.messages import Inbound
from tests.fakes import FAKE_NOTES, FakeLLM, KeywordRetriever, MemoryStore
from tests.openai_server import FakeOpenAIServer, Scripted

SECRET_QUESTION = "orders slow n+1 with password=Sup3rS3cret and the customer Ada Lovelace"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(client: TestClient) -> str:
    response = await client.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    return await response.text()


@pytest.fixture
async def served(tmp_path):
    async def start(llm=None, **env: str) -> tuple[TestClient, object]:  # noqa: ANN001
        settings = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path), **env})
        app = await build_app(settings, store=MemoryStore(), llm=llm, retriever=KeywordRetriever(FAKE_NOTES))
        client = TestClient(TestServer(create_web_app(app, mounts=[])))
        await client.start_server()
        started.append(client)
        return client, app

    started: list[TestClient] = []
    yield start
    for client in started:
        await client.close()
    metrics.set_backlog_provider(None)


async def test_turns_phases_and_fallbacks_are_counted_without_any_message_text(served):
    client, app = await served(FakeLLM(fail=True))
    before = samples(await scrape(client))
    await app.engine.handle(Inbound("teams", "T1", "C1", "t1", "U1", SECRET_QUESTION))
    await app.engine.handle(Inbound("teams", "T1", "C1", "t1", "U1", "\x00\x01binary"))
    text = await scrape(client)
    after = samples(text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("consultant_turns_total", platform="teams", mode="offline", outcome="fallback") == 1
    assert grew("consultant_turns_total", platform="teams", mode="offline", outcome="rejected") == 1
    assert grew("consultant_llm_errors_total") == 1 and grew("consultant_llm_fallbacks_total") == 1
    for phase in ("total", "retrieval", "llm", "storage"):
        assert grew("consultant_turn_seconds_count", phase=phase) == 1
    for leaked in ("Sup3rS3cret", "Ada", "Lovelace", "orders", "T1", "U1"):
        assert leaked not in text


async def test_llm_retries_are_counted(served):
    async with FakeOpenAIServer() as server:
        server.script(Scripted(status=503), Scripted(text="Recovered."))
        settings = Settings.from_env({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url})
        client, app = await served(OpenAIChat(build_client(settings), "m", 10))
        before = samples(await scrape(client)).get(("consultant_llm_retries_total", ()), 0)
        reply = await app.engine.handle(Inbound("slack", "T1", "C1", "t1", "U1", "orders slow n+1"))
        after = samples(await scrape(client))
    assert reply.mode == "llm"
    assert after[("consultant_llm_retries_total", ())] == before + 1
    assert after[("consultant_llm_tokens_total", ())] >= 2


async def test_backlog_gauges_come_from_the_provider(served):
    client, _ = await served()

    async def backlog() -> tuple[int, float]:
        return 7, 42.5

    metrics.set_backlog_provider(backlog)
    found = samples(await scrape(client))
    assert found[("consultant_inbox_depth", ())] == 7 and found[("consultant_inbox_oldest_pending_seconds", ())] == 42.5

    async def broken() -> tuple[int, float]:
        raise RuntimeError("inbox table missing")

    metrics.set_backlog_provider(broken)
    assert samples(await scrape(client))[("consultant_inbox_depth", ())] == 7  # the scrape still succeeds


async def test_metrics_can_be_turned_off(served):
    client, _ = await served(CONSULTANT_METRICS="0")
    assert (await client.get("/metrics")).status == 404
    assert (await client.get("/healthz")).status == 200
