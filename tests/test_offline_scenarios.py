"""Every evaluation scenario gets an offline answer with 2-4 questions and cited sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import PACKAGED_KNOWLEDGE_DIR
from bot.consult.engine import Engine
from bot.knowledge.index import FTS5Retriever
from bot.messages import Inbound
from tests.fakes import MemoryStore

SCENARIOS = Path(__file__).resolve().parent / "eval" / "scenarios.jsonl"


def load_scenarios() -> list[dict]:
    return [json.loads(line) for line in SCENARIOS.read_text().splitlines() if line.strip()]


async def test_every_scenario_gets_questions_and_sources():
    retriever = FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None)
    engine = Engine(store=MemoryStore(), retriever=retriever)
    failures = []
    for i, scenario in enumerate(load_scenarios()):
        reply = await engine.handle(Inbound("console", "local", "eval", f"s{i}", "u", scenario["text"]))
        if reply.mode != "offline" or not 2 <= len(reply.questions) <= 4 or not reply.sources:
            failures.append(f"{i}: {scenario['text'][:60]!r} questions={len(reply.questions)} "
                            f"sources={len(reply.sources)}")
        elif not all(f"*{s.title}*" in reply.text for s in reply.sources):
            failures.append(f"{i}: sources not named in the answer text")
    assert failures == []
    assert len(load_scenarios()) >= 60


@pytest.mark.parametrize("question, expected_type, acceptable", [
    ("our orders API got slow after we added line items", "performance", {"n-plus-one-queries", "orm-optimization"}),
    ("two celery workers sometimes double charge a customer when they both pick up the payment job", "correctness",
     {"race-conditions", "idempotent-consumers", "idempotency-keys", "pessimistic-locking", "background-jobs"}),
])
async def test_done_means_questions(question, expected_type, acceptable):
    engine = Engine(store=MemoryStore(), retriever=FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None))
    reply = await engine.handle(Inbound("console", "local", "eval", "t", "u", question))
    assert reply.problem_type == expected_type
    assert acceptable & {s.id for s in reply.sources}
    assert len(reply.questions) >= 2
