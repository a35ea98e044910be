"""The case: what the consultant knows about a team's problem, rebuilt every turn from the whole thread.

Understanding comes first in the method: the stack, the scale, the symptoms (with the team's own sentence for each),
the evidence already given, the team's own nouns, and what has been asked. Facts from later messages replace
earlier ones (teams correct themselves); symptoms, nouns and evidence accumulate. Analyzers (schema review, plan and
query-log readers) add evidence, tables and facts through their Analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.consult.facts import extract_facts
from bot.consult.nouns import team_nouns
from bot.consult.symptoms import PATTERNS, change_before, error_text, reported
from bot.consult.vocabulary import CASE_FIELDS, EVIDENCE, SCALE_FIELDS

# Evidence recognised in the text itself (analyzers add what they read, with a better label).
_EVIDENCE_SEEN: dict[str, re.Pattern[str]] = {name: re.compile(pattern, re.I | re.M) for name, pattern in {
    "plan": r"\((?:cost=\d|actual time=)|\bQUERY PLAN\b|\"Node Type\"\s*:",
    "query_log": r"\bduration: \d+(?:\.\d+)? ms\s+(?:statement|execute)|^\(\d+\.\d+\) SELECT|\bLoad \(\d+(?:\.\d+)?ms\)",
    "ddl": r"^\s*(?:CREATE TABLE|ALTER TABLE|CREATE (?:UNIQUE )?INDEX)\b|\b(?:add_column|change_column|remove_column|rename_column|create_table|add_index|migrations\.(?:AddField|AlterField|RemoveField)|op\.(?:add_column|alter_column|create_index|create_table))\b",
    "query": r"^\s*SELECT\b[\s\S]{0,3000}?\bFROM\b|^\s*(?:UPDATE\s+\w+\s+SET|DELETE\s+FROM|INSERT\s+INTO)\b",
    "stack_trace": r"Traceback \(most recent call last\)|^\s+at [\w.$<>]+\(|Exception in thread|^goroutine \d+ \[|^\s+File \"[^\"]+\", line \d+",
    "metrics": r"\bp(?:50|90|95|99)\b|\bgrafana\b|\bdatadog\b|\bdashboard\b|\bcpu (?:at|is|hits|~)\s*\d+\s*%|\bnew relic\b|\bapm\b",
    "code": r"^```(?!sql|text|console)\w+\s*$|^\s*(?:def |class |func |public |private |async def |const \w+ = |@\w+(?:\(|$))",
}.items()}
EVIDENCE_LABELS = {"plan": "the query plan", "query_log": "the query log", "ddl": "the schema/migration",
                   "query": "the SQL", "stack_trace": "the stack trace", "metrics": "metrics",
                   "code": "the code", "query_count": "query counts"}
_PG_PLAN = re.compile(r"\(cost=\d+\.\d+\.\.\d+\.\d+ rows=\d+ width=\d+\)|\"Node Type\"\s*:")
# "pagination is not involved", "it's not a permissions thing", "not the cache": topics the team ruled out.
_RULED_OUT = re.compile(
    r"\b([a-z][a-z-]{3,})\s+(?:is|are|was|were)\s*(?:n[o']t|not|definitely not|never)\s+(?:involved|the (?:issue|problem|cause)|related|it)\b"
    r"|\b(?:it'?s|it is|this is)\s+not\s+(?:a|an|the)\s+([a-z][a-z-]{3,})\s+(?:thing|issue|problem)\b"
    r"|\bno\s+([a-z][a-z-]{3,})\s+(?:involved|at all)\b", re.I)
# From a plan's or log's marker to the end of its line (prose before it on the same line stays).
_EVIDENCE_LINE = re.compile(r"^\s*->.*$|^\s*\(\d+ rows?\)\s*$|(?:\(cost=|actual time=|\brows=\d|loops=|Buffers:|Planning Time|Execution Time|"
                            r"duration: \d|\bLOG:|STATEMENT:|DETAIL:|\"Plan\"|\"Node Type\").*$", re.M)
_MEASURED = re.compile(r"\b(?:we |i )?(?:measured|profiled|traced|benchmarked|timed|counted|ran explain|checked the plan)\b", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
STACK_ORDER = ("language", "framework", "orm", "driver", "database", "database_version", "pooler", "broker",
               "job_queue", "cache", "search", "identity_provider", "migration_tool", "deployment", "api_style")
SCALE_ORDER = ("rows", "data_size", "rps", "pods", "workers", "pool_size", "max_connections", "concurrency",
               "page_size", "page_number", "query_count", "latency", "duration")


@dataclass
class Case:
    facts: dict[str, str] = field(default_factory=dict)  # CASE_FIELDS -> what the team said
    evidence: dict[str, str] = field(default_factory=dict)  # EVIDENCE kind -> what was given
    symptoms: list[str] = field(default_factory=list)  # every symptom reported in the thread, in order
    latest: list[str] = field(default_factory=list)  # symptoms reported in this message
    quotes: dict[str, str] = field(default_factory=dict)  # symptom -> the team's sentence that reported it
    nouns: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # questions already asked in the thread
    asked_fields: set[str] = field(default_factory=set)
    turns: int = 0  # user messages in the thread, this one included
    message: str = ""  # this turn's message, as the team wrote it
    ruled_out: list[str] = field(default_factory=list)  # topics the team said are not involved

    def knows(self, name: str) -> bool:
        return name in self.facts or name in self.evidence

    @property
    def known(self) -> set[str]:
        known = set(self.facts) | set(self.evidence)
        if {"framework", "orm"} & known:
            known.add("language")
        if self.facts.get("query_count") or self.evidence:
            known.add("measurements")
        if self.facts.get("query_count"):
            known.add("query_log")  # the team counted the queries already; the log would tell the same
        return known

    def number(self, name: str) -> float | None:
        """The first number in a scale fact ("12 pods" -> 12, "HPA 4-20 pods" -> 20, "2k rps" -> 2000)."""
        return parse_number(self.facts.get(name, ""), largest=name == "pods")

    def to_rows(self) -> dict[str, str]:
        """The case as the store's name -> value rows."""
        rows = dict(self.facts)
        rows.update({f"evidence.{k}": v for k, v in self.evidence.items()})
        if self.symptoms:
            rows["symptoms"] = ", ".join(self.symptoms)
        if self.nouns:
            rows["nouns"] = ", ".join(self.nouns)
        return rows


_MULTIPLIER = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}


def parse_number(said: str, *, largest: bool = False) -> float | None:
    values = []
    for m in re.finditer(r"(\d[\d,]*(?:\.\d+)?)\s*(k|mm|m|bn|b|thousand|million|billion)?\b", said, re.I):
        value = float(m.group(1).replace(",", ""))
        values.append(value * _MULTIPLIER.get((m.group(2) or "").lower(), 1))
    if not values:
        return None
    return max(values) if largest else values[0]


def _quote(text: str, symptom: str) -> str | None:
    match = PATTERNS[symptom].search(text)
    if not match:
        return None
    for sentence in _SENTENCE.finditer(text):
        if sentence.start() <= match.start() < sentence.end():
            return re.sub(r"\s+", " ", sentence.group(0)).strip()[:220]
    return None


@dataclass(frozen=True)
class _Read:
    """Everything one message tells, extracted once per text (a thread is re-read every turn)."""

    facts: dict[str, str]
    evidence: tuple[str, ...]
    symptoms: tuple[str, ...]
    quotes: tuple[tuple[str, str], ...]
    nouns: tuple[str, ...]
    ruled_out: tuple[str, ...]


@lru_cache(maxsize=2048)
def _read(text: str) -> _Read:
    facts = extract_facts(text)
    if change := change_before(text):
        facts["change"] = change
    if error := error_text(text):
        facts["error"] = error
    if _MEASURED.search(text):
        facts["measurements"] = "measured"
    evidence = tuple(kind for kind, pattern in _EVIDENCE_SEEN.items() if pattern.search(text))
    if "plan" in evidence and _PG_PLAN.search(text):
        facts.setdefault("database", "PostgreSQL")  # only PostgreSQL prints plans in this shape
    if {"plan", "query_log"} & set(evidence):
        # A plan's or log's numbers are estimates and timings, not the team's scale: read the scale from the prose.
        prose = _EVIDENCE_LINE.sub("", text)
        for name in SCALE_FIELDS:
            facts.pop(name, None)
        facts.update({k: v for k, v in extract_facts(prose).items() if k in SCALE_FIELDS})
    symptoms = tuple(reported(text))
    quotes = tuple((s, q) for s in symptoms if (q := _quote(text, s)))
    ruled_out = tuple(dict.fromkeys(next(g for g in m.groups() if g).lower() for m in _RULED_OUT.finditer(text)))
    return _Read(facts, evidence, symptoms, quotes, tuple(team_nouns(text)), ruled_out)


def _learn(case: Case, text: str) -> list[str]:
    """Add one message's facts, symptoms, nouns and evidence to the case; returns its symptoms."""
    read = _read(text)
    case.facts.update(read.facts)
    for kind in read.evidence:
        case.evidence.setdefault(kind, EVIDENCE_LABELS[kind])
    for topic in read.ruled_out:
        if topic not in case.ruled_out:
            case.ruled_out.append(topic)
    for symptom in read.symptoms:
        if symptom not in case.symptoms:
            case.symptoms.append(symptom)
    case.quotes.update(dict(read.quotes))  # the latest telling is the most precise
    known = {n.lower() for n in case.nouns}
    case.nouns.extend(n for n in read.nouns if n.lower() not in known)
    return list(read.symptoms)


def learn_analysis(case: Case, analysis: Any) -> None:
    """What an analyzer read: its evidence kind, the tables in it, and facts such as the database."""
    if getattr(analysis, "evidence", ""):
        case.evidence[analysis.evidence] = EVIDENCE_LABELS.get(analysis.evidence, analysis.evidence)
    for table in getattr(analysis, "tables", []) or []:
        if table.lower() not in {n.lower() for n in case.nouns}:
            case.nouns.append(table)
    for name, value in (getattr(analysis, "facts", {}) or {}).items():
        if name in CASE_FIELDS and value:
            case.facts.setdefault(name, str(value))


def build_case(turns: list, message: str, analysis: Any = None, stored: dict[str, str] | None = None) -> Case:
    """The case from the stored rows, every earlier turn of the thread, this message and its analysis."""
    case = Case()
    for name, value in (stored or {}).items():
        if name in CASE_FIELDS and name not in EVIDENCE:
            case.facts[name] = value
        elif name.startswith("evidence.") and name[9:] in EVIDENCE:
            case.evidence[name[9:]] = value
    for turn in turns:
        if turn.role == "user":
            case.turns += 1
            _learn(case, turn.text)
        elif turn.role == "context":
            meta = turn.meta or {}
            if meta.get("case"):  # an analysis stored earlier in the thread
                learn_analysis(case, _Stored(meta["case"]))
            elif str(meta.get("source", "")).startswith(("slack", "teams")):
                _learn(case, turn.text)  # earlier messages of the platform thread
        elif turn.role == "assistant":
            meta = turn.meta or {}
            case.asked.extend(meta.get("questions", []))
            case.asked_fields.update(meta.get("asks", []))
    case.turns += 1
    case.message = message
    case.latest = _learn(case, message)
    if analysis is not None:
        learn_analysis(case, analysis)
    return case


class _Stored:
    """An analysis's case contribution as stored in a context turn's meta."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.evidence = data.get("evidence", "")
        self.tables = data.get("tables", [])
        self.facts = data.get("facts", {})


def analysis_case_meta(analysis: Any) -> dict[str, Any]:
    return {"evidence": analysis.evidence, "tables": list(analysis.tables)[:20], "facts": dict(analysis.facts)}
