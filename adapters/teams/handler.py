"""The Teams bot: activities in, engine replies out (Markdown messages and Adaptive Cards)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from botbuilder.core import ActivityHandler, CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, Attachment, TextFormatTypes

from adapters.teams.cards import (CARD_CONTENT_TYPE, CARD_VERSION, SCHEMA, feedback_card, findings_markdown, headline,
                                  parse_feedback, review_card)
from adapters.teams.config import TeamsConfig
from adapters.teams.inbound import Message, read_message, scope_of, tenant_of
from adapters.teams.render import plain, reply_markdown, split_markdown
from adapters.teams.sender import Sender
from adapters.teams.threads import PLATFORM, ThreadBook
from bot import metrics
from bot.bootstrap import App
from bot.consult.engine import REVIEW_COMMAND
from bot.messages import Inbound, Reply
from bot.store.port import StoreError

log = logging.getLogger("adapters.teams")

BOT_NAME = "Backend Consultant"
TEAMS_HELP_NOTE = (f"In a channel or group chat, mention me first: `@{BOT_NAME} schema-review CREATE TABLE …`. "
                   "In a personal chat, just write to me.")
NEW_TEXT = ("Started a fresh consultation: what you write next is a new case, and earlier messages here are no "
            "longer used as context. What are you working on?")
EMPTY_TEXT = "Yes? Ask me a backend question, or say `help` to see what I can do."
FEEDBACK_THANKS = {"up": "Thanks for the feedback 👍", "down": "Thanks, noted 👎: I'll use it to improve."}
WELCOME = (f"Hi, I'm **{BOT_NAME}**, a senior backend consultant. I help with API design, service structure, "
           "auth flows, job queues, schema design, query tuning and indexing, zero-downtime migrations, caching "
           "and consistency bugs.\n\n"
           "{how}: describe the data model, what you observe and what you expected, and paste the slow query, its "
           "`EXPLAIN (ANALYZE, BUFFERS)` output, the model code or the error.\n\n"
           "Commands: `schema-review <DDL>` reviews a schema or migration, `new` starts a fresh consultation, "
           "`help` shows what I can do.")


CARD_ACTION_INVOKE = "adaptiveCard/action"
# turn_state entry: the inbox key the endpoint already claimed for this activity (so the bot does not claim again).
CLAIMED = "consultant.claimed"
# turn_state entry: set when the activity is replayed from the inbox after the process handling it died.
REPLAYED = "consultant.replayed"


def card_invoke_response(text: str, *, error: bool) -> InvokeResponse:
    """An Universal Actions invoke response that shows a card: the answer to the action, or what was wrong with it."""
    card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": CARD_VERSION,
            "body": [{"type": "TextBlock", "text": text, "wrap": True, **({"color": "Attention"} if error else {})}]}
    return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE,
                                                                      value=card))


def new_reference() -> str:
    return secrets.token_hex(4)


def event_key(activity: Activity) -> str:
    """The processed-events key of a delivery: activity ids are unique within a conversation."""
    conversation = activity.conversation.id if activity.conversation else ""
    return f"teams:{hashlib.sha256(conversation.encode()).hexdigest()[:16]}:{activity.id}"


def markdown_message(text: str, attachments: list[Attachment] | None = None) -> Activity:
    activity = MessageFactory.text(text)
    activity.text_format = TextFormatTypes.markdown
    if attachments:
        activity.attachments = attachments
    return activity


def card_attachment(card: dict[str, Any]) -> Attachment:
    return CardFactory.adaptive_card(card)  # contentType application/vnd.microsoft.card.adaptive


async def close_connector(turn_context: TurnContext) -> None:
    """The adapter makes one connector client (with its own HTTP session) per turn and never closes it."""
    client = turn_context.turn_state.get(turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is not None:
        try:
            await client.__aexit__(None, None, None)
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.debug("teams connector client close failed", extra={"error": repr(exc)[:200]})


class Undelivered(Exception):
    """Neither the answer nor the apology reached the user (the connector or the bot's token was unavailable)."""


class ConsultantBot(ActivityHandler):
    def __init__(self, app: App, config: TeamsConfig, sender: Sender | None = None) -> None:
        self.engine = app.engine
        self.store = app.store
        self.config = config
        self.threads = ThreadBook(app.store)
        self.sender = sender or Sender(attempts=config.send_attempts, backoff=config.send_backoff,
                                       typing_interval=config.typing_interval)

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = tenant_of(activity)
        if not self.config.tenant_allowed(tenant):
            log.warning("teams activity from a tenant that is not allowed, ignored",
                        extra={"tenant": tenant or None, "activity_type": activity.type, "activity_id": activity.id})
            return
        try:
            await super().on_turn(turn_context)
        except Exception as exc:  # noqa: BLE001 - the user gets an apology, the log gets the details
            await self.apologize(turn_context, exc)
        finally:
            await close_connector(turn_context)

    async def apologize(self, turn_context: TurnContext, exc: BaseException) -> None:
        ref = new_reference()
        activity = turn_context.activity
        log.error("teams turn failed", exc_info=exc, extra={"ref": ref, "activity_id": activity.id,
                                                             "activity_type": activity.type})
        text = f"Sorry, something went wrong on my side and I couldn't answer that. Reference: `{ref}`."
        if isinstance(exc, StoreError):
            text = f"Sorry, my database is unreachable right now, so I couldn't answer. Reference: `{ref}`."
        try:
            await self.sender.send(turn_context, markdown_message(text))
        except Exception as send_error:  # noqa: BLE001 - the connector, or the bot's own token, is unavailable
            log.exception("teams apology could not be sent", extra={"ref": ref})
            # The user got nothing: the turn must not be recorded as answered.
            raise Undelivered(ref) from send_error

    async def _claim(self, activity: Activity, turn_context: TurnContext | None = None) -> bool:
        if not activity.id:
            return True
        if turn_context is not None and turn_context.turn_state.get(CLAIMED) == event_key(activity):
            return True  # the endpoint claimed it (with its payload, in the inbox) before acking
        if await self.store.claim_event(event_key(activity), PLATFORM):
            return True
        log.info("teams duplicate delivery ignored", extra={"activity_id": activity.id})
        metrics.dedupe_dropped(PLATFORM)
        return False

    # --- messages -----------------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.value is not None and not (activity.text or "").strip():
            await self._on_submit(turn_context)
            return
        message = read_message(activity)
        if message.scope != "personal" and not message.mentioned:
            log.debug("teams message without a mention of the bot, ignored", extra={"activity_id": activity.id})
            return
        if not await self._claim(activity, turn_context):
            return
        if not message.text:
            await self.sender.send(turn_context, markdown_message(EMPTY_TEXT))
        elif message.command == "help":
            await self._help(turn_context, message)
        elif message.command == "new":
            await self._new(turn_context, message)
        elif message.command == "forget":
            await self._forget(turn_context, message)
        else:
            await self._consult(turn_context, message)

    def _inbound(self, turn_context: TurnContext, message: Message, channel: str, thread: str,
                 command: str | None = None, args: str | None = None) -> Inbound:
        kind = "command" if command else "direct" if message.scope == "personal" else "mention"
        activity_id = turn_context.activity.id
        return Inbound(platform=PLATFORM, tenant=message.tenant[:128], channel=channel, thread=thread,
                       user=message.user, text=message.text, kind=kind, command=command, args=args,
                       event_id=f"teams:{activity_id}" if activity_id else None)

    async def _help(self, turn_context: TurnContext, message: Message) -> None:
        channel, thread = await self.threads.current(message.tenant, message.conversation_id)
        reply = await self.engine.handle(self._inbound(turn_context, message, channel, thread, command="help"))
        await self.sender.send(turn_context, markdown_message(f"{reply.text.rstrip()}\n\n{TEAMS_HELP_NOTE}"))

    async def _new(self, turn_context: TurnContext, message: Message) -> None:
        activity = turn_context.activity
        _, thread = await self.threads.start_new(message.tenant, message.conversation_id,
                                                 activity.id or new_reference(), message.user)
        log.info("teams new consultation", extra={"tenant": message.tenant, "thread_key": thread})
        await self.sender.send(turn_context, markdown_message(NEW_TEXT))

    async def _forget(self, turn_context: TurnContext, message: Message) -> None:
        channel, thread = await self.threads.current(message.tenant, message.conversation_id)
        reply = await self.engine.handle(self._inbound(turn_context, message, channel, thread, command="forget"))
        await self.sender.send(turn_context, markdown_message(reply.text))

    async def _consult(self, turn_context: TurnContext, message: Message) -> None:
        channel, thread = await self.threads.current(message.tenant, message.conversation_id)
        review = message.command == REVIEW_COMMAND
        inbound = self._inbound(turn_context, message, channel, thread, command=REVIEW_COMMAND if review else None,
                                args=message.args if review else None)
        if turn_context.turn_state.get(REPLAYED) and inbound.event_id:
            # A replay after a crash: the dead attempt's turns for this activity go, so history has them once.
            if (thread_id := await self.store.find_thread(inbound.thread_key)) is not None:
                await self.store.drop_event_turns(thread_id, inbound.event_id)
        async with self.sender.typing(turn_context):
            reply = await self.engine.handle(inbound)
        await self.send_reply(turn_context, reply, review=review)

    async def send_reply(self, turn_context: TurnContext, reply: Reply, *, review: bool = False) -> None:
        """An analysis result becomes a card first; the answer follows as Markdown, split if long, and the
        last message carries the feedback buttons unless the card already has them."""
        has_card = bool(reply.summary or reply.findings)
        if has_card:
            title = {"explain": "Query plan", "querylog": "Query log", "schema-review": "Schema review"}.get(
                reply.analyzer or "", "Schema review" if review else "Analysis")
            card, rest = review_card(reply.summary, reply.findings, reply.answer_id, title=title)
            activity = MessageFactory.attachment(card_attachment(card))
            activity.summary = plain(headline(reply.summary))[:200] or "Review results"
            await self.sender.send(turn_context, activity)
            for chunk in split_markdown(findings_markdown(rest)):
                await self.sender.send(turn_context, markdown_message(chunk))
        chunks = split_markdown(reply_markdown(reply))
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            attachments = ([card_attachment(feedback_card(reply.answer_id))]
                           if last and reply.answer_id and not has_card else None)
            await self.sender.send(turn_context, markdown_message(chunk, attachments))

    # --- card submits (feedback) ----------------------------------------------------------------------------

    async def _record_feedback(self, activity: Activity, answer_id: str, value: str) -> bool:
        """Store a 👍/👎 from a card (a message submit or an invoke); False when the store refused it."""
        message = read_message(activity)
        try:
            await self.store.add_feedback(answer_id, message.user or "unknown", value, PLATFORM)
        except StoreError as exc:
            log.warning("teams feedback not stored", extra={"answer_id": answer_id, "error": str(exc)})
            return False
        log.info("teams feedback", extra={"answer_id": answer_id, "value": value, "tenant": message.tenant})
        return True

    async def _on_submit(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        parsed = parse_feedback(activity.value)
        if parsed is None:
            log.info("teams card submit not understood, ignored", extra={"activity_id": activity.id})
            return
        if not await self._claim(activity, turn_context):
            return
        answer_id, value = parsed
        if not await self._record_feedback(activity, answer_id, value):
            return
        await self.sender.send(turn_context, markdown_message(FEEDBACK_THANKS[value]))

    # --- Universal Actions (Action.Execute) ---------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name == CARD_ACTION_INVOKE:
            return await self._card_action(turn_context)
        return await super().on_invoke_activity(turn_context)

    async def _card_action(self, turn_context: TurnContext) -> InvokeResponse | None:
        """adaptiveCard/action: a feedback vote is recorded; any other or malformed `value` gets an error card
        (botbuilder's default answers 500 or 501 to those, with tracebacks)."""
        activity = turn_context.activity
        value = activity.value
        action = value.get("action") if isinstance(value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            problem = ("`value.action` is missing" if not isinstance(action, dict)
                       else f"`value.action.type` is {str(action.get('type'))[:40]!r}, not 'Action.Execute'")
            log.warning("teams card action with a malformed value ignored",
                        extra={"activity_id": activity.id, "problem": problem})
            return card_invoke_response(f"Sorry, I couldn't process that card action: {problem}. "
                                        "Try the button again, or write to me instead.", error=True)
        parsed = parse_feedback(action.get("data"))
        if parsed is None:  # well-formed, just not ours: declined (501) as botbuilder does
            return await super().on_invoke_activity(turn_context)
        answer_id, vote = parsed
        if not await self._record_feedback(activity, answer_id, vote):
            return card_invoke_response("Sorry, I couldn't record that feedback right now.", error=True)
        return card_invoke_response(FEEDBACK_THANKS[vote], error=False)

    # --- the bot joins a conversation -----------------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if not any(member.id == bot_id for member in activity.members_added or []):
            return
        if not await self._claim(activity, turn_context):
            return
        scope = scope_of(activity)
        how = f"Mention me (`@{BOT_NAME}`) in a post or a thread reply" if scope != "personal" else "Just write here"
        await self.sender.send(turn_context, markdown_message(WELCOME.format(how=how)))

