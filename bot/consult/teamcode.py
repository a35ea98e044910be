"""Examples in the team's words: a note's example entity (`Order`, `orders`) becomes the team's (`Invoice`,
`invoices`) in code shown to them, when the team named one resource the example can stand for."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.consult.case import Case
from bot.consult.markdown_sections import CodeBlock

_ENTITY = re.compile(r"\b([A-Z][a-z]{2,})\.(?:objects|query|find|where|includes|findAll|findMany)\b"
                     r"|\bclass ([A-Z][a-z]{2,})\b|\b(?:FROM|JOIN|UPDATE|INTO|TABLE)\s+([a-z]{3,})s\b")
_PLURAL = re.compile(r"^[a-z]{3,}s$")


def _singular(word: str) -> str:
    return word[:-3] + "y" if word.endswith("ies") else word[:-1]


def _team_entity(case: Case) -> str | None:
    """The team's one resource as a singular word ("invoices" -> "invoice"), if they named one clearly."""
    plurals = [n for n in case.nouns if _PLURAL.match(n) and not n.endswith("ss")]
    return _singular(plurals[0]) if plurals else None


def in_team_words(block: CodeBlock, case: Case) -> CodeBlock:
    team = _team_entity(case)
    match = _ENTITY.search(block.code)
    if not team or not match:
        return block
    example = next(g for g in match.groups() if g).lower()
    if example == team or re.search(rf"\b{re.escape(team)}", block.code, re.I):
        return block

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        plural = word.lower().endswith(("ies", "s")) and word.lower() != example
        base = team + ("s" if plural else "")
        if team.endswith("y") and plural:
            base = team[:-1] + "ies"
        return base.capitalize() if word[0].isupper() else base

    # Not inside identifiers (order_by, OrderItem) and not the SQL phrase ORDER BY.
    pattern = re.compile(rf"(?<![A-Za-z_]){re.escape(example)}(?:s|ies)?(?![a-z_]|\s+by\b)", re.I)
    return replace(block, code=pattern.sub(swap, block.code))
