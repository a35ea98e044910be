"""Small helpers to write the SQL of fixes: identifier quoting and generated object names."""

from __future__ import annotations

import functools
import re

from .dialect import RESERVED

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


@functools.lru_cache(maxsize=8192)
def q(name: str, dialect: str) -> str:
    """Quote an identifier only when it needs it."""
    if _PLAIN.match(name) and name not in RESERVED.get(dialect, ()):
        return name
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def qt(table, dialect: str) -> str:
    """A table reference (ir.TableName or model table name) as SQL."""
    schema = getattr(table, "schema", None)
    name = getattr(table, "name", table)
    if schema and schema not in ("public", "main"):
        return f"{q(schema, dialect)}.{q(name, dialect)}"
    return q(name, dialect)


def cols(columns, dialect: str) -> str:
    return ", ".join(q(c, dialect) for c in columns)


def object_name(table: str, columns, suffix: str) -> str:
    """PostgreSQL-style generated names (orders_customer_id_idx), kept under 63 bytes."""
    name = "_".join([table] + [c for c in columns if c] + [suffix])
    name = re.sub(r"[^A-Za-z0-9_]+", "_", name).lower()
    if len(name) > 63:
        name = name[: 63 - len(suffix) - 1].rstrip("_") + "_" + suffix
    return name


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=4096)
def plurals(word: str) -> tuple[str, ...]:
    out = [word, word + "s"]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        out.append(word + "es")
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        out.append(word[:-1] + "ies")
    irregular = {"person": "people", "child": "children", "man": "men", "woman": "women", "status": "statuses"}
    if word in irregular:
        out.append(irregular[word])
    return tuple(out)
