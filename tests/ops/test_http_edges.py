"""The server's edges: /readyz while the schema is behind the code, and slow clients cut off."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from adapters.http_guard import GuardedSite
from adapters.server import create_web_app
from bot.bootstrap import build_app
from bot.config import Settings
from bot.store.migrate import upgrade
from bot.store.sql import SqlStore
from tests.fakes import FAKE_NOTES, KeywordRetriever


async def serve(app, header_timeout: float = 10.0):  # noqa: ANN001, ANN201
    runner = web.AppRunner(create_web_app(app, mounts=[]), shutdown_timeout=0.5)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, header_timeout=header_timeout)
    await site.start()
    return runner, f"http://127.0.0.1:{site.port}", site.port


async def test_readyz_is_503_with_the_reason_until_the_schema_reaches_head(tmp_path):
    settings = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)})
    store = SqlStore.from_url(settings.database_url)  # a fresh file: nothing migrated
    app = await build_app(settings, store=store, retriever=KeywordRetriever(FAKE_NOTES))
    runner, url, _ = await serve(app)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/readyz") as response:
                body = await response.json()
                assert response.status == 503 and "not migrated" in body["schema"]
            await upgrade(store.engine, "0001")
            async with session.get(f"{url}/readyz") as response:
                body = await response.json()
                assert response.status == 503 and "at revision 0001" in body["schema"]
            await upgrade(store.engine)
            async with session.get(f"{url}/readyz") as response:
                assert response.status == 200 and (await response.json()) == {"status": "ready"}
    finally:
        await runner.cleanup()


@pytest.fixture
async def guarded(tmp_path):
    settings = replace(Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path)}), body_timeout=0.5)
    app = await build_app(settings, retriever=KeywordRetriever(FAKE_NOTES), migrate=True)
    runner, url, port = await serve(app, header_timeout=0.5)
    yield url, port
    await runner.cleanup()


async def trickle_headers(port: int, seconds: float) -> float:
    """Send a request's headers a byte at a time; how long until the server closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    try:
        for byte in request:
            writer.write(bytes([byte]))
            await writer.drain()
            if await _closed(reader, 0.05) or time.monotonic() - started > seconds:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()
    return time.monotonic() - started


async def _closed(reader: asyncio.StreamReader, wait: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), wait) == b""
    except TimeoutError:
        return False


async def test_fifty_clients_trickling_their_headers_are_cut_off_while_others_are_served(guarded):
    url, port = guarded
    slow = [asyncio.create_task(trickle_headers(port, seconds=5)) for _ in range(50)]
    await asyncio.sleep(0.2)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/healthz") as response:
            assert response.status == 200
    held = await asyncio.gather(*slow)
    assert max(held) < 2.5, held  # 0.5 s header timeout, plus scheduling on a busy machine


async def test_a_body_that_does_not_arrive_in_time_gets_408(guarded):
    _, port = guarded
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"type\": ")
    await writer.drain()
    started = time.monotonic()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 2.5


def test_operations_settings_come_from_the_environment(tmp_path):
    from bot.errors import ConfigError

    base = {"CONSULTANT_DATA_DIR": str(tmp_path)}
    default = Settings.from_env(base)
    assert default.shutdown_grace == default.llm_deadline + 15 and default.turn_lease == 30
    assert default.resume_interval == 10 and (default.header_timeout, default.body_timeout) == (10, 30)
    assert Settings.from_env(base | {"CONSULTANT_LLM_DEADLINE": "20"}).shutdown_grace == 35
    custom = Settings.from_env(base | {"CONSULTANT_SHUTDOWN_GRACE": "25", "CONSULTANT_TURN_LEASE": "2",
                                       "CONSULTANT_HEADER_TIMEOUT": "3", "CONSULTANT_BODY_TIMEOUT": "4"})
    assert (custom.shutdown_grace, custom.turn_lease, custom.resume_interval) == (25, 2, 2)
    assert (custom.header_timeout, custom.body_timeout) == (3, 4)
    with pytest.raises(ConfigError, match="CONSULTANT_SHUTDOWN_GRACE must be a number"):
        Settings.from_env(base | {"CONSULTANT_SHUTDOWN_GRACE": "soon"})
