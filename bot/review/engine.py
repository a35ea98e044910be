"""The review pipeline: parse, apply to the model with the migration checks, run the design
rules, then suppression and configuration, and one report per reviewed input.

Source 0 is the existing schema (--schema): it is applied to the model first and its own
findings are never reported. Sources 1..n are the reviewed inputs, applied in order against
one shared model (a later input sees what an earlier one created, as already deployed).
"""

from __future__ import annotations

from . import catalog, dialect as dialects, ir
from .model import Origin, Schema
from .report import EMPTY_MESSAGE, Finding, ReviewReport
from .split import LineIndex
from .suppress import ReviewConfig, inline_ignores, is_ignored


class Context:
    """What the rules see: dialect, target version, and `emit` to record a finding."""

    def __init__(self, dialect: str, pg_version: int, results: list[ir.ParseResult]) -> None:
        self.dialect = dialect
        self.pg_version = pg_version
        self.results = results
        self.findings: list[Finding] = []
        self._lines: dict[int, LineIndex] = {}
        self._why: dict[str, str] = {}

    def origin(self, source: int, line: int, loc: int = -1) -> Origin:
        return Origin(source, line, loc)

    @staticmethod
    def is_input(origin: Origin) -> bool:
        return origin.source > 0

    def created_in_input(self, table) -> bool:
        return table.kind != "stub" and table.origin.source > 0

    def stmt_text(self, source: int, stmt: ir.Stmt) -> str:
        buf = self.results[source].buf
        return buf[stmt.start:stmt.end].decode("utf-8", "replace").rstrip().rstrip(";").rstrip()

    def emit(self, rule: str, origin: Origin, table: str | None, column: str | None, obj: str | None,
             message: str, fix: str) -> None:
        if origin.source <= 0:
            return
        why = self._why.get(rule)
        if why is None:
            why = self._why[rule] = catalog.why(rule, self.dialect, self.pg_version)
        sev, note, _ = catalog.RULES[rule]
        self.findings.append(Finding(rule, sev, table, column, obj, origin.line, message, why, fix, note,
                                     origin.source, None, origin.loc))

    def resolve_aux_lines(self, findings: list[Finding]) -> None:
        for f in findings:
            if f.aux_loc >= 0:
                index = self._lines.get(f.source)
                if index is None:
                    index = self._lines[f.source] = LineIndex(self.results[f.source].buf)
                f.aux_line = index.line(f.aux_loc)


def _parser(dialect: str):
    if dialect == "postgres":
        from .parse_pg import parse

        return parse
    from .parse_sqlglot import parse as parse_other

    return lambda text: parse_other(text, dialect)


def apply(model: Schema, stmt: ir.Stmt, source: int) -> None:
    kind = stmt.kind
    origin = Origin(source, stmt.line)
    if kind == "create_table":
        model.create_table(stmt, origin)
    elif kind == "alter_table":
        model.alter(stmt, origin)
    elif kind == "create_index":
        idx = stmt.index
        if stmt.if_not_exists and idx.name and model.find_index(ir.TableName(idx.table.schema, idx.name),
                                                                idx.table.key):
            return
        model.create_index(idx, origin)
    elif kind == "drop_index":
        for name in stmt.names:
            model.drop_index(name, stmt.table)
    elif kind == "drop_table":
        for name in stmt.names:
            model.drop_table(name)
    elif kind == "rename_index":
        model.rename_index(stmt)


def run(inputs: list[tuple[str, str | None]], schema: str | None = None, dialect: str | None = None,
        pg_version: int | None = None, config: ReviewConfig | None = None,
        assume_in_transaction: bool = False) -> list[ReviewReport]:
    """Review each (text, path) input in order, against `schema` when given."""
    import gc

    # The parse trees are large acyclic structures freed by reference counting: pausing the cyclic
    # collector while they exist halves the time of a big dump (it would rescan them over and over).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(inputs, schema, dialect, pg_version, config, assume_in_transaction)
    finally:
        if was_enabled:
            gc.enable()


def _run(inputs, schema, dialect, pg_version, config, assume_in_transaction) -> list[ReviewReport]:
    from . import rules_design
    from .rules_migration import MigrationChecker

    texts = [t for t, _ in inputs]
    d = dialects.normalize(dialect)
    reason = suggested = None
    if d is None:
        d, reason = dialects.detect_with_reason("\n".join(([schema] if schema else []) + texts))
    if pg_version is None:
        pg_version = next((v for v in map(dialects.pg_version_directive, texts) if v is not None),
                          dialects.DEFAULT_PG_VERSION)
    parse = _parser(d)
    schema_result = parse(schema) if schema else ir.ParseResult([], [], 0, b"")
    results = [schema_result] + [parse(t) for t in texts]
    if dialect is None and d == "postgres" and any(r.errors for r in results):
        from .infer import retry

        found = retry([schema] + texts, results)
        if found.dialect is not None:
            d, reason, results = found.dialect, found.reason, found.results
            schema_result = results[0]
        suggested = found.suggested
    ctx = Context(d, pg_version, results)
    model = Schema(d)
    for stmt in schema_result.stmts:
        apply(model, stmt, 0)
    for source in range(1, len(results)):
        stmts = results[source].stmts
        checker = MigrationChecker(ctx, model, source, stmts, assume_in_transaction)
        for stmt in stmts:
            checker.check(stmt)
            apply(model, stmt, source)
        checker.finish()
    rules_design.run(model, ctx)

    reports = []
    for source, (text, path) in enumerate(inputs, start=1):
        ignores = inline_ignores(text)
        findings = [f for f in ctx.findings if f.source == source]
        if ignores:
            ctx.resolve_aux_lines(findings)
            findings = [f for f in findings if not is_ignored(f, ignores)]
        if config is not None:
            findings = config.apply(findings)
        findings.sort(key=Finding.sort_key)
        errors = [(e.line, e.message) for e in results[source].errors]
        if source == 1 and schema_result.errors:
            errors = [(e.line, f"in --schema: {e.message}") for e in schema_result.errors] + errors
        if results[source].count == 0:
            errors.append((1, EMPTY_MESSAGE))
        report = ReviewReport(d, results[source].count, errors, findings, pg_version if d == "postgres" else None,
                              path, reason, assume_in_transaction)
        report.suggested = suggested if errors and not results[source].count == 0 else None
        reports.append(report)
    return reports
