"""The OpenAI port against a real local server speaking the chat-completions protocol."""

from __future__ import annotations

import time

import pytest

from bot.config import Settings
from bot.consult.engine import Engine
from bot.llm.openai_llm import OpenAIChat, build_client
from bot.llm.port import ChatMessage, LLMError
from bot.messages import Inbound
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore
from tests.openai_server import FakeOpenAIServer, Scripted

MESSAGES = [ChatMessage("system", "persona"), ChatMessage("user", "why is it slow?")]


def make_llm(server: FakeOpenAIServer, *, timeout: float = 5, deadline: float = 10, model: str = "test-model"):
    settings = Settings.from_env({"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": server.base_url,
                                  "OPENAI_MODEL": model, "OPENAI_TIMEOUT": str(timeout),
                                  "CONSULTANT_LLM_DEADLINE": str(deadline)})
    return OpenAIChat(build_client(settings), settings.openai_model, settings.llm_deadline)


async def test_plain_completion_sends_model_and_messages():
    async with FakeOpenAIServer(Scripted(text="Use an index.")) as server:
        answer = await make_llm(server, model="gpt-test").complete(MESSAGES)
    assert answer == "Use an index."
    request = server.requests[0]
    assert request["model"] == "gpt-test"
    assert request["messages"] == [{"role": "system", "content": "persona"},
                                   {"role": "user", "content": "why is it slow?"}]
    assert server.headers[0]["Authorization"] == "Bearer test-key"


async def test_streaming_yields_pieces_as_they_arrive():
    async with FakeOpenAIServer(Scripted(text="one two three four")) as server:
        pieces = [p async for p in make_llm(server).stream(MESSAGES)]
    assert pieces == ["one", " two", " three", " four"]
    assert server.requests[0]["stream"] is True


async def test_500_is_retried_then_succeeds():
    async with FakeOpenAIServer() as server:
        server.script(Scripted(status=500), Scripted(status=502), Scripted(text="recovered"))
        assert await make_llm(server).complete(MESSAGES) == "recovered"
    assert len(server.requests) == 3


async def test_429_honours_retry_after():
    async with FakeOpenAIServer() as server:
        server.script(Scripted(status=429, headers={"Retry-After": "1"}), Scripted(text="after wait"))
        started = time.monotonic()
        assert await make_llm(server).complete(MESSAGES) == "after wait"
        assert time.monotonic() - started >= 0.95
    assert len(server.requests) == 2


async def test_streaming_retries_before_the_first_token():
    async with FakeOpenAIServer() as server:
        server.script(Scripted(status=503), Scripted(text="streamed fine"))
        pieces = [p async for p in make_llm(server).stream(MESSAGES)]
    assert "".join(pieces) == "streamed fine"


async def test_slow_responses_time_out_per_request_and_are_retried():
    async with FakeOpenAIServer() as server:
        server.script(Scripted(delay=2, text="too late"), Scripted(text="fast"))
        started = time.monotonic()
        assert await make_llm(server, timeout=0.3, deadline=5).complete(MESSAGES) == "fast"
        assert time.monotonic() - started < 2


async def test_client_errors_are_not_retried():
    async with FakeOpenAIServer(Scripted(status=400)) as server:
        with pytest.raises(LLMError, match="400"):
            await make_llm(server).complete(MESSAGES)
    assert len(server.requests) == 1


async def test_a_server_failing_forever_stops_at_the_deadline():
    async with FakeOpenAIServer(Scripted(status=500)) as server:
        started = time.monotonic()
        with pytest.raises(LLMError):
            await make_llm(server, deadline=1.5).complete(MESSAGES)
        elapsed = time.monotonic() - started
    # It retries, and never past the deadline (it may stop early when the next jittered wait would overrun it).
    assert elapsed < 1.5 + 0.5 and len(server.requests) >= 2


async def test_a_retry_after_beyond_the_deadline_gives_up_at_once():
    async with FakeOpenAIServer(Scripted(status=429, headers={"Retry-After": "120"})) as server:
        started = time.monotonic()
        with pytest.raises(LLMError):
            await make_llm(server, deadline=5).complete(MESSAGES)
        assert time.monotonic() - started < 1.5
    assert len(server.requests) == 1


async def test_engine_answers_offline_when_the_server_keeps_failing():
    async with FakeOpenAIServer(Scripted(status=500)) as server:
        engine = Engine(store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES), llm=make_llm(server, deadline=1))
        reply = await engine.handle(Inbound("console", "local", "cli", "t", "u", "orders slow n+1"))
    assert reply.mode == "offline" and len(reply.questions) >= 2 and reply.sources


async def test_engine_streams_through_the_real_client():
    async with FakeOpenAIServer(Scripted(text="Add the index concurrently.")) as server:
        engine = Engine(store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES), llm=make_llm(server))
        pieces: list[str] = []

        async def sink(piece: str) -> None:
            pieces.append(piece)

        reply = await engine.handle(Inbound("console", "local", "cli", "t", "u", "orders slow"), on_token=sink)
    assert reply.mode == "llm" and reply.text == "Add the index concurrently." and len(pieces) == 4
    system = server.requests[0]["messages"][0]
    assert system["role"] == "system" and "N+1 queries" in system["content"]
