"""The 43 rule ids: default severity, knowledge note, one-line title, and the `why` that teaches the pattern.

Severities where the spec is silent were chosen as follows:
- error: the statement fails or corrupts data as written (add-column-not-null-no-default,
  concurrently-in-transaction, float-money).
- warning: everything else that a senior reviewer would ask to change before merging.
- info: advice that depends on context (serial-primary-key, wide-table, missing-lock-timeout,
  missing-statement-timeout, drop-not-null).
- drop-database is an error: a migration should never drop a whole database or schema.
The `why` texts depend on the dialect and, for PostgreSQL, on the target version.
"""

from __future__ import annotations

# id: (severity, note, title)
RULES: dict[str, tuple[str, str, str]] = {
    # design
    "no-primary-key": ("warning", "primary-keys", "Table without a primary key"),
    "fk-missing-index": ("warning", "indexing-strategies", "Foreign key without a supporting index"),
    "implicit-foreign-key": ("warning", "database-constraints", "Reference column without a foreign key"),
    "float-money": ("error", "data-types", "Money stored in a floating-point column"),
    "money-type": ("warning", "data-types", "PostgreSQL money type"),
    "timestamp-without-time-zone": ("warning", "data-types", "timestamp without time zone"),
    "char-n": ("warning", "data-types", "Blank-padded char(n) column"),
    "int-primary-key": ("warning", "primary-keys", "32-bit or 16-bit integer primary key"),
    "serial-primary-key": ("info", "primary-keys", "serial primary key instead of an identity column"),
    "redundant-index": ("warning", "indexing-strategies", "Redundant index"),
    "polymorphic-association": ("warning", "sql-antipatterns", "Polymorphic association"),
    "eav-table": ("warning", "sql-antipatterns", "Entity-attribute-value table"),
    "comma-separated-list": ("warning", "sql-antipatterns", "Delimited list stored in a string column"),
    "reserved-word-identifier": ("warning", "schema-design-fundamentals", "Reserved word used as a name"),
    "wide-table": ("info", "normalization-and-denormalization", "Very wide table"),
    "fk-type-mismatch": ("warning", "database-constraints", "Foreign key type differs from the referenced column"),
    # migration safety
    "add-column-not-null-no-default": ("error", "backfills", "NOT NULL column added without a default"),
    "add-column-volatile-default": ("warning", "postgres-locking-migrations", "Column added with a rewriting default"),
    "create-index-non-concurrently": ("warning", "postgres-locking-migrations", "Index built without CONCURRENTLY"),
    "drop-index-non-concurrently": ("warning", "postgres-locking-migrations", "Index dropped without CONCURRENTLY"),
    "concurrently-in-transaction": ("error", "postgres-locking-migrations", "CONCURRENTLY inside a transaction block"),
    "add-foreign-key-validating": ("warning", "postgres-locking-migrations", "Foreign key added and validated at once"),
    "add-check-constraint-validating": ("warning", "postgres-locking-migrations", "CHECK added and validated at once"),
    "set-not-null": ("warning", "postgres-locking-migrations", "SET NOT NULL scans the table under a strong lock"),
    "change-column-type": ("warning", "postgres-locking-migrations", "Column type change rewrites the table"),
    "rename-column": ("warning", "zero-downtime-migrations", "Column renamed in place"),
    "rename-table": ("warning", "zero-downtime-migrations", "Table renamed in place"),
    "drop-column": ("warning", "zero-downtime-migrations", "Column dropped"),
    "drop-table": ("warning", "zero-downtime-migrations", "Table dropped"),
    "add-unique-constraint": ("warning", "postgres-locking-migrations", "UNIQUE constraint built under a strong lock"),
    "add-primary-key": ("warning", "postgres-locking-migrations", "PRIMARY KEY built under a strong lock"),
    "missing-lock-timeout": ("info", "postgres-locking-migrations", "Strong locks taken without a lock_timeout"),
    # migration safety, from squawk's rules (issue 11)
    "validate-in-same-transaction": ("warning", "postgres-locking-migrations",
                                     "NOT VALID constraint validated in the same transaction"),
    "reindex-non-concurrently": ("warning", "postgres-locking-migrations", "REINDEX without CONCURRENTLY"),
    "lock-table": ("warning", "postgres-locking-migrations", "Explicit LOCK TABLE"),
    "truncate-cascade": ("warning", "zero-downtime-migrations", "TRUNCATE ... CASCADE"),
    "transaction-nesting": ("warning", "postgres-locking-migrations", "BEGIN or COMMIT out of place"),
    "uncommitted-transaction": ("warning", "postgres-locking-migrations", "Transaction opened and never committed"),
    "domain-check-constraint": ("warning", "postgres-locking-migrations", "CHECK constraint on a domain"),
    "identifier-too-long": ("warning", "schema-design-fundamentals", "Identifier longer than 63 bytes"),
    "drop-not-null": ("info", "zero-downtime-migrations", "NOT NULL dropped while old code relies on it"),
    "drop-database": ("error", "zero-downtime-migrations", "DROP DATABASE or DROP SCHEMA ... CASCADE"),
    "missing-statement-timeout": ("info", "postgres-locking-migrations",
                                  "Long-running DDL without a statement_timeout"),
}

NOTE_IDS = frozenset((
    "indexing-strategies", "data-types", "primary-keys", "sql-antipatterns", "schema-design-fundamentals",
    "database-constraints", "postgres-locking-migrations", "zero-downtime-migrations", "backfills",
    "normalization-and-denormalization",
))

_WHY: dict[str, str] = {
    "no-primary-key": (
        "Without a primary key nothing prevents duplicate rows, and a single row can only be addressed by "
        "comparing every column. Logical replication and change-data-capture tools need a key to apply UPDATE "
        "and DELETE, and ORMs assume one. Give every table a primary key: a bigint identity surrogate, or the "
        "natural key when one truly exists (the pair of foreign keys of a join table)."
    ),
    "fk-missing-index": (
        "{engine} does not index foreign-key columns by itself. Without an index whose leading columns are the "
        "foreign key, every DELETE or key UPDATE on the referenced table scans this whole table to look for "
        "referencing rows, and joins from parent to children cannot use an index. Index the foreign-key columns "
        "unless the table stays tiny or parent rows are never deleted."
    ),
    "implicit-foreign-key": (
        "The column name says it points at another table, but no FOREIGN KEY enforces it, so orphaned or "
        "mistyped ids can be written and deleting the parent neither cascades nor is refused. A declared "
        "foreign key keeps the data consistent at the one layer every writer goes through, and documents the "
        "relationship for people and tools."
    ),
    "float-money": (
        "Binary floating-point types cannot represent most decimal fractions exactly (0.1 + 0.2 = "
        "0.30000000000000004), and the rounding errors add up across sums, so totals drift by cents and "
        "reconciliations fail. Store money as an exact decimal with an explicit scale, or as an integer count "
        "of the currency's minor unit, next to the currency code."
    ),
    "money-type": (
        "PostgreSQL's money type takes its fractional precision and formatting from the lc_monetary setting, "
        "so the same data reads and parses differently on servers with different locales, and one column "
        "cannot hold several currencies. It also converts awkwardly to numeric and gives no control over "
        "rounding. Use numeric(p,s) plus a currency column, or integer minor units."
    ),
    "timestamp-without-time-zone": (
        "timestamp without time zone stores a wall-clock reading with no zone, so the same instant is written "
        "differently by clients in different zones, and daylight-saving transitions create ambiguous or "
        "impossible values. timestamptz stores an absolute instant (normalized to UTC, same 8 bytes) and "
        "converts to the session TimeZone on output. Keep timestamp only for zone-less civil times, such as a "
        "local opening hour."
    ),
    "char-n": (
        "char(n) pads every value with spaces to n characters, and the padding is ignored by some operations "
        "(= comparison) but not others (LIKE, casts to text, client code), which causes subtle bugs. In "
        "PostgreSQL it is never faster than varchar or text: they share the same storage and char(n) only adds "
        "the padding work. Use text, with a CHECK on the length if it really is fixed."
    ),
    "int-primary-key": (
        "A 32-bit integer key ends at 2,147,483,647 (4,294,967,295 unsigned) and a 16-bit smallint at 32,767; busy tables, and sequences that "
        "skip values on failed inserts, reach it sooner than expected, and then every insert fails. Widening it "
        "later rewrites the table and every referencing foreign-key column under heavy locks. bigint costs 4 "
        "more bytes per row and removes the risk."
    ),
    "serial-primary-key": (
        "serial is a legacy shorthand for an integer column with a separately owned sequence, which needs its "
        "own grants and is easy to get out of sync when data is copied. Identity columns (PostgreSQL 10+) are "
        "the SQL-standard replacement: the sequence belongs to the column, and GENERATED ALWAYS rejects "
        "accidental hand-written ids."
    ),
    "redundant-index": (
        "An index whose columns equal, or are a leading prefix of, another index on the same table adds "
        "nothing for reads, because the other index serves the same lookups. It still costs on every INSERT, "
        "UPDATE and DELETE, and takes disk, cache, vacuum and WAL/redo volume. Drop it, unless it enforces "
        "uniqueness or uses a different method or operator class."
    ),
    "polymorphic-association": (
        "A <name>_type plus <name>_id pair lets one column point at rows of several tables, so no foreign key "
        "can be declared: the database cannot prevent dangling references or cascade deletes, and every join "
        "needs a type filter. Prefer one nullable foreign-key column per target with a CHECK that exactly one "
        "is set (an exclusive arc), or a common parent table that every target references."
    ),
    "eav-table": (
        "An entity-attribute-value table stores each attribute as a row of (entity, name, value), so the "
        "database can no longer enforce a type, NOT NULL or a foreign key per attribute, and reading one entity "
        "back needs a pivot or one self-join per attribute. Model the known attributes as real columns and put "
        "the truly open-ended ones in a {json} column."
    ),
    "comma-separated-list": (
        "Several ids or values packed into one delimited string break first normal form: the database cannot "
        "enforce foreign keys or uniqueness on the elements, cannot index them, and every query parses strings "
        "(LIKE '%,42,%'). Changing one element rewrites the whole value and races with concurrent writers. Use "
        "a child or junction table with one row per element."
    ),
    "reserved-word-identifier": (
        "This name is a reserved word in {engine}, so every query must quote it, and the one unquoted use in a "
        "hand-written query, a tool or a generated migration fails with a syntax error. Quoting also makes the "
        "name case-sensitive in PostgreSQL, another trap. Rename it to a non-reserved word."
    ),
    "wide-table": (
        "A table with more than 50 columns usually mixes several concepts or optional feature groups: most "
        "columns are NULL in most rows, rows get wide, and {update_cost} Splitting rarely used or optional 1:1 "
        "groups into side tables keeps the hot table narrow and the model easier to understand."
    ),
    "fk-type-mismatch": (
        "A foreign-key column should have exactly the referenced column's type. A narrower type (integer "
        "referencing bigint) starts failing on insert once parent ids outgrow it; a different type makes joins "
        "cast implicitly, which can prevent index use, and MySQL refuses foreign keys between integer types of "
        "different size or signedness. Change the referencing column to the referenced type."
    ),
    "add-column-not-null-no-default": (
        "ADD COLUMN ... NOT NULL without a default fails outright on a table that has rows, because the existing "
        "rows would be NULL, so the migration passes on an empty development database and breaks in production. "
        "Add the column as nullable, backfill it in batches, then enforce NOT NULL. {default_note}"
    ),
    "add-column-volatile-default": (
        "{volatile_intro} PostgreSQL treats every function not declared IMMUTABLE or STABLE as volatile, so a "
        "default calling a function the review does not know counts as volatile too, and then the whole table is "
        "rewritten under an ACCESS EXCLUSIVE lock, blocking reads and writes for the duration. Add the column without the default, set the default for new rows, and "
        "backfill the existing rows in small batches."
    ),
    "create-index-non-concurrently": (
        "CREATE INDEX holds a SHARE lock on the table for the whole build: reads continue, but every INSERT, "
        "UPDATE and DELETE waits, which on a large table means minutes of blocked writes. CREATE INDEX "
        "CONCURRENTLY builds it without blocking writes, at the cost of two table scans; it cannot run inside a "
        "transaction block, and a failed build leaves an INVALID index to drop and retry."
    ),
    "drop-index-non-concurrently": (
        "DROP INDEX needs an ACCESS EXCLUSIVE lock on the table; the drop itself is quick, but the lock request "
        "waits behind long-running queries and every new query on the table queues behind it. DROP INDEX "
        "CONCURRENTLY waits for conflicting transactions without blocking others; it cannot run inside a "
        "transaction block and drops one index per statement."
    ),
    "concurrently-in-transaction": (
        "CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY cannot run inside a transaction block: "
        "PostgreSQL rejects them with \"cannot run inside a transaction block\", so this migration fails at run "
        "time. Migration tools wrap each migration in a transaction by default, so the statement needs its own "
        "migration with the transaction turned off."
    ),
    "add-foreign-key-validating": (
        "ADD FOREIGN KEY checks every existing row while holding a SHARE ROW EXCLUSIVE lock on both this table "
        "and the referenced one, blocking writes to both for the whole scan. Added NOT VALID, the constraint is "
        "instant and already enforced for new rows; a separate VALIDATE CONSTRAINT then checks the old rows "
        "under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes continue."
    ),
    "add-check-constraint-validating": (
        "ADD CHECK scans the whole table to verify existing rows while holding an ACCESS EXCLUSIVE lock, so "
        "nothing can read or write the table until the scan ends. Add it NOT VALID (instant, and enforced for "
        "new writes at once), then run VALIDATE CONSTRAINT separately, which only takes a SHARE UPDATE "
        "EXCLUSIVE lock."
    ),
    "set-not-null": (
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no NULL, blocking "
        "reads and writes meanwhile. {notnull_note}"
    ),
    "change-column-type": (
        "Changing a column's type rewrites the whole table and rebuilds its indexes under an ACCESS EXCLUSIVE "
        "lock, blocking all reads and writes for the duration, and app versions still running during the deploy "
        "may write values the new type rejects. Only a few changes skip the rewrite (raising a varchar limit, "
        "varchar to text, raising numeric precision at the same scale). Otherwise use expand/contract: add a new "
        "column, write both, backfill in batches, switch reads, then drop the old column."
    ),
    "rename-column": (
        "During a deploy the previous application version keeps running next to the new one, and every query "
        "of it that names the column fails the moment the rename commits. The rename itself is a quick "
        "catalog change; the outage is in the application. Use expand/contract: add the new column, write "
        "both, backfill, move reads, and drop the old name in a later release (or map the old name in the ORM)."
    ),
    "rename-table": (
        "Renaming a table breaks every query of the application version still running during the deploy, and "
        "of any job, report or other service that uses the old name. Rename in steps: rename the table and "
        "leave a simple updatable view under the old name, move all code to the new name, then drop the view "
        "in a later release."
    ),
    "drop-column": (
        "Dropping a column destroys its data irreversibly, and the application version still running during "
        "the deploy (or an ORM that selects every column it knows) fails as soon as the column is gone. Use "
        "expand/contract: first ship code that no longer reads or writes the column (Rails ignored_columns, or "
        "remove it from the model), keep a copy of the data if it may be needed, and drop it in a later release."
    ),
    "drop-table": (
        "Dropping a table destroys its data irreversibly and breaks any code, job or report still using it, "
        "including the application version still running during the deploy. Remove every use first and ship "
        "that, keep a backup, and drop the table in a later release; renaming it aside for a while first makes "
        "a mistake quick to revert."
    ),
    "add-unique-constraint": (
        "ADD UNIQUE builds the unique index while holding an ACCESS EXCLUSIVE lock, blocking all reads and "
        "writes for the whole build. Build the index first with CREATE UNIQUE INDEX CONCURRENTLY, which lets "
        "writes continue, then attach it with ADD CONSTRAINT ... UNIQUE USING INDEX, a quick catalog change."
    ),
    "add-primary-key": (
        "ADD PRIMARY KEY builds a unique index and, for nullable columns, checks them for NULLs, all under an "
        "ACCESS EXCLUSIVE lock that blocks reads and writes for the duration. Build the unique index "
        "CONCURRENTLY first, make the columns NOT NULL without a long lock, then ADD CONSTRAINT ... PRIMARY KEY "
        "USING INDEX, which is quick."
    ),
    "missing-lock-timeout": (
        "Even a quick ALTER needs a strong lock, and while it waits behind a long-running query or transaction, "
        "every new query on the table queues behind it, so a millisecond migration can stall the application "
        "for minutes. SET lock_timeout at the start of the migration makes the statement give up quickly "
        "instead; retry it later rather than block production."
    ),
    "validate-in-same-transaction": (
        "Adding a constraint NOT VALID and validating it later is meant to split one long blocking step into an "
        "instant one and a scan that lets writes continue. The ADD still holds its strong lock until the "
        "transaction commits, so a VALIDATE in the same transaction scans the table while that lock is held and "
        "the split gains nothing. Commit between the two statements, or put VALIDATE in its own migration."
    ),
    "reindex-non-concurrently": (
        "REINDEX takes an ACCESS EXCLUSIVE lock on the index being rebuilt and a SHARE lock on its table, so "
        "writes wait for the whole rebuild and queries that would use the index block. REINDEX ... CONCURRENTLY "
        "(PostgreSQL 12+) builds a new copy next to the old one and swaps them without blocking writes; it "
        "cannot run inside a transaction block."
    ),
    "lock-table": (
        "An explicit LOCK TABLE holds its lock until the transaction ends, and while it waits for the lock every "
        "new query that conflicts with it queues behind it. The strong modes block every write or even every "
        "read of the table for the rest of the migration. Rely on the locks the statements take themselves, "
        "keep the transaction short, and set lock_timeout so the wait gives up."
    ),
    "truncate-cascade": (
        "TRUNCATE ... CASCADE also empties every table with a foreign key to this one, and every table "
        "referencing those, without naming them, so one statement can wipe far more data than intended. It "
        "takes an ACCESS EXCLUSIVE lock on all of them and cannot be undone once committed. Truncate or delete "
        "the tables you mean, named explicitly, without CASCADE."
    ),
    "transaction-nesting": (
        "PostgreSQL has no nested transactions: a BEGIN inside an open transaction is ignored with a warning, and "
        "the next COMMIT ends the outer transaction early, so later statements run outside the atomic unit the "
        "migration tool expected. A COMMIT with no transaction open does nothing and hides a missing BEGIN. "
        "Let the migration tool own the transaction, or disable its transaction and manage one yourself."
    ),
    "uncommitted-transaction": (
        "A migration that opens a transaction and never commits it leaves the outcome to whatever runs next: "
        "psql rolls it back at exit, and a tool that reuses the connection keeps every lock taken so far until "
        "something else commits. Either way the schema change silently does not happen or blocks the table. "
        "End every BEGIN with a COMMIT in the same file."
    ),
    "domain-check-constraint": (
        "Adding a CHECK constraint to a domain makes PostgreSQL verify it against every column of every table "
        "that uses the domain, holding locks on those tables for the whole scan. Domain constraints also cannot "
        "be changed later without the same scan, which makes online migrations awkward. Prefer a CHECK "
        "constraint on the table column (added NOT VALID, then validated), or add the domain constraint NOT "
        "VALID and validate it separately."
    ),
    "identifier-too-long": (
        "PostgreSQL truncates identifiers longer than 63 bytes with only a notice, so the object gets a "
        "different name than the one written. Two long names that share their first 63 bytes then collide, and "
        "code or later migrations that use the full name fail to find the object. Choose a name of at most 63 "
        "bytes."
    ),
    "drop-not-null": (
        "Dropping NOT NULL is quick, but the application version still running during the deploy, reports and "
        "other services may assume the column is always set, and the first NULL written breaks them. It is a "
        "backward-compatibility change of the contract rather than a locking risk. Make sure every reader "
        "handles NULL before shipping it."
    ),
    "drop-database": (
        "DROP DATABASE, or DROP SCHEMA ... CASCADE, destroys every table, view and function in it at once, "
        "irreversibly, and breaks every connection and service using them. Such a statement in a migration is "
        "almost always a copied development script. Remove it, and drop unused objects one by one in a "
        "reviewed release instead."
    ),
    "missing-statement-timeout": (
        "VALIDATE CONSTRAINT, CREATE INDEX CONCURRENTLY and backfill UPDATEs scan the whole table and can run for "
        "minutes or hours on a large one, holding their locks and a transaction snapshot that stops vacuum. "
        "Without a statement_timeout nothing stops a runaway statement before it hurts production. SET "
        "statement_timeout (or SET LOCAL inside the transaction) to a bound you can accept, and raise it "
        "deliberately for the statements that need longer."
    ),
}

_ENGINE = {"postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}


def severity(rule: str) -> str:
    return RULES[rule][0]


def note(rule: str) -> str:
    return RULES[rule][1]


def title(rule: str) -> str:
    return RULES[rule][2]


def why(rule: str, dialect: str, pg_version: int) -> str:
    text = _WHY[rule]
    if "{" not in text:
        return _dialect_suffix(rule, text, dialect)
    values = {
        "engine": _ENGINE.get(dialect, dialect),
        "json": "jsonb" if dialect == "postgres" else "JSON",
        "update_cost": (
            "every UPDATE writes a new copy of the whole row (MVCC)." if dialect == "postgres"
            else "every UPDATE rewrites the whole wide row."
        ),
        "default_note": (
            "Since PostgreSQL 11, a constant DEFAULT also makes ADD COLUMN ... NOT NULL instant."
            if pg_version >= 11 else
            "Before PostgreSQL 11 even a constant DEFAULT rewrites the table, so avoid it on large tables."
        ),
        "volatile_intro": (
            "Since PostgreSQL 11, ADD COLUMN with a constant default is instant (the value is kept in the catalog), "
            "but a volatile default such as random(), gen_random_uuid(), clock_timestamp() or nextval(), an "
            "identity or a stored generated column must be computed for every existing row."
            if pg_version >= 11 else
            "Before PostgreSQL 11, ADD COLUMN with any non-null default (or identity, serial or generated column) "
            "writes the value into every existing row."
        ),
        "notnull_note": (
            "Since PostgreSQL 12 the scan is skipped when a validated CHECK (col IS NOT NULL) already proves it: "
            "add that check NOT VALID, VALIDATE it (writes continue), then SET NOT NULL and drop the check."
            if pg_version >= 12 else
            "Before PostgreSQL 12 the scan cannot be skipped; on a large table keep a validated CHECK (col IS NOT "
            "NULL) constraint instead, or upgrade and use the check-then-SET NOT NULL recipe."
        ),
    }
    return _dialect_suffix(rule, text.format(**values), dialect)


def _dialect_suffix(rule: str, text: str, dialect: str) -> str:
    if rule == "no-primary-key" and dialect == "mysql":
        return text.replace("ORMs assume one.", "ORMs assume one; InnoDB even falls back to a hidden 6-byte row "
                            "id as the clustered index.")
    if rule == "float-money" and dialect == "sqlite":
        return text + " SQLite has no exact decimal type (NUMERIC affinity still stores REAL), so prefer integer cents."
    if rule == "int-primary-key" and dialect == "mysql":
        return text.replace("bigint costs", "BIGINT costs")
    return text
