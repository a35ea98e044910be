"""Table-driven secret masking: no format in tests/secret_formats.py survives into storage, the LLM, facts or logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.consult.engine import Engine
from bot.llm.openai_llm import OpenAIChat, build_client
from bot.messages import Inbound
from bot.redact import redact
from bot.store import tables as t
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore
from tests.openai_server import FakeOpenAIServer, Scripted
from tests.secret_formats import ORDINARY_TEXTS, SECRET_FORMATS

IDS = [name for name, _, _ in SECRET_FORMATS]


def test_the_table_covers_at_least_thirty_formats():
    assert len(SECRET_FORMATS) >= 30 and len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("name, text, secrets", SECRET_FORMATS, ids=IDS)
def test_masking_removes_the_secret_and_says_so(name, text, secrets):
    masked = redact(text)
    assert [s for s in secrets if s in masked] == []
    assert "[REDACTED" in masked
    assert redact(masked) == masked  # masking is stable: stored text re-masked on read stays the same


@pytest.mark.parametrize("text", ORDINARY_TEXTS)
def test_ordinary_technical_text_is_left_alone(text):
    assert redact(text) == text


def test_masks_keep_the_shape_the_consultant_reasons_about():
    assert redact("postgres://app:p@ss/w:rd@db.internal:5432/orders") == \
        "postgres://app:[REDACTED]@db.internal:5432/orders"
    assert redact("token xoxb-2412456789012-5523456789012-Ab3dEfGhIjKl") == "token [REDACTED slack-token]"


def _llm(server: FakeOpenAIServer) -> OpenAIChat:
    settings = Settings.from_env({"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.base_url,
                                  "CONSULTANT_LLM_DEADLINE": "5"})
    return OpenAIChat(build_client(settings), settings.openai_model, settings.llm_deadline)


def _leaks(secrets: tuple[str, ...], *haystacks: str) -> list[str]:
    return [s for s in secrets for h in haystacks if s in h]


def _log_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)


@pytest.mark.parametrize("name, text, secrets", SECRET_FORMATS, ids=IDS)
async def test_no_secret_reaches_the_llm_request_the_stored_turns_the_facts_or_the_logs(name, text, secrets, caplog):
    store = MemoryStore()
    async with FakeOpenAIServer(Scripted(text="Rotate it, then add an index.")) as server:
        engine = Engine(store=store, retriever=KeywordRetriever(FAKE_NOTES), llm=_llm(server))
        with caplog.at_level(logging.DEBUG):
            for on_token in (None, _sink):  # both the plain and the streamed request
                await engine.handle(Inbound("slack", "T1", "C1", f"t-{on_token is None}", "U1",
                                            f"our postgres 15 orders query is slow. {text}"))
        await engine.llm.close()
    sent = "\n".join(server.all_text(i) for i in range(len(server.requests)))
    stored = "\n".join(turn.text + str(turn.meta) for turns in store.turns_by_thread.values() for turn in turns)
    facts = str(store.fact_rows)
    assert len(server.requests) == 2 and "[REDACTED" in sent and "[REDACTED" in stored
    assert _leaks(secrets, sent, stored, facts, _log_text(caplog.records)) == []


async def _sink(_piece: str) -> None:
    return None


async def test_no_secret_reaches_any_database_row(sql_store):
    async with FakeOpenAIServer() as server:
        engine = Engine(store=sql_store, retriever=KeywordRetriever(FAKE_NOTES), llm=_llm(server))
        for i, (_, text, _) in enumerate(SECRET_FORMATS):
            await engine.handle(Inbound("slack", "T1", "C1", "one-thread", "U1", f"mysql 8 orders slow #{i}: {text}"))
        await engine.llm.close()
    async with sql_store.engine.connect() as conn:
        rows = [str(tuple(row)) for table in (t.messages, t.case_facts, t.threads)
                for row in await conn.execute(select(table))]
    dump = "\n".join(rows)
    assert dump.count("[REDACTED") >= len(SECRET_FORMATS)
    assert _leaks(tuple(s for _, _, secrets in SECRET_FORMATS for s in secrets), dump) == []


# Inputs that made the earlier patterns backtrack quadratically (a 40,000-character "a.a.a…" took 91 s).
ADVERSARIAL = {"dotted": "a." * 20_000, "dashed": "a-" * 20_000, "schemes": "a://" * 10_000,
               "dsn prefixes": "http://a:" * 5_000, "jwt-like": "eyJ-" * 10_000, "at signs": "x://b:" + "@" * 40_000,
               "keys": "password." * 4_000, "assignments": "password=" * 4_000}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_masking_stays_linear_on_adversarial_input(text):
    import time

    began = time.perf_counter()
    redact(text)
    assert time.perf_counter() - began < 2.0  # a bound on catastrophic backtracking, not a speed target
