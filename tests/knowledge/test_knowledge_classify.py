"""classify(): the best notes' problem_type plus cues in the text."""

from __future__ import annotations

import pytest

from bot.classify import classify, cue_scores
from bot.knowledge.port import Note, ScoredNote


def scored(problem_type: str, score: float, note_id: str | None = None) -> ScoredNote:
    note = Note(id=note_id or f"{problem_type}-note", title="t", area="api", problem_type=problem_type, summary="s")
    return ScoredNote(note, score)


@pytest.mark.parametrize("text", ["hi", "thanks!", "", "hello there"])
def test_no_signal_is_unknown(text):
    assert classify(text, []) == "unknown"


@pytest.mark.parametrize("text, expected", [
    ("the orders endpoint is slow", "performance"),
    ("p99 went from 200ms to 2s", "performance"),
    ("requests keep timing out", "performance"),
    ("we charge customers twice sometimes", "correctness"),
    ("looks like a race between two workers", "correctness"),
    ("the balances are inconsistent after a lost update", "correctness"),
    ("duplicate rows in the payments table", "correctness"),
    ("how should I design the tables for invoices?", "design"),
    ("how should we structure our services", "design"),
    ("how do I model tags for products", "design"),
])
def test_cues_alone(text, expected):
    assert classify(text, []) == expected


def test_notes_alone_decide_when_there_is_no_cue():
    assert classify("pgbouncer", [scored("performance", 9.0), scored("design", 2.0)]) == "performance"
    assert classify("saga", [scored("design", 5.0), scored("correctness", 4.9), scored("design", 4.8)]) == "design"


def test_best_note_outweighs_lower_ranked_ones():
    results = [scored("correctness", 10.0), scored("design", 1.0), scored("design", 0.5)]
    assert classify("outbox", results) == "correctness"


def test_a_clear_cue_beats_a_mixed_note_signal():
    results = [scored("design", 5.0), scored("performance", 4.0), scored("correctness", 3.0)]
    assert classify("our read replica setup is really slow", results) == "performance"
    assert classify("users get charged twice with our replica setup", results) == "correctness"


def test_non_positive_scores_are_ignored():
    assert classify("hi", [scored("performance", 0.0)]) == "unknown"


def test_cue_scores_are_per_type():
    scores = cue_scores("slow and duplicated")
    assert scores["performance"] > 0 and scores["correctness"] > 0 and scores["design"] == 0
