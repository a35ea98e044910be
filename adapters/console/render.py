"""Terminal rendering of the neutral reply, with rich (plain text when the output is not a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown

from bot.messages import Reply


def reply_markdown_tail(reply: Reply) -> str:
    parts = []
    if reply.questions:
        parts.append("**To narrow it down:**\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(reply.questions, 1)))
    if reply.sources:
        parts.append("_Sources: " + "; ".join(f"{s.title} (`{s.id}`)" for s in reply.sources) + "_")
    return "\n\n".join(parts)


def render_reply(console: Console, reply: Reply, *, streamed: bool = False) -> None:
    if not streamed:
        console.print(Markdown(reply.text))
    tail = reply_markdown_tail(reply)
    if tail:
        console.print()
        console.print(Markdown(tail))
    console.print()
