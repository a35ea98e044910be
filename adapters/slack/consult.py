"""A consultation turn from a Slack message: mentions, DMs and follow-ups in threads the bot is part of.

Follow-up policy (also in docs/slack.md): in a channel, a reply in a thread without an @-mention is answered only
when the bot has already answered in that thread AND the message does not @-mention another person. Messages that
do mention someone else are person-to-person: the bot stays quiet but keeps them as thread context, so a later
question to it knows what was said. Top-level channel messages without a mention are never answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from adapters.slack.files import SqlFiles
from adapters.slack.inbound import (addressed_to_others, dialect_hint, is_thread_reply, mentioned_users, plain_text,
                                    thread_ts)
from adapters.slack.mrkdwn import to_mrkdwn
from adapters.slack.render import PLACEHOLDER, notice
from adapters.slack.responder import ANSWER_EVENT, PLACEHOLDER_EVENT, Capabilities, Responder
from adapters.slack.review_blocks import analysis_kind, review_messages
from adapters.slack.tasks import new_ref
from bot.bootstrap import App
from bot.consult.engine import REVIEW_COMMAND
from bot.help import HELP
from bot.messages import Inbound, Reply
from bot.redact import redact
from bot.store.port import Store, StoreError

log = logging.getLogger("adapters.slack")

# Earlier thread messages fetched with conversations.replies are kept up to this many characters (newest first).
HISTORY_CHARS = 12_000
HISTORY_PAGE = 200
# A turn that has crashed its process this many times is answered with an apology instead of a fourth try.
MAX_ATTEMPTS = 3

SLACK_HELP = HELP.replace("- `schema-review", "- `/schema-review").replace(
    "- `new`: start a fresh consultation.",
    "- A new top-level message (or a new thread) starts a fresh consultation; replies in a thread continue it.") + \
    "- Share a `.sql` file with me (in a DM, or with an @-mention) to have it reviewed, or a `.txt`/`.json`/`.log` " \
    "file with a query plan (EXPLAIN) or a query log to have it diagnosed.\n"


@dataclass(frozen=True)
class Turn:
    """Where a message came from and where its answer goes."""

    team: str
    channel: str
    thread: str
    user: str
    is_dm: bool
    event_id: str | None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return ("slack", self.team, self.channel, self.thread)


class TurnRecord:
    """The inbox row of a running turn: what earlier attempts posted, and where this one records its messages."""

    def __init__(self, store: Store, key: str, result: dict[str, Any], attempts: int, owner: str | None = None) -> None:
        self.store, self.key, self.result, self.attempts, self.owner = store, key, result, attempts, owner
        self.answer_ts: str | None = None

    @property
    def resumed(self) -> bool:
        return self.attempts > 1

    async def posted(self, kind: str, ts: str) -> None:
        if kind == "answer":
            # Recorded with the turn's end (one write fewer per turn); until then the metadata tag finds it.
            self.answer_ts = self.answer_ts or ts
            return
        try:
            await self.store.note_turn(self.key, {f"{kind}_ts": ts}, owner=self.owner)
        except StoreError as exc:  # the metadata tag still lets a resumed attempt find the message
            log.warning("could not record a posted Slack message", extra={"key": self.key, "error": str(exc)})


class GaveUp(Exception):
    """A turn that failed on every attempt (each crashing its process) gets an apology, not another try."""


def turn_of(event: dict[str, Any], team: str, event_id: str | None) -> Turn:
    is_dm = event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")
    return Turn(team, event["channel"], thread_ts(event), event["user"], is_dm, event_id)


class Consultations:
    def __init__(self, app: App, client: AsyncWebClient, config: SlackConfig, caps: Capabilities) -> None:
        self.app, self.client, self.config, self.caps = app, client, config, caps
        self.files = SqlFiles(client, token=config.bot_token, api_url=config.api_url,
                              max_bytes=app.settings.max_review_bytes)

    def responder(self, turn: Turn, record: TurnRecord | None = None) -> Responder:
        return Responder(self.client, self.config, self.caps, channel=turn.channel, thread_ts=turn.thread,
                         team=turn.team, user=turn.user, is_dm=turn.is_dm, event_id=turn.event_id,
                         on_posted=record.posted if record else None)

    # ---- follow-up policy -----------------------------------------------------------------------------------

    async def should_follow_up(self, event: dict[str, Any], turn: Turn, bot_user_id: str | None) -> bool:
        """An unmentioned reply in a channel thread: answer only in threads the bot answered, if not for others."""
        store = self.app.store
        thread_id = await store.find_thread(turn.key)
        if thread_id is None:
            return False
        turns = await store.turns(thread_id)
        if not any(t.role == "assistant" for t in turns):
            return False
        text = event.get("text") or ""
        if addressed_to_others(text, bot_user_id):
            others = ", ".join(sorted(f"@{u}" for u in mentioned_users(text) - {bot_user_id})) or "others"
            said = plain_text(text, bot_user_id)
            await store.add_turn(thread_id, "context", redact(f"@{turn.user} wrote to {others} (not to me): {said}"),
                                 {"source": "slack.thread", "ts": event.get("ts")})
            return False
        return True

    # ---- a turn ---------------------------------------------------------------------------------------------

    async def handle(self, event: dict[str, Any], turn: Turn, *, kind: str, bot_user_id: str | None,
                     record: TurnRecord | None = None) -> bool:
        """Answer one message in its thread; False when it ended in an apology (with a logged reference)."""
        responder = self.responder(turn, record)
        try:
            if record is not None and record.resumed and await self._resume(turn, responder, record):
                return True
            await self._answer(event, turn, kind, bot_user_id, responder)
            return True
        except Exception:  # noqa: BLE001 - the user gets an apology; the log gets the traceback and the same id
            ref = new_ref()
            log.exception("slack turn failed", extra={"ref": ref, "team": turn.team, "channel": turn.channel,
                                                      "thread_ts": turn.thread, "event_id": turn.event_id})
            await responder.fail(ref)
            return False

    async def _resume(self, turn: Turn, responder: Responder, record: TurnRecord) -> bool:
        """Clean up after a crashed attempt; True when it had already answered (the thread shows the tagged answer).

        The re-run then starts from the predecessor's placeholder (so the thread never keeps a lone "Thinking…"),
        after removing its partial stream and the thread turns it stored for this event."""
        store = self.app.store
        if turn.event_id and (thread_id := await store.find_thread(turn.key)) is not None:
            await store.drop_event_turns(thread_id, turn.event_id)
        answer, placeholders = await self._tagged_messages(turn)
        placeholders |= {record.result.get("placeholder_ts")} - {None}
        leftovers = placeholders | ({record.result.get("stream_ts")} - {None})
        if answer is None and record.result.get("answer_ts"):
            answer = record.result["answer_ts"]
        keep = None if answer else min(placeholders, default=None)
        for ts in sorted(leftovers - {answer, keep}):
            await self._delete(turn, ts)
        if answer:
            log.info("resumed Slack turn was already answered", extra={"key": record.key, "answer_ts": answer})
            return True
        responder.placeholder_ts = keep
        if keep is not None:
            await self.client.chat_update(channel=turn.channel, ts=keep, text=PLACEHOLDER.text,
                                          blocks=PLACEHOLDER.blocks)
        if record.attempts > MAX_ATTEMPTS:
            raise GaveUp(f"{record.attempts - 1} attempts at this turn did not finish")
        return False

    async def _tagged_messages(self, turn: Turn) -> tuple[str | None, set[str]]:
        """The answer and placeholders in the thread that carry this event's metadata tag."""
        if not turn.event_id:
            return None, set()
        try:
            response = await self.client.conversations_replies(channel=turn.channel, ts=turn.thread,
                                                               limit=HISTORY_PAGE, include_all_metadata=True)
        except SlackApiError as exc:
            log.warning("conversations.replies failed; resuming from the recorded message ids only",
                        extra={"error": exc.response.get("error") if exc.response else str(exc)})
            return None, set()
        answer, placeholders = None, set()
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            if (metadata.get("event_payload") or {}).get("event_id") != turn.event_id:
                continue
            if metadata.get("event_type") == ANSWER_EVENT and answer is None:
                answer = message.get("ts")
            elif metadata.get("event_type") == PLACEHOLDER_EVENT:
                placeholders.add(message.get("ts"))
        return answer, placeholders - {None}

    async def _delete(self, turn: Turn, ts: str) -> None:
        try:
            await self.client.chat_delete(channel=turn.channel, ts=ts)
        except SlackApiError as exc:
            log.info("could not remove a message of a crashed attempt", extra={"error": exc.response.get("error")
                                                                              if exc.response else str(exc)})

    async def _answer(self, event: dict[str, Any], turn: Turn, kind: str, bot_user_id: str | None,
                      responder: Responder) -> None:
        await responder.start()
        text = plain_text(event.get("text") or "", bot_user_id)
        if text.lower().rstrip(".!") in ("forget", "/forget"):
            await self._forget(turn, text, responder)
            return
        if is_thread_reply(event):
            await self.seed_history(event, turn, bot_user_id)
        if event.get("files"):
            handled = await self._shared_files(event, turn, text, responder)
            if handled:
                return
        if not text or text.lower() in ("help", "/help", "?"):
            await self._notice(responder, SLACK_HELP)
            return
        inbound = Inbound(platform="slack", tenant=turn.team, channel=turn.channel, thread=turn.thread,
                          user=turn.user, text=text, kind=kind, event_id=turn.event_id)  # type: ignore[arg-type]
        stream = responder.on_token if self.app.engine.llm is not None else None
        reply = await self.app.engine.handle(inbound, on_token=stream)
        # A pasted plan or log: the hotspot line and the findings first, as the review does.
        evidence = analysis_kind(reply) in ("plan", "log")
        await responder.finish(reply, review_messages(reply, user=turn.user) if evidence else None)

    async def _forget(self, turn: Turn, text: str, responder: Responder) -> None:
        inbound = Inbound(platform="slack", tenant=turn.team, channel=turn.channel, thread=turn.thread,
                          user=turn.user, text=text, kind="command", command="forget", event_id=turn.event_id)
        reply = await self.app.engine.handle(inbound)
        await self._notice(responder, reply.text)

    async def _notice(self, responder: Responder, markdown: str) -> None:
        await responder.finish(Reply(text=markdown), [notice(to_mrkdwn(markdown))])

    async def _shared_files(self, event: dict[str, Any], turn: Turn, text: str, responder: Responder) -> bool:
        """Review shared .sql files like pasted DDL. False when nothing was a .sql file (answer the text instead)."""
        shared = await self.files.collect(event["files"])
        if not shared.files and not shared.problems:
            if text:
                return False
            names = ", ".join(f"`{n}`" for n in shared.others) or "that file"
            await self._notice(responder, f"I can review `.sql` files (DDL or migrations) and read query plans and "
                                          f"logs in `.txt`, `.json` or `.log` files; {names} is none of those. "
                                          "Ask your question in words, or paste the SQL.")
            return True
        if not shared.files:
            await self._notice(responder, "\n".join(shared.problems))
            return True
        source = ", ".join(f"`{f.name}`" for f in shared.files)
        if shared.evidence:  # plans and logs: routed by content, like a pasted one
            inbound = Inbound(platform="slack", tenant=turn.team, channel=turn.channel, thread=turn.thread,
                              user=turn.user, text=f"{text}\n\n{shared.text}".strip(), event_id=turn.event_id)
            reply = await self.app.engine.handle(inbound)
            await responder.finish(reply, review_messages(reply, user=turn.user, source=source, notes=shared.problems))
            return True
        dialect = dialect_hint(text)
        args = (f"--dialect {dialect} " if dialect else "") + shared.text
        inbound = Inbound(platform="slack", tenant=turn.team, channel=turn.channel, thread=turn.thread,
                          user=turn.user, text=text, kind="command", command=REVIEW_COMMAND, args=args,
                          event_id=turn.event_id)
        reply = await self.app.engine.handle(inbound)
        await responder.finish(reply, review_messages(reply, user=turn.user, source=source, notes=shared.problems))
        return True

    # ---- thread history -------------------------------------------------------------------------------------

    async def seed_history(self, event: dict[str, Any], turn: Turn, bot_user_id: str | None) -> None:
        """First time the bot sees a thread it is called into: earlier messages become context for the engine."""
        store = self.app.store
        thread_id = await store.thread_id(turn.key)
        if await store.turns(thread_id):
            return
        try:
            response = await self.client.conversations_replies(channel=turn.channel, ts=turn.thread,
                                                               limit=HISTORY_PAGE)
        except SlackApiError as exc:
            # Without channels:history / groups:history the bot still answers, just without the thread's past.
            log.warning("conversations.replies failed; answering without the thread history",
                        extra={"error": exc.response.get("error") if exc.response else str(exc)})
            return
        current = float(event["ts"])
        lines: list[str] = []
        for message in response.get("messages", []):
            if float(message.get("ts", 0)) >= current:
                continue
            said = plain_text(message.get("text") or "", None)
            if not said:
                continue
            if message.get("user") == bot_user_id:
                who = "me (Backend Consultant)"
            elif message.get("bot_id"):
                name = message.get("username") or message.get("bot_profile", {}).get("name") or message["bot_id"]
                who = f"bot {name}"
            else:
                who = f"@{message.get('user', 'someone')}"
            lines.append(f"{who}: {said}")
        kept: list[str] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) > HISTORY_CHARS:
                kept.append("[earlier messages omitted]")
                break
            kept.append(line)
            size += len(line) + 1
        if kept:
            text = "Earlier messages in this Slack thread, oldest first:\n" + "\n".join(reversed(kept))
            await store.add_turn(thread_id, "context", redact(text),
                                 {"source": "slack.conversations.replies", "messages": len(lines)})
