"""Chat renderings: a short summary (counts and the top findings with their fix) and the full report."""

from __future__ import annotations

from .report import Finding, ReviewReport

_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def _counts(report: ReviewReport) -> str:
    s = report.summary
    parts = [f"{s['error']} error" + ("s" if s["error"] != 1 else ""),
             f"{s['warning']} warning" + ("s" if s["warning"] != 1 else ""),
             f"{s['info']} info"]
    return ", ".join(parts)


def _where(f: Finding) -> str:
    if f.table and f.column:
        return f"`{f.table}.{f.column}`"
    if f.table and f.object:
        return f"`{f.table}` (`{f.object}`)"
    if f.table:
        return f"`{f.table}`"
    return f"`{f.object}`" if f.object else ""


def _fence(sql: str) -> str:
    return "```sql\n" + sql.strip() + "\n```"


def summary_markdown(report: ReviewReport, top: int = 3) -> str:
    stmts = f"{report.statements} statement" + ("s" if report.statements != 1 else "")
    head = f"**Schema review** ({report.dialect}, {stmts}): {_counts(report)}."
    lines = [head]
    if report.errors:
        lines.append(f"⚠️ {len(report.errors)} statement(s) could not be parsed (first at line {report.errors[0][0]}: "
                     f"{report.errors[0][1]}).")
    if not report.findings:
        lines.append("No issues found." if not report.errors else "No issues found in the statements that parsed.")
        return "\n\n".join(lines)
    ranked = report.by_severity()
    for i, f in enumerate(ranked[:top], start=1):
        lines.append(f"{i}. {_ICON.get(f.severity, '')} **{f.severity}** `{f.rule}` on {_where(f)} "
                     f"(line {f.line}): {f.message}\n\n{_fence(f.fix)}")
    rest = len(ranked) - top
    if rest > 0:
        lines.append(f"_…and {rest} more finding{'s' if rest != 1 else ''} in the full report._")
    return "\n\n".join(lines)


def report_markdown(report: ReviewReport) -> str:
    lines = [f"## Schema review: {_counts(report)}",
             f"Dialect {report.dialect}" + (f" (PostgreSQL {report.pg_version})" if report.pg_version else "")
             + f", {report.statements} statements reviewed."]
    if report.errors:
        lines.append("### Statements that did not parse")
        lines.extend(f"- line {line}: {message}" for line, message in report.errors)
    if not report.findings:
        lines.append("No issues found.")
        return "\n\n".join(lines)
    groups: dict[str, list[Finding]] = {}
    for f in sorted(report.findings, key=lambda f: (f.table or "", f.line)):
        groups.setdefault(f.table or "(general)", []).append(f)
    for table, findings in groups.items():
        lines.append(f"### `{table}`")
        for f in findings:
            lines.append(f"**{_ICON.get(f.severity, '')} {f.severity} · `{f.rule}`** on {_where(f)}, line {f.line}: "
                         f"{f.message}\n\n*Why:* {f.why}\n\n*Fix:*\n\n{_fence(f.fix)}\n\n*See the note:* `{f.note}`")
    return "\n\n".join(lines)
