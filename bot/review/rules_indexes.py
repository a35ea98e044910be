"""Index and foreign-key rules: fk-missing-index, fk-type-mismatch and redundant-index.

A foreign key is served by any non-partial index (or PK / UNIQUE constraint) whose leading columns
are exactly its columns, in any order. An index is redundant when another index on the table has the
same method and starts with the same columns (same order, direction and operator class); a unique
index, or one that backs a constraint, is never the redundant one of a pair.
"""

from __future__ import annotations

from .ir import FLOAT_TYPES, INTEGER_TYPES, TEXT_TYPES
from .model import Schema, Table
from .sqltext import cols, object_name, q, qt


def _covering_keys(t: Table) -> list[tuple]:
    """Leading-column lists of everything that can serve a foreign-key lookup."""
    keys = []
    if t.pk is not None:
        keys.append(tuple(c.lower() for c in t.pk.columns))
    for u in t.uniques():
        keys.append(tuple(c.lower() for c in u.columns))
    for i in t.indexes:
        if i.where is None:
            lead = []
            for c in i.columns:
                if c is None:
                    break
                lead.append(c.lower())
            keys.append(tuple(lead))
    return keys


def fk_rules(t: Table, model: Schema, ctx) -> None:
    d = model.dialect
    fks = t.fks()
    if not fks:
        return
    covering = _covering_keys(t) if d != "mysql" else []
    prefixes = {frozenset(k[:n]) for k in covering for n in range(1, len(k) + 1)}
    tq = qt(t.name, d)
    for fk in fks:
        fk_cols = tuple(c.lower() for c in fk.columns)
        if d != "mysql" and fk_cols and frozenset(fk_cols) not in prefixes:
            origin = fk.origin
            stub_ok = t.kind != "stub" or all(
                t.column(c) is not None and ctx.is_input(t.column(c).origin) for c in fk.columns)
            if ctx.is_input(origin) and stub_ok:
                idx = object_name(t.name.name, fk.columns, "idx")
                conc = " CONCURRENTLY" if d == "postgres" and not ctx.created_in_input(t) else ""
                ref = fk.ref_table.name if fk.ref_table is not None else "?"
                ctx.emit("fk-missing-index", origin, t.name.name, ", ".join(fk.columns), fk.name,
                         f"Foreign key {t.name.name}({', '.join(fk.columns)}) -> {ref} has no index "
                         f"starting with its columns.",
                         f"CREATE INDEX{conc} {idx} ON {tq} ({cols(fk.columns, d)});")
        _type_mismatch(t, fk, model, ctx, d, tq)


def type_family(col_type, d: str) -> tuple:
    base = col_type.base
    if d == "sqlite":
        raw = base.upper()
        if "INT" in raw:
            return ("integer",)
        if any(x in raw for x in ("CHAR", "CLOB", "TEXT")):
            return ("text",)
        if any(x in raw for x in ("REAL", "FLOA", "DOUB")):
            return ("real",)
        return ("numeric", raw)
    if base in TEXT_TYPES and base != "bpchar":
        return ("text", col_type.array)
    if base in INTEGER_TYPES or base in FLOAT_TYPES:
        return (base, col_type.unsigned, col_type.array)
    return (base, col_type.mods, col_type.unsigned, col_type.array)


def _type_mismatch(t: Table, fk, model: Schema, ctx, d: str, tq: str) -> None:
    ref = model.table(fk.ref_table)
    if ref is None:
        return
    ref_cols = fk.ref_columns or (ref.pk.columns if ref.pk else ())
    for c, rc in zip(fk.columns, ref_cols):
        col, rcol = t.column(c), ref.column(rc)
        if col is None or rcol is None:
            continue
        if type_family(col.type, d) == type_family(rcol.type, d):
            continue
        origin = fk.origin if ctx.is_input(fk.origin) else col.type_origin
        if not ctx.is_input(origin):
            return
        want = rcol.type.display().replace("serial", "integer").replace("biginteger", "bigint")
        if rcol.type.serial:
            want = {"int2": "smallint", "int4": "integer", "int8": "bigint"}.get(rcol.type.base, want)
        if d == "mysql":
            fix = f"ALTER TABLE {tq} MODIFY {q(col.name, d)} {want.upper()}{' NOT NULL' if col.not_null else ''};"
        elif d == "sqlite":
            fix = f"-- recreate {tq} with {q(col.name, d)} {want}"
        else:
            fix = f"ALTER TABLE {tq} ALTER COLUMN {q(col.name, d)} TYPE {want};"
        ctx.emit("fk-type-mismatch", origin, t.name.name, col.name, fk.name,
                 f"{t.name.name}.{col.name} is {col.type.display()} but references "
                 f"{ref.name.name}.{rcol.name} of type {rcol.type.display()}.", fix)
        return


def redundant_indexes(t: Table, ctx) -> None:
    indexes = t.indexes
    if not indexes or not any(ctx.is_input(i.origin) for i in indexes):
        return
    if len(indexes) < 2 and t.pk is None and not t.constraints:
        return
    firsts = [i.elems[0].lower() for i in indexes if i.elems]
    if t.pk is not None and t.pk.columns:
        firsts.append(t.pk.columns[0].lower())
    firsts.extend(u.columns[0].lower() for u in t.constraints if u.kind == "unique" and u.columns)
    if len(set(firsts)) == len(firsts):
        return  # no two indexes start with the same column: nothing can be redundant
    d = ctx.dialect
    # (elems, unique, method, where, include, enforces a constraint, position, name)
    others = []
    if t.pk is not None:
        others.append((tuple(c.lower() for c in t.pk.columns), True, "btree", None, (), True, -1, t.pk.name))
    for u in t.constraints:
        if u.kind == "unique":
            others.append((tuple(c.lower() for c in u.columns), True, "btree", None, (), True, -1, u.name))
    lowered = [tuple(e.lower() for e in i.elems) for i in indexes]
    for pos, i in enumerate(indexes):
        others.append((lowered[pos], i.unique, i.method, i.where, i.include, bool(i.constraint), pos, i.name))
    by_first: dict[str, list] = {}
    for o in others:
        if o[0]:
            by_first.setdefault(o[0][0], []).append(o)
    for pos, a in enumerate(indexes):
        if a.constraint or not a.name or not ctx.is_input(a.origin):
            continue
        a_elems = lowered[pos]
        n = len(a_elems)
        candidates = by_first.get(a_elems[0], ()) if a_elems else ()
        if len(candidates) < 2:
            continue
        for b_elems, b_unique, b_method, b_where, b_include, b_con, b_pos, b_name in candidates:
            if b_pos == pos or b_method != a.method or len(b_elems) < n or b_elems[:n] != a_elems:
                continue
            if len(b_elems) == n:
                if a.where != b_where or not set(a.include) <= set(b_include):
                    continue
                # Exact duplicate: the later one (or the non-unique one) is redundant.
                if a.unique and not b_unique:
                    continue
                if not b_con and b_pos > pos and b_unique == a.unique:
                    continue
                reason = f"duplicates {b_name or 'the primary key'}"
            elif a.where is None and b_where is None and not a.unique and not a.include and a.method == "btree":
                reason = f"is a leading prefix of {b_name or 'the primary key'} ({', '.join(b_elems)})"
            else:
                continue
            if d == "postgres":
                fix = f"DROP INDEX CONCURRENTLY {q(a.name, d)};"
            elif d == "mysql":
                fix = f"DROP INDEX {q(a.name, d)} ON {qt(t.name, d)};"
            else:
                fix = f"DROP INDEX {q(a.name, d)};"
            ctx.emit("redundant-index", a.origin, t.name.name, None, a.name,
                     f"Index {a.name} on {t.name.name} ({', '.join(a.elems)}) {reason}.", fix)
            break
