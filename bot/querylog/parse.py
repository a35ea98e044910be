"""Reads query logs into statements in execution order, whatever wrote them.

Formats: the PostgreSQL server log (log_min_duration_statement / log_statement, stderr prefix such as
`%m [%p] %q%u@%d`), Django's `django.db.backends` debug lines, SQLAlchemy echo output, Rails / ActiveRecord lines,
and plain SQL one statement per line. Parse and bind messages of the extended protocol are not executions and
are skipped; `DETAIL:  parameters:` lines attach to the execution they follow.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

FORMATS_READ = ("I read PostgreSQL server logs (log_min_duration_statement or log_statement), Django "
                "`django.db.backends` debug lines, SQLAlchemy echo output, Rails/ActiveRecord logs and plain SQL, "
                "one statement per line.")


@dataclass
class Statement:
    sql: str
    line: int
    duration_ms: float | None = None
    params: tuple[str, ...] = ()
    session: str = ""  # a backend pid, or "" when the log does not say
    unit: int = 0  # request / transaction number within the log
    at: float | None = None  # seconds, from the line's timestamp when there is one


@dataclass
class QueryLog:
    format: str  # "postgres", "django", "sqlalchemy", "rails", "sql"
    statements: list[Statement] = field(default_factory=list)
    lines: int = 0


class LogReadError(ValueError):
    pass


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PG = re.compile(r"\b(?P<level>LOG|DETAIL|STATEMENT|ERROR|WARNING|NOTICE|HINT|CONTEXT|FATAL):  (?P<msg>.*)$")
_PG_MSG = re.compile(r"^(?:duration: (?P<dur>\d+\.\d+) ms(?:  (?P<kind>statement|execute|parse|bind)"
                     r"(?: (?P<name>[^:]*))?: (?P<sql>.*))?|(?P<kind2>statement|execute)(?: (?P<name2>[^:]*))?: "
                     r"(?P<sql2>.*))$", re.S)
_PG_PID = re.compile(r"\[(\d+)\]")
_PG_TIME = re.compile(r"(\d\d):(\d\d):(\d\d(?:\.\d+)?)")
_PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
_DJANGO = re.compile(r"^\((?P<dur>\d+\.\d+)\) (?P<sql>.*?);? args=(?P<args>.*?)(?:; alias=\w+)?\s*$")
_SA_LINE = re.compile(r"^(?:(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) )?(?:INFO[: ]\s*)?"
                      r"sqlalchemy\.engine(?:\.base)?\.Engine[: ]\s?(?P<msg>.*)$")
_SA_PARAMS = re.compile(r"^\[(?:generated in [\d.]+s|cached since [\d.]+s ago|raw sql|no key [\d.]+s|"
                        r"dialect \S+ does not support caching[^\]]*|insertmanyvalues[^\]]*)\] ?(?P<params>.*)$")
_RAILS = re.compile(r"^(?:[DIWEF], \[[^\]]*\] +\w+ -- \w*: |\[[^\]]*\] )*\s*(?P<name>(?:CACHE )?(?:[A-Z][\w:]*(?: [A-Z][\w]*)?|SQL)) \((?P<dur>\d+\.\d+)ms\)\s+"
                    r"(?P<sql>(?:SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b.*?)"
                    r"(?:\s+(?P<binds>\[\[.*\]\]))?\s*$", re.I)
_RAILS_REQUEST = re.compile(r"^\s*(?:Started [A-Z]+ |Processing by )")
_PLAIN = re.compile(r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b.*;?\s*$", re.I)
_DDL = re.compile(r"^\s*(?:CREATE|ALTER|DROP)\s+(?:TABLE|INDEX|UNIQUE|VIEW|SCHEMA|TYPE)\b", re.I | re.M)
_BOUNDARY = re.compile(r"^\s*(?:BEGIN|START TRANSACTION|COMMIT|ROLLBACK|END)\b", re.I)


def sniff(text: str, limit: int = 400) -> str | None:
    """Which log format the text is in, from its first lines; None when it is none of them."""
    head = [_ANSI.sub("", ln) for ln in text.splitlines()[:limit] if ln.strip()]
    if not head:
        return None
    scores = {
        "postgres": sum(1 for ln in head if (m := _PG.search(ln)) and m.group("level") == "LOG"
                        and _PG_MSG.match(m.group("msg"))),
        "django": sum(1 for ln in head if _DJANGO.match(ln)),
        "sqlalchemy": sum(1 for ln in head if _SA_LINE.match(ln)),
        "rails": sum(1 for ln in head if _RAILS.match(ln)),
    }
    best = max(scores, key=lambda k: scores[k])
    if scores[best] >= 2:
        return best
    plain = sum(1 for ln in head if _PLAIN.match(ln))
    selects = sum(1 for ln in head if re.match(r"\s*(?:SELECT|WITH)\b", ln, re.I))
    # Plain SQL is a log only when it is mostly one-line queries: a migration or a seed file (DDL, INSERTs) is not.
    if plain >= 5 and plain >= 0.8 * len(head) and selects >= 0.5 * plain and not _DDL.search(text):
        return "sql"
    return None


def parse_log(text: str, fmt: str | None = None) -> QueryLog:
    fmt = fmt or sniff(text)
    if fmt is None:
        raise LogReadError("I found no statements I can read in it")
    lines = text.splitlines()
    reader = {"postgres": _postgres, "django": _django, "sqlalchemy": _sqlalchemy, "rails": _rails,
              "sql": _plain}[fmt]
    log = QueryLog(format=fmt, statements=reader(lines), lines=len(lines))
    if not log.statements:
        raise LogReadError(f"it looks like a {fmt} log but holds no statement I can read")
    return log


def _postgres(lines: list[str]) -> list[Statement]:
    out: list[Statement] = []
    last: dict[str, Statement] = {}  # per session: the execution a DETAIL/duration line belongs to
    skip_detail: set[str] = set()
    units: dict[str, int] = {}
    current: Statement | None = None
    for number, raw in enumerate(lines, start=1):
        if raw[:1] in ("\t", " ") and current is not None:  # continuation of a multi-line statement
            current.sql += "\n" + raw.strip()
            continue
        m = _PG.search(raw)
        if not m:
            current = None
            continue
        prefix = raw[: m.start()]
        pid = _PG_PID.search(prefix)
        session = pid.group(1) if pid else prefix.split(" ", 2)[-1]
        level, msg = m.group("level"), m.group("msg")
        current = None
        if level == "DETAIL":
            if msg.startswith("parameters: ") and session in last and session not in skip_detail:
                last[session].params = tuple(v for _, v in sorted(_PARAM.findall(msg), key=lambda p: int(p[0])))
            continue
        if level != "LOG" or not (pm := _PG_MSG.match(msg)):
            continue
        kind = pm.group("kind") or pm.group("kind2")
        sql = pm.group("sql") if pm.group("sql") is not None else pm.group("sql2")
        duration = float(pm.group("dur")) if pm.group("dur") else None
        if kind in ("parse", "bind"):
            skip_detail.add(session)
            continue
        skip_detail.discard(session)
        if sql is None:  # `duration: x ms` alone (log_duration): the time of the session's last statement
            if session in last and last[session].duration_ms is None:
                last[session].duration_ms = duration
            continue
        # The timestamp only matters when there is no duration (log_statement): then it gives the span.
        at = _seconds(prefix) if duration is None else None
        stmt = Statement(sql=sql, line=number, duration_ms=duration, session=session, at=at)
        if _BOUNDARY.match(sql):
            units[session] = units.get(session, 0) + 1
        stmt.unit = units.get(session, 0)
        out.append(stmt)
        last[session] = current = stmt
    return out


def _seconds(prefix: str) -> float | None:
    t = _PG_TIME.search(prefix)
    return int(t.group(1)) * 3600 + int(t.group(2)) * 60 + float(t.group(3)) if t else None


def _django(lines: list[str]) -> list[Statement]:
    out = []
    for number, raw in enumerate(lines, start=1):
        if m := _DJANGO.match(raw):
            out.append(Statement(sql=m.group("sql"), line=number, duration_ms=float(m.group("dur")) * 1000,
                                 params=_literal_tuple(m.group("args"))))
    return out


def _literal_tuple(args: str) -> tuple[str, ...]:
    try:
        value = ast.literal_eval(args)
    except (ValueError, SyntaxError):
        return (args,)
    return tuple(map(repr, value)) if isinstance(value, (tuple, list)) else (repr(value),)


def _sqlalchemy(lines: list[str]) -> list[Statement]:
    out: list[Statement] = []
    current: Statement | None = None
    unit = 0
    for number, raw in enumerate(lines, start=1):
        m = _SA_LINE.match(raw)
        if not m:
            if current is not None and raw.strip():
                current.sql += "\n" + raw.rstrip()
            continue
        msg = m.group("msg")
        if p := _SA_PARAMS.match(msg):
            if current is not None:
                current.params = (p.group("params").strip(),)
            current = None
            continue
        current = None
        if msg.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            unit += 1
            continue
        at = _sa_seconds(m.group("ts"))
        current = Statement(sql=msg, line=number, unit=unit, at=at)
        out.append(current)
    return out


def _sa_seconds(ts: str | None) -> float | None:
    if not ts:
        return None
    t = _PG_TIME.search(ts.replace(",", "."))
    return int(t.group(1)) * 3600 + int(t.group(2)) * 60 + float(t.group(3)) if t else None


def _rails(lines: list[str]) -> list[Statement]:
    out = []
    unit = 0
    for number, raw in enumerate(lines, start=1):
        line = _ANSI.sub("", raw)
        if _RAILS_REQUEST.match(line):
            unit += 1
            continue
        if m := _RAILS.match(line):
            if _BOUNDARY.match(m.group("sql")):
                continue
            out.append(Statement(sql=m.group("sql"), line=number, duration_ms=float(m.group("dur")),
                                 params=(m.group("binds"),) if m.group("binds") else (), unit=unit))
    return out


def _plain(lines: list[str]) -> list[Statement]:
    return [Statement(sql=raw.strip().rstrip(";"), line=number) for number, raw in enumerate(lines, start=1)
            if _PLAIN.match(raw)]


def looks_like_log_attempt(text: str) -> bool:
    """Log-shaped text (server-log levels, ORM logger names) even when no statement in it can be read."""
    return bool(re.search(r"^\S.*\b(?:LOG|STATEMENT):  ", text, re.M) and re.search(r"duration: |statement: ", text)
                or re.search(r"sqlalchemy\.engine", text) or re.search(r"django\.db\.backends", text))
