"""The inbox half of SqlStore: durable turns in processed_events, leased to one process at a time.

A turn is claimed with its dedupe key in a single INSERT (state "working", leased to the claiming process), so the
ack waits on one short write. A process that dies leaves the lease to run out; every process periodically takes
expired turns with a compare-and-set UPDATE (plus FOR UPDATE SKIP LOCKED on PostgreSQL, so replicas never wait on
each other's rows) and re-runs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store import tables as t
from bot.store.port import InboxItem, TurnState

UNFINISHED = ("received", "working")
_events = t.processed_events


def _now() -> datetime:
    return datetime.now(timezone.utc)


class SqlInbox:
    """Mixed into SqlStore; relies on its `_run(fn)` transaction helper."""

    async def claim_turn(self, key: str, platform: str, payload: dict[str, Any], owner: str, lease: float) -> bool:
        now = _now()

        async def claim(conn):  # noqa: ANN001, ANN202
            await conn.execute(insert(_events).values(
                key=key[:255], platform=platform, created_at=now, state="working", payload=payload, owner=owner,
                lease_until=now + timedelta(seconds=lease), attempts=1, result={}, updated_at=now))

        try:
            await self._run(claim)
        except IntegrityError:
            return False
        return True

    async def renew_leases(self, keys: list[str], owner: str, lease: float) -> None:
        if not keys:
            return
        now = _now()

        async def renew(conn):  # noqa: ANN001, ANN202
            await conn.execute(update(_events)
                               .where(_events.c.key.in_(keys) & (_events.c.owner == owner)
                                      & (_events.c.state == "working"))
                               .values(lease_until=now + timedelta(seconds=lease), updated_at=now))

        await self._run(renew)

    async def note_turn(self, key: str, result: dict[str, Any]) -> None:
        async def note(conn):  # noqa: ANN001, ANN202
            current = (await conn.execute(select(_events.c.result).where(_events.c.key == key))).scalar()
            await conn.execute(update(_events).where(_events.c.key == key)
                               .values(result={**(current or {}), **result}, updated_at=_now()))

        await self._run(note)

    async def finish_turn(self, key: str, state: TurnState, result: dict[str, Any] | None = None) -> None:
        async def finish(conn):  # noqa: ANN001, ANN202
            current = (await conn.execute(select(_events.c.result).where(_events.c.key == key))).scalar()
            await conn.execute(update(_events).where(_events.c.key == key).values(
                state=state, lease_until=None, result={**(current or {}), **(result or {})}, updated_at=_now()))

        await self._run(finish)

    async def release_turns(self, keys: list[str], owner: str) -> None:
        if not keys:
            return
        now = _now()

        async def release(conn):  # noqa: ANN001, ANN202
            await conn.execute(update(_events)
                               .where(_events.c.key.in_(keys) & (_events.c.owner == owner)
                                      & _events.c.state.in_(UNFINISHED))
                               .values(state="received", owner=None, lease_until=now - timedelta(seconds=1),
                                       updated_at=now))

        await self._run(release)

    async def take_expired_turns(self, platform: str, owner: str, lease: float, limit: int = 10) -> list[InboxItem]:
        now = _now()
        expired = (_events.c.platform == platform) & _events.c.state.in_(UNFINISHED) & (_events.c.lease_until < now)

        async def take(conn):  # noqa: ANN001, ANN202
            rows = (await conn.execute(
                select(_events.c.key).where(expired).order_by(_events.c.lease_until).limit(limit)
                .with_for_update(skip_locked=True))).scalars().all()
            taken = []
            for key in rows:
                # Compare-and-set: on SQLite (no row locks) a concurrent taker's UPDATE makes this one match nothing.
                changed = await conn.execute(update(_events).where((_events.c.key == key) & expired).values(
                    state="working", owner=owner, lease_until=now + timedelta(seconds=lease),
                    attempts=(_events.c.attempts + 1), updated_at=now))
                if changed.rowcount == 1:
                    taken.append(key)
            if not taken:
                return []
            found = await conn.execute(select(_events).where(_events.c.key.in_(taken)))
            return [InboxItem(r.key, r.platform, r.payload or {}, r.state, r.owner, r.attempts or 0, r.result or {})
                    for r in found]

        return await self._run(take)

    async def drop_event_turns(self, thread_id: str, event_id: str) -> int:
        async def drop(conn):  # noqa: ANN001, ANN202
            rows = await conn.execute(select(t.messages.c.id, t.messages.c.meta)
                                      .where(t.messages.c.thread_id == thread_id))
            ids = [r.id for r in rows if (r.meta or {}).get("event_id") == event_id]
            if ids:
                await conn.execute(delete(t.messages).where(t.messages.c.id.in_(ids)))
            return len(ids)

        return await self._run(drop)
