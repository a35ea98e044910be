"""Design rules, evaluated once on the final schema model.

Each finding is attributed to the statement that introduced the problem (the CREATE TABLE,
the ADD COLUMN, the ADD CONSTRAINT, the CREATE INDEX); the engine drops those whose origin
is the --schema input. Views, partitions (their parent carries the findings), temporary
tables and CREATE TABLE AS are skipped. Tables only known through ALTERs ("stub" tables of a
migration reviewed without --schema) get the column-level rules only.
"""

from __future__ import annotations

import re

from .dialect import RESERVED
from .ir import FLOAT_TYPES, INTEGER_TYPES, TEXT_TYPES, TableName
from .model import Schema, Table
from .rules_indexes import fk_rules, redundant_indexes, type_family
from .sqltext import cols, object_name, plurals, q, qt, singular

MONEY_WORDS = frozenset((
    "price", "prices", "amount", "amounts", "total", "totals", "subtotal", "cost", "costs", "balance", "fee",
    "fees", "tax", "taxes", "salary", "wage", "wages", "payment", "payments", "charge", "charges", "discount",
    "revenue", "refund", "income", "spend", "budget", "commission", "tip", "fare", "payout", "earnings",
    "credit", "debit", "money", "cents", "msrp", "rental", "replacement",
))
_MONEY_EXCLUDE = re.compile(r"(^|_)(rate|ratio|percent|percentage|pct|count|qty|quantity|weight|score)(_|$)")
ATTR_NAMES = frozenset(("attribute", "attribute_name", "attr", "attr_name", "key", "name", "property",
                        "property_name", "field", "field_name", "meta_key", "param", "parameter", "setting",
                        "option_name", "attribute_key"))
VALUE_NAMES = frozenset(("value", "attribute_value", "attr_value", "val", "meta_value", "property_value",
                         "field_value", "setting_value", "option_value", "value_text", "string_value", "text_value"))
_BOOKKEEPING = frozenset(("id", "created_at", "updated_at", "created_on", "updated_on", "deleted_at", "lock_version"))


def run(model: Schema, ctx) -> None:
    d = model.dialect
    reserved = RESERVED[d]
    for t in list(model.tables.values()):
        if t.kind == "matview" or t.temp or t.partition_of or t.as_select:
            continue
        full = t.kind == "table"
        if full:
            _table_rules(t, model, ctx, reserved)
        _column_rules(t, model, ctx, reserved)
        fk_rules(t, model, ctx)
        redundant_indexes(t, ctx)


# --- table level -------------------------------------------------------------------------


def _table_rules(t: Table, model: Schema, ctx, reserved) -> None:
    d = model.dialect
    name = t.name.name
    tq = qt(t.name, d)
    if name.lower() in reserved:
        new = name.lower() + "s"
        ctx.emit("reserved-word-identifier", t.origin, name, None, None,
                 f"Table name {name!r} is a reserved word in {d}.",
                 f"ALTER TABLE {tq} RENAME TO {q(new, d)};" if d != "mysql" else f"RENAME TABLE {tq} TO {new};")
    if t.pk is None:
        ctx.emit("no-primary-key", t.origin, name, None, None, f"Table {name} has no primary key.",
                 _pk_fix(t, d, tq))
    if len(t.columns) > 50:
        ctx.emit("wide-table", t.origin, name, None, None,
                 f"Table {name} has {len(t.columns)} columns.",
                 f"-- move optional or rarely used column groups to a 1:1 side table\n"
                 f"CREATE TABLE {q(name + '_details', d)} (\n"
                 f"  {q(singular(name) + '_id', d)} bigint PRIMARY KEY REFERENCES {tq} ({_pk_col(t, d)})\n"
                 f"  -- , the moved columns\n);")
    _eav(t, ctx, d, tq)
    if t.pk is not None and len(t.pk.columns) == 1:
        col = t.column(t.pk.columns[0])
        if col is None:
            return
        origin = col.type_origin if ctx.is_input(col.type_origin) else t.pk.origin
        cq = q(col.name, d)
        if col.type.base in ("int2", "int4") and d != "sqlite":
            refs = _referencing(model, t, col.name)
            tail = "".join(f"\nALTER TABLE {qt(r.name, d)} ALTER COLUMN {q(c, d)} TYPE bigint;" for r, c in refs)
            if d == "mysql":
                fix = f"ALTER TABLE {tq} MODIFY {cq} BIGINT UNSIGNED NOT NULL AUTO_INCREMENT;"
                tail = "".join(f"\nALTER TABLE {qt(r.name, d)} MODIFY {q(c, d)} BIGINT UNSIGNED;" for r, c in refs)
            elif ctx.created_in_input(t):
                fix = f"-- in CREATE TABLE {tq}:\n{cq} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
                tail = "".join(f"\n-- and declare {r.name.name}.{c} bigint" for r, c in refs)
            else:
                fix = (f"-- rewrites the table: on a large table, add a bigint column, backfill it and swap instead\n"
                       f"ALTER TABLE {tq} ALTER COLUMN {cq} TYPE bigint;")
            size = "32-bit" if col.type.base == "int4" else "16-bit (at most 32,767)"
            ctx.emit("int-primary-key", origin, name, col.name, t.pk.name,
                     f"Primary key {name}.{col.name} is a {size} {col.type.display()}.", fix + tail)
        if d == "postgres" and ctx.pg_version >= 10 and col.serial_like and not col.identity:
            seq = f"{name}_{col.name}_seq"
            bigint = {"int2": "smallint", "int4": "bigint", "int8": "bigint"}.get(col.type.base, col.type.display())
            if ctx.created_in_input(t):
                fix = f"-- in CREATE TABLE {tq}:\n{cq} {bigint} GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            else:
                fix = (f"BEGIN;\nALTER TABLE {tq} ALTER COLUMN {cq} DROP DEFAULT;\nDROP SEQUENCE {q(seq, d)};\n"
                       f"ALTER TABLE {tq} ALTER COLUMN {cq} ADD GENERATED BY DEFAULT AS IDENTITY;\n"
                       f"SELECT setval(pg_get_serial_sequence('{tq}', '{col.name}'), "
                       f"(SELECT coalesce(max({cq}), 1) FROM {tq}));\nCOMMIT;")
            ctx.emit("serial-primary-key", origin, name, col.name, t.pk.name,
                     f"Primary key {name}.{col.name} uses serial (a sequence default) instead of an identity column.",
                     fix)


def _pk_col(t: Table, d: str) -> str:
    if t.pk is not None and len(t.pk.columns) == 1:
        return q(t.pk.columns[0], d)
    return "id"


def _pk_fix(t: Table, d: str, tq: str) -> str:
    # A natural key: a unique constraint over NOT NULL columns, or the two foreign keys of a join table.
    for u in t.uniques():
        if u.columns and all((t.column(c) is not None and t.column(c).not_null) for c in u.columns):
            return f"ALTER TABLE {tq} ADD PRIMARY KEY ({cols(u.columns, d)});"
    for i in t.indexes:
        if (i.unique and i.where is None and i.name and all(i.columns)
                and all(t.column(c) is not None and t.column(c).not_null for c in i.columns)):
            if d == "postgres":
                return f"ALTER TABLE {tq} ADD CONSTRAINT {q(t.name.name + '_pkey', d)} PRIMARY KEY USING INDEX {q(i.name, d)};"
            return f"ALTER TABLE {tq} ADD PRIMARY KEY ({cols(i.columns, d)});"
    fks = t.fks()
    if len(fks) == 2 and len(t.columns) <= 4:
        keys = [c for fk in fks for c in fk.columns]
        return f"ALTER TABLE {tq} ADD PRIMARY KEY ({cols(keys, d)});"
    if d == "mysql":
        return f"ALTER TABLE {tq} ADD COLUMN id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;"
    if d == "sqlite":
        return (f"-- SQLite cannot add a primary key in place: recreate the table with\n"
                f"--   id INTEGER PRIMARY KEY\n-- then INSERT INTO new SELECT ... FROM {tq}; and rename.")
    return f"ALTER TABLE {tq} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"


def _referencing(model: Schema, t: Table, column: str) -> list:
    out = []
    for other in model.tables.values():
        for fk in other.fks():
            if fk.ref_table is not None and fk.ref_table.key == t.name.key:
                refcols = fk.ref_columns or (t.pk.columns if t.pk else ())
                for c, rc in zip(fk.columns, refcols):
                    if rc.lower() == column.lower():
                        out.append((other, c))
    return out


def _eav(t: Table, ctx, d: str, tq: str) -> None:
    names = set(t.columns)
    attr = names & ATTR_NAMES
    value = names & VALUE_NAMES
    if not attr or not value:
        return
    pk_cols = {c.lower() for c in t.pk.columns} if t.pk else set()
    refs = [n for n in t.columns if n.endswith("_id") and n not in pk_cols]
    pk_refs = [n for n in t.columns if n.endswith("_id") and n in pk_cols and len(pk_cols) > 1]
    if not refs and not pk_refs:
        return
    attr_col = sorted(attr)[0]
    value_col = sorted(value)[0]
    # An EAV table is narrow: references, the name, the value, and at most one more (a value type, a flag).
    payload = names - _BOOKKEEPING - set(refs) - set(pk_refs) - {attr_col, value_col} - {"deleted_at"}
    if len(payload) > 1:
        return
    fk_cols = [c.lower() for fk in t.fks() for c in fk.columns]
    entity = next((c for c in refs + pk_refs if c in fk_cols and not c.startswith("parent_")),
                  next((c for c in refs + pk_refs if not c.startswith(("parent_", "organization_"))),
                       (refs + pk_refs)[0]))
    owner = entity[:-3]
    json_type = "jsonb" if d == "postgres" else "JSON"
    default = " NOT NULL DEFAULT '{}'" if d == "postgres" else ""
    ctx.emit("eav-table", t.origin, t.name.name, None, None,
             f"Table {t.name.name} stores ({entity}, {attr_col}, {value_col}) rows: an entity-attribute-value design.",
             f"-- known attributes become typed columns on the owner, the open-ended rest a {json_type} document:\n"
             f"ALTER TABLE {q(plurals(owner)[1], d)} ADD COLUMN attributes {json_type}{default};\n"
             f"-- then migrate: one {attr_col}/{value_col} row per key of attributes, and drop {tq}")


# --- column level ------------------------------------------------------------------------


def _column_rules(t: Table, model: Schema, ctx, reserved) -> None:
    d = model.dialect
    tname = t.name.name
    tq = qt(t.name, d)
    new = ctx.created_in_input(t)
    fk_cols = {c.lower() for fk in t.fks() for c in fk.columns}
    if t.partitioned:  # foreign keys declared on the partitions count for the parent
        fk_cols |= {c.lower() for p in model.tables.values() if p.partition_of == t.name.key
                    for fk in p.fks() for c in fk.columns}
    poly = _polymorphic_ids(t, model, fk_cols)
    for key, col in t.columns.items():
        if col.inherited:
            continue
        origin = col.type_origin
        if origin.source <= 0:
            if col.origin.source <= 0:
                continue
            origin = col.origin
        base = col.type.base
        if key in reserved:
            ctx.emit("reserved-word-identifier", col.origin, tname, col.name, None,
                     f"Column {tname}.{col.name} is named after a reserved word in {d}.",
                     _rename_col_fix(tq, col.name, f"{singular(tname)}_{key}" if key != "user" else "user_id", d))
        if base in FLOAT_TYPES and not col.type.array and _is_money(key):
            ctx.emit("float-money", origin, tname, col.name, None,
                     f"{tname}.{col.name} holds money in a floating-point {col.type.display()} column.",
                     _retype_fix(t, col, "numeric(12,2)", d, new, cents=(d == "sqlite")))
        if d == "postgres":
            if base == "money":
                cq = q(col.name, d)
                ctx.emit("money-type", origin, tname, col.name, None,
                         f"{tname}.{col.name} uses the money type.",
                         _retype_fix(t, col, "numeric(12,2)", d, new, using=f"{cq}::numeric"))
            elif base == "timestamp":
                using = f"{q(col.name, d)} AT TIME ZONE 'UTC'"
                fix = _retype_fix(t, col, "timestamptz", d, new, using=using)
                if not new and ctx.pg_version >= 12:
                    fix = ("-- PostgreSQL 12+: no table rewrite when the session TimeZone is UTC\nSET timezone = 'UTC';\n"
                           + fix)
                ctx.emit("timestamp-without-time-zone", origin, tname, col.name, None,
                         f"{tname}.{col.name} is timestamp without time zone.", fix)
            elif base == "bpchar":
                cq = q(col.name, d)
                n = col.type.mods[0] if col.type.mods else 1
                fix = _retype_fix(t, col, "text", d, new)
                fix += f"\n-- if the length is truly fixed:\nALTER TABLE {tq} ADD CONSTRAINT " \
                       f"{object_name(tname, [col.name], 'length')} CHECK (char_length({cq}) = {n}) NOT VALID;"
                ctx.emit("char-n", origin, tname, col.name, None,
                         f"{tname}.{col.name} is {col.type.display()}, which pads values with spaces.", fix)
        if base in TEXT_TYPES and not col.type.array and (key.endswith("_ids") or key.endswith("_list")):
            _csv(t, col, model, ctx, d, tq)
        if key in poly:
            _polymorphic(t, col, poly[key], ctx, d, tq)
        elif key.endswith("_id") and key not in fk_cols:
            _implicit_fk(t, col, model, ctx, d, tq)


def _is_money(name: str) -> bool:
    if _MONEY_EXCLUDE.search(name):
        return False
    return any(part in MONEY_WORDS for part in name.split("_"))


def _retype_fix(t: Table, col, new_type: str, d: str, new: bool, using: str | None = None, cents: bool = False) -> str:
    tq = qt(t.name, d)
    cq = q(col.name, d)
    nn = " NOT NULL" if col.not_null else ""
    if cents:
        return (f"-- SQLite has no exact decimal: store integer minor units\n"
                f"-- in CREATE TABLE {tq}:\n{q(col.name + '_cents', d)} INTEGER{nn}")
    if d == "mysql":
        new_type = new_type.upper().replace("NUMERIC", "DECIMAL")
    if new:
        return f"-- in CREATE TABLE {tq}:\n{cq} {new_type}{nn}"
    if d == "mysql":
        return f"ALTER TABLE {tq} MODIFY {cq} {new_type.upper()}{nn};"
    if d == "sqlite":
        return f"-- SQLite cannot change a column type in place: recreate {tq} with {cq} {new_type}"
    return f"ALTER TABLE {tq} ALTER COLUMN {cq} TYPE {new_type}" + (f" USING {using}" if using else "") + ";"


def _rename_col_fix(tq: str, old: str, new: str, d: str) -> str:
    return f"ALTER TABLE {tq} RENAME COLUMN {q(old, d)} TO {q(new, d)};"


def _csv(t: Table, col, model: Schema, ctx, d: str, tq: str) -> None:
    key = col.name.lower()
    stem = key[:-4] if key.endswith("_ids") else key[:-5]
    owner = singular(t.name.name)
    target = next((model.table(TableName(t.name.schema, p)) for p in plurals(stem)
                   if model.table(TableName(t.name.schema, p)) is not None), None)
    junction = f"{owner}_{plurals(stem)[1]}"
    owner_fk = f"{q(owner + '_id', d)} {_key_type(t, d)} NOT NULL REFERENCES {tq} ({_pk_col(t, d)})"
    if key.endswith("_ids"):
        ref = f" REFERENCES {qt(target.name, d)} ({_pk_col(target, d)})" if target is not None else ""
        elem = f"{q(stem + '_id', d)} {_key_type(target, d)} NOT NULL{ref}"
        pk = f"PRIMARY KEY ({q(owner + '_id', d)}, {q(stem + '_id', d)})"
    else:
        elem = f"{q(stem, d)} text NOT NULL"
        pk = f"PRIMARY KEY ({q(owner + '_id', d)}, {q(stem, d)})"
    ctx.emit("comma-separated-list", col.type_origin if ctx.is_input(col.type_origin) else col.origin,
             t.name.name, col.name, None,
             f"{t.name.name}.{col.name} looks like a delimited list stored in a {col.type.display()} column.",
             f"CREATE TABLE {q(junction, d)} (\n  {owner_fk},\n  {elem},\n  {pk}\n);")


_NOT_A_CLASS_NAME = INTEGER_TYPES | FLOAT_TYPES | {"numeric", "bool", "uuid"}


def _polymorphic_ids(t: Table, model: Schema, fk_cols: set) -> dict:
    """id column -> type column, for <x>_type + <x>_id pairs that look like a polymorphic reference.

    The type must be able to hold a class or table name (text or an enum, not a number), the id must be
    a key (not text: text ids next to a *_type are usually external ids and kinds), and <x> must not be
    a table itself (then <x>_id is a plain reference and <x>_type some attribute).
    """
    out = {}
    for key, typec in t.columns.items():
        if not key.endswith("_type") or typec.type.array or typec.type.base in _NOT_A_CLASS_NAME:
            continue
        stem = key[:-5]
        idc = t.columns.get(stem + "_id")
        if idc is None or (stem + "_id") in fk_cols or idc.type.base in TEXT_TYPES:
            continue
        if any(model.table(TableName(t.name.schema, p)) is not None for p in plurals(stem)):
            continue
        out[stem + "_id"] = typec
    return out


def _key_type(t: Table | None, d: str) -> str:
    """The type a column referencing `t`'s single-column key should have."""
    col = t.column(t.pk.columns[0]) if t is not None and t.pk is not None and len(t.pk.columns) == 1 else None
    if col is None:
        return {"mysql": "BIGINT UNSIGNED", "sqlite": "INTEGER"}.get(d, "bigint")
    if col.type.serial:
        return {"int2": "smallint", "int4": "integer", "int8": "bigint"}.get(col.type.base, "bigint")
    return col.type.display()


def _polymorphic(t: Table, idc, typec, ctx, d: str, tq: str) -> None:
    stem = idc.name[:-3]
    origin = idc.origin if ctx.is_input(idc.origin) else typec.origin
    a, b = q(stem + "_a_id", d), q(stem + "_b_id", d)
    typ = idc.type.display()
    one = f"num_nonnulls({a}, {b}) = 1" if d == "postgres" else f"({a} IS NOT NULL) + ({b} IS NOT NULL) = 1"
    ctx.emit("polymorphic-association", origin, t.name.name, idc.name, None,
             f"{t.name.name}.{typec.name} + {idc.name} is a polymorphic reference with no foreign key.",
             f"-- one real foreign key per target table (exclusive arc), e.g. for targets a and b:\n"
             f"ALTER TABLE {tq} ADD COLUMN {a} {typ} REFERENCES a (id);\n"
             f"ALTER TABLE {tq} ADD COLUMN {b} {typ} REFERENCES b (id);\n"
             f"ALTER TABLE {tq} ADD CONSTRAINT {object_name(t.name.name, [stem], 'one_target')} CHECK ({one});\n"
             f"-- backfill from ({typec.name}, {idc.name}), then drop both columns")


def _single_key(target: Table) -> str | None:
    """The column a foreign key to `target` would reference: its single-column PK or UNIQUE key."""
    if target.pk is not None:
        return target.pk.columns[0] if len(target.pk.columns) == 1 else None
    for u in target.uniques():
        if len(u.columns) == 1:
            return u.columns[0]
    for i in target.indexes:
        if i.unique and i.where is None and len(i.columns) == 1 and i.columns[0]:
            return i.columns[0]
    return None


def _implicit_fk(t: Table, col, model: Schema, ctx, d: str, tq: str) -> None:
    key = col.name.lower()
    stem = key[:-3]
    if not stem:
        return
    if t.pk is not None and len(t.pk.columns) == 1 and t.pk.columns[0].lower() == key:
        return
    target = None
    for cand in plurals(stem):
        target = (t.name.schema and model.table(TableName(t.name.schema, cand))) or model.table_by_bare_name(cand)
        if target is not None:
            break
    if (target is None or target is t or target.kind == "matview" or target.name.key in t.inherits
            or t.partition_of == target.name.key):
        return
    ref_name = _single_key(target)
    ref = target.column(ref_name) if ref_name else None
    if ref is None:
        return  # no single-column key to reference: a foreign key could not be declared as is
    a, b = type_family(col.type, d), type_family(ref.type, d)
    if a != b and not (col.type.base in INTEGER_TYPES and ref.type.base in INTEGER_TYPES):
        return  # a differently typed *_id is usually an external identifier
    ref_col = q(ref.name, d)
    name = object_name(t.name.name, [col.name], "fkey")
    target_q = qt(target.name, d)
    if d == "postgres":
        fix = (f"ALTER TABLE {tq} ADD CONSTRAINT {name} FOREIGN KEY ({q(col.name, d)}) REFERENCES {target_q} "
               f"({ref_col}) NOT VALID;\nALTER TABLE {tq} VALIDATE CONSTRAINT {name};")
    elif d == "mysql":
        fix = f"ALTER TABLE {tq} ADD CONSTRAINT {name} FOREIGN KEY ({q(col.name, d)}) REFERENCES {target_q} ({ref_col});"
    else:
        fix = (f"-- SQLite cannot add a foreign key in place: recreate {tq} with\n"
               f"{q(col.name, d)} INTEGER REFERENCES {target_q} ({ref_col})")
    ctx.emit("implicit-foreign-key", col.origin, t.name.name, col.name, None,
             f"{t.name.name}.{col.name} looks like a reference to {target.name.name} but has no foreign key.", fix)
