"""A local aiohttp server that speaks the OpenAI chat-completions protocol, plain and streamed.

Tests drive it through the real `openai` client and inspect `requests`. Behaviour per call comes from a
queue of scripted responses; when the queue is empty, `default` is used.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_server import start


@dataclass
class Scripted:
    status: int = 200
    text: str = "Answer from the fake model."
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between streamed chunks
    total_tokens: int = 2  # reported as usage (for streams only when the request asks with include_usage)


def _usage(total: int) -> dict[str, int]:
    prompt = total // 2
    return {"prompt_tokens": prompt, "completion_tokens": total - prompt, "total_tokens": total}


class FakeOpenAIServer:
    def __init__(self, default: Scripted | None = None) -> None:
        self.default = default or Scripted()
        self.queue: list[Scripted] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Like Azure OpenAI's older API versions and some gateways: a 400 naming the unknown argument.
        self.accepts_stream_options = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *responses: Scripted) -> None:
        self.queue.extend(responses)

    async def __aenter__(self) -> FakeOpenAIServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner, self.port = await start(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if "stream_options" in body and not self.accepts_stream_options:
            return web.json_response({"error": {"message": "Unrecognized request argument supplied: stream_options",
                                                "type": "invalid_request_error", "code": None}}, status=400)
        step = self.queue.pop(0) if self.queue else self.default
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.status != 200:
            return web.json_response(
                {"error": {"message": f"scripted {step.status}", "type": "server_error", "code": None}},
                status=step.status, headers=step.headers)
        created = int(time.time())
        if not body.get("stream"):
            return web.json_response({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": step.text}}],
                "usage": _usage(step.total_tokens),
            }, headers=step.headers)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **step.headers})
        await response.prepare(request)
        words = step.text.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                     "model": body["model"], "choices": [{"index": 0, "delta": {"content": piece},
                                                          "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if step.chunk_delay:
                await asyncio.sleep(step.chunk_delay)
        final = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": body["model"],
                 "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await response.write(f"data: {json.dumps(final)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                     "model": body["model"], "choices": [], "usage": _usage(step.total_tokens)}
            await response.write(f"data: {json.dumps(usage)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def all_text(self, index: int = -1) -> str:
        """Every message content of one recorded request, joined, for assertions."""
        return "\n".join(m["content"] for m in self.requests[index]["messages"])
