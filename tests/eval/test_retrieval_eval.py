"""The retrieval quality gate: hit@3 >= 0.9 and problem-type accuracy >= 0.85 over scenarios.jsonl.

`python -m bench.retrieval_eval` prints the misses.
"""

from __future__ import annotations

import io

from bench.retrieval_eval import SCENARIOS, evaluate, load_scenarios, print_report

HIT_AT_3 = 0.9
TYPE_ACCURACY = 0.85


def test_scenarios_are_well_formed():
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.knowledge.notes import load_notes

    known = {n.id for n in load_notes(PACKAGED_KNOWLEDGE_DIR)}
    rows = load_scenarios(SCENARIOS)
    assert len(rows) >= 70
    for row in rows:
        assert row["text"].strip() and row["acceptable"], row
        assert row["problem_type"] in ("design", "performance", "correctness"), row
        assert set(row["acceptable"]) <= known, row
    covered = {i for row in rows for i in row["acceptable"]}
    assert len(covered) >= 45


def test_retrieval_quality_gate():
    report = evaluate()
    table = io.StringIO()
    print_report(report, out=table)
    assert report.hit_at_3 >= HIT_AT_3, table.getvalue()
    assert report.type_accuracy >= TYPE_ACCURACY, table.getvalue()
