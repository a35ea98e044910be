"""Markdown for Teams messages: the answer with its follow-up questions and sources, split to fit a message.

Teams renders Markdown in message text (bold, lists, inline code and fenced code blocks). A message may hold
about 28 KB in all, so long answers are split at paragraph boundaries, never inside a code fence; a single
fence that is too big on its own is closed and reopened with the same language tag.
"""

from __future__ import annotations

import re

from bot.messages import Reply

# UTF-8 bytes of Markdown per message: well under the ~28 KB activity limit once JSON-escaped, with room for
# the feedback card that rides on the last message.
CHUNK_BYTES = 16_000
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")


def reply_tail(reply: Reply) -> str:
    """Follow-up questions and sources, as Markdown sections after the answer."""
    parts = []
    if reply.questions:
        parts.append("**To narrow it down:**\n\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(reply.questions, 1)))
    if reply.sources:
        parts.append("**Sources:**\n\n" + "\n".join(f"- {s.title} (`{s.id}`)" for s in reply.sources))
    return "\n\n".join(parts)


def reply_markdown(reply: Reply) -> str:
    tail = reply_tail(reply)
    return f"{reply.text.strip()}\n\n{tail}" if tail else reply.text.strip()


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def blocks(markdown: str) -> list[str]:
    """Paragraphs separated by blank lines; a fenced code block is one block even with blank lines inside."""
    out: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                if current:
                    out.append("\n".join(current))
                current = [line]
            elif line.strip():
                current.append(line)
            elif current:
                out.append("\n".join(current))
                current = []
        else:
            current.append(line)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                    and not match.group(2).strip():
                out.append("\n".join(current))
                current, fence = [], None
    if current:
        if fence is not None:  # an unclosed fence: close it so later chunks are not swallowed by it
            current.append(fence)
        out.append("\n".join(current))
    return out


def _hard_split(text: str, limit: int) -> list[str]:
    """Split text with no usable line boundary: at spaces, else at any character."""
    pieces: list[str] = []
    rest = text
    while _size(rest) > limit:
        cut = len(rest.encode("utf-8")[:limit].decode("utf-8", "ignore"))
        space = rest.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _split_lines(lines: list[str], limit: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for line in lines:
        for part in _hard_split(line, limit) if _size(line) > limit else [line]:
            if groups[-1] and _size("\n".join([*groups[-1], part])) > limit:
                groups.append([])
            groups[-1].append(part)
    return [g for g in groups if g]


def _split_block(block: str, limit: int) -> list[str]:
    lines = block.split("\n")
    match = _FENCE.match(lines[0])
    if match and len(lines) >= 2:
        opener, closer = lines[0], match.group(1)
        body = lines[1:-1] if _FENCE.match(lines[-1]) else lines[1:]
        inner = limit - _size(opener) - _size(closer) - 2
        return [f"{opener}\n" + "\n".join(group) + f"\n{closer}" for group in _split_lines(body, max(inner, 200))]
    return ["\n".join(group) for group in _split_lines(lines, limit)]


def split_markdown(markdown: str, limit: int = CHUNK_BYTES) -> list[str]:
    """Chunks of at most `limit` UTF-8 bytes, each one valid Markdown on its own."""
    if _size(markdown) <= limit:
        return [markdown] if markdown.strip() else []
    chunks: list[str] = []
    current = ""
    for block in blocks(markdown):
        pieces = [block] if _size(block) <= limit else _split_block(block, limit)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if _size(candidate) <= limit:
                current = candidate
            else:
                if current:
                    chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def plain(markdown: str) -> str:
    """A rough plain-text version of Markdown, for notifications and card fallbacks."""
    text = re.sub(r"```[^\n]*\n", "", markdown)
    text = re.sub(r"\*\*|__|`", "", text)
    return text.strip()
