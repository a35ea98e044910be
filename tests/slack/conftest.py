"""Fixtures: the real `consultant serve` aiohttp app with the Slack mount on a real 127.0.0.1 port, a fake Slack
Web API (tests/slack/slack_server.py) and, where the LLM matters, the local fake OpenAI server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.server import create_web_app
from adapters.slack.config import SlackConfig
from adapters.slack.mount import SLACK_KEY, SlackAdapter, mount
from bot.analyzers import Analysis, Analyzer, AnalyzerRegistry
from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.store.port import Store
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore
from tests.openai_server import FakeOpenAIServer
from tests.slack.slack_payloads import SECRET, event_callback, interactive, signed_headers, slash_command
from tests.slack.slack_server import FakeSlack


class FakeReview(Analyzer):
    """Stands in for the schema-review analyzer, so these tests do not depend on its rules."""

    name = "schema-review"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def detect(self, text: str) -> bool:
        return False

    def analyze(self, text: str, options: dict[str, Any] | None = None) -> Analysis:
        self.calls.append((text, dict(options or {})))
        findings = [
            {"rule": "fk-without-index", "severity": "warning", "table": "orders", "column": "customer_id",
             "object": None, "line": 3, "message": "Foreign key `orders.customer_id` has no index.",
             "why": "Deletes on customers scan orders.", "fix": "CREATE INDEX CONCURRENTLY orders_customer_id_idx "
                                                             "ON orders (customer_id);", "note": ""},
            {"rule": "missing-primary-key", "severity": "error", "table": "audit_log", "column": None,
             "object": None, "line": 9, "message": "Table `audit_log` has no primary key.",
             "why": "Replication and deduplication need one.", "fix": "ALTER TABLE audit_log ADD COLUMN id bigint "
                                                                    "GENERATED ALWAYS AS IDENTITY PRIMARY KEY;",
             "note": ""},
        ]
        report = ("## Schema review\n\n### error: missing-primary-key (audit_log)\nTable `audit_log` has no primary "
                  "key.\n\n```sql\nALTER TABLE audit_log ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY "
                  "KEY;\n```\n\n### warning: fk-without-index (orders.customer_id)\nUnindexed foreign key.\n\n"
                  "```sql\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n```")
        return Analysis(analyzer=self.name, summary="**Schema review:** 1 error, 1 warning in 2 tables.",
                        report=report, findings=findings, notes=[], problem_type="design")


@dataclass
class Bot:
    client: TestClient
    web_app: web.Application
    app: App
    slack: FakeSlack
    review: FakeReview

    @property
    def adapter(self) -> SlackAdapter:
        return self.web_app[SLACK_KEY]

    async def post(self, body: str, headers: dict[str, str]) -> Any:
        return await self.client.post("/slack/events", data=body.encode(), headers=headers)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> Any:
        body = json.dumps(event_callback(event, event_id=event_id))
        return await self.post(body, {**signed_headers(body), **(headers or {})})

    async def command(self, text: str) -> Any:
        body = slash_command(text, response_url=self.slack.response_url())
        return await self.post(body, signed_headers(body, content_type="application/x-www-form-urlencoded"))

    async def interact(self, payload: dict[str, Any]) -> Any:
        body = interactive(payload)
        return await self.post(body, signed_headers(body, content_type="application/x-www-form-urlencoded"))

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait for every answer the requests started to be delivered."""
        await self.adapter.idle(timeout)


def slack_config(slack: FakeSlack, **overrides: Any) -> SlackConfig:
    base = SlackConfig(bot_token="xoxb-test", signing_secret=SECRET, api_url=slack.api_url, shutdown_grace=0,
                       stream_interval=0, stream_chunk_chars=1, update_interval=0, socket_ping_interval=1)
    return replace(base, **overrides)


async def make_app(tmp_path: Path, *, openai: FakeOpenAIServer | None = None, store: Store | None = None,
                   review: FakeReview | None = None, deadline: float = 30, env: dict[str, str] | None = None) -> App:
    env = {"CONSULTANT_DATA_DIR": str(tmp_path), "CONSULTANT_LLM_DEADLINE": str(deadline), **(env or {})}
    llm = None
    if openai is not None:
        from bot.llm.openai_llm import OpenAIChat, build_client

        env |= {"OPENAI_API_KEY": "test", "OPENAI_BASE_URL": openai.base_url}
        settings = Settings.from_env(env)
        llm = OpenAIChat(build_client(settings), settings.openai_model, settings.llm_deadline)
    settings = Settings.from_env(env)
    app = await build_app(settings, store=store or MemoryStore(), llm=llm, retriever=KeywordRetriever(FAKE_NOTES))
    app.engine.analyzers = AnalyzerRegistry([review] if review else [])
    return app


BotFactory = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def make_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotFactory]:
    clients: list[TestClient] = []

    async def factory(*, openai: FakeOpenAIServer | None = None, store: Store | None = None,
                      with_review: bool = True, deadline: float = 30, env: dict[str, str] | None = None,
                      **config: Any) -> Bot:
        review = FakeReview()
        app = await make_app(tmp_path, openai=openai, store=store, review=review if with_review else None,
                             deadline=deadline, env=env)
        web_app = create_web_app(app, mounts=[partial(mount, config=slack_config(slack, **config))])
        client = TestClient(TestServer(web_app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return Bot(client, web_app, app, slack, review)

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def bot(make_bot: BotFactory) -> Bot:
    return await make_bot()


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as server:
        yield server
