"""Engine replies as Slack messages: Block Kit within Slack's limits, questions as a list, sources, feedback buttons.

Limits (https://docs.slack.dev/reference/block-kit/blocks): a section's text is at most 3,000 characters and a message
at most 50 blocks. Each message also keeps its text under MESSAGE_CHARS, so a long answer becomes a few readable
messages rather than one enormous one. Streamed answers are sent as Markdown (`markdown_text`, which like the
`markdown` block allows 12,000 characters; see responder.STREAM_TEXT_LIMIT) and replaced by these blocks when an
answer outgrows one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.slack.mrkdwn import escape, inline, split_text, to_mrkdwn
from bot.messages import Reply

SECTION_CHARS = 3_000
MAX_BLOCKS = 50
MESSAGE_CHARS = 12_000
FALLBACK_CHARS = 300
CONTEXT_CHARS = 2_000
BUTTON_VALUE_CHARS = 2_000

FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
FEEDBACK_VALUES = {FEEDBACK_UP: "up", FEEDBACK_DOWN: "down"}

Block = dict[str, Any]


@dataclass
class SlackMessage:
    """One chat.postMessage worth: `text` is the notification fallback, `blocks` what people see."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def section(mrkdwn: str) -> Block:
    if len(mrkdwn) > SECTION_CHARS:
        raise ValueError(f"section text over {SECTION_CHARS} characters")
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(mrkdwn, CONTEXT_CHARS)}]}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fallback_text(mrkdwn: str) -> str:
    """A short plain preview for notifications and clients that cannot show blocks."""
    first = " ".join(mrkdwn.replace("```", " ").split())
    return _clip(first, FALLBACK_CHARS) or "Backend Consultant"


def body_sections(markdown: str) -> list[Block]:
    return [section(piece) for piece in split_text(to_mrkdwn(markdown), SECTION_CHARS)]


def questions_block(questions: list[str]) -> Block | None:
    if not questions:
        return None
    lines = "\n".join(f"{i}. {inline(q)}" for i, q in enumerate(questions, 1))
    return section(_clip(f"*To narrow it down:*\n{lines}", SECTION_CHARS))


def sources_block(reply: Reply) -> Block | None:
    if not reply.sources:
        return None
    names = " · ".join(f"{escape(s.title)} (`{escape(s.id)}`)" for s in reply.sources)
    mode = "" if reply.mode == "llm" else "  |  offline answer from the knowledge base"
    return context(f":books: Sources: {names}{mode}")


def feedback_block(answer_id: str | None) -> Block | None:
    if not answer_id or len(answer_id) > BUTTON_VALUE_CHARS:
        return None
    return {"type": "actions", "block_id": "feedback", "elements": [
        {"type": "button", "action_id": FEEDBACK_UP, "value": answer_id,
         "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True}},
        {"type": "button", "action_id": FEEDBACK_DOWN, "value": answer_id,
         "text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True}},
    ]}


def trailer_blocks(reply: Reply) -> list[Block]:
    """What follows the answer: the follow-up questions, the sources and the feedback buttons."""
    return [b for b in (questions_block(reply.questions), sources_block(reply), feedback_block(reply.answer_id)) if b]


def _size(block: Block) -> int:
    if block["type"] == "section":
        return len(block["text"]["text"])
    if block["type"] == "context":
        return sum(len(e.get("text", "")) for e in block["elements"])
    return 0


def pack(blocks: list[Block]) -> list[SlackMessage]:
    """Group blocks into messages of at most MAX_BLOCKS blocks and MESSAGE_CHARS characters, keeping their order."""
    messages: list[SlackMessage] = []
    current: list[Block] = []
    size = 0
    for block in blocks:
        block_size = _size(block)
        if current and (len(current) >= MAX_BLOCKS or size + block_size > MESSAGE_CHARS):
            messages.append(_message(current))
            current, size = [], 0
        current.append(block)
        size += block_size
    if current:
        messages.append(_message(current))
    return messages


def _message(blocks: list[Block]) -> SlackMessage:
    first = next((b["text"]["text"] for b in blocks if b["type"] == "section"), "")
    return SlackMessage(text=fallback_text(first) if first else "Backend Consultant", blocks=blocks)


def reply_messages(reply: Reply, *, lead: list[Block] | None = None) -> list[SlackMessage]:
    """The whole reply as one or more messages; the trailer goes with the last part of the answer."""
    return pack([*(lead or []), *body_sections(reply.text), *trailer_blocks(reply)])


def progress_text(partial_markdown: str) -> SlackMessage:
    """The throttled chat.update fallback while an answer streams: the answer so far, cut to one section."""
    converted = to_mrkdwn(partial_markdown)[: SECTION_CHARS - 10]  # the final answer replaces it in full
    if converted.count("```") % 2:
        converted += "\n```"
    return SlackMessage(text=fallback_text(converted), blocks=[section(converted + " …")])


PLACEHOLDER = SlackMessage(text="Thinking…", blocks=[context(":hourglass_flowing_sand: _Thinking…_")])


def apology(ref: str) -> SlackMessage:
    text = (f":warning: Sorry, something went wrong on my side while answering this. Please try again in a moment; "
            f"if it keeps happening, give the team this reference: `{ref}`.")
    return SlackMessage(text=f"Sorry, something went wrong (reference {ref}).", blocks=[section(text)])


def notice(mrkdwn: str) -> SlackMessage:
    """A short message of our own (help, limits, errors) as one section."""
    pieces = split_text(mrkdwn, SECTION_CHARS)
    return SlackMessage(text=fallback_text(mrkdwn), blocks=[section(p) for p in pieces[:MAX_BLOCKS]])
