"""`consultant chat`: the interactive console. Works on a TTY and with piped stdin."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown

from adapters.console.ask import local_inbound
from adapters.console.render import render_reply
from bot.bootstrap import App, build_app
from bot.help import HELP

CONSOLE_HELP = HELP.replace("- `schema-review", "- `/schema-review").replace("- `new`", "- `/new`").replace(
    "- `help`", "- `/help`").replace("- `forget`", "- `/forget`") + "- `/schema-review @path.sql`: review a file.\n- `/quit`: leave.\n\n" \
    "Multi-line input: end a line with `\\` to continue it, or paste inside a ``` fence."


def _new_thread() -> str:
    return f"chat-{uuid.uuid4().hex[:12]}"


async def _read_message(prompt: str, interactive: bool) -> str | None:
    """One message: a line, or several joined by trailing backslashes or a ``` fence."""
    lines: list[str] = []
    in_fence = False
    while True:
        line = await asyncio.to_thread(_readline, prompt if interactive and not lines else ("... " if interactive else ""))
        if line is None:
            return "\n".join(lines) if lines else None
        if line.strip().startswith("```"):
            in_fence = not in_fence
        if line.endswith("\\") and not in_fence:
            lines.append(line[:-1])
            continue
        lines.append(line)
        if not in_fence:
            return "\n".join(lines)


def _readline(prompt: str) -> str | None:
    try:
        if prompt:
            return input(prompt)
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None
    except EOFError:
        return None


def _review_args(rest: str) -> str:
    rest = rest.strip()
    if rest.startswith("@"):
        path = Path(rest[1:].strip()).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {path}: {exc.__class__.__name__}") from exc
    return rest


async def _loop(app: App, console: Console, thread: str, interactive: bool) -> None:
    if interactive:
        console.print(Markdown(f"**Backend Consultant** ({'LLM' if app.settings.llm_enabled else 'offline'} mode). "
                               "Describe your problem; `/help` for commands, `/quit` to leave."))
    while True:
        message = await _read_message("you> ", interactive)
        if message is None:
            return
        stripped = message.strip()
        if not stripped:
            continue
        command, _, rest = stripped.partition(" ")
        if command in ("/quit", "/exit"):
            return
        if command == "/help":
            console.print(Markdown(CONSOLE_HELP))
            continue
        if command == "/new":
            thread = _new_thread()
            console.print(f"[dim]New consultation ({thread}).[/dim]" if interactive else f"New consultation ({thread}).")
            continue
        if command == "/forget":
            inbound = local_inbound(thread, stripped, kind="command", command="forget")
            render_reply(console, await app.engine.handle(inbound))
            continue
        if command == "/schema-review":
            try:
                inbound = local_inbound(thread, stripped, kind="command", command="schema-review",
                                        args=_review_args(rest))
            except ValueError as exc:
                console.print(f"Error: {exc}")
                continue
        else:
            inbound = local_inbound(thread, message)
        await _answer(app, console, inbound, interactive)


async def _answer(app: App, console: Console, inbound, interactive: bool) -> None:  # noqa: ANN001
    if not (app.settings.llm_enabled and interactive):
        render_reply(console, await app.engine.handle(inbound))
        return
    # Streamed tokens are re-rendered as Markdown as they arrive, so headings and code look right at once.
    text = ""
    with Live(Markdown(""), console=console, refresh_per_second=8, vertical_overflow="visible") as live:

        async def show(piece: str) -> None:
            nonlocal text
            text += piece
            live.update(Markdown(text))

        reply = await app.engine.handle(inbound, on_token=show)
        # The final reply is authoritative: if the stream broke off, it is the offline answer.
        live.update(Markdown(reply.text))
    render_reply(console, reply, streamed=True)


async def _chat(thread: str | None) -> int:
    interactive = sys.stdin.isatty()
    sys.stdin.reconfigure(errors="replace")  # binary input gets the engine's clear reply, not a decode crash
    console = Console()
    app = await build_app()
    try:
        await _loop(app, console, thread or _new_thread(), interactive)
    finally:
        await app.close()
    return 0


def run_chat(thread: str | None) -> int:
    return asyncio.run(_chat(thread))
