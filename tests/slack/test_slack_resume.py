"""Resuming a Slack turn whose owner died, in-process: the crash windows a kill cannot aim at reliably.

The predecessor's state is built through the real APIs: its inbox row with the store port, its messages with an
AsyncWebClient against the fake Slack (which, like Slack, returns posted messages and their metadata in
conversations.replies)."""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbox import turn_payload
from adapters.slack.render import PLACEHOLDER
from tests.fakes import MemoryStore
from tests.slack.slack_payloads import app_mention
from tests.slack.slack_server import TEAM_ID

ANSWER = "consultant_answer"


def tag(event_type: str, event_id: str) -> dict:
    return {"event_type": event_type, "event_payload": {"event_id": event_id}}


async def crashed_turn(bot, store: MemoryStore, event_id: str, *, attempts: int = 1) -> dict:
    """An event claimed by a process that then died (its lease has already run out)."""
    event = app_mention("<@UBOT> our orders API got slow after we added line items", channel="C5")
    payload = turn_payload(event, team=TEAM_ID, event_id=event_id, kind="mention", bot_user_id="UBOT")
    assert await store.claim_turn(f"slack:{event_id}", "slack", payload, "dead-process", lease=0)
    store.inbox[f"slack:{event_id}"][5] = attempts
    return event


async def test_an_answer_posted_just_before_the_crash_is_not_posted_again(make_bot):
    store = MemoryStore()
    bot = await make_bot(store=store)
    bot.slack.replies_include_posted = True
    event = await crashed_turn(bot, store, "EvW1")
    web = AsyncWebClient(token="xoxb-test", base_url=bot.slack.api_url)
    placeholder = await web.chat_postMessage(channel="C5", thread_ts=event["ts"], metadata=tag(
        "consultant_placeholder", "EvW1"), **PLACEHOLDER.kwargs())
    answer = await web.chat_postMessage(channel="C5", thread_ts=event["ts"], text="The answer.",
                                        metadata=tag(ANSWER, "EvW1"))
    await store.note_turn("slack:EvW1", {"placeholder_ts": placeholder["ts"]})  # the answer's ts was never noted
    posted_before = len(bot.slack.replies())

    assert await bot.adapter.handlers.inbox.resume_expired() == 1
    await bot.settle()

    assert len(bot.slack.replies()) == posted_before
    assert [m["ts"] for m in bot.slack.thread("C5", event["ts"])] == [answer["ts"]]  # the placeholder is gone
    assert store.inbox["slack:EvW1"][2] == "answered"


async def test_a_resumed_turn_answers_in_its_predecessors_placeholder_and_drops_its_turns(make_bot):
    store = MemoryStore()
    bot = await make_bot(store=store)
    bot.slack.replies_include_posted = True
    event = await crashed_turn(bot, store, "EvW2")
    thread = await store.thread_id(("slack", TEAM_ID, "C5", event["ts"]))
    await store.add_turn(thread, "user", "our orders API got slow", {"event_id": "EvW2"})  # the crashed attempt's
    web = AsyncWebClient(token="xoxb-test", base_url=bot.slack.api_url)
    placeholder = await web.chat_postMessage(channel="C5", thread_ts=event["ts"], metadata=tag(
        "consultant_placeholder", "EvW2"), **PLACEHOLDER.kwargs())  # posted, then the crash: never noted

    await bot.adapter.handlers.inbox.resume_expired()
    await bot.settle()

    shown = bot.slack.thread("C5", event["ts"])
    assert [m["ts"] for m in shown] == [placeholder["ts"]] and shown[0]["metadata"] == tag(ANSWER, "EvW2")
    assert "Thinking" not in shown[0]["text"]
    users = [t.text for t in await store.turns(thread) if t.role == "user"]
    assert users == ["our orders API got slow after we added line items"]  # the re-run's only, not the crashed one
    assert store.inbox["slack:EvW2"][2] == "answered"
    assert store.inbox["slack:EvW2"][6]["answer_ts"] == placeholder["ts"]


async def test_a_turn_that_keeps_crashing_its_process_ends_in_an_apology(make_bot):
    store = MemoryStore()
    bot = await make_bot(store=store)
    bot.slack.replies_include_posted = True
    event = await crashed_turn(bot, store, "EvW3", attempts=3)  # the resume makes it the 4th attempt

    await bot.adapter.handlers.inbox.resume_expired()
    await bot.settle()

    shown = bot.slack.thread("C5", event["ts"])
    assert len(shown) == 1 and "Sorry" in shown[0]["text"] and shown[0]["metadata"] == tag(ANSWER, "EvW3")
    assert store.inbox["slack:EvW3"][2] == "failed"


async def test_a_live_turn_renews_its_lease_so_no_one_else_takes_it(make_bot, openai):
    from tests.openai_server import Scripted

    store = MemoryStore()
    bot = await make_bot(store=store, openai=openai)
    inbox = bot.adapter.handlers.inbox
    inbox.lease = 0.3  # renewed every 0.1 s by the heartbeat
    await inbox.stop_loops()
    inbox.start(bot.adapter.handlers.run_turn)
    openai.script(Scripted(text="Slow answer.", delay=1.0))
    await bot.event(app_mention("<@UBOT> slow one", channel="C5"), event_id="EvW4")
    await asyncio.sleep(0.6)
    assert await store.take_expired_turns("slack", "another-replica", 30) == []
    await bot.settle()
    assert store.inbox["slack:EvW4"][2] == "answered"


async def test_the_inbox_records_the_event_with_secrets_masked_and_drops_it_once_answered(make_bot):
    class Recording(MemoryStore):
        claimed: dict = {}

        async def claim_turn(self, key, platform, payload, owner, lease):  # noqa: ANN001, ANN201
            self.claimed[key] = payload
            return await super().claim_turn(key, platform, payload, owner, lease)

    store = Recording()
    bot = await make_bot(store=store)
    await bot.event(app_mention("<@UBOT> why does postgres://app:s3cretpw@db/prod time out?", channel="C5"),
                    event_id="EvW5")
    await bot.settle()
    stored = store.claimed["slack:EvW5"]
    assert "s3cretpw" not in str(stored) and "[REDACTED]" in stored["event"]["text"]
    assert stored["kind"] == "mention" and stored["event_id"] == "EvW5"
    assert store.inbox["slack:EvW5"][1] is None and store.inbox["slack:EvW5"][2] == "answered"
