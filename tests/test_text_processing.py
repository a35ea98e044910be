"""Redaction, case facts, history trimming and input screening."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.consult.case import build_case
from bot.consult.facts import extract_facts
from bot.consult.history import TokenCounter, trim_history
from bot.limits import screen
from bot.redact import redact
from bot.store.port import Turn


@pytest.mark.parametrize("secret, text", [
    ("s3cr3t", "DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/app"),
    ("p%40ss", "mysql://root:p%40ss@localhost/db"),
    ("AKIAIOSFODNN7EXAMPLE", "key id AKIAIOSFODNN7EXAMPLE"),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("xoxb-12345-67890-abcdefABCDEF", "token xoxb-12345-67890-abcdefABCDEF"),
    ("xapp-1-A012-345-abcdef0123", "SLACK_APP_TOKEN=xapp-1-A012-345-abcdef0123"),
    ("sk-proj-abcdefghijklmnopqrstuv", "OPENAI key sk-proj-abcdefghijklmnopqrstuv"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "git clone with ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
    ("MIIEowIBAAKCAQEA", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"),
    ("hunter2", "password=hunter2"),
    ("topsecret", 'client_secret: "topsecret"'),
])
def test_secrets_are_masked(secret, text):
    masked = redact(text)
    assert secret not in masked and "REDACTED" in masked


def test_ordinary_text_is_left_alone():
    text = "SELECT * FROM orders WHERE id = $1; the password column is hashed with bcrypt"
    assert redact(text) == text


def test_facts_from_a_message():
    facts = extract_facts("We're on Rails 7 with Postgres 15 on Heroku, 40M rows in orders and 2k rps at peak")
    assert facts == {"framework": "Rails", "language": "Ruby", "orm": "ActiveRecord", "database": "PostgreSQL",
                     "database_version": "15", "rows": "40M rows", "rps": "2k rps", "deployment": "Heroku",
                     "migration_tool": "Rails migrations"}


def test_a_named_orm_wins_over_the_frameworks_own():
    assert extract_facts("Django app")["orm"] == "Django ORM"
    assert extract_facts("Django app but we query through SQLAlchemy")["orm"] == "SQLAlchemy"


def test_a_gin_index_is_not_the_gin_framework():
    assert "framework" not in extract_facts("should I add a GIN index on the jsonb column?")


def test_the_case_keeps_earlier_facts_and_takes_newer_values():
    case = build_case([_turn(0, "user", "MySQL 8, 10M rows")], "actually we moved to Postgres, 300 rps")
    assert case.facts["database"] == "PostgreSQL" and case.facts["rows"] == "10M rows"
    assert case.facts["rps"] == "300 rps" and case.turns == 2


def _turn(i: int, role: str, text: str) -> Turn:
    return Turn(str(i), role, text, datetime.now(timezone.utc))


def test_trim_keeps_first_question_and_recent_turns_by_token_count():
    counter = TokenCounter()
    turns = [_turn(0, "user", "FIRST question about orders")]
    turns += [_turn(i, "assistant" if i % 2 else "user", f"turn {i} " + "word " * 50) for i in range(1, 21)]
    budget = 400
    kept = trim_history(turns, budget, counter)
    assert kept[0].content == "FIRST question about orders"
    assert "omitted" in kept[1].content
    assert kept[-1].content == turns[-1].text
    assert sum(counter.count(m.content) + 4 for m in kept if "omitted" not in m.content) <= budget
    assert len(kept) < len(turns)


def test_no_trimming_under_budget():
    turns = [_turn(0, "user", "a"), _turn(1, "assistant", "b"), _turn(2, "context", "review")]
    kept = trim_history(turns, 1000, TokenCounter())
    assert [m.role for m in kept] == ["user", "assistant", "user"] and "review" in kept[2].content


def test_tokens_are_counted_not_estimated_from_characters():
    counter = TokenCounter("gpt-4o-mini")
    assert counter.count("hello world") == 2
    assert counter.count("a" * 100) < 100 / 2


def test_screen():
    assert screen("x" * 50, 40) and "40" in screen("x" * 50, 40)
    assert screen("ok question", 40) is None
    assert "binary" in screen("\x00PK\x03\x04", 40)
