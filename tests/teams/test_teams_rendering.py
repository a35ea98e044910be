"""Splitting long answers, reading activities, and the card builders."""

from __future__ import annotations

import json

from botbuilder.schema import Activity

from adapters.teams.cards import findings_markdown, parse_feedback, review_card, severity_counts
from adapters.teams.inbound import parse_command, read_message
from adapters.teams.render import blocks, split_markdown
from tests.fakes import FakeLLM
from tests.teams import teams_activities as A


def fences_balanced(chunk: str) -> bool:
    return sum(1 for line in chunk.splitlines() if line.lstrip().startswith("```")) % 2 == 0


def test_short_markdown_is_one_chunk():
    assert split_markdown("Hello **there**.") == ["Hello **there**."]
    assert split_markdown("   ") == []


def test_split_at_paragraphs_and_never_inside_a_code_fence():
    code = "```sql\n" + "\n\n".join(f"SELECT {i} FROM orders WHERE id = {i};" for i in range(40)) + "\n```"
    text = "\n\n".join([("Paragraph one. " * 30).strip(), code, ("Paragraph two. " * 30).strip()])
    chunks = split_markdown(text, limit=1200)
    assert len(chunks) > 1
    assert all(len(c.encode()) <= 1200 and fences_balanced(c) for c in chunks)
    assert any(c.startswith("```sql") for c in chunks)
    # Nothing lost: the same blocks, in order, once the reopened fences are accounted for.
    joined = "\n".join(chunks)
    assert all(f"SELECT {i} FROM orders WHERE id = {i};" in joined for i in range(40))
    assert joined.index("Paragraph one.") < joined.index("SELECT 0") < joined.index("Paragraph two.")


def test_a_code_block_keeps_its_blank_lines_when_it_fits():
    text = "Intro.\n\n```python\na = 1\n\nb = 2\n```\n\nOutro."
    assert blocks(text) == ["Intro.", "```python\na = 1\n\nb = 2\n```", "Outro."]


def test_unclosed_fence_is_closed_and_a_single_huge_line_is_cut():
    chunks = split_markdown("```\n" + "x" * 5000, limit=1000)
    assert all(len(c.encode()) <= 1000 and fences_balanced(c) for c in chunks)
    assert sum(c.count("x") for c in chunks) == 5000
    words = split_markdown(" ".join(["word"] * 2000), limit=500)
    assert all(len(c.encode()) <= 500 for c in words) and sum(c.count("word") for c in words) == 2000


def test_multibyte_text_is_split_by_bytes():
    chunks = split_markdown("\n\n".join(["ÄÖÜ 🙂 " * 100] * 10), limit=1000)
    assert all(len(c.encode()) <= 1000 for c in chunks)


async def test_a_long_answer_arrives_in_several_messages_with_the_buttons_last(start_bot, connector):
    code = "```sql\n" + "\n".join(f"CREATE INDEX i{i} ON t{i} (a, b);" for i in range(600)) + "\n```"
    answer = "\n\n".join([("Use a covering index. " * 400).strip(), code, ("Then measure. " * 400).strip()])
    bot = await start_bot(llm=FakeLLM(answer))
    await bot.send(A.personal_message(connector.service_url, "orders list slow, n+1?"))
    messages = connector.messages()
    assert len(messages) >= 3
    assert all(len(json.dumps(m.body).encode()) < 28_000 for m in messages)
    assert all(fences_balanced(m.body["text"]) for m in messages)
    assert [bool(m.cards) for m in messages] == [False] * (len(messages) - 1) + [True]
    assert "**Sources:**" in messages[-1].body["text"]


def test_mention_is_stripped_and_the_command_read():
    activity = Activity().deserialize(A.channel_message("http://127.0.0.1/", "schema-review\nCREATE TABLE t (id int);"))
    message = read_message(activity)
    assert message.mentioned and message.scope == "channel" and message.tenant == A.TENANT
    assert message.command == "schema-review" and message.args == "CREATE TABLE t (id int);"
    assert message.user == A.USER["aadObjectId"]


def test_other_peoples_mentions_stay_as_names_and_entities_are_decoded():
    raw = A.channel_message("http://127.0.0.1/", "ask <at>Megan Bowen</at> if a &gt; b&nbsp;holds")
    message = read_message(Activity().deserialize(raw))
    assert message.text == "ask Megan Bowen if a > b holds" and message.command is None


def test_a_mention_of_someone_else_is_not_a_mention_of_the_bot():
    raw = A.channel_message("http://127.0.0.1/", "hello", mention=False)
    raw["text"] = "<at>Megan Bowen</at> hello"
    raw["entities"] = [{"type": "mention", "mentioned": {"id": A.USER["id"], "name": "Megan Bowen"},
                        "text": "<at>Megan Bowen</at>"}]
    assert not read_message(Activity().deserialize(raw)).mentioned


def test_tenant_falls_back_to_the_conversation():
    raw = A.personal_message("http://127.0.0.1/", "hi")
    del raw["channelData"]
    assert read_message(Activity().deserialize(raw)).tenant == A.TENANT


def test_commands():
    assert parse_command("help") == ("help", "")
    assert parse_command("/new") == ("new", "")
    assert parse_command("New!") == ("new", "")
    assert parse_command("/schema-review CREATE TABLE t (id int);") == ("schema-review", "CREATE TABLE t (id int);")
    assert parse_command("Schema-Review") == ("schema-review", "")
    # Questions that merely start with a command word stay questions.
    assert parse_command("new index on orders made writes slow") == (None, None)
    assert parse_command("help me pick an index") == (None, None)
    assert parse_command("newsletter sending is slow") == (None, None)
    assert parse_command("schema-reviewer role design") == (None, None)


def test_feedback_payloads():
    assert parse_feedback({"action": "feedback", "answer_id": "abc", "value": "up"}) == ("abc", "up")
    assert parse_feedback({"action": "feedback", "answer_id": "abc", "value": "meh"}) is None
    assert parse_feedback({"action": "other"}) is None
    assert parse_feedback("up") is None


def test_review_card_trims_findings_to_fit_and_orders_severities():
    findings = [{"rule": f"r{i}", "severity": ("info", "error", "warning", "custom")[i % 4], "table": "t",
                 "column": f"c{i}", "line": i, "message": "m" * 200, "why": "w" * 300, "fix": "ALTER TABLE t;" * 40}
                for i in range(200)]
    card, rest = review_card("**Schema review:** 200 findings.", findings, "answer-1")
    assert len(json.dumps(card, ensure_ascii=False).encode()) <= 24_000
    shown = [b for b in card["body"] if b["type"] == "Container"]
    assert rest and len(shown) + len(rest) == 200
    assert f"… and {len(rest)} more finding(s)" in card["body"][-1]["text"]
    assert "ERROR" in str(shown[0]) and all(f["severity"] in ("info", "custom") for f in rest[-10:])
    assert "ALTER TABLE t;" in findings_markdown(rest)
    assert [s for s, _ in severity_counts(findings)] == ["error", "warning", "info", "custom"]
    empty, rest = review_card(None, [], None)
    assert rest == []
    assert "actions" not in empty and any("No findings" in b.get("text", "") for b in empty["body"])
