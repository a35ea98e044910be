"""`consultant querylog`: find N+1s, repeated and slow statements in a query log, in the terminal and in CI.

    consultant querylog [--format text|json] [--fail-on error|warning|info|never] [--slow-ms MS] FILE... | -

Reads PostgreSQL server logs (log_min_duration_statement / log_statement), Django `django.db.backends` debug
lines, SQLAlchemy echo output, Rails/ActiveRecord logs and plain SQL, one statement per line. Exit codes and the
JSON shape ({"findings", "hotspots", "summary", "errors"}, one object per FILE) are those of `consultant explain`.
"""

from __future__ import annotations

from typing import Any

from adapters.evidence_cli import add_arguments, finding_lines, run_command

MAX_LOG_BYTES = 64 * 1024 * 1024


def register(subparsers) -> None:  # noqa: ANN001
    p = subparsers.add_parser(
        "querylog",
        help="find N+1s, repeated and slow statements in a query log (server log, Django, SQLAlchemy, Rails)",
        description="Fingerprint every statement of a query log and report N+1 groups (with the fix in your ORM), "
                    "repeated identical queries and slow statements (ready to EXPLAIN).",
        epilog="Exit codes: 0 clean, 1 findings at or above --fail-on (or an unreadable input), 2 usage error "
               "(including a missing file).",
    )
    add_arguments(p, "log")
    p.add_argument("--slow-ms", type=float, default=100.0, metavar="MS",
                   help="a statement at or above this duration is a slow-query finding (default: 100)")
    p.set_defaults(run=run)


def run(args) -> int:  # noqa: ANN001
    def analyse(text: str) -> tuple[dict[str, Any], list[str]]:
        from bot.querylog import read_log
        from bot.querylog.analyzer import FORMAT_NAMES
        from bot.plans.report import counts

        result = read_log(text, slow_ms=args.slow_ms)
        if result.log is None:
            return ({"findings": [], "hotspots": [], "summary": {}, "errors": [result.error]},
                    [f"cannot read the log: {result.error}"])
        s = result.summary
        head = (f"{FORMAT_NAMES[s['format']]}, {s['statements']} statements, {s['fingerprints']} fingerprints"
                + (f", {s['total_ms']:,.1f} ms" if s["timed"] else "") + f": {counts(result.findings)}")
        lines = [head]
        if result.findings:
            lines.append("")
            lines += finding_lines(result.findings)
        return {"findings": result.findings, "hotspots": [], "summary": s, "errors": []}, lines

    return run_command(args, "querylog", MAX_LOG_BYTES, analyse)
