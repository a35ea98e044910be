"""Markdown (what the engine writes) to Slack mrkdwn, and splitting text at a size limit without breaking code blocks.

Slack's mrkdwn is not Markdown: bold is `*x*`, italic `_x_`, strike `~x~`, links `<url|label>`, there are no headings
or tables, and `&`, `<`, `>` must be escaped. Code blocks are kept verbatim (only escaped), without the language tag,
which Slack would otherwise print as the first line of the block.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s{0,3}>+\s?(?P<text>.*)$")
_BULLET = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?:\[(?P<check>[ xX])\]\s+)?(?P<text>.*)$")
_ORDERED = re.compile(r"^(?P<indent>\s*)(?P<num>\d{1,9})[.)]\s+(?P<text>.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<code_text>.+?)(?P=ticks))"
    r"|(?P<link>\[(?P<label>[^\]\n]+)\]\((?P<url>[^\s)]+)(?:\s+\"[^\"]*\")?\))"
    r"|(?P<auto><(?P<auto_url>(?:https?|mailto):[^>\s]+)>)"
)


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _emphasis(text: str) -> str:
    """Markdown emphasis to mrkdwn, on already-escaped text. \x02 stands for a bold `*` until the end."""
    text = re.sub(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*", "\x02_\\1_\x02", text)
    text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", "\x02\\1\x02", text)
    text = re.sub(r"(?<![\w\\])__(?=\S)(.+?)(?<=\S)__(?!\w)", "\x02\\1\x02", text)
    text = re.sub(r"(?<![*\w\\])\*([^\s*][^*\n]*?[^\s*\\]|[^\s*\\])\*(?![*\w])", r"_\1_", text)
    text = re.sub(r"~~(?=\S)(.+?)(?<=\S)~~", "~\\1~", text)
    return text.replace("\x02", "*")


def _plain_label(label: str) -> str:
    return re.sub(r"[*_`~]", "", label).replace("|", "/")


def inline(text: str) -> str:
    """One line of Markdown prose to mrkdwn: code spans untouched, links rewritten, emphasis converted."""
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(_emphasis(escape(text[pos:match.start()])))
        if match.group("code"):
            out.append("`" + escape(match.group("code_text").strip()) + "`")
        elif match.group("link"):
            out.append(f"<{escape(match.group('url'))}|{escape(_plain_label(match.group('label')))}>")
        else:
            out.append(f"<{escape(match.group('auto_url'))}>")
        pos = match.end()
    out.append(_emphasis(escape(text[pos:])))
    return "".join(out)


def _is_table_start(lines: list[str], i: int) -> bool:
    return (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
            and _TABLE_SEPARATOR.match(lines[i + 1]) is not None)


def to_mrkdwn(markdown: str) -> str:
    """Convert a Markdown answer to Slack mrkdwn, line by line, tracking fenced code blocks."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            indent, marker = len(fence.group("indent")), fence.group("fence")
            out.append("```")
            i += 1
            while i < len(lines):
                stripped = lines[i].strip()
                if stripped.startswith(marker[0] * len(marker)) and not stripped.strip(marker[0]):
                    break
                body = lines[i]
                # Content indented with the fence (inside a list item) loses that indentation only.
                cut = len(body) - len(body.lstrip(" "))
                out.append(escape(body[min(indent, cut):]))
                i += 1
            out.append("```")  # an unclosed fence is closed at the end of the text
            i += 1
            continue
        if _is_table_start(lines, i):
            # Slack has no tables; a code block keeps the columns aligned.
            out.append("```")
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                out.append(escape(lines[i].strip()))
                i += 1
            out.append("```")
            continue
        out.append(_convert_line(line))
        i += 1
    return "\n".join(out).strip("\n")


def _convert_line(line: str) -> str:
    if not line.strip():
        return ""
    if match := _HEADING.match(line):
        title = re.sub(r"(\*\*|__)", "", match.group("text"))
        return f"*{inline(title)}*" if title.strip() else ""
    if _RULE.match(line):
        return "──────────"
    if match := _QUOTE.match(line):
        return "> " + inline(match.group("text"))
    if match := _BULLET.match(line):
        level = len(match.group("indent").expandtabs(4)) // 2
        mark = "•" if level == 0 else ("◦" if level == 1 else "▪")
        if match.group("check") is not None:
            mark = "☑" if match.group("check").lower() == "x" else "☐"
        return "    " * min(level, 3) + f"{mark} {inline(match.group('text'))}"
    if match := _ORDERED.match(line):
        level = len(match.group("indent").expandtabs(4)) // 3
        return "    " * min(level, 3) + f"{match.group('num')}. {inline(match.group('text'))}"
    return inline(line)


# ---------------------------------------------------------------------------------------------------------------
# Splitting


def _units(text: str) -> list[tuple[str, list[str]]]:
    """Paragraphs and fenced code blocks, in order: ("text" | "code", lines). Blank lines separate paragraphs."""
    units: list[tuple[str, list[str]]] = []
    lines = text.split("\n")
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            units.append(("text", paragraph.copy()))
            paragraph.clear()

    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence:
            flush()
            marker = fence.group("fence")
            block = [lines[i]]
            i += 1
            while i < len(lines):
                block.append(lines[i])
                stripped = lines[i].strip()
                i += 1
                if stripped.startswith(marker[0] * len(marker)) and not stripped.strip(marker[0]):
                    break
            else:
                block.append(fence.group("indent") + marker)  # close a fence the text left open
            units.append(("code", block))
            continue
        if not lines[i].strip():
            flush()
        else:
            paragraph.append(lines[i])
        i += 1
    flush()
    return units


def _split_line(line: str, size: int) -> list[str]:
    """A line longer than size, cut at the last space before the limit when there is one."""
    pieces = []
    while len(line) > size:
        cut = line.rfind(" ", size // 2, size)
        cut = cut if cut > 0 else size
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    if line:
        pieces.append(line)
    return pieces


def _split_code(lines: list[str], limit: int) -> list[str]:
    """An oversized code block as several complete blocks: each piece reopens and closes the fence."""
    opening, closing, body = lines[0], lines[-1], lines[1:-1]
    room = limit - len(opening) - len(closing) - 2
    if room < 20:
        raise ValueError("limit too small for a code block")
    pieces, current = [], []
    size = 0
    for line in body:
        for part in _split_line(line, room) if len(line) > room else [line]:
            if current and size + len(part) + 1 > room:
                pieces.append("\n".join([opening, *current, closing]))
                current, size = [], 0
            current.append(part)
            size += len(part) + 1
    if current or not pieces:
        pieces.append("\n".join([opening, *current, closing]))
    return pieces


def _split_prose(lines: list[str], limit: int) -> list[str]:
    pieces, current = [], ""
    for line in lines:
        for part in _split_line(line, limit) if len(line) > limit else [line]:
            if current and len(current) + 1 + len(part) > limit:
                pieces.append(current)
                current = ""
            current = f"{current}\n{part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, at paragraph boundaries where possible.

    A code block is never cut in half: it moves whole to the next piece, and one too long for any piece is split
    at line boundaries into several blocks that each open and close their fence.
    """
    text = text.strip("\n")
    if len(text) <= limit:
        return [text] if text.strip() else []
    pieces: list[str] = []
    current = ""
    for kind, lines in _units(text):
        unit = "\n".join(lines)
        if len(unit) > limit:
            parts = _split_code(lines, limit) if kind == "code" else _split_prose(lines, limit)
        else:
            parts = [unit]
        for part in parts:
            joined = f"{current}\n\n{part}" if current else part
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]
