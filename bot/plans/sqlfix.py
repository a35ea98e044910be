"""The SQL in the fixes, named after the team's own objects: index columns read from the plan's conditions, the
referencing side of a foreign key read from its constraint name."""

from __future__ import annotations

import re

# `(status = 'open'::text)`, `(o.created_at >= ...)`, `(customer_id = 7)`, `(payload ~~ '%ff%'::text)`
_COMPARISON = re.compile(
    r"\(?\b(?:(?P<qual>\w+)\.)?(?P<col>[a-z_][\w$]*)\)?(?:::\w+(?: \w+)*)?\s*"
    r"(?P<op>=|<>|!=|<=|>=|<|>|~~\*?|!~~\*?|IS NOT|IS|= ANY|@>|<@|&&)\s*(?P<rhs>\S)",
)
_KEYWORDS = {"and", "or", "not", "null", "true", "false", "any", "all", "text", "integer", "numeric", "bigint"}
EQUALITY = ("=", "= ANY", "IS")
RANGES = ("<", ">", "<=", ">=")


def predicate_columns(condition: str, alias: str | None = None) -> list[tuple[str, str]]:
    """Columns of this relation in a condition, with their use: "eq", "range", "like" or "other". Columns
    qualified with another alias (the other side of a join) are left out."""
    found: list[tuple[str, str]] = []
    for m in _COMPARISON.finditer(condition or ""):
        col, qual, op = m.group("col"), m.group("qual"), m.group("op")
        if col.lower() in _KEYWORDS or (qual and alias and qual != alias):
            continue
        kind = ("eq" if op in EQUALITY else "range" if op in RANGES else "like" if "~~" in op else "other")
        if not any(c == col for c, _ in found):
            found.append((col, kind))
    return found


def index_fix(table: str | None, columns: list[tuple[str, str]], condition: str = "") -> str:
    table = table or "<table>"
    if not columns:
        return f"CREATE INDEX CONCURRENTLY ON {table} (<filtered columns>);  -- equality columns first, then ranges"
    if all(kind == "like" for _, kind in columns) and "'%" in condition:
        col = columns[0][0]
        return ("CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
                f"CREATE INDEX CONCURRENTLY {table}_{col}_trgm_idx ON {table} USING gin ({col} gin_trgm_ops);"
                "  -- a LIKE with a leading % cannot use a B-tree")
    ordered = [c for c, k in columns if k == "eq"] + [c for c, k in columns if k == "range"] + \
              [c for c, k in columns if k not in ("eq", "range")]
    name = f"{table}_{'_'.join(ordered)}_idx"
    note = "  -- equality columns first, then range columns" if len(ordered) > 1 else ""
    return f"CREATE INDEX CONCURRENTLY {name} ON {table} ({', '.join(ordered)});{note}"


def statistics_fix(table: str | None, columns: list[str]) -> str:
    table = table or "<table>"
    if len(columns) >= 2:
        cols = ", ".join(columns[:8])
        return (f"CREATE STATISTICS {table}_{'_'.join(columns[:3])}_stats (dependencies, mcv) ON {cols} FROM {table};\n"
                f"ANALYZE {table};")
    if columns:
        return (f"ANALYZE {table};\n-- if the estimate stays off: ALTER TABLE {table} ALTER COLUMN {columns[0]} "
                f"SET STATISTICS 1000; ANALYZE {table};")
    return f"ANALYZE {table};"


def singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("ses", "xes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def fk_columns(constraint: str | None, referenced: str | None, schema_sql: str | None = None) -> tuple[str | None, str | None]:
    """The referencing table and column of a foreign key: from the schema when one is at hand, else from the
    default constraint name `<table>_<column>_fkey`, using the referenced table to tell where the column starts."""
    if not constraint:
        return None, None
    if schema_sql:
        found = _from_schema(constraint, schema_sql)
        if found:
            return found
    base = re.sub(r"_fkey\d*$", "", constraint)
    if base == constraint:
        return None, None
    if referenced:
        for stem in (singular(referenced), referenced):
            marker = f"_{stem}_id"
            if base.endswith(marker):
                return base[: -len(marker)], marker[1:]
    parts = base.split("_")
    if len(parts) >= 3 and parts[-1] == "id":
        return "_".join(parts[:-2]), "_".join(parts[-2:])
    if len(parts) >= 2:
        return "_".join(parts[:-1]), parts[-1]
    return None, None


def _from_schema(constraint: str, schema_sql: str) -> tuple[str, str] | None:
    named = re.search(rf"CONSTRAINT\s+\"?{re.escape(constraint)}\"?\s+(?:FOREIGN\s+KEY\s*\((?P<cols>[^)]+)\))?"
                      r"\s*REFERENCES", schema_sql, re.I)
    if not named:
        return None
    table = None
    for m in re.finditer(r"(?:CREATE\s+TABLE|ALTER\s+TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+|ONLY\s+)?(?:\w+\.)?\"?(\w+)\"?",
                         schema_sql[: named.start()], re.I):
        table = m.group(1)
    if named.group("cols"):
        column = named.group("cols").split(",")[0].strip().strip('"')
    else:  # an inline column constraint: `account_id int NOT NULL CONSTRAINT x_fkey REFERENCES ...`
        line = schema_sql[: named.start()].rsplit("\n", 1)[-1]
        column = (re.findall(r"(?:^|,|\()\s*\"?(\w+)\"?\s+\w+", line) or [None])[-1]
    return (table, column) if table and column else None
