"""`consultant chat` and `consultant ask`: argument definitions only; the work happens in the sibling modules."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    chat = subparsers.add_parser("chat", help="an interactive consultation in the terminal",
                                 description="An interactive consultation. Commands: /new, /schema-review <DDL> or "
                                             "/schema-review @file.sql, /help, /quit. Reads piped stdin too.")
    chat.add_argument("--thread", help="continue a named local thread instead of starting a fresh one")
    chat.set_defaults(run=_run_chat)

    ask = subparsers.add_parser("ask", help="one question in a named local thread")
    ask.add_argument("--thread", help="the local thread to continue (a fresh one by default)")
    ask.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    ask.add_argument("text", metavar="TEXT", help="the question, or - to read it from stdin")
    ask.set_defaults(run=_run_ask)


def _run_chat(args: argparse.Namespace) -> int:
    from adapters.console.chat import run_chat

    return run_chat(args.thread)


def _run_ask(args: argparse.Namespace) -> int:
    from adapters.console.ask import run_ask

    return run_ask(args.text, thread=args.thread, as_json=args.json)
