"""Activity JSON in the shapes Teams sends (per the Bot Framework and Teams bot documentation)."""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c"
BOT_NAME = "Backend Consultant"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER = {"id": "29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVk", "name": "Megan Bowen",
        "aadObjectId": "7faf42f0-2a4e-4b6a-9f1d-1f1b8a1f3c11"}
TEAM = "19:0ff13a57b9f84a27a3a4b3fb6b5bd6a4@thread.tacv2"
CHANNEL = "19:4f9a2e1c5d7b4b3c9a2f7b8e6c5d4a3b@thread.tacv2"
GROUP_CHAT = "19:meeting_NjM3ZDk2YjYtYTU0NS00ZTBlLWE0NjctNzk3NDdhZTQ4ZWIy@thread.v2"
PERSONAL = "a:1Hkl9Sd8xJ3QwZ2bPm0Xg7oK5sV4nR6uT1yE8cF3aW9jL2hD7qN5mB0vC4xZ1"

_ids = itertools.count(1_700_000_000_000)


def next_id() -> str:
    return str(next(_ids))


def _base(kind: str, service_url: str, conversation: dict[str, Any], *, activity_id: str | None,
          tenant: str, channel_data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = {"tenant": {"id": tenant}, **(channel_data or {})}
    return {
        "type": kind,
        "id": activity_id or next_id(),
        "timestamp": "2025-06-02T09:15:07.437Z",
        "localTimestamp": "2025-06-02T11:15:07.437+02:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": dict(USER),
        "conversation": {**conversation, "tenantId": tenant},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "locale": "en-US",
        "channelData": data,
    }


def personal_message(service_url: str, text: str, *, activity_id: str | None = None, tenant: str = TENANT,
                     conversation: str = PERSONAL) -> dict[str, Any]:
    activity = _base("message", service_url, {"conversationType": "personal", "id": conversation},
                     activity_id=activity_id, tenant=tenant)
    activity.update({"textFormat": "plain", "text": text,
                     "entities": [{"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"}]})
    return activity


def mention_entity(name: str = BOT_NAME, bot_id: str = BOT_ID) -> dict[str, Any]:
    return {"type": "mention", "mentioned": {"id": bot_id, "name": name}, "text": f"<at>{name}</at>"}


def channel_message(service_url: str, text: str, *, root: str | None = None, activity_id: str | None = None,
                    tenant: str = TENANT, mention: bool = True, name: str = BOT_NAME) -> dict[str, Any]:
    """A channel post (root=None: a new post, which roots its own thread) or a reply in thread `root`."""
    activity_id = activity_id or next_id()
    conversation = f"{CHANNEL};messageid={root or activity_id}"
    activity = _base("message", service_url, {"isGroup": True, "conversationType": "channel", "id": conversation},
                     activity_id=activity_id, tenant=tenant,
                     channel_data={"teamsChannelId": CHANNEL, "teamsTeamId": TEAM, "channel": {"id": CHANNEL},
                                   "team": {"id": TEAM}})
    body = f"<at>{name}</at> {text}" if mention else text
    activity.update({"textFormat": "plain", "text": body,
                     "attachments": [{"contentType": "text/html", "content": f"<div>{body}</div>"}],
                     "entities": ([mention_entity(name)] if mention else []) +
                                 [{"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Windows"}]})
    return activity


def group_message(service_url: str, text: str, *, activity_id: str | None = None, tenant: str = TENANT,
                  mention: bool = True) -> dict[str, Any]:
    activity = _base("message", service_url, {"isGroup": True, "conversationType": "groupChat", "id": GROUP_CHAT},
                     activity_id=activity_id, tenant=tenant)
    body = f"<at>{BOT_NAME}</at> {text}" if mention else text
    activity.update({"textFormat": "plain", "text": body, "entities": [mention_entity()] if mention else []})
    return activity


def bot_added_to_team(service_url: str, *, tenant: str = TENANT, bot_id: str = BOT_ID) -> dict[str, Any]:
    activity = _base("conversationUpdate", service_url,
                     {"isGroup": True, "conversationType": "channel", "id": TEAM},
                     activity_id=f"f:{next_id()}", tenant=tenant,
                     channel_data={"team": {"id": TEAM, "name": "Platform", "aadGroupId": "02ce3874-dd86-41ba-bddc-013f34019978"},
                                   "eventType": "teamMemberAdded"})
    activity["membersAdded"] = [{"id": bot_id}]
    return activity


def card_submit(service_url: str, value: dict[str, Any], *, reply_to: str, conversation: str = PERSONAL,
                scope: str = "personal", tenant: str = TENANT) -> dict[str, Any]:
    activity = _base("message", service_url, {"conversationType": scope, "id": conversation},
                     activity_id=next_id(), tenant=tenant,
                     channel_data={"source": {"name": "message"}, "legacy": {"replyToId": reply_to}})
    activity.update({"replyToId": reply_to, "value": value})
    return activity
