"""Query plans and query logs in Slack: pasted in a mention or shared as a .txt/.json/.log file, they reach their
analyzer and come back compact (the hotspot line, then the findings with their fix), as the review does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.bootstrap import build_analyzers
from tests.slack.slack_payloads import app_mention, message

FIXTURES = Path(__file__).resolve().parents[1] / "evidence" / "fixtures"


def slack_escaped(text: str) -> str:
    """Message text as Slack delivers it: &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.fixture
async def evidence_bot(make_bot):
    bot = await make_bot()
    bot.app.engine.analyzers = build_analyzers()
    return bot


def posted(bot) -> str:
    return "\n".join(json.dumps(c.args.get("blocks") or c.text(), ensure_ascii=False)
                     for c in bot.slack.calls if c.method in ("chat.update", "chat.postMessage"))


async def test_a_pasted_plan_gets_the_hotspot_line_then_the_findings(evidence_bot):
    plan = (FIXTURES / "plans" / "fk_delete.txt").read_text()
    await evidence_bot.event(app_mention(slack_escaped(f"<@UBOT> why is this delete so slow?\n```\n{plan}```")))
    await evidence_bot.settle()
    first = evidence_bot.slack.of("chat.update")[0]
    dumped = json.dumps(first.blocks(), ensure_ascii=False)
    assert "<@U1> shared a query plan." in dumped
    assert dumped.index("99.9% of the") < dumped.index("plan-slow-trigger")  # the hotspot line leads
    assert "CREATE INDEX CONCURRENTLY events_account_id_idx ON events (account_id);" in dumped
    assert first.args["text"].startswith("Query plan: 1 error")


async def test_a_shared_plan_file_is_downloaded_and_read(evidence_bot):
    meta = evidence_bot.slack.add_file("F9", "plan.json", (FIXTURES / "plans" / "index_filter.json").read_bytes())
    await evidence_bot.event(message("slow orders lookup", subtype="file_share", files=[meta]))
    await evidence_bot.settle()
    assert evidence_bot.slack.downloads and evidence_bot.review.calls == []  # not taken for SQL to review
    text = posted(evidence_bot)
    assert "shared a query plan (`plan.json`)" in text and "plan-index-filter" in text
    assert "ON orders (customer_id, status)" in text


async def test_a_shared_log_file_is_read_as_a_query_log(evidence_bot):
    meta = evidence_bot.slack.add_file("F8", "queries.log",
                                       (FIXTURES / "logs" / "django_n_plus_one.log").read_bytes())
    await evidence_bot.event(app_mention("<@UBOT> the accounts page", files=[meta]))
    await evidence_bot.settle()
    text = posted(evidence_bot)
    assert "shared a query log (`queries.log`)" in text and "n-plus-one" in text
    assert 'prefetch_related(\\"events\\")' in text


async def test_other_shared_files_still_get_the_explanation(make_bot):
    bot = await make_bot()
    meta = bot.slack.add_file("F7", "diagram.png", b"\x89PNG")
    await bot.event(message("", subtype="file_share", files=[meta]))
    await bot.settle()
    assert "`.txt`, `.json` or `.log`" in posted(bot) and "diagram.png" in posted(bot)
