"""Console and CI renderings of review reports: text, json, sarif (2.1.0) and github annotations.

Each function takes the list of reports (one per reviewed path, in order) and returns a string.
- json: one compact object per report, one per line (a single path gives exactly one object);
- sarif: one SARIF 2.1.0 log with one run covering every path;
- github: `::error file=...,line=...,title=...::message` workflow commands (info becomes notice).
"""

from __future__ import annotations

import json

from . import catalog
from .report import PARSE_ERROR, SEVERITY_RANK, ReviewReport

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m", "dim": "\033[2m", "bold": "\033[1m",
           "reset": "\033[0m"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 or word == "info" else "s")


def counts_line(report: ReviewReport) -> str:
    s = report.summary
    line = ", ".join(_plural(s[k], k) for k in ("error", "warning", "info"))
    if report.empty:
        return line + " (nothing reviewed: no SQL statements)"
    if report.unparsed:
        return line + f" ({report.unparsed} unparsed, counted as errors)"
    return line


def force_hint(report: ReviewReport) -> str | None:
    """How to force the dialect, when statements did not parse."""
    if not report.errors or report.empty:
        return None
    if report.suggested:
        return f"if this is {report.suggested}, force it with --dialect {report.suggested}"
    if report.detected is None and report.dialect == "postgres":
        return "if this is not PostgreSQL, force the dialect with --dialect mysql or --dialect sqlite"
    return None


def render_json(reports: list[ReviewReport]) -> str:
    return "\n".join(json.dumps(r.to_dict(), ensure_ascii=False) for r in reports)


def render_text(reports: list[ReviewReport], color: bool = False) -> str:
    def c(key: str, text: str) -> str:
        return f"{_COLORS[key]}{text}{_COLORS['reset']}" if color else text

    out: list[str] = []
    for r in reports:
        version = f" {r.pg_version}" if r.pg_version else ""
        head = f"{r.path or '<stdin>'}: {r.dialect}{version}, {_plural(r.statements, 'statement')}: {counts_line(r)}"
        out.append(c("bold", head))
        if r.detected:
            out.append(f"  {r.detected}")
        if r.assume_in_transaction:
            out.append("  reviewed as running inside a transaction (--assume-in-transaction)")
        for line, message in r.errors:
            out.append(f"  {c('error', 'error  ')} {PARSE_ERROR}  line {line}  {message}")
        hint = force_hint(r)
        if hint:
            out.append(f"          {hint}")
        groups: dict[str, list] = {}
        for f in r.findings:
            groups.setdefault(f.table or "(no table)", []).append(f)
        for table, findings in groups.items():
            out.append("")
            out.append(c("bold", table))
            for f in findings:
                where = f".{f.column}" if f.column else (f" {f.object}" if f.object else "")
                out.append(f"  {c(f.severity, f'{f.severity:<7}')} {f.rule}  line {f.line}  {table}{where}")
                out.append(f"          {f.message}")
                out.append(c("dim", "          why: " + f.why))
                out.append("          fix:")
                out.extend("            " + x for x in f.fix.splitlines())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_sarif(reports: list[ReviewReport], version: str = "0") -> str:
    used = sorted({f.rule for r in reports for f in r.findings})
    unread = any(r.errors for r in reports)
    index = {rule: i for i, rule in enumerate(used + ([PARSE_ERROR] if unread else []))}
    rules = []
    for rule in used:
        sev, note, title = catalog.RULES[rule]
        rules.append({
            "id": rule,
            "name": "".join(part.capitalize() for part in rule.split("-")),
            "shortDescription": {"text": title},
            "fullDescription": {"text": catalog.why(rule, reports[0].dialect, reports[0].pg_version or 16)},
            "defaultConfiguration": {"level": _level(sev)},
            "properties": {"tags": ["schema-review", note]},
        })
    if unread:
        rules.append({
            "id": PARSE_ERROR,
            "name": "ParseError",
            "shortDescription": {"text": "Input that could not be read"},
            "fullDescription": {"text": "A statement that does not parse, or an input without any statement, was "
                                        "not reviewed. It counts as an error so unread input never passes; force "
                                        "the dialect with --dialect when it was guessed wrong."},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["schema-review"]},
        })
    results = []
    for r in reports:
        uri = r.path or "stdin.sql"
        for f in r.findings:
            results.append({
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": _level(f.severity),
                "message": {"text": f"{f.message} Fix:\n{f.fix}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                    "region": {"startLine": max(1, f.line)}}}],
                "properties": {"table": f.table, "column": f.column, "object": f.object, "note": f.note},
            })
        hint = force_hint(r)
        for line, message in r.errors:
            results.append({
                "ruleId": PARSE_ERROR,
                "ruleIndex": index[PARSE_ERROR],
                "level": "error",
                "message": {"text": (message if r.empty else f"statement does not parse: {message}")
                            + (f" ({hint})" if hint else "")},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                    "region": {"startLine": max(1, line)}}}],
            })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "consultant-review", "version": version,
                                "informationUri": "https://github.com/backend-consultant", "rules": rules}},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _level(severity: str) -> str:
    return {"error": "error", "warning": "warning"}.get(severity, "note")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: list[ReviewReport]) -> str:
    lines = []
    for r in reports:
        file_prop = f"file={_escape_prop(r.path)}," if r.path else ""
        hint = force_hint(r)
        for line, message in r.errors:
            body = message + (f" ({hint})" if hint else "")
            lines.append(f"::error {file_prop}line={line},title={PARSE_ERROR}::{_escape_data(body)}")
        for f in sorted(r.findings, key=lambda f: (f.line, SEVERITY_RANK[f.severity])):
            command = {"error": "error", "warning": "warning"}.get(f.severity, "notice")
            title = _escape_prop(f"{f.rule} ({f.table})" if f.table else f.rule)
            body = _escape_data(f"{f.message}\nFix:\n{f.fix}")
            lines.append(f"::{command} {file_prop}line={f.line},title={title}::{body}")
    return "\n".join(lines) + ("\n" if lines else "")
