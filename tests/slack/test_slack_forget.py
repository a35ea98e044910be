"""`forget` in Slack deletes the thread's stored data and confirms in the thread."""

from __future__ import annotations

from tests.slack.slack_payloads import app_mention


async def test_forget_in_a_thread_deletes_it_and_confirms(bot):
    question = app_mention("<@UBOT> our orders API got slow after we added line items")
    await bot.event(question)
    await bot.settle()
    thread_id = bot.app.store.threads[("slack", "T1", question["channel"], question["ts"])]
    assert len(bot.app.store.turns_by_thread[thread_id]) == 2
    forget = app_mention("<@UBOT> forget", thread_ts=question["ts"], ts="1700000999.000200")
    assert (await bot.event(forget)).status == 200
    await bot.settle()
    assert bot.app.store.turns_by_thread.get(thread_id, []) == []
    last = (bot.slack.of("chat.update") or bot.slack.of("chat.postMessage"))[-1]
    assert "deleted this thread's 2 stored messages" in last.text()
