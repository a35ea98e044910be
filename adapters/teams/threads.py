"""Thread keys for Teams conversations, and the `new` command's fresh consultations.

The key is (teams, tenant, channel, thread): `channel` is the conversation id without its `;messageid=`
suffix, `thread` the full conversation id (a channel thread's id carries `;messageid=<root post>`), so every
channel thread, group chat and personal chat has its own context, per tenant.

`new` cannot change the conversation id, so a conversation has *generations*: the effective thread is the
conversation id, or `<conversation id>#new:<activity id of the latest new>` once `new` has been used. The
latest generation is kept through the store port alone (the core schema is untouched): a bookkeeping thread
keyed `<conversation id>#generations` receives one `context` turn per `new`, whose meta names the generation.
It exists only once `new` has been used; reading it is one or two indexed queries; it works across replicas
and restarts, and an old consultation stays intact in its own thread.
"""

from __future__ import annotations

import hashlib

from bot.store.port import Store, ThreadKey

PLATFORM = "teams"
_LIMITS = {"tenant": 128, "channel": 256, "thread": 440}  # room for the "#new:<generation>" suffix in 512


def _fit(value: str, limit: int) -> str:
    """Keep keys within the store's column sizes; overlong ids keep a readable prefix plus a digest."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{value[:limit - 33]}~{digest}"


def split_conversation(conversation_id: str) -> tuple[str, str]:
    """(channel, thread) for a conversation id: the channel drops `;messageid=...`, the thread keeps it."""
    channel = conversation_id.split(";", 1)[0]
    return _fit(channel, _LIMITS["channel"]), _fit(conversation_id, _LIMITS["thread"])


class ThreadBook:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _ledger_key(self, tenant: str, channel: str, thread: str) -> ThreadKey:
        return (PLATFORM, _fit(tenant, _LIMITS["tenant"]), channel, f"{thread}#generations")

    async def current(self, tenant: str, conversation_id: str) -> tuple[str, str]:
        """(channel, thread) to use for the engine's thread key right now."""
        channel, thread = split_conversation(conversation_id)
        ledger = await self.store.find_thread(self._ledger_key(tenant, channel, thread))
        if ledger is None:  # `new` was never used here: no bookkeeping row is created just by reading
            return channel, thread
        marks = [t for t in await self.store.turns(ledger) if t.meta.get("generation")]
        if marks:
            thread = f"{thread}#new:{marks[-1].meta['generation']}"
        return channel, thread

    async def start_new(self, tenant: str, conversation_id: str, generation: str, user: str) -> tuple[str, str]:
        """Begin a fresh consultation in this conversation; returns its (channel, thread)."""
        channel, thread = split_conversation(conversation_id)
        generation = _fit(generation, 64)
        ledger = await self.store.thread_id(self._ledger_key(tenant, channel, thread))
        await self.store.add_turn(ledger, "context", "new consultation started", {"generation": generation, "user": user})
        return channel, f"{thread}#new:{generation}"
