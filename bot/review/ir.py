"""The dialect-neutral statement representation both parsers produce.

`parse_pg` (pglast JSON) and `parse_sqlglot` (MySQL, SQLite) turn each statement into one of
the classes below; the engine applies them to the schema model and the rules read them.
Plain classes with __slots__ (no dataclasses) keep the import cheap on the CLI hot path.
Byte offsets (`loc`) point into the UTF-8 encoded source; the engine turns them into lines.
"""

from __future__ import annotations


class TableName:
    """A possibly schema-qualified relation name. `key` folds case and the default schema."""

    __slots__ = ("schema", "name", "key")

    def __init__(self, schema: str | None, name: str) -> None:
        self.schema = schema
        self.name = name
        if schema is None:
            self.key = name.lower()
        else:
            s = schema.lower()
            self.key = name.lower() if s in ("", "public", "main") else f"{s}.{name.lower()}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema and self.schema not in ("public", "main") else self.name

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"TableName({self.schema!r}, {self.name!r})"


# Display names for canonical type names; anything else is shown as stored.
_DISPLAY = {
    "int1": "tinyint", "int2": "smallint", "int3": "mediumint", "int4": "integer", "int8": "bigint",
    "float4": "real", "float8": "double precision", "bpchar": "char", "bool": "boolean",
    "timestamptz": "timestamptz", "timetz": "timetz",
}
INTEGER_TYPES = frozenset(("int1", "int2", "int3", "int4", "int8"))
FLOAT_TYPES = frozenset(("float4", "float8"))
TEXT_TYPES = frozenset(("varchar", "text", "bpchar", "citext", "nvarchar", "nchar", "tinytext",
                        "mediumtext", "longtext", "string", "clob"))


class TypeRef:
    """A column type: canonical base name (int4, varchar, timestamptz...), modifiers, flags."""

    __slots__ = ("base", "mods", "array", "unsigned", "serial", "raw")

    def __init__(self, base: str, mods: tuple = (), array: bool = False, unsigned: bool = False,
                 serial: bool = False, raw: str | None = None) -> None:
        self.base = base
        self.mods = mods
        self.array = array
        self.unsigned = unsigned
        self.serial = serial
        self.raw = raw  # the type as written, when the parser kept it (MySQL/SQLite)

    def display(self) -> str:
        if self.raw:  # MySQL/SQLite: the type as sqlglot writes it for the dialect
            return self.raw.lower() + ("[]" if self.array else "")
        if self.serial:
            name = {"int2": "smallserial", "int4": "serial", "int8": "bigserial"}.get(self.base, "serial")
        else:
            name = _DISPLAY.get(self.base, self.base)
            if self.mods:
                name += "(" + ",".join(str(m) for m in self.mods) + ")"
        if self.unsigned:
            name += " unsigned"
        if self.array:
            name += "[]"
        return name

    def same_as(self, other: TypeRef) -> bool:
        return (self.base, self.mods, self.array, self.unsigned) == (other.base, other.mods, other.array, other.unsigned)


class Default:
    """A column default: whether it is volatile (rewrites on ADD COLUMN), and how it reads.

    PostgreSQL defaults keep their parse-tree node and render it only when a fix needs the SQL.
    """

    __slots__ = ("volatile", "nextval", "is_null", "_sql", "node", "unknown")

    def __init__(self, volatile: bool = False, nextval: bool = False, is_null: bool = False, sql: str = "",
                 node: dict | None = None) -> None:
        self.volatile = volatile
        self.unknown: str | None = None  # a function the review does not know, so taken as volatile
        self.nextval = nextval
        self.is_null = is_null
        self._sql = sql
        self.node = node

    @property
    def sql(self) -> str:
        if not self._sql and self.node is not None:
            from .pg_nodes import expr_sql

            self._sql = expr_sql(self.node)
        return self._sql


class ConstraintDef:
    """pk, unique, fk, check or exclude, inline or table-level."""

    __slots__ = ("kind", "name", "columns", "ref_table", "ref_columns", "not_valid", "using_index",
                 "notnull_col", "expr_sql", "loc")

    def __init__(self, kind: str, name: str | None = None, columns: tuple = (), ref_table: TableName | None = None,
                 ref_columns: tuple = (), not_valid: bool = False, using_index: str | None = None,
                 notnull_col: str | None = None, expr_sql: str = "", loc: int = -1) -> None:
        self.kind = kind
        self.name = name
        self.columns = columns
        self.ref_table = ref_table
        self.ref_columns = ref_columns
        self.not_valid = not_valid
        self.using_index = using_index
        self.notnull_col = notnull_col  # set when a CHECK is exactly `col IS NOT NULL`
        self.expr_sql = expr_sql  # CHECK expression as SQL, for the fix text
        self.loc = loc


class ColumnDef:
    __slots__ = ("name", "type", "not_null", "default", "identity", "generated", "auto_increment",
                 "constraints", "loc")

    def __init__(self, name: str, type: TypeRef, loc: int = -1) -> None:
        self.name = name
        self.type = type
        self.not_null = False
        self.default: Default | None = None
        self.identity = False
        self.generated = False  # GENERATED ALWAYS AS (expr) STORED
        self.auto_increment = False
        self.constraints: list[ConstraintDef] = []  # inline pk/unique/fk/check, columns filled in
        self.loc = loc


class IndexDef:
    """An index as written: `elems` are comparable keys, `columns` the plain column names (None for expressions)."""

    __slots__ = ("name", "table", "elems", "columns", "include", "where", "unique", "method")

    def __init__(self, name: str | None, table: TableName, elems: tuple, columns: tuple, include: tuple = (),
                 where: str | None = None, unique: bool = False, method: str = "btree") -> None:
        self.name = name
        self.table = table
        self.elems = elems
        self.columns = columns
        self.include = include
        self.where = where
        self.unique = unique
        self.method = method


# --- statements --------------------------------------------------------------------------


class Stmt:
    kind = "other"
    __slots__ = ("line", "start", "end")

    def __init__(self) -> None:
        self.line = 0
        self.start = 0  # byte offsets of the statement text (start is the first token)
        self.end = 0


class Other(Stmt):
    __slots__ = ()


class CreateTable(Stmt):
    kind = "create_table"
    __slots__ = ("table", "columns", "constraints", "indexes", "if_not_exists", "temp", "partitioned",
                 "partition_of", "inherits", "like", "as_select", "relkind", "options")

    def __init__(self, table: TableName) -> None:
        super().__init__()
        self.table = table
        self.columns: list[ColumnDef] = []
        self.constraints: list[ConstraintDef] = []
        self.indexes: list[IndexDef] = []  # MySQL inline KEY/INDEX definitions
        self.if_not_exists = False
        self.temp = False
        self.partitioned = False
        self.partition_of: TableName | None = None
        self.inherits: list[TableName] = []
        self.like: list[TableName] = []
        self.as_select = False
        self.relkind = "table"  # or "matview"
        self.options: dict[str, str] = {}  # ENGINE=..., WITHOUT ROWID...


class AlterCmd:
    """One action of an ALTER TABLE. `op` is one of:
    add_column, drop_column, alter_type, set_not_null, drop_not_null, set_default, add_constraint,
    drop_constraint, validate_constraint, rename_column, rename_table, add_identity, attach_partition,
    other (strong lock), other_weak (no strong lock).
    """

    __slots__ = ("op", "name", "column", "constraint", "type", "using", "if_exists", "new_name", "default", "loc",
                 "target")

    def __init__(self, op: str, name: str | None = None) -> None:
        self.op = op
        self.name = name
        self.column: ColumnDef | None = None
        self.constraint: ConstraintDef | None = None
        self.type: TypeRef | None = None
        self.using = False
        self.if_exists = False
        self.new_name: str | None = None
        self.default: Default | None = None
        self.loc = -1
        self.target: TableName | None = None  # attach_partition child


class AlterTable(Stmt):
    kind = "alter_table"
    __slots__ = ("table", "cmds", "if_exists", "only")

    def __init__(self, table: TableName, cmds: list[AlterCmd]) -> None:
        super().__init__()
        self.table = table
        self.cmds = cmds
        self.if_exists = False
        self.only = False


class CreateIndex(Stmt):
    kind = "create_index"
    __slots__ = ("index", "concurrently", "if_not_exists", "only")

    def __init__(self, index: IndexDef) -> None:
        super().__init__()
        self.index = index
        self.concurrently = False
        self.if_not_exists = False
        self.only = False


class DropIndex(Stmt):
    kind = "drop_index"
    __slots__ = ("names", "concurrently", "if_exists", "table")

    def __init__(self, names: list[TableName]) -> None:
        super().__init__()
        self.names = names
        self.concurrently = False
        self.if_exists = False
        self.table: TableName | None = None  # MySQL: DROP INDEX i ON t


class DropTable(Stmt):
    kind = "drop_table"
    __slots__ = ("names", "if_exists", "relkind")

    def __init__(self, names: list[TableName]) -> None:
        super().__init__()
        self.names = names
        self.if_exists = False
        self.relkind = "table"


class RenameIndex(Stmt):
    kind = "rename_index"
    __slots__ = ("old", "new")

    def __init__(self, old: TableName, new: str) -> None:
        super().__init__()
        self.old = old
        self.new = new


class Transaction(Stmt):
    kind = "transaction"
    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op  # begin | end


class SetLockTimeout(Stmt):
    kind = "lock_timeout"
    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        super().__init__()
        self.enabled = enabled


class ParseFailure:
    __slots__ = ("line", "message", "sql")

    def __init__(self, line: int, message: str, sql: str = "") -> None:
        self.line = line
        self.message = message
        self.sql = sql  # the statement's text, so another dialect's parser can be tried on it


class ParseResult:
    """What a parser hands the engine: the statements, the failures, and the raw buffer."""

    __slots__ = ("stmts", "errors", "count", "buf")

    def __init__(self, stmts: list[Stmt], errors: list[ParseFailure], count: int, buf: bytes) -> None:
        self.stmts = stmts
        self.errors = errors
        self.count = count
        self.buf = buf


# --- statements only the migration checks read (PostgreSQL) -------------------------------


class SetTimeout(Stmt):
    """SET [LOCAL] statement_timeout = ... (lock_timeout is SetLockTimeout)."""

    kind = "statement_timeout"
    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        super().__init__()
        self.enabled = enabled


class Reindex(Stmt):
    kind = "reindex"
    __slots__ = ("target", "name", "concurrently")

    def __init__(self, target: str, name: TableName | None, concurrently: bool) -> None:
        super().__init__()
        self.target = target  # index | table | schema | database | system
        self.name = name
        self.concurrently = concurrently


class LockTable(Stmt):
    kind = "lock_table"
    __slots__ = ("names", "mode")

    def __init__(self, names: list[TableName], mode: int) -> None:
        super().__init__()
        self.names = names
        self.mode = mode  # 1 ACCESS SHARE ... 8 ACCESS EXCLUSIVE, PostgreSQL's lock mode numbers


class Truncate(Stmt):
    kind = "truncate"
    __slots__ = ("names", "cascade")

    def __init__(self, names: list[TableName], cascade: bool) -> None:
        super().__init__()
        self.names = names
        self.cascade = cascade


class DomainCheck(Stmt):
    """CREATE DOMAIN ... CHECK, or ALTER DOMAIN ... ADD CONSTRAINT ... CHECK (validated)."""

    kind = "domain_check"
    __slots__ = ("name", "created", "constraint", "expr_sql")

    def __init__(self, name: str, created: bool, constraint: str | None, expr_sql: str) -> None:
        super().__init__()
        self.name = name
        self.created = created
        self.constraint = constraint
        self.expr_sql = expr_sql


class DropDatabase(Stmt):
    """DROP DATABASE, or DROP SCHEMA ... CASCADE."""

    kind = "drop_database"
    __slots__ = ("what", "names")

    def __init__(self, what: str, names: list[str]) -> None:
        super().__init__()
        self.what = what  # database | schema
        self.names = names


class Update(Stmt):
    kind = "update"
    __slots__ = ("table",)

    def __init__(self, table: TableName) -> None:
        super().__init__()
        self.table = table
