"""Issue 14 in chat: unreadable DDL is said first, with the line, the parser's message and how to force the
dialect; readable DDL pasted with a question is reviewed, findings first."""

from __future__ import annotations

import pytest

from bot.analyzers import AnalyzerRegistry
from bot.consult.engine import Engine, EngineSettings
from bot.messages import Inbound
from bot.review.analyzer import SchemaReviewAnalyzer
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore

MYSQL_DDL = ("CREATE TABLE orders (id int unsigned primary key, customer_id int, total double, created datetime, "
             "KEY idx_c (customer_id));")
QUESTION = "can you review this schema?\n\n" + MYSQL_DDL
TRUNCATED = "ALTER TABLE orders ADD COLUMN note text DEFAULT;\nCREATE INDEX orders_x ON orders (x);"


def analyze(text, **options):
    return SchemaReviewAnalyzer().analyze(text, options)


def test_a_schema_pasted_with_a_question_is_routed_to_the_review():
    analyzer = SchemaReviewAnalyzer()
    assert analyzer.detect(QUESTION)
    assert analyzer.detect("can you review this schema? " + MYSQL_DDL)  # same line as the question
    assert not analyzer.detect("should I create table orders with a uuid key?")


def test_mysql_ddl_without_markers_gets_its_findings_and_case_facts():
    a = analyze(QUESTION)
    assert not a.unreadable
    assert {f["rule"] for f in a.findings} == {"int-primary-key", "float-money"}
    assert a.summary.startswith("**Schema review** (mysql")  # the findings lead
    assert 'detected mysql: "unsigned" on line 3' in a.summary
    assert a.evidence == "ddl" and a.tables == ["orders"] and a.facts == {"database": "MySQL"}


def test_unreadable_sql_is_said_first_with_line_message_and_the_way_to_force_the_dialect():
    a = analyze(TRUNCATED, command="schema-review")
    assert a.unreadable
    first = a.summary.split("\n\n")[0]
    assert first.startswith("⚠️ **I could not read all of this SQL")
    assert "Line 1: syntax error at end of input" in first
    assert "`schema-review --dialect mysql …`" in first  # Teams spells the command without a slash
    assert a.report.startswith(first)
    assert [f["rule"] for f in a.findings] == ["create-index-non-concurrently", "missing-lock-timeout"]
    assert a.facts == {"database": "PostgreSQL"} and a.tables == ["orders"]


def test_a_suggested_dialect_is_named_with_the_exact_command():
    # PostgreSQL rejects the MySQL-only `ON UPDATE` clause; sqlglot reads it as MySQL, so the file is MySQL.
    a = analyze("CREATE TABLE t (id bigint PRIMARY KEY, ts timestamp ON UPDATE CURRENT_TIMESTAMP);")
    assert not a.unreadable and a.facts["database"] == "MySQL"
    assert 'PostgreSQL cannot parse "ON" on line 1' in a.summary
    forced = analyze(MYSQL_DDL, dialect="postgres")
    assert forced.unreadable
    assert "as asked, but \"unsigned\" on line 1 is MySQL syntax: try `/schema-review --dialect mysql …`" \
        in forced.summary


def test_nothing_to_review_is_not_a_clean_review():
    a = analyze("", command="/schema-review")
    assert a.unreadable and "no SQL statement" in a.summary and a.findings == []


def test_pg_version_directive_becomes_a_fact():
    a = analyze("-- consultant: pg-version=12\nALTER TABLE orders ADD COLUMN a int;")
    assert a.facts == {"database": "PostgreSQL", "database_version": "12"}


def _engine() -> Engine:
    return Engine(store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES), llm=None,
                  analyzers=AnalyzerRegistry([SchemaReviewAnalyzer()]), settings=EngineSettings())


def _inbound(text: str, **kw) -> Inbound:
    return Inbound(platform="slack", tenant="T1", channel="C1", thread="t1", user="U1", text=text, **kw)


@pytest.mark.asyncio
async def test_through_the_engine_a_question_with_mysql_ddl_gets_the_findings():
    reply = await _engine().handle(_inbound(QUESTION))
    assert {f["rule"] for f in reply.findings} == {"int-primary-key", "float-money"}


@pytest.mark.asyncio
async def test_through_the_engine_unreadable_sql_is_said_in_the_reply():
    reply = await _engine().handle(_inbound("", kind="command", command="schema-review", args=TRUNCATED))
    assert "I could not read all of this SQL" in reply.text and "Line 1: syntax error at end of input" in reply.text
    assert {f["rule"] for f in reply.findings} == {"create-index-non-concurrently", "missing-lock-timeout"}
