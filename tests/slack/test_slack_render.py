"""Markdown to mrkdwn, splitting at Slack's limits, Block Kit for replies and reviews, inbound text."""

from __future__ import annotations

import json

import pytest

from adapters.slack.inbound import addressed_to_others, dialect_hint, is_from_person, plain_text
from adapters.slack.mrkdwn import split_text, to_mrkdwn
from adapters.slack.render import MAX_BLOCKS, SECTION_CHARS, pack, reply_messages, section
from adapters.slack.review_blocks import review_messages, severity_counts
from bot.messages import Reply, Source


@pytest.mark.parametrize(("markdown", "expected"), [
    ("**bold** and __bold__", "*bold* and *bold*"),
    ("*italic* and _italic_", "_italic_ and _italic_"),
    ("***both***", "*_both_*"),
    ("~~gone~~", "~gone~"),
    ("[the docs](https://example.com/a?b=1&c=2)", "<https://example.com/a?b=1&amp;c=2|the docs>"),
    ("see <https://example.com>", "see <https://example.com>"),
    ("## Why it is slow", "*Why it is slow*"),
    ("# **Bold** heading #", "*Bold heading*"),
    ("- one\n  - two\n    - three", "• one\n    ◦ two\n        ▪ three"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("- [x] done\n- [ ] todo", "☑ done\n☐ todo"),
    ("> quoted", "> quoted"),
    ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
    ("SELECT * FROM t WHERE a * b > 2", "SELECT * FROM t WHERE a * b &gt; 2"),
    ("`**not bold** <x>`", "`**not bold** &lt;x&gt;`"),
    ("---", "──────────"),
])
def test_markdown_to_mrkdwn(markdown, expected):
    assert to_mrkdwn(markdown) == expected


def test_code_blocks_stay_intact_without_the_language_tag():
    markdown = "Try this:\n\n```python\nif a < b and **kw:\n    x = [i * 2 for i in y]  # _no_ emphasis\n```\nDone."
    assert to_mrkdwn(markdown) == ("Try this:\n\n```\nif a &lt; b and **kw:\n    x = [i * 2 for i in y]  # _no_ "
                                   "emphasis\n```\nDone.")


def test_unclosed_fence_is_closed_and_tables_become_code():
    assert to_mrkdwn("```sql\nSELECT 1;").endswith("SELECT 1;\n```")
    table = to_mrkdwn("| index | size |\n|---|---|\n| a | 1 MB |")
    assert table.startswith("```\n| index | size |") and table.endswith("```")


def test_split_respects_the_limit_and_never_cuts_a_code_block():
    code = "```sql\n" + "\n".join(f"SELECT {i};" for i in range(400)) + "\n```"
    text = "\n\n".join(["Intro paragraph. " * 30, code, "Middle. " * 500, "```\nshort block\n```", "End."])
    pieces = split_text(text, 1000)
    assert all(0 < len(p) <= 1000 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    assert "```\nshort block\n```" in pieces[-1] or any("```\nshort block\n```" in p for p in pieces)
    joined = "\n".join(pieces)
    assert all(f"SELECT {i};" in joined for i in range(400))
    # The oversized block was re-fenced with its language on every piece.
    assert sum(p.startswith("```sql") for p in pieces) > 1


def test_split_of_a_single_huge_line():
    pieces = split_text("x" * 7000, 3000)
    assert [len(p) for p in pieces] == [3000, 3000, 1000]


def test_reply_messages_respect_block_and_character_limits():
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 120 for i in range(200))
    reply = Reply(text=text, questions=["Which database?", "How many rows?"], sources=[Source("n", "N+1 queries")],
                  answer_id="a1", mode="llm")
    messages = reply_messages(reply)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert all(len(b["text"]["text"]) <= SECTION_CHARS for b in message.blocks if b["type"] == "section")
        assert message.text and len(message.text) <= 300
    tail = messages[-1].blocks
    assert [b["type"] for b in tail[-3:]] == ["section", "context", "actions"]
    assert "1. Which database?\n2. How many rows?" in tail[-3]["text"]["text"]


def test_many_small_blocks_are_packed_at_most_50_per_message():
    messages = pack([section(f"b{i}") for i in range(120)])
    assert [len(m.blocks) for m in messages] == [50, 50, 20]


def test_split_at_the_12000_markdown_limit():
    pieces = split_text("para. " * 5000, 12_000)
    assert len(pieces) == 3 and all(len(p) <= 12_000 for p in pieces)


def test_review_summary_counts_and_fix_sql():
    findings = [{"rule": "r1", "severity": "info", "message": "m1", "fix": ""},
                {"rule": "r2", "severity": "error", "table": "t", "column": "c", "line": 4, "message": "m2",
                 "fix": "ALTER TABLE t ADD PRIMARY KEY (id);"},
                {"rule": "r3", "severity": "warning", "message": "m3", "fix": "CREATE INDEX i ON t (c);"},
                {"rule": "r4", "severity": "warning", "message": "m4", "fix": "x" * 5000}]
    reply = Reply(text="## Report\nDetails.", findings=findings, answer_id="a")
    summary, *rest = review_messages(reply, user="U1")
    assert severity_counts(findings) == [("error", 1), ("warning", 2), ("info", 1)]
    dumped = json.dumps(summary.blocks, ensure_ascii=False)
    assert "<@U1> asked for a schema review" in dumped and "4 findings:* 🔴 1 error · 🟠 2 warning · 🔵 1 info" in dumped
    assert dumped.index("r2") < dumped.index("r3") and "r1" not in dumped  # top 3, most severe first
    assert "ALTER TABLE t ADD PRIMARY KEY (id);" in dumped and "`t.c` (line 4)" in dumped
    assert "1 more finding and the full report" in dumped
    assert all(len(b["text"]["text"]) <= SECTION_CHARS for b in summary.blocks if b["type"] == "section")
    assert "Details." in json.dumps(rest[0].blocks)


def test_review_summary_uses_the_engine_headline_without_listing_findings_twice():
    engine_summary = ("**Schema review** (postgres, 2 statements): 1 error, 0 warnings, 0 info.\n\n"
                      "⚠️ 1 statement(s) could not be parsed (first at line 7: syntax error).\n\n"
                      "1. 🔴 **error** `no-primary-key` on `t` (line 1): Table t has no primary key.\n\n"
                      "```sql\nALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;\n```")
    findings = [{"rule": "no-primary-key", "severity": "error", "table": "t", "line": 1,
                 "message": "Table t has no primary key.",
                 "fix": "ALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"}]
    reply = Reply(text="report", findings=findings, summary=engine_summary, answer_id="a")
    dumped = json.dumps(review_messages(reply, user="U1")[0].blocks, ensure_ascii=False)
    assert "*Schema review* (postgres, 2 statements): 1 error" in dumped and "could not be parsed" in dumped
    assert dumped.count("ALTER TABLE t ADD COLUMN id") == 1
    clean = Reply(text="report", findings=[], summary="**Schema review** (postgres, 1 statement): 0 errors.\n\n"
                                                      "No issues found.", answer_id="a")
    assert "No issues found." in json.dumps(review_messages(clean, user="U1")[0].blocks)


def test_plain_text_undoes_slack_markup():
    text = "<@UBOT> why is `a &lt; b` slow on <http://orders.id|orders.id>? cc <@U2|bob> in <#C1|backend> <!here>"
    assert plain_text(text, "UBOT") == "why is `a < b` slow on orders.id? cc @bob in #backend @here"
    assert plain_text("see <https://x.io/a|the doc>") == "see the doc (https://x.io/a)"
    assert addressed_to_others("<@U2> can you check?", "UBOT")
    assert not addressed_to_others("<@UBOT> can you check?", "UBOT")
    assert dialect_hint("review this MariaDB schema") == "mysql" and dialect_hint("hello") is None


def test_is_from_person():
    assert is_from_person({"user": "U1", "text": "hi"}, "UBOT")
    assert is_from_person({"user": "U1", "subtype": "file_share"}, "UBOT")
    assert not is_from_person({"user": "UBOT"}, "UBOT")
    assert not is_from_person({"user": "U2", "bot_id": "B2"}, "UBOT")
    assert not is_from_person({"subtype": "bot_message", "bot_id": "B2"}, "UBOT")
    assert not is_from_person({"user": "U1", "subtype": "message_changed"}, "UBOT")
    assert not is_from_person({"user": "U1", "subtype": "channel_join"}, "UBOT")
