"""LLM mode, through the real openai client and the local chat-completions server: the case, the unknowns and the
filtered questions reach the request; drafted questions are filtered; the question block never streams; and no
request exceeds the prompt budget."""

from __future__ import annotations

import pytest

from bot.analyzers import Analysis, Analyzer, AnalyzerRegistry
from bot.config import PACKAGED_KNOWLEDGE_DIR, Settings
from bot.consult.engine import Engine, EngineSettings
from bot.consult.history import TokenCounter
from bot.consult.questions import asked_fields
from bot.knowledge.port import Question
from bot.knowledge.index import FTS5Retriever
from bot.llm.openai_llm import OpenAIChat, build_client
from bot.messages import Inbound
from tests.fakes import MemoryStore
from tests.openai_server import FakeOpenAIServer, Scripted

ANSWER = ("### What I understood\nYour 12 pods run 4 workers each.\n\nUse a smaller pool.\n\nQUESTIONS:\n"
          "- How many pods do you run?\n- What is max_connections on the server?\n- Do you use PgBouncer?\n")


@pytest.fixture(scope="module")
def retriever():
    return FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None)


def engine_for(server: FakeOpenAIServer, retriever, **settings) -> Engine:
    config = Settings.from_env({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url, "OPENAI_MODEL": "m"})
    llm = OpenAIChat(build_client(config), "m", 10)
    return Engine(store=MemoryStore(), retriever=retriever, llm=llm, settings=EngineSettings(**settings))


def inbound(text: str, thread: str = "t") -> Inbound:
    return Inbound("slack", "T1", "C1", thread, "U1", text)


MESSAGE = ("FastAPI on Kubernetes, 12 pods with 4 uvicorn workers each, SQLAlchemy pool size 10; requests wait for "
           "a connection (QueuePool limit reached)")


async def test_the_case_unknowns_and_filtered_questions_reach_the_request(retriever):
    async with FakeOpenAIServer(Scripted(text=ANSWER)) as server:
        engine = engine_for(server, retriever)
        reply = await engine.handle(inbound(MESSAGE))
        system = server.requests[-1]["messages"][0]["content"]
    assert "## The case" in system and "12 pods" in system and "pool size 10" in system
    assert "Still unknown:" in system and "max_connections" in system.split("Still unknown:")[1]
    candidates = [line[2:] for line in system.split("## Candidate questions")[1].splitlines() if line.startswith("- ")]
    assert len(candidates) >= 2
    for question in candidates:
        assert not asked_fields(Question(question)) & {"pods", "workers", "pool_size", "framework", "orm"}
    assert "Lead with [connection-pooling]" in system and "480" in system
    assert reply.mode == "llm" and "QUESTIONS:" not in reply.text
    assert "How many pods do you run?" not in reply.questions, "a drafted re-ask is filtered out"
    assert reply.questions[0] == "What is max_connections on the server?" and 2 <= len(reply.questions) <= 4


async def test_the_question_block_never_streams(retriever):
    async with FakeOpenAIServer(Scripted(text=ANSWER)) as server:
        engine = engine_for(server, retriever)
        pieces: list[str] = []

        async def sink(piece: str) -> None:
            pieces.append(piece)

        reply = await engine.handle(inbound(MESSAGE), on_token=sink)
    assert "".join(pieces) == reply.text and "QUESTIONS" not in reply.text and "Use a smaller pool." in reply.text
    assert len(pieces) > 3, "the answer streams in pieces"


class HugeReview(Analyzer):
    name = "schema-review"

    def detect(self, text: str) -> bool:
        return text.startswith("CREATE")

    def analyze(self, text, options=None) -> Analysis:
        findings = [{"rule": f"rule-{i % 7}", "severity": "warning", "table": f"t{i}", "column": None, "object": None,
                     "line": i, "message": f"finding {i} " + "detail " * 30, "why": "w", "fix": "x" * 200,
                     "note": "primary-keys"} for i in range(3000)]
        report = "\n".join(f"- {f['message']} fix: {f['fix']}" for f in findings)
        return Analysis("schema-review", "3000 findings", report, findings, ["primary-keys"], "design", evidence="ddl")


async def test_no_request_exceeds_the_prompt_budget(retriever):
    counter = TokenCounter()
    async with FakeOpenAIServer(Scripted(text="ok")) as server:
        engine = engine_for(server, retriever, prompt_token_budget=4000, max_input_chars=200_000)
        engine.analyzers = AnalyzerRegistry([HugeReview()])
        engine.tokens = counter
        await engine.handle(inbound("CREATE TABLE t (id int);\n" + "-- padding\n" * 2000, "big"))
        for i in range(3):
            await engine.handle(inbound("and why does that matter for us? " * 40, "big"))
        for request in server.requests:
            assert sum(counter.count(m["content"]) + 4 for m in request["messages"]) <= 4000
    first = server.requests[0]["messages"][0]["content"]
    assert "The first " in first and ", by rule: " in first, "findings become the top ones plus counts"


@pytest.mark.parametrize("marker", ["QUESTIONS:", "Questions:", "### Questions", "**Questions:**"])
async def test_the_question_block_is_found_however_the_model_spells_its_heading(retriever, marker):
    answer = ANSWER.replace("QUESTIONS:", marker)
    async with FakeOpenAIServer(Scripted(text=answer)) as server:
        engine = engine_for(server, retriever)
        pieces: list[str] = []

        async def sink(piece: str) -> None:
            pieces.append(piece)

        reply = await engine.handle(inbound(MESSAGE), on_token=sink)
    assert "".join(pieces) == reply.text and "questions" not in reply.text.lower()
    assert reply.questions[0] == "What is max_connections on the server?"
