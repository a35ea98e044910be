"""Durable turns for a platform adapter: the inbox row that makes an acked event survive a crash, a deploy or a
scale-out (the store side is bot/store/inbox.py).

- Claim: the adapter records the event (payload redacted) in the same INSERT that claims its dedupe key, leased
  to this process, and only then acks; the turn runs as a tracked task.
- Heartbeat: while a turn runs, its lease is renewed every third of the lease.
- Resume: at start and every CONSULTANT_RESUME_INTERVAL, each process takes its platform's turns whose lease ran
  out (their owner died or gave them up at shutdown) and re-runs them. On Slack the re-run replaces or removes what
  the earlier attempt posted and checks the thread for an answer already tagged with the event id.
- Drain: at shutdown, turns in flight get the grace period; the leases of those still running are released (so
  another replica, or the next start, resumes them at once) and the tasks cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.bootstrap import App
from bot.redact import redact_all
from bot.store.port import InboxItem, StoreError

log = logging.getLogger("adapters.inbox")

RESUME_BATCH = 20
# Under a burst of deliveries new turns wait until no ack is in flight (or this long at most), and then start one
# per event-loop pass: Slack's 3 s ack deadline comes first, and turns' own work (store writes, retrieval,
# posting) started all at once would delay the acks that arrive meanwhile.
MAX_START_DEFER = 2.0

RunTurn = Callable[[str, dict[str, Any], InboxItem | None], Awaitable[None]]
Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class AckGate:
    """Counts the webhook requests being answered; turns start when there are none (or after a bound)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight <= 0:
            self.in_flight = 0
            self._idle.set()

    async def quiet(self, limit: float) -> None:
        if self._idle.is_set() or limit <= 0:
            return
        try:
            await asyncio.wait_for(self._idle.wait(), limit)
        except TimeoutError:
            pass


class Inbox:
    def __init__(self, app: App, platform: str, spawn: Spawn) -> None:
        self.store, self.platform, self._spawn = app.store, platform, spawn
        self.owner = app.instance_id
        self.lease = app.settings.turn_lease
        self.interval = app.settings.resume_interval
        self.running: dict[str, asyncio.Task[Any]] = {}
        self.acks = AckGate()
        self._admission: asyncio.Queue[tuple[float, asyncio.Future[None]]] = asyncio.Queue()
        self._loops: list[asyncio.Task[None]] = []
        self._run_turn: RunTurn | None = None

    async def claim(self, key: str, payload: dict[str, Any]) -> bool:
        # Every string is masked: platforms repeat the text in attachments, blocks and card data.
        return await self.store.claim_turn(key, self.platform, redact_all(payload), self.owner, self.lease)

    def spawn(self, key: str, payload: dict[str, Any], item: InboxItem | None = None) -> None:
        assert self._run_turn is not None, "start() the inbox first"
        task = self._spawn(self._after_acks(self._run_turn(key, payload, item)), key)
        self.running[key] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self.running.get(key) is done:  # a newer attempt of the same key may have replaced it
                del self.running[key]

        task.add_done_callback(forget)

    async def _after_acks(self, turn: Awaitable[None]) -> None:
        admitted = asyncio.get_running_loop().create_future()
        self._admission.put_nowait((asyncio.get_running_loop().time(), admitted))
        await admitted
        await turn

    async def _admit_loop(self) -> None:
        """Start waiting turns one per loop pass, each once no ack is in flight or it has waited long enough."""
        loop = asyncio.get_running_loop()
        while True:
            queued_at, admitted = await self._admission.get()
            await self.acks.quiet(queued_at + MAX_START_DEFER - loop.time())
            if not admitted.done():
                admitted.set_result(None)
            await asyncio.sleep(0)

    def start(self, run_turn: RunTurn) -> None:
        self._run_turn = run_turn
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self._resume_loop(), name=f"{self.platform}:resume"),
                       loop.create_task(self._heartbeat_loop(), name=f"{self.platform}:heartbeat"),
                       loop.create_task(self._admit_loop(), name=f"{self.platform}:admit")]

    async def resume_expired(self) -> int:
        items = await self.store.take_expired_turns(self.platform, self.owner, self.lease, RESUME_BATCH)
        for item in items:
            if item.key in self.running:
                # Our own turn, still running (its heartbeat missed while the database was away): keep that one.
                log.info("an expired lease is our own running turn; not starting it twice", extra={"key": item.key})
                continue
            log.info(f"resuming a {self.platform.capitalize()} turn whose lease expired",
                     extra={"key": item.key, "attempt": item.attempts, "previous": bool(item.result)})
            self.spawn(item.key, item.payload, item)
        return len(items)

    async def _resume_loop(self) -> None:
        while True:
            try:
                while await self.resume_expired() == RESUME_BATCH:
                    pass
            except StoreError as exc:
                log.warning("could not look for turns to resume", extra={"platform": self.platform, "error": str(exc)})
            await asyncio.sleep(self.interval)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.store.renew_leases(list(self.running), self.owner, self.lease)
            except StoreError as exc:
                log.warning("could not renew turn leases", extra={"platform": self.platform, "error": str(exc),
                                                                  "turns": len(self.running)})

    async def stop_loops(self, *, keep_heartbeat: bool = False) -> None:
        stopping = [t for t in self._loops if not (keep_heartbeat and t.get_name() == f"{self.platform}:heartbeat")]
        for task in stopping:
            task.cancel()
        await asyncio.gather(*stopping, return_exceptions=True)
        self._loops = [t for t in self._loops if t not in stopping]
        while not self._admission.empty():  # no more acks are coming: whatever waits may start
            _, admitted = self._admission.get_nowait()
            if not admitted.done():
                admitted.set_result(None)

    async def drain(self, grace: float) -> None:
        """Stop resuming; let running turns finish within grace (leases still renewed); release the rest."""
        await self.stop_loops(keep_heartbeat=True)
        try:
            await self._drain(grace)
        finally:
            await self.stop_loops()

    async def _drain(self, grace: float) -> None:
        running = dict(self.running)
        if not running:
            return
        log.info("waiting for turns in flight", extra={"platform": self.platform, "turns": len(running),
                                                       "grace": grace})
        if grace > 0:
            await asyncio.wait(set(running.values()), timeout=grace)
        left = {key: task for key, task in running.items() if not task.done()}
        if not left:
            return
        # Stop them before letting go: a released turn may be taken at once, and must not be answered twice.
        for task in left.values():
            task.cancel()
        await asyncio.wait(set(left.values()), timeout=5)
        try:
            await self.store.release_turns(list(left), self.owner)
            log.warning("turns released at shutdown; another process resumes them",
                        extra={"platform": self.platform, "turns": len(left), "keys": sorted(left)[:20]})
        except StoreError as exc:
            log.error("could not release turns at shutdown; they resume when their lease expires",
                      extra={"platform": self.platform, "error": str(exc), "turns": len(left)})
