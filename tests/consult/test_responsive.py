"""A big review never stalls the event loop: /healthz keeps answering while a 0.5 MB schema is reviewed."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from adapters.server import create_web_app
from bot.bootstrap import App, build_analyzers
from bot.config import PACKAGED_KNOWLEDGE_DIR, Settings
from bot.consult.engine import Engine, EngineSettings
from bot.knowledge.index import FTS5Retriever
from bot.messages import Inbound
from tests.fakes import MemoryStore
from tests.local_server import start

pytest.importorskip("bot.review.analyzer")


def schema(size: int) -> str:
    parts, n = [], 0
    while sum(map(len, parts)) < size:
        parts.append(f"CREATE TABLE t{n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL "
                     f"REFERENCES t{max(n - 1, 0)} (id), total double precision, created_at timestamptz NOT NULL);\n"
                     f"CREATE INDEX t{n}_account_id_idx ON t{n} (account_id);\n")
        n += 1
    return "".join(parts)


async def test_health_checks_stay_fast_while_a_half_megabyte_review_runs(tmp_path):
    store = MemoryStore()
    engine = Engine(store=store, retriever=FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None), analyzers=build_analyzers(),
                    settings=EngineSettings(max_review_bytes=600_000))
    app = App(settings=Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)}), store=store, engine=engine)
    runner, port = await start(create_web_app(app, mounts=[]))
    ddl = schema(500_000)
    try:
        review = asyncio.create_task(engine.handle(Inbound("console", "t", "c", "big", "u", "", kind="command",
                                                           command="schema-review", args=ddl)))
        latencies = []
        async with aiohttp.ClientSession() as session:
            while not review.done():
                began = time.perf_counter()
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
                latencies.append(time.perf_counter() - began)
                await asyncio.sleep(0.01)
        reply = await review
    finally:
        await runner.cleanup()
    assert reply.findings and all(f["rule"] == "float-money" for f in reply.findings), "the review really ran"
    assert len(latencies) >= 5, "the review took long enough to overlap health checks"
    # Without the worker thread, one check would wait for the whole review (seconds).
    assert max(latencies) < 0.25, f"slowest /healthz {max(latencies) * 1000:.0f} ms"
