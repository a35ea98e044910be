"""Follow-ups about an earlier analysis ("why is the float bad?"): find the findings the user is asking about."""

from __future__ import annotations

import re
from typing import Any

from bot.store.port import Turn

# Words that appear in most questions and most findings, so they say nothing about which finding is meant.
_GENERIC = {
    "the", "and", "for", "why", "how", "what", "that", "this", "these", "those", "bad", "good", "is", "are", "was",
    "about", "with", "without", "does", "do", "did", "can", "could", "should", "would", "table", "tables", "column",
    "columns", "there", "their", "then", "than", "from", "into", "our", "your", "you", "not", "yes", "one", "line",
    "mean", "means", "fix", "problem", "issue", "explain", "tell", "more", "really", "matter", "it's", "its",
}
_WORD = re.compile(r"[a-z0-9_]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _GENERIC}


def latest_findings(turns: list[Turn]) -> list[dict[str, Any]]:
    """The findings of the most recent analysis stored in the thread."""
    for turn in reversed(turns):
        if turn.role == "context" and turn.meta.get("findings"):
            return list(turn.meta["findings"])
    return []


def relevant_findings(text: str, findings: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    asked = _words(text)
    # Simple stemming on the question side: "indexes" -> "index", "floats" -> "float".
    asked |= {w[:-2] if w.endswith("es") else w[:-1] for w in asked if w.endswith("s") and len(w) > 4}
    scored = []
    for position, finding in enumerate(findings):
        vocabulary = _words(" ".join(str(finding.get(k) or "") for k in ("rule", "table", "column", "object",
                                                                          "message")).replace("-", " "))
        if hits := len(asked & vocabulary):
            scored.append((-hits, position, finding))
    return [finding for _, _, finding in sorted(scored)[:limit]]


def findings_markdown(findings: list[dict[str, Any]]) -> str:
    parts = ["### About the review in this thread"]
    for f in findings:
        where = ".".join(p for p in (f.get("table"), f.get("column")) if p)
        parts.append(f"**{f['rule']}** ({f['severity']}{', ' + where if where else ''}, line {f['line']}): "
                     f"{f['message']}\n\n{f['why']}\n\n```sql\n{f['fix'].strip()}\n```")
    return "\n\n".join(parts)
