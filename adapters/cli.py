"""The `consultant` command. Subcommands live in their own modules; this file only dispatches.

Subcommand modules import nothing heavy at module level, so `--help` and `--version` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consultant",
        description="Backend Consultant: a senior backend consultant in your terminal, Slack and Teams.",
    )
    parser.add_argument("--version", action="version", version=f"consultant {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    from bot.logs import configure_logging

    configure_logging(getattr(args, "log_default", "WARNING"))
    try:
        return int(args.run(args) or 0)
    except ConsultantError as exc:
        print(f"consultant: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
