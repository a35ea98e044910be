"""A local fake of Slack: the Web API (recording every call, answering like Slack), file downloads, response_url
and the Socket Mode WebSocket. Tests point SLACK_API_URL (SlackConfig.api_url) at `api_url`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.local_server import start

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.args.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else raw

    def text(self) -> str:
        """Everything a person would read in this call: text, block texts, streamed chunks."""
        parts = [str(self.args.get("text") or ""), str(self.args.get("markdown_text") or "")]
        for block in self.blocks():
            if isinstance(block.get("text"), dict):
                parts.append(block["text"]["text"])
            elif isinstance(block.get("text"), str):
                parts.append(block["text"])
            for element in block.get("elements", []):
                parts.append(element.get("text") if isinstance(element.get("text"), str) else "")
        chunks = self.args.get("chunks") or []
        if isinstance(chunks, str):
            chunks = json.loads(chunks)
        parts += [c.get("text", "") for c in chunks]
        return "\n".join(p for p in parts if p)


@dataclass
class Scripted:
    """What the next call of a method gets instead of success: an HTTP status (429) or a Slack error."""

    status: int = 200
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.scripts: dict[str, list[Scripted]] = {}
        self.thread_messages: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.downloads: list[Call] = []
        self.responses: list[Call] = []  # posts to response_url
        self.socket_received: list[dict[str, Any]] = []
        self.socket_connected = asyncio.Event()
        # Messages the bot posted and still shows (updates, streams and deletions applied), by ts. With
        # replies_include_posted, conversations.replies returns them too, as Slack does.
        self.posted: dict[str, dict[str, Any]] = {}
        self.replies_include_posted = False
        self._ws: web.WebSocketResponse | None = None
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- addresses ------------------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base}/response/{name}"

    # ---- scripting ------------------------------------------------------------------------------------------

    def script(self, method: str, *steps: Scripted) -> None:
        self.scripts.setdefault(method, []).extend(steps)

    def add_file(self, file_id: str, name: str, content: bytes, **info: Any) -> dict[str, Any]:
        meta = {"id": file_id, "name": name, "title": name, "filetype": name.rsplit(".", 1)[-1], "size": len(content),
                "mimetype": "text/plain", "url_private": f"{self.base}/files/{file_id}/{name}",
                "url_private_download": f"{self.base}/files/{file_id}/download/{name}", **info}
        self.files[file_id] = (meta, content)
        return meta

    # ---- lookups --------------------------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def replies(self) -> list[Call]:
        """Calls that put an answer in front of people (placeholders included)."""
        return [c for c in self.calls if c.method in ("chat.postMessage", "chat.startStream")]

    def visible_text(self) -> str:
        methods = ("chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream", "chat.stopStream")
        return "\n".join(c.text() for c in self.calls if c.method in methods)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """What the thread shows now from the bot, oldest first."""
        return sorted((m for m in self.posted.values() if m["channel"] == channel and m["thread_ts"] == thread_ts),
                      key=lambda m: m["ts"])

    def _track(self, method: str, args: dict[str, Any], answer: dict[str, Any]) -> None:
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if method in ("chat.postMessage", "chat.startStream") and answer.get("ok"):
            text = Call(method, args, {}).text()
            self.posted[answer["ts"]] = {"ts": answer["ts"], "channel": answer["channel"], "user": BOT_USER_ID,
                                         "bot_id": BOT_ID, "thread_ts": str(args.get("thread_ts") or answer["ts"]),
                                         "text": text, "metadata": metadata}
            return
        message = self.posted.get(str(args.get("ts")))
        if message is None:
            return
        if method == "chat.delete":
            del self.posted[message["ts"]]
        elif method == "chat.update":
            message["text"] = Call(method, args, {}).text()
            message["metadata"] = metadata or message["metadata"]
        elif method in ("chat.appendStream", "chat.stopStream"):
            message["text"] += Call(method, args, {}).text()
            message["metadata"] = metadata or message["metadata"]

    def new_ts(self) -> str:
        return f"1700001{next(self._ts):03d}.000100"

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.01)

    # ---- server ---------------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/files/{file_id}/{rest:.*}", self._download)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/ws", self._socket)
        self._runner, self.port = await start(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, await self._args(request), dict(request.headers))
        self.calls.append(call)
        steps = self.scripts.get(method)
        if steps:
            step = steps.pop(0)
            if step.status != 200:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=step.status,
                                         headers=step.headers)
            return web.json_response({"ok": False, "error": step.error})
        answer = self._answer(method, call.args)
        self._track(method, call.args, answer)
        return web.json_response(answer)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or args.get("channel_id") or "")
        if channel.startswith("U"):
            channel = "D" + channel[1:]  # posting to a user id lands in the app's DM with them
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "consultant",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"}
        if method in ("chat.postMessage", "chat.startStream"):
            return {"ok": True, "channel": channel, "ts": self.new_ts(),
                    "message": {"text": args.get("text", ""), "user": BOT_USER_ID, "bot_id": BOT_ID}}
        if method in ("chat.update", "chat.appendStream", "chat.stopStream", "chat.delete"):
            return {"ok": True, "channel": channel, "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.new_ts()}
        if method == "conversations.replies":
            messages = list(self.thread_messages.get((channel, str(args.get("ts"))), []))
            if self.replies_include_posted:
                messages += self.thread(channel, str(args.get("ts")))
            return {"ok": True, "messages": messages, "has_more": False}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V1", **(json.loads(args["view"]) if isinstance(args.get("view"), str)
                                                       else args.get("view", {}))}}
        if method == "files.info":
            meta, _ = self.files.get(str(args.get("file")), (None, b""))
            return {"ok": True, "file": meta} if meta else {"ok": False, "error": "file_not_found"}
        return {"ok": True}

    async def _download(self, request: web.Request) -> web.Response:
        self.downloads.append(Call("download", {"path": request.path}, dict(request.headers)))
        meta, content = self.files.get(request.match_info["file_id"], (None, b""))
        if meta is None or request.headers.get("Authorization") != "Bearer xoxb-test":
            return web.Response(text="<html>login</html>", content_type="text/html")
        return web.Response(body=content, content_type="text/plain")

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(Call("response_url", await request.json(), dict(request.headers)))
        return web.Response(text="ok")

    # ---- Socket Mode ----------------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"},
                            "connection_info": {"app_id": "A1"}})
        self.socket_connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_received.append(json.loads(message.data))
        return ws

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        assert self._ws is not None, "no Socket Mode connection"
        await self._ws.send_json(envelope)
