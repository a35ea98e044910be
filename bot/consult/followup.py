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


_HEADINGS = {"explain": "the query plan", "querylog": "the query log", "schema-review": "the review"}
_LOG_RULES = {"n-plus-one", "repeated-query", "slow-query"}


def _analyzer_of(findings: list[dict[str, Any]]) -> str | None:
    rules = {str(f.get("rule") or "") for f in findings}
    if rules and all(r.startswith("plan-") for r in rules):
        return "explain"
    if rules and rules <= _LOG_RULES:
        return "querylog"
    return "schema-review" if rules else None


def findings_markdown(findings: list[dict[str, Any]], analyzer: str | None = None) -> str:
    """`analyzer` names the analysis the findings came from; without it, their rule ids tell."""
    subject = _HEADINGS.get(analyzer or _analyzer_of(findings) or "", "the analysis")
    parts = [f"### About {subject} in this thread"]
    for f in findings:
        where = ".".join(p for p in (f.get("table"), f.get("column")) if p)
        line = f", line {f['line']}" if f.get("line") else ""
        fix = str(f.get("fix") or "").strip()
        # Plan and log fixes are not always SQL (ORM code, settings): fence them as what they are.
        language = "sql" if re.match(r"(?i)(?:--|(?:create|alter|drop|analyze|vacuum|set|show|explain|select|with)\b)", fix) \
            else ""
        parts.append(f"**{f['rule']}** ({f['severity']}{', ' + where if where else ''}{line}): "
                     f"{f['message']}\n\n{f['why']}\n\n```{language}\n{fix}\n```")
    return "\n\n".join(parts)
