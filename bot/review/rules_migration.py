"""Migration-safety rules, checked statement by statement before the statement is applied.

They concern statements on tables that already exist: a table created earlier in the same
input is new, so indexing or altering it carries no locking risk. A table that the input
drops and later re-creates while it is unknown beforehand (the `pg_dump --clean` preamble)
also counts as new. The locking rules are PostgreSQL's; rename-* and drop-* apply to every
dialect. concurrently-in-transaction fires on any table, since the statement simply fails.
"""

from __future__ import annotations

import re

from . import ir
from . import rules_session as session
from .sqltext import cols, object_name, q, qt

# varchar(n) -> varchar(m >= n) / text, numeric(p,s) -> numeric(q >= p, s), etc. rewrite nothing.
_TEXTISH = ("varchar", "text")


class MigrationChecker:
    def __init__(self, ctx, model, source: int, stmts: list[ir.Stmt], assume_in_transaction: bool = False) -> None:
        self.ctx = ctx
        self.model = model
        self.source = source
        self.pg = ctx.dialect == "postgres"
        # --assume-in-transaction: the migration tool wraps the whole file in a transaction.
        self.assume_tx = assume_in_transaction
        self.in_tx = assume_in_transaction
        self.begin_stmt: ir.Stmt | None = None  # the explicit BEGIN still open
        self.not_valid_in_tx: set[tuple[str, str]] = set()  # (table key, constraint) added NOT VALID in this tx
        self.lock_timeout = False
        self.lock_reported = False
        self.statement_timeout = False
        self.timeout_reported = False
        # Tables and indexes this input creates: before their CREATE they are the dump's --clean preamble.
        self.future_tables = {s.table.key for s in stmts if s.kind == "create_table"}
        self.future_indexes = {s.index.name.lower() for s in stmts if s.kind == "create_index" and s.index.name}

    # --- context ---------------------------------------------------------------------------

    def is_new(self, name: ir.TableName) -> bool:
        t = self.model.table(name)
        if t is None:
            return name.key in self.future_tables
        return t.kind != "stub" and t.origin.source == self.source

    def emit(self, rule, stmt, table, column=None, obj=None, message="", fix="", loc=-1):
        self.ctx.emit(rule, self.ctx.origin(self.source, stmt.line, loc), table, column, obj, message, fix)

    def strong_lock(self, stmt, table: str) -> None:
        if self.pg and not self.lock_timeout and not self.lock_reported:
            self.lock_reported = True
            self.emit("missing-lock-timeout", stmt, table, message=(
                f"Line {stmt.line} takes a strong lock on {table} without SET lock_timeout earlier in the migration."),
                fix="SET lock_timeout = '5s';  -- first statement of the migration; retry on timeout")

    def long_running(self, stmt, table: str | None, what: str) -> None:
        if self.pg and not self.statement_timeout and not self.timeout_reported:
            self.timeout_reported = True
            self.emit("missing-statement-timeout", stmt, table, message=(
                f"{what} at line {stmt.line} can run for a long time, and no SET statement_timeout comes before it."),
                fix="SET statement_timeout = '15min';  -- before the long statement: a bound you accept\n"
                    "-- inside a transaction: SET LOCAL statement_timeout = '15min';")

    # --- dispatch --------------------------------------------------------------------------

    def check(self, stmt: ir.Stmt) -> None:
        kind = stmt.kind
        if kind == "transaction":
            session.transaction(self, stmt)
        elif kind == "lock_timeout":
            self.lock_timeout = stmt.enabled
        elif kind == "statement_timeout":
            self.statement_timeout = stmt.enabled
        elif kind in session.HANDLERS:
            session.HANDLERS[kind](self, stmt)
        elif kind == "create_index":
            self._create_index(stmt)
        elif kind == "drop_index":
            self._drop_index(stmt)
        elif kind == "drop_table":
            self._drop_table(stmt)
        elif kind == "alter_table":
            self._alter(stmt)
        if self.pg and kind in ("create_table", "create_index", "alter_table"):
            session.identifiers(self, stmt)

    def finish(self) -> None:
        """After the last statement: what the file as a whole left undone."""
        session.finish(self)

    def _concurrently_in_tx(self, stmt, table: str, obj: str | None) -> None:
        self.emit("concurrently-in-transaction", stmt, table, None, obj,
                  f"CONCURRENTLY at line {stmt.line} runs inside BEGIN ... COMMIT, where PostgreSQL rejects it.",
                  "-- move this statement out of the transaction block, into its own migration\n"
                  "-- (Rails: disable_ddl_transaction!; Django: atomic = False; Alembic: op.get_context().autocommit_block())\n"
                  + self.ctx.stmt_text(self.source, stmt) + ";")

    def _create_index(self, stmt: ir.CreateIndex) -> None:
        idx = stmt.index
        table = idx.table.name
        if self.pg and stmt.concurrently and self.in_tx:
            self._concurrently_in_tx(stmt, table, idx.name)
        if self.pg and stmt.concurrently and not self.is_new(idx.table):
            self.long_running(stmt, table, f"CREATE INDEX CONCURRENTLY {idx.name or ''}".rstrip())
        if not self.pg or stmt.concurrently or self.is_new(idx.table):
            return
        t = self.model.table(idx.table)
        if t is not None and t.partitioned:
            fix = (f"-- {table} is partitioned: CONCURRENTLY is not supported on the parent. Create the parent "
                   f"index ON ONLY {table}, build each partition's index CONCURRENTLY, then ALTER INDEX ... ATTACH "
                   f"PARTITION.")
        else:
            text = self.ctx.stmt_text(self.source, stmt)
            fix = re.sub(r"(?is)^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX)\s+", r"\1 CONCURRENTLY ", text, count=1) + ";"
            fix += "\n-- outside any transaction block"
        self.emit("create-index-non-concurrently", stmt, table, None, idx.name,
                  f"CREATE INDEX {idx.name or ''} on existing table {table} blocks writes while it builds.".replace("  ", " "),
                  fix)
        self.strong_lock(stmt, table)

    def _drop_index(self, stmt: ir.DropIndex) -> None:
        for name in stmt.names:
            idx = self.model.find_index(name, stmt.table.key if stmt.table else None)
            t = self.model.tables.get(idx.table_key) if idx is not None else None
            table = t.name.name if t is not None else (stmt.table.name if stmt.table else None)
            if self.pg and stmt.concurrently and self.in_tx:
                self._concurrently_in_tx(stmt, table, name.name)
            if not self.pg or stmt.concurrently:
                continue
            if idx is None and name.name.lower() in self.future_indexes:
                continue  # pg_dump --clean preamble
            if t is not None and self.is_new(t.name):
                continue  # an index created in this file on an existing table still locks that table
            exists = " IF EXISTS" if stmt.if_exists else ""
            self.emit("drop-index-non-concurrently", stmt, table, None, name.name,
                      f"DROP INDEX {name.name} takes an ACCESS EXCLUSIVE lock on {table or 'its table'}.",
                      f"DROP INDEX CONCURRENTLY{exists} {qt(name, 'postgres')};  -- outside any transaction block")
            self.strong_lock(stmt, table)

    def _drop_table(self, stmt: ir.DropTable) -> None:
        d = self.ctx.dialect
        for name in stmt.names:
            if self.is_new(name):
                continue
            self.emit("drop-table", stmt, name.name, message=f"DROP TABLE {name.name} destroys its data and breaks "
                      f"code still using it.",
                      fix=f"-- 1. ship code that no longer uses {name.name}; 2. back it up; 3. in a later release:\n"
                      f"ALTER TABLE {qt(name, d)} RENAME TO {q(name.name + '_deprecated', d)};  -- quick to revert\n"
                      f"-- ...and once nothing broke:\nDROP TABLE {q(name.name + '_deprecated', d)};")
            self.strong_lock(stmt, name.name)

    # --- ALTER TABLE -----------------------------------------------------------------------

    def _alter(self, stmt: ir.AlterTable) -> None:
        name = stmt.table
        if self.is_new(name):
            return
        if self.pg:
            session.not_valid_then_validate(self, stmt)
        table = name.name
        t = self.model.table(name)
        d = self.ctx.dialect
        tq = qt(name, d)
        strong = False
        for cmd in stmt.cmds:
            op = cmd.op
            if op == "rename_column":
                # MySQL's CHANGE old new TYPE carries the type in the next action.
                typ = next((c.type.display() for c in stmt.cmds if c.op == "alter_type" and c.type is not None
                            and (c.name or "").lower() == (cmd.new_name or "").lower()), None)
                self.emit("rename-column", stmt, table, cmd.name, None,
                          f"Renaming {table}.{cmd.name} to {cmd.new_name} breaks the app version still running.",
                          _rename_column_fix(tq, cmd.name, cmd.new_name, d, t, typ))
            elif op == "rename_table":
                self.emit("rename-table", stmt, table, None, None,
                          f"Renaming table {table} to {cmd.new_name} breaks the app version still running.",
                          (f"RENAME TABLE {tq} TO {q(cmd.new_name, d)};\n" if d == "mysql" else
                           f"ALTER TABLE {tq} RENAME TO {q(cmd.new_name, d)};\n") +
                          f"CREATE VIEW {tq} AS SELECT * FROM {q(cmd.new_name, d)};  -- old name keeps working\n"
                          f"-- later release, once no code uses {table}:\nDROP VIEW {tq};")
            elif op == "drop_column":
                self.emit("drop-column", stmt, table, cmd.name, None,
                          f"Dropping {table}.{cmd.name} loses its data and breaks code still reading it.",
                          f"-- 1. ship code that ignores {table}.{cmd.name} (Rails: self.ignored_columns += "
                          f"[\"{cmd.name}\"]);\n-- 2. in a later release:\n"
                          f"ALTER TABLE {tq} DROP COLUMN {q(cmd.name, d)};")
            elif op == "drop_not_null":
                self.emit("drop-not-null", stmt, table, cmd.name, None,
                          f"Dropping NOT NULL on {table}.{cmd.name} lets NULLs in while code may still assume a value.",
                          f"-- first make every reader handle NULL in {table}.{cmd.name}, then:\n"
                          + self.ctx.stmt_text(self.source, stmt) + ";")
            elif self.pg:
                self._pg_cmd(stmt, cmd, t, table, tq)
            if op not in ("other_weak", "validate_constraint"):
                strong = True
            elif op == "validate_constraint" and self.pg:
                self.long_running(stmt, table, f"VALIDATE CONSTRAINT {cmd.name}")
        if strong:
            self.strong_lock(stmt, table)

    def _pg_cmd(self, stmt, cmd: ir.AlterCmd, t, table: str, tq: str) -> None:
        op = cmd.op
        d = "postgres"
        pgv = self.ctx.pg_version
        if op == "add_column":
            col = cmd.column
            cq = q(col.name, d)
            typ = col.type.display()
            if col.type.serial:
                typ = {"int2": "smallint", "int4": "integer", "int8": "bigint"}[col.type.base]
            rewrites = (col.identity or col.generated or col.type.serial
                        or (col.default is not None and (col.default.volatile or (pgv < 11 and not col.default.is_null))))
            if col.not_null and col.default is None and not rewrites:
                check = object_name(table, [col.name], "not_null")
                self.emit("add-column-not-null-no-default", stmt, table, col.name, None,
                          f"ADD COLUMN {col.name} NOT NULL without a default fails on a non-empty {table}.",
                          f"ALTER TABLE {tq} ADD COLUMN {cq} {typ};\n"
                          f"-- backfill in batches of a few thousand rows:\n"
                          f"UPDATE {tq} SET {cq} = <value> WHERE {cq} IS NULL AND <key range>;\n"
                          + _not_null_recipe(tq, table, col.name, pgv, check), cmd.loc)
            elif rewrites:
                what = ("an identity column" if col.identity else "a stored generated column" if col.generated
                        else "serial (nextval())" if col.type.serial
                        else f"the default {col.default.sql}, which calls {col.default.unknown}() that the review does "
                             f"not know (PostgreSQL treats a function as VOLATILE unless declared otherwise)"
                        if col.default.volatile and col.default.unknown
                        else f"the volatile default {col.default.sql}" if col.default.volatile
                        else f"a default ({col.default.sql}) before PostgreSQL 11")
                default_sql = col.default.sql if col.default is not None and not col.type.serial else "..."
                self.emit("add-column-volatile-default", stmt, table, col.name, None,
                          f"ADD COLUMN {table}.{col.name} with {what} rewrites the whole table.",
                          f"ALTER TABLE {tq} ADD COLUMN {cq} {typ};\n"
                          f"ALTER TABLE {tq} ALTER COLUMN {cq} SET DEFAULT {default_sql};  -- new rows only\n"
                          f"-- backfill existing rows in batches:\n"
                          f"UPDATE {tq} SET {cq} = {default_sql} WHERE {cq} IS NULL AND <key range>;", cmd.loc)
            for cdef in col.constraints:
                self._constraint(stmt, cdef, table, tq, new_column=col.name, new_type=typ)
        elif op == "add_constraint":
            self._constraint(stmt, cmd.constraint, table, tq)
        elif op == "set_not_null":
            if pgv >= 12 and t is not None and any(
                c.kind == "check" and c.validated and c.notnull_col and c.notnull_col.lower() == (cmd.name or "").lower()
                for c in t.constraints
            ):
                return
            check = object_name(table, [cmd.name], "not_null")
            self.emit("set-not-null", stmt, table, cmd.name, None,
                      f"SET NOT NULL on {table}.{cmd.name} scans the table under an ACCESS EXCLUSIVE lock.",
                      _not_null_recipe(tq, table, cmd.name, pgv, check))
        elif op == "alter_type":
            col = t.column(cmd.name) if t is not None else None
            if col is None and cmd.type.base == "timestamp" and not cmd.type.array:
                # Without --schema the column is unknown to the model, so the design rule cannot see it.
                self.emit("timestamp-without-time-zone", stmt, table, cmd.name, None,
                          f"{table}.{cmd.name} becomes timestamp without time zone.",
                          f"ALTER TABLE {tq} ALTER COLUMN {q(cmd.name, d)} TYPE timestamptz;  -- instead")
            if col is not None and not cmd.using and _safe_type_change(col.type, cmd.type):
                return
            old = col.type.display() if col is not None else "its current type"
            new = cmd.type.display()
            cq = q(cmd.name, d)
            tmp = q(cmd.name + "_new", d)
            self.emit("change-column-type", stmt, table, cmd.name, None,
                      f"Changing {table}.{cmd.name} from {old} to {new} rewrites the table under an ACCESS EXCLUSIVE lock.",
                      f"-- expand/contract instead of an in-place rewrite:\n"
                      f"ALTER TABLE {tq} ADD COLUMN {tmp} {new};\n"
                      f"-- write both columns from the app (or a trigger), then backfill in batches:\n"
                      f"UPDATE {tq} SET {tmp} = {cq}::{new} WHERE {tmp} IS NULL AND <key range>;\n"
                      f"-- switch reads to {cmd.name}_new, then in one short transaction:\n"
                      f"ALTER TABLE {tq} RENAME COLUMN {cq} TO {q(cmd.name + '_old', d)};\n"
                      f"ALTER TABLE {tq} RENAME COLUMN {tmp} TO {cq};\n"
                      f"-- later release: ALTER TABLE {tq} DROP COLUMN {q(cmd.name + '_old', d)};")

    def _constraint(self, stmt, cdef: ir.ConstraintDef, table: str, tq: str, new_column: str | None = None,
                    new_type: str = "") -> None:
        d = "postgres"
        kind = cdef.kind
        if kind == "fk" and not cdef.not_valid:
            name = cdef.name or object_name(table, cdef.columns, "fkey")
            ref = cdef.ref_table
            ref_cols = f" ({cols(cdef.ref_columns, d)})" if cdef.ref_columns else ""
            pre = (f"ALTER TABLE {tq} ADD COLUMN {q(new_column, d)} {new_type};  -- first, without REFERENCES\n"
                   if new_column else "")
            self.emit("add-foreign-key-validating", stmt, table, ", ".join(cdef.columns), cdef.name,
                      f"Foreign key on {table}({', '.join(cdef.columns)}) is validated while both tables are locked.",
                      pre + f"ALTER TABLE {tq} ADD CONSTRAINT {q(name, d)} FOREIGN KEY ({cols(cdef.columns, d)}) "
                      f"REFERENCES {qt(ref, d)}{ref_cols} NOT VALID;\n"
                      f"ALTER TABLE {tq} VALIDATE CONSTRAINT {q(name, d)};  -- separate transaction", cdef.loc)
        elif kind == "check" and not cdef.not_valid:
            name = cdef.name or object_name(table, cdef.columns or ["check"], "check")
            self.emit("add-check-constraint-validating", stmt, table, cdef.columns[0] if cdef.columns else None,
                      cdef.name, f"CHECK constraint on {table} is validated under an ACCESS EXCLUSIVE lock.",
                      f"ALTER TABLE {tq} ADD CONSTRAINT {q(name, d)} CHECK ({cdef.expr_sql}) NOT VALID;\n"
                      f"ALTER TABLE {tq} VALIDATE CONSTRAINT {q(name, d)};  -- separate transaction", cdef.loc)
        elif kind in ("unique", "pk") and not cdef.using_index:
            rule = "add-unique-constraint" if kind == "unique" else "add-primary-key"
            name = cdef.name or (object_name(table, cdef.columns, "key") if kind == "unique" else f"{table}_pkey")
            what = "UNIQUE" if kind == "unique" else "PRIMARY KEY"
            pre = ""
            if kind == "pk":
                pre = "-- the key columns must already be NOT NULL (see the set-not-null recipe)\n"
            self.emit(rule, stmt, table, ", ".join(cdef.columns) or new_column, cdef.name,
                      f"ADD {what} on {table}({', '.join(cdef.columns)}) builds its index under an ACCESS EXCLUSIVE lock.",
                      pre + f"CREATE UNIQUE INDEX CONCURRENTLY {q(name, d)} ON {tq} ({cols(cdef.columns, d)});\n"
                      f"ALTER TABLE {tq} ADD CONSTRAINT {q(name, d)} {what} USING INDEX {q(name, d)};", cdef.loc)


def _not_null_recipe(tq: str, table: str, column: str, pgv: int, check: str) -> str:
    cq = q(column, "postgres")
    if pgv >= 12:
        return (f"ALTER TABLE {tq} ADD CONSTRAINT {check} CHECK ({cq} IS NOT NULL) NOT VALID;\n"
                f"ALTER TABLE {tq} VALIDATE CONSTRAINT {check};  -- no blocking lock\n"
                f"ALTER TABLE {tq} ALTER COLUMN {cq} SET NOT NULL;  -- PostgreSQL 12+ skips the scan\n"
                f"ALTER TABLE {tq} DROP CONSTRAINT {check};")
    return (f"-- PostgreSQL {pgv} cannot skip the scan: enforce it with a validated CHECK instead\n"
            f"ALTER TABLE {tq} ADD CONSTRAINT {check} CHECK ({cq} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {tq} VALIDATE CONSTRAINT {check};")


def _rename_column_fix(tq: str, old: str, new: str, d: str, t, typ: str | None = None) -> str:
    col = t.column(old) if t is not None else None
    typ = typ or (col.type.display() if col is not None else "<type>")
    return (f"-- expand/contract:\nALTER TABLE {tq} ADD COLUMN {q(new, d)} {typ};\n"
            f"-- write both columns from the app, backfill {new} from {old} in batches, move reads to {new};\n"
            f"-- later release:\nALTER TABLE {tq} DROP COLUMN {q(old, d)};")


def _safe_type_change(old: ir.TypeRef, new: ir.TypeRef) -> bool:
    if old.array != new.array:
        return False
    if old.same_as(new):
        return True
    if old.base in _TEXTISH and new.base == "text":
        return True
    if old.base == "varchar" and new.base == "varchar":
        return not new.mods or (old.mods and new.mods[0] >= old.mods[0])
    if old.base == "text" and new.base == "varchar" and not new.mods:
        return True
    if old.base == "numeric" and new.base == "numeric":
        if not new.mods:
            return True
        if len(old.mods) >= 1 and len(new.mods) >= 1:
            old_scale = old.mods[1] if len(old.mods) > 1 else 0
            new_scale = new.mods[1] if len(new.mods) > 1 else 0
            return new.mods[0] >= old.mods[0] and new_scale == old_scale
    if old.base in ("varbit", "bit varying") and new.base == old.base:
        return not new.mods or (old.mods and new.mods[0] >= old.mods[0])
    if old.base == "cidr" and new.base == "inet":
        return True
    return False
