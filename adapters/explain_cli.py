"""`consultant explain`: diagnose PostgreSQL EXPLAIN output (text or FORMAT JSON) in the terminal and in CI.

    consultant explain [--format text|json] [--fail-on error|warning|info|never] FILE... | -

Exit codes, as for `consultant review`:
- 0: no finding at or above --fail-on (default: error);
- 1: a finding at or above --fail-on, or an input that cannot be read (not a plan, YAML/XML, truncated, binary,
  too large), reported on one line;
- 2: usage errors: bad arguments (argparse), a FILE that does not exist.

`--format json` prints one object per FILE, one per line: {"findings", "hotspots", "summary", "errors"}.
Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

from typing import Any

from adapters.evidence_cli import add_arguments, finding_lines, run_command

MAX_PLAN_BYTES = 5 * 1024 * 1024


def register(subparsers) -> None:  # noqa: ANN001
    p = subparsers.add_parser(
        "explain",
        help="diagnose a PostgreSQL query plan (EXPLAIN ANALYZE, text or FORMAT JSON)",
        description="Read EXPLAIN (ANALYZE, BUFFERS) output as psql, pgAdmin or DBeaver print it, or FORMAT JSON: "
                    "where the time goes (exclusive time per node) and what to fix, naming your tables.",
        epilog="Exit codes: 0 clean, 1 findings at or above --fail-on (or an unreadable input), 2 usage error "
               "(including a missing file).",
    )
    add_arguments(p, "plan")
    p.set_defaults(run=run)


def analyse_plan(text: str) -> tuple[dict[str, Any], list[str]]:
    from bot.plans import read_plan
    from bot.plans.report import counts, duration, hotspot_phrase, percent

    result = read_plan(text)
    if result.plan is None:
        return ({"findings": [], "hotspots": [], "summary": {}, "errors": [result.error]},
                [f"cannot read the plan: {result.error}"])
    plan = result.plan
    summary = {"format": plan.source, "nodes": result.nodes, "has_actuals": plan.has_actuals,
               "planning_ms": plan.planning_ms, "execution_ms": plan.execution_ms, "jit_ms": plan.jit_ms or None,
               "error": sum(f["severity"] == "error" for f in result.findings),
               "warning": sum(f["severity"] == "warning" for f in result.findings),
               "info": sum(f["severity"] == "info" for f in result.findings)}
    head = (f"{plan.source} plan, {result.nodes} node{'s' if result.nodes != 1 else ''}"
            + (f", {duration(plan.total_ms)}" if plan.has_timing else ", estimates only") + f": {counts(result.findings)}")
    lines = [head]
    for h in result.hotspots:
        lines.append(f"  {percent(h['share']):>6}  {duration(h['ms']):>10}  {hotspot_phrase(h).replace('`', '')}")
    if result.findings:
        lines.append("")
        lines += finding_lines(result.findings)
    return {"findings": result.findings, "hotspots": result.hotspots, "summary": summary, "errors": []}, lines


def run(args) -> int:  # noqa: ANN001
    return run_command(args, "explain", MAX_PLAN_BYTES, analyse_plan)
