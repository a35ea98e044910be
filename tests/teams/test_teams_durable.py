"""Teams durable turns: an activity is in the inbox before the 200, and one left by a dead process is replayed."""

from __future__ import annotations

from adapters.teams.handler import event_key
from bot.store.port import StoreError
from botbuilder.schema import Activity
from tests.fakes import MemoryStore
from tests.teams import teams_activities as A


class Recording(MemoryStore):
    """Keeps what each claim recorded (an answered turn's payload is dropped when it finishes)."""

    def __init__(self) -> None:
        super().__init__()
        self.claimed: dict[str, dict] = {}

    async def claim_turn(self, key, platform, payload, owner, lease):  # noqa: ANN001, ANN201
        self.claimed[key] = payload
        return await super().claim_turn(key, platform, payload, owner, lease)


async def test_an_activity_is_recorded_with_its_redacted_payload_before_the_ack(start_bot, connector):
    store = Recording()
    bot = await start_bot(store=store)
    activity = A.personal_message(connector.service_url, "our API is slow, password=hunter2 in the logs")
    assert await bot.send(activity) == 200
    key = event_key(Activity().deserialize(activity))
    platform, _, state, *_ = store.inbox[key]
    assert platform == "teams" and state == "answered"
    text = store.claimed[key]["activity"]["text"]
    assert "hunter2" not in text and "[REDACTED]" in text
    assert len(connector.messages()) == 1
    assert await bot.send(activity) == 200  # a redelivery: a duplicate, not answered again
    assert len(connector.messages()) == 1


async def test_an_activity_whose_process_died_is_replayed_and_answered_once(start_bot, connector):
    store = MemoryStore()
    bot = await start_bot(store=store)
    activity = A.personal_message(connector.service_url, "how do I paginate a big table?")
    key = event_key(Activity().deserialize(activity))
    assert await store.claim_turn(key, "teams", {"activity": activity}, "dead-process", lease=0)
    # the dead attempt had already stored the question in the conversation's thread
    channel, thread = await bot.endpoint.bot.threads.current(A.TENANT, A.PERSONAL)
    thread_id = await store.thread_id(("teams", A.TENANT, channel, thread))
    await store.add_turn(thread_id, "user", "half-stored", {"event_id": f"teams:{activity['id']}"})

    assert await bot.endpoint.inbox.resume_expired() == 1
    await bot.endpoint.drain(timeout=10)

    assert len(connector.messages()) == 1 and store.inbox[key][2] == "answered"
    assert "half-stored" not in [t.text for t in await store.turns(thread_id)]
    assert await bot.endpoint.inbox.resume_expired() == 0


async def test_an_activity_that_cannot_be_recorded_gets_503_so_the_channel_redelivers(start_bot, connector):
    class Down(MemoryStore):
        async def claim_turn(self, *args, **kwargs) -> bool:  # noqa: ANN002, ANN003
            raise StoreError("database unreachable")

    bot = await start_bot(store=Down())
    assert await bot.send(A.personal_message(connector.service_url, "hello")) == 503
    assert connector.requests == []
