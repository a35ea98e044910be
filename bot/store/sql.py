"""The SQLAlchemy (async) implementation of the store port: SQLite by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, exists, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError, InterfaceError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store import tables as t
from bot.store.inbox import SqlInbox
from bot.store.port import Store, StoreError, ThreadIdCache, ThreadKey, Turn, Usage, inbox_key, new_id
from bot.store.sqlite import sqlite_path

_UNREACHABLE = (OperationalError, InterfaceError, OSError, ConnectionError)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _describe(url: str) -> str:
    """The URL without its password, for error messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class WriterQueue:
    """One transaction at a time (SQLite's single writer), with claims (what an ack waits on) served first."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: tuple[collections.deque[asyncio.Future[None]], ...] = (collections.deque(), collections.deque())

    @contextlib.asynccontextmanager
    async def turn(self, priority: bool = False) -> AsyncIterator[None]:
        if self._busy:
            future = asyncio.get_running_loop().create_future()
            self._waiting[0 if priority else 1].append(future)
            try:
                await future
            except BaseException:
                if future.done() and not future.cancelled():
                    self._next()  # it was handed the turn while being cancelled: pass it on
                raise
        self._busy = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        for queue in self._waiting:
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)
                    return
        self._busy = False


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"database unreachable at sqlite:///{path}: {exc.strerror or exc}") from exc
        # Every operation runs in engine.begin(), which always commits or rolls back, so the pool's extra
        # rollback on check-in is a wasted round trip to aiosqlite's thread.
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_reset_on_return=None)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cursor = dbapi_conn.cursor()
            # WAL lets the console and a server share the file; foreign keys are off by default in SQLite.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow,
                               pool_timeout=10)


class SqlStore(SqlInbox, Store):
    def __init__(self, engine: AsyncEngine, *, claim_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        # On PostgreSQL, claims (what an ack waits on) get connections of their own, so an ack never queues for a
        # pooled connection behind the turns in flight.
        self.claim_engine = claim_engine
        self._thread_ids = ThreadIdCache()
        self._schema_current = False
        # SQLite has one writer at a time; concurrent transactions in this process would otherwise meet in SQLite's
        # busy handler, which sleeps in growing steps (up to 100 ms each) and made acks under load take seconds.
        # Queuing them here costs each a fraction of a millisecond.
        self._writer = WriterQueue() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        if url.startswith("sqlite"):
            return cls(make_engine(url))
        return cls(make_engine(url), claim_engine=make_engine(url, pool_size=2, max_overflow=0))

    async def _run(self, fn, *, priority: bool = False):  # noqa: ANN001, ANN202
        try:
            engine = self.claim_engine if priority and self.claim_engine is not None else self.engine
            async with (self._writer.turn(priority) if self._writer else contextlib.nullcontext()), \
                    engine.begin() as conn:
                return await fn(conn)
        except IntegrityError:
            raise
        except _UNREACHABLE as exc:
            raise StoreError(f"database unreachable at {_describe(str(self.engine.url))}: {exc.__class__.__name__}") from exc
        except DBAPIError as exc:
            raise StoreError(f"database error: {str(exc.orig).splitlines()[0] if exc.orig else exc}") from exc

    async def thread_id(self, key: ThreadKey) -> str:
        if (found := await self.find_thread(key)) is not None:
            return found
        platform, tenant, channel, thread = key
        new = new_id()

        async def create(conn):  # noqa: ANN001, ANN202
            await conn.execute(insert(t.threads).values(
                id=new, platform=platform, tenant=tenant, channel=channel, thread=thread, created_at=_now()))

        try:
            await self._run(create)
        except IntegrityError:  # another process created it first
            return await self.find_thread(key)  # type: ignore[return-value]
        self._thread_ids.put(key, new)
        return new

    async def find_thread(self, key: ThreadKey) -> str | None:
        if (cached := self._thread_ids.get(key)) is not None:
            return cached
        platform, tenant, channel, thread = key
        where = (t.threads.c.platform == platform) & (t.threads.c.tenant == tenant) & (
            t.threads.c.channel == channel) & (t.threads.c.thread == thread)

        async def find(conn):  # noqa: ANN001, ANN202
            return (await conn.execute(select(t.threads.c.id).where(where))).scalar()

        found = await self._run(find)
        if found is not None:
            self._thread_ids.put(key, found)
        return found

    async def add_turn(self, thread_id: str, role: str, text: str, meta: dict[str, Any] | None = None) -> str:
        turn_id = new_id()

        async def add(conn):  # noqa: ANN001, ANN202
            await conn.execute(insert(t.messages).values(
                id=turn_id, thread_id=thread_id, role=role, text=text, meta=meta or {}, created_at=_now()))

        await self._run(add)
        return turn_id

    async def turns(self, thread_id: str) -> list[Turn]:
        async def read(conn):  # noqa: ANN001, ANN202
            rows = await conn.execute(
                select(t.messages.c.id, t.messages.c.role, t.messages.c.text, t.messages.c.created_at, t.messages.c.meta)
                .where(t.messages.c.thread_id == thread_id)
                .order_by(t.messages.c.created_at, t.messages.c.id))
            return [Turn(r.id, r.role, r.text, r.created_at, r.meta or {}) for r in rows]

        return await self._run(read)

    async def facts(self, thread_id: str) -> dict[str, str]:
        async def read(conn):  # noqa: ANN001, ANN202
            rows = await conn.execute(select(t.case_facts.c.name, t.case_facts.c.value)
                                      .where(t.case_facts.c.thread_id == thread_id))
            return {r.name: r.value for r in rows}

        return await self._run(read)

    async def save_facts(self, thread_id: str, facts: dict[str, str]) -> None:
        if not facts:
            return

        async def upsert(conn):  # noqa: ANN001, ANN202
            existing = {r.name for r in await conn.execute(
                select(t.case_facts.c.name).where(t.case_facts.c.thread_id == thread_id))}
            for name, value in facts.items():
                if name in existing:
                    await conn.execute(t.case_facts.update()
                                       .where((t.case_facts.c.thread_id == thread_id) & (t.case_facts.c.name == name))
                                       .values(value=value, updated_at=_now()))
                else:
                    await conn.execute(insert(t.case_facts).values(
                        thread_id=thread_id, name=name, value=value, updated_at=_now()))

        await self._run(upsert)

    async def claim_event(self, key: str, platform: str) -> bool:
        async def claim(conn):  # noqa: ANN001, ANN202
            await conn.execute(insert(t.processed_events).values(key=inbox_key(key), platform=platform, created_at=_now()))

        try:
            await self._run(claim)
        except IntegrityError:
            return False
        return True

    async def add_feedback(self, answer_id: str, user: str, value: str, platform: str) -> None:
        async def upsert(conn):  # noqa: ANN001, ANN202
            where = (t.feedback.c.answer_id == answer_id) & (t.feedback.c.user == user)
            changed = await conn.execute(t.feedback.update().where(where).values(value=value, created_at=_now()))
            if changed.rowcount == 0:
                await conn.execute(insert(t.feedback).values(
                    answer_id=answer_id, user=user, value=value, platform=platform, created_at=_now()))

        try:
            await self._run(upsert)
        except IntegrityError as exc:
            raise StoreError(f"feedback refers to an unknown answer {answer_id!r}") from exc

    async def add_usage(self, scope: str, subject: str, window_start: datetime, *, turns: int = 0,
                        tokens: int = 0) -> Usage:
        c = t.usage_counters.c
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert_insert
        # One statement: insert-or-increment, so concurrent replicas never lose a count.
        statement = upsert_insert(t.usage_counters).values(
            scope=scope, subject=subject[:400], window_start=window_start, turns=turns, tokens=tokens)
        statement = statement.on_conflict_do_update(
            index_elements=[c.scope, c.subject, c.window_start],
            set_={"turns": c.turns + statement.excluded.turns, "tokens": c.tokens + statement.excluded.tokens},
        ).returning(c.turns, c.tokens)

        async def add(conn):  # noqa: ANN001, ANN202
            row = (await conn.execute(statement)).one()
            return Usage(int(row.turns), int(row.tokens))

        return await self._run(add)

    async def usage(self, scope: str, subject: str, window_start: datetime) -> Usage:
        c = t.usage_counters.c

        async def read(conn):  # noqa: ANN001, ANN202
            row = (await conn.execute(select(c.turns, c.tokens).where(
                (c.scope == scope) & (c.subject == subject[:400]) & (c.window_start == window_start)))).first()
            return Usage(int(row.turns), int(row.tokens)) if row else Usage()

        return await self._run(read)

    async def forget_thread(self, key: ThreadKey) -> int:
        thread_id = await self.find_thread(key)
        if thread_id is None:
            return 0
        # The thread row (platform ids only) stays, so other replicas' cached thread ids remain valid.
        turns_of_thread = select(t.messages.c.id).where(t.messages.c.thread_id == thread_id)

        async def forget(conn):  # noqa: ANN001, ANN202
            await conn.execute(delete(t.feedback).where(t.feedback.c.answer_id.in_(turns_of_thread)))
            await conn.execute(delete(t.case_facts).where(t.case_facts.c.thread_id == thread_id))
            return (await conn.execute(delete(t.messages).where(t.messages.c.thread_id == thread_id))).rowcount

        return await self._run(forget)

    async def purge(self, before: datetime) -> dict[str, int]:
        has_turns = exists().where(t.messages.c.thread_id == t.threads.c.id)
        statements = {
            "feedback": delete(t.feedback).where(
                (t.feedback.c.created_at < before)
                | t.feedback.c.answer_id.in_(select(t.messages.c.id).where(t.messages.c.created_at < before))),
            "messages": delete(t.messages).where(t.messages.c.created_at < before),
            "case_facts": delete(t.case_facts).where(t.case_facts.c.updated_at < before),
            "processed_events": delete(t.processed_events).where(t.processed_events.c.created_at < before),
            "usage_counters": delete(t.usage_counters).where(t.usage_counters.c.window_start < before),
            "threads": delete(t.threads).where((t.threads.c.created_at < before) & ~has_turns),
        }

        async def purge(conn):  # noqa: ANN001, ANN202
            return {name: (await conn.execute(statement)).rowcount for name, statement in statements.items()}

        deleted = await self._run(purge)
        self._thread_ids.clear()  # purged threads must not be served from this process's cache
        return deleted

    async def schema_behind(self) -> str | None:
        if self._schema_current:
            return None
        from bot.store.migrate import behind

        reason = await behind(self.engine)
        self._schema_current = reason is None  # a schema at head does not fall behind while this code runs
        return reason

    async def ping(self) -> None:
        async def select_one(conn):  # noqa: ANN001, ANN202
            await conn.execute(select(1))

        await self._run(select_one)
        if self.claim_engine is not None:  # also opens its connection before the first ack needs it
            await self._run(select_one, priority=True)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.claim_engine is not None:
            await self.claim_engine.dispose()
