"""The store port on the standard library's sqlite3: the console's store for the embedded database file.

`consultant ask` and `chat` run one turn at a time, so they need neither a connection pool nor the claim batching
that `serve` relies on, and importing SQLAlchemy alone took about 0.2 s of every one-shot `ask`. This store and
`SqlStore` share the file and its formats: timestamps are SQLAlchemy's SQLite DATETIME text (UTC, microseconds, no
offset), JSON is text, and the schema is still owned by the Alembic migrations, which run (through SQLAlchemy)
only when the file is behind. Every operation is one transaction on one connection in one worker thread, so the
event loop never waits on the disk and the process never competes with itself for SQLite's single writer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from bot.store.port import (InboxItem, Store, StoreError, ThreadIdCache, ThreadKey, Turn, TurnState, Usage,
                            inbox_key, new_id)

log = logging.getLogger("bot.store")
T = TypeVar("T")
UNFINISHED = "state IN ('received', 'working')"  # a turn still to be answered


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def _marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


def sqlite_path(url: str) -> str:
    """The file of a `sqlite[+driver]:///path` URL (or ":memory:")."""
    return url.split("///", 1)[-1] or ":memory:"


class SqliteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._thread_ids = ThreadIdCache()
        self._schema_current = False
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> SqliteStore:
        """The store for a SQLite URL; with `migrate`, a file behind the head revision is migrated first."""
        store = cls(sqlite_path(url))
        try:
            if migrate and await store.schema_behind() is not None:
                from bot.store.migrate import upgrade
                from bot.store.sql import make_engine

                engine = make_engine(url)
                try:
                    await upgrade(engine)
                finally:
                    await engine.dispose()
        except BaseException:
            await store.close()
            raise
        return store

    # -- one transaction in the worker thread --------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            # The same settings as SqlStore's connections: WAL lets the console and a server share the file.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def _transaction(self, fn: Callable[[sqlite3.Connection], T], write: bool) -> T:
        conn = self._connection()
        # IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading a read lock.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = fn(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def _run(self, fn: Callable[[sqlite3.Connection], T], *, write: bool = True) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, self._transaction, fn, write)
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.OperationalError, OSError) as exc:  # OSError: its folder cannot be created
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(f"database unreachable at sqlite:///{self.path}: {reason}") from exc
        except sqlite3.Error as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"database error in {self.path}: {reason}") from exc

    # -- threads, turns and facts ----------------------------------------------------------------------------

    async def thread_id(self, key: ThreadKey) -> str:
        if (found := await self.find_thread(key)) is not None:
            return found
        new = new_id()
        try:
            await self._run(lambda c: c.execute(
                "INSERT INTO threads (id, platform, tenant, channel, thread, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (new, *key, _stamp(_now()))))
        except sqlite3.IntegrityError:  # another process created it first
            return await self.find_thread(key)  # type: ignore[return-value]
        self._thread_ids.put(key, new)
        return new

    async def find_thread(self, key: ThreadKey) -> str | None:
        if (cached := self._thread_ids.get(key)) is not None:
            return cached
        row = await self._run(lambda c: c.execute(
            "SELECT id FROM threads WHERE platform = ? AND tenant = ? AND channel = ? AND thread = ?", key).fetchone(),
            write=False)
        if row is not None:
            self._thread_ids.put(key, row[0])
        return row[0] if row else None

    async def add_turn(self, thread_id: str, role: str, text: str, meta: dict[str, Any] | None = None) -> str:
        turn_id = new_id()
        await self._run(lambda c: c.execute(
            "INSERT INTO messages (id, thread_id, role, text, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (turn_id, thread_id, role, text, json.dumps(meta or {}), _stamp(_now()))))
        return turn_id

    async def turns(self, thread_id: str) -> list[Turn]:
        rows = await self._run(lambda c: c.execute(
            "SELECT id, role, text, created_at, meta FROM messages WHERE thread_id = ? ORDER BY created_at, id",
            (thread_id,)).fetchall(), write=False)
        return [Turn(i, role, text, _moment(at), _json(meta) or {}) for i, role, text, at, meta in rows]

    async def facts(self, thread_id: str) -> dict[str, str]:
        rows = await self._run(lambda c: c.execute(
            "SELECT name, value FROM case_facts WHERE thread_id = ?", (thread_id,)).fetchall(), write=False)
        return dict(rows)

    async def save_facts(self, thread_id: str, facts: dict[str, str]) -> None:
        if not facts:
            return
        now = _stamp(_now())
        await self._run(lambda c: c.executemany(
            "INSERT INTO case_facts (thread_id, name, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (thread_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [(thread_id, name, value, now) for name, value in facts.items()]))

    # -- the inbox of durable turns ----------------------------------------------------------------------------

    async def claim_event(self, key: str, platform: str) -> bool:
        try:
            await self._run(lambda c: c.execute(
                "INSERT INTO processed_events (key, platform, created_at) VALUES (?, ?, ?)",
                (inbox_key(key), platform, _stamp(_now()))))
        except sqlite3.IntegrityError:
            return False
        return True

    async def claim_turn(self, key: str, platform: str, payload: dict[str, Any], owner: str, lease: float) -> bool:
        now = _now()
        try:
            await self._run(lambda c: c.execute(
                "INSERT INTO processed_events (key, platform, created_at, state, payload, owner, lease_until, attempts,"
                " result, updated_at) VALUES (?, ?, ?, 'working', ?, ?, ?, 1, '{}', ?)",
                (inbox_key(key), platform, _stamp(now), json.dumps(payload), owner,
                 _stamp(now + timedelta(seconds=lease)), _stamp(now))))
        except sqlite3.IntegrityError:
            return False
        return True

    async def renew_leases(self, keys: list[str], owner: str, lease: float) -> None:
        if not keys:
            return
        now = _now()
        held = [inbox_key(k) for k in keys]
        await self._run(lambda c: c.execute(
            f"UPDATE processed_events SET lease_until = ?, updated_at = ? WHERE key IN ({_marks(held)}) "
            "AND owner = ? AND state = 'working'", (_stamp(now + timedelta(seconds=lease)), _stamp(now), *held, owner)))

    @staticmethod
    def _mine(key: str, owner: str | None) -> tuple[str, tuple[str, ...]]:
        """The turn's row, and only while `owner` (when given) still holds it."""
        if owner is None:
            return "key = ?", (inbox_key(key),)
        return "key = ? AND owner = ?", (inbox_key(key), owner)

    async def note_turn(self, key: str, result: dict[str, Any], *, owner: str | None = None) -> None:
        where, params = self._mine(key, owner)

        def note(c: sqlite3.Connection) -> None:
            row = c.execute(f"SELECT result FROM processed_events WHERE {where}", params).fetchone()
            if row is not None:
                c.execute(f"UPDATE processed_events SET result = ?, updated_at = ? WHERE {where}",
                          (json.dumps({**(_json(row[0]) or {}), **result}), _stamp(_now()), *params))

        await self._run(note)

    async def finish_turn(self, key: str, state: TurnState, result: dict[str, Any] | None = None, *,
                          owner: str | None = None) -> None:
        where, params = self._mine(key, owner)

        def finish(c: sqlite3.Connection) -> int:
            row = c.execute(f"SELECT result FROM processed_events WHERE {where}", params).fetchone()
            if row is None:
                return 0
            # A finished turn's payload (the message) is not needed any more, answered or failed: keep no text.
            return c.execute(
                f"UPDATE processed_events SET state = ?, lease_until = NULL, result = ?, updated_at = ?, payload = NULL"
                f" WHERE {where}", (state, json.dumps({**(_json(row[0]) or {}), **(result or {})}), _stamp(_now()),
                                    *params)).rowcount

        if not await self._run(finish) and owner is not None:
            log.warning("a turn ended after another process took it over; its state is theirs to record",
                        extra={"key": key, "state": state})

    async def release_turns(self, keys: list[str], owner: str) -> None:
        if not keys:
            return
        now = _now()
        held = [inbox_key(k) for k in keys]
        await self._run(lambda c: c.execute(
            f"UPDATE processed_events SET state = 'received', owner = NULL, lease_until = ?, updated_at = ? "
            f"WHERE key IN ({_marks(held)}) AND owner = ? AND {UNFINISHED}",
            (_stamp(now - timedelta(seconds=1)), _stamp(now), *held, owner)))

    async def take_expired_turns(self, platform: str, owner: str, lease: float, limit: int = 10) -> list[InboxItem]:
        now = _now()
        expired = f"platform = ? AND {UNFINISHED} AND lease_until < ?"

        def take(c: sqlite3.Connection) -> list[InboxItem]:
            keys = [k for (k,) in c.execute(f"SELECT key FROM processed_events WHERE {expired} "
                                            "ORDER BY lease_until LIMIT ?", (platform, _stamp(now), limit))]
            taken = []
            for key in keys:
                # Compare-and-set, as in SqlStore (BEGIN IMMEDIATE already keeps other processes out meanwhile).
                changed = c.execute(f"UPDATE processed_events SET state = 'working', owner = ?, lease_until = ?, "
                          f"attempts = attempts + 1, updated_at = ? WHERE key = ? AND {expired}",
                          (owner, _stamp(now + timedelta(seconds=lease)), _stamp(now), key, platform, _stamp(now)))
                if changed.rowcount == 1:
                    taken.append(key)
            if not taken:
                return []
            rows = c.execute("SELECT key, platform, payload, state, owner, attempts, result FROM processed_events "
                             f"WHERE key IN ({_marks(taken)})", taken).fetchall()
            return [InboxItem(k, p, _json(payload) or {}, state, who, attempts or 0, _json(result) or {})
                    for k, p, payload, state, who, attempts, result in rows]

        return await self._run(take)

    async def drop_event_turns(self, thread_id: str, event_id: str) -> int:
        def drop(c: sqlite3.Connection) -> int:
            rows = c.execute("SELECT id, meta FROM messages WHERE thread_id = ?", (thread_id,)).fetchall()
            ids = [i for i, meta in rows if (_json(meta) or {}).get("event_id") == event_id]
            if ids:
                c.execute(f"DELETE FROM messages WHERE id IN ({_marks(ids)})", ids)
            return len(ids)

        return await self._run(drop)

    async def backlog(self) -> tuple[int, float]:
        depth, oldest = await self._run(lambda c: c.execute(
            f"SELECT count(*), min(created_at) FROM processed_events WHERE {UNFINISHED}").fetchone(),
            write=False)
        if oldest is None:
            return int(depth), 0.0
        return int(depth), (_now() - _moment(oldest).replace(tzinfo=timezone.utc)).total_seconds()

    # -- feedback, budgets, retention ---------------------------------------------------------------------------

    async def add_feedback(self, answer_id: str, user: str, value: str, platform: str) -> None:
        def upsert(c: sqlite3.Connection) -> None:
            now = _stamp(_now())
            changed = c.execute('UPDATE feedback SET value = ?, created_at = ? WHERE answer_id = ? AND "user" = ?',
                                (value, now, answer_id, user)).rowcount
            if changed == 0:
                c.execute('INSERT INTO feedback (answer_id, "user", value, platform, created_at) VALUES (?, ?, ?, ?, ?)',
                          (answer_id, user, value, platform, now))

        try:
            await self._run(upsert)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"feedback refers to an unknown answer {answer_id!r}") from exc

    async def add_usage(self, scope: str, subject: str, window_start: datetime, *, turns: int = 0,
                        tokens: int = 0) -> Usage:
        # One statement: insert-or-increment, so a server on the same file never loses a count.
        row = await self._run(lambda c: c.execute(
            "INSERT INTO usage_counters (scope, subject, window_start, turns, tokens) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (scope, subject, window_start) DO UPDATE SET turns = usage_counters.turns + excluded.turns, "
            "tokens = usage_counters.tokens + excluded.tokens RETURNING turns, tokens",
            (scope, subject[:400], _stamp(window_start), turns, tokens)).fetchone())
        return Usage(int(row[0]), int(row[1]))

    async def usage(self, scope: str, subject: str, window_start: datetime) -> Usage:
        row = await self._run(lambda c: c.execute(
            "SELECT turns, tokens FROM usage_counters WHERE scope = ? AND subject = ? AND window_start = ?",
            (scope, subject[:400], _stamp(window_start))).fetchone(), write=False)
        return Usage(int(row[0]), int(row[1])) if row else Usage()

    async def forget_thread(self, key: ThreadKey) -> int:
        thread_id = await self.find_thread(key)
        if thread_id is None:
            return 0

        # The thread row (platform ids only) stays, so other processes' cached thread ids remain valid.
        def forget(c: sqlite3.Connection) -> int:
            c.execute("DELETE FROM feedback WHERE answer_id IN (SELECT id FROM messages WHERE thread_id = ?)",
                      (thread_id,))
            c.execute("DELETE FROM case_facts WHERE thread_id = ?", (thread_id,))
            return c.execute("DELETE FROM messages WHERE thread_id = ?", (thread_id,)).rowcount

        return await self._run(forget)

    async def purge(self, before: datetime) -> dict[str, int]:
        cutoff = _stamp(before)
        statements = {
            "feedback": "DELETE FROM feedback WHERE created_at < ?1 "
                        "OR answer_id IN (SELECT id FROM messages WHERE created_at < ?1)",
            "messages": "DELETE FROM messages WHERE created_at < ?1",
            "case_facts": "DELETE FROM case_facts WHERE updated_at < ?1",
            "processed_events": "DELETE FROM processed_events WHERE created_at < ?1",
            "usage_counters": "DELETE FROM usage_counters WHERE window_start < ?1",
            "threads": "DELETE FROM threads WHERE created_at < ?1 "
                       "AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.thread_id = threads.id)",
        }
        deleted = await self._run(lambda c: {name: c.execute(sql, (cutoff,)).rowcount
                                             for name, sql in statements.items()})
        self._thread_ids.clear()  # purged threads must not be served from this process's cache
        return deleted

    # -- schema and lifecycle --------------------------------------------------------------------------------

    async def schema_behind(self) -> str | None:
        if self._schema_current:
            return None
        from bot.store.migrate import explain_revision

        def revision(c: sqlite3.Connection) -> str | None:
            if c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone():
                row = c.execute("SELECT version_num FROM alembic_version").fetchone()
                return row[0] if row else None
            return None

        reason = explain_revision(await self._run(revision, write=False))
        self._schema_current = reason is None  # a schema at head does not fall behind while this code runs
        return reason

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone(), write=False)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def shut(_c: sqlite3.Connection | None = None) -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._worker, shut)
        self._worker.shutdown(wait=True)
