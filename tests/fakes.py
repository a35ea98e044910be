"""Test doubles that subclass the real ports, so they cannot drift from the interfaces."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from bot.knowledge.port import Note, Question, Retriever, ScoredNote
from bot.llm.port import LLM, ChatMessage, LLMError, UsageSink
from bot.store.port import InboxItem, Store, StoreError, ThreadKey, Turn, TurnState, Usage, new_id


class FakeLLM(LLM):
    """Records every request; answers with a fixed text, optionally after a delay, or fails."""

    name = "fake"

    def __init__(self, answer: str = "LLM answer.", *, delay: float = 0.0, fail: bool = False,
                 usage: int | None = None) -> None:
        self.answer, self.delay, self.fail, self.usage = answer, delay, fail, usage
        self.requests: list[list[ChatMessage]] = []

    async def complete(self, messages: list[ChatMessage], *, on_usage: UsageSink | None = None) -> str:
        self.requests.append(messages)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise LLMError("fake failure")
        if on_usage and self.usage:
            on_usage(self.usage)
        return self.answer

    async def stream(self, messages: list[ChatMessage], *, on_usage: UsageSink | None = None) -> AsyncIterator[str]:
        self.requests.append(messages)
        if self.fail:
            raise LLMError("fake failure")
        for word in re.findall(r"\S+\s*", self.answer):
            yield word
        if on_usage and self.usage:
            on_usage(self.usage)


class KeywordRetriever(Retriever):
    """Scores notes by how many of their title/alias words appear in the query."""

    def __init__(self, notes: list[Note]) -> None:
        self._notes = {n.id: n for n in notes}

    def search(self, query: str, k: int = 5) -> list[ScoredNote]:
        words = set(re.findall(r"[a-z0-9_+]+", query.lower()))
        scored = []
        for note in self._notes.values():
            vocab = set(re.findall(r"[a-z0-9_+]+", " ".join((note.title, *note.aliases, *note.tags)).lower()))
            if hits := len(words & vocab):
                scored.append(ScoredNote(note, float(hits)))
        return sorted(scored, key=lambda s: -s.score)[:k]

    def get(self, note_id: str) -> Note | None:
        return self._notes.get(note_id)

    def notes(self) -> list[Note]:
        return sorted(self._notes.values(), key=lambda n: n.id)


class MemoryStore(Store):
    def __init__(self) -> None:
        self.threads: dict[ThreadKey, str] = {}
        self.turns_by_thread: dict[str, list[Turn]] = {}
        self.fact_rows: dict[str, dict[str, str]] = {}
        self.events: set[str] = set()
        # key -> [platform, payload, state, owner, lease_until (monotonic), attempts, result]
        self.inbox: dict[str, list[Any]] = {}
        self.feedback: list[tuple[str, str, str, str]] = []
        self.event_times: dict[str, datetime] = {}
        self.usage_rows: dict[tuple[str, str, datetime], Usage] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StoreError("database unreachable")

    async def thread_id(self, key: ThreadKey) -> str:
        self._check()
        return self.threads.setdefault(key, new_id())

    async def find_thread(self, key: ThreadKey) -> str | None:
        self._check()
        return self.threads.get(key)

    async def add_turn(self, thread_id: str, role: str, text: str, meta: dict[str, Any] | None = None) -> str:
        self._check()
        turn = Turn(new_id(), role, text, datetime.now(timezone.utc), meta or {})
        self.turns_by_thread.setdefault(thread_id, []).append(turn)
        return turn.id

    async def turns(self, thread_id: str) -> list[Turn]:
        self._check()
        return list(self.turns_by_thread.get(thread_id, []))

    async def facts(self, thread_id: str) -> dict[str, str]:
        return dict(self.fact_rows.get(thread_id, {}))

    async def save_facts(self, thread_id: str, facts: dict[str, str]) -> None:
        self.fact_rows.setdefault(thread_id, {}).update(facts)

    async def claim_event(self, key: str, platform: str) -> bool:
        if key in self.events:
            return False
        self.events.add(key)
        self.event_times[key] = datetime.now(timezone.utc)
        return True

    async def claim_turn(self, key: str, platform: str, payload: dict[str, Any], owner: str, lease: float) -> bool:
        if key in self.events:
            return False
        self.events.add(key)
        self.inbox[key] = [platform, payload, "working", owner, time.monotonic() + lease, 1, {}]
        return True

    async def renew_leases(self, keys: list[str], owner: str, lease: float) -> None:
        for key in keys:
            row = self.inbox.get(key)
            if row and row[3] == owner and row[2] == "working":
                row[4] = time.monotonic() + lease

    async def note_turn(self, key: str, result: dict[str, Any], *, owner: str | None = None) -> None:
        if owner is None or self.inbox[key][3] == owner:
            self.inbox[key][6].update(result)

    async def finish_turn(self, key: str, state: TurnState, result: dict[str, Any] | None = None, *,
                          owner: str | None = None) -> None:
        row = self.inbox[key]
        if owner is not None and row[3] != owner:
            return
        row[2], row[4], row[1] = state, None, None
        row[6].update(result or {})

    async def backlog(self) -> tuple[int, float]:
        return sum(1 for row in self.inbox.values() if row[2] in ("received", "working")), 0.0

    async def release_turns(self, keys: list[str], owner: str) -> None:
        for key in keys:
            row = self.inbox.get(key)
            if row and row[3] == owner and row[2] in ("received", "working"):
                row[2], row[3], row[4] = "received", None, time.monotonic() - 1

    async def take_expired_turns(self, platform: str, owner: str, lease: float, limit: int = 10) -> list[InboxItem]:
        self._check()
        now, taken = time.monotonic(), []
        for key, row in self.inbox.items():
            if len(taken) < limit and row[0] == platform and row[2] in ("received", "working") and row[4] < now:
                row[2], row[3], row[4], row[5] = "working", owner, now + lease, row[5] + 1
                taken.append(InboxItem(key, row[0], row[1], row[2], owner, row[5], dict(row[6])))
        return taken

    async def drop_event_turns(self, thread_id: str, event_id: str) -> int:
        kept = [t for t in self.turns_by_thread.get(thread_id, []) if t.meta.get("event_id") != event_id]
        dropped = len(self.turns_by_thread.get(thread_id, [])) - len(kept)
        self.turns_by_thread[thread_id] = kept
        return dropped

    async def add_feedback(self, answer_id: str, user: str, value: str, platform: str) -> None:
        self.feedback.append((answer_id, user, value, platform))

    async def add_usage(self, scope: str, subject: str, window_start: datetime, *, turns: int = 0,
                        tokens: int = 0) -> Usage:
        self._check()
        old = self.usage_rows.get((scope, subject, window_start), Usage())
        new = self.usage_rows[(scope, subject, window_start)] = Usage(old.turns + turns, old.tokens + tokens)
        return new

    async def usage(self, scope: str, subject: str, window_start: datetime) -> Usage:
        self._check()
        return self.usage_rows.get((scope, subject, window_start), Usage())

    async def forget_thread(self, key: ThreadKey) -> int:
        self._check()
        thread_id = self.threads.get(key)
        if thread_id is None:
            return 0
        turns = self.turns_by_thread.pop(thread_id, [])
        ids = {t.id for t in turns}
        self.fact_rows.pop(thread_id, None)
        self.feedback = [f for f in self.feedback if f[0] not in ids]
        return len(turns)

    async def purge(self, before: datetime) -> dict[str, int]:
        self._check()
        deleted = dict.fromkeys(("feedback", "messages", "case_facts", "processed_events", "usage_counters",
                                 "threads"), 0)
        old_ids: set[str] = set()
        for thread_id, turns in self.turns_by_thread.items():
            old_ids |= {t.id for t in turns if t.created_at < before}
            self.turns_by_thread[thread_id] = [t for t in turns if t.created_at >= before]
        deleted["messages"] = len(old_ids)
        kept_feedback = [f for f in self.feedback if f[0] not in old_ids]
        deleted["feedback"], self.feedback = len(self.feedback) - len(kept_feedback), kept_feedback
        for thread_id in [tid for tid, turns in self.turns_by_thread.items() if not turns]:
            del self.turns_by_thread[thread_id]
            deleted["case_facts"] += len(self.fact_rows.pop(thread_id, {}))
        for key in [k for k, at in self.event_times.items() if at < before]:
            self.events.discard(key)
            del self.event_times[key]
            deleted["processed_events"] += 1
        for row in [r for r in self.usage_rows if r[2] < before]:
            del self.usage_rows[row]
            deleted["usage_counters"] += 1
        return deleted

    async def ping(self) -> None:
        self._check()


def make_note(note_id: str, title: str, problem_type: str, aliases: tuple[str, ...], questions: tuple[Question, ...],
              summary: str = "", code: str = "") -> Note:
    confirm = "- Count the queries per request.\n- Run EXPLAIN (ANALYZE, BUFFERS) on the slowest one.\n"
    patterns = f"### Batch the loads\nLoad related rows in one query.\n\n{code}\n"
    return Note(
        id=note_id, title=title, area="performance", problem_type=problem_type,
        summary=summary or f"{title} summary.", questions=questions, aliases=aliases,
        body=f"## How to confirm and measure\n{confirm}\n## Patterns and fixes\n{patterns}",
        sections={"How to confirm and measure": confirm, "Patterns and fixes": patterns,
                  "Tradeoffs": "- Not for tiny tables.\n"},
    )


N_PLUS_ONE = make_note(
    "n-plus-one-queries", "N+1 queries", "performance", ("n+1", "slow", "orders", "line", "items", "orm"),
    (Question("Which ORM are you using?", ("orm",)), Question("Which database and version?", ("database",)),
     Question("How many queries does one request run?"), Question("Is it a list endpoint or a job?")),
    code="```python\nOrder.objects.prefetch_related('items')  # django\n```\n\n```java\n@EntityGraph // spring\n```",
)
RACE = make_note(
    "race-conditions", "Race conditions", "correctness", ("race", "twice", "double", "charge", "workers"),
    (Question("Which database and isolation level?", ("database",)), Question("How do workers pick up jobs?"),
     Question("Is the charge call idempotent?")),
)
FAKE_NOTES = [N_PLUS_ONE, RACE]
