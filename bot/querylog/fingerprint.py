"""Statement fingerprints: the same query shape with different constants gets the same fingerprint.

PostgreSQL SQL goes through libpg_query's fingerprint (pglast); what it cannot parse (ORM placeholders such as
`%(name)s`, MySQL syntax, cut-off statements) gets a normalising fallback. A cheap normalisation runs first and
keys a cache, so a log of 50,000 statements costs one parse per distinct shape, not one per line.
"""

from __future__ import annotations

import hashlib
import re

_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\?|(?<!:):\w+\b|\$\d+")
# String literals, placeholders and numbers, in one pass.
_CONSTANT = re.compile(r"'(?:[^']|'')*'|%\(\w+\)s|%s|\?|(?<!:):\w+\b|\$\d+|(?<![\w$.])-?\d+(?:\.\d+)?(?![\w.])")
_IN_LIST = re.compile(r"\(\s*(?:\?\s*,\s*)+\?\s*\)")
_SPACE = re.compile(r"\s+")
_SKIP = re.compile(r"^\s*(?:BEGIN|COMMIT|ROLLBACK|END|START TRANSACTION|SAVEPOINT|RELEASE|SET|SHOW|RESET|DISCARD|"
                   r"DEALLOCATE)\b", re.I)

_cache: dict[str, str] = {}
_by_text: dict[str, str] = {}


def shape(sql: str) -> str:
    """The statement with constants and placeholders replaced by `?`, IN lists collapsed, spaces squeezed."""
    text = _CONSTANT.sub("?", sql)
    text = _IN_LIST.sub("(?)", text)
    return _SPACE.sub(" ", text).strip().rstrip(";").strip()


def fingerprint(sql: str) -> str:
    if (known := _by_text.get(sql)) is not None:  # ORM and prepared statements repeat verbatim
        return known
    key = shape(sql)
    found = _cache.get(key)
    if found is None:
        found = _pg_fingerprint(sql, key)
        if len(_cache) < 50_000:
            _cache[key] = found
    if len(_by_text) < 50_000:
        _by_text[sql] = found
    return found


def _pg_fingerprint(sql: str, key: str) -> str:
    from pglast import parser

    # ORM placeholders are not SQL; the cheap shape (`?`) is not either, so put positional parameters back.
    candidate = _PLACEHOLDER.sub("$1", sql)
    try:
        return parser.fingerprint(candidate)
    except Exception:  # noqa: BLE001 - pglast raises its own ParseError and others on odd input
        return "n" + hashlib.blake2b(key.lower().encode(), digest_size=8).hexdigest()[1:]


def is_control(sql: str) -> bool:
    """Transaction control and session settings: not queries an N+1 or a cache could be about."""
    return _SKIP.match(sql) is not None


_TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO|JOIN)\s+(?:ONLY\s+)?((?:\"?\w+\"?\.)?\"?\w+\"?)", re.I)
_WHERE_COL = re.compile(r"\bWHERE\s+\(?\s*(?:\"?\w+\"?\.)?\"?(\w+)\"?\s*(?:=|IN\b)", re.I)
_WHERE_COL_REVERSED = re.compile(r"\bWHERE\s+\(?\s*(?:%\(\w+\)s|\$\d+|\?|%s)(?:::\w+)?\s*=\s*(?:\"?\w+\"?\.)?\"?(\w+)\"?",
                                 re.I)


def first_table(sql: str) -> str | None:
    m = _TABLE.search(sql)
    return m.group(1).replace('"', "").split(".")[-1] if m else None


def tables_in(sql: str) -> list[str]:
    return [m.replace('"', "").split(".")[-1] for m in _TABLE.findall(sql)]


def where_column(sql: str) -> str | None:
    m = _WHERE_COL.search(sql) or _WHERE_COL_REVERSED.search(sql)
    return m.group(1) if m else None
