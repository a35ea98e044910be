"""Diagnose symptom-first: the note that explains what the team reports leads, and the type follows the symptom.

Notes are candidates from retrieval (which matches words). A note that declares a symptom reported in this message
(or, in a follow-up that reports none, earlier in the thread) is a cause; the best-ranked of those leads. Notes that
only share vocabulary with the message stay "related" and are never presented as causes. With no symptom (a design
question), the best retrieval match answers the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.consult.case import Case
from bot.consult.classify import classify, design_weight
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
                     "slow-migration-backfill", "slow-deep-pages", "hot-row-contention",
                     "cache-stampede", "job-backlog", "retry-storm", "search-slow", "memory-growth",
                     "request-timeout", "slow-query", "slow-endpoint"), "performance"),
    # a migration that takes the site down is an outage (something fails), not slowness
    **dict.fromkeys(("migration-lock-outage", "old-code-breaks-after-migration", "duplicate-message-processing", "duplicate-side-effect",
                     "oversell", "lost-update", "lost-message", "deadlock", "stale-read", "cross-tenant-access",
                     "auth-token-problem", "secrets-in-logs", "breaking-api-change", "time-zone-bug",
                     "money-rounding", "id-overflow"), "correctness"),
}
# Symptoms so common that they say little about the cause: a specific symptom or an explicit question outranks them.
GENERIC = {"slow-endpoint", "slow-query", "request-timeout", "memory-growth"}
DESIGN_QUESTION = 1.0  # design cue weight (bot/consult/classify.py) from which a message asks a design question
# Questions about adopting or choosing something ("is a cache right for us?", "do we need Elasticsearch or can
# Postgres do it?", "someone proposed putting Redis in front of it").
_ASKS_CHOICE = re.compile(
    r"\bis (?:a|an|the) [\w -]{2,30}? (?:right|worth it|a good (?:idea|fit)|overkill|the right call) for\b"
    r"|\bdo we (?:even )?(?:need|want) (?:a |an |to )?[\w-]+|\bcan (?:postgres(?:ql)?|mysql|redis|we) (?:do|handle) (?:it|this|that)\b"
    r"|\b(?:put|putting|add|adding|introduc\w+) (?:a |an )?(?:redis|memcached|cache|cdn|varnish)\b[^.?!\n]{0,30}\b(?:in front|cache)"
    r"|\bshould (?:we|i) (?:even )?(?:stay|move|switch|use|go with|keep)\b|\bhow would you\b|\bsanity[- ]check\b"
    r"|\bwhat (?:do|should) (?:we|i) (?:need to )?watch out for\b|\bany (?:advice|gotchas|pitfalls)\b"
    r"|\b(?:is it|it'?s|ok|okay|safe) (?:ok |okay |safe )?to just\b|\bis it (?:ok|okay|safe) to\b|\bcan we (?:just )?\w+ [^.?!\n]{0,60}without downtime\b"
    r"|\b(?:stay on|stick with) [\w/-]+(?: \([^)]*\))? or (?:move|switch|migrate|go) to\b", re.I)
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


# Symptoms whose cause depends on the setting (stale reads from a replica, a cache or a search index): only a
# retrieved note that declares them may lead; otherwise the best match for the setting does.
CONTEXTUAL = {"stale-read", "request-timeout", "memory-growth", "lost-message", "job-backlog"}


def _explainers(symptom: str, results: list[ScoredNote], retriever: Retriever) -> list[Note]:
    """Notes declaring the symptom, best retrieval rank first (unretrieved ones after, by id)."""
    ranked = [r.note for r in results if symptom in r.note.symptoms]
    if symptom in CONTEXTUAL:
        return ranked
    others = [n for n in retriever.notes() if symptom in n.symptoms and n not in ranked]
    return ranked + others


_CHOICE_OBJECT = [re.compile(p, re.I) for p in (
    r"\bis (?:a|an|the) ([\w -]{2,30}?) (?:right|worth it|a good (?:idea|fit)|overkill|the right call)(?: for\b|\s*[,?]|\s+and\b)",
    r"\b(?:stay on|stick with|keep) [\w/-]+(?: \([^)]*\))? or (?:move|switch|migrate|go) to ([\w-]+)",
    r"\bdo we (?:even )?(?:need|want) (?:a |an )?([\w-]{3,})",
    r"\bshould (?:we|i) (?:even )?(?:stay on|move to|switch to|use|go with|keep) ([\w-]{3,})",
)]


_IN_FRONT = re.compile(r"\b(?:put|putting|add|adding|introduc\w+) (?:a |an )?(?:redis|memcached|varnish|cdn|cache)\b"
                       r"[^.?!\n]{0,30}\bin front\b", re.I)


def design_focus(text: str) -> str | None:
    """What a design question is about ("is a cache right for us?" -> "cache"), to search on first."""
    if len(text.split()) < 8:
        return None
    if _IN_FRONT.search(text):
        return "cache"  # putting Redis (or a CDN) in front of something is a caching decision
    for pattern in _CHOICE_OBJECT:
        if match := pattern.search(text):
            return match.group(1)
    return None


def diagnose(case: Case, text: str, results: list[ScoredNote], retriever: Retriever, *,
             analysis_notes: list[str] | None = None, analysis_type: str | None = None,
             finding_notes: list[str] | None = None, previous_type: str | None = None,
             previous_lead: str | None = None) -> Diagnosis:
    asks_design = len(text.split()) >= 8 and (design_weight(text) >= DESIGN_QUESTION or bool(_ASKS_CHOICE.search(text)))
    chooses = design_focus(text) is not None  # the question names something to adopt or choose
    earlier = [s for s in case.symptoms if s not in case.latest]
    if case.latest and not set(case.latest) - GENERIC and earlier:
        current = earlier + case.latest  # a follow-up's "it's slow" does not replace the thread's diagnosis
    elif case.latest:
        current = list(case.latest)
    else:
        current = []
    generic_only = bool(current) and not set(current) - GENERIC
    if asks_design and generic_only:
        current = []  # "p95 is up, is a cache right for us?" asks about the cache
    # A follow-up that adds facts continues with the thread's cause; one that asks a new question is answered anew.
    continuing = case.turns > 1 and not case.latest and not asks_design and previous_lead
    causes: list[Note] = []
    lead_symptom: str | None = None
    # A follow-up that adds facts but no new symptom continues with the cause the thread was already on.
    for note_id in (analysis_notes or []) + (finding_notes or []) + ([previous_lead] if continuing else []):
        if (note := retriever.get(note_id)) and note not in causes:
            causes.append(note)
    if continuing:
        lead_symptom = next((s for s in _ordered(case.symptoms) if causes and s in causes[0].symptoms), None)
        current = []
    for symptom in _ordered(current):
        if symptom in GENERIC and causes:
            continue  # "it's slow" adds nothing once a specific symptom names the cause
        explainers = _explainers(symptom, results, retriever)
        if explainers and lead_symptom is None:
            lead_symptom = symptom
        for note in explainers[:1]:
            if note not in causes and len(causes) < MAX_CAUSES + 1:
                causes.append(note)
    if not causes and results:
        causes.append(results[0].note)
    stems = [topic[:6] for topic in case.ruled_out]
    results = [r for r in results if not any(stem in f"{r.note.id} {r.note.title}".lower() for stem in stems)]
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
    elif (specific := [s for s in _ordered(current) if s not in GENERIC and s in SYMPTOM_TYPE]):
        problem_type = SYMPTOM_TYPE[specific[0]]  # a contextual symptom with no explaining note still sets the type
    elif asks_design and generic_only:
        problem_type = SYMPTOM_TYPE[next(s for s in case.latest or case.symptoms if s in GENERIC)]
    elif asks_design and (case.turns == 1 or chooses or not previous_type):
        problem_type = "design"
    elif case.turns > 1 and previous_type and not case.latest:
        problem_type = previous_type  # a follow-up about the same problem ("is it safe to …?") keeps its type
    else:
        problem_type = classify(text, results)
    return Diagnosis(problem_type=problem_type, lead=causes[0] if causes else None, causes=causes[:MAX_CAUSES + 1],
                     related=related, symptom=lead_symptom, derived=derived_numbers(case))
