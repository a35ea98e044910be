"""The 2-4 follow-up questions that move the diagnosis forward.

Rules, the same for note questions and for questions an LLM drafted:
- never ask about a case field the case already knows, nor for evidence already given;
- never repeat a question (or a question about the same fields) asked earlier in the thread;
- no two questions in one reply ask the same thing (same fields, or near-duplicate wording);
- the leading hypotheses come first, alternating between them, so the answer separates them.
A question's fields come from the note (`asks`), and are also inferred from its wording, so an LLM draft or a
loosely tagged note question is held to the same rules.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.consult.case import Case
from bot.knowledge.port import Note, Question

MIN_QUESTIONS, MAX_QUESTIONS = 2, 4
NEAR_DUPLICATE = 0.6

FALLBACK = (
    Question("Which database and version are you running (for example PostgreSQL 16 or MySQL 8.0)?",
             ("database", "database_version")),
    Question("Which language, framework and ORM does this service use?", ("framework", "orm")),
    Question("How big is it today: rows in the largest tables and peak requests per second?", ("rows", "rps")),
    Question("Where does it run (Kubernetes, serverless, a PaaS such as Heroku, VMs), and how many instances?",
             ("deployment", "pods")),
    Question("What have you measured so far (query plans, latency percentiles, error rates), and what did it show?",
             ("measurements",)),
    Question("What changed shortly before the problem started (a deploy, a migration, a traffic increase)?",
             ("change",)),
    Question("What would a good outcome look like: the latency, consistency or delivery you need, and the "
             "constraints (deadline, team, budget)?", ("requirements",)),
)
# Words that show what a question asks about, whatever its author declared.
_ASKS_WORDS: dict[str, str] = {
    "pods": r"\bpods?\b|\breplicas\b|\binstances\b|\bdynos\b", "workers": r"\bworkers? (?:processes|per)\b|\bprocesses per\b",
    "pool_size": r"\bpool size\b|\bpool_size\b|\bsize of the pool\b", "max_connections": r"\bmax_connections\b",
    "database": r"\bwhich database\b|\bwhat database\b|\bpostgres(?:ql)? or mysql\b", "database_version": r"\bwhich (?:postgres(?:ql)?|mysql|database) version\b|\bwhat version\b",
    "orm": r"\bwhich orm\b|\bwhat orm\b", "framework": r"\bwhich (?:web )?framework\b|\bwhat framework\b",
    "language": r"\bwhich language\b|\bwhat language\b", "broker": r"\bwhich (?:message )?broker\b|\bkafka, rabbitmq\b",
    "job_queue": r"\bwhich (?:job|task) (?:queue|system|library)\b", "cache": r"\bwhich cache\b",
    "identity_provider": r"\bidentity provider\b|\bwhich idp\b", "migration_tool": r"\bmigration tool\b|\bwhich migration",
    "deployment": r"\bwhere does it run\b|\bhow (?:is it|do you) deploy", "query_count": r"\bhow many queries\b|\bquery count\b",
    "rows": r"\bhow many rows\b|\brows (?:does|do|in) (?:the|it)\b", "rps": r"\brequests per second\b|\brps\b|\bthroughput\b",
    "page_size": r"\bpage size\b|\bper page\b", "error": r"\bexact error\b|\berror message\b|\bwhat error\b",
    "plan": r"\bexplain\b|\bquery plan\b", "query_log": r"\bquery log\b|\blog_min_duration\b|\bslow (?:query )?log\b",
    "ddl": r"\b(?:the )?(?:ddl|schema|table definitions?)\b(?= .*\b(?:share|paste|show)\b)|\b(?:share|paste|show)\b.*\b(?:ddl|schema|table definition)",
    "query": r"\b(?:share|paste|show)\b[^?]*\b(?:the )?(?:sql|query)\b(?! plan)", "stack_trace": r"\bstack ?trace\b|\btraceback\b",
    "measurements": r"\bwhat have you measured\b|\bhave you measured\b", "change": r"\bwhat changed\b",
}
_ASKS_RE = {name: re.compile(pattern, re.I) for name, pattern in _ASKS_WORDS.items()}
_STOP = set("""a an the and or of to in on for is are do does did you your we our it its this that with what which how
many much when where who why there their be been have has can could would should any per from by as at""".split())


def asked_fields(question: Question) -> set[str]:
    return set(question.asks) | _worded_fields(question.text)


@lru_cache(maxsize=4096)
def _worded_fields(text: str) -> frozenset[str]:
    return frozenset(name for name, pattern in _ASKS_RE.items() if pattern.search(text))


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_+]+", text.lower()) if w not in _STOP and len(w) > 2}


def near_duplicate(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return a.strip().lower() == b.strip().lower()
    return len(wa & wb) / len(wa | wb) >= NEAR_DUPLICATE


def _interleave(pools: list[list[Question]]) -> list[Question]:
    """Alternate between the leading hypotheses (lead first), then the rest of each pool in order."""
    out: list[Question] = []
    depth = max((len(p) for p in pools), default=0)
    for i in range(depth):
        for pool in pools[:2]:
            if i < len(pool):
                out.append(pool[i])
    for pool in pools[2:]:
        out.extend(pool)
    return out


def choose_questions(case: Case, causes: list[Note], related: list[Note] = (),  # type: ignore[assignment]
                     drafted: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(the questions to ask, the case fields they ask about)."""
    known = case.known
    chosen: list[str] = []
    fields: list[str] = []

    def consider(question: Question) -> None:
        if len(chosen) >= MAX_QUESTIONS:
            return
        asks = asked_fields(question)
        if asks & known or asks & case.asked_fields or asks & set(fields):
            return
        if any(near_duplicate(question.text, q) for q in [*case.asked, *chosen]):
            return
        chosen.append(question.text)
        fields.extend(sorted(asks))

    for text in drafted or []:
        consider(Question(text.strip()))
    for question in _interleave([list(n.questions) for n in causes]):
        consider(question)
    # Once the causes' questions are used up, the general case questions come before a merely related note's.
    for question in [*FALLBACK, *(q for n in related for q in n.questions)]:
        if len(chosen) >= MIN_QUESTIONS:
            break
        consider(question)
    return chosen, fields
