"""Slack events in: which messages are for the bot, their plain text, thread and files."""

from __future__ import annotations

import html
import re
from typing import Any

# Message subtypes that are still a person writing: a file shared with text, and a thread reply also sent to the
# channel. Everything else (message_changed, message_deleted, bot_message, channel_join, ...) is ignored.
HUMAN_SUBTYPES = frozenset({"file_share", "thread_broadcast"})

_USER_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<name>[^>]*))?>")
_CHANNEL = re.compile(r"<#(?P<id>C[A-Z0-9]+)(?:\|(?P<name>[^>]*))?>")
_SPECIAL = re.compile(r"<!(?P<what>here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^(?P<id>[A-Z0-9]+)(?:\|(?P<name>[^>]*))?>")
_LINK = re.compile(r"<(?P<url>(?:https?|mailto):[^|>]+)(?:\|(?P<label>[^>]*))?>")


def mentioned_users(text: str) -> set[str]:
    return {m.group("id") for m in _USER_MENTION.finditer(text or "")}


def addressed_to_others(text: str, bot_user_id: str | None) -> bool:
    """Whether the message @-mentions someone other than the bot (a person-to-person message)."""
    return bool(mentioned_users(text) - {bot_user_id}) or bool(_SUBTEAM.search(text or ""))


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's message markup back to the text the person typed (what the engine and the LLM should see)."""
    text = text or ""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>[,:]?\s?", "", text)
    text = _USER_MENTION.sub(lambda m: "@" + (m.group("name") or m.group("id")), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group("name") or m.group("id")), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group("what"), text)
    text = _SUBTEAM.sub(lambda m: "@" + (m.group("name") or m.group("id")).lstrip("@"), text)

    def link(match: re.Match[str]) -> str:
        url, label = match.group("url"), match.group("label")
        bare = re.sub(r"^(?:https?://|mailto:)", "", url)
        # Slack auto-links things like `orders.id` or `example.com`; keep what the person typed.
        return label if label and (label == url or label == bare) else (f"{label} ({url})" if label else url)

    text = _LINK.sub(link, text)
    return html.unescape(text).strip()


def thread_ts(event: dict[str, Any]) -> str:
    """Replies go to the message's thread: its thread_ts if it is already in one, else the message itself."""
    return event.get("thread_ts") or event["ts"]


def is_thread_reply(event: dict[str, Any]) -> bool:
    return bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")


def is_from_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A message a person wrote: not from any bot (ours included), not an edit, deletion or other subtype."""
    if event.get("bot_id") or event.get("bot_profile") or (event.get("app_id") and not event.get("user")):
        return False
    if event.get("subtype") not in (None, *HUMAN_SUBTYPES) or event.get("hidden"):
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id


def is_sql_file(file: dict[str, Any]) -> bool:
    name = (file.get("name") or file.get("title") or "").lower()
    return name.endswith(".sql") or (file.get("filetype") or "").lower() == "sql"


def dialect_hint(text: str) -> str | None:
    """A dialect named in the message that shares a .sql file ("review this MySQL schema")."""
    lowered = (text or "").lower()
    if re.search(r"\b(mysql|mariadb)\b", lowered):
        return "mysql"
    if re.search(r"\bsqlite3?\b", lowered):
        return "sqlite"
    if re.search(r"\b(postgres(ql)?|pg)\b", lowered):
        return "postgres"
    return None
