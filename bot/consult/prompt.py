"""What the LLM sees: the persona and method, the case and its unknowns, the diagnosis, the evidence findings, the
notes, the thread and the message, within one token budget (CONSULTANT_PROMPT_TOKENS) that no request exceeds.

When the prompt is too big, the parts give way in this order: findings become the top ones plus counts per rule,
runner-up notes shrink to their summaries, the lead note is cut, the history is trimmed, and last the message
itself is shortened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.analyzers import Analysis, condensed_report
from bot.consult.history import TokenCounter, trim_history
from bot.knowledge.port import Note
from bot.llm.port import ChatMessage

QUESTIONS_MARKER = "QUESTIONS:"
PERSONA = f"""\
You are Backend Consultant, a senior backend engineer brought in to help a product team. You have shipped and \
operated APIs, databases and job systems at scale, and you speak plainly, like a trusted colleague reviewing a design.

Work through every question with the same method:
1. Understand: open with what you understood of their case, in their words (their tables, endpoints, stack and \
numbers, from "The case" below), and say what is still unknown.
2. Diagnose: say whether this is a design, performance or correctness problem and lead with the cause the reported \
symptom points to ("Preliminary diagnosis" below), with the derived numbers when there are any.
3. Teach: give the patterns that fix it, with their tradeoffs and when not to use them, and show how to measure \
(the query plan, the counter, the metric) so the team can confirm the cause before and after the change.
4. Leave production-ready code in the team's own stack only (language, framework, ORM, database version); generic \
SQL is fine. Never show code for another stack.

Ground rules:
- The reference notes below are your ground truth. Prefer their advice and do not contradict them. Be explicit when \
something depends on a version.
- Findings from the analyzers (schema review, query plan, query log), when present, were computed by rules. Explain \
and prioritise them and connect them to the team's situation, but never add findings of your own or change severities.
- In a follow-up, do not repeat what the thread already said; build on it.
- End with a line `{QUESTIONS_MARKER}` followed by 2-4 lines starting with "- ": the diagnostic questions that would \
most move the diagnosis forward, drafted from the candidate questions and the case. Never ask for anything the case \
already states or for evidence already given. Use Markdown headings, lists and fenced code blocks with a language.
"""
MIN_FINDINGS = 5


@dataclass(frozen=True)
class PromptParts:
    case: str
    diagnosis: str
    candidates: list[str]
    notes: list[Note]
    analysis: Analysis | None = None


def _system(parts: PromptParts, *, findings_top: int | None, full_notes: int, lead_chars: int | None) -> list[str]:
    """The system prompt's sections (joined by blank lines); counted one by one, so stable ones hit the cache."""
    system = [PERSONA, "## The case (what the team told us)\n" + parts.case,
              "## Preliminary diagnosis\n" + parts.diagnosis]
    if parts.analysis:
        report = parts.analysis.report if findings_top is None else condensed_report(parts.analysis, findings_top)
        system.append(f"## Analyzer findings ({parts.analysis.analyzer}; facts to explain, do not add to them)\n{report}")
    if parts.notes:
        digests = []
        for i, note in enumerate(parts.notes):
            body = note.body.strip() if i < full_notes else note.summary.strip()
            if i == 0 and lead_chars is not None:
                body = body[:lead_chars] + ("\n[note shortened to fit]" if len(body) > lead_chars else "")
            digests.append(f"### [{note.id}] {note.title}\n{body}")
        system.append("## Reference notes")
        system.extend(digests)
    if parts.candidates:
        system.append("## Candidate questions (already filtered against the case)\n"
                      + "\n".join(f"- {q}" for q in parts.candidates))
    return system


def build_messages(parts: PromptParts, *, history: list[Any], message: str, counter: TokenCounter,
                   budget: int, history_budget: int) -> list[ChatMessage]:
    """The request's messages, at most `budget` tokens in all (counted as the history is: text + 4 per message)."""
    def cost(text: str) -> int:
        return counter.count(text) + 4

    n_findings = len(parts.analysis.findings) if parts.analysis else 0
    plans = [dict(findings_top=None, full_notes=len(parts.notes), lead_chars=None)]
    top = 50
    while top >= MIN_FINDINGS and n_findings > top:
        plans.append(dict(findings_top=top, full_notes=len(parts.notes), lead_chars=None))
        top //= 2
    smallest_top = min(MIN_FINDINGS, n_findings) if n_findings else None
    plans.append(dict(findings_top=smallest_top, full_notes=1, lead_chars=None))
    plans += [dict(findings_top=smallest_top, full_notes=1, lead_chars=chars) for chars in (6000, 2500, 800, 0)]
    message_cost = cost(message)
    sections: list[str] = []
    for plan in plans:
        sections = _system(parts, **plan)
        # Token counts add up across sections to within a token per joint, which the +2 per section covers.
        system_cost = sum(counter.count(section) + 2 for section in sections) + 4
        if system_cost + min(message_cost, budget // 4) <= budget:
            break
    system = "\n\n".join(sections)
    remaining = budget - system_cost
    if message_cost > remaining:
        message = _shorten(message, remaining - 8, counter)
        message_cost = cost(message)
    room = min(history_budget, remaining - message_cost)
    trimmed = trim_history(history, room, counter) if room > 0 else []
    while trimmed and sum(cost(m.content) for m in trimmed) > room:
        trimmed = trimmed[1:]
    return [ChatMessage("system", system), *trimmed, ChatMessage("user", message)]


def _shorten(text: str, tokens: int, counter: TokenCounter) -> str:
    marker = "\n[message shortened to fit the prompt budget]"
    if tokens <= 0:
        return marker.strip()
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if counter.count(text[:mid] + marker) <= tokens:
            low = mid
        else:
            high = mid - 1
    return text[:low] + marker


# Models do not always keep the exact spelling: "Questions:", "### Questions" and "**QUESTIONS:**" all count.
_MARKER_LINE = re.compile(r"^\s*(?:#+\s*)?\**\s*questions\s*:?\s*\**\s*:?\s*$", re.I)


def is_marker(line: str) -> bool:
    return bool(_MARKER_LINE.match(line))


def split_questions(answer: str) -> tuple[str, list[str]]:
    """(the answer without its question block, the drafted questions)."""
    lines = answer.split("\n")
    for i, line in enumerate(lines):
        if is_marker(line):
            questions = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", q).strip() for q in lines[i + 1:]]
            return "\n".join(lines[:i]), [q for q in questions if q.endswith("?")]
    return answer, []


class QuestionFilter:
    """Forwards streamed text as it arrives, up to the question block, so what streams is exactly the answer.

    Only a line that could still become the marker line is held back until it can't (or a newline ends it).
    """

    def __init__(self, sink) -> None:  # noqa: ANN001 - an async callable taking a str
        self.sink = sink
        self.sent: list[str] = []
        self._line = ""  # the current line so far
        self._line_sent = 0  # how much of it has been forwarded
        self.stopped = False

    @staticmethod
    def _may_be_marker(line: str) -> bool:
        return QUESTIONS_MARKER.startswith(re.sub(r"[\s#*]", "", line).upper())

    async def feed(self, piece: str) -> None:
        for i, segment in enumerate(piece.split("\n")):
            if self.stopped:
                return
            if i > 0:  # a newline ends the current line
                if is_marker(self._line):
                    self.stopped = True
                    return
                await self._send(self._line[self._line_sent:] + "\n")
                self._line, self._line_sent = "", 0
            self._line += segment
            if not self._may_be_marker(self._line) and self._line_sent < len(self._line):
                await self._send(self._line[self._line_sent:])
                self._line_sent = len(self._line)

    async def close(self) -> None:
        if not self.stopped and not is_marker(self._line) and self._line_sent < len(self._line):
            await self._send(self._line[self._line_sent:])
        self._line, self._line_sent = "", 0

    async def _send(self, text: str) -> None:
        if text:
            self.sent.append(text)
            await self.sink(text)

    @property
    def text(self) -> str:
        return "".join(self.sent)
