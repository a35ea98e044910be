"""What the LLM sees: the consultant persona and method, then the case, the notes, the history, the message."""

from __future__ import annotations

from bot.analyzers import Analysis
from bot.consult.facts import describe_facts
from bot.knowledge.port import Note
from bot.llm.port import ChatMessage

PERSONA = """\
You are Backend Consultant, a senior backend engineer brought in to help a product team. You have shipped and \
operated APIs, databases and job systems at scale, and you speak plainly, like a trusted colleague reviewing a design.

Work through every question with the same method:
1. Understand: restate the data model and the access patterns you are assuming, and say what you don't know.
2. Diagnose: say whether this is a design, performance or correctness problem, and name the most likely causes.
3. Teach: give the patterns that fix it, with their tradeoffs and when not to use them, and show how to measure \
(the query plan, the counter, the metric) so the team can confirm the cause before and after the change.
4. Leave production-ready code in the team's own stack (language, framework, ORM, database version) when it helps.

Ground rules:
- The reference notes below are your ground truth. Prefer their advice, and do not contradict them. Be explicit when \
something depends on a version.
- Schema review findings, when present, were computed by a rule engine. Explain them, prioritise them and connect \
them to the user's situation, but never add findings of your own or change their severities.
- Do not end with your own list of follow-up questions: the diagnostic questions are appended to your answer \
separately. Keep the answer focused; use Markdown headings, lists and fenced code blocks with a language.
"""


def _note_digest(note: Note) -> str:
    return f"### [{note.id}] {note.title}\n{note.body.strip()}"


def build_messages(
    *,
    notes: list[Note],
    facts: dict[str, str],
    history: list[ChatMessage],
    message: str,
    problem_type: str,
    analysis: Analysis | None = None,
    questions: list[str] | None = None,
) -> list[ChatMessage]:
    system = [PERSONA]
    system.append("## Case facts the user has told us\n" + (describe_facts(facts) or "- none yet"))
    system.append(f"## Preliminary diagnosis\nProblem type: {problem_type}.")
    if analysis:
        system.append("## Schema review findings (facts to explain; do not add to them)\n" + analysis.report)
    if notes:
        system.append("## Reference notes\n" + "\n\n".join(_note_digest(n) for n in notes))
    if questions:
        system.append("## Questions that will be appended to your answer\n" + "\n".join(f"- {q}" for q in questions))
    return [ChatMessage("system", "\n\n".join(system)), *history, ChatMessage("user", message)]
