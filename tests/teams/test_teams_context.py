"""Conversation context through the real OpenAI client (local fake server) and the SQL store: threads stay
apart, `new` starts over, a schema review becomes a card and the context of the follow-ups, feedback is stored."""

from __future__ import annotations

import importlib.util

import pytest

from bot.analyzers import Analysis, Analyzer, AnalyzerRegistry
from bot.bootstrap import build_app
from bot.config import Settings
from bot.help import REVIEW_UNAVAILABLE
from tests.fakes import FAKE_NOTES, KeywordRetriever
from tests.openai_server import FakeOpenAIServer
from tests.teams import teams_activities as A


@pytest.fixture
async def openai_server():
    async with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
async def llm_app(tmp_path, openai_server, sql_store):
    settings = Settings.from_env({"CONSULTANT_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "test",
                                  "OPENAI_BASE_URL": openai_server.base_url, "CONSULTANT_LLM_DEADLINE": "5"})
    return await build_app(settings, store=sql_store, retriever=KeywordRetriever(FAKE_NOTES))


def user_contents(server: FakeOpenAIServer, index: int = -1) -> list[str]:
    return [m["content"] for m in server.requests[index]["messages"] if m["role"] == "user"]


async def test_thread_context_reaches_the_llm_and_threads_stay_separate(start_bot, connector, llm_app, openai_server):
    bot = await start_bot(app=llm_app)
    url = connector.service_url
    root_a = A.channel_message(url, "our orders list endpoint is slow with line items")
    root_b = A.channel_message(url, "two workers double charge the same card")
    await bot.send(root_a)
    await bot.send(root_b)
    await bot.send(A.channel_message(url, "would prefetching help here?", root=root_a["id"]))
    assert user_contents(openai_server) == ["our orders list endpoint is slow with line items",
                                            "would prefetching help here?"]
    assert "double charge" not in openai_server.all_text()
    await bot.send(A.channel_message(url, "should we lock the row?", root=root_b["id"]))
    assert user_contents(openai_server) == ["two workers double charge the same card", "should we lock the row?"]
    # A personal chat is a third, separate context.
    await bot.send(A.personal_message(url, "what is an idempotency key?"))
    assert user_contents(openai_server) == ["what is an idempotency key?"]
    assert len(connector.messages()) == 5


async def test_new_starts_a_fresh_consultation_that_survives_a_restart(start_bot, connector, llm_app, openai_server):
    bot = await start_bot(app=llm_app)
    url = connector.service_url
    await bot.send(A.personal_message(url, "orders endpoint slow, we use Django"))
    await bot.send(A.personal_message(url, "what about select_related?"))
    assert user_contents(openai_server) == ["orders endpoint slow, we use Django", "what about select_related?"]
    calls = len(openai_server.requests)
    await bot.send(A.personal_message(url, "new"))
    assert len(openai_server.requests) == calls, "`new` needs no LLM call"
    assert "fresh consultation" in connector.messages()[-1].body["text"]
    await bot.send(A.personal_message(url, "how do I version a REST API?"))
    assert user_contents(openai_server) == ["how do I version a REST API?"]
    assert "Django" not in openai_server.all_text()

    # Another server process on the same database continues the new consultation, not the old one.
    again = await start_bot(app=await build_app(llm_app.settings, store=llm_app.store,
                                                retriever=KeywordRetriever(FAKE_NOTES)))
    await again.send(A.personal_message(url, "and for GraphQL?"))
    assert user_contents(openai_server) == ["how do I version a REST API?", "and for GraphQL?"]
    # A question that starts with "new" is a question, not the command.
    await again.send(A.personal_message(url, "new index on orders made writes slow"))
    assert user_contents(openai_server)[0] == "how do I version a REST API?"


FINDINGS = [
    {"rule": "fk-without-index", "severity": "warning", "table": "orders", "column": "customer_id", "object": None,
     "line": 3, "message": "Foreign key orders.customer_id has no index",
     "why": "Deletes on customers scan orders, and joins on customer_id cannot use an index.",
     "fix": "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);", "note": "database-constraints"},
    {"rule": "money-as-float", "severity": "error", "table": "orders", "column": "total", "object": None,
     "line": 4, "message": "orders.total stores money as double precision",
     "why": "Binary floating point cannot represent most decimal amounts exactly.",
     "fix": "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);", "note": None},
]
DDL = """CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint REFERENCES customers (id),
  total double precision
);"""


# Like the real review's summary: a headline, then the top findings with their fix SQL.
SUMMARY = ("**Schema review** (postgres, 1 statement): 1 error, 1 warning.\n\n"
           "1. **error** `money-as-float` on `orders.total` (line 4)\n\n```sql\nALTER TABLE orders ...;\n```")


def text_blocks(node) -> list[dict]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "TextBlock" else []
        return own + [b for v in node.values() for b in text_blocks(v)]
    if isinstance(node, list):
        return [b for v in node for b in text_blocks(v)]
    return []


class FakeReview(Analyzer):
    name = "schema-review"

    def detect(self, text: str) -> bool:
        return False

    def analyze(self, text, options=None) -> Analysis:
        self.seen = text
        return Analysis(analyzer=self.name, summary=SUMMARY,
                        report="Schema review of orders: money-as-float (error), fk-without-index (warning).",
                        findings=[dict(f) for f in FINDINGS], notes=[], problem_type="design")


async def test_schema_review_in_a_channel_returns_the_card_and_follow_ups_see_it(
        start_bot, connector, llm_app, openai_server):
    review = FakeReview()
    llm_app.engine.analyzers = AnalyzerRegistry([review])
    bot = await start_bot(app=llm_app)
    post = A.channel_message(connector.service_url, f"schema-review {DDL}")
    await bot.send(post)
    assert review.seen == DDL, "the mention and the command word are gone, the DDL's lines are intact"

    card_message, answer = connector.messages()
    [card] = card_message.cards
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5" and card["body"] and card["actions"]
    assert card["body"][0]["text"] == "**Schema review** (postgres, 1 statement): 1 error, 1 warning."
    assert not any("```" in b["text"] for b in text_blocks(card)), "no Markdown code fences in card text"
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert facts == [{"title": "Error", "value": "1"}, {"title": "Warning", "value": "1"}]
    findings = [b for b in card["body"] if b["type"] == "Container"]
    assert "money as double precision" in str(findings[0]), "the most severe finding comes first"
    fixes = [i["items"][0] for f in findings for i in f["items"] if i["type"] == "Container"]
    assert [f["fontType"] for f in fixes] == ["Monospace", "Monospace"]
    assert fixes[1]["text"] == FINDINGS[0]["fix"]
    assert {a["type"] for a in card["actions"]} == {"Action.Submit"}
    assert "fk-without-index" in card["fallbackText"] and "```" not in card["fallbackText"]
    assert card_message.body["summary"] == "Schema review (postgres, 1 statement): 1 error, 1 warning."
    assert answer.body["text"].startswith("Answer from the fake model.")
    assert answer.cards == [], "the feedback buttons are on the review card"
    thread = f"{A.CHANNEL};messageid={post['id']}"
    assert card_message.path == answer.path == f"/v3/conversations/{thread}/activities/{post['id']}"

    await bot.send(A.channel_message(connector.service_url, "why is the index needed?", root=post["id"]))
    assert "fk-without-index" in openai_server.all_text(), "the follow-up has the review as context"
    assert user_contents(openai_server)[-1] == "why is the index needed?"


async def test_schema_review_without_the_capability_says_so(start_bot, connector, llm_app):
    llm_app.engine.analyzers = AnalyzerRegistry()
    bot = await start_bot(app=llm_app)
    await bot.send(A.personal_message(connector.service_url, f"schema-review {DDL}"))
    [reply] = connector.messages()
    assert reply.body["text"] == REVIEW_UNAVAILABLE and reply.cards == []


@pytest.mark.skipif(importlib.util.find_spec("bot.review.analyzer") is None, reason="schema review not landed yet")
async def test_schema_review_with_the_real_analyzer(start_bot, connector, llm_app):
    bot = await start_bot(app=llm_app)
    await bot.send(A.personal_message(connector.service_url, f"schema-review {DDL}"))
    card = connector.messages()[0].cards[0]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"].startswith("**Schema review**")
    assert next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert not any("```" in b["text"] for b in text_blocks(card))
    monospace = [b["text"] for b in text_blocks(card) if b.get("fontType") == "Monospace"]
    assert any("numeric" in fix for fix in monospace), "the float-money fix is shown as SQL"


async def test_feedback_submit_is_stored_with_the_answer_id(start_bot, connector, llm_app, sql_store):
    from sqlalchemy import select

    from bot.store import tables as t

    bot = await start_bot(app=llm_app)
    await bot.send(A.personal_message(connector.service_url, "orders endpoint slow with line items"))
    [answer] = connector.messages()
    [card] = answer.cards
    assert card["type"] == "AdaptiveCard" and [a["title"] for a in card["actions"]] == ["👍 Helpful", "👎 Not helpful"]
    down = card["actions"][1]["data"]
    submit = A.card_submit(connector.service_url, down, reply_to="activity-1")
    await bot.send(submit)
    await bot.send(submit)  # a redelivered submit is not counted twice
    async with sql_store.engine.connect() as conn:
        rows = (await conn.execute(select(t.feedback))).mappings().all()
    assert [(r["answer_id"], r["user"], r["value"], r["platform"]) for r in rows] == [
        (down["answer_id"], A.USER["aadObjectId"], "down", "teams")]
    assert connector.messages()[-1].body["text"].startswith("Thanks")
    assert len(connector.messages()) == 2
