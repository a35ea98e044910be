"""The offline answer, in the method's order: what I understood, diagnosis, what to do, how to measure, tradeoffs.

It is composed from the case and the notes the diagnosis chose, with code only in the team's stack. In a follow-up,
sections the thread already received are referred to, not repeated, and the rest of the lead note is used instead,
so an answer to new facts is a new answer. `given` names the sections shown ("<note>#<section>"); the engine keeps
them in the answer's meta.
"""

from __future__ import annotations

import re

from bot.analyzers import Analysis, condensed_report
from bot.consult.case import Case
from bot.consult.diagnose import Diagnosis
from bot.consult.markdown_sections import code_blocks, first_paragraph, lead, subsections
from bot.consult.stack import about_other_stack, fit, pick_blocks
from bot.consult.teamcode import in_team_words
from bot.consult.understand import understanding
from bot.consult.vocabulary import SYMPTOMS
from bot.knowledge.port import Note

CONFIRM = "How to confirm and measure"
PATTERNS = "Patterns and fixes"
TRADEOFFS = "Tradeoffs"
PITFALLS = "Pitfalls"
TYPE_WORDS = {"design": "a **design** question", "performance": "a **performance** problem",
              "correctness": "a **correctness** problem", "unknown": "not yet clear enough to classify"}
MAX_PATTERNS = 3
ANSWER_FINDINGS = 40  # a chat answer lists this many findings; the rest are counted (the CLI has them all)


def _sentences(text: str, count: int) -> str:
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return " ".join(parts[:count])


def _prose(text: str) -> str:
    """A paragraph shown without the code it introduced must not end by announcing that code."""
    text = text.strip()
    return re.sub(r"\s*:\s*$", ".", text)


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {_prose(item)}" for item in items)


def _code(section: str, case: Case) -> str:
    return "\n\n".join(in_team_words(block, case).markdown() for block in pick_blocks(code_blocks(section), case))


def _for_team(head: str, body: str, case: Case) -> bool:
    """A pattern sub-section for another stack (by its heading, or because none of its code fits) is left out."""
    if about_other_stack(head, case):
        return False
    blocks = [b for b in code_blocks(body) if b.language != "sql"]
    return not blocks or any(fit(b, case) >= 0 for b in blocks)


def _diagnosis(case: Case, diagnosis: Diagnosis) -> str:
    lead_note = diagnosis.lead
    kind = TYPE_WORDS.get(diagnosis.problem_type, diagnosis.problem_type)
    lines = ["### Diagnosis"]
    if lead_note is None:
        return "\n".join(lines + [f"This looks like {kind}, but no note in the knowledge base matches it yet."])
    if diagnosis.problem_type == "design" and diagnosis.symptom is None:
        lines.append(f"This is {kind}. The pattern that answers it: **{lead_note.title}**. "
                     f"{_sentences(lead_note.summary, 2)}")
    else:
        because = f" It is what the symptom you reported points to: {SYMPTOMS[diagnosis.symptom]}." \
            if diagnosis.symptom else ""
        lines.append(f"This is {kind}. Most likely cause: **{lead_note.title}**. "
                     f"{_sentences(lead_note.summary, 2)}{because}")
        others = [n for n in diagnosis.causes[1:]]
        if others:
            lines.append("Also consistent with what you describe: " + "; ".join(
                f"**{n.title}**: {_sentences(n.summary, 1)}" for n in others))
    if diagnosis.derived:
        lines.append("\n".join(f"- {line}" for line in diagnosis.derived))
    if diagnosis.related:
        lines.append("Related notes, for context rather than causes: " + ", ".join(
            f"*{n.title}* (`{n.id}`)" for n in diagnosis.related) + ".")
    return "\n\n".join(lines)


def _relevance(part: tuple[str, str], case: Case) -> float:
    """How much a pattern sub-section speaks to this case: code for the team's stack, and the team's words."""
    head, body = part
    stack = max((fit(b, case) for b in code_blocks(body) if b.language != "sql"), default=0.0)
    words = {w for w in re.findall(r"[a-z_]{4,}", case.message.lower())}
    said = set(re.findall(r"[a-z_]{4,}", (head + " " + first_paragraph(body)).lower()))
    return (2.0 if stack >= 2 else 0.0) + len(words & said) * 0.5


def _patterns(note: Note, case: Case, given: set[str], shown: list[str]) -> tuple[str, list[str]]:
    """What to do: the lead note's pattern sub-sections the thread has not seen yet."""
    section = note.sections.get(PATTERNS, "")
    parts: list[tuple[str, str]] = [(h, b) for h, b in subsections(section) or [("", section)] if _for_team(h, b, case)]
    fresh = [(head, body) for head, body in parts if f"{note.id}#{PATTERNS}:{head}" not in given]
    if given:  # a follow-up: the unseen patterns closest to the team's stack and words first
        fresh.sort(key=lambda part: -_relevance(part, case))
    repeated = [head for head, _ in parts if f"{note.id}#{PATTERNS}:{head}" in given]
    out = ["### What to do"]
    code_left = 2
    for head, body in fresh[:MAX_PATTERNS]:
        summary = first_paragraph(body) or " ".join(lead(body, 2))
        out.append(f"**{head}**: {_prose(summary)}" if head else _prose(summary))
        if code_left and (code := _code(body, case)):
            out.append(code)
            code_left -= 1
        shown.append(f"{note.id}#{PATTERNS}:{head}")
    if repeated:
        out.append("Already covered earlier in this thread: " + ", ".join(f"**{h}**" for h in repeated if h) + ".")
    if not fresh:
        pitfalls = note.sections.get(PITFALLS, "")
        if pitfalls and f"{note.id}#{PITFALLS}" not in given:
            out.append("With the fixes above in place, watch for these pitfalls:\n" + _bullets(lead(pitfalls, 4)))
            shown.append(f"{note.id}#{PITFALLS}")
    return "\n\n".join(out), shown


def _measure(note: Note, case: Case, given: set[str], shown: list[str]) -> str:
    section = note.sections.get(CONFIRM, "")
    if not section:
        return ""
    key = f"{note.id}#{CONFIRM}"
    items = [item for item in lead(section, 12) if not about_other_stack(item, case)]
    if key in given:
        more = items[4:7]
        if not more:
            return "### How to measure\nMeasure as in my earlier answer, before and after the change."
        return "### How to measure\nBeyond the checks from my earlier answer:\n" + _bullets(more)
    shown.append(key)
    text = "### How to measure\n" + _bullets(items[:4])
    if code := _code(section, case):
        text += "\n\n" + code
    return text


def _tradeoffs(note: Note, given: set[str], shown: list[str]) -> str:
    section = note.sections.get(TRADEOFFS, "")
    key = f"{note.id}#{TRADEOFFS}"
    if not section or key in given:
        return ""
    shown.append(key)
    return "### Tradeoffs\n" + _bullets(lead(section, 3))


def compose_offline(case: Case, diagnosis: Diagnosis, *, analysis: Analysis | None = None, extra: str = "",
                    given: set[str] | None = None, llm_failed: bool = False, notice: str = "") -> tuple[str, list[str]]:
    """(the answer's Markdown, the section keys it showed)."""
    given = given or set()
    why = "the language model is unavailable right now" if llm_failed else "no language model is configured"
    parts = [notice] if notice else []
    parts.append(f"_Answer composed from the Backend Consultant knowledge base ({why})._")
    if analysis:
        parts.append(condensed_report(analysis, ANSWER_FINDINGS).strip())
    if extra:
        parts.append(extra)
    parts.append(understanding(case, diagnosis))
    shown: list[str] = []
    parts.append(_diagnosis(case, diagnosis))
    note = diagnosis.lead
    if note is None:
        if not analysis:
            parts.append("Tell me a little more: what the system does, what you observe, and what you expected.")
        return "\n\n".join(p for p in parts if p), shown
    patterns, shown = _patterns(note, case, given, shown)
    parts.append(patterns)
    parts.append(_measure(note, case, given, shown))
    parts.append(_tradeoffs(note, given, shown))
    return "\n\n".join(p for p in parts if p), shown
