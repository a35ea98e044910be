"""Choosing the 2-4 follow-up questions: from the notes, minus what the thread already answered or asked."""

from __future__ import annotations

import re

from bot.knowledge.port import Note, Question

MIN_QUESTIONS, MAX_QUESTIONS = 2, 4

# Used only when the matched notes run out of questions the thread has not answered yet.
FALLBACK = (
    Question("Which database and version are you running (for example PostgreSQL 16 or MySQL 8.0)?", "database"),
    Question("Which framework and ORM does this service use?", "framework"),
    Question("How big is it today: rows in the largest tables and peak requests per second?", "scale"),
    Question("Where does it run (Kubernetes, serverless, a PaaS such as Heroku, VMs)?", "deployment"),
    Question("What have you measured so far (query plans, latency percentiles, error rates), and what did it show?"),
    Question("What changed shortly before the problem started (a deploy, a migration, a traffic increase)?"),
)


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


# Which note each next question comes from: the best match leads, the runners-up add one question each.
_NOTE_ORDER = (0, 0, 1, 0, 2, 1, 0, 2)


def choose_questions(notes: list[Note], facts: dict[str, str], asked: set[str]) -> list[str]:
    """Mostly the best note's questions (it is the likeliest diagnosis), plus one from each runner-up."""
    asked_normal = {_normal(q) for q in asked}
    known = set(facts)
    if "framework" in known or "orm" in known:
        known.add("language")

    def open_(q: Question) -> bool:
        return (q.fact is None or q.fact not in known) and _normal(q.text) not in asked_normal

    pools = [[q for q in note.questions if open_(q)] for note in notes]
    order = [i for i in _NOTE_ORDER if i < len(pools)] + [i for i in range(len(pools)) for _ in range(8)]
    chosen: list[str] = []
    for i in order:
        if len(chosen) >= MAX_QUESTIONS:
            break
        if pools[i] and (text := pools[i].pop(0).text) not in chosen:
            chosen.append(text)
    for q in FALLBACK:
        if len(chosen) >= MIN_QUESTIONS:
            break
        if open_(q) and q.text not in chosen:
            chosen.append(q.text)
    # A long thread can exhaust everything; the open-ended questions are always worth asking again.
    for q in FALLBACK:
        if len(chosen) >= MIN_QUESTIONS:
            break
        if q.fact is None and q.text not in chosen:
            chosen.append(q.text)
    return chosen[:MAX_QUESTIONS]
