"""The retrieval quality gate: hit@3 >= 0.9 and problem-type accuracy >= 0.85, on each eval file separately.

- scenarios.jsonl: the original labelled set;
- holdout.jsonl: 80 questions written blind (before any tuning against them) to measure generalisation.
  Never copy its sentences into aliases or code: it only means something while nothing is fitted to it.

`python -m bench.retrieval_eval [--scenarios tests/eval/holdout.jsonl]` prints the misses.
"""

from __future__ import annotations

import io

import pytest

from bench.retrieval_eval import HOLDOUT, SCENARIOS, evaluate, load_scenarios, print_report

HIT_AT_3 = 0.9
TYPE_ACCURACY = 0.85
EVAL_FILES = {"scenarios": (SCENARIOS, 70, 45), "holdout": (HOLDOUT, 80, 52)}  # name: (file, min rows, min ids covered)


@pytest.fixture(scope="module")
def known_ids():
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.knowledge.notes import load_notes

    return {n.id for n in load_notes(PACKAGED_KNOWLEDGE_DIR)}


@pytest.mark.parametrize("name", EVAL_FILES)
def test_eval_sets_are_well_formed(name, known_ids):
    path, min_rows, min_covered = EVAL_FILES[name]
    rows = load_scenarios(path)
    assert len(rows) >= min_rows
    for row in rows:
        assert row["text"].strip() and 1 <= len(row["acceptable"]) <= 4, row
        assert row["problem_type"] in ("design", "performance", "correctness"), row
        assert set(row["acceptable"]) <= known_ids, row
    covered = {i for row in rows for i in row["acceptable"]}
    assert len(covered) >= min_covered
    assert {row["problem_type"] for row in rows} == {"design", "performance", "correctness"}


def test_eval_sets_do_not_overlap():
    texts = {" ".join(row["text"].lower().split()) for row in load_scenarios(SCENARIOS)}
    assert not [row["text"] for row in load_scenarios(HOLDOUT) if " ".join(row["text"].lower().split()) in texts]


@pytest.mark.parametrize("name", EVAL_FILES)
def test_retrieval_quality_gate(name):
    report = evaluate(scenarios=EVAL_FILES[name][0])
    table = io.StringIO()
    print_report(report, out=table)
    assert report.hit_at_3 >= HIT_AT_3, f"{name}:\n{table.getvalue()}"
    assert report.type_accuracy >= TYPE_ACCURACY, f"{name}:\n{table.getvalue()}"
