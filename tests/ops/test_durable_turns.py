"""Never lose or duplicate an answer: `consultant serve` processes killed (SIGKILL) or stopped (SIGTERM) with turns
in flight, on SQLite and PostgreSQL, and two replicas sharing one PostgreSQL inbox.

The LLM (tests/openai_server.py) holds the first turns until the process is gone; Slack is tests/slack/slack_server.py.
Leases are 1.5 s and processes look for expired ones every 0.3 s, so a crashed turn resumes within about 2 s.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import PG_URL
from tests.openai_server import FakeOpenAIServer, Scripted
from tests.ops.processes import CONSULTANT, Serve, fresh_postgres, slack_env
from tests.slack.slack_payloads import app_mention
from tests.slack.slack_server import FakeSlack

pytestmark = pytest.mark.skipif(not Path(CONSULTANT).exists(), reason="the consultant entry point is not installed")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL tests need CONSULTANT_TEST_DATABASE_URL (set by .ci/run)"))]
STUCK = Scripted(text="never delivered", delay=120)


def mentions(n: int, tag: str) -> list[tuple[str, dict]]:
    return [(f"Ev{tag}{i:03d}", app_mention(f"<@UBOT> our orders API is slow, case {tag}{i}", channel="C9"))
            for i in range(n)]


async def deliver(server: Serve, events: list[tuple[str, dict]]) -> None:
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*[server.send(session, event, event_id) for event_id, event in events])
    assert statuses == [200] * len(events)


def placeholders_posted(slack: FakeSlack) -> int:
    return sum(1 for c in slack.of("chat.postMessage") if "Thinking" in c.text())


def assert_each_answered_once(slack: FakeSlack, events: list[tuple[str, dict]]) -> None:
    for event_id, event in events:
        shown = slack.thread("C9", event["ts"])
        answers = [m for m in shown if (m["metadata"] or {}).get("event_payload", {}).get("event_id") == event_id
                   and m["metadata"]["event_type"] == "consultant_answer"]
        assert len(answers) == 1, f"{event_id}: {shown}"
        assert len(shown) == 1, f"{event_id} left more than its answer in the thread: {shown}"
        assert "Thinking" not in shown[0]["text"] and "index on orders" in shown[0]["text"]


async def wait_answered(slack: FakeSlack, events: list[tuple[str, dict]], timeout: float = 30) -> None:
    def done() -> bool:
        return all(any((m["metadata"] or {}).get("event_type") == "consultant_answer" for m in
                       slack.thread("C9", e["ts"])) for _, e in events)

    await slack.wait_for(done, timeout=timeout)
    await asyncio.sleep(0.5)  # anything a duplicate attempt would post arrives by now


@pytest.fixture(params=BACKENDS)
async def database_url(request):
    if request.param == "sqlite":
        yield None
        return
    async with fresh_postgres(PG_URL) as url:
        yield url


async def test_kill_9_with_turns_in_flight_then_restart_answers_each_exactly_once(
        tmp_path, slack: FakeSlack, openai: FakeOpenAIServer, database_url):
    env = slack_env(slack.api_url, openai.base_url, tmp_path / "data", database_url)
    events = mentions(6, "K")
    first = await Serve(env, tmp_path / "first.log").start()
    openai.script(*[STUCK] * len(events))
    try:
        await deliver(first, events)
        await slack.wait_for(lambda: placeholders_posted(slack) == len(events) and len(openai.requests) == 6,
                             timeout=15)
    finally:
        await first.kill()
    second = await Serve(env, tmp_path / "second.log").start()
    try:
        await wait_answered(slack, events)
        async with aiohttp.ClientSession() as session:  # Slack retries one of them: a duplicate, dropped
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            assert await second.send(session, events[0][1], events[0][0], retry) == 200
        await asyncio.sleep(0.5)
    finally:
        assert await second.terminate() == 0
    assert_each_answered_once(slack, events)
    assert placeholders_posted(slack) == len(events)  # the resumed turns reused the crashed attempts' placeholders
    resumed = [r for r in second.records() if r.get("event") == "resuming a Slack turn whose lease expired"]
    assert len(resumed) == len(events)
    assert "Traceback" not in second.log()


async def test_sigterm_finishes_what_it_can_within_the_grace_and_releases_the_rest(
        tmp_path, slack: FakeSlack, openai: FakeOpenAIServer):
    env = slack_env(slack.api_url, openai.base_url, tmp_path / "data", None, CONSULTANT_SHUTDOWN_GRACE="1.5",
                    CONSULTANT_TURN_LEASE="60")  # released turns must resume at once, not after their lease
    events = mentions(6, "T")
    first = await Serve(env, tmp_path / "first.log").start()
    openai.script(*[Scripted(text=openai.default.text, delay=0.5)] * 3, *[STUCK] * 3)
    await deliver(first, events)
    await slack.wait_for(lambda: len(openai.requests) == len(events), timeout=15)
    stopping = time.monotonic()
    assert await first.terminate(timeout=15) == 0
    assert time.monotonic() - stopping < 1.5 + 5  # the grace, then release and exit: not the LLM's 120 s
    finished_by_first = sum(1 for _, e in events if slack.thread("C9", e["ts"]) and
                            slack.thread("C9", e["ts"])[0]["metadata"]["event_type"] == "consultant_answer")
    assert finished_by_first == 3
    messages = [r.get("event") for r in first.records()]
    assert "turns released at shutdown; another process resumes them" in messages
    second = await Serve(env, tmp_path / "second.log").start()
    try:
        await wait_answered(slack, events, timeout=10)
    finally:
        assert await second.terminate() == 0
    assert_each_answered_once(slack, events)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL tests need CONSULTANT_TEST_DATABASE_URL (set by .ci/run)")
async def test_two_replicas_on_postgres_the_survivor_finishes_the_killed_ones_turns(
        tmp_path, slack: FakeSlack, openai: FakeOpenAIServer):
    async with fresh_postgres(PG_URL) as url:
        env = slack_env(slack.api_url, openai.base_url, tmp_path / "data", url)
        a, b = await asyncio.gather(Serve(env, tmp_path / "a.log").start(), Serve(env, tmp_path / "b.log").start())
        own_b = mentions(2, "B")
        try:
            openai.script(*[STUCK] * 4)
            events_a = mentions(4, "A")
            await deliver(a, events_a)
            await slack.wait_for(lambda: len(openai.requests) == 4, timeout=15)
            await a.kill()
            await deliver(b, own_b)
            await wait_answered(slack, events_a + own_b)
        finally:
            if a.proc and a.proc.returncode is None:
                await a.kill()
            assert await b.terminate() == 0
        assert_each_answered_once(slack, events_a + own_b)
        resumed = {r.get("key") for r in b.records() if r.get("event") == "resuming a Slack turn whose lease expired"}
        assert resumed == {f"slack:{event_id}" for event_id, _ in events_a}
