"""Markdown for people: the compact headline (hotspots, counts, top findings) and the full report.

The finding helpers are shared with the query-log reader, so both kinds of evidence read the same in chat.
"""

from __future__ import annotations

from typing import Any

from .model import Plan

ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}
SEVERITIES = ("error", "warning", "info")


def counts(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "no findings"
    n = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITIES}
    parts = [f"{n[s]} {s}" + ("s" if s != "info" and n[s] != 1 else "") for s in SEVERITIES if n[s]]
    return f"{len(findings)} finding{'s' if len(findings) != 1 else ''} ({', '.join(parts)})"


def fence(code: str) -> str:
    language = "sql" if _looks_sql(code) else ""
    return f"```{language}\n{code.strip()}\n```"


def _looks_sql(code: str) -> bool:
    first = code.strip().split(None, 1)[0].upper() if code.strip() else ""
    return first in ("CREATE", "ALTER", "ANALYZE", "VACUUM", "SET", "SHOW", "EXPLAIN", "SELECT", "WITH", "--")


def where(f: dict[str, Any]) -> str:
    place = ".".join(str(p) for p in (f.get("table"), f.get("column")) if p) or str(f.get("object") or "")
    line = f" (line {f['line']})" if f.get("line") else ""
    return (f" on `{place}`" if place else "") + line


def top_findings(findings: list[dict[str, Any]], top: int = 3) -> list[str]:
    lines = [f"{i}. {ICON.get(f['severity'], '')} **{f['severity']}** `{f['rule']}`{where(f)}: {f['message']}"
             f"\n\n{fence(f['fix'])}" for i, f in enumerate(findings[:top], start=1)]
    if len(findings) > top:
        rest = len(findings) - top
        lines.append(f"_…and {rest} more finding{'s' if rest != 1 else ''} in the full report._")
    return lines


def finding_sections(findings: list[dict[str, Any]]) -> list[str]:
    return [f"**{ICON.get(f['severity'], '')} {f['severity']} · `{f['rule']}`**{where(f)}: {f['message']}\n\n"
            f"*Why:* {f['why']}\n\n*Fix:*\n\n{fence(f['fix'])}\n\n*See the note:* `{f['note']}`" for f in findings]


def duration(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:,.1f} ms" if ms >= 1 else f"{ms:.3f} ms"


def percent(share: float) -> str:
    if share >= 0.9995:
        return "99.9%"
    return f"{share * 100:.1f}%" if share >= 0.001 else "<0.1%"


def hotspot_phrase(h: dict[str, Any]) -> str:
    if h["node"] == "Trigger":
        return f"the trigger for `{h['object']}`"
    if h["node"] == "JIT":
        return "JIT compilation"
    return f"{h['node']} on `{h['object']}`" if h.get("object") else h["node"]


def hotspots(plan: Plan, top: int = 3) -> list[dict[str, Any]]:
    total = plan.total_ms
    if not plan.has_timing or total <= 0:
        return []
    items = [{"node": n.name, "object": n.object, "share": round(min(1.0, n.exclusive_ms / total), 4),
              "ms": round(n.exclusive_ms, 3), "line": n.line} for n in plan.nodes()]
    items += [{"node": "Trigger", "object": t.constraint or t.name, "share": round(min(1.0, t.time_ms / total), 4),
               "ms": round(t.time_ms, 3), "line": None} for t in plan.triggers]
    if jit := plan.jit_outside_nodes_ms:
        items.append({"node": "JIT", "object": None, "share": round(min(1.0, jit / total), 4), "ms": round(jit, 3),
                      "line": None})
    items.sort(key=lambda h: -h["ms"])
    return items[:top]


def headline(plan: Plan, spots: list[dict[str, Any]], findings: list[dict[str, Any]]) -> str:
    if not plan.has_actuals:
        return (f"**Query plan** (estimates only, {sum(1 for _ in plan.nodes())} nodes): EXPLAIN without ANALYZE has "
                f"no times to rank; {counts(findings)}.")
    if not spots:
        return f"**Query plan:** {counts(findings)}."
    first = spots[0]
    text = f"**Query plan:** {percent(first['share'])} of the {duration(plan.total_ms)} is {hotspot_phrase(first)}"
    rest = [f"{hotspot_phrase(h)} ({percent(h['share'])})" for h in spots[1:] if h["share"] >= 0.01]
    if rest:
        text += "; then " + " and ".join(rest)
    return f"{text}. {counts(findings).capitalize()}."


def summary_markdown(plan: Plan, spots: list[dict[str, Any]], findings: list[dict[str, Any]]) -> str:
    lines = [headline(plan, spots, findings)]
    if findings:
        lines += top_findings(findings)
    else:
        lines.append("Nothing in this plan needs fixing: no node wastes its time.")
    return "\n\n".join(lines)


def report_markdown(plan: Plan, spots: list[dict[str, Any]], findings: list[dict[str, Any]]) -> str:
    lines = ["## Query plan", headline(plan, spots, findings)]  # the headline carries the counts
    timing = []
    if plan.planning_ms is not None:
        timing.append(f"planning {duration(plan.planning_ms)}")
    if plan.execution_ms is not None:
        timing.append(f"execution {duration(plan.execution_ms)}")
    if plan.jit_ms:
        timing.append(f"JIT {duration(plan.jit_ms)}")
    if timing:
        lines.append("Timing: " + ", ".join(timing) + ".")
    if spots:
        lines.append("### Where the time goes (exclusive time)")
        lines.append("\n".join(f"- {percent(h['share'])} ({duration(h['ms'])}): {hotspot_phrase(h)}"
                               + (f", plan line {h['line']}" if h.get("line") else "") for h in spots))
    if findings:
        lines.append("### Findings")
        lines += finding_sections(findings)
    else:
        lines.append("No findings: every node does work it needs to do.")
    return "\n\n".join(lines)
