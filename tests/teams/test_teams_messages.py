"""Messages posted to /api/messages as Teams sends them; replies checked at a fake connector."""

from __future__ import annotations

import logging
import re

from adapters.teams.config import TeamsConfig
from adapters.teams.handler import BOT_NAME
from bot.knowledge.port import Retriever
from tests.fakes import FakeLLM, MemoryStore
from tests.teams import teams_activities as A


def user_turns(store: MemoryStore) -> list[str]:
    return [t.text for turns in store.turns_by_thread.values() for t in turns if t.role == "user"]


async def test_personal_message_gets_one_reply_in_its_conversation(start_bot, connector):
    llm = FakeLLM("Batch the loads with a join.")
    bot = await start_bot(llm=llm)
    activity = A.personal_message(connector.service_url, "our orders API got slow after we added line items")
    assert await bot.send(activity) == 200
    [reply] = connector.messages()
    assert reply.path == f"/v3/conversations/{A.PERSONAL}/activities/{activity['id']}"
    assert reply.conversation == A.PERSONAL and reply.reply_to == activity["id"]
    assert reply.body["textFormat"] == "markdown"
    assert reply.body["text"].startswith("Batch the loads with a join.")
    # Follow-up questions and sources are rendered as their own Markdown sections.
    assert re.search(r"\*\*To narrow it down:\*\*\n\n1\. ", reply.body["text"])
    assert "**Sources:**\n\n- N+1 queries (`n-plus-one-queries`)" in reply.body["text"]
    assert connector.typing(), "a typing indicator is sent while working"
    assert connector.requests.index(connector.typing()[0]) < connector.requests.index(reply)
    assert llm.requests[-1][-1].content == "our orders API got slow after we added line items"


async def test_channel_mention_is_answered_in_its_thread_without_the_mention(start_bot, connector):
    llm = FakeLLM("Use keyset pagination.")
    store = MemoryStore()
    bot = await start_bot(llm=llm, store=store)
    root = A.channel_message(connector.service_url, "how should we paginate the orders list?")
    assert await bot.send(root) == 200
    thread = f"{A.CHANNEL};messageid={root['id']}"
    reply_in_thread = A.channel_message(connector.service_url, "and with a sort by created_at?", root=root["id"])
    assert await bot.send(reply_in_thread) == 200

    first, second = connector.messages()
    assert first.path == f"/v3/conversations/{thread}/activities/{root['id']}"
    assert second.path == f"/v3/conversations/{thread}/activities/{reply_in_thread['id']}"
    # Neither the engine (stored turns) nor the LLM saw the mention.
    assert user_turns(store) == ["how should we paginate the orders list?", "and with a sort by created_at?"]
    sent = "\n".join(m.content for m in llm.requests[-1] if m.role != "system")
    assert BOT_NAME not in sent and "<at>" not in sent
    # One thread: the second question got the first as context.
    assert [m.content for m in llm.requests[-1] if m.role == "user"][0] == "how should we paginate the orders list?"
    assert list(store.threads) == [("teams", A.TENANT, A.CHANNEL, thread)], "no bookkeeping rows without `new`"


async def test_mention_is_removed_by_its_entity_even_with_regex_characters_in_the_name(start_bot, connector):
    store = MemoryStore()
    bot = await start_bot(store=store)
    name = "C++ Advisor (beta) [*]"
    activity = A.channel_message(connector.service_url, "what is an outbox?", name=name)
    await bot.send(activity)
    assert user_turns(store) == ["what is an outbox?"]
    assert len(connector.messages()) == 1


async def test_group_chat_answers_mentions_only(start_bot, connector):
    store = MemoryStore()
    bot = await start_bot(store=store)
    await bot.send(A.group_message(connector.service_url, "lunch at noon?", mention=False))
    assert connector.messages() == [] and user_turns(store) == []
    mention = A.group_message(connector.service_url, "should we cache the product page in Redis?")
    await bot.send(mention)
    [reply] = connector.messages()
    assert reply.path == f"/v3/conversations/{A.GROUP_CHAT}/activities/{mention['id']}"
    assert user_turns(store) == ["should we cache the product page in Redis?"]


async def test_bot_added_to_a_team_posts_a_welcome(start_bot, connector):
    bot = await start_bot()
    update = A.bot_added_to_team(connector.service_url)
    await bot.send(update)
    [welcome] = connector.messages()
    assert welcome.conversation == A.TEAM
    assert "schema-review" in welcome.body["text"] and f"@{BOT_NAME}" in welcome.body["text"]
    # Someone else joining is no reason to talk.
    await bot.send(A.bot_added_to_team(connector.service_url, bot_id="29:someone-else"))
    assert len(connector.messages()) == 1


async def test_redelivered_activity_gets_one_reply(start_bot, connector):
    llm = FakeLLM()
    bot = await start_bot(llm=llm)
    activity = A.personal_message(connector.service_url, "double charge from two workers")
    assert await bot.send(activity) == 200
    assert await bot.send(activity) == 200  # Teams retries the same activity id
    assert len(connector.messages()) == 1 and len(llm.requests) == 1


async def test_disallowed_tenant_gets_no_reply(start_bot, connector, caplog):
    config = TeamsConfig(dev_unauthenticated=True, allowed_tenants=frozenset({A.TENANT}), typing_interval=0.05)
    store = MemoryStore()
    bot = await start_bot(config, store=store)
    with caplog.at_level(logging.WARNING, logger="adapters.teams"):
        await bot.send(A.personal_message(connector.service_url, "hello from elsewhere", tenant="other-tenant-id"))
        await bot.send(A.bot_added_to_team(connector.service_url, tenant="other-tenant-id"))
    assert connector.requests == [] and store.turns_by_thread == {}
    assert any(getattr(r, "tenant", None) == "other-tenant-id" for r in caplog.records)
    await bot.send(A.personal_message(connector.service_url, "hello from home"))
    assert len(connector.messages()) == 1


async def test_help_lists_the_commands(start_bot, connector):
    bot = await start_bot()
    await bot.send(A.channel_message(connector.service_url, "help"))
    [reply] = connector.messages()
    assert "`schema-review <DDL or migration>`" in reply.body["text"] and "`new`" in reply.body["text"]
    assert f"@{BOT_NAME} schema-review" in reply.body["text"]


async def test_llm_failure_gets_the_offline_answer(start_bot, connector):
    bot = await start_bot(llm=FakeLLM(fail=True))
    await bot.send(A.personal_message(connector.service_url, "orders endpoint slow with line items, n+1?"))
    [reply] = connector.messages()
    assert "language model is unavailable" in reply.body["text"]
    assert "### How to measure" in reply.body["text"]


class BrokenRetriever(Retriever):
    def search(self, query, k=5):
        raise RuntimeError("index corrupted")

    def get(self, note_id):
        return None

    def notes(self):
        return []


async def test_unexpected_error_apologizes_with_the_reference_in_the_log(start_bot, connector, settings, caplog):
    from bot.bootstrap import build_app

    app = await build_app(settings, store=MemoryStore(), llm=FakeLLM(), retriever=BrokenRetriever())
    bot = await start_bot(app=app)
    with caplog.at_level(logging.ERROR, logger="adapters.teams"):
        await bot.send(A.personal_message(connector.service_url, "why is my query slow?"))
    [reply] = connector.messages()
    ref = re.search(r"Reference: `([0-9a-f]{8})`", reply.body["text"]).group(1)
    [record] = [r for r in caplog.records if getattr(r, "ref", None) == ref]
    assert record.exc_info and "index corrupted" in str(record.exc_info[1])


async def test_database_outage_is_explained_with_a_reference(start_bot, connector):
    store = MemoryStore()
    bot = await start_bot(store=store)
    store.down = True
    await bot.send(A.personal_message(connector.service_url, "why is my query slow?"))
    [reply] = connector.messages()
    assert "database is unreachable" in reply.body["text"] and "Reference: `" in reply.body["text"]


async def test_connector_errors_are_retried_with_backoff(start_bot, connector):
    bot = await start_bot()
    connector.fail_messages = [503, 502]
    await bot.send(A.personal_message(connector.service_url, "n+1 on the orders page"))
    attempts = [r for r in connector.requests if r.type == "message"]
    assert [r.status for r in attempts] == [503, 502, 200]
    assert attempts[0].body["text"] == attempts[2].body["text"]
    assert len(connector.messages()) == 1


async def test_connector_rejection_is_not_retried_and_gets_an_apology(start_bot, connector):
    bot = await start_bot()
    connector.fail_messages = [400]
    await bot.send(A.personal_message(connector.service_url, "n+1 on the orders page"))
    attempts = [r for r in connector.requests if r.type == "message"]
    assert [r.status for r in attempts] == [400, 200]
    assert "Reference: `" in attempts[1].body["text"]


async def test_an_invoke_is_answered_inline_and_unknown_ones_are_declined(start_bot, connector):
    bot = await start_bot()
    invoke = A.personal_message(connector.service_url, "")
    invoke.update({"type": "invoke", "name": "adaptiveCard/action", "value": {"action": {"type": "Action.Execute"}}})
    response = await bot.post(invoke)
    assert response.status == 501
    await bot.endpoint.drain()
    assert connector.messages() == []
