"""The plan model both readers (text and FORMAT JSON) produce: a tree of nodes with PostgreSQL's own property names.

Properties keep the names PostgreSQL uses in FORMAT JSON ("Rows Removed by Filter", "Hash Batches", ...); the text
reader maps its labels onto them, so the rules see one vocabulary whatever the input format was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

GATHERS = ("Gather", "Gather Merge")


class PlanReadError(ValueError):
    """The text looks like a plan but cannot be read; the message says why, in one line."""


@dataclass
class Node:
    name: str  # as EXPLAIN's text format prints it: "Parallel Seq Scan", "Hash Left Join", "Partial HashAggregate"
    relation: str | None = None
    schema: str | None = None
    alias: str | None = None
    index: str | None = None
    startup_cost: float | None = None
    total_cost: float | None = None
    plan_rows: float | None = None
    actual_startup_ms: float | None = None  # per loop, as PostgreSQL reports it
    actual_total_ms: float | None = None
    actual_rows: float | None = None
    loops: int | None = None
    never_executed: bool = False
    relationship: str | None = None  # Outer / Inner / InitPlan / SubPlan / Member ...
    subplan_name: str | None = None  # "InitPlan 1 (returns $0)", "SubPlan 2", "CTE recent"
    props: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    line: int | None = None  # 1-based line in the message (text plans)
    inclusive_ms: float = 0.0
    exclusive_ms: float = 0.0
    parallel_processes: int = 1

    @property
    def kind(self) -> str:
        """The node type without the parallel/partial decorations: "Parallel Seq Scan" -> "Seq Scan"."""
        name = self.name
        for prefix in ("Parallel ", "Partial ", "Finalize "):
            if name.startswith(prefix):
                name = name[len(prefix):]
        return name

    @property
    def label(self) -> str:
        """How a person names this node: "Seq Scan on events", "Index Scan using orders_pkey on orders"."""
        where = self.relation if not self.alias or self.alias == self.relation else f"{self.relation} {self.alias}"
        if self.index and self.relation:
            return f"{self.name} using {self.index} on {where}"
        if self.index:
            return f"{self.name} on {self.index}"
        if self.relation:
            return f"{self.name} on {where}"
        return self.name

    @property
    def object(self) -> str | None:
        return self.relation or self.index or self.subplan_name

    def total_rows(self) -> float:
        return (self.actual_rows or 0) * (self.loops or 1)

    def total(self, prop: str) -> float:
        """A per-loop counter (rows removed, heap fetches) summed over the loops."""
        return float(self.props.get(prop) or 0) * (self.loops or 1)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Trigger:
    name: str
    constraint: str | None
    relation: str | None
    time_ms: float
    calls: int


@dataclass
class Plan:
    root: Node
    planning_ms: float | None = None
    execution_ms: float | None = None
    triggers: list[Trigger] = field(default_factory=list)
    jit: dict[str, Any] = field(default_factory=dict)  # {"Functions": n, "Timing": {"Total": ms, ...}}
    source: str = "text"  # "text" or "json"

    @property
    def has_actuals(self) -> bool:
        return any(n.actual_total_ms is not None or n.never_executed or n.actual_rows is not None
                   for n in self.root.walk())

    @property
    def has_timing(self) -> bool:
        return any(n.actual_total_ms is not None for n in self.root.walk())

    @property
    def jit_ms(self) -> float:
        timing = self.jit.get("Timing") or {}
        return float(timing.get("Total") or 0.0)

    @property
    def total_ms(self) -> float:
        """What the shares are shares of: the execution time, else the root and the triggers."""
        if self.execution_ms:
            return self.execution_ms
        return self.root.inclusive_ms + sum(t.time_ms for t in self.triggers)

    @property
    def jit_outside_nodes_ms(self) -> float:
        """JIT compile time the node timings do not include (PostgreSQL charges part of it to no node)."""
        if not self.jit_ms or not self.execution_ms:
            return 0.0
        inside = sum(n.exclusive_ms for n in self.nodes()) + sum(t.time_ms for t in self.triggers)
        return min(self.jit_ms, max(0.0, self.execution_ms - inside))

    def nodes(self) -> Iterator[Node]:
        return self.root.walk()


def compute_times(plan: Plan) -> None:
    """Inclusive and exclusive wall-clock time per node, so that the exclusive times (and triggers) add up.

    PostgreSQL reports per-loop averages: inclusive = time x loops. Under a Gather the loops are the parallel
    processes running at once, so the wall-clock share divides by their number. A CTE's subplan runs when its CTE
    Scan pulls rows, so its time is taken out of the (first) CTE Scan rather than out of the node it hangs from.
    """
    _inclusive(plan.root, 1)
    ctes = {n.subplan_name[4:]: n for n in plan.nodes() if n.subplan_name and n.subplan_name.startswith("CTE ")}
    charged: set[str] = set()
    for node in plan.nodes():
        children = sum(c.inclusive_ms for c in node.children if not (c.subplan_name or "").startswith("CTE "))
        exclusive = node.inclusive_ms - children
        if node.kind == "CTE Scan" and node.relation in ctes and node.relation not in charged:
            charged.add(node.relation)
            exclusive -= ctes[node.relation].inclusive_ms
        node.exclusive_ms = max(0.0, exclusive)


def _inclusive(node: Node, processes: int) -> None:
    if node.name in GATHERS:
        launched = node.props.get("Workers Launched")
        inner = (int(launched) if launched is not None else int(node.props.get("Workers Planned") or 0)) + 1
    else:
        inner = processes
    node.parallel_processes = processes
    if node.actual_total_ms is not None:
        loops = node.loops or 1
        node.inclusive_ms = node.actual_total_ms * loops / max(1, min(processes, loops))
    for child in node.children:
        _inclusive(child, inner)
