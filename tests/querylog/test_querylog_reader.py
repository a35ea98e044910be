"""The query-log reader on real logs: the PostgreSQL server log (simple and extended protocol, log_statement),
Django, SQLAlchemy and Rails, each with an N+1 and a clean (prefetching) version, recorded by
tests/evidence/record_fixtures.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.querylog import QueryLogAnalyzer, read_log
from bot.querylog.fingerprint import fingerprint
from bot.querylog.parse import parse_log

LOGS = Path(__file__).resolve().parents[1] / "evidence" / "fixtures" / "logs"


def log(name: str) -> str:
    return (LOGS / name).read_text()


def rules(name: str, **kw) -> list[str]:
    return [f["rule"] for f in read_log(log(name), **kw).findings]


@pytest.mark.parametrize("name,fmt,stack", [
    ("django_n_plus_one.log", "django", 'prefetch_related("events")'),
    ("sqlalchemy_n_plus_one.log", "sqlalchemy", "selectinload(Account.events)"),
    ("rails_n_plus_one.log", "rails", "includes(:events)"),
    ("server_simple.log", "postgres", "= ANY($1)"),
    ("server_extended.log", "postgres", "= ANY($1)"),
])
def test_n_plus_one_in_every_format_with_the_fix_in_the_teams_stack(name, fmt, stack):
    result = read_log(log(name))
    assert result.log.format == fmt
    n1 = [f for f in result.findings if f["rule"] == "n-plus-one"]
    assert len(n1) == 1
    f = n1[0]
    assert (f["table"], f["column"], f["note"]) == ("events", "account_id", "n-plus-one-queries")
    assert f["count"] >= 10 and stack in f["fix"]
    assert "accounts" in f["parent"] and "after `SELECT" in f["message"]
    assert f["severity"] in ("warning", "error")


@pytest.mark.parametrize("name", ["django_prefetch.log", "sqlalchemy_selectin.log", "rails_includes.log",
                                  "server_statement_clean.log"])
def test_clean_logs_a_join_or_one_in_prefetch_have_no_finding(name):
    assert rules(name) == []


def test_a_loop_over_two_relations_reports_both_interleaved_groups():
    found = [f for f in read_log(log("server_interleaved.log")).findings if f["rule"] == "n-plus-one"]
    assert sorted(f["table"] for f in found) == ["events", "orders"]
    assert all(f["count"] == 12 for f in found)


def test_repeated_query_same_parameters():
    result = read_log(log("server_simple.log"))
    f = next(f for f in result.findings if f["rule"] == "repeated-query")
    assert f["table"] == "accounts" and f["count"] == 6 and "same parameters" in f["message"]
    assert "repeated-query" not in rules("django_n_plus_one.log")  # different parameters each time: an N+1


def test_slow_query_is_ready_to_explain():
    f = next(f for f in read_log(log("server_simple.log")).findings if f["rule"] == "slow-query")
    assert "GROUP BY payload" in f["statement"]
    assert f["fix"].startswith("EXPLAIN (ANALYZE, BUFFERS)\nSELECT payload")
    assert "slow-query" not in rules("django_prefetch.log")


def test_slow_query_fills_in_the_logged_parameters():
    # The extended protocol logs `$1` and a DETAIL line with the values; the fix must be runnable as is.
    slow = [f for f in read_log(log("server_extended.log"), slow_ms=1).findings if f["rule"] == "slow-query"]
    assert slow and all("$1" not in f["fix"] for f in slow)
    assert any(re.search(r"'\d+'::INTEGER = events\.account_id", f["fix"]) for f in slow)
    sa = [f for f in read_log(log("sqlalchemy_n_plus_one.log"), slow_ms=0).findings if f["rule"] == "slow-query"]
    assert sa == []  # SQLAlchemy's echo has no durations: nothing is claimed slow


def test_parse_and_bind_are_not_executions():
    parsed = parse_log(log("server_extended.log"))
    executes = sum(1 for line in log("server_extended.log").splitlines()
                   if re.search(r"LOG:  duration: [\d.]+ ms  (execute|statement)", line))
    assert len(parsed.statements) == executes
    assert all(s.params for s in parsed.statements if "$1" in s.sql)


def test_headline_counts_statements_fingerprints_time_and_the_worst_share():
    analysis = QueryLogAnalyzer().analyze(log("django_n_plus_one.log"))
    head = analysis.summary.split("\n\n")[0]
    assert re.match(r"\*\*Query log\*\* \(Django debug log\): 13 statements, 2 distinct fingerprints, [\d.]+ ms in all;"
                    r" the worst group, .* ×12, is \d+% of it", head)


@pytest.mark.parametrize("name,facts", [
    ("django_n_plus_one.log", {"framework": "Django", "orm": "Django ORM", "query_count": "13 queries"}),
    ("sqlalchemy_n_plus_one.log", {"orm": "SQLAlchemy", "database": "PostgreSQL", "query_count": "11 queries"}),
    ("rails_n_plus_one.log", {"framework": "Rails", "orm": "ActiveRecord", "query_count": "11 queries"}),
    ("server_statement_clean.log", {"database": "PostgreSQL"}),
])
def test_the_log_format_tells_the_stack(name, facts):
    analysis = QueryLogAnalyzer().analyze(log(name))
    assert analysis.facts == facts
    assert set(analysis.tables) == {"accounts", "events"}  # the team's tables, not pg_catalog
    assert analysis.evidence == "query_log" and analysis.problem_type == "performance"
    assert analysis.notes[0] == "n-plus-one-queries"


def test_plain_sql_one_statement_per_line():
    # The statements the server logged, without the log prefix: what a team pastes from its APM.
    plain = "\n".join(m.group(1) for m in re.finditer(r"statement: (.*)$", log("server_simple.log"), re.M))
    result = read_log(plain)
    assert result.log.format == "sql"
    assert sorted(rules_ := [f["rule"] for f in result.findings]) == ["n-plus-one", "repeated-query"], rules_


def test_ddl_and_seed_files_are_not_query_logs():
    analyzer = QueryLogAnalyzer()
    from tests.evidence.record_fixtures import DATASET

    assert not analyzer.detect(DATASET)
    seed = "\n".join(f"INSERT INTO accounts VALUES ({i}, 'a{i}', 'free');" for i in range(20))
    assert not analyzer.detect(seed)
    assert not analyzer.detect("Why do we see so many queries per request in our Django app?")


def test_a_log_that_cannot_be_read_gets_a_one_line_error():
    analyzer = QueryLogAnalyzer()
    broken = "2026-11-30 12:00:00 UTC [1] LOG:  statement:\n2026-11-30 12:00:01 UTC [1] LOG:  duration: x ms"
    assert analyzer.detect(broken)
    analysis = analyzer.analyze(broken)
    assert analysis.unreadable and "\n" not in analysis.summary and "SQLAlchemy" in analysis.summary


def test_fingerprints_ignore_constants_and_orm_placeholders():
    a = fingerprint("SELECT id FROM events WHERE account_id = 205 LIMIT 5")
    assert a == fingerprint("select id from events where account_id = 9 limit 3")
    assert fingerprint("SELECT id FROM events WHERE %(param_1)s::INTEGER = events.account_id") == \
        fingerprint("SELECT id FROM events WHERE $1::INTEGER = events.account_id")
    assert a != fingerprint("SELECT id FROM orders WHERE customer_id = 205 LIMIT 5")
    # Not PostgreSQL (MySQL backticks): the normalising fallback still groups by shape.
    assert fingerprint("SELECT `id` FROM `t` WHERE `a` = 1") == fingerprint("SELECT `id` FROM `t` WHERE `a` = 2")
