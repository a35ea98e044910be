"""Fixtures: the real `consultant serve` aiohttp app with the Teams mount, a fake connector, fake core ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.server import create_web_app
from adapters.teams.config import TeamsConfig
from adapters.teams.mount import TEAMS_KEY, TeamsEndpoint, mount
from bot.bootstrap import App, build_app
from bot.config import Settings
from tests.fakes import FAKE_NOTES, FakeLLM, KeywordRetriever, MemoryStore
from tests.teams.teams_connector import FakeConnector

DEV = TeamsConfig(dev_unauthenticated=True, send_backoff=0.01, typing_interval=0.05)


@dataclass
class Bot:
    client: TestClient
    web_app: web.Application
    app: App

    @property
    def endpoint(self) -> TeamsEndpoint:
        return self.web_app[TEAMS_KEY]

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
        return await self.client.post("/api/messages", json=activity, headers=headers or {})

    async def send(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        """POST the activity and wait for the background work it started to finish."""
        response = await self.post(activity, headers)
        if TEAMS_KEY in self.web_app:
            await self.endpoint.drain(timeout=10)
        return response.status


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)})


@pytest.fixture
async def start_bot(settings) -> AsyncIterator:
    clients: list[TestClient] = []

    async def start(config: TeamsConfig = DEV, *, app: App | None = None, store=None, llm=None) -> Bot:
        if app is None:
            app = await build_app(settings, store=store or MemoryStore(), llm=llm or FakeLLM("LLM answer."),
                                  retriever=KeywordRetriever(FAKE_NOTES))
        web_app = create_web_app(app, mounts=[partial(mount, config=config)])
        client = TestClient(TestServer(web_app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return Bot(client, web_app, app)

    yield start
    for client in clients:
        await client.close()
