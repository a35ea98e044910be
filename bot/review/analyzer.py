"""The chat side of the review: recognise pasted DDL or migrations and review only the SQL.

`detect` looks for DDL at a statement start (a line start, after `;`, or inside a ```sql fence),
with the shape of real SQL (`CREATE TABLE name (`, `ALTER TABLE name ADD ...`), so prose that
merely mentions "create table" is not routed here. `analyze` reviews the fenced SQL blocks when
there are any (other lines are blanked, so line numbers still match the message), otherwise the
text from the first DDL statement on.
"""

from __future__ import annotations

import re
from typing import Any

from bot.analyzers import Analysis, Analyzer

from .report import SEVERITY_RANK

_IDENT = r"(?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:\"[^\"]+\"|`[^`]+`|[A-Za-z_][\w$]*))?"
_START = r"(?:^|;)[ \t]*"
_DDL = re.compile(
    _START + r"(?:"
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?" + _IDENT + r"\s*(?:\(|AS\b|PARTITION\s+OF\b|LIKE\b)"
    r"|ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?" + _IDENT +
    r"\s+(?:ADD|DROP|ALTER|RENAME|VALIDATE|SET|ATTACH|DETACH|MODIFY|CHANGE|OWNER|ENABLE|DISABLE)\b"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*?\bON\s+(?:ONLY\s+)?" + _IDENT +
    r"|DROP\s+(?:TABLE|INDEX)\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?" + _IDENT + r"\s*(?:;|,|$|CASCADE|RESTRICT|ON\b)"
    r"|RENAME\s+TABLE\s+" + _IDENT + r"\s+TO\b"
    r")",
    re.I | re.M,
)
_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
_SQL_LABELS = {"sql": None, "ddl": None, "postgres": "postgres", "postgresql": "postgres", "pgsql": "postgres",
               "psql": "postgres", "plpgsql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite",
               "sqlite3": "sqlite", "": None}


def extract_sql(text: str) -> tuple[str, str | None]:
    """The SQL to review, with non-SQL lines blanked (so line numbers match), and a dialect hint."""
    fences = [m for m in _FENCE.finditer(text) if m.group(2).lower() in _SQL_LABELS]
    fences = [m for m in fences if m.group(2) or _DDL.search(m.group(3))]
    if fences:
        hint = next((_SQL_LABELS[m.group(2).lower()] for m in fences if _SQL_LABELS[m.group(2).lower()]), None)
        keep: list[str] = []
        pos = 0
        for m in fences:
            keep.append(_blank(text[pos:m.start(3)]))
            keep.append(m.group(3))
            pos = m.end(3)
        keep.append(_blank(text[pos:]))
        return "".join(keep), hint
    first = _DDL.search(text)
    if first is None:
        return text, None
    start = first.start() if text[first.start()] != ";" else first.start() + 1
    last_semi = text.rfind(";")
    end = len(text)
    if last_semi >= start and not _DDL.search(text, last_semi + 1) and not re.match(r"\s*\S*\s*$", text[last_semi + 1:]):
        end = last_semi + 1  # prose after the last statement
    return _blank(text[:start]) + text[start:end] + _blank(text[end:]), None


def _blank(s: str) -> str:
    return "\n" * s.count("\n")


class SchemaReviewAnalyzer(Analyzer):
    name = "schema-review"

    def detect(self, text: str) -> bool:
        return bool(text) and _DDL.search(text) is not None

    def analyze(self, text: str, options: dict[str, Any] | None = None) -> Analysis:
        from . import ReviewInputError, report_markdown, review, summary_markdown

        options = options or {}
        sql, hint = extract_sql(text or "")
        dialect = options.get("dialect") or hint
        try:
            pg_version = int(options["pg_version"]) if options.get("pg_version") not in (None, "") else None
        except (TypeError, ValueError):
            return _failed(f"pg_version must be a PostgreSQL major version number, not {options.get('pg_version')!r}.")
        try:
            report = review(sql, dialect=dialect, schema=options.get("schema"), pg_version=pg_version)
        except ReviewInputError as exc:
            return _failed(str(exc))
        ranked = sorted(report.findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 3), f.line))
        notes: list[str] = []
        for f in ranked:
            if f.note not in notes:
                notes.append(f.note)
        return Analysis(
            analyzer=self.name,
            summary=summary_markdown(report),
            report=report_markdown(report),
            findings=[f.to_dict() for f in report.findings],
            notes=notes,
            problem_type="design",
        )


def _failed(message: str) -> Analysis:
    text = f"⚠️ I could not review this SQL: {message}"
    return Analysis(analyzer=SchemaReviewAnalyzer.name, summary=text, report=text, findings=[], notes=[],
                    problem_type="design")
