"""Reads EXPLAIN (FORMAT JSON): the array holding {"Plan": ...}, raw or as psql prints it (aligned, with `+` marks).

Node names are rebuilt the way the text format prints them ("Parallel Seq Scan", "Partial HashAggregate",
"Hash Left Join", "Delete"), so a plan gives the same findings whichever format it was pasted in.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .model import Node, Plan, PlanReadError, Trigger
from .parse_text import unwrap

JSON_START = re.compile(r'(\[\s*)?\{\s*"Plan"\s*:')
_NODE_TYPE = re.compile(r'"Node Type"\s*:')
_SKIP = {"Plans", "Node Type", "Relation Name", "Schema", "Alias", "Index Name", "Startup Cost", "Total Cost",
         "Plan Rows", "Plan Width", "Actual Startup Time", "Actual Total Time", "Actual Rows", "Actual Loops",
         "Parent Relationship", "Subplan Name", "Parallel Aware", "Async Capable", "Strategy", "Partial Mode",
         "Join Type", "Operation", "Scan Direction", "Workers"}
_AGGREGATES = {"Plain": "Aggregate", "Sorted": "GroupAggregate", "Hashed": "HashAggregate", "Mixed": "MixedAggregate"}
_JOINS = {"Nested Loop": "Nested Loop", "Hash Join": "Hash", "Merge Join": "Merge"}


def parse_json(text: str, *, unwrapped: bool = False) -> tuple[Plan, int]:
    """`unwrapped`: the text has been through parse_text.unwrap already (or is raw JSON needing none)."""
    body = text if unwrapped else unwrap(text)
    start = JSON_START.search(body)
    if start is None:
        raise PlanReadError('no {"Plan": ...} object found')
    try:
        value, _ = json.JSONDecoder().raw_decode(body, start.start())
    except json.JSONDecodeError as exc:
        raise PlanReadError(f"the JSON plan is cut off or malformed ({exc.msg} at character {exc.pos})") from None
    top = value[0] if isinstance(value, list) and value else value
    if not isinstance(top, dict) or not isinstance(top.get("Plan"), dict):
        raise PlanReadError('the JSON has no "Plan" object')
    counter = [0]
    try:
        root = _node(top["Plan"], counter)
        triggers = [Trigger(name=str(t.get("Trigger Name") or t.get("Constraint Name") or "trigger"),
                            constraint=t.get("Constraint Name"), relation=t.get("Relation"),
                            time_ms=float(t.get("Time") or 0.0), calls=int(t.get("Calls") or 0))
                    for t in top.get("Triggers") or []]
    except (TypeError, ValueError, AttributeError) as exc:
        raise PlanReadError(f"the JSON plan has an unexpected shape ({exc})") from None
    plan = Plan(root=root, planning_ms=_float(top.get("Planning Time")), execution_ms=_float(top.get("Execution Time")),
                triggers=triggers, jit=dict(top.get("JIT") or {}), source="json")
    _number_lines(plan, body, start.start())
    return plan, counter[0]


def _number_lines(plan: Plan, body: str, offset: int) -> None:
    """Each node's line in the message: PostgreSQL writes "Node Type" first in every node, parents before their
    children, so the n-th occurrence belongs to the n-th node in tree order."""
    line, pos = body.count("\n", 0, offset) + 1, offset
    for node, match in zip(plan.nodes(), _NODE_TYPE.finditer(body, offset)):
        line += body.count("\n", pos, match.start())
        pos = match.start()
        node.line = line


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def display_name(plan: dict[str, Any]) -> str:
    """The node name as the text format prints it."""
    kind = str(plan.get("Node Type") or "Unknown")
    if kind == "Aggregate":
        name = _AGGREGATES.get(plan.get("Strategy") or "Plain", "Aggregate")
        mode = plan.get("Partial Mode")
        name = f"{mode} {name}" if mode in ("Partial", "Finalize") else name
    elif kind in _JOINS:
        join = plan.get("Join Type") or "Inner"
        name = kind if join == "Inner" else f"{_JOINS[kind]} {join} Join"
    elif kind == "ModifyTable":
        name = str(plan.get("Operation") or "ModifyTable")
    elif kind == "SetOp":
        name = "HashSetOp" if plan.get("Strategy") == "Hashed" else "SetOp"
    elif kind in ("Index Scan", "Index Only Scan") and plan.get("Scan Direction") == "Backward":
        name = f"{kind} Backward"
    else:
        name = kind
    return f"Parallel {name}" if plan.get("Parallel Aware") else name


def _node(plan: dict[str, Any], counter: list[int]) -> Node:
    counter[0] += 1
    node = Node(name=display_name(plan), relation=plan.get("Relation Name") or plan.get("CTE Name"),
                schema=plan.get("Schema"), alias=plan.get("Alias"), index=plan.get("Index Name"),
                startup_cost=_float(plan.get("Startup Cost")), total_cost=_float(plan.get("Total Cost")),
                plan_rows=_float(plan.get("Plan Rows")), relationship=plan.get("Parent Relationship"),
                subplan_name=plan.get("Subplan Name"))
    if node.relation is None:  # Function/Subquery/Values Scan: the text format prints the function or alias
        node.relation = plan.get("Function Name") or plan.get("Alias")
    if "Actual Loops" in plan:
        node.loops = int(plan["Actual Loops"])
        node.actual_rows = float(plan.get("Actual Rows") or 0)
        if "Actual Total Time" in plan:
            node.actual_startup_ms = float(plan.get("Actual Startup Time") or 0)
            node.actual_total_ms = float(plan["Actual Total Time"])
        node.never_executed = node.loops == 0
    # Keys and outputs are lists in JSON and comma-separated in text.
    node.props = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in plan.items() if k not in _SKIP}
    if node.name.endswith("HashAggregate") and "HashAgg Batches" not in node.props and "Disk Usage" in node.props:
        node.props["HashAgg Batches"] = 1
    node.children = [_node(child, counter) for child in plan.get("Plans") or []]
    return node
