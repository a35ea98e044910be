"""The schema review in Block Kit: a compact summary (who asked, counts by severity, top findings with their fix SQL)
and the full report after it."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from adapters.slack.mrkdwn import escape, split_text, to_mrkdwn
from adapters.slack.render import (SECTION_CHARS, Block, SlackMessage, context, fallback_text, pack, reply_messages,
                                   section)
from bot.messages import Reply

TOP_FINDINGS = 3
FIX_CHARS = 1_200

# Most severe first; unknown severities sort after these, in the order they first appear.
SEVERITY_ORDER = ("critical", "blocker", "error", "high", "warning", "warn", "medium", "low", "info", "note", "hint")
SEVERITY_EMOJI = {"critical": "🔴", "blocker": "🔴", "error": "🔴", "high": "🔴", "warning": "🟠", "warn": "🟠",
                  "medium": "🟠", "low": "🔵", "info": "🔵", "note": "⚪", "hint": "⚪"}
# Summary paragraphs that list findings (numbered items, their fix SQL, "…and N more"): rendered as blocks instead.
_LISTED = re.compile(r"^\s*(\d+\.\s|[-*•]\s|```|_?…)")


def _severity(finding: dict[str, Any]) -> str:
    return str(finding.get("severity") or "info").lower()


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def severity_counts(findings: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(_severity(f) for f in findings)
    return sorted(counts.items(), key=lambda item: (_rank(item[0]), list(counts).index(item[0])))


def _where(finding: dict[str, Any]) -> str:
    table, column, obj = finding.get("table"), finding.get("column"), finding.get("object")
    place = ".".join(str(p) for p in (table, column) if p) or (str(obj) if obj else "")
    line = finding.get("line")
    return (f" on `{escape(place)}`" if place else "") + (f" (line {line})" if line else "")


def finding_block(finding: dict[str, Any]) -> Block:
    severity = _severity(finding)
    emoji = SEVERITY_EMOJI.get(severity, "⚪")
    rule = escape(str(finding.get("rule") or "finding"))
    head = f"{emoji} *{escape(severity)}* `{rule}`{_where(finding)}\n{to_mrkdwn(str(finding.get('message') or ''))}"
    fix = str(finding.get("fix") or "").strip()
    if fix:
        if len(fix) > FIX_CHARS:
            fix = fix[:FIX_CHARS].rsplit("\n", 1)[0] + "\n-- … (full fix in the thread)"
        code = f"\n```\n{escape(fix.replace('```', '` ` `'))}\n```"
        room = SECTION_CHARS - len(code)
        head = head if len(head) <= room else head[: room - 1] + "…"
        return section(head + code)
    return section(head if len(head) <= SECTION_CHARS else head[: SECTION_CHARS - 1] + "…")


def headline(summary: str, *, with_findings: bool) -> list[str]:
    """The engine's summary paragraphs to show. With findings, only the prose (the counts, parse warnings): the top
    findings are rendered from the structured findings below it, so they are not listed twice."""
    paragraphs = [p for p in summary.split("\n\n") if p.strip()]
    if not with_findings:
        return paragraphs
    return [p for p in paragraphs if not _LISTED.match(p)]


# What the analysis is, from the analyzer that produced it: a query plan, a query log, or a schema review.
_KINDS = {"explain": "plan", "querylog": "log"}
_INTRO = {"plan": "shared a query plan", "log": "shared a query log", "review": "asked for a schema review"}
_TITLE = {"plan": "Query plan", "log": "Query log", "review": "Schema review"}


def analysis_kind(reply: Reply) -> str:
    return _KINDS.get(reply.analyzer or "", "review")


def summary_blocks(reply: Reply, *, user: str, source: str = "") -> list[Block]:
    """The compact summary that heads the analysis: for a review the counts and top findings, for a plan the
    hotspot line and then the findings. `source` names what was analysed (files), if anything."""
    kind = analysis_kind(reply)
    what = f" ({source})" if source and kind != "review" else f" of {source}" if source else ""
    blocks: list[Block] = [section(f":mag: <@{user}> {_INTRO[kind]}{what}.")]
    findings = list(reply.findings)
    if reply.summary:
        prose = "\n\n".join(headline(reply.summary, with_findings=bool(findings)))
        blocks += [section(piece) for piece in split_text(to_mrkdwn(prose), SECTION_CHARS)]
    if findings:
        if not reply.summary:
            counts = " · ".join(f"{SEVERITY_EMOJI.get(s, '⚪')} {n} {escape(s)}" for s, n in severity_counts(findings))
            blocks.append(section(f"*{len(findings)} finding{'s' if len(findings) != 1 else ''}:* {counts}"))
        top = sorted(findings, key=lambda f: _rank(_severity(f)))[:TOP_FINDINGS]
        blocks += [finding_block(f) for f in top]
        more = len(findings) - len(top)
        tail = (f"{more} more finding{'s' if more != 1 else ''} and the full report with the reasoning are"
                if more else "The full report with the reasoning is")
        blocks.append(context(f":thread: {tail} in the thread."))
    elif reply.summary is None and not reply.answer_id:
        # The review did not run (not available, no DDL, input over a limit): the reply explains why.
        blocks += [section(piece) for piece in split_text(to_mrkdwn(reply.text), SECTION_CHARS)]
    else:
        blocks.append(context(":thread: The full report is in the thread."))
    return blocks


def review_ran(reply: Reply) -> bool:
    return bool(reply.findings) or reply.summary is not None or reply.answer_id is not None


def summary_messages(reply: Reply, *, user: str, source: str = "") -> list[SlackMessage]:
    """The summary as a message (two, in the rare case its blocks do not fit one)."""
    messages = pack(summary_blocks(reply, user=user, source=source))
    counts = ", ".join(f"{n} {s}" for s, n in severity_counts(list(reply.findings)))
    if review_ran(reply):
        messages[0].text = fallback_text(f"{_TITLE[analysis_kind(reply)]}: {counts or 'no findings'}")
    return messages


def review_messages(reply: Reply, *, user: str, source: str = "", notes: list[str] | None = None) -> list[SlackMessage]:
    """Summary first, then the full report (with questions, sources and feedback buttons) as further messages."""
    if not review_ran(reply):
        return summary_messages(reply, user=user, source=source)
    lead = [section(to_mrkdwn(n)) for n in notes or []]
    return [*summary_messages(reply, user=user, source=source), *reply_messages(reply, lead=lead)]
