"""Plans, logs and DDL each reach their own analyzer, and a pasted plan or log is answered from its findings in the
engine (offline, the real knowledge notes): summary first, the matching note cited, a follow-up quotes findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import build_analyzers
from bot.config import PACKAGED_KNOWLEDGE_DIR
from bot.consult.engine import Engine
from bot.knowledge.index import FTS5Retriever
from bot.messages import Inbound
from bot.plans import PlanAnalyzer
from bot.querylog import QueryLogAnalyzer
from tests.evidence.record_fixtures import DATASET
from tests.fakes import MemoryStore

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REVIEW_FIXTURES = Path(__file__).resolve().parents[1] / "review" / "fixtures"


def fixture(kind: str, name: str) -> str:
    return (FIXTURES / kind / name).read_text()


@pytest.mark.parametrize("kind,name,expected", [
    ("plans", "fk_delete.txt", "explain"), ("plans", "hash_spill.json", "explain"),
    ("plans", "seq_scan_filter.quoted.txt", "explain"), ("plans", "seq_scan_filter.yaml.txt", "explain"),
    ("logs", "server_simple.log", "querylog"), ("logs", "django_n_plus_one.log", "querylog"),
    ("logs", "sqlalchemy_n_plus_one.log", "querylog"), ("logs", "rails_n_plus_one.log", "querylog"),
])
def test_plans_and_logs_route_to_their_analyzer(kind, name, expected):
    assert build_analyzers().route(fixture(kind, name)).name == expected


def test_ddl_routes_to_the_review_and_is_neither_a_plan_nor_a_log():
    registry = build_analyzers()
    review = registry.get("schema-review")
    if review is None:
        pytest.skip("the schema review is not installed")
    for sql in [DATASET, *(p.read_text() for p in sorted(REVIEW_FIXTURES.glob("pg_*.sql")))]:
        assert registry.route(sql).name == "schema-review"
        assert not PlanAnalyzer().detect(sql) and not QueryLogAnalyzer().detect(sql)


def test_plans_and_logs_are_not_ddl_even_when_a_log_quotes_a_create_table():
    registry = build_analyzers()
    review = registry.get("schema-review")
    if review is None:
        pytest.skip("the schema review is not installed")
    for text in (fixture("plans", "fk_delete.txt"), fixture("plans", "misestimate.json"),
                 fixture("logs", "server_extended.log")):
        assert not review.detect(text)
    # A server log of a migration run: multi-line statements continue on tab-indented lines.
    line = fixture("logs", "server_simple.log").splitlines()[0]
    prefix = line[: line.index("LOG:  ")]
    migration_log = (f"{prefix}LOG:  duration: 3.1 ms  statement: CREATE TABLE audit (\n\tid bigint PRIMARY KEY,\n"
                     f"\tnote text);\n" + fixture("logs", "server_simple.log"))
    assert registry.route(migration_log).name == "querylog"


def engine() -> Engine:
    return Engine(store=MemoryStore(), retriever=FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None),
                  analyzers=build_analyzers())


def inbound(text: str, thread: str = "t") -> Inbound:
    return Inbound("console", "local", "cli", thread, "u", text)


async def test_a_pasted_plan_is_answered_from_its_findings_and_a_follow_up_quotes_them():
    bot = engine()
    reply = await bot.handle(inbound("our account cleanup job is slow:\n" + fixture("plans", "fk_delete.txt")))
    assert reply.problem_type == "performance"
    assert reply.summary.startswith("**Query plan:** 99.9% of the")
    assert [f["rule"] for f in reply.findings] == ["plan-slow-trigger"]
    assert reply.sources[0].id == "indexing-strategies"
    assert "CREATE INDEX CONCURRENTLY events_account_id_idx ON events (account_id);" in reply.text
    follow = await bot.handle(inbound("why is the trigger for events_account_id_fkey so slow?"))
    assert "About the query plan in this thread" in follow.text and "plan-slow-trigger" in follow.text


async def test_a_pasted_log_cites_the_n_plus_one_note_first():
    reply = await engine().handle(inbound(fixture("logs", "django_n_plus_one.log")))
    assert reply.summary.startswith("**Query log** (Django debug log)")
    assert reply.sources[0].id == "n-plus-one-queries"
    assert any(f["rule"] == "n-plus-one" for f in reply.findings)


async def test_an_unreadable_plan_gets_the_error_first():
    reply = await engine().handle(inbound(fixture("plans", "seq_scan_filter.xml.txt")))
    assert reply.summary.startswith("⚠️ I could not read this query plan") and reply.findings == []


async def test_a_plan_in_a_thread_with_a_reviewed_schema_names_the_referencing_column():
    from pathlib import Path

    from bot.consult.engine import Engine
    from bot.messages import Inbound
    from tests.evidence.record_fixtures import DATASET
    from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore

    plans = Path(__file__).resolve().parents[1] / "evidence" / "fixtures"
    plan = next(plans.rglob("fk_delete.txt")).read_text().replace("events_account_id_fkey", "fk_owner")
    engine = Engine(store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES), analyzers=build_analyzers())
    await engine.handle(Inbound("console", "t", "c", "th", "u", "", kind="command", command="schema-review",
                                args=DATASET.replace("events_account_id_fkey", "fk_owner")))
    reply = await engine.handle(Inbound("console", "t", "c", "th", "u", "why is this delete slow?\n" + plan))
    trigger = next(f for f in reply.findings if f["rule"] == "plan-slow-trigger")
    assert (trigger["table"], trigger["column"]) == ("events", "account_id")


async def test_a_long_log_is_read_but_long_prose_is_not():
    from pathlib import Path

    from bot.consult.engine import Engine, EngineSettings
    from bot.messages import Inbound
    from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore

    logs = Path(__file__).resolve().parent / "fixtures" / "logs"
    log = next(p for p in sorted(logs.iterdir()) if "nplus" in p.name.lower() or "n_plus" in p.name.lower()).read_text()
    long_log = (log + "\n") * (60_000 // len(log) + 1)
    engine = Engine(store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES), analyzers=build_analyzers(),
                    settings=EngineSettings(max_input_chars=40_000, max_review_bytes=512 * 1024))
    reply = await engine.handle(Inbound("console", "t", "c", "log", "u", long_log))
    assert len(long_log) > 40_000 and reply.findings, "a long log is analysed, not refused"
    prose = await engine.handle(Inbound("console", "t", "c", "prose", "u", "our orders API is slow " * 3_000))
    assert "the limit is 40,000" in prose.text and not prose.findings
