"""MySQL and SQLite: sqlglot, one statement at a time, to the neutral statements of `ir`.

Only the statements the review understands are parsed (CREATE/ALTER/DROP TABLE, CREATE/DROP
INDEX, RENAME TABLE); procedures, triggers, views, data and session statements are counted and
skipped, so a dump full of stored routines does not turn into a wall of parse errors.
"""

from __future__ import annotations

import logging
import re

from . import ir
from .split import byte_offsets, split_statements

_REVIEWED = re.compile(
    r"^(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?TABLE"
    r"|CREATE\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX"
    r"|ALTER\s+(?:ONLINE\s+|IGNORE\s+)?TABLE|DROP\s+(?:TEMPORARY\s+)?TABLE|DROP\s+INDEX|RENAME\s+TABLE)\b",
    re.I,
)
_TX = re.compile(r"^(?:BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|END)\b", re.I)
_WITHOUT_ROWID = re.compile(r"\)\s*((?:WITHOUT\s+ROWID|STRICT)(?:\s*,\s*(?:WITHOUT\s+ROWID|STRICT))*)\s*$", re.I)
_RENAME = re.compile(r"([`\"\w.]+)\s+TO\s+([`\"\w.]+)", re.I)

_TYPES = {
    "INT": "int4", "UINT": "int4", "BIGINT": "int8", "UBIGINT": "int8", "SMALLINT": "int2", "USMALLINT": "int2",
    "TINYINT": "int1", "UTINYINT": "int1", "MEDIUMINT": "int3", "UMEDIUMINT": "int3", "FLOAT": "float4",
    "DOUBLE": "float8", "DECIMAL": "numeric", "UDECIMAL": "numeric", "VARCHAR": "varchar", "NVARCHAR": "varchar",
    "CHAR": "bpchar", "NCHAR": "bpchar", "TEXT": "text", "MEDIUMTEXT": "mediumtext", "LONGTEXT": "longtext",
    "TINYTEXT": "tinytext", "BOOLEAN": "bool", "TIMESTAMPTZ": "timestamp", "TIMESTAMP": "timestamp",
    "DATETIME": "datetime", "DATE": "date", "UUID": "uuid", "JSON": "json", "BLOB": "blob",
}


def parse(text: str, dialect: str) -> ir.ParseResult:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to Command" warnings
    buf = text.encode("utf-8")
    pieces = split_statements(text, dialect)
    starts = byte_offsets(text, [p[0] for p in pieces])
    stmts: list[ir.Stmt] = []
    errors: list[ir.ParseFailure] = []
    conv = _Converter(exp, dialect)
    line, prev = 1, 0
    for (cstart, cend), bstart in zip(pieces, starts):
        line += buf.count(b"\n", prev, bstart)
        prev = bstart
        sql = text[cstart:cend]
        bend = bstart + len(sql.encode("utf-8"))
        if _TX.match(sql):
            word = sql.split(None, 1)[0].upper()
            st: ir.Stmt = ir.Transaction("begin" if word in ("BEGIN", "START") else "end")
        elif not _REVIEWED.match(sql):
            continue
        elif sql[:6].upper() == "RENAME":
            st = _rename_tables(sql)
        else:
            options = {}
            m = _WITHOUT_ROWID.search(sql) if dialect == "sqlite" else None
            if m:
                options = {o.strip().upper(): "1" for o in m.group(1).split(",")}
                sql = sql[: m.start(1)]
            try:
                tree = sqlglot.parse_one(sql, read=dialect)
            except (ParseError, TokenError) as exc:
                errors.append(ir.ParseFailure(line, _message(exc)))
                continue
            if isinstance(tree, exp.Command):
                errors.append(ir.ParseFailure(line, f"unsupported {dialect} syntax in: {_head(sql)}"))
                continue
            try:
                st = conv.statement(tree, sql, bstart)
            except (AttributeError, TypeError, ValueError, IndexError) as exc:  # unexpected tree shape
                errors.append(ir.ParseFailure(line, f"could not interpret statement ({exc.__class__.__name__}): "
                                                    f"{_head(sql)}"))
                continue
            if st is None:
                continue
            if options and st.kind == "create_table":
                st.options.update(options)
        st.line, st.start, st.end = line, bstart, bend
        stmts.append(st)
    return ir.ParseResult(stmts, errors, len(pieces), buf)


def _head(sql: str) -> str:
    first = " ".join(sql.split())
    return first[:60] + ("..." if len(first) > 60 else "")


_CLASS = re.compile(r"<class '(?:[\w.]*\.)?(\w+)'>")


def _message(exc) -> str:
    errs = getattr(exc, "errors", None)
    if errs:
        e = errs[0]
        desc = _CLASS.sub(r"\1", e.get("description") or str(exc))
        return f"{desc} near {e.get('highlight')!r}" if e.get("highlight") else desc
    return _CLASS.sub(r"\1", str(exc).splitlines()[0])


def _unquote(name: str) -> str:
    return name.strip().strip("`\"[]")


def _table_name(raw: str) -> ir.TableName:
    parts = [_unquote(p) for p in raw.split(".")]
    return ir.TableName(parts[-2] if len(parts) > 1 else None, parts[-1])


def _rename_tables(sql: str) -> ir.Stmt:
    body = sql.split(None, 2)[2] if len(sql.split(None, 2)) > 2 else ""
    cmds = []
    first = None
    for m in _RENAME.finditer(body):
        old, new = _table_name(m.group(1)), _table_name(m.group(2))
        first = first or old
        cmd = ir.AlterCmd("rename_table")
        cmd.new_name = new.name
        cmds.append((old, cmd))
    if not cmds:
        return ir.Other()
    if len(cmds) == 1:
        return ir.AlterTable(cmds[0][0], [cmds[0][1]])
    # Several renames in one statement: keep the first as the statement, review the others as well.
    st = ir.AlterTable(cmds[0][0], [cmds[0][1]])
    st.cmds.extend(c for _, c in cmds[1:])
    return st


class _Converter:
    def __init__(self, exp, dialect: str) -> None:
        self.exp = exp
        self.dialect = dialect

    # --- names and types -------------------------------------------------------------------

    def name(self, node) -> str | None:
        exp = self.exp
        if node is None:
            return None
        if isinstance(node, str):
            return node
        if isinstance(node, exp.Identifier):
            return node.this
        if isinstance(node, (exp.Column, exp.Ordered, exp.ColumnPrefix)):
            return self.name(node.this)
        if isinstance(node, exp.Anonymous):  # b(10) prefix index parsed as a call
            return node.name
        if isinstance(node, exp.Schema):
            return self.name(node.this)
        return getattr(node, "name", None) or None

    def table(self, node) -> ir.TableName:
        exp = self.exp
        if isinstance(node, exp.Schema):
            node = node.this
        db = node.args.get("db") if isinstance(node, exp.Table) else None
        return ir.TableName(self.name(db) if db is not None else None, self.name(node.this if isinstance(node, exp.Table) else node))

    def type_ref(self, dt) -> ir.TypeRef:
        if dt is None:
            return ir.TypeRef("any")
        tname = dt.this.name if hasattr(dt.this, "name") else str(dt.this)
        base = _TYPES.get(tname, tname.lower())
        mods = []
        for p in dt.expressions:
            v = p.this if hasattr(p, "this") else p
            try:
                mods.append(int(v.this if hasattr(v, "this") else v))
            except (TypeError, ValueError):
                pass
        if base in ("int1", "int2", "int3", "int4", "int8", "float4", "float8", "enum", "set"):
            mods = []  # display width / enum labels are not part of the type's identity here
        unsigned = tname.startswith("U") and tname[1:] in _TYPES or "UNSIGNED" in dt.sql(dialect=self.dialect).upper()
        return ir.TypeRef(base, tuple(mods), unsigned=bool(unsigned), raw=dt.sql(dialect=self.dialect))

    # --- statements ------------------------------------------------------------------------

    def statement(self, tree, sql: str, base: int) -> ir.Stmt | None:
        exp = self.exp
        if isinstance(tree, exp.Create):
            kind = (tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                return self.create_table(tree, sql, base)
            if kind == "INDEX":
                return self.create_index(tree)
            return ir.Other()
        if isinstance(tree, exp.Alter):
            return self.alter(tree, sql, base)
        if isinstance(tree, exp.Drop):
            kind = (tree.args.get("kind") or "").upper()
            names = [self.table(t) for t in tree.expressions or tree.args.get("tables") or []]
            if kind == "TABLE":
                st = ir.DropTable(names)
            elif kind == "INDEX":
                st = ir.DropIndex(names)
                on = tree.args.get("cluster")
                if on is not None and on.this is not None:
                    st.table = self.table(on.this)
            else:
                return ir.Other()
            st.if_exists = bool(tree.args.get("exists"))
            return st
        return ir.Other()

    def create_table(self, tree, sql: str, base: int) -> ir.Stmt:
        exp = self.exp
        target = tree.this
        st = ir.CreateTable(self.table(target))
        st.if_not_exists = bool(tree.args.get("exists"))
        props = tree.args.get("properties")
        for p in (props.expressions if props is not None else ()):
            if isinstance(p, exp.TemporaryProperty):
                st.temp = True
            elif isinstance(p, exp.EngineProperty):
                st.options["ENGINE"] = self.name(p.this) or ""
            elif isinstance(p, exp.LikeProperty):
                st.like.append(self.table(p.this))
        if tree.args.get("expression") is not None:
            st.as_select = True
        if not isinstance(target, exp.Schema):
            return st
        for e in target.expressions:
            if isinstance(e, exp.ColumnDef):
                st.columns.append(self.column(e, sql, base))
            elif isinstance(e, exp.Identifier):  # SQLite column without a type
                st.columns.append(ir.ColumnDef(e.this, ir.TypeRef("any"), _column_loc(sql, e.this, base)))
            else:
                self.table_element(e, st.constraints, st.indexes, st.table)
        return st

    def column(self, e, sql: str, base: int) -> ir.ColumnDef:
        exp = self.exp
        name = self.name(e.this)
        col = ir.ColumnDef(name, self.type_ref(e.args.get("kind")), _column_loc(sql, name, base))
        for c in e.args.get("constraints") or ():
            k = c.args.get("kind") if isinstance(c, exp.ColumnConstraint) else c
            if isinstance(k, exp.NotNullColumnConstraint):
                col.not_null = not k.args.get("allow_null")
            elif isinstance(k, exp.PrimaryKeyColumnConstraint):
                col.not_null = True
                col.constraints.append(ir.ConstraintDef("pk", None, (name,)))
            elif isinstance(k, exp.UniqueColumnConstraint):
                col.constraints.append(ir.ConstraintDef("unique", None, (name,)))
            elif isinstance(k, exp.Reference):
                ref = k.this
                col.constraints.append(ir.ConstraintDef(
                    "fk", None, (name,), self.table(ref), tuple(self.name(x) for x in getattr(ref, "expressions", ()) or ())))
            elif isinstance(k, exp.DefaultColumnConstraint):
                col.default = ir.Default(is_null=isinstance(k.this, exp.Null), sql=k.this.sql(dialect=self.dialect)
                                         if k.this is not None else "")
            elif isinstance(k, exp.AutoIncrementColumnConstraint):
                col.auto_increment = True
            elif isinstance(k, exp.GeneratedAsIdentityColumnConstraint):
                col.identity = True
            elif isinstance(k, exp.CheckColumnConstraint):
                col.constraints.append(ir.ConstraintDef("check", None, (name,), expr_sql=k.this.sql(dialect=self.dialect)))
            elif isinstance(k, exp.ComputedColumnConstraint):
                col.generated = True
        if "UNSIGNED" in (col.type.raw or "").upper():
            col.type.unsigned = True
        return col

    def _cols(self, nodes) -> tuple:
        return tuple(n for n in (self.name(x) for x in nodes or ()) if n)

    def table_element(self, e, constraints: list, indexes: list, table: ir.TableName, name: str | None = None) -> None:
        exp = self.exp
        if isinstance(e, exp.Constraint):
            cname = self.name(e.this)
            for inner in e.expressions:
                self.table_element(inner, constraints, indexes, table, cname)
        elif isinstance(e, exp.PrimaryKey):
            constraints.append(ir.ConstraintDef("pk", name, self._cols(e.expressions)))
        elif isinstance(e, exp.ForeignKey):
            ref = e.args.get("reference")
            schema = ref.this if ref is not None else None
            constraints.append(ir.ConstraintDef(
                "fk", name, self._cols(e.expressions), self.table(schema) if schema is not None else None,
                self._cols(getattr(schema, "expressions", ()))))
        elif isinstance(e, exp.UniqueColumnConstraint):
            inner = e.this
            if isinstance(inner, exp.Schema):
                cols = self._cols(inner.expressions)
                iname = self.name(inner.this) or name
            else:
                cols = self._cols(e.expressions) if e.expressions else ()
                iname = name
            constraints.append(ir.ConstraintDef("unique", iname, cols))
        elif isinstance(e, exp.IndexColumnConstraint):
            cols = self._cols(e.expressions)
            kind = (e.args.get("kind") or "").upper()
            method = "fulltext" if kind == "FULLTEXT" else "spatial" if kind == "SPATIAL" else "btree"
            indexes.append(ir.IndexDef(self.name(e.this) or name, table, tuple(c.lower() for c in cols), cols,
                                       method=method))
        elif isinstance(e, exp.CheckColumnConstraint):
            constraints.append(ir.ConstraintDef("check", name, (), expr_sql=e.this.sql(dialect=self.dialect)))

    def create_index(self, tree) -> ir.Stmt:
        exp = self.exp
        idx = tree.this
        params = idx.args.get("params")
        elems, columns = [], []
        for o in (params.args.get("columns") if params is not None else None) or ():
            node = o.this if isinstance(o, exp.Ordered) else o
            if isinstance(node, (exp.Column, exp.Identifier)) or isinstance(node, exp.Anonymous):
                col = self.name(node)
                elems.append(col.lower() if col else "?")
                columns.append(col)
            else:
                elems.append("(" + node.sql(dialect=self.dialect) + ")")
                columns.append(None)
        where = params.args.get("where") if params is not None else None
        d = ir.IndexDef(self.name(idx.this), self.table(idx.args.get("table")), tuple(elems), tuple(columns),
                        where=where.this.sql(dialect=self.dialect) if where is not None else None,
                        unique=bool(tree.args.get("unique")))
        st = ir.CreateIndex(d)
        st.if_not_exists = bool(tree.args.get("exists"))
        return st

    def alter(self, tree, sql: str, base: int) -> ir.Stmt:
        exp = self.exp
        if (tree.args.get("kind") or "TABLE").upper() != "TABLE":
            return ir.Other()
        table = self.table(tree.this)
        cmds = []
        for a in tree.args.get("actions") or ():
            if isinstance(a, exp.ColumnDef):
                cmd = ir.AlterCmd("add_column", self.name(a.this))
                cmd.column = self.column(a, sql, base)
                cmd.loc = cmd.column.loc
            elif isinstance(a, exp.Drop):
                kind = (a.args.get("kind") or "").upper()
                target = self._cols(a.expressions or a.args.get("tables") or [])
                if kind == "COLUMN" or not kind:
                    for colname in target:
                        cmds.append(ir.AlterCmd("drop_column", colname))
                    continue
                cmd = ir.AlterCmd("other")
            elif isinstance(a, exp.RenameColumn):
                cmd = ir.AlterCmd("rename_column", self.name(a.this))
                cmd.new_name = self.name(a.args.get("to"))
            elif isinstance(a, exp.AlterRename):
                cmd = ir.AlterCmd("rename_table")
                cmd.new_name = self.table(a.this).name
            elif isinstance(a, exp.ModifyColumn):
                cd = a.this
                new = self.name(cd.this)
                old = self.name(a.args.get("rename_from")) or new
                if old and new and old.lower() != new.lower():
                    cmd = ir.AlterCmd("rename_column", old)
                    cmd.new_name = new
                    cmds.append(cmd)
                cmd = ir.AlterCmd("alter_type", new)
                cmd.type = self.type_ref(cd.args.get("kind"))
            elif isinstance(a, exp.AddConstraint):
                cons: list = []
                idxs: list = []
                for inner in a.expressions:
                    self.table_element(inner, cons, idxs, table)
                for c in cons:
                    cmd = ir.AlterCmd("add_constraint")
                    cmd.constraint = c
                    cmds.append(cmd)
                cmds.extend(_IndexCmd(i) for i in idxs)
                continue
            else:
                cmd = ir.AlterCmd("other")
            cmds.append(cmd)
        st = ir.AlterTable(table, cmds)
        st.if_exists = bool(tree.args.get("exists"))
        return st


class _IndexCmd(ir.AlterCmd):
    """ALTER TABLE ... ADD INDEX: applied to the model like CREATE INDEX."""

    __slots__ = ("index",)

    def __init__(self, index: ir.IndexDef) -> None:
        super().__init__("add_index", index.name)
        self.index = index


def _column_loc(sql: str, name: str, base: int) -> int:
    """Byte offset of a column's definition line inside the statement (sqlglot keeps no positions)."""
    m = re.search(r"(?m)^[ \t(]*[`\"\[]?" + re.escape(name) + r"[`\"\]]?\s", sql)
    if m is None:
        return -1
    return base + len(sql[: m.start()].encode("utf-8"))
