"""The in-memory schema model: tables, columns, constraints and indexes, built by applying
statements in order (CREATE, ALTER, DROP, RENAME).

Every object remembers where it came from (`source`: 0 for --schema, 1.. for reviewed inputs,
and the statement `line`), so design findings can be attributed to the statement that
introduced the problem and findings about the existing schema are left out.
"""

from __future__ import annotations

from . import ir


class Origin:
    __slots__ = ("source", "line", "loc")

    def __init__(self, source: int, line: int, loc: int = -1) -> None:
        self.source = source
        self.line = line
        self.loc = loc  # byte offset of the defining text (a column definition), for suppression


class Column:
    __slots__ = ("name", "type", "not_null", "default", "identity", "auto_increment", "generated", "origin",
                 "type_origin", "inherited")

    def __init__(self, cd: ir.ColumnDef, origin: Origin) -> None:
        self.name = cd.name
        self.type = cd.type
        self.not_null = cd.not_null
        self.default = cd.default
        self.identity = cd.identity
        self.auto_increment = cd.auto_increment
        self.generated = cd.generated
        self.origin = origin
        self.type_origin = origin
        self.inherited = False  # copied from an INHERITS / PARTITION OF parent

    @property
    def serial_like(self) -> bool:
        """serial/bigserial, or the nextval() default pg_dump writes for them."""
        return self.type.serial or bool(self.default and self.default.nextval)


class Constraint:
    __slots__ = ("kind", "name", "columns", "ref_table", "ref_columns", "validated", "origin", "notnull_col",
                 "expr_sql", "index")

    def __init__(self, cdef: ir.ConstraintDef, origin: Origin, columns: tuple | None = None) -> None:
        self.kind = cdef.kind
        self.name = cdef.name
        self.columns = tuple(columns if columns is not None else cdef.columns)
        self.ref_table = cdef.ref_table
        self.ref_columns = tuple(cdef.ref_columns)
        self.validated = not cdef.not_valid
        self.origin = origin
        self.notnull_col = cdef.notnull_col
        self.expr_sql = cdef.expr_sql
        self.index = cdef.using_index


class Index:
    __slots__ = ("name", "table_key", "elems", "columns", "include", "where", "unique", "method", "origin",
                 "constraint")

    def __init__(self, d: ir.IndexDef, origin: Origin) -> None:
        self.name = d.name
        self.table_key = d.table.key
        self.elems = d.elems
        self.columns = d.columns
        self.include = d.include
        self.where = d.where
        self.unique = d.unique
        self.method = (d.method or "btree").lower()
        self.origin = origin
        self.constraint: str | None = None  # set when a PK/UNIQUE constraint uses it


class Table:
    __slots__ = ("name", "columns", "pk", "constraints", "indexes", "origin", "kind", "temp", "partitioned",
                 "partition_of", "inherits", "as_select", "options")

    def __init__(self, name: ir.TableName, origin: Origin, kind: str = "table") -> None:
        self.name = name
        self.columns: dict[str, Column] = {}
        self.pk: Constraint | None = None
        self.constraints: list[Constraint] = []  # unique, fk, check, exclude
        self.indexes: list[Index] = []
        self.origin = origin
        self.kind = kind  # table | matview | stub (known only through ALTERs on it)
        self.temp = False
        self.partitioned = False
        self.partition_of: str | None = None
        self.inherits: list[str] = []
        self.as_select = False
        self.options: dict[str, str] = {}

    def column(self, name: str) -> Column | None:
        return self.columns.get(name.lower())

    def fks(self) -> list[Constraint]:
        return [c for c in self.constraints if c.kind == "fk"]

    def uniques(self) -> list[Constraint]:
        return [c for c in self.constraints if c.kind == "unique"]


class Schema:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.tables: dict[str, Table] = {}
        self.indexes: dict[str, Index] = {}
        self._by_name: dict[str, list[Table]] = {}  # bare name -> tables, for unqualified lookups

    def _register(self, t: Table) -> None:
        self.tables[t.name.key] = t
        self._by_name.setdefault(t.name.name.lower(), []).append(t)

    def _unregister(self, t: Table) -> None:
        self.tables.pop(t.name.key, None)
        same = self._by_name.get(t.name.name.lower())
        if same and t in same:
            same.remove(t)

    # --- lookups ---------------------------------------------------------------------------

    def table(self, name: ir.TableName | None) -> Table | None:
        if name is None:
            return None
        t = self.tables.get(name.key)
        if t is None and name.schema is None:
            # An unqualified name may refer to a table in another schema on the search_path.
            found = self._by_name.get(name.key)
            if found and len(found) == 1:
                return found[0]
        return t

    def table_by_bare_name(self, name: str) -> Table | None:
        """An unqualified lookup by lowercase name: the default schema's table, else the only one."""
        t = self.tables.get(name)
        if t is None:
            found = self._by_name.get(name)
            if found and len(found) == 1:
                return found[0]
        return t

    def index_key(self, name: str, schema: str | None = None, table_key: str | None = None) -> str:
        if self.dialect == "mysql" and table_key:
            return f"{table_key}.{name.lower()}"
        s = (schema or "").lower()
        return name.lower() if s in ("", "public", "main") else f"{s}.{name.lower()}"

    def find_index(self, name: ir.TableName, table_key: str | None = None) -> Index | None:
        return self.indexes.get(self.index_key(name.name, name.schema, table_key))

    def ensure_table(self, name: ir.TableName, origin: Origin) -> Table:
        t = self.table(name)
        if t is None:
            t = Table(name, origin, kind="stub")
            self._register(t)
        return t

    # --- applying statements ---------------------------------------------------------------

    def create_table(self, st: ir.CreateTable, origin: Origin) -> Table | None:
        old = self.table(st.table)
        if old is not None:
            if st.if_not_exists:
                return None
            self._unregister(old)
        t = Table(st.table, origin, kind=st.relkind)
        t.temp = st.temp
        t.partitioned = st.partitioned
        t.as_select = st.as_select
        t.options = st.options
        for parent_name in ([st.partition_of] if st.partition_of else []) + st.inherits + st.like:
            parent = self.table(parent_name)
            if parent is not None:
                for c in parent.columns.values():
                    copy = Column.__new__(Column)
                    for slot in Column.__slots__:
                        setattr(copy, slot, getattr(c, slot))
                    copy.inherited = parent_name not in st.like
                    t.columns[c.name.lower()] = copy
        t.inherits = [p.key for p in st.inherits]
        if st.partition_of:
            t.partition_of = st.partition_of.key
        self._register(t)
        for cd in st.columns:
            self._add_column(t, cd, Origin(origin.source, origin.line, cd.loc))
        for cdef in st.constraints:
            self._add_constraint(t, cdef, Origin(origin.source, origin.line, cdef.loc))
        for idef in st.indexes:
            self.create_index(idef, origin)
        return t

    def _add_column(self, t: Table, cd: ir.ColumnDef, origin: Origin) -> Column:
        col = Column(cd, origin)
        t.columns[cd.name.lower()] = col
        for cdef in cd.constraints:
            self._add_constraint(t, cdef, Origin(origin.source, origin.line, cdef.loc if cdef.loc >= 0 else origin.loc))
        return col

    def _add_constraint(self, t: Table, cdef: ir.ConstraintDef, origin: Origin) -> Constraint:
        columns = None
        if cdef.using_index and not cdef.columns:
            idx = self.indexes.get(self.index_key(cdef.using_index, t.name.schema, t.name.key))
            if idx is not None:
                columns = tuple(c for c in idx.columns if c)
                idx.constraint = cdef.name or cdef.using_index
        con = Constraint(cdef, origin, columns)
        if con.kind == "pk":
            t.pk = con
            for name in con.columns:
                col = t.column(name)
                if col is not None:
                    col.not_null = True
        else:
            t.constraints.append(con)
        return con

    def create_index(self, d: ir.IndexDef, origin: Origin) -> Index:
        t = self.ensure_table(d.table, origin)
        idx = Index(d, origin)
        idx.table_key = t.name.key
        t.indexes.append(idx)
        if d.name:
            self.indexes[self.index_key(d.name, d.table.schema, t.name.key)] = idx
        return idx

    def drop_index(self, name: ir.TableName, table_name: ir.TableName | None = None) -> Index | None:
        t_key = self.table(table_name).name.key if table_name is not None and self.table(table_name) else None
        key = self.index_key(name.name, name.schema, t_key)
        idx = self.indexes.pop(key, None)
        if idx is not None:
            t = self.tables.get(idx.table_key)
            if t is not None and idx in t.indexes:
                t.indexes.remove(idx)
        return idx

    def drop_table(self, name: ir.TableName) -> Table | None:
        t = self.table(name)
        if t is None:
            return None
        self._unregister(t)
        for key in [k for k, i in self.indexes.items() if i.table_key == t.name.key]:
            del self.indexes[key]
        return t

    def alter(self, st: ir.AlterTable, origin: Origin) -> None:
        t = self.table(st.table)
        if t is None:
            if st.if_exists:
                return
            t = self.ensure_table(st.table, origin)
        for cmd in st.cmds:
            self._alter_cmd(t, cmd, origin)

    def _alter_cmd(self, t: Table, cmd: ir.AlterCmd, origin: Origin) -> None:
        op = cmd.op
        name = (cmd.name or "").lower()
        col = t.columns.get(name) if name else None
        if op == "add_column":
            if cmd.if_exists and col is not None:
                return
            self._add_column(t, cmd.column, Origin(origin.source, origin.line, cmd.loc))
        elif op == "drop_column":
            t.columns.pop(name, None)
            t.constraints = [c for c in t.constraints if name not in (x.lower() for x in c.columns)]
            if t.pk is not None and name in (x.lower() for x in t.pk.columns):
                t.pk = None
            for idx in [i for i in t.indexes if name in (c.lower() for c in i.columns if c)]:
                self._forget_index(t, idx)
        elif op == "alter_type" and col is not None:
            col.type = cmd.type
            col.type_origin = Origin(origin.source, origin.line, origin.loc)
        elif op == "set_not_null" and col is not None:
            col.not_null = True
        elif op == "drop_not_null" and col is not None:
            col.not_null = False
        elif op == "set_default" and col is not None:
            col.default = cmd.default
        elif op == "add_identity" and col is not None:
            col.identity = True
            col.default = None
        elif op == "add_constraint":
            self._add_constraint(t, cmd.constraint, Origin(origin.source, origin.line, cmd.loc))
        elif op == "drop_constraint":
            if t.pk is not None and t.pk.name and t.pk.name.lower() == name:
                t.pk = None
            t.constraints = [c for c in t.constraints if not (c.name and c.name.lower() == name)]
            for idx in [i for i in t.indexes if i.constraint and i.constraint.lower() == name]:
                self._forget_index(t, idx)
        elif op == "validate_constraint":
            for c in t.constraints:
                if c.name and c.name.lower() == name:
                    c.validated = True
        elif op == "rename_constraint":
            for c in t.constraints + ([t.pk] if t.pk else []):
                if c.name and c.name.lower() == name:
                    c.name = cmd.new_name
        elif op == "rename_column" and col is not None and cmd.new_name:
            self._rename_column(t, col, cmd.new_name)
        elif op == "rename_table" and cmd.new_name:
            self._rename_table(t, cmd.new_name)
        elif op == "add_index":
            self.create_index(cmd.index, origin)
        elif op == "attach_partition" and cmd.target is not None:
            child = self.table(cmd.target)
            if child is not None:
                child.partition_of = t.name.key

    def _forget_index(self, t: Table, idx: Index) -> None:
        t.indexes.remove(idx)
        for k in [k for k, v in self.indexes.items() if v is idx]:
            del self.indexes[k]

    def _rename_column(self, t: Table, col: Column, new: str) -> None:
        old = col.name.lower()
        del t.columns[old]
        col.name = new
        t.columns[new.lower()] = col

        def swap(cols: tuple) -> tuple:
            return tuple(new if c and c.lower() == old else c for c in cols)

        for c in t.constraints + ([t.pk] if t.pk else []):
            c.columns = swap(c.columns)
        for i in t.indexes:
            i.columns = swap(i.columns)
            i.elems = swap(i.elems)
        for other in self.tables.values():
            for fk in other.fks():
                if fk.ref_table is not None and fk.ref_table.key == t.name.key:
                    fk.ref_columns = swap(fk.ref_columns)

    def _rename_table(self, t: Table, new: str) -> None:
        old_key = t.name.key
        self._unregister(t)
        t.name = ir.TableName(t.name.schema, new)
        self._register(t)
        for i in t.indexes:
            i.table_key = t.name.key
        for other in self.tables.values():
            for fk in other.fks():
                if fk.ref_table is not None and fk.ref_table.key == old_key:
                    fk.ref_table = t.name

    def rename_index(self, st: ir.RenameIndex) -> None:
        idx = self.indexes.pop(self.index_key(st.old.name, st.old.schema), None)
        if idx is not None:
            idx.name = st.new
            self.indexes[self.index_key(st.new, st.old.schema)] = idx
