"""Reads pasted PostgreSQL EXPLAIN (ANALYZE) text output and points at the usual suspects."""

from __future__ import annotations

import re
from typing import Any

from bot.analyzers import Analysis, Analyzer

_PLAN_LINE = re.compile(r"\(cost=\d+\.\d+\.\.\d+\.\d+ rows=\d+ width=\d+\)|\(actual (?:time=|rows=)")
_NODE = re.compile(r"^(?P<indent>\s*)(?:->\s+)?(?P<node>[A-Z][A-Za-z ]+?)(?: using (?P<index>\S+))?(?: on (?P<table>\S+))?"
                   r"(?: \S+)?\s+\(cost=[\d.]+\.\.[\d.]+ rows=(?P<est>\d+) width=\d+\)"
                   r"(?: \(actual time=[\d.]+\.\.(?P<time>[\d.]+) rows=(?P<act>\d+) loops=(?P<loops>\d+)\))?")
_REMOVED = re.compile(r"Rows Removed by Filter: (\d+)")
_SPILL = re.compile(r"Sort Method: external merge\s+Disk: (\d+)kB")


def _finding(rule: str, severity: str, line: int, message: str, why: str, fix: str, note: str,
             table: str | None = None) -> dict[str, Any]:
    return {"rule": rule, "severity": severity, "table": table, "column": None, "object": None, "line": line,
            "message": message, "why": why, "fix": fix, "note": note}


class ExplainAnalyzer(Analyzer):
    name = "explain"

    def detect(self, text: str) -> bool:
        return len(_PLAN_LINE.findall(text)) >= 1 and ("->" in text or "Scan" in text)

    def analyze(self, text: str, options: dict[str, Any] | None = None) -> Analysis:
        findings: list[dict[str, Any]] = []
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            node = _NODE.search(line)
            if node:
                est, act = int(node["est"]), int(node["act"]) if node["act"] else None
                loops = int(node["loops"] or 1)
                table = node["table"]
                if node["node"].strip() in ("Seq Scan", "Parallel Seq Scan") and (act or est) * loops >= 10_000:
                    findings.append(_finding(
                        "explain-seq-scan", "warning", number,
                        f"Sequential scan on {table} reads ~{(act or est) * loops:,} rows",
                        "A sequential scan reads every row of the table. It is right for small tables or queries that "
                        "need most rows, but on a large table behind a selective filter it means no usable index.",
                        f"Check the filter below this node and index its columns, e.g. CREATE INDEX CONCURRENTLY ON "
                        f"{table} (<filter columns>); then compare EXPLAIN (ANALYZE, BUFFERS) before and after.",
                        "indexing-strategies", table))
                if act is not None and max(est, 1) * 10 <= act or (act is not None and act * 10 <= est and est > 100):
                    findings.append(_finding(
                        "explain-misestimate", "warning", number,
                        f"{node['node'].strip()} estimated {est:,} rows but got {act:,}",
                        "The planner chose this plan from a row estimate that is off by 10x or more. Stale statistics "
                        "or correlated columns are the usual cause, and join orders built on them go badly wrong.",
                        f"ANALYZE {table or '<table>'}; for correlated columns try CREATE STATISTICS ... (dependencies) "
                        "and raise the column statistics target.", "explain-analyze", table))
                if node["node"].strip() == "Nested Loop" and loops >= 1000:
                    findings.append(_finding(
                        "explain-many-loops", "info", number, f"Nested loop executed {loops:,} times",
                        "An inner side executed thousands of times multiplies any per-row cost; it is often an "
                        "N+1 inside the database or a missing index on the join key.",
                        "Index the join key of the inner relation, or let the planner hash-join by fixing estimates.",
                        "query-optimization"))
            if (removed := _REMOVED.search(line)) and int(removed.group(1)) >= 10_000:
                findings.append(_finding(
                    "explain-rows-removed", "warning", number,
                    f"{int(removed.group(1)):,} rows read and then thrown away by a filter",
                    "Rows removed by a filter were read only to be discarded; an index matching the filter (or a "
                    "partial index for a constant condition) lets PostgreSQL skip them.",
                    "Create an index on the filtered columns, equality columns first, then range columns.",
                    "indexing-strategies"))
            if spill := _SPILL.search(line):
                findings.append(_finding(
                    "explain-sort-spill", "info", number, f"Sort spilled {int(spill.group(1)):,} kB to disk",
                    "The sort did not fit in work_mem and went to disk. An index that returns rows in order avoids "
                    "the sort; otherwise raise work_mem for this query only.",
                    "SET LOCAL work_mem = '64MB'; inside the transaction, or add an index matching ORDER BY.",
                    "query-optimization"))
        return Analysis(analyzer=self.name, summary=_summary(findings), report=_report(findings),
                        findings=findings, notes=list(dict.fromkeys(f["note"] for f in findings)) or ["explain-analyze"],
                        problem_type="performance")


def _summary(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "**Query plan:** nothing stands out on its own; the numbers need the query and table sizes."
    return f"**Query plan:** {len(findings)} thing(s) to look at."


def _report(findings: list[dict[str, Any]]) -> str:
    lines = [_summary(findings)]
    for f in findings:
        lines.append(f"- **{f['message']}** (plan line {f['line']}). {f['why']}\n  Fix: {f['fix']}")
    return "\n".join(lines)
