"""A query plan or query log pasted in Teams comes back as a card: the hotspot line as its headline, then the
findings with their fix in monospace; the answer and the follow-ups build on it."""

from __future__ import annotations

from pathlib import Path

from adapters.teams.cards import findings_markdown, review_card
from bot.bootstrap import build_analyzers
from bot.plans import PlanAnalyzer
from bot.querylog import QueryLogAnalyzer
from tests.fakes import FakeLLM
from tests.teams import teams_activities as A

FIXTURES = Path(__file__).resolve().parents[1] / "evidence" / "fixtures"


async def test_a_pasted_plan_becomes_a_card_led_by_the_hotspot_line(start_bot, connector):
    bot = await start_bot(llm=FakeLLM("Index events.account_id."))
    bot.app.engine.analyzers = build_analyzers()
    plan = (FIXTURES / "plans" / "fk_delete.txt").read_text()
    await bot.send(A.personal_message(connector.service_url, f"why is this slow?\n{plan}"))
    card_message, *answers = connector.messages()
    [card] = card_message.cards
    assert card["body"][0]["text"].startswith("**Query plan:** 99.9% of the")
    findings = [b for b in card["body"] if b["type"] == "Container"]
    assert "plan-slow-trigger" in str(findings[0])
    fix = next(i["items"][0] for i in findings[0]["items"] if i["type"] == "Container")
    assert fix["fontType"] == "Monospace" and fix["text"].startswith("CREATE INDEX CONCURRENTLY events_account_id_idx")
    assert card_message.body["summary"].startswith("Query plan: 99.9% of the")
    assert answers and answers[0].body["text"].startswith("Index events.account_id.")


def test_log_fixes_in_orm_code_are_not_fenced_as_sql():
    analysis = QueryLogAnalyzer().analyze((FIXTURES / "logs" / "sqlalchemy_n_plus_one.log").read_text())
    card, rest = review_card(analysis.summary, analysis.findings, "a1", title="Analysis")
    assert card["body"][0]["text"].startswith("**Query log** (SQLAlchemy echo log)")
    markdown = findings_markdown(analysis.findings)
    assert "```\nselect(Account).options(selectinload(Account.events))" in markdown and "```sql" not in markdown
    plan = PlanAnalyzer().analyze((FIXTURES / "plans" / "heap_fetches.txt").read_text())
    assert "```sql\nVACUUM (ANALYZE) line_items;" in findings_markdown(plan.findings)
