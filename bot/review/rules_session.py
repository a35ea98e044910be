"""Migration checks on transactions, session statements and whole-database statements (PostgreSQL):
transaction nesting, NOT VALID then VALIDATE in one transaction, REINDEX, LOCK TABLE, TRUNCATE
CASCADE, domain constraints, DROP DATABASE / DROP SCHEMA CASCADE, backfill UPDATEs, and identifiers
PostgreSQL would truncate. Each function takes the file's MigrationChecker and one statement.
"""

from __future__ import annotations

import re

from . import ir
from .sqltext import q, qt

MAX_IDENTIFIER_BYTES = 63

LOCK_MODES = {
    1: ("ACCESS SHARE", "ALTER TABLE, DROP TABLE, VACUUM FULL and other ACCESS EXCLUSIVE statements"),
    2: ("ROW SHARE", "EXCLUSIVE and ACCESS EXCLUSIVE locks (REFRESH MATERIALIZED VIEW CONCURRENTLY, most ALTER TABLE)"),
    3: ("ROW EXCLUSIVE", "CREATE INDEX, and every SHARE or stronger lock"),
    4: ("SHARE UPDATE EXCLUSIVE", "VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY and schema changes"),
    5: ("SHARE", "every INSERT, UPDATE and DELETE"),
    6: ("SHARE ROW EXCLUSIVE", "every INSERT, UPDATE and DELETE, and other SHARE ROW EXCLUSIVE locks"),
    7: ("EXCLUSIVE", "every write and SELECT ... FOR UPDATE; only plain SELECT still runs"),
    8: ("ACCESS EXCLUSIVE", "every statement on the table, plain SELECT included"),
}


def transaction(ck, stmt: ir.Transaction) -> None:
    if stmt.op == "begin":
        if ck.pg and ck.in_tx:
            why = ("the migration tool already runs this file in a transaction (--assume-in-transaction)"
                   if ck.begin_stmt is None else f"the transaction opened at line {ck.begin_stmt.line} is still open")
            ck.emit("transaction-nesting", stmt, None, message=f"BEGIN at line {stmt.line} is nested: {why}.",
                    fix="-- remove this BEGIN (and its COMMIT): let the migration tool own the transaction,\n"
                        "-- or turn the tool's transaction off for this migration")
        ck.in_tx = True
        ck.begin_stmt = ck.begin_stmt or stmt
        return
    if ck.pg and (not ck.in_tx or (ck.assume_tx and ck.begin_stmt is None)):
        why = ("it ends the migration tool's own transaction early (--assume-in-transaction)" if ck.in_tx
               else "no transaction is open")
        ck.emit("transaction-nesting", stmt, None, message=f"COMMIT/ROLLBACK at line {stmt.line}: {why}.",
                fix="-- remove this COMMIT, or add the BEGIN it belongs to")
    ck.in_tx = False
    ck.begin_stmt = None
    ck.not_valid_in_tx.clear()


def finish(ck) -> None:
    if ck.pg and ck.begin_stmt is not None and not ck.assume_tx:
        ck.emit("uncommitted-transaction", ck.begin_stmt, None,
                message=f"The transaction opened at line {ck.begin_stmt.line} is never committed in this file.",
                fix="COMMIT;  -- at the end of the migration")


def not_valid_then_validate(ck, stmt: ir.AlterTable) -> None:
    key = stmt.table.key
    for cmd in stmt.cmds:
        if cmd.op == "add_constraint" and cmd.constraint.not_valid and cmd.constraint.name and ck.in_tx:
            ck.not_valid_in_tx.add((key, cmd.constraint.name.lower()))
        elif cmd.op == "validate_constraint" and (key, (cmd.name or "").lower()) in ck.not_valid_in_tx:
            table = stmt.table.name
            ck.emit("validate-in-same-transaction", stmt, table, None, cmd.name,
                    f"VALIDATE CONSTRAINT {cmd.name} runs in the same transaction that added it NOT VALID, so "
                    f"{table} stays locked for the whole scan.",
                    "COMMIT;  -- end the transaction that added the constraint NOT VALID\n"
                    + ck.ctx.stmt_text(ck.source, stmt) + ";  -- then validate, in its own transaction or migration")


def reindex(ck, stmt: ir.Reindex) -> None:
    name = stmt.name
    table = _reindexed_table(ck, stmt)
    if table is not None and ck.is_new(table):
        return
    shown = table.name if table is not None else None
    obj = str(name) if name is not None else None
    if stmt.concurrently:
        if ck.in_tx:
            ck._concurrently_in_tx(stmt, shown, obj)
        ck.long_running(stmt, shown, "REINDEX CONCURRENTLY")
        return
    target = f"{stmt.target.upper()} {name}" if name is not None else stmt.target.upper()
    fix = f"REINDEX {stmt.target.upper()} CONCURRENTLY" + (f" {qt(name, 'postgres')}" if name is not None else "") + \
        ";  -- outside any transaction block"
    if ck.ctx.pg_version < 12:
        fix = (f"-- PostgreSQL {ck.ctx.pg_version} has no REINDEX CONCURRENTLY: build a replacement with CREATE INDEX "
               f"CONCURRENTLY, then DROP INDEX CONCURRENTLY the old one and rename the new one\n-- (PostgreSQL 12+: "
               + fix + ")")
    ck.emit("reindex-non-concurrently", stmt, shown, None, obj,
            f"REINDEX {target} locks out writes (and reads using the index) while it rebuilds.", fix)
    ck.strong_lock(stmt, shown or obj or stmt.target)


def _reindexed_table(ck, stmt: ir.Reindex) -> ir.TableName | None:
    if stmt.name is None:
        return None
    if stmt.target == "table":
        return stmt.name
    if stmt.target == "index":
        idx = ck.model.find_index(stmt.name)
        t = ck.model.tables.get(idx.table_key) if idx is not None else None
        return t.name if t is not None else None
    return None


def lock_table(ck, stmt: ir.LockTable) -> None:
    mode, blocks = LOCK_MODES.get(stmt.mode, LOCK_MODES[8])
    for name in stmt.names:
        if ck.is_new(name):
            continue
        outside = "" if ck.in_tx else " (and outside a transaction block LOCK TABLE fails outright)"
        ck.emit("lock-table", stmt, name.name, None, None,
                f"LOCK TABLE {name.name} IN {mode} MODE blocks {blocks} until the transaction ends{outside}.",
                "SET lock_timeout = '5s';  -- give up quickly instead of queueing everyone behind the lock\n"
                "-- and drop the explicit LOCK unless the migration truly needs it; keep the transaction short")
        ck.strong_lock(stmt, name.name)


def truncate(ck, stmt: ir.Truncate) -> None:
    if not stmt.cascade:
        return
    names = ", ".join(str(n) for n in stmt.names)
    ck.emit("truncate-cascade", stmt, stmt.names[0].name if stmt.names else None, None, None,
            f"TRUNCATE {names} CASCADE also empties every table that references {names}, without naming them.",
            f"TRUNCATE {', '.join(qt(n, 'postgres') for n in stmt.names)}, <each referencing table, named>;  "
            f"-- no CASCADE: it fails if one is missed")


def domain_check(ck, stmt: ir.DomainCheck) -> None:
    name = stmt.constraint or f"{stmt.name.split('.')[-1]}_check"
    if stmt.created:
        message = f"CREATE DOMAIN {stmt.name} has a CHECK constraint that every later change must re-verify " \
                  f"on all tables using it."
    else:
        message = f"ALTER DOMAIN {stmt.name} ADD CONSTRAINT scans every column using the domain, under lock."
    ck.emit("domain-check-constraint", stmt, None, None, stmt.name, message,
            f"-- prefer a CHECK on each table column (ADD CONSTRAINT ... NOT VALID, then VALIDATE), or:\n"
            f"ALTER DOMAIN {stmt.name} ADD CONSTRAINT {q(name, 'postgres')} CHECK ({stmt.expr_sql}) NOT VALID;\n"
            f"ALTER DOMAIN {stmt.name} VALIDATE CONSTRAINT {q(name, 'postgres')};  -- separate transaction")


def drop_database(ck, stmt: ir.DropDatabase) -> None:
    what = "DROP DATABASE" if stmt.what == "database" else "DROP SCHEMA ... CASCADE"
    names = ", ".join(stmt.names)
    ck.emit("drop-database", stmt, None, None, names,
            f"{what} {names} at line {stmt.line} destroys everything in it.",
            "-- remove this statement from the migration; drop unused objects one by one in a reviewed release")


def update(ck, stmt: ir.Update) -> None:
    if not ck.is_new(stmt.table):
        ck.long_running(stmt, stmt.table.name, f"UPDATE {stmt.table.name}")


HANDLERS = {
    "reindex": reindex,
    "lock_table": lock_table,
    "truncate": truncate,
    "domain_check": domain_check,
    "drop_database": drop_database,
    "update": update,
}


_WORDS_SOURCE = (r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/|\"((?:[^\"]|\"\")+)\"|([^\W\d][\w$]*)", re.S)
_WORDS: list = []  # compiled on first use: most statements never need the scan


def identifiers(ck, stmt: ir.Stmt) -> None:
    """Names PostgreSQL would silently cut to 63 bytes.

    The parser has already truncated them in the parse tree, so the statement's text is scanned.
    """
    defined = {n for n in _names(stmt) if (len(n) if n.isascii() else len(n.encode("utf-8"))) >= MAX_IDENTIFIER_BYTES - 2}
    if not defined:
        return  # a name cut to 63 bytes is 61 to 63 bytes long (the cut keeps whole characters)
    text = ck.ctx.stmt_text(ck.source, stmt)
    table = stmt.table.name if stmt.kind != "create_index" else stmt.index.table.name
    seen = set()
    if not _WORDS:
        _WORDS.append(re.compile(*_WORDS_SOURCE))
    for m in _WORDS[0].finditer(text):
        name = m.group(1) or m.group(2)
        if not name or name in seen:
            continue
        seen.add(name)
        size = len(name.encode("utf-8"))
        if size > MAX_IDENTIFIER_BYTES:
            cut = name.encode("utf-8")[:MAX_IDENTIFIER_BYTES].decode("utf-8", "ignore")
            if cut not in defined:
                continue  # a reference to an object defined elsewhere, reported where it is defined
            ck.emit("identifier-too-long", stmt, table, None, name,
                    f"The name {name[:30]}... is {size} bytes; PostgreSQL silently truncates it to {cut}.",
                    f"-- use a name of at most {MAX_IDENTIFIER_BYTES} bytes instead of {name}")


def _names(stmt: ir.Stmt):
    """The names a statement defines, as the parser returned them (already truncated)."""
    if stmt.kind == "create_table":
        yield stmt.table.name
        for c in stmt.columns:
            yield c.name
            for con in c.constraints:
                yield con.name or ""
        for con in stmt.constraints:
            yield con.name or ""
    elif stmt.kind == "create_index":
        yield stmt.index.name or ""
    elif stmt.kind == "alter_table":
        yield stmt.table.name
        for cmd in stmt.cmds:
            yield cmd.new_name or ""
            if cmd.column is not None:
                yield cmd.column.name
            if cmd.constraint is not None:
                yield cmd.constraint.name or ""
