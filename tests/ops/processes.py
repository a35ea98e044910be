"""Real `consultant` processes for the operations tests: serve (killed with SIGKILL or stopped with SIGTERM), and
fresh PostgreSQL databases for them."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.slack.slack_payloads import SECRET, event_callback, signed_headers

CONSULTANT = shutil.which("consultant") or str(Path(sys.executable).with_name("consultant"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "OPENAI_", "DATABASE_URL", "CONSULTANT_", "MICROSOFT_", "TEAMS_"))}
    return env | {"LOG_FORMAT": "json", **extra}


class Serve:
    """One `consultant serve` process on a free port, its output in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = env | {"PORT": str(self.port)}
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30) -> Serve:
        with open(self.log_path, "ab") as out:
            self.proc = await asyncio.create_subprocess_exec(CONSULTANT, "serve", "--host", "127.0.0.1",
                                                             env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                if self.proc.returncode is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start:\n{self.log()}")
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def records(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    async def send(self, session: aiohttp.ClientSession, event: dict[str, Any], event_id: str,
                   headers: dict[str, str] | None = None) -> int:
        body = json.dumps(event_callback(event, event_id=event_id))
        async with session.post(f"{self.url}/slack/events", data=body,
                                headers=signed_headers(body) | (headers or {})) as response:
            return response.status


def slack_env(slack_api_url: str, openai_base_url: str, data_dir: Path, database_url: str | None,
              **extra: str) -> dict[str, str]:
    env = base_env(**{"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api_url,
                      "OPENAI_API_KEY": "test", "OPENAI_BASE_URL": openai_base_url,
                      "CONSULTANT_DATA_DIR": str(data_dir), "CONSULTANT_TURN_LEASE": "1.5",
                      "CONSULTANT_RESUME_INTERVAL": "0.3", "OPENAI_TIMEOUT": "60", "CONSULTANT_LLM_DEADLINE": "60",
                      **extra})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@asynccontextmanager
async def fresh_postgres(admin_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server for processes that need whole databases; dropped after."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"t_ops_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
