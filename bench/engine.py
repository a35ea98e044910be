"""Per-turn engine overhead on the embedded SQLite file (through both of its stores), with the real retriever and fake LLMs.

Run: python -m bench.engine [--turns N]
Prints turns per second for an instant LLM and a 50 ms LLM, and the ratio of the 50 ms turn to a bare 50 ms
sleep measured in the same run (target: <= 1.2, i.e. about 10 ms of engine overhead per turn).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bot.config import Settings
from bot.consult.engine import Engine, EngineSettings
from bot.knowledge.index import FTS5Retriever
from bot.llm.port import LLM, ChatMessage
from bot.messages import Inbound
from bot.store.migrate import upgrade
from bot.store.port import Store
from bot.store.sql import SqlStore
from bot.store.sqlite import SqliteStore

QUESTIONS = [
    "our orders API got slow after we added line items",
    "two workers charged the same card twice",
    "how should we paginate a feed with 50M rows?",
    "pgbouncer transaction mode breaks prepared statements",
    "how do I add a NOT NULL column to a big table without downtime?",
]


class DelayLLM(LLM):
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def complete(self, messages: list[ChatMessage], *, on_usage=None) -> str:  # noqa: ANN001
        if self.delay:
            await asyncio.sleep(self.delay)
        return "Check the plan, add the index, measure again."

    async def stream(self, messages: list[ChatMessage], *, on_usage=None) -> AsyncIterator[str]:  # noqa: ANN001
        yield await self.complete(messages)


async def run_turns(engine: Engine, turns: int, label: str) -> list[float]:
    durations = []
    for i in range(turns):
        inbound = Inbound("console", "local", "bench", f"{label}-{i % 10}", "u", QUESTIONS[i % len(QUESTIONS)])
        started = time.perf_counter()
        await engine.handle(inbound)
        durations.append(time.perf_counter() - started)
    return durations


async def bare_sleep(turns: int, delay: float) -> list[float]:
    durations = []
    for _ in range(turns):
        started = time.perf_counter()
        await asyncio.sleep(delay)
        durations.append(time.perf_counter() - started)
    return durations


async def open_stores(settings: Settings) -> AsyncIterator[tuple[str, Store]]:
    """The two stores of the embedded file: `serve`'s (SQLAlchemy) and the console's (sqlite3)."""
    server = SqlStore.from_url(settings.database_url)
    await upgrade(server.engine)
    yield "serve store", server
    await server.close()
    console = await SqliteStore.open(settings.database_url)
    yield "console store", console
    await console.close()


async def main(turns: int) -> None:
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"CONSULTANT_DATA_DIR": tmp})
        retriever = FTS5Retriever.from_settings(settings)
        async for store_label, store in open_stores(settings):
            for label, delay in (("instant LLM", 0.0), ("50 ms LLM", 0.05)):
                engine = Engine(store=store, retriever=retriever, llm=DelayLLM(delay), settings=EngineSettings())
                await run_turns(engine, 5, f"warm-{label}-{store_label}")  # tokenizer, caches, connections
                results[f"{label}, {store_label}"] = await run_turns(engine, turns, f"{label}-{store_label}")
        results["bare 50 ms sleep"] = await bare_sleep(turns, 0.05)

    print(f"engine benchmark: {turns} turns each, SQLite file in {Path(tmp).name}, real FTS5 retriever")
    print(f"{'case':<30} {'turns/s':>9} {'mean ms':>9} {'p95 ms':>9}")
    for label, durations in results.items():
        mean = statistics.mean(durations)
        p95 = sorted(durations)[int(len(durations) * 0.95) - 1]
        print(f"{label:<30} {1 / mean:>9.1f} {mean * 1000:>9.2f} {p95 * 1000:>9.2f}")
    bare = statistics.mean(results["bare 50 ms sleep"])
    for store_label in ("serve store", "console store"):
        turn = statistics.mean(results[f"50 ms LLM, {store_label}"])
        print(f"overhead ratio, {store_label} (50 ms LLM turn / bare 50 ms): {turn / bare:.3f}  (target <= 1.2); "
              f"overhead {(turn - bare) * 1000:.1f} ms per turn")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    asyncio.run(main(parser.parse_args().turns))
