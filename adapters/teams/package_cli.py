"""`consultant teams package --app-id GUID --domain HOST [-o FILE]`: argument parsing only (see package.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUTPUT = "backend-consultant-teams.zip"


def register(subparsers: argparse._SubParsersAction) -> None:
    teams = subparsers.add_parser("teams", help="Microsoft Teams app tools")
    actions = teams.add_subparsers(dest="teams_command", metavar="ACTION", required=True)
    package = actions.add_parser("package", help="write the Teams app package (zip) to upload in Teams",
                                 description="Write the Teams app package: manifest.json with the ids filled in, "
                                             "plus the colour and outline icons.")
    package.add_argument("--app-id", required=True, metavar="GUID",
                         help="the bot's Microsoft App ID (Azure Bot resource); also used as the Teams app id")
    package.add_argument("--domain", required=True, metavar="HOST",
                         help="the public host serving https://HOST/api/messages, e.g. bot.example.com")
    package.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="FILE",
                         help=f"zip file to write (default {DEFAULT_OUTPUT})")
    package.set_defaults(run=_package)


def _package(args: argparse.Namespace) -> int:
    from adapters.teams.package import UsageError, build_package

    try:
        path = build_package(args.app_id, args.domain, Path(args.output))
    except UsageError as exc:
        print(f"consultant teams package: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} (upload it in Teams: Apps > Manage your apps > Upload an app)")
    return 0
