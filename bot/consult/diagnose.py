"""Diagnose symptom-first: the note that explains what the team reports leads, and the type follows the symptom.

Notes are candidates from retrieval (which matches words). A note that declares a symptom reported in this message
(or, in a follow-up that reports none, earlier in the thread) is a cause; the best-ranked of those leads. Notes that
only share vocabulary with the message stay "related" and are never presented as causes. With no symptom (a design
question), the best retrieval match answers the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.consult.case import Case
from bot.consult.classify import classify
from bot.consult.derive import derived_numbers
from bot.knowledge.port import Note, Retriever, ScoredNote

# Symptoms, most specific first: when several are reported, the earlier one names the cause.
PRIORITY = (
    "slow-after-adding-related-data", "many-queries-per-request", "pool-exhausted", "migration-lock-outage",
    "old-code-breaks-after-migration", "slow-migration-backfill", "slow-deep-pages", "duplicate-message-processing",
    "duplicate-side-effect", "oversell", "lost-update", "lost-message", "deadlock", "hot-row-contention",
    "cache-stampede", "stale-read", "job-backlog", "dependency-outage", "retry-storm", "cross-tenant-access",
    "auth-token-problem", "secrets-in-logs", "breaking-api-change", "time-zone-bug", "money-rounding", "id-overflow",
    "search-slow", "rate-limit-abuse", "memory-growth", "request-timeout", "slow-query", "slow-endpoint",
)
SYMPTOM_TYPE = {
    **dict.fromkeys(("slow-after-adding-related-data", "many-queries-per-request", "pool-exhausted",
                     "migration-lock-outage", "slow-migration-backfill", "slow-deep-pages", "hot-row-contention",
                     "cache-stampede", "job-backlog", "retry-storm", "search-slow", "memory-growth",
                     "request-timeout", "slow-query", "slow-endpoint"), "performance"),
    **dict.fromkeys(("old-code-breaks-after-migration", "duplicate-message-processing", "duplicate-side-effect",
                     "oversell", "lost-update", "lost-message", "deadlock", "stale-read", "cross-tenant-access",
                     "auth-token-problem", "secrets-in-logs", "breaking-api-change", "time-zone-bug",
                     "money-rounding", "id-overflow"), "correctness"),
}
MAX_CAUSES, MAX_RELATED = 2, 2
RELATED_SHARE = 0.4  # a runner-up is related only when it scores at least this share of the best match


@dataclass
class Diagnosis:
    problem_type: str
    lead: Note | None
    causes: list[Note] = field(default_factory=list)  # lead first; notes explaining reported symptoms
    related: list[Note] = field(default_factory=list)
    symptom: str | None = None  # the symptom the lead explains
    derived: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[Note]:
        seen: list[Note] = []
        for note in [*self.causes, *self.related]:
            if note not in seen:
                seen.append(note)
        return seen


def _ordered(symptoms: list[str]) -> list[str]:
    return sorted(symptoms, key=lambda s: PRIORITY.index(s) if s in PRIORITY else len(PRIORITY))


def _explainers(symptom: str, results: list[ScoredNote], retriever: Retriever) -> list[Note]:
    """Notes declaring the symptom, best retrieval rank first (unretrieved ones after, by id)."""
    ranked = [r.note for r in results if symptom in r.note.symptoms]
    others = [n for n in retriever.notes() if symptom in n.symptoms and n not in ranked]
    return ranked + others


def diagnose(case: Case, text: str, results: list[ScoredNote], retriever: Retriever, *,
             analysis_notes: list[str] | None = None, analysis_type: str | None = None,
             finding_notes: list[str] | None = None) -> Diagnosis:
    current = case.latest or (case.symptoms if case.turns > 1 else [])
    causes: list[Note] = []
    lead_symptom = None
    for note_id in (analysis_notes or []) + (finding_notes or []):
        if (note := retriever.get(note_id)) and note not in causes:
            causes.append(note)
    for symptom in _ordered(current):
        explainers = _explainers(symptom, results, retriever)
        if explainers and lead_symptom is None:
            lead_symptom = symptom
        for note in explainers[:1]:
            if note not in causes and len(causes) < MAX_CAUSES + 1:
                causes.append(note)
    if not causes and results:
        causes.append(results[0].note)
    related: list[Note] = []
    best = results[0].score if results else 0
    for scored in results:
        if len(related) >= MAX_RELATED:
            break
        if scored.note not in causes and scored.score >= RELATED_SHARE * best:
            related.append(scored.note)

    if analysis_type:
        problem_type = analysis_type
    elif lead_symptom in SYMPTOM_TYPE:
        problem_type = SYMPTOM_TYPE[lead_symptom]
    else:
        problem_type = classify(text, results)
    return Diagnosis(problem_type=problem_type, lead=causes[0] if causes else None, causes=causes[:MAX_CAUSES + 1],
                     related=related, symptom=lead_symptom, derived=derived_numbers(case))
