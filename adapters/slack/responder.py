"""One answer in one Slack thread: progress within a second, streaming while the LLM writes, the final reply.

- Progress: in a DM, `assistant.threads.setStatus` ("is thinking…") where Slack allows it (assistant threads);
  otherwise, and in channels, a placeholder message that the answer later replaces.
- Streaming (LLM mode): the answer streams into a new message with chat.startStream / appendStream / stopStream
  (slack_sdk's `chat_stream` helper); the placeholder is removed once the stream has started. When streaming is not
  available (an older workspace, a missing feature), the placeholder is edited with throttled chat.update instead.
- Final: the engine's Reply is authoritative. A stream that matches it is closed with the trailer (questions,
  sources, feedback buttons); otherwise (the LLM broke off and the engine answered offline, or the answer is too
  long for one message) the streamed or placeholder message is replaced and the rest posted below it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from adapters.slack.render import PLACEHOLDER, SlackMessage, apology, progress_text, reply_messages, trailer_blocks
from bot.messages import Reply

log = logging.getLogger("adapters.slack")

# Streamed text beyond this is not sent live; the final answer then arrives as normal, split messages.
STREAM_TEXT_LIMIT = 11_000
# Errors that mean a capability is off for this app or workspace, not just for this one call.
_PERMANENT = {"missing_scope", "not_allowed_token_type", "unknown_method", "method_deprecated", "no_permission",
              "feature_not_enabled", "not_allowed"}


@dataclass
class Capabilities:
    """What this workspace turned out to support; learned from errors, shared by all turns of the process."""

    assistant_status: bool = True
    streaming: bool = True


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


# Message metadata event types: an answer (or apology) to an event, and the placeholder that precedes it. A resumed
# turn looks for them in the thread, so a crash between posting and recording never yields a second answer.
ANSWER_EVENT = "consultant_answer"
PLACEHOLDER_EVENT = "consultant_placeholder"

# Told what was posted (kind "placeholder", "stream" or "answer", and the message ts), to record it durably.
OnPosted = Callable[[str, str], Awaitable[None]]


class Responder:
    def __init__(self, client: AsyncWebClient, config: SlackConfig, caps: Capabilities, *, channel: str,
                 thread_ts: str, team: str, user: str, is_dm: bool, event_id: str | None = None,
                 on_posted: OnPosted | None = None) -> None:
        self.client, self.config, self.caps = client, config, caps
        self.channel, self.thread_ts, self.team, self.user, self.is_dm = channel, thread_ts, team, user, is_dm
        self.event_id, self.on_posted = event_id, on_posted
        self.answer_ts: str | None = None  # the first message of the final answer
        self.placeholder_ts: str | None = None
        self.status_set = False
        self.text = ""  # everything the LLM has streamed so far
        self._pending = ""  # streamed text not yet sent to Slack
        self._stream: AsyncChatStream | None = None
        self._stream_broken = False
        self._live = True  # whether live updates (stream or chat.update) are still being sent
        self._last_send = 0.0

    # ---- progress -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.is_dm and self.caps.assistant_status:
            try:
                await self.client.assistant_threads_setStatus(
                    channel_id=self.channel, thread_ts=self.thread_ts, status="is thinking…")
                self.status_set = True
                return
            except SlackApiError as exc:
                if _error(exc) in _PERMANENT:
                    self.caps.assistant_status = False
                    log.info("assistant.threads.setStatus unavailable; using placeholder messages",
                             extra={"error": _error(exc)})
        if self.placeholder_ts is not None:
            return  # a resumed turn reuses the placeholder its crashed predecessor posted
        response = await self.post(PLACEHOLDER, event_type=PLACEHOLDER_EVENT)
        self.placeholder_ts = response["ts"]
        await self._posted("placeholder", self.placeholder_ts)

    def _metadata(self, event_type: str) -> dict[str, Any] | None:
        if not self.event_id:
            return None
        return {"event_type": event_type, "event_payload": {"event_id": self.event_id}}

    async def _posted(self, kind: str, ts: str | None) -> None:
        if kind == "answer" and self.answer_ts is None:
            self.answer_ts = ts
        if self.on_posted is not None and ts:
            await self.on_posted(kind, ts)

    # ---- streaming ------------------------------------------------------------------------------------------

    async def on_token(self, piece: str) -> None:
        """Engine callback for each streamed piece. Never raises: a Slack hiccup must not break the answer."""
        self.text += piece
        self._pending += piece
        if not self._live:
            return
        if len(self.text) > STREAM_TEXT_LIMIT:
            self._live = False  # the final answer will be posted in parts
            return
        try:
            if self.caps.streaming and not self._stream_broken:
                await self._stream_piece()
            else:
                await self._update_placeholder()
        except Exception as exc:  # noqa: BLE001 - keep the LLM stream going; the final reply still arrives
            log.warning("live update failed; the answer will be posted when complete",
                        extra={"error": f"{exc.__class__.__name__}: {str(exc)[:200]}"})
            self._live = False

    async def _stream_piece(self) -> None:
        now = time.monotonic()
        due = now - self._last_send >= self.config.stream_interval
        if len(self._pending) < self.config.stream_chunk_chars and not (due and self._pending.strip()):
            return
        chunk, self._pending = self._pending, ""
        self._last_send = now
        if self._stream is None:
            self._stream = await self.client.chat_stream(
                channel=self.channel, thread_ts=self.thread_ts, recipient_team_id=self.team,
                recipient_user_id=self.user, buffer_size=1)
            try:
                await self._stream.append(markdown_text=chunk)
            except SlackApiError as exc:
                self._stream, self._stream_broken = None, True
                if _error(exc) in _PERMANENT or _error(exc) in {"invalid_arguments", "channel_type_not_supported"}:
                    self.caps.streaming = False
                log.info("chat streaming unavailable; falling back to chat.update", extra={"error": _error(exc)})
                self._pending = chunk + self._pending
                await self._update_placeholder(force=True)
                return
            await self._posted("stream", str(self._stream.ts))
            await self._drop_placeholder()
            return
        await self._stream.append(markdown_text=chunk)

    async def _update_placeholder(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_send < self.config.update_interval:
            return
        self._last_send = now
        message = progress_text(self.text)
        if self.placeholder_ts is None:
            self.placeholder_ts = (await self.post(message, event_type=PLACEHOLDER_EVENT))["ts"]
            await self._posted("placeholder", self.placeholder_ts)
        else:
            await self.client.chat_update(channel=self.channel, ts=self.placeholder_ts, **message.kwargs())

    async def _drop_placeholder(self) -> None:
        if self.placeholder_ts is None:
            return
        ts, self.placeholder_ts = self.placeholder_ts, None
        try:
            await self.client.chat_delete(channel=self.channel, ts=ts)
        except SlackApiError as exc:
            log.info("could not remove the placeholder", extra={"error": _error(exc)})

    # ---- final ----------------------------------------------------------------------------------------------

    async def finish(self, reply: Reply, messages: list[SlackMessage] | None = None) -> None:
        messages = messages if messages is not None else reply_messages(reply)
        if self._stream is not None and self._stream.ts:
            stream, self._stream = self._stream, None
            if reply.mode == "llm" and self._live and reply.text == self.text and len(messages) == 1:
                try:
                    await stream.stop(markdown_text=self._pending or None, blocks=trailer_blocks(reply) or None,
                                      metadata=self._metadata(ANSWER_EVENT))
                    await self._posted("answer", str(stream.ts))
                    return
                except SlackApiError as exc:
                    log.warning("chat.stopStream failed; replacing the streamed message", extra={"error": _error(exc)})
            else:
                try:
                    await stream.stop()
                except SlackApiError as exc:
                    log.info("chat.stopStream failed", extra={"error": _error(exc)})
            await self._replace(str(stream.ts), messages)
            return
        if self.placeholder_ts is not None:
            ts, self.placeholder_ts = self.placeholder_ts, None
            await self._replace(ts, messages)
            return
        for message in messages:
            await self._posted("answer", (await self.post(message))["ts"])

    async def _replace(self, ts: str, messages: list[SlackMessage]) -> None:
        first, rest = messages[0], messages[1:]
        await self.client.chat_update(channel=self.channel, ts=ts, metadata=self._metadata(ANSWER_EVENT),
                                      **first.kwargs())
        await self._posted("answer", ts)
        for message in rest:
            await self.post(message)

    async def fail(self, ref: str) -> None:
        """The apology for an unexpected error, in the thread; best effort (the error is already logged)."""
        try:
            if self._stream is not None and self._stream.ts:
                stream, self._stream = self._stream, None
                try:
                    await stream.stop()
                except SlackApiError:
                    pass
            if self.placeholder_ts is not None:
                ts, self.placeholder_ts = self.placeholder_ts, None
                await self.client.chat_update(channel=self.channel, ts=ts, metadata=self._metadata(ANSWER_EVENT),
                                              **apology(ref).kwargs())
            else:
                ts = (await self.post(apology(ref)))["ts"]
            await self._posted("answer", ts)
        except Exception as exc:  # noqa: BLE001
            log.error("could not post the apology", extra={"ref": ref, "error": f"{exc.__class__.__name__}: {exc}"})

    async def post(self, message: SlackMessage, event_type: str = ANSWER_EVENT) -> Any:
        return await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                                  unfurl_links=False, unfurl_media=False,
                                                  metadata=self._metadata(event_type), **message.kwargs())
