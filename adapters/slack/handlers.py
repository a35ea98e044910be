"""The Bolt listeners: app_mention, message (DMs and thread follow-ups), /schema-review, feedback buttons, the modal.

The app runs with process_before_response=True, so each listener runs before Slack gets its answer; every listener
here only filters, claims the delivery and acks, and leaves the slow work to a tracked background task. That keeps
the answer to Slack in milliseconds (no reason to retry) and makes the claim durable before the ack.

Idempotency and durability: every event is claimed with Store.claim_turn("slack:<event_id>", payload) before any
work: one INSERT that both claims the dedupe key and records the turn in the inbox (adapters/slack/inbox.py). The key
is unique in the database, so a retry (x-slack-retry-num) or a duplicate delivery to another replica never answers
twice, and a turn whose process dies is resumed by another once its lease runs out.

An event of an unexpected shape (no channel or ts) is acknowledged (Slack would only retry it), logged once and
ignored.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from adapters.slack.consult import Consultations, TurnRecord, Turn, turn_of
from adapters.slack.inbound import is_from_person, is_thread_reply
from adapters.slack.inbox import slack_inbox, turn_payload
from adapters.slack.render import FEEDBACK_VALUES
from adapters.slack.responder import Capabilities
from adapters.slack.review import MODAL_CALLBACK, Reviews
from adapters.slack.tasks import Background, new_ref
from bot import metrics
from bot.bootstrap import App
from bot.store.port import InboxItem, StoreError

log = logging.getLogger("adapters.slack")

REVIEW_SLASH_COMMAND = "/schema-review"
_FEEDBACK_ACTION = re.compile(r"^feedback_(up|down)$")
_THANKS = {
    "up": "Thanks, noted that this answer helped. :+1:",
    "down": "Thanks, noted. Tell me in the thread what was wrong or missing and I'll take another pass.",
}


def _team(body: dict[str, Any], context: AsyncBoltContext) -> str:
    return body.get("team_id") or context.team_id or (body.get("team") or {}).get("id") or ""


def _well_formed(body: dict[str, Any], event: dict[str, Any]) -> bool:
    """A message event the bot can answer has a channel and a ts; anything else is logged once and ignored."""
    if isinstance(event.get("channel"), str) and isinstance(event.get("ts"), str) and event["channel"] and event["ts"]:
        return True
    log.warning("Slack event of an unexpected shape ignored",
                extra={"event_id": body.get("event_id"), "event_type": event.get("type"),
                       "fields": sorted(str(k) for k in event)[:20]})
    return False


class SlackHandlers:
    def __init__(self, app: App, client: AsyncWebClient, config: SlackConfig, background: Background,
                 caps: Capabilities) -> None:
        self.app, self.client, self.background = app, client, background
        self.consult = Consultations(app, client, config, caps)
        self.reviews = Reviews(app, client, background)
        self.inbox = slack_inbox(app, background)

    def register(self, bolt: AsyncApp) -> None:
        bolt.event("app_mention")(self.on_mention)
        bolt.event("message")(self.on_message)
        bolt.command(REVIEW_SLASH_COMMAND)(self.reviews.on_command)
        bolt.view(MODAL_CALLBACK)(self.reviews.on_submit)
        bolt.action(_FEEDBACK_ACTION)(self.on_feedback)
        bolt.error(self.on_error)

    # ---- events ---------------------------------------------------------------------------------------------

    async def on_mention(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        if not is_from_person(event, context.bot_user_id) or not _well_formed(body, event):
            return
        if event["channel"].startswith("D"):
            return  # a DM is handled as message.im
        await self._accept(body, event, context, kind="mention")

    async def on_message(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        bot_user_id = context.bot_user_id
        if not is_from_person(event, bot_user_id):
            return  # our own messages, other bots, edits, deletions and other subtypes
        if not _well_formed(body, event):
            return
        channel_type = event.get("channel_type")
        if channel_type == "im":
            await self._accept(body, event, context, kind="direct")
            return
        if channel_type not in ("channel", "group") or not is_thread_reply(event):
            return  # top-level channel chatter is not for the bot
        if bot_user_id and f"<@{bot_user_id}" in (event.get("text") or ""):
            return  # the app_mention event for this message answers it
        await self._accept(body, event, context, kind="follow_up")

    async def _accept(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, *,
                      kind: str) -> None:
        """Claim and record the event (one write), then run it in the background; a duplicate is dropped."""
        team = _team(body, context)
        turn = turn_of(event, team, body.get("event_id"))
        delivery = body.get("event_id") or f"{turn.channel}:{event['ts']}"
        key = f"slack:{delivery}"
        payload = turn_payload(event, team=team, event_id=turn.event_id, kind=kind, bot_user_id=context.bot_user_id)
        try:
            first = await self.inbox.claim(key, payload)
        except StoreError:
            ref = new_ref()
            log.exception("could not record the Slack event; not answering it", extra={"ref": ref, "key": key})
            self.background.spawn(self.consult.responder(turn).fail(ref), name=f"slack:apology:{ref}")
            return
        if not first:
            log.info("duplicate Slack delivery ignored", extra={"key": key, "retry": body.get("retry_attempt")})
            metrics.dedupe_dropped("slack")
            return
        self.inbox.spawn(key, payload)

    async def run_turn(self, key: str, payload: dict[str, Any], item: InboxItem | None) -> None:
        """One turn from its inbox payload (a new event, or one resumed after its owner died); records the end."""
        event, kind, bot_user_id = payload["event"], payload.get("kind", "mention"), payload.get("bot_user_id")
        turn = turn_of(event, payload.get("team") or "", payload.get("event_id"))
        record = TurnRecord(self.app.store, key, dict(item.result) if item else {}, item.attempts if item else 1,
                            owner=self.app.instance_id)
        if kind == "follow_up":
            answered = await self._follow_up(event, turn, bot_user_id, record)
        else:
            answered = await self.consult.handle(event, turn, kind=kind, bot_user_id=bot_user_id, record=record)
        try:
            await self.app.store.finish_turn(key, "answered" if answered else "failed",
                                             {"answer_ts": record.answer_ts} if record.answer_ts else None,
                                             owner=self.app.instance_id)
        except StoreError as exc:
            # The lease runs out and the turn is resumed; the thread check finds the tagged answer and stops there.
            log.warning("could not record the end of a Slack turn", extra={"key": key, "error": str(exc)})

    async def _follow_up(self, event: dict[str, Any], turn: Turn, bot_user_id: str | None,
                         record: TurnRecord) -> bool:
        try:
            answer = await self.consult.should_follow_up(event, turn, bot_user_id)
        except Exception:  # noqa: BLE001
            ref = new_ref()
            log.exception("follow-up check failed", extra={"ref": ref, "event_id": turn.event_id})
            await self.consult.responder(turn).fail(ref)
            return False
        if not answer:
            return True  # nothing to answer: the turn is done
        return await self.consult.handle(event, turn, kind="mention", bot_user_id=bot_user_id, record=record)

    # ---- interactivity --------------------------------------------------------------------------------------

    async def on_feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self.background.spawn(self._store_feedback(body, action), name="slack:feedback")

    async def _store_feedback(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        value = FEEDBACK_VALUES.get(action.get("action_id", ""), "")
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts")
        try:
            await self.app.store.add_feedback(action["value"], user, value, "slack")
            text = _THANKS[value]
        except Exception:  # noqa: BLE001
            ref = new_ref()
            log.exception("feedback not stored", extra={"ref": ref, "answer_id": action.get("value")})
            text = f"Sorry, I could not record that feedback (reference `{ref}`)."
        if channel:
            await self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread, text=text)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        ref = new_ref()
        log.error("slack listener failed", exc_info=error,
                  extra={"ref": ref, "type": body.get("type"), "event_id": body.get("event_id")})
