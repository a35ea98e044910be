"""Reads EXPLAIN's text format as people paste it: psql aligned (header, rule, `(N rows)`, `+` continuations),
unaligned (`psql -A`), pgAdmin/DBeaver copies (each row in double quotes), with or without `->` arrows.

The tree comes from the indentation: a node's properties sit two columns right of its name, its children's arrows
right of its name too; plan-level lines (Planning Time, Triggers, JIT) are at or left of the root's column.
"""

from __future__ import annotations

import re

from .model import Node, Plan, PlanReadError, Trigger

_COSTS = r"\(cost=(?P<sc>\d+\.\d+)\.\.(?P<tc>\d+\.\d+) rows=(?P<rows>\d+) width=\d+\)"
_ACTUAL = (r"\((?:actual time=(?P<as>\d+\.\d+)\.\.(?P<at>\d+\.\d+) rows=(?P<ar>\d+) loops=(?P<lo>\d+)"
           r"|actual rows=(?P<ar2>\d+) loops=(?P<lo2>\d+)|(?P<never>never executed))\)")
NODE_LINE = re.compile(r"^(?P<indent>\s*)(?P<arrow>->\s+)?(?P<head>[A-Z][^()]*?)\s+(?=\((?:cost|actual|never))"
                       r"(?:" + _COSTS + r")?\s*(?:" + _ACTUAL + r")?\s*$")
_USING = re.compile(r"^(?P<type>.+?) using (?P<index>\S+) on (?P<rel>\S+)(?: (?P<alias>\S+))?$")
_ON_INDEX = re.compile(r"^(?P<type>Bitmap Index Scan) on (?P<index>\S+)$")
_ON = re.compile(r"^(?P<type>.+?) on (?P<rel>\S+)(?: (?P<alias>\S+))?$")
_MARKER = re.compile(r"^(?P<indent>\s*)(?P<label>(?:InitPlan|SubPlan) \d+(?: \(returns [^)]*\))?|CTE \S+)\s*$")
_TRIGGER = re.compile(r"^\s*Trigger(?: for constraint)? (?P<name>\S+?)(?: on (?P<rel>\S+))?: "
                      r"time=(?P<time>\d+\.\d+) calls=(?P<calls>\d+)\s*$")
_CONSTRAINT_TRIGGER = re.compile(r"^\s*Trigger for constraint ")
_TOP_LEVEL = re.compile(r"^\s*(Planning Time|Execution Time|Planning|JIT|Settings|Query Identifier|Trigger)\b")
_PROP = re.compile(r"^(?P<key>[A-Z][A-Za-z /]*?):\s+(?P<value>.*)$")

# Text labels whose value is kept as text, under PostgreSQL's FORMAT JSON name.
_TEXT_PROPS = {"Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter", "Sort Key",
               "Group Key", "Cache Key", "Output", "One-Time Filter", "Presorted Key", "Cache Mode", "TID Cond"}
_INT_PROPS = {"Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck",
              "Heap Fetches", "Workers Planned", "Workers Launched"}


def unwrap(text: str) -> str:
    """Strip what psql and GUI clients add around plan rows: quotes, headers, rules, footers, `+` marks."""
    lines = [_unplus(line.rstrip()) for line in text.replace("\r\n", "\n").split("\n")]
    filled = [ln for ln in lines if ln.strip()]
    if filled and sum(1 for ln in filled if _QUOTED.match(ln)) >= max(2, len(filled) // 2):
        lines = [_unquote(ln) for ln in lines]
    return "\n".join("" if _DECORATION.fullmatch(line.strip()) else line for line in lines)


def _unplus(line: str) -> str:
    """psql's aligned format marks a value continued on the next line with a trailing `+`."""
    return line[:-1].rstrip() if line.endswith("+") else line


# A row as pgAdmin/DBeaver copy it: the whole value in double quotes, inner quotes doubled.
_QUOTED = re.compile(r'^(\s*)"((?:[^"]|"")*)"\s*,?\s*$')
_DECORATION = re.compile(r"QUERY PLAN|-{3,}(?:\+-+)*|\(\d+ rows?\)")


def _unquote(line: str) -> str:
    m = _QUOTED.match(line)
    return m.group(1) + m.group(2).replace('""', '"') if m else line


def find_root(lines: list[str]) -> int | None:
    for number, line in enumerate(lines):
        if NODE_LINE.match(line):
            return number
    return None


def parse_text(text: str) -> tuple[Plan, int]:
    """The first text plan in the message, and the number of node lines read."""
    lines = unwrap(text).split("\n")
    start = find_root(lines)
    if start is None:
        raise PlanReadError("no plan node line found")
    root_match = NODE_LINE.match(lines[start])
    assert root_match is not None
    root = _node(root_match, start + 1)
    root_col = _text_col(root_match)
    plan = Plan(root=root, source="text")
    stack: list[tuple[int, Node]] = [(root_col, root)]
    markers: dict[int, tuple[int, str]] = {}  # id(owner) -> (column, label) of a pending InitPlan/SubPlan/CTE
    section: str | None = None  # inside a plan-level "JIT:" / "Planning:" / "Settings:" block
    count = 1
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if not line.strip():
            continue
        col = len(line) - len(line.lstrip())
        if col <= root_col:
            if not _top_level(plan, line.strip()):
                break  # prose after the plan
            section = _section(line)
            continue
        if section is not None:
            if section == "JIT":
                _jit(plan, line.strip())
            continue
        node_match = NODE_LINE.match(line)
        if node_match:
            arrow_col = len(node_match.group("indent"))
            while len(stack) > 1 and stack[-1][0] >= arrow_col:
                stack.pop()
            parent = stack[-1][1]
            node = _node(node_match, number + 1)
            pending = markers.pop(id(parent), None)
            if pending and arrow_col > pending[0]:
                node.subplan_name = pending[1]
                node.relationship = "SubPlan" if pending[1].startswith("SubPlan") else "InitPlan"
            parent.children.append(node)
            stack.append((_text_col(node_match), node))
            count += 1
            continue
        while len(stack) > 1 and stack[-1][0] >= col:
            stack.pop()
        owner = stack[-1][1]
        if marker := _MARKER.match(line):
            markers[id(owner)] = (col, marker.group("label"))
            continue
        _property(owner, line.strip())
    return plan, count


def _text_col(match: re.Match[str]) -> int:
    return match.start("head")


def _section(line: str) -> str | None:
    label = line.strip().split(":", 1)[0]
    return label if label in ("JIT", "Planning", "Settings") else None


def _top_level(plan: Plan, stripped: str) -> bool:
    if not _TOP_LEVEL.match(stripped):
        return False
    key, _, value = stripped.partition(":")
    if key == "Planning Time":
        plan.planning_ms = _ms(value)
    elif key == "Execution Time":
        plan.execution_ms = _ms(value)
    elif trigger := _TRIGGER.match(stripped):
        constraint = trigger.group("name") if _CONSTRAINT_TRIGGER.match(stripped) else None
        plan.triggers.append(Trigger(name=trigger.group("name"), constraint=constraint, relation=trigger.group("rel"),
                                     time_ms=float(trigger.group("time")), calls=int(trigger.group("calls"))))
    return True


def _jit(plan: Plan, stripped: str) -> None:
    key, _, value = stripped.partition(":")
    if key == "Functions":
        plan.jit["Functions"] = int(value.strip())
    elif key == "Timing":
        plan.jit["Timing"] = {k: float(v) for k, v in re.findall(r"(\w+) (\d+\.\d+) ms", value)}


def _ms(value: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*ms", value)
    return float(m.group(1)) if m else None


def _node(match: re.Match[str], line: int) -> Node:
    head = match.group("head").strip()
    node = Node(name=head, line=line)
    if m := _USING.match(head):
        node.name, node.index = m.group("type"), m.group("index")
        _relation(node, m.group("rel"), m.group("alias"))
    elif m := _ON_INDEX.match(head):
        node.name, node.index = m.group("type"), m.group("index")
    elif m := _ON.match(head):
        node.name = m.group("type")
        _relation(node, m.group("rel"), m.group("alias"))
    if match.group("tc") is not None:
        node.startup_cost, node.total_cost = float(match.group("sc")), float(match.group("tc"))
        node.plan_rows = float(match.group("rows"))
    if match.group("never"):
        node.never_executed, node.actual_rows, node.loops = True, 0.0, 0
        node.actual_startup_ms = node.actual_total_ms = 0.0
    elif match.group("at") is not None:
        node.actual_startup_ms, node.actual_total_ms = float(match.group("as")), float(match.group("at"))
        node.actual_rows, node.loops = float(match.group("ar")), int(match.group("lo"))
    elif match.group("ar2") is not None:
        node.actual_rows, node.loops = float(match.group("ar2")), int(match.group("lo2"))
    return node


def _relation(node: Node, relation: str, alias: str | None) -> None:
    schema, _, name = relation.rpartition(".")
    node.relation, node.schema = name.strip('"'), schema.strip('"') or None
    node.alias = alias or node.relation


def _property(node: Node, text: str) -> None:
    if text.startswith("Worker "):  # per-worker detail (VERBOSE); the node line carries the totals
        return
    m = _PROP.match(text)
    if not m:
        return
    key, value = m.group("key"), m.group("value").strip()
    props = node.props
    if key in _TEXT_PROPS:
        props[key] = value
    elif key in _INT_PROPS:
        props[key] = int(value.split()[0])
    elif key == "Heap Blocks":
        for kind, n in re.findall(r"(exact|lossy)=(\d+)", value):
            props[f"{kind.capitalize()} Heap Blocks"] = int(n)
    elif key == "Sort Method":
        method, _, space = value.partition("  ")
        props["Sort Method"] = method.strip()
        if s := re.match(r"(Memory|Disk): (\d+)kB", space.strip()):
            props["Sort Space Type"], props["Sort Space Used"] = s.group(1), int(s.group(2))
    elif key == "Buckets":
        _hash(props, text)
    elif key in ("Batches", "Planned Partitions"):
        # HashAggregate (PostgreSQL 13+): [Planned Partitions: 128  ]Batches: 5  Memory Usage: 4145kB  Disk Usage: 1200kB
        if partitions := re.search(r"Planned Partitions: (\d+)", text):
            props["Planned Partitions"] = int(partitions.group(1))
        if batches := re.search(r"Batches: (\d+)", text):
            props["HashAgg Batches"] = int(batches.group(1))
        if mem := re.search(r"Memory Usage: (\d+)kB", value):
            props["Peak Memory Usage"] = int(mem.group(1))
        if disk := re.search(r"Disk Usage: (\d+)kB", value):
            props["Disk Usage"] = int(disk.group(1))
    elif key == "Hits":  # Memoize: Hits: 12909  Misses: 50  Evictions: 0  Overflows: 0  Memory Usage: 6kB
        for label, n in re.findall(r"(Hits|Misses|Evictions|Overflows): (\d+)", text):
            props[f"Cache {label}"] = int(n)
    elif key == "Buffers":
        _buffers(props, value)
    elif key == "I/O Timings":
        for scope, op, ms in re.findall(r"(shared/local|shared|local|temp)?\s*(read|write)=(\d+\.\d+)", value):
            prefix = "Temp " if scope == "temp" else ""
            props[f"{prefix}I/O {op.capitalize()} Time"] = float(ms)
    else:
        props[key] = value


def _hash(props: dict, text: str) -> None:
    m = re.search(r"Buckets: (\d+)(?: \(originally (\d+)\))?\s+Batches: (\d+)(?: \(originally (\d+)\))?"
                  r"\s+Memory Usage: (\d+)kB", text)
    if m:
        props["Hash Buckets"] = int(m.group(1))
        props["Original Hash Buckets"] = int(m.group(2) or m.group(1))
        props["Hash Batches"] = int(m.group(3))
        props["Original Hash Batches"] = int(m.group(4) or m.group(3))
        props["Peak Memory Usage"] = int(m.group(5))


def _buffers(props: dict, value: str) -> None:
    for part in value.split(","):
        words = part.split()
        if not words:
            continue
        scope = words[0].capitalize()
        for item in words[1:]:
            op, _, n = item.partition("=")
            if n.isdigit():
                props[f"{scope} {op.capitalize()} Blocks"] = int(n)
