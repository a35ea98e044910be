"""The offline answer: composed deterministically from the retrieved notes (and any analyzer report)."""

from __future__ import annotations

from bot.analyzers import Analysis
from bot.knowledge.port import Note
from bot.consult.markdown_sections import CodeBlock, code_blocks, first_paragraph, lead, subsections
from bot.consult.stack import preferred_fences, sql_dialect, stack_keywords

CONFIRM = "How to confirm and measure"
PATTERNS = "Patterns and fixes"
TRADEOFFS = "Tradeoffs"

PROBLEM_LABELS = {
    "design": "a **design** question",
    "performance": "a **performance** problem",
    "correctness": "a **correctness** problem",
    "unknown": "not yet clear enough to classify",
}


def pick_code(blocks: list[CodeBlock], facts: dict[str, str]) -> CodeBlock | None:
    """The block that best matches the user's stack; the note's first block when nothing is known."""
    if not blocks:
        return None
    fences, keywords, dialect = preferred_fences(facts), stack_keywords(facts), sql_dialect(facts)

    def score(block: CodeBlock) -> int:
        points = 0
        if block.language in fences:
            points += 3
        haystack = (block.context + " " + block.code[:400]).lower()
        points += 2 * sum(1 for word in keywords if word in haystack)
        if block.code.count("\n") > 40:  # a chat answer wants the short example, not the full module
            points -= 2
        if block.language == "sql" and dialect:
            block_dialect = (block.info.split()[1:] or ["postgres"])[0]
            points += 1 if block_dialect == dialect else -1
        return points

    return max(blocks, key=lambda b: (score(b), -blocks.index(b)))


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _with_example(heading: str, items: list[str], section: str, facts: dict[str, str]) -> str:
    """A heading, its bullets, and the section's code example that best fits the user's stack."""
    text = f"### {heading}\n" + _bullets(items)
    if block := pick_code(code_blocks(section), facts):
        text += "\n\n" + block.markdown()
    return text


def compose_offline(
    notes: list[Note],
    problem_type: str,
    facts: dict[str, str],
    *,
    analysis: Analysis | None = None,
    llm_failed: bool = False,
) -> str:
    why = "the language model is unavailable right now" if llm_failed else "no language model is configured"
    parts = [f"_Answer composed from the Backend Consultant knowledge base ({why})._"]
    if analysis:
        parts.append(analysis.report.strip())
    if notes:
        titles = ", ".join(f"*{n.title}*" for n in notes)
        parts.append(f"**Diagnosis:** this looks like {PROBLEM_LABELS.get(problem_type, problem_type)}. "
                     f"Most relevant: {titles}.")
    elif not analysis:
        parts.append("I couldn't match this to a topic in the knowledge base yet. Tell me a little more: what the "
                     "system does, what you observe, and what you expected.")
        return "\n\n".join(parts)

    main = notes[0] if notes else None
    if main:
        parts.append("### Likely causes\n" + _bullets([n.summary.strip() for n in notes[:2]]))
        if confirm := main.sections.get(CONFIRM, ""):
            parts.append(_with_example("How to confirm and measure", lead(confirm, 4), confirm, facts))
        if patterns := main.sections.get(PATTERNS, ""):
            items = [f"**{head}**: {first_paragraph(body)}" if first_paragraph(body) else f"**{head}**"
                     for head, body in subsections(patterns)[:4]] or lead(patterns, 4)
            parts.append(_with_example("Patterns to apply", items, patterns, facts))
        tradeoffs = main.sections.get(TRADEOFFS, "")
        if tradeoffs:
            parts.append("### Tradeoffs\n" + _bullets(lead(tradeoffs, 3)))
    return "\n\n".join(parts)
