"""The `consultant` command. Subcommands live in their own modules; this file only dispatches.

Subcommand modules import nothing heavy at module level, so `--help` and `--version` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from bot import __version__
from bot.errors import ConsultantError

# Each module exposes register(subparsers), which sets `run` as the parser default.
COMMAND_MODULES = (
    "adapters.console.commands",
    "adapters.db_cli",
    "adapters.explain_cli",
    "adapters.knowledge_cli",
    "adapters.querylog_cli",
    "adapters.review_cli",
    "adapters.serve_cli",
    "adapters.teams.package_cli",
)


# Subcommands run often from scripts and CI, mapped to their module: `consultant review ...` registers only
# that module, so its start-up does not pay for importing and building every other subcommand.
SOLE_COMMANDS = {"review": "adapters.review_cli", "ask": "adapters.console.commands",
                 "chat": "adapters.console.commands"}


def terminal_width() -> int:
    """What argparse's HelpFormatter asks shutil for, without importing shutil (and lzma, bz2) at every start."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns - 2


class HelpFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, **kwargs) -> None:
        kwargs.setdefault("width", terminal_width())
        super().__init__(prog, **kwargs)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        formatter_class=HelpFormatter,
        prog="consultant",
        description="Backend Consultant: a senior backend consultant in your terminal, Slack and Teams.",
    )
    parser.add_argument("--version", action="version", version=f"consultant {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    first = argv[0] if argv else None
    for name in (SOLE_COMMANDS[first],) if first in SOLE_COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    level = getattr(args, "log_default", "WARNING")
    if level:  # None: the command logs nothing, so it skips importing and configuring logging
        from bot.logs import configure_logging

        configure_logging(level)
    try:
        return int(args.run(args) or 0)
    except ConsultantError as exc:
        print(f"consultant: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
