"""Work that runs after Slack has been acknowledged: tracked, so shutdown (and tests) can wait for it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("adapters.slack")


def new_ref() -> str:
    """A short reference id, shown to the user in an apology and logged with the error."""
    return uuid.uuid4().hex[:10]


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        if (exc := task.exception()) is not None:
            # Flows report their own failures to the user; this is the last line so nothing fails unseen.
            ref = new_ref()
            log.error("slack background task failed", exc_info=exc, extra={"ref": ref, "task": task.get_name()})

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until no task is running (tasks may spawn more; they are waited for too)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"{len(self._tasks)} Slack task(s) still running")
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def close(self, grace: float) -> None:
        """Let running answers finish for `grace` seconds, then cancel what is left."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace) if grace > 0 else (set(), set(self._tasks))
        for task in pending:
            log.warning("slack task cancelled at shutdown", extra={"task": task.get_name()})
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
