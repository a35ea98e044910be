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
# A statement starts a line, follows a `;`, or follows the question it is pasted with ("review this? CREATE ...").
_START = r"(?:^|;|[?:]\s+)[ \t]*"
_DDL = re.compile(
    _START + r"(?P<stmt>"
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?" + _IDENT + r"\s*(?:\(|AS\b|PARTITION\s+OF\b|LIKE\b)"
    r"|ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?" + _IDENT +
    r"\s+(?:ADD|DROP|ALTER|RENAME|VALIDATE|SET|ATTACH|DETACH|MODIFY|CHANGE|OWNER|ENABLE|DISABLE)\b"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*?\bON\s+(?:ONLY\s+)?" + _IDENT +
    r"|DROP\s+(?:TABLE|INDEX)\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?" + _IDENT + r"\s*(?:;|,|$|CASCADE|RESTRICT|ON\b)"
    r"|RENAME\s+TABLE\s+" + _IDENT + r"\s+TO\b"
    r"|TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?" + _IDENT + r"[^;]*?\b(?:CASCADE|RESTRICT|RESTART|CONTINUE|;|$)"
    r"|(?:CREATE|ALTER)\s+DOMAIN\s+" + _IDENT + r"\b"
    r"|DROP\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+EXISTS\s+)?" + _IDENT + r"\s*(?:;|$|CASCADE|RESTRICT|WITH\b)"
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
    start = first.start("stmt")
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
        from .dialect import pg_version_directive

        options = options or {}
        command = options.get("command") or "/schema-review"
        sql, hint = extract_sql(text or "")
        forced = options.get("dialect")
        dialect = forced or hint
        try:
            pg_version = int(options["pg_version"]) if options.get("pg_version") not in (None, "") else None
        except (TypeError, ValueError):
            return _failed(f"pg_version must be a PostgreSQL major version number, not {options.get('pg_version')!r}.")
        try:
            report = review(sql, dialect=dialect, schema=options.get("schema"),
                            pg_version=pg_version if pg_version is not None else pg_version_directive(text or ""))
        except ReviewInputError as exc:
            return _failed(str(exc))
        ranked = sorted(report.findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 3), f.line))
        notes: list[str] = []
        for f in ranked:
            if f.note not in notes:
                notes.append(f.note)
        facts = {"database": _ENGINE[report.dialect]}
        version = pg_version or pg_version_directive(text or "")
        if report.dialect == "postgres" and version is not None:
            facts["database_version"] = str(version)
        summary = summary_markdown(report)
        full = report_markdown(report)
        if report.errors:
            # Said first, in both renderings: whichever the surface shows, the reader learns it was not all read.
            headline = unreadable_summary(report, command, sql if forced else None)
            summary = headline + "\n\n" + summary
            full = headline + "\n\n" + full
        elif report.detected:
            note = f"\n\n_{report.detected}; to force another dialect: `{command} --dialect postgres|mysql|sqlite …`._"
            summary += note
            full += note
        return Analysis(
            analyzer=self.name,
            summary=summary,
            report=full,
            findings=[f.to_dict() for f in report.findings],
            notes=notes,
            problem_type="design",
            evidence="ddl",
            tables=tables_in(sql),
            facts=facts,
            unreadable=bool(report.errors),
        )


_ENGINE = {"postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}
_TABLE = re.compile(
    r"\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE"
    r"(?:\s+IF\s+NOT\s+EXISTS)?|ALTER\s+TABLE(?:\s+IF\s+EXISTS)?(?:\s+ONLY)?|RENAME\s+TABLE"
    r"|\bON(?:\s+ONLY)?(?=\s+[\w\"`]+\s*\())\s+(" + _IDENT + r")",
    re.I,
)


def tables_in(sql: str) -> list[str]:
    """Table names the SQL creates, alters or indexes, in order of first mention, unquoted."""
    out: list[str] = []
    for m in _TABLE.finditer(sql):
        name = m.group(1).split(".")[-1].strip().strip('"`[]')
        if name and name not in out:
            out.append(name)
    return out


def unreadable_summary(report, command: str, forced_sql: str | None = None) -> str:
    """What could not be read, said first: the line, the parser's message, and how to force the dialect."""
    if report.empty:
        return (f"⚠️ **I could not review this: I found no SQL statement in it.** Paste the DDL or migration after "
                f"`{command}`, for example `{command} CREATE TABLE orders (…);`.")
    line, message = report.errors[0]
    more = len(report.errors) - 1
    also = f" ({more} more statement{'s' if more != 1 else ''} could not be read either.)" if more else ""
    head = (f"⚠️ **I could not read all of this SQL, so the review below is incomplete.** Line {line}: "
            f"{message}.{also}")
    if forced_sql is not None:
        from .dialect import detect_with_reason

        seen, why = detect_with_reason(forced_sql)
        if seen != report.dialect and why:
            return head + (f" I parsed it as {_ENGINE[report.dialect]}, as asked, but {why.split(': ', 1)[1]}: "
                           f"try `{command} --dialect {seen} …`.")
        return head + f" I parsed it as {_ENGINE[report.dialect]}, as asked."
    if report.suggested:
        d = report.suggested
        return head + (f" It looks like {_ENGINE[d]}: force it with `{command} --dialect {d} …` "
                       f"(the DDL after the flag).")
    if report.detected:
        return head + f" ({report.detected}; force another with `{command} --dialect postgres|mysql|sqlite …`.)"
    return head + (f" I read it as {_ENGINE[report.dialect]}; if it is MySQL or SQLite, force that with "
                   f"`{command} --dialect mysql …` or `{command} --dialect sqlite …`.")


def _failed(message: str) -> Analysis:
    text = f"⚠️ I could not review this SQL: {message}"
    return Analysis(analyzer=SchemaReviewAnalyzer.name, summary=text, report=text, findings=[], notes=[],
                    problem_type="design", evidence="ddl", unreadable=True)
