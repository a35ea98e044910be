"""Dialect detection, in-file directives, and each dialect's reserved words.

Auto-detection (when --dialect is not given): backticks, `ENGINE=` or `AUTO_INCREMENT` mean
mysql; `AUTOINCREMENT` or `WITHOUT ROWID` mean sqlite; anything else is postgres. Comments
and string literals are ignored, so prose in a comment cannot flip the dialect.
"""

from __future__ import annotations

import re

DIALECTS = ("postgres", "mysql", "sqlite")
ALIASES = {"postgresql": "postgres", "pg": "postgres", "psql": "postgres", "mariadb": "mysql", "sqlite3": "sqlite"}
DEFAULT_PG_VERSION = 16

# Compiled on first use: most PostgreSQL input never needs them, and compiling costs start-up time.
_SOURCES = {
    "noise": (r"--[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.|'')*'", re.S),
    "mysql": (r"`|\bENGINE\s*=|\bAUTO_INCREMENT\b", re.I),
    "sqlite": (r"\bAUTOINCREMENT\b|\bWITHOUT\s+ROWID\b|\)\s*STRICT\s*(?:;|,|$)", re.I | re.M),
    # Inline index definitions in CREATE TABLE (lowercased text; the leading comma keeps the scan fast).
    "inline_key": (r",\s*(?:unique\s+|fulltext\s+|spatial\s+)?(?:key|index)\s*(?:[\w`]+\s*)?\(\s*[a-z_`]", 0),
    "collate": (r"collate\s*=?\s*[`'\"]?utf8\w*", 0),
    "pg_version": (r"--\s*consultant:\s*pg-version\s*=\s*(\d+)", re.I),
}
_COMPILED: dict[str, re.Pattern] = {}
# MySQL-only words that PostgreSQL's parser may still accept as type names (tinyint, datetime...).
_MYSQL_WORDS = ("unsigned", "zerofill", "tinyint", "mediumint", "datetime", "tinytext", "mediumtext", "longtext",
                "charset", "double")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_$")
_MARKERS = ("`", "engine", "auto_increment", "autoincrement", "rowid", "strict")


def _re(name: str) -> re.Pattern:
    pat = _COMPILED.get(name)
    if pat is None:
        pat = _COMPILED[name] = re.compile(*_SOURCES[name])
    return pat


def normalize(dialect: str | None) -> str | None:
    if dialect is None:
        return None
    d = dialect.strip().lower()
    d = ALIASES.get(d, d)
    if d not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r} (expected one of: {', '.join(DIALECTS)})")
    return d


def detect(text: str) -> str:
    return detect_with_reason(text)[0]


def detect_with_reason(text: str) -> tuple[str, str | None]:
    """The dialect the input's own syntax shows, and why (None when nothing but PostgreSQL is seen).

    Plain substring tests decide first whether a regular expression needs to run at all: they are
    what keeps a 15,000-line PostgreSQL dump from paying for MySQL detection.
    """
    low = text.lower()
    if not any(h in low for h in _MARKERS[:6]) and _mysql_token(low) is None:
        return "postgres", None  # nothing even in comments or strings: no need to strip them
    code = _re("noise").sub(lambda m: "\n" * m.group().count("\n") or " ", text)
    lowc = code.lower()
    found = None
    if "`" in lowc or "engine" in lowc or "auto_increment" in lowc:
        found = _match("mysql", _re("mysql").search(code), code)
    if found is None and ("autoincrement" in lowc or "rowid" in lowc or "strict" in lowc):
        found = _match("sqlite", _re("sqlite").search(code), code)
    if found is None:
        found = _match("mysql", _mysql_token(lowc), code)
    return found or ("postgres", None)


def _mysql_token(low: str):
    """The first MySQL-only token in lowercased, comment-free text, as (start, end), or None."""
    best = None
    for word in _MYSQL_WORDS:
        at = low.find(word)
        while at >= 0 and (best is None or at < best[0]):
            end = at + len(word)
            if (at == 0 or low[at - 1] not in _WORD_CHARS) and (end == len(low) or low[end] not in _WORD_CHARS) \
                    and not (word == "double" and low[end:end + 20].lstrip().startswith("precision")):
                best = (at, end)
                break
            at = low.find(word, end)
    for name in ("collate", "inline_key"):
        m = _re(name).search(low, 0, best[0] if best else len(low))
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), m.end())
    return best


def _match(dialect: str, m, code: str) -> tuple[str, str] | None:
    if m is None:
        return None
    start, end = m if isinstance(m, tuple) else (m.start(), m.end())
    raw = code[start:end]
    body = raw.lstrip(", \t\r\n")
    token = " ".join(body.split("(")[0].split()) or body
    line = code.count("\n", 0, start + len(raw) - len(body)) + 1
    return dialect, f'detected {dialect}: "{token}" on line {line} is {_ENGINE[dialect]} syntax'


_ENGINE = {"postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}


def pg_version_directive(text: str) -> int | None:
    """`-- consultant: pg-version=N` anywhere in the input."""
    if "consultant" not in text:
        return None
    m = _re("pg_version").search(text)
    return int(m.group(1)) if m else None


# PostgreSQL: the reserved and type/function-name keyword categories (they need quoting as names).
PG_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc
distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral
leading limit localtime localtimestamp not null offset on only or order placing primary references returning
select session_user some symmetric system_user table then to trailing true union unique user using variadic
when where window with
authorization binary collation concurrently cross current_schema freeze full ilike inner is isnull join left
like natural notnull outer overlaps right similar tablesample verbose
""".split())

# MySQL 8.0 reserved words (the ones marked (R) in the manual).
MYSQL_RESERVED = frozenset("""
accessible add all alter analyze and as asc asensitive before between bigint binary blob both by call cascade
case change char character check collate column condition constraint continue convert create cross cube
cume_dist current_date current_time current_timestamp current_user cursor database databases day_hour
day_microsecond day_minute day_second dec decimal declare default delayed delete dense_rank desc describe
deterministic distinct distinctrow div double drop dual each else elseif empty enclosed escaped except exists
exit explain false fetch first_value float float4 float8 for force foreign from fulltext function generated get
grant group grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore in index
infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer intersect interval into
io_after_gtids io_before_gtids is iterate join json_table key keys kill lag last_value lateral lead leading
leave left like limit linear lines load localtime localtimestamp lock long longblob longtext loop low_priority
master_bind master_ssl_verify_server_cert match maxvalue mediumblob mediumint mediumtext middleint
minute_microsecond minute_second mod modifies natural not no_write_to_binlog nth_value ntile null numeric of on
optimize optimizer_costs option optionally or order out outer outfile over partition percent_rank precision
primary procedure purge range rank read reads read_write real recursive references regexp release rename
repeat replace require resignal restrict return revoke right rlike row row_number rows schema schemas
second_microsecond select sensitive separator set show signal smallint spatial specific sql sqlexception
sqlstate sqlwarning sql_big_result sql_calc_found_rows sql_small_result ssl starting stored straight_join
system table terminated then tinyblob tinyint tinytext to trailing trigger true undo union unique unlock
unsigned update usage use using utc_date utc_time utc_timestamp values varbinary varchar varcharacter varying
virtual when where while window with write xor year_month zerofill
""".split())

# SQLite keywords that cannot be used as bare identifiers (no parser fallback to ID).
SQLITE_RESERVED = frozenset("""
add all alter and as autoincrement between case check collate commit constraint create default deferrable
delete distinct drop else escape except exists foreign from group having in index insert intersect into is
isnull join limit not notnull null on or order primary references select set table then to transaction union
unique update using values when where
""".split())

RESERVED = {"postgres": PG_RESERVED, "mysql": MYSQL_RESERVED, "sqlite": SQLITE_RESERVED}
