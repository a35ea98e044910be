"""The inbox half of SqlStore: durable turns in processed_events, leased to one process at a time.

A turn is claimed with its dedupe key in a single INSERT (state "working", leased to the claiming process), so the
ack waits on one short write. Claims that arrive together share that write: while one INSERT runs, the next ones
queue and go out as one multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING key, so twenty concurrent acks cost
one or two transactions instead of twenty queued ones. A process that dies leaves the lease to run out; every process periodically takes
expired turns with a compare-and-set UPDATE (plus FOR UPDATE SKIP LOCKED on PostgreSQL, so replicas never wait on
each other's rows) and re-runs them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store import tables as t
from bot.store.port import InboxItem, TurnState, inbox_key

log = logging.getLogger("bot.store")
UNFINISHED = ("received", "working")
_events = t.processed_events


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _held(keys: list[str], owner: str):  # noqa: ANN202 - a SQLAlchemy condition
    """These turns, while `owner` still holds them."""
    return _events.c.key.in_([inbox_key(k) for k in keys]) & (_events.c.owner == owner)


def _mine(key: str, owner: str | None):  # noqa: ANN202 - a SQLAlchemy condition
    """The turn's row, and only while `owner` (when given) still holds it."""
    where = _events.c.key == inbox_key(key)
    return where if owner is None else where & (_events.c.owner == owner)


class SqlInbox:
    """Mixed into SqlStore; relies on its `_run(fn)` transaction helper and `engine`."""

    _claims: list[tuple[dict[str, Any], asyncio.Future[bool]]] | None = None

    async def claim_turn(self, key: str, platform: str, payload: dict[str, Any], owner: str, lease: float) -> bool:
        now = _now()
        row = dict(key=inbox_key(key), platform=platform, created_at=now, state="working", payload=payload, owner=owner,
                   lease_until=now + timedelta(seconds=lease), attempts=1, result={}, updated_at=now)
        if self.engine.dialect.name not in ("sqlite", "postgresql"):  # type: ignore[attr-defined]
            return await self._claim_one(row)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._claims is None:
            self._claims = [(row, future)]
            asyncio.get_running_loop().create_task(self._flush_claims())
        else:
            self._claims.append((row, future))
        return await future

    async def _flush_claims(self) -> None:
        while self._claims:
            batch = self._claims
            self._claims = []
            try:
                inserted = await self._insert_claims([row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting claim gets the store's error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            seen: set[str] = set()
            for row, future in batch:
                first = row["key"] in inserted and row["key"] not in seen  # a key twice in one batch: one wins
                seen.add(row["key"])
                if not future.done():
                    future.set_result(first)
        self._claims = None

    async def _insert_claims(self, rows: list[dict[str, Any]]) -> set[str]:
        if self.engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        unique = list({row["key"]: row for row in reversed(rows)}.values())[::-1]

        async def claim(conn):  # noqa: ANN001, ANN202
            statement = (dialect_insert(_events).values(unique).on_conflict_do_nothing(index_elements=["key"])
                         .returning(_events.c.key))
            return set((await conn.execute(statement)).scalars())

        return await self._run(claim, priority=True)  # type: ignore[attr-defined]

    async def _claim_one(self, row: dict[str, Any]) -> bool:
        async def claim(conn):  # noqa: ANN001, ANN202
            await conn.execute(insert(_events).values(**row))

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
            await conn.execute(update(_events).where(_held(keys, owner) & (_events.c.state == "working"))
                               .values(lease_until=now + timedelta(seconds=lease), updated_at=now))

        await self._run(renew)

    async def note_turn(self, key: str, result: dict[str, Any], *, owner: str | None = None) -> None:
        where = _mine(key, owner)

        async def note(conn):  # noqa: ANN001, ANN202
            current = (await conn.execute(select(_events.c.result).where(where))).scalar()
            await conn.execute(update(_events).where(where)
                               .values(result={**(current or {}), **result}, updated_at=_now()))

        await self._run(note)

    async def finish_turn(self, key: str, state: TurnState, result: dict[str, Any] | None = None, *,
                          owner: str | None = None) -> None:
        where = _mine(key, owner)

        async def finish(conn):  # noqa: ANN001, ANN202
            current = (await conn.execute(select(_events.c.result).where(where))).scalar()
            # A finished turn's payload (the message) is not needed any more, answered or failed: keep no text.
            done = await conn.execute(update(_events).where(where).values(
                state=state, lease_until=None, result={**(current or {}), **(result or {})}, updated_at=_now(),
                payload=None))
            return done.rowcount

        if not await self._run(finish) and owner is not None:
            log.warning("a turn ended after another process took it over; its state is theirs to record",
                        extra={"key": key, "state": state})

    async def release_turns(self, keys: list[str], owner: str) -> None:
        if not keys:
            return
        now = _now()

        async def release(conn):  # noqa: ANN001, ANN202
            await conn.execute(update(_events).where(_held(keys, owner) & _events.c.state.in_(UNFINISHED))
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

    async def backlog(self) -> tuple[int, float]:
        events = t.processed_events.c

        async def read(conn):  # noqa: ANN001, ANN202
            row = (await conn.execute(select(func.count(), func.min(events.created_at))
                                      .where(events.state.in_(("received", "working"))))).one()
            return row[0], row[1]

        depth, oldest = await self._run(read)
        if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive UTC datetimes
            oldest = oldest.replace(tzinfo=timezone.utc)
        return int(depth), (_now() - oldest).total_seconds() if oldest is not None else 0.0

    async def drop_event_turns(self, thread_id: str, event_id: str) -> int:
        async def drop(conn):  # noqa: ANN001, ANN202
            rows = await conn.execute(select(t.messages.c.id, t.messages.c.meta)
                                      .where(t.messages.c.thread_id == thread_id))
            ids = [r.id for r in rows if (r.meta or {}).get("event_id") == event_id]
            if ids:
                await conn.execute(delete(t.messages).where(t.messages.c.id.in_(ids)))
            return len(ids)

        return await self._run(drop)
