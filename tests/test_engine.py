"""Engine behaviour with fakes that subclass the ports."""

from __future__ import annotations

import pytest

from bot.analyzers import Analysis, Analyzer, AnalyzerRegistry
from bot.consult.engine import Engine, EngineSettings
from bot.messages import Inbound
from tests.fakes import FAKE_NOTES, FakeLLM, KeywordRetriever, MemoryStore


def inbound(text: str, *, thread: str = "t1", tenant: str = "T1", channel: str = "C1", platform: str = "slack",
            **kw) -> Inbound:
    return Inbound(platform=platform, tenant=tenant, channel=channel, thread=thread, user="U1", text=text, **kw)


def make_engine(llm=None, analyzers=None, **settings) -> tuple[Engine, MemoryStore]:
    store = MemoryStore()
    engine = Engine(store=store, retriever=KeywordRetriever(FAKE_NOTES), llm=llm, analyzers=analyzers,
                    settings=EngineSettings(**settings))
    return engine, store


async def test_offline_reply_has_diagnosis_questions_and_sources():
    engine, store = make_engine()
    reply = await engine.handle(inbound("our orders API got slow after we added line items"))
    assert reply.mode == "offline"
    assert reply.problem_type == "performance"
    assert 2 <= len(reply.questions) <= 4
    assert reply.sources[0].id == "n-plus-one-queries"
    assert "knowledge base" in reply.text and "### How to measure" in reply.text and "### What I understood" in reply.text
    roles = [t.role for t in next(iter(store.turns_by_thread.values()))]
    assert roles == ["user", "assistant"]
    assert reply.answer_id == next(iter(store.turns_by_thread.values()))[1].id


async def test_later_turns_get_earlier_turns_and_other_threads_do_not():
    llm = FakeLLM("Use prefetch.")
    engine, _ = make_engine(llm)
    await engine.handle(inbound("orders endpoint is slow with line items", thread="A"))
    await engine.handle(inbound("double charge from two workers", thread="B"))
    await engine.handle(inbound("what about caching?", thread="A"))
    last = llm.requests[-1]
    contents = [m.content for m in last]
    assert last[0].role == "system" and "Backend Consultant" in last[0].content
    assert "orders endpoint is slow with line items" in contents
    assert "Use prefetch." in "".join(contents)
    assert not any("double charge" in c for c in contents)
    assert contents[-1] == "what about caching?"


async def test_same_thread_id_under_two_tenants_is_isolated():
    llm = FakeLLM()
    engine, store = make_engine(llm)
    await engine.handle(inbound("secret plan for tenant one orders slow", tenant="T1", thread="same"))
    await engine.handle(inbound("question from tenant two", tenant="T2", thread="same"))
    assert not any("tenant one" in m.content for m in llm.requests[-1][1:])
    assert len(store.threads) == 2


async def test_case_facts_are_stored_and_their_questions_not_asked():
    engine, store = make_engine()
    reply = await engine.handle(inbound("We use Django ORM on Postgres 15; the orders list is slow, N+1?"))
    facts = next(iter(store.fact_rows.values()))
    assert facts["framework"] == "Django" and facts["database"] == "PostgreSQL" and facts["database_version"] == "15"
    assert "Which ORM are you using?" not in reply.questions
    assert "Which database and version?" not in reply.questions
    assert 2 <= len(reply.questions) <= 4
    # The code example follows the user's stack (Python over Java).
    assert "prefetch_related" in reply.text and "@EntityGraph" not in reply.text


async def test_code_example_follows_a_java_stack():
    engine, _ = make_engine()
    reply = await engine.handle(inbound("Spring Boot with Hibernate, orders list slow, n+1"))
    assert "@EntityGraph" in reply.text and "prefetch_related" not in reply.text


async def test_questions_already_asked_are_not_repeated():
    engine, _ = make_engine()
    first = await engine.handle(inbound("orders slow n+1 orm"))
    second = await engine.handle(inbound("still slow, orders n+1 with line items"))
    assert not set(first.questions) & set(second.questions)
    assert len(second.questions) >= 2


async def test_secrets_are_redacted_in_storage_and_in_the_llm_request():
    llm = FakeLLM()
    engine, store = make_engine(llm)
    text = "slow orders; DATABASE_URL=postgres://app:hunter2@db/prod and key sk-abcdefghijklmnop1234567890"
    await engine.handle(inbound(text))
    stored = " ".join(t.text for turns in store.turns_by_thread.values() for t in turns)
    sent = " ".join(m.content for m in llm.requests[-1])
    for leaked in ("hunter2", "sk-abcdefghijklmnop1234567890"):
        assert leaked not in stored and leaked not in sent
    assert "[REDACTED]" in stored and "[REDACTED]" in sent


async def test_oversized_input_gets_the_limit_and_stores_nothing():
    engine, store = make_engine(max_input_chars=1000)
    reply = await engine.handle(inbound("x" * 1001))
    assert "1,000" in reply.text and "schema-review" in reply.text
    assert store.turns_by_thread == {}


@pytest.mark.parametrize("text", ["\x00\x01\x02binary", "\x07\x08" * 50, "   "])
async def test_binary_or_empty_input_gets_a_clear_reply(text):
    engine, store = make_engine()
    reply = await engine.handle(inbound(text))
    assert reply.text and store.turns_by_thread == {}


async def test_llm_failure_falls_back_offline_and_keeps_the_message():
    engine, store = make_engine(FakeLLM(fail=True))
    reply = await engine.handle(inbound("two workers double charge the card"))
    assert reply.mode == "offline" and "unavailable" in reply.text
    assert reply.problem_type == "correctness"
    turns = next(iter(store.turns_by_thread.values()))
    assert turns[0].text == "two workers double charge the card"


async def test_streaming_forwards_pieces_and_returns_the_whole_answer():
    engine, _ = make_engine(FakeLLM("Add an index on orders customer_id."))
    pieces: list[str] = []

    async def sink(piece: str) -> None:
        pieces.append(piece)

    reply = await engine.handle(inbound("orders slow"), on_token=sink)
    assert len(pieces) > 1 and "".join(pieces) == reply.text and reply.mode == "llm"


class EchoAnalyzer(Analyzer):
    name = "schema-review"

    def detect(self, text: str) -> bool:
        return text.lstrip().upper().startswith("CREATE TABLE")

    def analyze(self, text, options=None):
        finding = {"rule": "no-primary-key", "severity": "warning", "table": "t", "column": None, "object": None,
                   "line": 1, "message": "t has no primary key", "why": "...", "fix": "ALTER TABLE ...",
                   "note": "n-plus-one-queries"}
        return Analysis("schema-review", "**1 finding**", "Report: t has no primary key", [finding],
                        ["n-plus-one-queries"], "design")


async def test_pasted_ddl_is_routed_to_the_analyzer_and_becomes_thread_context():
    llm = FakeLLM()
    engine, store = make_engine(llm, AnalyzerRegistry([EchoAnalyzer()]))
    reply = await engine.handle(inbound("CREATE TABLE t (a int);"))
    assert reply.findings[0]["rule"] == "no-primary-key" and reply.summary == "**1 finding**"
    assert reply.problem_type == "design" and reply.sources[0].id == "n-plus-one-queries"
    await engine.handle(inbound("why is that bad?"))
    assert any("t has no primary key" in m.content for m in llm.requests[-1])


async def test_review_command_without_the_capability_says_not_available():
    engine, store = make_engine()
    reply = await engine.handle(inbound("", kind="command", command="schema-review", args="CREATE TABLE t (a int);"))
    assert "not available yet" in reply.text


async def test_review_command_passes_the_dialect_flag():
    seen = {}

    class Recording(EchoAnalyzer):
        def analyze(self, text, options=None):
            seen.update(options or {}, text=text)
            return super().analyze(text, options)

    engine, _ = make_engine(analyzers=AnalyzerRegistry([Recording()]))
    await engine.handle(inbound("", kind="command", command="schema-review", args="--dialect mysql CREATE TABLE t (a int);"))
    assert seen == {"dialect": "mysql", "command": "/schema-review", "text": "CREATE TABLE t (a int);"}


async def test_offline_follow_up_about_a_finding_quotes_it_and_its_note():
    engine, _ = make_engine(analyzers=AnalyzerRegistry([EchoAnalyzer()]))
    await engine.handle(inbound("", kind="command", command="schema-review", args="CREATE TABLE t (a int);"))
    reply = await engine.handle(inbound("why does it matter that there's no primary key?"))
    assert "About the review in this thread" in reply.text and "no-primary-key" in reply.text
    assert reply.sources[0].id == "n-plus-one-queries"  # the finding's note comes first
    unrelated = await engine.handle(inbound("how do retries work for webhooks?"))
    assert "About the review" not in unrelated.text


async def test_a_follow_up_stays_on_the_threads_topic():
    engine, _ = make_engine()
    first = await engine.handle(inbound("orders list slow, n+1 with the orm"))
    assert first.sources[0].id == "n-plus-one-queries"
    # Mentions both topics, the other one a little more; in this thread the thread's topic still leads.
    text = "slow orders n+1 while workers double charge twice"
    follow = await engine.handle(inbound(text))
    assert follow.sources[0].id == "n-plus-one-queries"
    elsewhere = await engine.handle(inbound(text, thread="other"))
    assert elsewhere.sources[0].id == "race-conditions"
