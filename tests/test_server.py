"""The serve app's health endpoints, and settings read from the environment."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from adapters.server import create_web_app
from bot.bootstrap import build_app
import pytest

from bot.config import Settings
from bot.errors import ConfigError
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore


async def test_healthz_and_readyz_follow_the_database(tmp_path):
    store = MemoryStore()
    app = await build_app(Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)}), store=store,
                          retriever=KeywordRetriever(FAKE_NOTES))
    async with TestClient(TestServer(create_web_app(app, mounts=[]))) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json())["status"] == "ready"
        store.down = True
        assert (await client.get("/healthz")).status == 200  # liveness does not depend on the database
        not_ready = await client.get("/readyz")
        assert not_ready.status == 503 and "unreachable" in (await not_ready.json())["database"]


def test_limits_and_budgets_come_from_the_environment(tmp_path):
    settings = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path), "CONSULTANT_MAX_INPUT_CHARS": "5000",
                                  "CONSULTANT_HISTORY_TOKENS": "900", "DATABASE_URL": "postgres://u:p@h/db"})
    assert settings.max_input_chars == 5000 and settings.history_token_budget == 900
    assert settings.database_url == "postgresql+asyncpg://u:p@h/db"
    default = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)})
    assert default.max_input_chars == 40_000
    assert default.database_url == f"sqlite+aiosqlite:///{tmp_path / 'consultant.sqlite3'}"


async def test_the_prompt_and_review_limits_reach_the_engine(tmp_path):
    from bot.bootstrap import build_app
    from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore

    settings = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path), "CONSULTANT_PROMPT_TOKENS": "3000",
                                  "CONSULTANT_MAX_REVIEW_BYTES": "2048"})
    app = await build_app(settings, store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES))
    assert app.engine.settings.prompt_token_budget == 3000 and app.engine.settings.max_review_bytes == 2048
    default = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)})
    assert default.prompt_token_budget == 12_000 and default.max_review_bytes == 512 * 1024
    with pytest.raises(ConfigError):
        Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path), "CONSULTANT_PROMPT_TOKENS": "lots"})
