"""The chat and CLI side of the plan reader: recognise a plan inside a message, read it, report on it.

`detect` accepts a real plan node line (`Name  (cost=… rows=… width=…)` or `(actual …)`) or a `{"Plan": …}` JSON
object, and also what is clearly meant as a plan but cannot be read (FORMAT YAML/XML, a cut-off JSON or node
line), so the user gets a one-line error instead of a generic answer. Prose that mentions "Seq Scan" or "cost="
is not a plan.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from bot.analyzers import Analysis, Analyzer

from . import report
from .model import Plan, PlanReadError, compute_times
from .parse_json import JSON_START, parse_json
from .parse_text import NODE_LINE, find_root, parse_text, unwrap
from .rules import run_rules

log = logging.getLogger(__name__)

FORMATS_READ = ("I read PostgreSQL EXPLAIN output in the text format (as psql, pgAdmin or DBeaver show it) or "
                "FORMAT JSON; paste the whole output of EXPLAIN (ANALYZE, BUFFERS) <query>.")
_YAML = re.compile(r"^\s*-?\s*Plan:\s*$[\s\S]*?^\s*Node Type:", re.M)
_XML = re.compile(r"<explain xmlns=\"http://www\.postgresql\.org/2009/explain\"|<Node-Type>")
# The start of a node line whose cost block is cut off or mangled.
_BROKEN_NODE = re.compile(r"^\s*\"?\s*(?:->\s+)?[A-Z][A-Za-z ]+(?: (?:using|on) \S+)*\s+\((?:cost|actual)=", re.M)
_HEADER = re.compile(r"^\s*QUERY PLAN\s*$", re.M)


@dataclass
class PlanResult:
    plan: Plan | None
    findings: list[dict[str, Any]] = field(default_factory=list)
    hotspots: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    nodes: int = 0


def read_plan(text: str, schema_sql: str | None = None) -> PlanResult:
    """Read and judge the first plan in the text; `error` says why when it cannot be read."""
    try:
        plan, nodes = _parse(text)
        compute_times(plan)
    except PlanReadError as exc:
        return PlanResult(plan=None, error=f"{exc}. {FORMATS_READ}")
    except (ArithmeticError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # A garbled copy (a number cut in half, "1e309", a node without its fields) is unreadable input, not a crash.
        return PlanResult(plan=None, error=f"the plan is garbled ({type(exc).__name__}: {str(exc)[:80]}). "
                                           f"{FORMATS_READ}")
    findings = run_rules(plan, schema_sql=schema_sql)
    return PlanResult(plan=plan, findings=findings, hotspots=report.hotspots(plan), nodes=nodes)


def _parse(text: str) -> tuple[Plan, int]:
    if text.lstrip()[:1] in ("[", "{") and '"Plan"' in text[:2000]:
        try:  # raw FORMAT JSON, as `psql -At` or a file export writes it: no decorations to strip
            return parse_json(text, unwrapped=True)
        except PlanReadError:
            pass
    body = unwrap(text)
    json_at = JSON_START.search(body)
    lines = body.split("\n")
    root = find_root(lines)
    text_at = sum(len(line) + 1 for line in lines[:root]) if root is not None else None
    if json_at is not None and (text_at is None or json_at.start() < text_at):
        return parse_json(body, unwrapped=True)
    if text_at is not None:
        _check_complete(lines, root)
        return parse_text(text)
    if _YAML.search(body):
        raise PlanReadError("this is EXPLAIN (FORMAT YAML), which I do not read")
    if _XML.search(body):
        raise PlanReadError("this is EXPLAIN (FORMAT XML), which I do not read")
    if _BROKEN_NODE.search(body):
        raise PlanReadError("the plan's node lines are cut off (no complete `(cost=… rows=… width=…)` block)")
    raise PlanReadError("I found no plan node in it")


def _check_complete(lines: list[str], root: int | None) -> None:
    """A node line cut off mid-way (a truncated paste) would silently drop the nodes below it."""
    for number, line in enumerate(lines[root or 0:], start=(root or 0) + 1):
        if _BROKEN_NODE.match(line) and not NODE_LINE.match(line):
            raise PlanReadError(f"line {number} is a cut-off plan node (`{line.strip()[:60]}`): the plan looks truncated")


def looks_like_plan(text: str) -> bool:
    if not text:
        return False
    body = unwrap(text) if ("QUERY PLAN" in text or '"' in text or "+" in text) else text
    if JSON_START.search(body) or any(NODE_LINE.match(line) for line in body.split("\n")):
        return True
    return bool(_YAML.search(body) or _XML.search(body) or (_HEADER.search(text) and _BROKEN_NODE.search(body))
                or len(_BROKEN_NODE.findall(body)) >= 2)


class PlanAnalyzer(Analyzer):
    name = "explain"

    def detect(self, text: str) -> bool:
        return looks_like_plan(text)

    def analyze(self, text: str, options: dict[str, Any] | None = None) -> Analysis:
        options = options or {}
        started = time.perf_counter()
        result = read_plan(text or "", schema_sql=options.get("schema"))
        log.info("plan read", extra={"nodes": result.nodes, "findings": len(result.findings),
                                     "unreadable": result.plan is None,
                                     "ms": round((time.perf_counter() - started) * 1000, 2)})
        return to_analysis(result)


def to_analysis(result: PlanResult) -> Analysis:
    if result.plan is None:
        message = f"⚠️ I could not read this query plan: {result.error}"
        return Analysis(analyzer=PlanAnalyzer.name, summary=message, report=message, notes=["explain-analyze"],
                        problem_type="performance", evidence="plan", facts={"database": "PostgreSQL"},
                        unreadable=True)
    plan, findings = result.plan, result.findings
    notes = ["explain-analyze"]
    for f in findings:
        if f["note"] not in notes:
            notes.append(f["note"])
    if findings and findings[0]["note"] != "explain-analyze":
        notes.remove(findings[0]["note"])
        notes.insert(0, findings[0]["note"])
    tables = list(dict.fromkeys(n.relation for n in plan.nodes()
                                if n.relation and n.kind not in ("CTE Scan", "Function Scan", "Subquery Scan",
                                                                 "Values Scan", "WorkTable Scan")))
    tables += [f["table"] for f in findings if f.get("table") and f["table"] not in tables]
    return Analysis(
        analyzer=PlanAnalyzer.name,
        summary=report.summary_markdown(plan, result.hotspots, findings),
        report=report.report_markdown(plan, result.hotspots, findings),
        findings=findings, notes=notes, problem_type="performance", evidence="plan", tables=tables,
        facts={"database": "PostgreSQL"},
        hotspots=[{k: h[k] for k in ("node", "object", "share", "ms")} for h in result.hotspots])
