"""The query-log reader for chat and the CLI: read a log, fingerprint its statements, report N+1s, repeats and slow
statements with a headline (statements, distinct fingerprints, total time, the worst group's share)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.analyzers import Analysis, Analyzer
from bot.plans.report import counts, finding_sections, top_findings

from .fingerprint import fingerprint, is_control, tables_in
from .parse import FORMATS_READ, LogReadError, QueryLog, looks_like_log_attempt, parse_log, sniff
from .rules import SLOW_MS, log_total_ms, run_rules

log = logging.getLogger(__name__)

FORMAT_NAMES = {"postgres": "PostgreSQL server log", "django": "Django debug log", "sqlalchemy": "SQLAlchemy echo log",
                "rails": "Rails log", "sql": "plain SQL"}


@dataclass
class LogResult:
    log: QueryLog | None
    findings: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def read_log(text: str, slow_ms: float = SLOW_MS) -> LogResult:
    try:
        log = parse_log(text)
    except LogReadError as exc:
        return LogResult(log=None, error=f"{exc}. {FORMATS_READ}")
    fingerprints = {id(s): fingerprint(s.sql) for s in log.statements}
    findings = run_rules(log, fingerprints, slow_ms)
    queries = [s for s in log.statements if not is_control(s.sql)]
    groups = Counter(fingerprints[id(s)] for s in queries)
    by_time: Counter[str] = Counter()
    for s in queries:
        by_time[fingerprints[id(s)]] += s.duration_ms or 0.0
    total = log_total_ms(log)
    worst = max(by_time, key=lambda fp: (by_time[fp], groups[fp])) if queries else None
    worst_sql = next((s.sql for s in queries if fingerprints[id(s)] == worst), None)
    summary = {"format": log.format, "lines": log.lines, "statements": len(queries), "fingerprints": len(groups),
               "total_ms": round(total, 3), "timed": any(s.duration_ms is not None for s in log.statements),
               "worst": {"fingerprint": worst, "statement": worst_sql, "count": groups[worst] if worst else 0,
                         "ms": round(by_time[worst], 3) if worst else 0.0,
                         "share": round(by_time[worst] / total, 4) if worst and total else 0.0}}
    return LogResult(log=log, findings=findings, summary=summary)


def headline(result: LogResult) -> str:
    s = result.summary
    text = (f"**Query log** ({FORMAT_NAMES[s['format']]}): {s['statements']} statements, {s['fingerprints']} distinct "
            f"fingerprint{'s' if s['fingerprints'] != 1 else ''}")
    worst = s["worst"]
    if s["timed"]:
        text += f", {s['total_ms']:,.1f} ms in all"
        if worst["statement"]:
            text += (f"; the worst group, `{_short(worst['statement'])}` ×{worst['count']}, is "
                     f"{worst['share']:.0%} of it")
    n1 = [f for f in result.findings if f["rule"] == "n-plus-one"]
    if n1:
        text += f". N+1: `{_short(n1[0]['statement'])}` ×{n1[0]['count']}"
    return f"{text}. {counts(result.findings).capitalize()}."


def _short(sql: str, limit: int = 60) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def summary_markdown(result: LogResult) -> str:
    lines = [headline(result)]
    lines += top_findings(result.findings) if result.findings else [
        "No N+1, no repeated query and nothing over the slow-query threshold in this log."]
    return "\n\n".join(lines)


def report_markdown(result: LogResult) -> str:
    lines = ["## Query log", headline(result)]  # the headline carries the counts
    if result.findings:
        lines.append("### Findings")
        lines += finding_sections(result.findings)
    return "\n\n".join(lines)


def looks_like_log(text: str) -> bool:
    return bool(text) and (sniff(text) is not None or looks_like_log_attempt(text))


class QueryLogAnalyzer(Analyzer):
    name = "querylog"

    def detect(self, text: str) -> bool:
        return looks_like_log(text)

    def analyze(self, text: str, options: dict[str, Any] | None = None) -> Analysis:
        options = options or {}
        started = time.perf_counter()
        result = read_log(text or "", float(options.get("slow_ms") or SLOW_MS))
        log.info("query log read", extra={"format": result.summary.get("format"),
                                          "statements": result.summary.get("statements", 0),
                                          "findings": len(result.findings), "unreadable": result.log is None,
                                          "ms": round((time.perf_counter() - started) * 1000, 2)})
        return to_analysis(result)


def to_analysis(result: LogResult) -> Analysis:
    if result.log is None:
        message = f"⚠️ I could not read this query log: {result.error}"
        return Analysis(analyzer=QueryLogAnalyzer.name, summary=message, report=message, notes=["n-plus-one-queries"],
                        problem_type="performance", evidence="query_log", unreadable=True)
    findings = result.findings
    notes: list[str] = []
    for f in findings:
        if f["note"] not in notes:
            notes.append(f["note"])
    for default in ("n-plus-one-queries", "query-optimization"):
        if default not in notes:
            notes.append(default)
    fmt = result.log.format
    facts: dict[str, str] = {}
    if fmt == "postgres" or any("::" in s.sql for s in result.log.statements[:50]):
        facts["database"] = "PostgreSQL"
    if fmt == "django":
        facts.update(framework="Django", orm="Django ORM")
    elif fmt == "sqlalchemy":
        facts["orm"] = "SQLAlchemy"
    elif fmt == "rails":
        facts.update(framework="Rails", orm="ActiveRecord")
    n1 = next((f for f in findings if f["rule"] == "n-plus-one"), None)
    if n1:
        facts["query_count"] = f"{n1['query_count']} queries"
    seen = (t for s in result.log.statements[:5000] if not is_control(s.sql) for t in tables_in(s.sql))
    tables = list(dict.fromkeys([*(f["table"] for f in findings if f.get("table")),
                                 *(t for t in seen if t and not t.startswith("pg_"))]))
    return Analysis(analyzer=QueryLogAnalyzer.name, summary=summary_markdown(result), report=report_markdown(result),
                    findings=findings, notes=notes, problem_type="performance", evidence="query_log", tables=tables,
                    facts=facts)


__all__ = ["LogResult", "QueryLogAnalyzer", "read_log"]
