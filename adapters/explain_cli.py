"""`consultant explain`: diagnose PostgreSQL EXPLAIN output (text or FORMAT JSON) in the terminal and in CI.

    consultant explain [--format text|json] [--fail-on error|warning|info|never] FILE... | -

Exit codes, as for `consultant review`:
- 0: no finding at or above --fail-on (default: error);
- 1: a finding at or above --fail-on, or an input that cannot be read (not a plan, YAML/XML, truncated, binary,
  too large), reported on one line;
- 2: usage errors: bad arguments (argparse), a FILE that does not exist.

`--format json` prints one object per FILE, one per line: {"findings", "hotspots", "summary", "errors"}.
The helpers here are shared with `consultant querylog`. Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

from adapters.cli_input import Usage, read_bytes

FORMATS = ("text", "json")
FAIL_ON = ("error", "warning", "info", "never")
RANK = {"error": 0, "warning": 1, "info": 2}
MAX_PLAN_BYTES = 5 * 1024 * 1024


def add_arguments(p, what: str) -> None:  # noqa: ANN001 - an argparse parser
    p.add_argument("paths", nargs="+", metavar="FILE", help=f"{what} files, or - for standard input")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="error",
                   help="exit 1 when a finding at or above this severity exists (default: error)")


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


def read_input(path: str, max_bytes: int) -> str:
    """The file's text; Usage for a missing file, InputError (exit 1) for binary, oversized or unreadable data."""
    from bot.errors import ConsultantError

    label = "standard input" if path == "-" else path
    data = read_bytes(path, max_bytes)
    if len(data) > max_bytes:
        raise ConsultantError(f"{label} is over {max_bytes // (1024 * 1024)} MB; pass a smaller excerpt")
    if b"\x00" in data[:8192]:
        raise ConsultantError(f"{label} looks like binary data, not text")
    return data.decode("utf-8-sig", errors="replace")


def finding_lines(findings: list[dict[str, Any]]) -> list[str]:
    out = []
    for f in findings:
        where = ".".join(str(p) for p in (f.get("table"), f.get("column")) if p) or str(f.get("object") or "")
        line = f"  line {f['line']}" if f.get("line") else ""
        out.append(f"  {f['severity']:<7} {f['rule']}{line}  {where}".rstrip())
        out.append(f"          {f['message']}")
        out.append("          why: " + f["why"])
        out.append("          fix:")
        out.extend("            " + x for x in str(f["fix"]).splitlines())
    return out


def at_or_above(findings: list[dict[str, Any]], level: str) -> bool:
    if level == "never":
        return False
    return any(RANK.get(f["severity"], 3) <= RANK[level] for f in findings)


def write(out: str) -> None:
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `consultant explain ... | head`: the reader left, the exit code still counts
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_command(args, name: str, max_bytes: int,  # noqa: ANN001 - argparse namespace
                analyse: Callable[[str], tuple[dict[str, Any], list[str]]]) -> int:
    """Read every FILE, analyse it, print text or JSON lines; the exit code as documented above."""
    from bot.errors import ConsultantError

    try:
        texts = []
        for path in args.paths:
            try:
                texts.append((path, read_input(path, max_bytes), None))
            except ConsultantError as exc:
                texts.append((path, "", str(exc)))
    except Usage as exc:
        print(f"consultant {name}: error: {exc}", file=sys.stderr)
        return 2
    failed = False
    chunks = []
    for path, text, problem in texts:
        if problem:
            result = {"findings": [], "hotspots": [], "summary": {}, "errors": [problem]}
            text_out = [f"{path}: {problem}"]
        else:
            result, text_out = analyse(text)
            text_out[0] = f"{'<stdin>' if path == '-' else path}: {text_out[0]}"
        failed = failed or bool(result["errors"]) or at_or_above(result["findings"], args.fail_on)
        chunks.append(json.dumps(result, ensure_ascii=False) if args.format == "json" else "\n".join(text_out))
    write("\n".join(chunks) + "\n" if args.format == "json" else "\n\n".join(chunks).rstrip() + "\n")
    return 1 if failed else 0


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
