"""Query-log findings: `n-plus-one`, `repeated-query` and `slow-query`.

Sentry's N+1 detector is the reference: one statement shape executed again and again with different parameters
after a parent statement, within one request or transaction (five or more times). A loop touching two relations
interleaves two such groups (A, B, A, B, ...): each is reported. The same shape with the same parameters is a
repeated query (cache it), not an N+1.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from .fingerprint import first_table, fingerprint, is_control, where_column
from .parse import QueryLog, Statement
from .stackfix import n_plus_one_fix, repeated_fix

MIN_REPEATS = 5
_READ = re.compile(r"\s*\(?\s*(?:SELECT|WITH)\b", re.I)
SLOW_MS = 100.0


@dataclass
class Group:
    fingerprint: str
    statements: list[Statement] = field(default_factory=list)

    @property
    def total_ms(self) -> float:
        return sum(s.duration_ms or 0.0 for s in self.statements)

    @property
    def distinct_params(self) -> int:
        return len({(s.sql if not s.params else "", s.params) for s in self.statements})


def _units(log: QueryLog) -> dict[tuple[str, int], list[Statement]]:
    units: dict[tuple[str, int], list[Statement]] = {}
    for stmt in log.statements:
        units.setdefault((stmt.session, stmt.unit), []).append(stmt)
    return units


def _severity(total_ms: float, count: int, timed: bool) -> str:
    """Sentry reports an N+1 from five repeats adding up to 100 ms; fewer milliseconds than that (or fewer than ten
    repeats) is worth knowing but not a warning. Without timings, the count alone decides."""
    if total_ms >= 1000:
        return "error"
    if not timed or total_ms >= 100 or count >= 10:
        return "warning"
    return "info"


def _timed(log: QueryLog) -> bool:
    return any(s.duration_ms is not None for s in log.statements)


def log_total_ms(log: QueryLog) -> float:
    return sum(s.duration_ms or 0.0 for s in log.statements)


def _span_ms(statements: list[Statement]) -> float | None:
    times = [s.at for s in statements if s.at is not None]
    return (max(times) - min(times)) * 1000 if len(times) >= 2 else None


def run_rules(log: QueryLog, fingerprints: dict[int, str], slow_ms: float = SLOW_MS) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = []
    total = log_total_ms(log)
    for statements in _units(log).values():
        queries = [s for s in statements if not is_control(s.sql)]
        groups: dict[str, Group] = {}
        for stmt in queries:
            if not _READ.match(stmt.sql):  # N+1s and cacheable repeats are reads; a batch of writes is another story
                continue
            groups.setdefault(fingerprints[id(stmt)], Group(fingerprints[id(stmt)])).statements.append(stmt)
        looping = {fp for fp, g in groups.items() if len(g.statements) >= MIN_REPEATS}
        for fp in looping:
            group = groups[fp]
            if group.distinct_params >= MIN_REPEATS:
                findings.append(_n_plus_one(log, group, queries, looping, fingerprints, total))
            elif group.distinct_params == 1:
                findings.append(_repeated(log, group, total))
    if _timed(log):
        for stmt in log.statements:
            if stmt.duration_ms is not None and stmt.duration_ms >= slow_ms and not is_control(stmt.sql):
                findings.append(_slow(log, stmt, total, slow_ms))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (order[f["severity"]], -f["share"], f["line"]))


def _parent(queries: list[Statement], first: Statement, looping: set[str], fingerprints: dict[int, str]) \
        -> Statement | None:
    index = queries.index(first)
    for stmt in reversed(queries[:index]):
        if fingerprints[id(stmt)] not in looping:
            return stmt
    return None


def _n_plus_one(log: QueryLog, group: Group, queries: list[Statement], looping: set[str],
                fingerprints: dict[int, str], total: float) -> dict[str, Any]:
    first = group.statements[0]
    count = len(group.statements)
    parent = _parent(queries, first, looping, fingerprints)
    table, column = first_table(first.sql), where_column(first.sql)
    parent_table = first_table(parent.sql) if parent else None
    timed = _timed(log)
    share = group.total_ms / total if timed and total else 0.0
    span = _span_ms(group.statements)
    cost = (f"{group.total_ms:,.1f} ms in all ({share:.0%} of the log's time)" if timed else
            f"spanning {span:,.1f} ms" if span is not None else "no timings in the log")
    parent_text = f" after `{_short(parent.sql)}` (line {parent.line})" if parent else ""
    finding = {
        "rule": "n-plus-one", "severity": _severity(group.total_ms, count, timed),
        "table": table, "column": column, "object": group.fingerprint, "line": first.line,
        "message": f"N+1: `{_short(first.sql)}` ran {count} times with different parameters{parent_text}; {cost}",
        "why": "One query per row of a parent result: every row costs a round trip, so the request's time grows "
               "with the number of rows. A join, or one query for all the rows (`WHERE ... = ANY(...)` / `IN`), "
               "returns the same data in one or two round trips.",
        "fix": n_plus_one_fix(log.format, table, column, parent_table),
        "note": "n-plus-one-queries", "node": None, "share": round(share, 4),
        "count": count, "total_ms": round(group.total_ms, 3), "statement": first.sql,
        "parent": parent.sql if parent else None,
        "query_count": len(queries),
    }
    return finding


def _repeated(log: QueryLog, group: Group, total: float) -> dict[str, Any]:
    first = group.statements[0]
    count = len(group.statements)
    timed = _timed(log)
    share = group.total_ms / total if timed and total else 0.0
    return {
        "rule": "repeated-query", "severity": "warning" if count >= 10 or share >= 0.1 else "info",
        "table": first_table(first.sql), "column": None, "object": group.fingerprint, "line": first.line,
        "message": f"`{_short(first.sql)}` ran {count} times with the same parameters"
                   + (f"; {group.total_ms:,.1f} ms in all" if timed else ""),
        "why": "The same question asked again within one request: the answer cannot have changed in between, so "
               "every repeat is wasted work and a round trip.",
        "fix": repeated_fix(log.format), "note": "caching-strategies", "node": None, "share": round(share, 4),
        "count": count, "total_ms": round(group.total_ms, 3), "statement": first.sql,
    }


def _slow(log: QueryLog, stmt: Statement, total: float, slow_ms: float) -> dict[str, Any]:
    ms = stmt.duration_ms or 0.0
    share = ms / total if total else 0.0
    ready = fill_params(stmt.sql, stmt.params)
    return {
        "rule": "slow-query", "severity": "error" if ms >= 10 * slow_ms else "warning",
        "table": first_table(stmt.sql), "column": None, "object": fingerprint(stmt.sql), "line": stmt.line,
        "message": f"`{_short(stmt.sql)}` took {ms:,.1f} ms (the threshold is {slow_ms:,.0f} ms)",
        "why": "One statement that slow is worth its plan: the plan shows whether it reads too much (a missing "
               "index), sorts or hashes on disk, or waits.",
        "fix": f"EXPLAIN (ANALYZE, BUFFERS)\n{ready.rstrip(';')};",
        "note": "explain-analyze", "node": None, "share": round(share, 4), "count": 1, "total_ms": round(ms, 3),
        "statement": ready,
    }


def fill_params(sql: str, params: tuple[str, ...]) -> str:
    """The statement with its logged parameters in place of `$n` / `%(name)s` / `%s`, ready to EXPLAIN."""
    if not params:
        return sql
    if len(params) == 1 and params[0].startswith("{"):  # SQLAlchemy: a dict of named parameters
        try:
            named = ast.literal_eval(params[0])
        except (ValueError, SyntaxError):
            return sql
        return re.sub(r"%\((\w+)\)s", lambda m: _literal(named.get(m.group(1))), sql)
    values = list(params)
    if "$" in sql:
        return re.sub(r"\$(\d+)\b", lambda m: values[int(m.group(1)) - 1] if int(m.group(1)) <= len(values)
                      else m.group(0), sql)
    return sql


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _short(sql: str, limit: int = 90) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
