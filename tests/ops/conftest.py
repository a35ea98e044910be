"""Fixtures for the operations tests: the fake Slack (showing posted messages in conversations.replies, as Slack
does) and the fake OpenAI server, both on real loopback ports that `consultant serve` subprocesses talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.openai_server import FakeOpenAIServer, Scripted
from tests.slack.slack_server import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.replies_include_posted = True
        yield fake


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer(Scripted(text="Add an index on orders (customer_id) and measure again.")) as server:
        yield server
