"""A local fake of the Bot Framework connector (the `serviceUrl` side): records what the bot sends.

It answers `POST /v3/conversations/{id}/activities/{replyToId}` (reply) and `POST /v3/conversations/{id}/activities`
(send) like the real service, with `{"id": "..."}`; `fail_next` and `fail_messages` script error statuses.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_server import start


@dataclass
class Recorded:
    method: str
    path: str
    conversation: str
    reply_to: str | None
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0

    @property
    def type(self) -> str:
        return self.body.get("type", "")

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.body.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]


class FakeConnector:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[Recorded] = []
        self.fail_next: list[int] = []  # statuses for the next requests, whatever they carry
        self.fail_messages: list[int] = []  # statuses for the next message activities (not typing)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def messages(self, conversation: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.type == "message" and r.status == 200
                and (conversation is None or r.conversation == conversation)]

    def typing(self) -> list[Recorded]:
        return [r for r in self.requests if r.type == "typing"]

    async def __aenter__(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner, self.port = await start(app, self.host)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _activity(self, request: web.Request) -> web.Response:
        record = Recorded(request.method, request.path, request.match_info["conversation"],
                          request.match_info.get("reply_to"), await request.json(), dict(request.headers))
        self.requests.append(record)
        scripted = self.fail_next or (self.fail_messages if record.type == "message" else [])
        if scripted:
            record.status = scripted.pop(0)
            return web.json_response({"error": {"code": "ServiceError", "message": "scripted failure"}},
                                     status=record.status)
        record.status = 200
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path, "", None, {"raw": body.decode(errors="replace")}))
        return web.json_response({"error": {"code": "NotFound", "message": "not faked"}}, status=404)

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Wait until `count` messages have been delivered (for work that finishes after the HTTP 200)."""
        async def poll() -> None:
            while len(self.messages()) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)
