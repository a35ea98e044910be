"""Reading a Teams activity: tenant, scope, the text without the bot's mention, and the command in it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

_AT_TAG = re.compile(r"<at>(.*?)</at>", re.I | re.S)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|nbsp|#\d+|#x[0-9a-f]+);", re.I)


@dataclass(frozen=True)
class Message:
    tenant: str
    scope: str  # personal, channel or groupChat
    conversation_id: str
    user: str
    text: str
    mentioned: bool
    command: str | None = None
    args: str | None = None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def tenant_of(activity: Activity) -> str:
    """Teams puts the tenant in channelData.tenant.id (and conversation.tenantId, which botbuilder maps to
    additional_properties: its ConversationAccount.tenant_id reads the key `tenantID`)."""
    tenant = _get(activity.channel_data, "tenant", "id")
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id or (activity.conversation.additional_properties or {}).get("tenantId")
    return str(tenant or "")


def scope_of(activity: Activity) -> str:
    kind = (activity.conversation.conversation_type if activity.conversation else None) or "personal"
    return kind if kind in ("channel", "groupChat") else "personal"


def user_of(activity: Activity) -> str:
    sender = activity.from_property
    if sender is None:
        return ""
    return sender.aad_object_id or sender.id or ""


def strip_bot_mention(activity: Activity) -> tuple[str, bool]:
    """The text without the bot's own mention, located through the mention entity that names the bot."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    mentioned = False
    for entity in TurnContext.get_mentions(activity):
        props = entity.additional_properties or {}
        if bot_id is None or _get(props, "mentioned", "id") != bot_id:
            continue
        mentioned = True
        literal = props.get("text") or f"<at>{_get(props, 'mentioned', 'name') or ''}</at>"
        text = text.replace(literal, " ", 1)
    return text, mentioned


def clean(text: str) -> str:
    # Other people's mentions stay as their names; Teams may send HTML entities and non-breaking spaces.
    text = _AT_TAG.sub(lambda m: m.group(1), text)
    if _ENTITY.search(text):
        text = html.unescape(text)
    text = text.replace("\xa0", " ").replace("\r\n", "\n")
    return text.strip()


def parse_command(text: str) -> tuple[str | None, str | None]:
    """(command, args) when the text is a command (a leading slash is accepted).

    `help`, `new` and `forget` count only as the whole message, so questions such as "help me pick an index" or "new
    index on orders made writes slow" stay questions; `schema-review` takes everything after it."""
    match = re.match(r"/?(schema-review)(?:\s+|$)", text, re.I)
    if match:
        return "schema-review", text[match.end():].strip()
    word = re.fullmatch(r"/?(help|new|forget)[.!?]?", text.strip(), re.I)
    if word:
        return word.group(1).lower(), ""
    return None, None


def read_message(activity: Activity) -> Message:
    text, mentioned = strip_bot_mention(activity)
    text = clean(text)
    command, args = parse_command(text)
    return Message(tenant=tenant_of(activity), scope=scope_of(activity),
                   conversation_id=activity.conversation.id if activity.conversation else "",
                   user=user_of(activity), text=text, mentioned=mentioned, command=command, args=args)
