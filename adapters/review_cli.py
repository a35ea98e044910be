"""`consultant review`: schema and migration review in the terminal and in CI.

    consultant review [--dialect D] [--schema FILE] [--pg-version N] [--assume-in-transaction]
                      [--format text|json|sarif|github] [--fail-on error|warning|info|never] PATH... | -

Exit codes:
- 0: no finding at or above --fail-on (default: error);
- 1: a finding at or above --fail-on, or a statement that does not parse, or an input without
  any statement (unread input is an error: only --fail-on never ignores it), or an expected
  failure printed on one line (an input over 5 MB, binary data, an unreadable file, a bad
  .consultant.toml);
- 2: usage errors: bad arguments (argparse), and a PATH or --schema file that does not exist.

With several PATHs, they are reviewed in order against one model and `--format json` prints one
object per path, one per line. Configuration (.consultant.toml, or [tool.consultant.review] in
pyproject.toml) is looked up from the first PATH's directory (the current one for stdin) upwards.
Nothing heavy is imported until a review runs, so `consultant --help` stays fast.
"""

from __future__ import annotations

import os
import sys

FORMATS = ("text", "json", "sarif", "github")
FAIL_ON = ("error", "warning", "info", "never")


def register(subparsers) -> None:
    from adapters.cli import HelpFormatter

    p = subparsers.add_parser(
        "review",
        formatter_class=HelpFormatter,
        help="review SQL DDL or a migration (schema design and migration safety)",
        description="Review SQL DDL or migrations: design findings and migration-safety findings, "
                    "each with the reasoning and the SQL fix.",
        epilog="Exit codes: 0 clean, 1 findings at or above --fail-on (or an input error), 2 usage error "
               "(including a missing file).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="SQL files to review, or - for standard input")
    p.add_argument("--dialect", choices=("postgres", "postgresql", "mysql", "sqlite"),
                   help="SQL dialect (default: auto-detect)")
    p.add_argument("--schema", metavar="FILE",
                   help="existing schema SQL: applied first, so the PATHs are reviewed as migrations against it")
    p.add_argument("--pg-version", type=_pg_version, metavar="N",
                   help="target PostgreSQL major version (default: `-- consultant: pg-version=N` in the input, else 16)")
    p.add_argument("--assume-in-transaction", action="store_true", default=None,
                   help="review each file as if the migration tool runs it in a transaction (Django, Rails, "
                        "Alembic); also `assume_in_transaction = true` in .consultant.toml")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--fail-on", choices=FAIL_ON, default="error",
                   help="exit 1 when a finding at or above this severity exists (default: error)")
    p.set_defaults(run=run, log_default=None)  # the review logs nothing: no logging set-up at start


def _pg_version(value: str) -> int:
    import argparse

    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a version number: {value!r}") from None
    if not 9 <= n <= 99:
        raise argparse.ArgumentTypeError(f"PostgreSQL major version out of range: {n}")
    return n


def _read(path: str, label: str | None = None) -> str:
    from adapters.cli_input import read_bytes
    from bot.review.inputs import MAX_BYTES, decode

    data = read_bytes(path, MAX_BYTES, label, kind="SQL file")
    return decode(data, "standard input" if path == "-" else label or path)


def run(args) -> int:
    from adapters.cli_input import Usage
    from bot.review import load_config, review_many

    try:
        schema = _read(args.schema, f"--schema {args.schema}") if args.schema else None
        inputs = [(_read(p), None if p == "-" else p) for p in args.paths]
    except Usage as exc:
        print(f"consultant review: error: {exc}", file=sys.stderr)
        return 2
    first = next((p for p in args.paths if p != "-"), None)
    config = load_config(first)
    dialect = "postgres" if args.dialect == "postgresql" else args.dialect
    reports = review_many(inputs, dialect=dialect, schema=schema, pg_version=args.pg_version, config=config,
                          assume_in_transaction=args.assume_in_transaction)

    from bot.review import render

    if args.format == "json":
        out = render.render_json(reports) + "\n"
    elif args.format == "sarif":
        from bot import __version__

        out = render.render_sarif(reports, __version__)
    elif args.format == "github":
        out = render.render_github(reports)
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        out = render.render_text(reports, color=color)
    code = 1 if any(r.at_or_above(args.fail_on) for r in reports) else 0
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `consultant review ... | head`: the reader left, the exit code still counts
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code
