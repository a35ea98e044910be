"""PostgreSQL parse-tree nodes (libpg_query JSON) to `ir` values: names, types, defaults, constraints,
columns, and a compact SQL rendering of common expressions for fix text and comparisons."""

from __future__ import annotations

from . import ir

VOLATILE_FUNCS = frozenset((
    "random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4",
    "uuidv7", "clock_timestamp", "timeofday", "nextval", "setseed", "random_normal", "gen_random_bytes",
    "txid_current", "pg_current_xact_id",
))
# Built-ins that are IMMUTABLE or STABLE, so a default calling only these is evaluated once by ADD COLUMN
# (PostgreSQL 11+). PostgreSQL treats any other function as VOLATILE unless it is declared otherwise.
NON_VOLATILE_FUNCS = frozenset((
    "now", "transaction_timestamp", "statement_timestamp", "current_setting", "current_schema", "current_database",
    "version", "pg_backend_pid", "to_timestamp", "to_date", "to_char", "to_number", "date_trunc", "date_part",
    "make_date", "make_time", "make_timestamp", "make_timestamptz", "make_interval", "timezone", "age",
    "lower", "upper", "initcap", "trim", "btrim", "ltrim", "rtrim", "length", "char_length", "concat", "concat_ws",
    "substring", "substr", "replace", "left", "right", "lpad", "rpad", "repeat", "format", "md5", "encode",
    "decode", "abs", "round", "floor", "ceil", "ceiling", "trunc", "power", "sqrt", "mod", "greatest", "least",
    "coalesce", "nullif", "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
    "to_json", "to_jsonb", "array_to_json", "row_to_json", "array_fill", "int4range", "int8range", "numrange",
    "tsrange", "tstzrange", "daterange", "point", "inet", "float8", "int4", "int8", "numeric", "text", "bool",
    "uuid_nil", "uuid_ns_url", "uuid_ns_dns", "uuid_ns_oid", "uuid_ns_x500", "to_tsvector", "setweight",
))
_SERIAL = {"serial": "int4", "serial4": "int4", "bigserial": "int8", "serial8": "int8",
           "smallserial": "int2", "serial2": "int2"}
_ALIASES = {"int": "int4", "integer": "int4", "smallint": "int2", "bigint": "int8", "real": "float4",
            "float": "float8", "double precision": "float8", "decimal": "numeric", "boolean": "bool",
            "character varying": "varchar", "character": "bpchar"}
def relation_name(rv: dict) -> ir.TableName:
    return ir.TableName(rv.get("schemaname"), rv["relname"])


def strings(items: list | None) -> tuple:
    if not items:
        return ()
    return tuple([i["String"]["sval"] for i in items if "String" in i])


def _ival(node: dict):
    c = node.get("A_Const")
    if c is None:
        return None
    if "ival" in c:
        return c["ival"].get("ival", 0)
    return None


_NO_MODS = frozenset(("timestamp", "timestamptz", "time", "timetz", "interval"))


def type_ref(tn: dict) -> ir.TypeRef:
    names = tn.get("names")
    if not names:
        return ir.TypeRef("unknown")
    last = names[-1].get("String")
    name = last["sval"].lower() if last else "unknown"
    serial = False
    if len(names) < 2 or names[0].get("String", {}).get("sval") != "pg_catalog":
        if name in _SERIAL:
            name, serial = _SERIAL[name], True
        elif name == "char":
            name = '"char"'  # the internal one-byte type, not char(n)
        else:
            name = _ALIASES.get(name, name)
    mods = ()
    if "typmods" in tn and name not in _NO_MODS:  # precision does not change the nature of a time type
        mods = tuple(m for m in (_ival(t) for t in tn["typmods"]) if m is not None)
    return ir.TypeRef(name, mods, "arrayBounds" in tn, False, serial)


def default_of(expr: dict) -> ir.Default:
    d = ir.Default(node=expr)
    if "A_Const" in expr:
        d.is_null = bool(expr["A_Const"].get("isnull"))
        return d
    for fname in _funcs(expr):
        if fname == "nextval":
            d.nextval = True
        if fname in VOLATILE_FUNCS:
            d.volatile = True
        elif fname not in NON_VOLATILE_FUNCS:
            d.volatile = True
            d.unknown = d.unknown or fname
    return d


def _funcs(node):
    """Names of all functions called anywhere inside an expression."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            fc = n.get("FuncCall")
            if fc is not None:
                names = strings(fc.get("funcname"))
                if names:
                    yield names[-1].lower()
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)


_SVF = {"SVFOP_CURRENT_TIMESTAMP": "CURRENT_TIMESTAMP", "SVFOP_CURRENT_DATE": "CURRENT_DATE",
        "SVFOP_CURRENT_TIME": "CURRENT_TIME", "SVFOP_LOCALTIMESTAMP": "LOCALTIMESTAMP",
        "SVFOP_CURRENT_USER": "CURRENT_USER", "SVFOP_SESSION_USER": "SESSION_USER"}


def expr_sql(n: dict) -> str:
    """A compact SQL rendering of common expression nodes, for fix text and comparisons."""
    if not isinstance(n, dict) or not n:
        return "?"
    (kind, v), = n.items() if len(n) == 1 else (next(iter(n.items())),)
    if kind == "ColumnRef":
        return ".".join(f["String"]["sval"] if "String" in f else "*" for f in v.get("fields", ()))
    if kind == "A_Const":
        if v.get("isnull"):
            return "NULL"
        if "sval" in v:
            return "'" + v["sval"].get("sval", "").replace("'", "''") + "'"
        if "ival" in v:
            return str(v["ival"].get("ival", 0))
        if "fval" in v:
            return v["fval"].get("fval", "0")
        if "boolval" in v:
            return "true" if v["boolval"].get("boolval") else "false"
        return "?"
    if kind == "FuncCall":
        name = ".".join(strings(v.get("funcname")))
        if name.startswith("pg_catalog."):
            name = name[11:]
        args = "*" if v.get("agg_star") else ", ".join(expr_sql(a) for a in v.get("args", ()))
        return f"{name}({args})"
    if kind == "TypeCast":
        return f"{expr_sql(v.get('arg', {}))}::{type_ref(v.get('typeName', {})).display()}"
    if kind == "SQLValueFunction":
        return _SVF.get(v.get("op", ""), "CURRENT_TIMESTAMP")
    if kind == "A_Expr":
        op = " ".join(strings(v.get("name"))) or "="
        left = expr_sql(v["lexpr"]) + " " if "lexpr" in v else ""
        right = v.get("rexpr")
        if isinstance(right, dict) and "List" in right:
            rs = "(" + ", ".join(expr_sql(x) for x in right["List"].get("items", ())) + ")"
            return f"{left}{'IN' if v.get('kind') == 'AEXPR_IN' else op} {rs}"
        return f"{left}{op} {expr_sql(right) if right else ''}".strip()
    if kind == "NullTest":
        test = "IS NOT NULL" if v.get("nulltesttype") == "IS_NOT_NULL" else "IS NULL"
        return f"{expr_sql(v.get('arg', {}))} {test}"
    if kind == "BoolExpr":
        op = {"AND_EXPR": " AND ", "OR_EXPR": " OR "}.get(v.get("boolop", ""), "")
        args = [expr_sql(a) for a in v.get("args", ())]
        if not op:
            return "NOT (" + (args[0] if args else "?") + ")"
        return "(" + op.join(args) + ")"
    if kind == "A_ArrayExpr":
        return "ARRAY[" + ", ".join(expr_sql(a) for a in v.get("elements", ())) + "]"
    if kind == "CollateClause":
        return expr_sql(v.get("arg", {}))
    return f"<{kind}>"


def constraint_def(c: dict, column: str | None = None, base: int = 0) -> ir.ConstraintDef | None:
    t = c.get("contype")
    loc = base + c.get("location", -1)
    if t == "CONSTR_PRIMARY" or t == "CONSTR_UNIQUE":
        cols = strings(c.get("keys")) or ((column,) if column else ())
        return ir.ConstraintDef("pk" if t == "CONSTR_PRIMARY" else "unique", c.get("conname"), cols,
                                using_index=c.get("indexname"), loc=loc)
    if t == "CONSTR_FOREIGN":
        cols = strings(c.get("fk_attrs")) or ((column,) if column else ())
        return ir.ConstraintDef("fk", c.get("conname"), cols, relation_name(c["pktable"]), strings(c.get("pk_attrs")),
                                not_valid=bool(c.get("skip_validation")), loc=loc)
    if t == "CONSTR_CHECK":
        expr = c.get("raw_expr", {})
        notnull = None
        nt = expr.get("NullTest")
        if nt and nt.get("nulltesttype") == "IS_NOT_NULL" and "ColumnRef" in nt.get("arg", {}):
            fields = strings(nt["arg"]["ColumnRef"].get("fields"))
            notnull = fields[-1] if fields else None
        return ir.ConstraintDef("check", c.get("conname"), (column,) if column else (),
                                not_valid=bool(c.get("skip_validation")), notnull_col=notnull,
                                expr_sql=expr_sql(expr), loc=loc)
    if t == "CONSTR_EXCLUSION":
        return ir.ConstraintDef("exclude", c.get("conname"), (), loc=loc)
    return None


def column_def(cd: dict, base: int = 0) -> ir.ColumnDef:
    col = ir.ColumnDef(cd.get("colname", "?"), type_ref(cd.get("typeName", {})), base + cd.get("location", -1))
    if col.type.serial:
        col.not_null = True
        col.default = ir.Default(volatile=True, nextval=True, sql="nextval(...)")
    for wrapper in cd.get("constraints") or ():
        c = wrapper["Constraint"]
        t = c.get("contype")
        if t == "CONSTR_NOTNULL":
            col.not_null = True
        elif t == "CONSTR_DEFAULT":
            col.default = default_of(c.get("raw_expr", {}))
        elif t == "CONSTR_IDENTITY":
            col.identity = True
            col.not_null = True
        elif t == "CONSTR_GENERATED":
            col.generated = True
        else:
            cdef = constraint_def(c, col.name, base)
            if cdef is not None:
                if cdef.kind == "pk":
                    col.not_null = True
                col.constraints.append(cdef)
    return col
