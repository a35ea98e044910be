"""Small readers over note markdown: bullets, paragraphs, `###` sub-sections and fenced code blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<code>.*?)^```\s*$", re.M | re.S)


@dataclass(frozen=True)
class CodeBlock:
    info: str  # the fence's info string, e.g. "python" or "sql mysql"
    code: str
    context: str  # the prose just before the block (the heading or sentence that introduces it)

    @property
    def language(self) -> str:
        return (self.info.split() or [""])[0].lower()

    def markdown(self) -> str:
        return f"```{self.info}\n{self.code.rstrip()}\n```"


def code_blocks(markdown: str) -> list[CodeBlock]:
    blocks = []
    for m in _FENCE.finditer(markdown):
        before = markdown[: m.start()].rstrip().splitlines()[-3:]
        blocks.append(CodeBlock(m.group("info").strip(), m.group("code"), " ".join(before)))
    return blocks


def without_code(markdown: str) -> str:
    return _FENCE.sub("", markdown)


def lead(markdown: str, max_items: int = 4) -> list[str]:
    """The first bullet points (with their wrapped lines), or the first paragraph when there are none."""
    prose = without_code(markdown)
    items: list[str] = []
    for line in prose.splitlines():
        stripped = line.strip()
        if re.match(r"^([-*]|\d+\.)\s+", stripped) and not line.startswith(("  ", "\t")):
            if len(items) == max_items:
                break
            items.append(re.sub(r"^([-*]|\d+\.)\s+", "", stripped))
        elif items and stripped and not stripped.startswith("#") and line.startswith(("  ", "\t")):
            items[-1] += " " + stripped
        elif items and not stripped:
            continue
    if items:
        return items
    paragraph = first_paragraph(prose)
    return [paragraph] if paragraph else []


def first_paragraph(markdown: str) -> str:
    lines: list[str] = []
    for line in without_code(markdown).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if lines:
                break
            continue
        if not stripped:
            if lines:
                break
            continue
        lines.append(stripped)
    return " ".join(lines)


def subsections(markdown: str) -> list[tuple[str, str]]:
    """(heading, body) for each `### ` heading; the text before the first heading is dropped."""
    parts = re.split(r"^###\s+(.+?)\s*$", markdown, flags=re.M)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]
