"""Pasted EXPLAIN output is routed to the plan reader through the analyzer registry."""

from __future__ import annotations

from bot.analyzers import AnalyzerRegistry
from bot.consult.engine import Engine
from bot.explain import ExplainAnalyzer
from bot.messages import Inbound
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore

PLAN = """why is this slow?
Nested Loop  (cost=0.43..98765.00 rows=10 width=64) (actual time=0.05..2400.1 rows=50000 loops=1)
  ->  Seq Scan on orders o  (cost=0.00..18334.00 rows=5 width=97) (actual time=0.020..950.012 rows=48000 loops=1)
        Filter: (status = 'open'::text)
        Rows Removed by Filter: 952000
  ->  Index Scan using customers_pkey on customers c  (cost=0.43..8.45 rows=1 width=32) (actual time=0.01..0.01 rows=1 loops=48000)
Sort Method: external merge  Disk: 20480kB
Planning Time: 0.2 ms
Execution Time: 2410.5 ms
"""


def test_detects_plans_but_not_prose():
    analyzer = ExplainAnalyzer()
    assert analyzer.detect(PLAN)
    assert not analyzer.detect("how do I read EXPLAIN ANALYZE output? what does cost= mean?")


def test_flags_the_usual_suspects_with_lines():
    analysis = ExplainAnalyzer().analyze(PLAN)
    rules = {(f["rule"], f["line"]) for f in analysis.findings}
    assert ("explain-seq-scan", 3) in rules
    assert ("explain-misestimate", 2) in rules and ("explain-misestimate", 3) in rules
    assert ("explain-rows-removed", 5) in rules
    assert ("explain-sort-spill", 7) in rules
    seq = next(f for f in analysis.findings if f["rule"] == "explain-seq-scan")
    assert seq["table"] == "orders" and seq["note"] == "indexing-strategies"
    assert analysis.problem_type == "performance" and "indexing-strategies" in analysis.notes


async def test_engine_routes_pasted_plans_to_the_analyzer():
    engine = Engine(store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES),
                    analyzers=AnalyzerRegistry([ExplainAnalyzer()]))
    reply = await engine.handle(Inbound("console", "local", "cli", "t", "u", PLAN))
    assert reply.problem_type == "performance"
    assert any(f["rule"] == "explain-rows-removed" for f in reply.findings)
    assert "952,000 rows read and then thrown away" in reply.text
