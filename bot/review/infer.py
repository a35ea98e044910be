"""Dialect inference that tries rather than guesses.

When no --dialect is given and the input shows no MySQL or SQLite syntax, it is parsed as
PostgreSQL. If PostgreSQL's parser rejects statements at a word (not at punctuation or at the
end of a truncated statement, which are typos), each rejected statement is handed to
sqlglot as MySQL, then as SQLite: a dialect that reads at least one of them as a reviewable
statement and fails on none becomes the input's dialect, when reviewing the whole input in it
leaves fewer unread statements. Otherwise that dialect is only suggested (`--dialect` forces it).
"""

from __future__ import annotations

import re

from . import ir

CANDIDATES = ("mysql", "sqlite")
_NEAR = re.compile(r'at or near "([^"]*)"')


class Inference:
    __slots__ = ("dialect", "reason", "results", "suggested")

    def __init__(self, dialect: str | None = None, reason: str | None = None,
                 results: list[ir.ParseResult] | None = None, suggested: str | None = None) -> None:
        self.dialect = dialect
        self.reason = reason
        self.results = results
        self.suggested = suggested


def retry(sources: list[str | None], results: list[ir.ParseResult]) -> Inference:
    """Try the other dialects on what PostgreSQL could not parse. `sources[i]` is the text of `results[i]`."""
    from .parse_sqlglot import parse as parse_other

    failures = [f for r in results[1:] + results[:1] for f in r.errors]  # the reviewed inputs first
    # Only a word PostgreSQL stumbles on can be another dialect's syntax; a stray comma or a statement cut
    # short ("at end of input") is a typo that sqlglot's lenient parsers would wave through.
    failures = [f for f in failures if _word_near(f.message)]
    if not failures:
        return Inference()
    unread = len(failures)
    suggested = None
    for candidate in CANDIDATES:
        read_any = False
        failed = False
        for f in failures:
            if not f.sql:
                continue
            attempt = parse_other(f.sql, candidate)
            if attempt.errors:
                failed = True
                break
            read_any = read_any or bool(attempt.stmts)
        if not read_any:
            continue
        suggested = suggested or candidate
        if failed:
            continue
        redone = [parse_other(s, candidate) if s is not None else ir.ParseResult([], [], 0, b"") for s in sources]
        if sum(len(r.errors) for r in redone) < unread:
            first = failures[0]
            return Inference(candidate, f'detected {candidate}: PostgreSQL cannot parse "{_word_near(first.message)}" '
                                        f"on line {first.line}", redone)
    return Inference(suggested=suggested)


def _word_near(message: str) -> str | None:
    m = _NEAR.search(message)
    return m.group(1) if m and re.match(r"[^\W\d]", m.group(1)) else None
