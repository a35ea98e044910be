"""Request bodies in the shapes Slack documents (Events API, slash commands, interactivity), and signing."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.slack.slack_server import BOT_USER_ID, TEAM_ID

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_ids = itertools.count(1)
_ts = itertools.count(1)


def next_ts() -> str:
    return f"1699999{next(_ts):03d}.000200"


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    """Exactly what Slack sends: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }


def app_mention(text: str, *, channel: str = "C1", user: str = "U1", ts: str | None = None,
                thread_ts: str | None = None, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ts = ts or next_ts()
    event: dict[str, Any] = {"client_msg_id": f"m-{ts}", "type": "app_mention", "text": text, "user": user, "ts": ts,
                             "team": TEAM_ID, "channel": channel, "event_ts": ts,
                             "blocks": [{"type": "rich_text", "block_id": "b1", "elements": []}]}
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event["files"] = files
    return event


def message(text: str, *, channel: str = "D1", channel_type: str = "im", user: str | None = "U1",
            ts: str | None = None, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = ts or next_ts()
    event: dict[str, Any] = {"type": "message", "channel": channel, "text": text, "ts": ts, "event_ts": ts,
                             "channel_type": channel_type, "team": TEAM_ID}
    if user:
        event["user"] = user
        event["client_msg_id"] = f"m-{ts}"
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = "U1"
    event.update(extra)
    return event


def message_changed(channel: str = "D1") -> dict[str, Any]:
    ts = next_ts()
    return {"type": "message", "subtype": "message_changed", "hidden": True, "channel": channel, "ts": ts,
            "event_ts": ts, "channel_type": "im",
            "message": {"type": "message", "user": "U1", "text": "edited", "ts": "1699999000.000100",
                        "edited": {"user": "U1", "ts": ts}},
            "previous_message": {"type": "message", "user": "U1", "text": "orig", "ts": "1699999000.000100"}}


def message_deleted(channel: str = "D1") -> dict[str, Any]:
    ts = next_ts()
    return {"type": "message", "subtype": "message_deleted", "hidden": True, "channel": channel, "ts": ts,
            "deleted_ts": "1699999000.000100", "event_ts": ts, "channel_type": "im",
            "previous_message": {"type": "message", "user": "U1", "text": "orig", "ts": "1699999000.000100"}}


def slash_command(text: str, *, response_url: str, channel: str = "C1", user: str = "U1") -> str:
    """The form body Slack POSTs for a slash command."""
    return urlencode({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "test", "channel_id": channel,
        "channel_name": "backend", "user_id": user, "user_name": "ana", "command": "/schema-review", "text": text,
        "api_app_id": "A1", "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": f"{next(_ids)}.111.abc",
    })


def interactive(payload: dict[str, Any]) -> str:
    """Interactivity bodies are form-encoded with one `payload` field holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions(action_id: str, value: str, *, channel: str = "C1", user: str = "U1", message_ts: str = "",
                  thread_ts: str | None = None, response_url: str = "") -> dict[str, Any]:
    msg = {"type": "message", "user": BOT_USER_ID, "bot_id": "BBOT", "ts": message_ts, "text": "answer"}
    if thread_ts:
        msg["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": TEAM_ID},
        "api_app_id": "A1", "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False,
                      "thread_ts": thread_ts},
        "trigger_id": f"{next(_ids)}.222.def",
        "team": {"id": TEAM_ID, "domain": "test"}, "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": channel, "name": "backend"},
        "message": msg,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "feedback", "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True},
                     "action_ts": str(time.time())}],
    }


def view_submission(ddl: str, *, dialect: str = "postgres", channel: str = "C1", user: str = "U1") -> dict[str, Any]:
    labels = {"postgres": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": TEAM_ID},
        "api_app_id": "A1", "token": "legacy-verification-token", "trigger_id": f"{next(_ids)}.333.ghi",
        "view": {
            "id": "V1", "team_id": TEAM_ID, "type": "modal", "callback_id": "schema_review",
            "private_metadata": json.dumps({"channel": channel}), "hash": "h1", "app_id": "A1",
            "title": {"type": "plain_text", "text": "Schema review"}, "blocks": [],
            "state": {"values": {
                "ddl": {"ddl": {"type": "plain_text_input", "value": ddl}},
                "dialect": {"dialect": {"type": "static_select", "selected_option": {
                    "text": {"type": "plain_text", "text": labels[dialect]}, "value": dialect}}},
            }},
        },
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }
