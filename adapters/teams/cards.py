"""Adaptive Card builders (plain dicts, schema 1.5, which Teams renders on desktop, web and mobile)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from adapters.teams.render import plain

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
FEEDBACK_ACTION = "feedback"
FEEDBACK_VALUES = {"up": "👍", "down": "👎"}
# Severities most to least serious; any other value sorts after these, in first-seen order.
SEVERITY_ORDER = ("critical", "error", "high", "warning", "medium", "low", "info", "note")
_SEVERITY_COLOR = {"critical": "Attention", "error": "Attention", "high": "Attention", "warning": "Warning",
                   "medium": "Warning", "low": "Accent", "info": "Default", "note": "Default"}
# Serialized card size budget (bytes), below Teams' ~28 KB message limit.
CARD_BYTES = 24_000
FIX_CHARS = 1_500


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None,
          fallback: str | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": CARD_VERSION, "body": body}
    if actions:
        card["actions"] = actions
    if fallback:
        card["fallbackText"] = fallback
    card["msteams"] = {"width": "Full"}
    return card


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def feedback_actions(answer_id: str) -> list[dict[str, Any]]:
    labels = {"up": "👍 Helpful", "down": "👎 Not helpful"}
    return [{"type": "Action.Submit", "title": labels[value],
             "data": {"action": FEEDBACK_ACTION, "answer_id": answer_id, "value": value}}
            for value in ("up", "down")]


def feedback_card(answer_id: str) -> dict[str, Any]:
    return _card([_text("Was this answer helpful?", size="Small", isSubtle=True)], feedback_actions(answer_id))


def parse_feedback(value: Any) -> tuple[str, str] | None:
    """(answer_id, value) from an Action.Submit payload, or None when it is not a well-formed feedback submit."""
    if not isinstance(value, dict) or value.get("action") != FEEDBACK_ACTION:
        return None
    answer_id, vote = value.get("answer_id"), value.get("value")
    if not isinstance(answer_id, str) or not answer_id or len(answer_id) > 64 or vote not in FEEDBACK_VALUES:
        return None
    return answer_id, vote


def severity_rank(severity: str) -> int:
    s = (severity or "").lower()
    return SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER)


def severity_counts(findings: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter((f.get("severity") or "unknown").lower() for f in findings)
    return sorted(counts.items(), key=lambda kv: (severity_rank(kv[0]), list(counts).index(kv[0])))


def _where(finding: dict[str, Any]) -> str:
    place = finding.get("object") or ".".join(str(p) for p in (finding.get("table"), finding.get("column")) if p)
    line = finding.get("line")
    return " · ".join(p for p in (str(place) if place else "", f"line {line}" if line else "") if p)


def _finding_items(finding: dict[str, Any]) -> list[dict[str, Any]]:
    severity = (finding.get("severity") or "unknown").lower()
    head = f"**{severity.upper()}** · `{finding.get('rule', 'rule')}`"
    if where := _where(finding):
        head += f" · {where}"
    items = [_text(head, color=_SEVERITY_COLOR.get(severity, "Default"), size="Small")]
    if finding.get("message"):
        items.append(_text(str(finding["message"]), weight="Bolder", spacing="Small"))
    if finding.get("why"):
        items.append(_text(str(finding["why"]), isSubtle=True, spacing="Small"))
    if fix := str(finding.get("fix") or "").strip():
        if len(fix) > FIX_CHARS:
            fix = fix[:FIX_CHARS].rstrip() + "\n-- … (truncated)"
        items.append({"type": "Container", "style": "emphasis", "spacing": "Small",
                      "items": [_text(fix, fontType="Monospace", size="Small")]})
    if note := str(finding.get("note") or "").strip():
        # A knowledge-note id (the consultant's notes) or a free-text remark.
        label = f"See also: `{note}`" if " " not in note else f"Note: {note}"
        items.append(_text(label, isSubtle=True, size="Small", spacing="Small"))
    return items


def headline(summary: str | None) -> str:
    """The first paragraph of an analyzer's summary: analyzers may follow it with top findings and code, which
    a card TextBlock cannot render (and the card lists the findings anyway)."""
    first = (summary or "").strip().split("\n\n", 1)[0].strip()
    return first if len(first) <= 400 else first[:399].rstrip() + "…"


def review_fallback(summary: str, findings: list[dict[str, Any]]) -> str:
    """The review as plain text, for clients that cannot render Adaptive Cards."""
    lines = [plain(headline(summary))]
    for f in sorted(findings, key=lambda f: severity_rank(f.get("severity", ""))):
        where = _where(f)
        lines.append(f"- [{(f.get('severity') or 'unknown').upper()}] {f.get('rule', '')}"
                     f"{' (' + where + ')' if where else ''}: {f.get('message', '')}")
        if f.get("fix"):
            lines.append("  Fix: " + " ".join(str(f["fix"]).split())[:300])
    return "\n".join(lines)


def review_card(summary: str | None, findings: list[dict[str, Any]], answer_id: str | None,
                title: str = "Schema review") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Summary by severity, then each finding with its fix SQL in monospace, most severe first.

    Returns the card and the findings that did not fit in one message (the caller sends those as text)."""
    line = headline(summary) or f"{len(findings)} finding(s)."
    ordered = sorted(findings, key=lambda f: severity_rank(f.get("severity", "")))
    counts = severity_counts(findings)
    if line.startswith("**") or plain(line).lower().startswith(title.lower()):  # the headline names itself
        head: list[dict[str, Any]] = [_text(line, size="Medium", weight="Bolder")]
    else:
        head = [_text(title, size="Large", weight="Bolder"), _text(line, spacing="Small")]
    if counts:
        head.append({"type": "FactSet", "facts": [{"title": sev.capitalize(), "value": str(n)} for sev, n in counts]})
    else:
        head.append(_text("No findings.", color="Good"))
    actions = feedback_actions(answer_id) if answer_id else None
    fallback = review_fallback(line, findings)
    shown = len(ordered)
    while True:
        body = list(head)
        for finding in ordered[:shown]:
            body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": _finding_items(finding)})
        if shown < len(ordered):
            body.append(_text(f"… and {len(ordered) - shown} more finding(s), in the messages below.",
                              isSubtle=True, separator=True))
        card = _card(body, actions, fallback[:4000])
        if shown == 0 or len(json.dumps(card, ensure_ascii=False).encode()) <= CARD_BYTES:
            return card, ordered[shown:]
        shown = max(0, shown - max(1, shown // 4))


def _fence_language(code: str) -> str:
    """Review and plan fixes are SQL; N+1 fixes are ORM code in the team's language: no SQL highlighting there."""
    first = code.split(None, 1)[0].upper() if code.split() else ""
    return "sql" if first in ("--", "CREATE", "ALTER", "DROP", "ANALYZE", "VACUUM", "SET", "SHOW", "EXPLAIN",
                              "SELECT", "WITH", "UPDATE", "INSERT", "DELETE") else ""


def findings_markdown(findings: list[dict[str, Any]]) -> str:
    """Findings as Markdown, for those that did not fit in the card."""
    parts = []
    for f in findings:
        where = _where(f)
        head = f"**{(f.get('severity') or 'unknown').upper()}** · `{f.get('rule', 'rule')}`"
        parts.append(head + (f" · {where}" if where else "") + f": {f.get('message', '')}")
        if f.get("why"):
            parts.append(str(f["why"]))
        if fix := str(f.get("fix") or "").strip():
            parts.append(f"```{_fence_language(fix)}\n{fix}\n```")
    return "\n\n".join(parts)
