"""`consultant ask`: one turn in a named local thread."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from bot.bootstrap import build_app
from bot.messages import Inbound


def local_inbound(thread: str, text: str, *, kind: str = "direct", command: str | None = None,
                  args: str | None = None) -> Inbound:
    return Inbound(platform="console", tenant="local", channel="cli", thread=thread, user="local",
                   text=text, kind=kind, command=command, args=args)


async def _ask(text: str, thread: str):  # noqa: ANN202
    app = await build_app()
    try:
        return await app.engine.handle(local_inbound(thread, text))
    finally:
        await app.close()


def run_ask(text: str, *, thread: str | None, as_json: bool) -> int:
    if text == "-":
        # Undecodable bytes become U+FFFD, which the engine's input screening recognises as binary.
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    thread = thread or f"ask-{uuid.uuid4().hex[:12]}"
    reply = asyncio.run(_ask(text, thread))
    if as_json:
        print(json.dumps({"thread": thread, **reply.to_dict()}, ensure_ascii=False))
        return 0
    from rich.console import Console

    from adapters.console.render import render_reply

    render_reply(Console(), reply)
    print(f"(thread: {thread})", file=sys.stderr)
    return 0
