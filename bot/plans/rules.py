"""The plan rules: each looks at the timed plan and returns findings with the review's shape plus `node` and `share`.

Severity follows the share of execution time the finding is about: under 10% it is never more than info, and
an error needs half the query and 100 ms. A plan with no actuals gets only `plan-estimates-only`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from .model import Node, Plan
from .report import percent
from .sqlfix import fk_columns, index_fix, predicate_columns, statistics_fix

Finding = dict[str, Any]

SCANS = ("Seq Scan",)
INDEX_SCANS = ("Index Scan", "Index Scan Backward", "Index Only Scan", "Index Only Scan Backward", "Bitmap Heap Scan")
CHEAP_RESCANS = ("Memoize", "Materialize", "Hash", "CTE Scan", "Result")
JOINS = re.compile(r"Nested Loop|Hash .*Join|Hash Join|Merge .*Join|Merge Join")


def severity(share: float, ms: float) -> str:
    if share >= 0.5 and ms >= 100:
        return "error"
    if share >= 0.1 and ms >= 1:
        return "warning"
    return "info"


def finding(rule: str, node: Node | None, share: float, ms: float, message: str, why: str, fix: str, note: str,
            *, table: str | None = None, column: str | None = None, obj: str | None = None,
            node_name: str | None = None, level: str | None = None) -> Finding:
    return {"rule": rule, "severity": level or severity(share, ms),
            "table": table if table is not None else (node.relation if node else None), "column": column,
            "object": obj if obj is not None else (node.index or node.relation if node else None),
            "line": node.line if node else None, "message": message, "why": why, "fix": fix, "note": note,
            "node": node_name or (node.name if node else None), "share": round(share, 4)}


def _share(plan: Plan, ms: float) -> float:
    total = plan.total_ms
    return min(1.0, ms / total) if total > 0 else 0.0


def _pct(share: float) -> str:
    return percent(share)


def _discard(kept: float, removed: float) -> float:
    return removed / (kept + removed) if kept + removed else 0.0


def seq_scan_filter(plan: Plan, node: Node) -> Finding | None:
    if node.kind not in SCANS or "Filter" not in node.props:
        return None
    removed, kept = node.total("Rows Removed by Filter"), node.total_rows()
    if removed < 10_000 or _discard(kept, removed) < 0.9:
        return None
    share = _share(plan, node.exclusive_ms)
    cols = predicate_columns(node.props["Filter"], node.alias)
    return finding(
        "plan-seq-scan-filter", node, share, node.exclusive_ms,
        f"{node.label} reads {kept + removed:,.0f} rows and its filter throws away {removed:,.0f} "
        f"({_discard(kept, removed):.1%}) to keep {kept:,.0f}; {_pct(share)} of the time",
        "A selective predicate with no usable index: PostgreSQL reads the whole table and discards almost "
        f"everything. The filter is `{node.props['Filter']}`.",
        index_fix(node.relation, cols, node.props["Filter"]), "indexing-strategies",
        column=cols[0][0] if cols else None)


def index_filter(plan: Plan, node: Node) -> Finding | None:
    if node.kind not in INDEX_SCANS or "Filter" not in node.props:
        return None
    removed, kept = node.total("Rows Removed by Filter"), node.total_rows()
    if removed < 1_000 or _discard(kept, removed) < 0.9:
        return None
    share = _share(plan, _with_bitmap(node))
    cond = node.props.get("Index Cond") or node.props.get("Recheck Cond") or ""
    cols = predicate_columns(cond, node.alias) + predicate_columns(node.props["Filter"], node.alias)
    return finding(
        "plan-index-filter", node, share, _with_bitmap(node),
        f"{node.label} fetches {kept + removed:,.0f} rows through the index, then its Filter discards "
        f"{removed:,.0f} ({_discard(kept, removed):.1%}); {_pct(share)} of the time",
        f"The index finds rows by `{cond}` but not by `{node.props['Filter']}`, so every match is fetched from "
        "the heap and thrown away. An index that covers both (equality columns first) finds only the rows kept.",
        index_fix(node.relation, cols, node.props["Filter"]), "indexing-strategies",
        column=cols[-1][0] if cols else None)


def _with_bitmap(node: Node) -> float:
    """A bitmap heap scan's cost includes building the bitmap below it."""
    return node.exclusive_ms + sum(c.exclusive_ms for c in node.children if c.kind == "Bitmap Index Scan")


def join_filter(plan: Plan, node: Node) -> Finding | None:
    if not JOINS.match(node.kind) or "Join Filter" not in node.props:
        return None
    removed, kept = node.total("Rows Removed by Join Filter"), node.total_rows()
    if removed < 10_000 or _discard(kept, removed) < 0.9:
        return None
    share = _share(plan, node.exclusive_ms)
    cond = node.props["Join Filter"]
    hint = (" An `OR` across columns cannot be a hash or merge key: split it into a `UNION` of two joins, each "
            "on one column." if " OR " in cond else "")
    return finding(
        "plan-join-filter", node, share, node.exclusive_ms,
        f"{node.name} compares {kept + removed:,.0f} row pairs and its Join Filter discards {removed:,.0f} "
        f"({_discard(kept, removed):.1%}); {_pct(share)} of the time",
        f"The join condition `{cond}` is checked pair by pair: there is no index or hash key the join can use, so "
        "the work grows with the product of both sides." + hint,
        "Give the join an equality key it can hash or index (one index per side's join column), e.g. "
        f"{_join_index_hint(cond)}", "query-optimization", obj=cond)


def _join_index_hint(cond: str) -> str:
    sides = re.findall(r"(\w+)\.(\w+)\s*=\s*(\w+)\.(\w+)", cond)
    if not sides:
        return "an index on the inner side's join column."
    return "; ".join(f"an index on `{b}.{c}`" for _, _, b, c in sides[:2]) + ", and a UNION instead of OR."


def misestimate(plan: Plan, node: Node, ancestors: list[Node]) -> Finding | None:
    parent = ancestors[-1] if ancestors else None
    if node.never_executed or node.plan_rows is None or node.actual_rows is None or not node.loops:
        return None
    est, act = max(node.plan_rows, 1.0), max(node.actual_rows, 1.0)
    ratio = max(est, act) / min(est, act)
    if ratio < 10 or max(est, act) < 100 or _child_misestimated(node):
        return None
    if parent is None:
        return None  # nothing above the root was planned from its estimate
    if act < est and any(a.kind == "Limit" for a in ancestors):
        return None  # a LIMIT stops its input early; fewer rows than estimated is expected
    matters = max(node.inclusive_ms, parent.inclusive_ms if parent else 0.0)
    share = _share(plan, matters)
    if share < 0.1:
        return None
    cond = node.props.get("Filter") or node.props.get("Index Cond") or node.props.get("Hash Cond") or ""
    cols = predicate_columns(cond, node.alias)
    direction = "under" if act > est else "over"
    return finding(
        "plan-misestimate", node, share, matters,
        f"{node.label} was estimated at {est:,.0f} rows but returned {act:,.0f} ({ratio:,.0f}x {direction}estimate)",
        "The planner picked the plan above this node (join method, join order, parallelism) for the estimated "
        "row count. Off by 10x or more, that choice is built on sand: stale statistics or correlated columns "
        + ("(several columns in one predicate: the planner multiplies their selectivities) " if len(cols) > 1 else "")
        + "are the usual cause.",
        statistics_fix(node.relation, [c for c, _ in cols]), "explain-analyze",
        column=cols[0][0] if cols else None)


def _child_misestimated(node: Node) -> bool:
    for child in node.children:
        if child.plan_rows is None or child.actual_rows is None or child.never_executed:
            continue
        est, act = max(child.plan_rows, 1.0), max(child.actual_rows, 1.0)
        if max(est, act) / min(est, act) >= 10 and max(est, act) >= 100:
            return True
    return False


def sort_spill(plan: Plan, node: Node) -> Finding | None:
    if "Sort" not in node.kind or not (node.props.get("Sort Space Type") == "Disk"
                                       or "external" in str(node.props.get("Sort Method", ""))):
        return None
    kb = int(node.props.get("Sort Space Used") or 0)
    share = _share(plan, node.exclusive_ms)
    return finding(
        "plan-sort-spill", node, share, node.exclusive_ms,
        f"{node.name} on `{node.props.get('Sort Key', '?')}` spilled {kb:,} kB to disk "
        f"({node.props.get('Sort Method')}); {_pct(share)} of the time",
        "The rows to sort did not fit in work_mem, so PostgreSQL sorted in temporary files. An index that returns "
        "rows in this order avoids the sort; otherwise give this query more memory.",
        f"SET LOCAL work_mem = '{_work_mem_mb(kb * 3)}MB';  -- in this query's transaction only\n"
        f"-- or an index in ORDER BY order: CREATE INDEX CONCURRENTLY ON <table> ({node.props.get('Sort Key', '...')});",
        "query-optimization", obj=node.props.get("Sort Key"))


def hash_spill(plan: Plan, node: Node) -> Finding | None:
    if node.kind == "Hash" and int(node.props.get("Hash Batches") or 1) > 1:
        batches = int(node.props["Hash Batches"])
        needed = int(node.props.get("Peak Memory Usage") or 0) * batches
        hashed = next((n.relation for n in node.walk() if n.relation), None)
        what = (f"Hash{f' of `{hashed}`' if hashed else ''} built in {batches} batches (originally "
                f"{node.props.get('Original Hash Batches', batches)}), {needed:,} kB in all")
        owner, ms = node, node.exclusive_ms + _parent_join_ms(plan, node)
    elif node.kind.endswith("HashAggregate") and (int(node.props.get("Disk Usage") or 0) > 0
                                                  or int(node.props.get("HashAgg Batches") or 1) > 1):
        needed = int(node.props.get("Disk Usage") or 0) + int(node.props.get("Peak Memory Usage") or 0)
        what = (f"{node.name} spilled {int(node.props.get('Disk Usage') or 0):,} kB to disk in "
                f"{node.props.get('HashAgg Batches', '?')} batches")
        owner, ms = node, node.exclusive_ms
    else:
        return None
    share = _share(plan, ms)
    return finding(
        "plan-hash-spill", owner, share, ms, f"{what}; {_pct(share)} of the time",
        "The hash table did not fit in work_mem × hash_mem_multiplier, so PostgreSQL split it into batches written "
        "to temporary files and read back. Each batch is another pass over disk.",
        f"SET LOCAL work_mem = '{_work_mem_mb(needed * 2)}MB';  -- sized from the reported spill, this query only",
        "query-optimization", table=next((n.relation for n in owner.walk() if n.relation), None))


def _parent_join_ms(plan: Plan, hash_node: Node) -> float:
    for node in plan.nodes():
        if hash_node in node.children:
            return node.exclusive_ms
    return 0.0


def _work_mem_mb(kb: int) -> int:
    mb = max(4, math.ceil(kb / 1024))
    return 2 ** math.ceil(math.log2(mb))


def lossy_bitmap(plan: Plan, node: Node) -> Finding | None:
    lossy = node.total("Lossy Heap Blocks")
    recheck = node.total("Rows Removed by Index Recheck")
    if "Bitmap Heap Scan" not in node.kind or lossy <= 0:
        return None
    exact = node.total("Exact Heap Blocks")
    ms = _with_bitmap(node)
    share = _share(plan, ms)
    return finding(
        "plan-lossy-bitmap", node, share, ms,
        f"{node.label}: {lossy:,.0f} of {lossy + exact:,.0f} heap blocks were lossy"
        f"{f' and the recheck removed {recheck:,.0f} rows' if recheck else ''}; {_pct(share)} of the time",
        "The bitmap outgrew work_mem, so PostgreSQL kept only the page numbers for some pages and had to recheck "
        "every row on them against the condition.",
        f"SET LOCAL work_mem = '{_work_mem_mb(int((lossy + exact) * 64 * 2 / 1024) + 1)}MB';  "
        "-- enough for an exact bitmap, this query only", "indexing-strategies")


def heap_fetches(plan: Plan, node: Node) -> Finding | None:
    if not node.kind.startswith("Index Only Scan"):
        return None
    fetches, rows = node.total("Heap Fetches"), node.total_rows()
    if fetches < 1_000 or fetches < 0.5 * rows:
        return None
    share = _share(plan, node.exclusive_ms)
    return finding(
        "plan-heap-fetches", node, share, node.exclusive_ms,
        f"{node.label} returned {rows:,.0f} rows but fetched {fetches:,.0f} from the heap; {_pct(share)} of the time",
        "An index-only scan skips the heap only for pages the visibility map marks all-visible. Heap fetches close "
        "to the row count mean the map is not current: the table has not been vacuumed since it changed.",
        f"VACUUM (ANALYZE) {node.relation};\n-- and check that autovacuum runs on it: "
        f"SELECT last_autovacuum, n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = '{node.relation}';",
        "indexing-strategies")


def many_loops(plan: Plan, node: Node) -> Finding | None:
    if (node.loops or 0) < 1_000 or node.kind in CHEAP_RESCANS or node.parallel_processes >= (node.loops or 0):
        return None
    share = _share(plan, node.inclusive_ms)
    key = node.props.get("Index Cond") or node.props.get("Filter") or ""
    return finding(
        "plan-many-loops", node, share, node.inclusive_ms,
        f"{node.label} ran {node.loops:,} times ({node.actual_total_ms or 0:.3f} ms each, "
        f"{node.inclusive_ms:,.1f} ms in all); {_pct(share)} of the time",
        "The inner side of a nested loop (or a correlated subquery) runs once per outer row: an N+1 inside the "
        "database. Cheap per call, it adds up; a hash join over one pass is often cheaper when the estimates allow it.",
        "Check the outer side's row estimate (a misestimate makes the planner pick a nested loop), keep an index on "
        f"the inner join key{f' (`{key}`)' if key else ''}, or rewrite a correlated subquery as a JOIN.",
        "query-optimization")


def workers_short(plan: Plan, node: Node) -> Finding | None:
    planned, launched = node.props.get("Workers Planned"), node.props.get("Workers Launched")
    if planned is None or launched is None or int(launched) >= int(planned):
        return None
    share = _share(plan, node.inclusive_ms)
    return finding(
        "plan-workers-short", node, share, node.inclusive_ms,
        f"{node.name} planned {planned} parallel workers but launched {launched}",
        "The plan was costed for more workers than the server could start: the pool (max_parallel_workers, "
        "max_worker_processes) was exhausted by other queries, so each process did more of the work.",
        "SHOW max_parallel_workers; SHOW max_worker_processes;\n-- raise them if the CPU allows, "
        "or expect this query to be slower under concurrent load", "query-optimization",
        level="info" if share < 0.1 else "warning")


def plan_level(plan: Plan, schema_sql: str | None = None) -> list[Finding]:
    found: list[Finding] = []
    total = plan.total_ms
    for trigger in plan.triggers:
        share = _share(plan, trigger.time_ms)
        per_call = trigger.time_ms / max(trigger.calls, 1)
        if share < 0.1 or not (trigger.time_ms >= 100 or per_call >= 1):  # an indexed FK check is ~0.01 ms a call
            continue
        table, column = fk_columns(trigger.constraint, trigger.relation or plan.root.relation, schema_sql)
        what = f"the trigger for `{trigger.constraint}`" if trigger.constraint else f"trigger `{trigger.name}`"
        fix = (f"CREATE INDEX CONCURRENTLY {table}_{column}_idx ON {table} ({column});" if table and column else
               "Index the referencing column of the foreign key, or make the trigger's own queries cheaper.")
        found.append(finding(
            "plan-slow-trigger", None, share, trigger.time_ms,
            f"{_pct(share)} of the {_seconds(total)} is {what} ({trigger.calls:,} calls, "
            f"{trigger.time_ms / max(trigger.calls, 1):.2f} ms each)",
            "On a DELETE or key UPDATE, each row's foreign-key trigger looks for referencing rows. Without an index "
            "on the referencing column, that is a sequential scan of the referencing table per row."
            if trigger.constraint else "A trigger runs once per row; its time is outside the plan tree above.",
            fix, "indexing-strategies", table=table, column=column, obj=trigger.constraint or trigger.name,
            node_name="Trigger"))
    jit = plan.jit_ms
    if jit and plan.execution_ms and jit >= 0.2 * plan.execution_ms and plan.execution_ms < 1_000:
        share = _share(plan, jit)
        found.append(finding(
            "plan-jit-overhead", None, share, jit,
            f"JIT compilation took {jit:,.1f} ms of a {plan.execution_ms:,.1f} ms query ({_pct(share)})",
            "JIT pays off on long analytic queries; on a short one the compile time dominates. It fires because "
            "the plan's cost crossed jit_above_cost, often from a misestimate.",
            "SET LOCAL jit = off;  -- for this query\n-- or server-wide: raise jit_above_cost "
            "(and jit_inline_above_cost / jit_optimize_above_cost)", "query-optimization", node_name="JIT",
            obj="JIT"))
    nodes = sum(1 for _ in plan.nodes())
    if plan.planning_ms and plan.execution_ms is not None and plan.planning_ms > plan.execution_ms \
            and plan.planning_ms >= 5 and nodes >= 3:
        share = plan.planning_ms / (plan.planning_ms + plan.execution_ms)
        found.append(finding(
            "plan-slow-planning", None, share, plan.planning_ms,
            f"Planning took {plan.planning_ms:,.1f} ms, more than the {plan.execution_ms:,.1f} ms execution",
            "Every run pays the planning time again. Many joined tables (the planner searches join orders), many "
            "partitions or many indexes make planning expensive.",
            "Use a prepared statement (most drivers and ORMs can) so the plan is reused; fewer joined tables or "
            "partitions per query; lower join_collapse_limit for this query.", "query-optimization",
            node_name="Planning", obj="Planning", level="warning"))
    return found


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:,.1f} ms"


def _with_ancestors(node: Node, ancestors: list[Node]):  # noqa: ANN202 - a generator of (node, its ancestors)
    yield node, ancestors
    for child in node.children:
        yield from _with_ancestors(child, [*ancestors, node])


NODE_RULES: tuple[Callable[[Plan, Node], Finding | None], ...] = (
    seq_scan_filter, index_filter, join_filter, sort_spill, hash_spill, lossy_bitmap, heap_fetches, many_loops,
    workers_short)


def run_rules(plan: Plan, schema_sql: str | None = None) -> list[Finding]:
    if not plan.has_actuals:
        return [finding(
            "plan-estimates-only", None, 0.0, 0.0,
            "This plan has estimates only (EXPLAIN without ANALYZE): no times, no actual rows",
            "Estimates show what the planner expects, not where the time goes; every finding about slowness needs "
            "actual rows and times.",
            "EXPLAIN (ANALYZE, BUFFERS) <the query>;  -- inside BEGIN; ... ROLLBACK; for writes",
            "explain-analyze", level="info", node_name=plan.root.name)]
    found: list[Finding] = []
    for node, ancestors in _with_ancestors(plan.root, []):
        for rule in NODE_RULES:
            if item := rule(plan, node):
                found.append(item)
        if item := misestimate(plan, node, ancestors):
            found.append(item)
    found += plan_level(plan, schema_sql)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda f: (order[f["severity"]], -f["share"]))
