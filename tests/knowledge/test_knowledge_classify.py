"""classify(): the best notes' problem_type plus cues in the text."""

from __future__ import annotations

import pytest

from bot.consult.classify import classify, cue_scores
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


@pytest.mark.parametrize("text, expected", [
    # failures, security and intermittency are correctness
    ("the nightly export crashes with a KeyError since friday", "correctness"),
    ("our partners get random 500s from the orders endpoint", "correctness"),
    ("api keys of customers end up in the application logs", "correctness"),
    ("revoked sessions still work after logout", "correctness"),
    ("the report total is off by one day for users in tokyo", "correctness"),
    # a race is between few actors
    ("two cron instances run the invoice job at the same time", "correctness"),
    # slowness, resources and growing queues are performance
    ("the admin page load time went from 1s to 9s", "performance"),
    ("the worker gets OOM-killed when it loads the whole table", "performance"),
    ("the email queue keeps growing during the day", "performance"),
    # question forms with nothing broken are design
    ("is it worth adding an event bus for three services?", "design"),
    ("whats a reasonable timeout for calls to the payment provider", "design"),
    ("choosing between celery and dramatiq for a new project", "design"),
])
def test_linguistic_cues(text, expected):
    assert classify(text, []) == expected


def test_load_at_the_same_moment_is_not_a_race():
    assert cue_scores("thousands of clients reconnect at once after a deploy")["correctness"] < 0.5


def test_hedged_symptoms_do_not_count():
    assert cue_scores("we want to add a cache but are worried users will see stale prices")["correctness"] == 0
    assert cue_scores("users see stale prices")["correctness"] > 0


def test_a_reported_symptom_outweighs_a_design_topic_and_design_phrasing():
    design_notes = [scored("design", 10.0), scored("design", 8.0)]
    assert classify("how should we version the api", design_notes) == "design"
    assert classify("the mobile app crashes since we renamed a field, how should we version the api", design_notes) == "correctness"


def test_scale_context_is_not_a_symptom():
    # "20k rps" leans towards performance but does not discount a design question
    assert classify("we have 20k rps, should we shard by tenant or by region?", [scored("design", 5.0)]) == "design"


def test_duplicated_code_is_not_duplicated_data():
    assert cue_scores("the handlers duplicate the validation logic")["correctness"] == 0
    assert cue_scores("customers get duplicate invoices")["correctness"] > 0


def test_http_status_codes_are_not_seconds():
    assert cue_scores("the api returns 404s for new users")["performance"] == 0
