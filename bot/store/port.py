"""The storage port: threads, turns, case facts, processed events (the inbox of durable turns), feedback, budget usage and retention."""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.errors import ConsultantError

ThreadKey = tuple[str, str, str, str]  # (platform, tenant, channel, thread)
# Thread ids never change once created, so stores cache the natural-key lookup per process; for an hour only,
# because another replica's retention purge may delete a thread idle for longer than a day.
THREAD_CACHE_SECONDS = 3600.0
INBOX_KEY_LENGTH = 255


def new_id() -> str:
    """Time-ordered ids, so turns created within the same clock tick still sort in insertion order."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


class ThreadIdCache:
    """A store's per-process cache of thread ids by natural key (entries live THREAD_CACHE_SECONDS)."""

    def __init__(self) -> None:
        self._ids: dict[ThreadKey, tuple[str, float]] = {}

    def get(self, key: ThreadKey) -> str | None:
        found = self._ids.get(key)
        return found[0] if found and time.monotonic() - found[1] < THREAD_CACHE_SECONDS else None

    def put(self, key: ThreadKey, thread_id: str) -> None:
        self._ids[key] = (thread_id, time.monotonic())

    def clear(self) -> None:
        self._ids.clear()


def inbox_key(key: str) -> str:
    """Keys fit the 255-character column the same way in every statement: long ones keep a prefix and a digest."""
    if len(key) <= INBOX_KEY_LENGTH:
        return key
    import hashlib

    return f"{key[:190]}#{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass(frozen=True)
class Turn:
    id: str
    role: Literal["user", "assistant", "context"]
    text: str
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """What one budget window has used so far."""

    turns: int = 0
    tokens: int = 0
TurnState = Literal["received", "working", "answered", "failed"]


@dataclass(frozen=True)
class InboxItem:
    """A delivered event that must be answered exactly once: its (redacted) payload and where the answer is."""

    key: str
    platform: str
    payload: dict[str, Any]
    state: TurnState
    owner: str | None
    attempts: int
    # What the turn has posted so far (placeholder, stream and answer message ids), for a resumed attempt.
    result: dict[str, Any] = field(default_factory=dict)


class StoreError(ConsultantError):
    """The database is unreachable or refused the operation."""


class Store(ABC):
    @abstractmethod
    async def thread_id(self, key: ThreadKey) -> str:
        """Return the id of the thread with this key, creating it on first use."""

    @abstractmethod
    async def find_thread(self, key: ThreadKey) -> str | None:
        """The id of an existing thread, without creating one (for deciding whether to join a conversation)."""

    @abstractmethod
    async def add_turn(self, thread_id: str, role: str, text: str, meta: dict[str, Any] | None = None) -> str:
        """Store one turn and return its id."""

    @abstractmethod
    async def turns(self, thread_id: str) -> list[Turn]:
        """All turns of a thread, oldest first."""

    @abstractmethod
    async def facts(self, thread_id: str) -> dict[str, str]:
        ...

    @abstractmethod
    async def save_facts(self, thread_id: str, facts: dict[str, str]) -> None:
        """Upsert the given facts; facts not named are kept."""

    @abstractmethod
    async def claim_event(self, key: str, platform: str) -> bool:
        """Record a delivery; False when the key was already claimed (a duplicate)."""

    @abstractmethod
    async def claim_turn(self, key: str, platform: str, payload: dict[str, Any], owner: str, lease: float) -> bool:
        """Claim the dedupe key and record the turn as working under owner's lease, in one write.

        False when the key was already claimed (a duplicate delivery)."""

    @abstractmethod
    async def renew_leases(self, keys: list[str], owner: str, lease: float) -> None:
        """Extend owner's leases on these unfinished turns (a heartbeat while they run)."""

    @abstractmethod
    async def note_turn(self, key: str, result: dict[str, Any], *, owner: str | None = None) -> None:
        """Merge these entries into the turn's result (e.g. the id of a message just posted); with `owner`, only
        while that process still holds the turn."""

    @abstractmethod
    async def finish_turn(self, key: str, state: TurnState, result: dict[str, Any] | None = None, *,
                          owner: str | None = None) -> None:
        """Mark the turn answered or failed (its payload is dropped), merging result; its lease ends. With `owner`,
        only while that process still holds the turn (another may have taken it over)."""

    @abstractmethod
    async def release_turns(self, keys: list[str], owner: str) -> None:
        """Give up owner's leases now, so another process (or the next start) resumes these turns."""

    @abstractmethod
    async def take_expired_turns(self, platform: str, owner: str, lease: float, limit: int = 10) -> list[InboxItem]:
        """Lease unfinished turns whose lease ran out to owner, counting an attempt; each goes to one caller only."""

    @abstractmethod
    async def drop_event_turns(self, thread_id: str, event_id: str) -> int:
        """Delete the turns an earlier attempt at this event stored (meta "event_id"), so a re-run adds them once."""

    async def schema_behind(self) -> str | None:
        """Why the schema is not usable by this code (behind the head revision), or None when it is current."""
        return None

    @abstractmethod
    async def add_feedback(self, answer_id: str, user: str, value: str, platform: str) -> None:
        ...

    @abstractmethod
    async def add_usage(self, scope: str, subject: str, window_start: datetime, *, turns: int = 0,
                        tokens: int = 0) -> Usage:
        """Atomically add to one budget window's counters (created at zero) and return the new totals."""

    @abstractmethod
    async def usage(self, scope: str, subject: str, window_start: datetime) -> Usage:
        """One budget window's counters, zero when nothing was counted yet."""

    @abstractmethod
    async def forget_thread(self, key: ThreadKey) -> int:
        """Delete a thread's turns, case facts and feedback; return how many turns were deleted."""

    @abstractmethod
    async def purge(self, before: datetime) -> dict[str, int]:
        """Delete everything older than `before` (turns, facts, feedback, processed events, usage counters,
        and threads left with no turns); return the number of rows deleted per table."""

    async def backlog(self) -> tuple[int, float]:
        """(turns received or in progress, age in seconds of the oldest of them), for the inbox metrics."""
        return 0, 0.0

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreError when the database cannot be reached."""

    async def close(self) -> None:  # pragma: no cover - optional for fakes
        return None
