"""`/schema-review`: acknowledged at once; with DDL, a review posted in the channel; without, a modal.

With text, the bot posts in the channel as itself, saying who asked: a compact summary at the top (counts by
severity, the top findings with their fix SQL) and the full report in that message's thread. The thread key is the
posted message's ts, the same key mentions and follow-ups use, so "why is that bad?" in the thread continues the
consultation with the review as context.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import SlackMessage, apology, context, section
from adapters.slack.review_blocks import review_messages
from adapters.slack.tasks import Background, new_ref
from bot.bootstrap import App
from bot.consult.engine import REVIEW_COMMAND
from bot.help import REVIEW_UNAVAILABLE
from bot.messages import Inbound

log = logging.getLogger("adapters.slack")

MODAL_CALLBACK = "schema_review"
DDL_BLOCK, DDL_ACTION = "ddl", "ddl"
DIALECT_BLOCK, DIALECT_ACTION = "dialect", "dialect"
MODAL_INPUT_CHARS = 3_000  # Slack's maximum for a plain_text_input
DIALECTS = (("postgres", "PostgreSQL"), ("mysql", "MySQL"), ("sqlite", "SQLite"))
EMPTY_DDL = "Paste the DDL or migration to review (CREATE TABLE, ALTER TABLE, CREATE INDEX …)."
# Posting in the channel failed because the bot cannot post there; the review goes to the person's DM instead.
_CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_reply_to_message",
                "team_access_not_granted", "restricted_action_read_only_channel", "ekm_access_denied"}

Respond = Callable[..., Awaitable[Any]]


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def review_modal(channel: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": json.dumps({"channel": channel}),
        "title": {"type": "plain_text", "text": "Schema review"},
        "submit": {"type": "plain_text", "text": "Review"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": DDL_BLOCK,
             "label": {"type": "plain_text", "text": "DDL or migration"},
             "hint": {"type": "plain_text", "text": "Up to 3,000 characters here. For a longer schema, share a .sql "
                                                    "file with me in a DM."},
             "element": {"type": "plain_text_input", "action_id": DDL_ACTION, "multiline": True,
                         "max_length": MODAL_INPUT_CHARS,
                         "placeholder": {"type": "plain_text",
                                         "text": "CREATE TABLE orders (id bigint PRIMARY KEY, …);"}}},
            {"type": "input", "block_id": DIALECT_BLOCK,
             "label": {"type": "plain_text", "text": "Dialect"},
             "element": {"type": "static_select", "action_id": DIALECT_ACTION,
                         "initial_option": _option(*DIALECTS[0]),
                         "options": [_option(v, label) for v, label in DIALECTS]}},
        ],
    }


def submitted(view: dict[str, Any]) -> tuple[str, str, str]:
    """(ddl, dialect, channel) from a view_submission's state."""
    values = view.get("state", {}).get("values", {})
    ddl = (values.get(DDL_BLOCK, {}).get(DDL_ACTION, {}).get("value") or "").strip()
    selected = values.get(DIALECT_BLOCK, {}).get(DIALECT_ACTION, {}).get("selected_option") or {}
    dialect = selected.get("value") if selected.get("value") in dict(DIALECTS) else "postgres"
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("channel", "")
    except ValueError:
        channel = ""
    return ddl, dialect, channel


class Reviews:
    def __init__(self, app: App, client: AsyncWebClient, background: Background) -> None:
        self.app, self.client, self.background = app, client, background

    @property
    def available(self) -> bool:
        return self.app.engine.analyzers.get(REVIEW_COMMAND) is not None

    # ---- listeners: each acks first and leaves anything slow to a background task --------------------------

    async def on_command(self, ack: Callable[..., Awaitable[Any]], command: dict[str, Any], respond: Respond) -> None:
        text = (command.get("text") or "").strip()
        if not self.available:
            await ack(response_type="ephemeral", text=REVIEW_UNAVAILABLE)
            return
        await ack()
        user, channel, team = command["user_id"], command["channel_id"], command.get("team_id", "")
        if not text:
            self.background.spawn(self.open_modal(command["trigger_id"], channel, user, respond),
                                  name="slack:review-modal")
            return
        self.background.spawn(self.run(team=team, channel=channel, user=user, args=text, respond=respond),
                              name="slack:review")

    async def on_submit(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], view: dict[str, Any]) -> None:
        ddl, dialect, channel = submitted(view)
        if not ddl:
            await ack(response_action="errors", errors={DDL_BLOCK: EMPTY_DDL})
            return
        await ack()
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        self.background.spawn(self.run(team=team, channel=channel or user, user=user,
                                       args=f"--dialect {dialect} {ddl}", respond=None), name="slack:review")

    # ---- the slow parts -------------------------------------------------------------------------------------

    async def open_modal(self, trigger_id: str, channel: str, user: str, respond: Respond) -> None:
        try:
            await self.client.views_open(trigger_id=trigger_id, view=review_modal(channel))
        except Exception:  # noqa: BLE001
            ref = new_ref()
            log.exception("views.open failed", extra={"ref": ref, "user": user})
            await respond(response_type="ephemeral", replace_original=False,
                          text=f"Sorry, I could not open the review form (reference `{ref}`). You can also type "
                               "`/schema-review` followed by the DDL.")

    async def _post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Any:
        return await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                                  unfurl_media=False, **message.kwargs())

    async def _post_top(self, channel: str, user: str, respond: Respond | None) -> Any:
        """The review's top message (progress until the review is ready); the person's DM if the channel refuses."""
        pending = SlackMessage(text="Schema review in progress…", blocks=[
            section(f":mag: <@{user}> asked for a schema review."), context(":hourglass_flowing_sand: _Reviewing…_")])
        try:
            return await self._post(channel, pending)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else ""
            if error not in _CANNOT_POST or channel == user:
                raise
            log.info("cannot post the review in the channel; sending it by DM", extra={"error": error})
            if respond is not None:
                await respond(response_type="ephemeral", replace_original=False,
                              text="I can't post in this conversation, so I'm sending the review to you in a DM. "
                                   "Invite me with `/invite @Backend Consultant` to post reviews here.")
            return await self._post(user, pending)

    async def run(self, *, team: str, channel: str, user: str, args: str, respond: Respond | None) -> None:
        """Post the top message, review in its thread, replace it with the summary, post the report below."""
        top = None
        try:
            top = await self._post_top(channel, user, respond)
            channel, thread = top["channel"], top["ts"]
            inbound = Inbound(platform="slack", tenant=team, channel=channel, thread=thread, user=user,
                              text=f"/{REVIEW_COMMAND}", kind="command", command=REVIEW_COMMAND, args=args)
            reply = await self.app.engine.handle(inbound)
            first, *rest = review_messages(reply, user=user)
            await self.client.chat_update(channel=channel, ts=thread, **first.kwargs())
            for message in rest:
                await self._post(channel, message, thread_ts=thread)
        except Exception:  # noqa: BLE001 - the user gets an apology with the reference that is in the log
            ref = new_ref()
            log.exception("schema review failed", extra={"ref": ref, "team": team, "channel": channel, "user": user})
            await self._apologize(ref, channel, user, top, respond)

    async def _apologize(self, ref: str, channel: str, user: str, top: Any, respond: Respond | None) -> None:
        try:
            if top is not None:
                await self._post(top["channel"], apology(ref), thread_ts=top["ts"])
            elif respond is not None:
                await respond(response_type="ephemeral", replace_original=False, **apology(ref).kwargs())
            else:
                await self._post(user, apology(ref))
        except Exception as exc:  # noqa: BLE001
            log.error("could not post the apology", extra={"ref": ref, "error": f"{exc.__class__.__name__}: {exc}"})

