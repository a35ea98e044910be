"""Token usage reported by the OpenAI port through on_usage, plain and streamed, against the local server."""

from __future__ import annotations

from bot.config import Settings
from bot.llm.openai_llm import OpenAIChat, build_client
from bot.llm.port import ChatMessage
from tests.openai_server import FakeOpenAIServer, Scripted

MESSAGES = [ChatMessage("user", "why is it slow?")]


def make_llm(server: FakeOpenAIServer) -> OpenAIChat:
    settings = Settings.from_env({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url})
    return OpenAIChat(build_client(settings), "m", 10)


async def test_completion_reports_the_total_tokens():
    reported: list[int] = []
    async with FakeOpenAIServer(Scripted(text="Index it.", total_tokens=321)) as server:
        assert await make_llm(server).complete(MESSAGES, on_usage=reported.append) == "Index it."
    assert reported == [321]


async def test_stream_asks_for_usage_and_reports_it_once_after_the_text():
    reported: list[int] = []
    async with FakeOpenAIServer(Scripted(text="one two three", total_tokens=77)) as server:
        pieces = [p async for p in make_llm(server).stream(MESSAGES, on_usage=reported.append)]
    assert "".join(pieces) == "one two three" and reported == [77]
    assert server.requests[0]["stream_options"] == {"include_usage": True}


async def test_an_endpoint_that_rejects_stream_options_still_streams():
    reported: list[int] = []
    async with FakeOpenAIServer(Scripted(text="still works")) as server:
        server.accepts_stream_options = False
        llm = make_llm(server)
        first = [p async for p in llm.stream(MESSAGES, on_usage=reported.append)]
        second = [p async for p in llm.stream(MESSAGES, on_usage=reported.append)]
    assert "".join(first) == "".join(second) == "still works" and reported == []
    assert ["stream_options" in r for r in server.requests] == [True, False, False]  # asked once, then never


async def test_without_a_sink_nothing_breaks():
    async with FakeOpenAIServer() as server:
        assert await make_llm(server).complete(MESSAGES)
