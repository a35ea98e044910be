"""Schema and migration review: deterministic findings, each with the why and the fix.

    from bot.review import review, summary_markdown
    report = review(open("migration.sql").read(), schema=open("schema.sql").read())
    report.to_dict()   # {"dialect", "statements", "errors", "findings", "summary", "detected", "assume_in_transaction"}

PostgreSQL is parsed by pglast (libpg_query), MySQL and SQLite by sqlglot; both are imported
only when a review runs. Rule ids, severities and notes are in `bot.review.catalog`.
"""

from __future__ import annotations

from .inputs import MAX_BYTES, BinaryInput, InputTooLarge, ReviewInputError, check_text
from .report import Finding, ReviewReport
from .suppress import ReviewConfig, load_config

__all__ = [
    "MAX_BYTES", "BinaryInput", "Finding", "InputTooLarge", "ReviewConfig", "ReviewInputError", "ReviewReport",
    "load_config", "report_markdown", "review", "review_many", "summary_markdown",
]


def review(text: str, *, dialect: str | None = None, schema: str | None = None, pg_version: int | None = None,
           config: ReviewConfig | None = None, assume_in_transaction: bool | None = None) -> ReviewReport:
    """Review DDL or a migration. `schema` is existing-schema SQL applied first; only `text`'s findings are reported.

    `dialect` is postgres, mysql or sqlite (auto-detected when None); `pg_version` defaults to the
    `-- consultant: pg-version=N` directive in the input, then 16. Raises ReviewInputError for input
    over 5 MB or binary data; statements that do not parse (and an input without statements) are listed in
    the report's errors and count as errors. `assume_in_transaction` (default: the config's
    `assume_in_transaction`, else False) reviews each input as if a migration tool wrapped it in a transaction.
    """
    return review_many([(text, None)], dialect=dialect, schema=schema, pg_version=pg_version, config=config,
                       assume_in_transaction=assume_in_transaction)[0]


def review_many(inputs: list[tuple[str, str | None]], *, dialect: str | None = None, schema: str | None = None,
                pg_version: int | None = None, config: ReviewConfig | None = None,
                assume_in_transaction: bool | None = None) -> list[ReviewReport]:
    """Review several (text, path) inputs in order against one model: one report per input."""
    from . import engine
    from .dialect import normalize

    for text, path in inputs:
        check_text(text, path or "input")
    if schema is not None:
        check_text(schema, "schema")
    try:
        dialect = normalize(dialect)
    except ValueError as exc:
        raise ReviewInputError(str(exc)) from None
    if assume_in_transaction is None:
        assume_in_transaction = bool(config is not None and config.assume_in_transaction)
    return engine.run(inputs, schema=schema, dialect=dialect, pg_version=pg_version, config=config,
                      assume_in_transaction=assume_in_transaction)


def summary_markdown(report: ReviewReport, top: int = 3) -> str:
    from .markdown import summary_markdown as render

    return render(report, top)


def report_markdown(report: ReviewReport) -> str:
    from .markdown import report_markdown as render

    return render(report)
