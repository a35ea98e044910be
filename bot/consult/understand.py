"""Restating the case in the team's words: their stack, numbers, nouns, the sentence that reported each symptom,
the evidence given, and what is still unknown. Used by the offline answer and, as text, by the LLM prompt."""

from __future__ import annotations

import re

from bot.consult.case import SCALE_ORDER, STACK_ORDER, Case
from bot.consult.vocabulary import CASE_FIELDS, EVIDENCE

MAX_UNKNOWNS = 4


def _you(text: str) -> str:
    """The team's sentence, addressed back to them ("we added" -> "you added")."""
    swaps = {"we": "you", "We": "You", "our": "your", "Our": "Your", "us": "you", "we're": "you're",
             "We're": "You're", "i": "you", "I": "you", "my": "your", "My": "Your", "I'm": "you're", "we've": "you've"}
    return re.sub(r"\b(?:We're|we're|We|we|Our|our|us|I'm|I|My|my|we've)\b", lambda m: swaps[m.group(0)], text)


def stack_phrase(case: Case) -> str:
    facts = case.facts
    names = []
    for name in STACK_ORDER:
        value = facts.get(name)
        if not value or name == "language" and (facts.get("framework") or facts.get("orm")) and value in (
                "Python", "Ruby", "PHP"):
            continue
        if name == "database_version":
            if names and facts.get("database") and names[-1] == facts["database"]:
                names[-1] = f"{names[-1]} {value}"
            continue
        if name == "orm" and value == f"{facts.get('framework')} ORM":
            continue
        names.append(value)
    return ", ".join(dict.fromkeys(names))


def scale_phrase(case: Case) -> str:
    return "; ".join(case.facts[name] for name in SCALE_ORDER if name in case.facts)


def unknowns(case: Case, notes: list) -> list[str]:
    """Case fields the leading notes' questions ask about that the case does not know, most useful first."""
    known = case.known
    out: list[str] = []
    for note in notes[:2]:
        for question in note.questions:
            for name in question.asks:
                if name not in known and name not in out and name not in EVIDENCE:
                    out.append(name)
    return out[:MAX_UNKNOWNS]


def _added(message: str, quoted: list[str]) -> str:
    """The first sentences of a follow-up (what it adds), unless already quoted as a symptom."""
    prose = re.sub(r"```.*?```", " ", message, flags=re.S)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", prose) if len(s.split()) >= 3]
    fresh = [s for s in sentences if not any(s in q or q in s for q in quoted)]
    text = " ".join(fresh[:3])
    return text if len(text) <= 400 else text[:397].rsplit(" ", 1)[0] + "…"


def case_lines(case: Case) -> list[str]:
    lines = []
    if stack := stack_phrase(case):
        lines.append(f"**Stack:** {stack}")
    if scale := scale_phrase(case):
        lines.append(f"**Scale:** {scale}")
    if case.nouns:
        lines.append("**Your names:** " + ", ".join(f"`{n}`" for n in case.nouns[:6]))
    quoted = []
    for symptom in case.symptoms[:3]:
        if (quote := case.quotes.get(symptom)) and quote not in quoted:
            quoted.append(quote)
            lines.append(f"**You reported:** “{_you(quote)}”")
    if added := _added(case.message, quoted):
        lines.append(f"**{'You added' if case.turns > 1 else 'You said'}:** “{_you(added)}”")
    if change := case.facts.get("change"):
        lines.append(f"**What changed:** {_you('we ' + change) if not change.startswith(('you', 'we')) else _you(change)}")
    if error := case.facts.get("error"):
        lines.append(f"**Error:** `{error}`")
    given = [label for label in case.evidence.values()]
    if case.facts.get("query_count"):
        given.append(case.facts["query_count"])
    if given:
        lines.append("**Evidence so far:** " + ", ".join(dict.fromkeys(given)))
    return lines


def understanding(case: Case, diagnosis) -> str:  # noqa: ANN001 - a Diagnosis; avoids an import cycle
    lines = case_lines(case)
    missing = unknowns(case, diagnosis.causes or diagnosis.notes)
    if case.ruled_out:
        lines.append("**Ruled out by you:** " + ", ".join(case.ruled_out))
    if missing:
        lines.append("**Still unknown:** " + "; ".join(CASE_FIELDS[name] for name in missing))
    if not lines:
        return ""
    return "### What I understood\n" + "\n".join(f"- {line}" for line in lines)


def describe_case(case: Case, notes: list) -> str:
    """The case for the LLM prompt: the same facts, plus the unknowns by name."""
    lines = case_lines(case) or ["(nothing stated yet)"]
    missing = unknowns(case, notes)
    if case.ruled_out:
        lines.append("Ruled out by the team: " + ", ".join(case.ruled_out))
    text = "\n".join(f"- {re.sub(r'[*]', '', line)}" for line in lines)
    if missing:
        text += "\n\nStill unknown: " + "; ".join(f"{name} ({CASE_FIELDS[name]})" for name in missing)
    return text
