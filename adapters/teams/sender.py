"""Sending to the Bot Framework connector: retries with backoff, and a typing indicator while working."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import ClientError
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from msrest.exceptions import ClientRequestError, HttpOperationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

log = logging.getLogger("adapters.teams")

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) or getattr(response, "status", None)


def transient(exc: BaseException) -> bool:
    """Network failures and 408/429/5xx answers from the connector are worth another try; 4xx are not."""
    if isinstance(exc, HttpOperationError):
        return _status(exc) in RETRY_STATUS
    return isinstance(exc, (ClientRequestError, ClientError, asyncio.TimeoutError, ConnectionError))


class Sender:
    def __init__(self, *, attempts: int = 4, backoff: float = 0.5, typing_interval: float = 3.0) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.typing_interval = typing_interval

    async def send(self, context: TurnContext, activity: Activity | str) -> ResourceResponse | None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff, max=8),
            retry=retry_if_exception(transient),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "teams send failed, retrying", extra={"attempt": state.attempt_number,
                                                       "error": repr(state.outcome.exception())[:200]}),
        )
        async for attempt in retrying:
            with attempt:
                return await context.send_activity(activity)
        return None  # pragma: no cover - AsyncRetrying either returns or raises

    @contextlib.asynccontextmanager
    async def typing(self, context: TurnContext) -> AsyncIterator[None]:
        """Show "typing…" until the block ends; Teams hides the indicator after a few seconds, so repeat it."""

        async def typing_once() -> None:
            try:
                await context.send_activity(Activity(type=ActivityTypes.typing))
            except Exception as exc:  # noqa: BLE001 - a lost typing indicator is harmless
                log.debug("typing indicator failed", extra={"error": repr(exc)[:200]})

        async def keep_typing() -> None:
            while True:
                await asyncio.sleep(self.typing_interval)
                await typing_once()

        await typing_once()  # the first one before any work starts, so it always precedes the answer
        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
