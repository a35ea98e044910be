"""/schema-review (command, modal, view_submission), .sql files, and the feedback buttons."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.openai_server import Scripted as LLMStep
from tests.slack.slack_payloads import app_mention, block_actions, message, view_submission
from tests.slack.slack_server import Scripted

DDL = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id));"


async def test_command_is_acked_within_3_seconds_even_when_the_llm_takes_10(make_bot, openai):
    bot = await make_bot(openai=openai)
    openai.script(LLMStep(delay=10, text="slow"))
    started = time.monotonic()
    response = await bot.command(DDL)
    elapsed = time.monotonic() - started
    assert response.status == 200
    assert elapsed < 3.0
    # The review is under way (top message posted, the LLM asked); shutdown cancels it without waiting 10 s.
    await bot.slack.wait_for(lambda: openai.requests)
    assert bot.slack.of("chat.postMessage")[0].args["channel"] == "C1"


async def test_command_with_ddl_posts_summary_in_channel_and_report_in_thread(bot):
    response = await bot.command(DDL)
    assert response.status == 200
    assert (await response.text()) == ""  # a plain ack: nothing ephemeral
    await bot.settle()
    top = bot.slack.of("chat.postMessage")[0]
    assert top.args["channel"] == "C1" and "thread_ts" not in top.args
    assert "<@U1> asked for a schema review" in top.text()
    summary = bot.slack.of("chat.update")[0]
    thread = summary.args["ts"]
    text = summary.text()
    assert "1 error, 1 warning" in text  # the engine's headline, with the counts
    assert "ALTER TABLE audit_log ADD COLUMN id bigint" in text  # the top finding's fix SQL
    assert text.index("missing-primary-key") < text.index("fk-without-index")  # most severe first
    report = [c for c in bot.slack.of("chat.postMessage")[1:]]
    assert report and all(c.args["thread_ts"] == thread for c in report)
    assert "CREATE INDEX CONCURRENTLY orders_customer_id_idx" in "\n".join(c.text() for c in report)
    assert bot.review.calls and bot.review.calls[0][0].startswith("CREATE TABLE orders")

    # The thread continues as a consultation, without a mention, with the review as context.
    await bot.event(message("why is that bad?", channel="C1", channel_type="channel", thread_ts=thread))
    await bot.settle()
    last = bot.slack.of("chat.postMessage")[-1]
    assert last.args["thread_ts"] == thread and last.args["channel"] == "C1"
    thread_id = bot.app.store.threads[("slack", "T1", "C1", thread)]
    roles = [t.role for t in bot.app.store.turns_by_thread[thread_id]]
    assert roles.count("assistant") == 2 and "context" in roles


async def test_review_thread_follow_up_reaches_the_llm_with_the_review(make_bot, openai):
    bot = await make_bot(openai=openai)
    openai.script(LLMStep(text="Here is the review narrative."),
                  LLMStep(text="Build it with CREATE INDEX CONCURRENTLY."))
    await bot.command(DDL)
    await bot.settle()
    thread = bot.slack.of("chat.update")[0].args["ts"]
    await bot.event(message("how do I add that index without downtime?", channel="C1", channel_type="channel",
                            thread_ts=thread))
    await bot.settle()
    sent = openai.all_text()
    assert "missing-primary-key" in sent and "how do I add that index without downtime?" in sent


async def test_command_without_text_opens_the_modal(bot):
    response = await bot.command("   ")
    assert response.status == 200
    await bot.settle()
    opened = bot.slack.of("views.open")
    assert len(opened) == 1 and opened[0].args["trigger_id"].endswith(".111.abc")
    view = opened[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "schema_review"
    ddl, dialect = view["blocks"]
    assert ddl["element"]["type"] == "plain_text_input" and ddl["element"]["multiline"] is True
    assert [o["text"]["text"] for o in dialect["element"]["options"]] == ["PostgreSQL", "MySQL", "SQLite"]
    assert json.loads(view["private_metadata"]) == {"channel": "C1"}
    assert bot.slack.of("chat.postMessage") == []


async def test_modal_submission_with_empty_input_returns_field_errors(bot):
    response = await bot.interact(view_submission("  \n "))
    assert response.status == 200
    body = await response.json()
    assert body["response_action"] == "errors" and "ddl" in body["errors"]
    await bot.settle()
    assert bot.slack.of("chat.postMessage") == []


async def test_modal_submission_runs_the_review_with_the_dialect(bot):
    response = await bot.interact(view_submission(DDL, dialect="mysql", channel="C9"))
    assert response.status == 200
    assert (await response.text()) == ""  # closes the modal
    await bot.settle()
    assert bot.review.calls[0][1]["dialect"] == "mysql"
    assert bot.slack.of("chat.postMessage")[0].args["channel"] == "C9"
    assert "missing-primary-key" in bot.slack.of("chat.update")[0].text()


async def test_review_not_available_says_so(make_bot):
    bot = await make_bot(with_review=False)
    response = await bot.command(DDL)
    assert response.status == 200
    assert "not available yet" in (await response.json())["text"]
    await bot.settle()
    assert bot.slack.of("chat.postMessage") == []


async def test_review_goes_to_a_dm_when_the_bot_is_not_in_the_channel(bot):
    bot.slack.script("chat.postMessage", Scripted(error="not_in_channel"))
    await bot.command(DDL)
    await bot.settle()
    posts = bot.slack.of("chat.postMessage")
    assert [p.args["channel"] for p in posts[:2]] == ["C1", "U1"]
    assert "/invite" in bot.slack.responses[0].args["text"]
    assert bot.slack.of("chat.update")[0].args["channel"] == "D1"


async def test_sql_file_in_a_dm_is_downloaded_and_reviewed(bot):
    meta = bot.slack.add_file("F1", "schema.sql", DDL.encode())
    shared = {"id": "F1", "file_access": "check_file_info"}  # Slack sometimes sends only this
    await bot.event(message("please review this MySQL schema", subtype="file_share", files=[shared]))
    await bot.settle()
    assert bot.slack.of("files.info")[0].args["file"] == "F1"
    assert bot.slack.downloads[0].headers["Authorization"] == "Bearer xoxb-test"
    assert bot.review.calls[0][0] == DDL and bot.review.calls[0][1]["dialect"] == "mysql"
    texts = "\n".join(c.text() for c in bot.slack.calls if c.method in ("chat.update", "chat.postMessage"))
    assert "asked for a schema review of `schema.sql`" in texts and "missing-primary-key" in texts
    assert meta["url_private_download"].endswith("/download/schema.sql")


async def test_sql_file_over_the_limit_gets_a_clear_message(make_bot):
    bot = await make_bot(env={"CONSULTANT_MAX_REVIEW_BYTES": "1024"})  # the same cap as every chat surface
    meta = bot.slack.add_file("F2", "dump.sql", b"-- x\n" * 1000)
    await bot.event(app_mention("<@UBOT> review", files=[meta]))
    await bot.settle()
    assert bot.slack.downloads == [] and bot.review.calls == []
    text = bot.slack.of("chat.update")[-1].text()
    assert "`dump.sql` is 5 KB; I review `.sql` files up to 1 KB" in text


async def test_feedback_click_is_stored_and_acknowledged_ephemerally(bot):
    event = app_mention("<@UBOT> our orders API got slow after we added line items")
    await bot.event(event)
    await bot.settle()
    final = bot.slack.of("chat.update")[-1]
    button = next(b for b in final.blocks() if b["type"] == "actions")["elements"][1]
    response = await bot.interact(block_actions(button["action_id"], button["value"], message_ts=final.args["ts"],
                                                thread_ts=event["ts"]))
    assert response.status == 200
    await bot.settle()
    assert bot.app.store.feedback == [(button["value"], "U1", "down", "slack")]
    ephemeral = bot.slack.of("chat.postEphemeral")
    assert len(ephemeral) == 1
    assert ephemeral[0].args["user"] == "U1" and ephemeral[0].args["thread_ts"] == event["ts"]


async def test_shutdown_does_not_wait_for_a_slow_llm(make_bot, openai):
    bot = await make_bot(openai=openai)
    openai.script(LLMStep(delay=10, text="slow"))
    await bot.event(app_mention("<@UBOT> hello"))
    await bot.slack.wait_for(lambda: openai.requests)
    started = time.monotonic()
    await bot.client.close()
    assert time.monotonic() - started < 3
    await asyncio.sleep(0)


async def test_with_the_real_schema_review_analyzer(bot):
    pytest.importorskip("bot.review.analyzer")
    from bot.bootstrap import build_analyzers

    bot.app.engine.analyzers = build_analyzers()
    await bot.command("--dialect postgres CREATE TABLE audit_log (at timestamptz, what text);")
    await bot.settle()
    summary = bot.slack.of("chat.update")[0].text()
    assert "asked for a schema review" in summary and "```" in summary  # a finding with its fix SQL
    report = bot.slack.of("chat.postMessage")[1:]
    assert report and all(c.args["thread_ts"] == bot.slack.of("chat.update")[0].args["ts"] for c in report)
