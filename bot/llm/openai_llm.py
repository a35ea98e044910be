"""The LLM port over any OpenAI-compatible chat-completions endpoint, with retries inside a total deadline."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import openai
from openai import AsyncOpenAI
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from bot import metrics
from bot.config import Settings
from bot.llm.port import LLM, ChatMessage, LLMError, UsageSink

log = logging.getLogger(__name__)
T = TypeVar("T")

# Full jitter: a random wait up to an exponentially growing cap, so retrying clients spread out.
_backoff = wait_random_exponential(multiplier=0.5, max=8.0)


def build_client(settings: Settings) -> AsyncOpenAI:
    """The one place an OpenAI client is made. Retries are ours (tenacity), so the SDK's are off."""
    return AsyncOpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout,
        max_retries=0,
    )


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError, asyncio.TimeoutError)):
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code == 429 or exc.status_code >= 500)


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Retry-After (seconds or an HTTP date) or retry-after-ms from a failed response, if it sent one."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _hinted_wait(state: RetryCallState) -> float | None:
    return retry_after_seconds(state.outcome.exception() if state.outcome else None)


def _report_usage(usage, on_usage: UsageSink | None) -> None:  # noqa: ANN001
    tokens = getattr(usage, "total_tokens", None) if usage is not None else None
    if isinstance(tokens, int) and tokens > 0:
        metrics.llm_tokens(tokens)
        if on_usage is not None:
            on_usage(tokens)


class OpenAIChat(LLM):
    name = "openai"

    def __init__(self, client: AsyncOpenAI, model: str, deadline: float) -> None:
        self.client = client
        self.model = model
        self.deadline = deadline
        self.stream_usage = True  # ask streams for their token usage until the endpoint says it cannot

    async def close(self) -> None:
        await self.client.close()

    def _payload(self, messages: list[ChatMessage]) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.content} for m in messages]

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        started = time.monotonic()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            metrics.llm_retried()
            log.warning("llm retry", extra={"attempt": state.attempt_number, "error": type(exc).__name__,
                                            "status": getattr(exc, "status_code", None),
                                            "sleep_s": round(state.next_action.sleep, 2) if state.next_action else None})

        planned: dict[int, float] = {}

        def wait(state: RetryCallState) -> float:
            # Drawn once per attempt (the jitter is random), so the stop check and the sleep agree.
            if state.attempt_number not in planned:
                hinted = _hinted_wait(state)
                planned[state.attempt_number] = hinted if hinted is not None else _backoff(state)
            return planned[state.attempt_number]

        def stop_when_out_of_time(state: RetryCallState) -> bool:
            # Stop when the next wait would end past the deadline, e.g. a Retry-After longer than the time left.
            return time.monotonic() - started + wait(state) >= self.deadline

        try:
            async with asyncio.timeout(self.deadline):
                async for attempt in AsyncRetrying(retry=retry_if_exception(_retryable), wait=wait,
                                                   stop=stop_when_out_of_time, before_sleep=before_sleep,
                                                   reraise=True):
                    with attempt:
                        return await call()
        except (openai.OpenAIError, asyncio.TimeoutError) as exc:
            status = getattr(exc, "status_code", None)
            detail = f"HTTP {status}" if status else type(exc).__name__
            raise LLMError(f"LLM request failed after retries ({detail})") from exc
        raise LLMError("LLM request failed")  # pragma: no cover - AsyncRetrying always returns or raises

    async def complete(self, messages: list[ChatMessage], *, on_usage: UsageSink | None = None) -> str:
        async def once() -> str:
            response = await self.client.chat.completions.create(model=self.model, messages=self._payload(messages))
            _report_usage(response.usage, on_usage)
            if not response.choices:
                raise LLMError("LLM returned no choices")
            return response.choices[0].message.content or ""

        return await self._with_retries(once)

    async def stream(self, messages: list[ChatMessage], *, on_usage: UsageSink | None = None) -> AsyncIterator[str]:
        async def open_stream():  # noqa: ANN202
            # include_usage makes the API send one last chunk (no choices) with the whole stream's token usage.
            # Some OpenAI-compatible servers reject the option (HTTP 400 naming it): then stream without it.
            if self.stream_usage:
                try:
                    return await self.client.chat.completions.create(
                        model=self.model, messages=self._payload(messages), stream=True,
                        stream_options={"include_usage": True})
                except openai.BadRequestError as exc:
                    if "stream_options" not in str(exc):
                        raise
                    self.stream_usage = False
                    log.warning("llm endpoint rejects stream_options; streamed token usage is not counted")
            return await self.client.chat.completions.create(
                model=self.model, messages=self._payload(messages), stream=True)

        # Retries cover opening the stream; once tokens flow, a failure surfaces to the engine, which falls back.
        stream = await self._with_retries(open_stream)
        try:
            async for chunk in stream:
                _report_usage(getattr(chunk, "usage", None), on_usage)
                if chunk.choices and (delta := chunk.choices[0].delta.content):
                    yield delta
        except (openai.OpenAIError, asyncio.TimeoutError) as exc:
            raise LLMError(f"LLM stream broke off ({type(exc).__name__})") from exc
        finally:
            await stream.close()
