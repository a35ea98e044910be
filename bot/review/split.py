"""Statement splitting and line bookkeeping.

The splitter is used for MySQL and SQLite (sqlglot parses one statement at a time, so a bad
statement costs only itself) and as PostgreSQL's fallback when the whole-input parse fails.
It understands quotes, comments, PostgreSQL dollar quoting, MySQL `DELIMITER` and the
BEGIN...END bodies of triggers, which is all it needs to find statement boundaries.
"""

from __future__ import annotations

import bisect
import re

# psql meta-commands (\c, \connect, \set, \restrict...) are client-side: blank them, keep the lines.
_META = re.compile(r"(?m)^[ \t]*\\[^\n]*")
_HAS_META = re.compile(r"(?m)^[ \t]*\\")

# Whitespace and comments before a statement's first token.
LEADING = re.compile(rb"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)
_LEADING_STR = re.compile(r"(?:\s+|--[^\n]*|#[^\n]*|/\*.*?\*/)*", re.S)


def blank_meta_commands(text: str) -> str:
    if "\\" not in text or not _HAS_META.search(text):  # the substring test is a fast memchr
        return text
    return _META.sub("", text)


_COMMON = r"""
  (?P<lc>--[^\n]*)
| (?P<bc>/\*.*?(?:\*/|\Z))
| (?P<dq>"(?:[^"]|"")*(?:"|\Z))
| (?P<semi>;)
| (?P<kw>\b(?:BEGIN|END|CASE|TRIGGER)\b)
"""
_SOURCES = {
    "postgres": (
        _COMMON + r"""
| (?P<sq>[eE]'(?:[^'\\]|\\.|'')*(?:'|\Z)|'(?:[^']|'')*(?:'|\Z))
| (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$)
""", re.S | re.I | re.X),
    "mysql": (
        _COMMON + r"""
| (?P<hc>\#[^\n]*)
| (?P<sq>'(?:[^'\\]|\\.|'')*(?:'|\Z))
| (?P<bq>`(?:[^`]|``)*(?:`|\Z))
| (?P<delim>^[ \t]*DELIMITER[ \t]+(?P<newdelim>\S+)[^\n]*)
""", re.S | re.I | re.X | re.M),
    "sqlite": (
        _COMMON + r"""
| (?P<sq>'(?:[^']|'')*(?:'|\Z))
| (?P<bq>`(?:[^`]|``)*(?:`|\Z))
| (?P<br>\[[^\]]*(?:\]|\Z))
""", re.S | re.I | re.X),
}


_COMPILED: dict[str, re.Pattern] = {}


def _pattern(dialect: str) -> re.Pattern:
    """Compiled on first use: PostgreSQL input only needs this when the whole-input parse fails."""
    key = dialect if dialect in _SOURCES else "postgres"
    pat = _COMPILED.get(key)
    if pat is None:
        source, flags = _SOURCES[key]
        pat = _COMPILED[key] = re.compile(source, flags)
    return pat


def split_statements(text: str, dialect: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each statement: start at its first token, end before its delimiter."""
    pattern = _pattern(dialect)
    pieces: list[tuple[int, int]] = []
    start = 0
    depth = 0  # BEGIN/CASE ... END nesting inside a trigger body
    in_trigger = False
    pos = 0
    n = len(text)
    delimiter = ";"
    while pos < n:
        if delimiter != ";":
            # A custom MySQL delimiter: the body is not reviewed, so a plain search is enough.
            nxt = _next_delimiter_or_directive(text, pos, delimiter)
            if nxt is None:
                break
            kind, at, length, new = nxt
            if kind == "delim":
                _emit(text, start, at, pieces)
                delimiter = new or ";"
                start = pos = at + length
            else:
                _emit(text, start, at, pieces)
                start = pos = at + length
            continue
        m = pattern.search(text, pos)
        if m is None:
            break
        group = m.lastgroup
        pos = m.end()
        if group == "semi":
            if in_trigger and depth > 0:
                continue
            _emit(text, start, m.start(), pieces)
            start = pos
            in_trigger = False
            depth = 0
        elif group == "kw":
            word = m.group().upper()
            if word == "TRIGGER":
                in_trigger = True
            elif in_trigger and word in ("BEGIN", "CASE"):
                depth += 1
            elif in_trigger and word == "END":
                depth = max(0, depth - 1)
        elif group == "dollar":
            tag = m.group()
            close = text.find(tag, pos)
            pos = n if close < 0 else close + len(tag)
        elif group == "delim" or group == "newdelim":
            _emit(text, start, m.start(), pieces)
            delimiter = m.group("newdelim")
            start = pos
    _emit(text, start, n, pieces)
    return pieces


_DIRECTIVE = re.compile(r"(?im)^[ \t]*DELIMITER[ \t]+(\S+)[^\n]*")


def _next_delimiter_or_directive(text: str, pos: int, delimiter: str):
    at = text.find(delimiter, pos)
    d = _DIRECTIVE.search(text, pos)
    if d is not None and (at < 0 or d.start() < at):
        return ("delim", d.start(), d.end() - d.start(), d.group(1))
    if at < 0:
        return None
    return ("stmt", at, len(delimiter), None)


def _emit(text: str, start: int, end: int, pieces: list[tuple[int, int]]) -> None:
    m = _LEADING_STR.match(text, start, end)
    first = m.end() if m else start
    if first >= end:
        return
    last = end
    while last > first and text[last - 1].isspace():
        last -= 1
    pieces.append((first, last))


class LineIndex:
    """Byte offset -> 1-based line, with the newline table built once on first use."""

    __slots__ = ("buf", "_nl")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self._nl: list[int] | None = None

    def line(self, offset: int) -> int:
        if self._nl is None:
            self._nl = [m.start() for m in re.finditer(rb"\n", self.buf)]
        return bisect.bisect_left(self._nl, offset) + 1


def byte_offsets(text: str, char_offsets: list[int]) -> list[int]:
    """Convert sorted character offsets to UTF-8 byte offsets."""
    if text.isascii():
        return list(char_offsets)
    out = []
    prev_c = prev_b = 0
    for c in char_offsets:
        prev_b += len(text[prev_c:c].encode("utf-8"))
        prev_c = c
        out.append(prev_b)
    return out
