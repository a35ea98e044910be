"""Mentions, DMs, follow-ups and what the bot ignores, over signed HTTP against the fake Slack."""

from __future__ import annotations

import json

from tests.openai_server import Scripted as LLMStep
from tests.slack.slack_payloads import app_mention, message, message_changed, message_deleted
from tests.slack.slack_server import BOT_ID, BOT_USER_ID, Scripted


async def test_mention_gets_one_reply_in_its_thread(bot):
    event = app_mention("<@UBOT> our orders API got slow after we added line items", channel="C42")
    response = await bot.event(event)
    assert response.status == 200
    await bot.settle()
    posts = bot.slack.of("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].args["channel"] == "C42" and posts[0].args["thread_ts"] == event["ts"]
    update = bot.slack.of("chat.update")[-1]
    assert update.args["channel"] == "C42" and update.args["ts"] == "1700001001.000100"
    text = update.text()
    assert "N+1" in text  # the offline answer from the knowledge base
    assert "To narrow it down" in text  # the questions as a list
    blocks = update.blocks()
    assert any(b["type"] == "context" and "Sources" in b["elements"][0]["text"] for b in blocks)
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["feedback_up", "feedback_down"]
    assert buttons[0]["value"]  # the stored answer id
    # The neutral message reached the engine with the Slack thread key.
    assert ("slack", "T1", "C42", event["ts"]) in bot.app.store.threads


async def test_mention_inside_a_thread_replies_there_with_the_earlier_messages_as_context(make_bot, openai):
    bot = await make_bot(openai=openai)
    parent = "1699990000.000100"
    bot.slack.thread_messages[("C1", parent)] = [
        {"type": "message", "user": "U7", "text": "Checkout p99 went from 80ms to 2s after the deploy", "ts": parent},
        {"type": "message", "user": "U8", "text": "It's the orders query, it runs one SELECT per line item",
         "ts": "1699990001.000100"},
        {"type": "message", "user": "U1", "text": "<@UBOT> what should we do?", "ts": "1699990002.000100"},
    ]
    openai.script(LLMStep(text="Batch the line-item loads with one query. " * 3))
    event = app_mention("<@UBOT> what should we do?", ts="1699990002.000100", thread_ts=parent)
    await bot.event(event)
    await bot.settle()
    replies = bot.slack.of("conversations.replies")
    assert replies and replies[0].args["ts"] == parent
    sent = openai.all_text()
    assert "Checkout p99 went from 80ms to 2s" in sent and "one SELECT per line item" in sent
    start = bot.slack.of("chat.startStream")
    assert len(start) == 1
    assert start[0].args["channel"] == "C1" and start[0].args["thread_ts"] == parent
    assert start[0].args["recipient_user_id"] == "U1" and start[0].args["recipient_team_id"] == "T1"
    assert bot.slack.of("chat.appendStream")
    stop = bot.slack.of("chat.stopStream")
    assert len(stop) == 1 and any(b["type"] == "actions" for b in stop[0].blocks())
    streamed = "".join(c.text() for c in bot.slack.calls if c.method.startswith("chat.") and "Stream" in c.method)
    assert "Batch the line-item loads" in streamed
    # The placeholder shown while waiting was removed once the stream started.
    assert len(bot.slack.of("chat.delete")) == 1


async def test_dm_is_a_consultation_and_its_thread_continues(make_bot, openai):
    bot = await make_bot(openai=openai)
    openai.script(LLMStep(text="Use a unique constraint and an idempotency key."), LLMStep(text="Yes, SERIALIZABLE."))
    first = message("we charge customers twice when two workers pick the same job")
    await bot.event(first)
    await bot.settle()
    status = bot.slack.of("assistant.threads.setStatus")
    assert status and status[0].args["channel_id"] == "D1" and status[0].args["thread_ts"] == first["ts"]
    assert bot.slack.of("chat.startStream")[0].args["thread_ts"] == first["ts"]
    follow = message("would serializable isolation also work?", thread_ts=first["ts"])
    await bot.event(follow)
    await bot.settle()
    assert bot.slack.of("chat.startStream")[1].args["thread_ts"] == first["ts"]
    assert "we charge customers twice" in openai.all_text()  # the thread's history reached the LLM
    assert bot.slack.of("conversations.replies") == []  # the bot already knew this thread


async def test_dm_falls_back_to_a_placeholder_where_set_status_is_not_allowed(bot):
    bot.slack.script("assistant.threads.setStatus", Scripted(error="missing_scope"))
    await bot.event(message("how should I version a public REST API?"))
    await bot.settle()
    await bot.event(message("and for GraphQL?"))
    await bot.settle()
    assert len(bot.slack.of("assistant.threads.setStatus")) == 1  # learned once, not retried every turn
    assert len(bot.slack.of("chat.postMessage")) == 2 and len(bot.slack.of("chat.update")) == 2


async def test_streaming_unavailable_falls_back_to_chat_update(make_bot, openai):
    bot = await make_bot(openai=openai)
    bot.slack.script("chat.startStream", Scripted(error="unknown_method"))
    openai.script(LLMStep(text="Add an index on orders.customer_id. " * 5))
    await bot.event(app_mention("<@UBOT> the orders query is slow"))
    await bot.settle()
    assert len(bot.slack.of("chat.postMessage")) == 1  # the placeholder
    updates = bot.slack.of("chat.update")
    assert len(updates) >= 2  # progress edits, then the final answer
    assert "Add an index on orders.customer_id." in updates[-1].text()
    assert any(b["type"] == "actions" for b in updates[-1].blocks())


async def test_llm_failure_gives_the_offline_answer_in_one_post(make_bot, openai):
    bot = await make_bot(openai=openai, deadline=0.5)
    openai.script(*[LLMStep(status=500)] * 20)
    await bot.event(app_mention("<@UBOT> our orders API got slow after we added line items"))
    await bot.settle()
    assert bot.slack.of("chat.startStream") == []
    final = bot.slack.of("chat.update")[-1]
    assert "N+1" in final.text()
    assert "offline" in final.text()


async def test_unexpected_error_gives_an_apology_with_a_logged_reference(bot, caplog):
    bot.app.store.down = True  # the engine's store calls fail
    await bot.event(app_mention("<@UBOT> hello?"))
    await bot.settle()
    apology = bot.slack.of("chat.update")[-1].text()
    assert "Sorry, something went wrong" in apology
    ref = apology.split("reference `")[1].split("`")[0] if "reference `" in apology else apology.split("`")[1]
    logged = [r for r in caplog.records if getattr(r, "ref", None) == ref]
    assert logged and logged[0].exc_info


async def test_own_messages_other_bots_and_subtypes_are_ignored(bot):
    ignored = [
        message("my own answer", user=BOT_USER_ID, bot_id=BOT_ID),  # the bot itself
        message("deploy finished", user=None, subtype="bot_message", bot_id="B999", username="ci"),  # another bot
        message("hi from a bot user", user="U555", bot_id="B555"),  # another app's bot user
        message_changed(),
        message_deleted(),
        message("joined", subtype="channel_join", channel="C1", channel_type="channel"),
        message("<@U1> thoughts?", channel="C1", channel_type="channel"),  # top-level channel chatter
        app_mention("<@UBOT> from another bot", user="U555") | {"bot_id": "B555"},
    ]
    for event in ignored:
        response = await bot.event(event)
        assert response.status == 200
    await bot.settle()
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


async def test_follow_up_policy_in_channel_threads(bot):
    mention = app_mention("<@UBOT> our orders API got slow after we added line items", channel="C1")
    await bot.event(mention)
    await bot.settle()
    answered = len(bot.slack.of("chat.postMessage"))
    thread = mention["ts"]

    # A follow-up without a mention in a thread the bot answered: answered, in that thread.
    await bot.event(message("we use Django, by the way", channel="C1", channel_type="channel", thread_ts=thread))
    await bot.settle()
    assert len(bot.slack.of("chat.postMessage")) == answered + 1
    assert bot.slack.of("chat.postMessage")[-1].args["thread_ts"] == thread

    # Addressed to another person: not answered, but kept as context.
    await bot.event(message("<@U2> can you paste the EXPLAIN output?", channel="C1", channel_type="channel",
                            thread_ts=thread))
    # A thread the bot never answered in: not answered.
    await bot.event(message("lunch?", channel="C1", channel_type="channel", thread_ts="1699000000.000001"))
    # A message that also mentions the bot is answered once, through app_mention (not twice).
    both = message("<@UBOT> and the index?", channel="C1", channel_type="channel", thread_ts=thread)
    await bot.event(both)
    await bot.settle()
    assert len(bot.slack.of("chat.postMessage")) == answered + 1
    thread_id = bot.app.store.threads[("slack", "T1", "C1", thread)]
    contexts = [t.text for t in bot.app.store.turns_by_thread[thread_id] if t.role == "context"]
    assert any("can you paste the EXPLAIN output?" in c for c in contexts)


async def test_help_and_an_empty_mention_get_the_help_text(bot):
    await bot.event(app_mention("<@UBOT>"))
    await bot.settle()
    assert "/schema-review" in bot.slack.of("chat.update")[-1].text()


async def test_long_answers_are_split_within_slack_limits(make_bot, openai):
    bot = await make_bot(openai=openai, stream_chunk_chars=4000, stream_interval=60)
    code = "```sql\n" + "\n".join(f"SELECT {i} AS n, 'padding padding padding padding' AS filler;" for i in range(60)) \
        + "\n```"
    paragraph = "This paragraph explains the tradeoff in some detail, with **bold** words and a [link](https://x.io). "
    long_text = "\n\n".join([paragraph * 8, code] * 9)
    assert len(long_text) > 40_000
    openai.script(LLMStep(text=long_text))
    await bot.event(app_mention("<@UBOT> explain everything"))
    await bot.settle()
    messages = [c for c in bot.slack.calls if c.method in ("chat.update", "chat.postMessage")]
    final = [m for m in messages if m.blocks() and m.blocks()[0]["type"] == "section" and "…" not in m.text()[-3:]]
    assert len(final) >= 3
    for call in messages:
        blocks = call.blocks()
        assert len(blocks) <= 50
        for block in blocks:
            if block["type"] == "section":
                text = block["text"]["text"]
                assert len(text) <= 3000
                assert text.count("```") % 2 == 0, "a code block was cut in half"
    joined = "\n".join(c.text() for c in final)
    assert joined.count("SELECT 59 AS n") == 9  # nothing lost
    assert json.dumps(final[-1].blocks()).count("feedback_up") == 1


async def test_thread_follow_up_and_feedback_with_the_sql_store(make_bot, sql_store):
    from tests.slack.slack_payloads import block_actions

    bot = await make_bot(store=sql_store)
    mention = app_mention("<@UBOT> our orders API got slow after we added line items")
    await bot.event(mention)
    await bot.settle()
    await bot.event(message("we use Django", channel="C1", channel_type="channel", thread_ts=mention["ts"]))
    await bot.settle()
    await bot.event(message("<@U2> ping", channel="C1", channel_type="channel", thread_ts=mention["ts"]))
    await bot.settle()
    assert len(bot.slack.of("chat.postMessage")) == 2
    final = bot.slack.of("chat.update")[-1]
    button = next(b for b in final.blocks() if b["type"] == "actions")["elements"][0]
    await bot.interact(block_actions("feedback_up", button["value"], message_ts=final.args["ts"]))
    await bot.settle()
    await bot.interact(block_actions("feedback_up", "no-such-answer", message_ts=final.args["ts"]))
    await bot.settle()
    texts = [c.args["text"] for c in bot.slack.of("chat.postEphemeral")]
    assert texts[0].startswith("Thanks") and "could not record" in texts[1]
    thread_id = await sql_store.thread_id(("slack", "T1", "C1", mention["ts"]))
    turns = await sql_store.turns(thread_id)
    assert [t.role for t in turns].count("assistant") == 2
    assert any(t.role == "context" and "ping" in t.text for t in turns)
