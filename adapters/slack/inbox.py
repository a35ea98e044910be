"""Slack's durable turns: the inbox (adapters/inbox.py) for "slack", and what a Slack turn stores to be resumed."""

from __future__ import annotations

from typing import Any

from adapters.inbox import Inbox
from adapters.slack.tasks import Background
from bot.bootstrap import App
from bot.redact import redact

PLATFORM = "slack"


def slack_inbox(app: App, background: Background) -> Inbox:
    return Inbox(app, PLATFORM, lambda coro, key: background.spawn(coro, name=f"slack:{key}"))


def turn_payload(event: dict[str, Any], *, team: str, event_id: str | None, kind: str,
                 bot_user_id: str | None) -> dict[str, Any]:
    """What a resumed turn needs, with secrets in the message text masked before it is stored."""
    stored = dict(event)
    if isinstance(stored.get("text"), str):
        stored["text"] = redact(stored["text"])
    stored.pop("blocks", None)  # rich-text blocks repeat the text, unmasked
    return {"event": stored, "team": team, "event_id": event_id, "kind": kind, "bot_user_id": bot_user_id}
