"""Questions that move the diagnosis forward: never about what the case knows, never twice, never alike."""

from __future__ import annotations

from bot.consult.case import build_case
from bot.consult.questions import asked_fields, choose_questions, near_duplicate
from bot.knowledge.port import Question
from tests.fakes import make_note

POOL = make_note("connection-pooling", "Connection pooling", "performance", ("pool",), (
    Question("How many pods run the service, and how many worker processes does each run?", ("pods", "workers")),
    Question("What pool size does each process use?", ("pool_size",)),
    Question("What is max_connections on the server?", ("max_connections",)),
    Question("Do you run PgBouncer or another pooler in front of the database?", ("pooler",)),
    Question("Can you share the EXPLAIN (ANALYZE, BUFFERS) of the slowest query?", ("plan",)),
))
OTHER = make_note("profiling-api-latency", "Profiling", "performance", ("latency",), (
    Question("Which endpoints are slow, and what are their p95 and p99?", ("latency",)),
    Question("Where does one slow request spend its time?", ("measurements",)),
))


def test_known_fields_and_given_evidence_are_never_asked():
    case = build_case([], "12 pods with 4 workers each; pool size 10; EXPLAIN ANALYZE: Seq Scan on t (cost=0.00..1.00 rows=1 width=4)")
    questions, fields = choose_questions(case, [POOL])
    assert not any("pods" in q or "pool size" in q or "EXPLAIN" in q for q in questions)
    assert "What is max_connections on the server?" in questions and {"max_connections", "pooler"} <= set(fields)


def test_a_question_asked_earlier_in_the_thread_is_not_repeated():
    case = build_case([], "requests wait on getConnection")
    first, fields = choose_questions(case, [POOL])
    case.asked, case.asked_fields = list(first), set(fields)
    second, _ = choose_questions(case, [POOL])
    assert not set(first) & set(second) and len(second) >= 2


def test_leading_hypotheses_alternate():
    questions, _ = choose_questions(build_case([], "it is slow"), [POOL, OTHER])
    assert questions[:2] == [POOL.questions[0].text, OTHER.questions[0].text]


def test_drafted_questions_are_held_to_the_same_rules():
    case = build_case([], "we run 12 pods on Kafka")
    drafted = ["How many pods do you run?", "Which broker do you use?", "What pool size does each process use?",
               "What pool size does every process use?"]
    questions, _ = choose_questions(case, [POOL], drafted=drafted)
    assert questions[0] == "What pool size does each process use?"
    assert not any(q in questions for q in drafted[:2] + drafted[3:])
    assert 2 <= len(questions) <= 4


def test_fields_are_inferred_from_the_wording_too():
    assert {"pods", "broker"} <= asked_fields(Question("How many pods, and which broker?"))
    assert near_duplicate("What pool size does each process use?", "What pool size does every process use?")
    assert not near_duplicate("What pool size does each process use?", "Which broker do you use?")


def test_always_two_to_four_even_when_the_notes_run_out():
    case = build_case([], "slow")
    case.asked_fields = {f for q in POOL.questions for f in q.asks}
    questions, _ = choose_questions(case, [POOL])
    assert 2 <= len(questions) <= 4
