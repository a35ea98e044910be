"""Answers about the case: the method's sections, the team's stack and words, and follow-ups that move on."""

from __future__ import annotations

import re

import pytest

from bot.bootstrap import build_analyzers
from bot.config import PACKAGED_KNOWLEDGE_DIR
from bot.consult.engine import Engine
from bot.knowledge.index import FTS5Retriever
from bot.messages import Inbound
from tests.fakes import MemoryStore

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


@pytest.fixture(scope="module")
def retriever():
    return FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None)


@pytest.fixture
def ask(retriever):
    engine = Engine(store=MemoryStore(), retriever=retriever, analyzers=build_analyzers())

    async def go(text: str, thread: str = "t"):
        return await engine.handle(Inbound("console", "local", "c", thread, "u", text))

    return go


async def test_the_offline_answer_follows_the_method_in_order(ask):
    reply = await ask("The /api/invoices endpoint got slow since we added line items to the response. Django, Postgres 15.")
    headings = re.findall(r"^### (.+)$", reply.text, re.M)
    assert headings == ["What I understood", "Diagnosis", "What to do", "How to measure", "Tradeoffs"]
    assert reply.sources[0].id == "n-plus-one-queries" and reply.problem_type == "performance"
    assert "/api/invoices" in reply.text and "line items" in reply.text


async def test_code_only_in_the_teams_stack(ask):
    reply = await ask("Django 4.2 on Postgres: the orders list endpoint got slow since we added line items to the serializer")
    languages = {lang for lang, _ in FENCE.findall(reply.text)}
    assert languages <= {"python", "sql", "console", "text"}
    code = "\n".join(body for _, body in FENCE.findall(reply.text))
    assert "prefetch_related" in code and not re.search(r"joinedload|selectinload|includes\(|@EntityGraph", code)
    assert not re.search(r"^\*\*(?:SQLAlchemy|Rails|Hibernate|Spring)", reply.text, re.M), "no other stack's pattern"


async def test_examples_use_the_teams_nouns(ask):
    reply = await ask("Django app: the /api/invoices endpoint got slow since we added line items to the response")
    assert "Invoice.objects" in reply.text


async def test_no_sentence_announces_code_that_was_left_out(ask):
    reply = await ask("Spring Boot + Hibernate: the orders endpoint got slow since we added items to the response")
    for paragraph in reply.text.split("\n\n"):
        if paragraph.rstrip().endswith(":") and not paragraph.startswith("-"):
            following = reply.text.split(paragraph, 1)[1].lstrip("\n")
            assert following.startswith(("```", "-", "1.")), f"dangling colon: {paragraph[-80:]!r}"


async def test_a_design_question_gets_no_likely_causes(ask):
    reply = await ask("how should we structure a new billing service: what should it own vs call the main app for?")
    assert reply.problem_type == "design" and "Most likely cause" not in reply.text and "Likely causes" not in reply.text


async def test_derived_numbers_are_shown(ask):
    reply = await ask("FastAPI on 12 pods with 4 uvicorn workers each, SQLAlchemy pool size 10, max_connections = 400; "
                      "we get QueuePool limit reached and requests wait for a connection")
    assert reply.sources[0].id == "connection-pooling"
    assert "**480**" in reply.text and "max_connections = 400" in reply.text


async def test_a_follow_up_with_new_facts_changes_the_answer_and_does_not_repeat_sections(ask):
    first = await ask("The /api/invoices endpoint got slow since we added line items to the response. Django.", "f")
    second = await ask("it runs 203 queries for 100 invoices, pagination is not involved, Postgres 15", "f")
    assert second.sources[0].id == "n-plus-one-queries"
    assert "pagination" not in {s.id for s in second.sources}, "a ruled-out topic is not cited"
    assert "203 queries" in second.text and "about **2** per row" in second.text
    assert "Already covered earlier in this thread" in second.text or "my earlier answer" in second.text
    first_blocks = {b for _, b in FENCE.findall(first.text)}
    assert not first_blocks & {b for _, b in FENCE.findall(second.text)}, "code already shown is not repeated"
    assert not set(first.questions) & set(second.questions)
    assert not any(re.search(r"how many queries|which database|postgres", q, re.I) for q in second.questions)


async def test_symptom_leads_over_word_matches(ask):
    reply = await ask("two support agents edit the same ticket and one agent's changes get overwritten silently")
    assert reply.sources[0].id == "optimistic-locking" and reply.problem_type == "correctness"
    reply = await ask("the add_column migration froze the site on PostgreSQL 15; a 30-minute report transaction was open")
    assert reply.sources[0].id == "postgres-locking-migrations"
    assert "Lock queue" in reply.text and reply.problem_type == "correctness"
    cause = reply.text.split("Most likely cause:")[1].split("\n")[0]
    assert "backfill" not in cause.lower(), "a lock-queue outage is not answered with a backfill"
