"""Issue 14: input the review cannot read is never reported as clean, in any output format, and MySQL
or SQLite DDL without dialect markers is reviewed in its own dialect."""

from __future__ import annotations

import json

import pytest

from bot.review import review
from test_review_cli import consultant

MYSQL_DDL = ("CREATE TABLE orders (id int unsigned primary key, customer_id int, total double, created datetime, "
             "KEY idx_c (customer_id));\n")
UNREAD = {
    "truncated": ("ALTER TABLE orders ADD COLUMN note text DEFAULT;\n", 1),
    "invalid": ("CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE TABLE b (id bigint PRIMARY KEY,, x int);\n", 2),
    "empty": ("", 1),
    "comments-only": ("-- nothing here\n/* still nothing */\n", 1),
}


@pytest.fixture(params=sorted(UNREAD))
def unread_file(request, tmp_path):
    text, line = UNREAD[request.param]
    path = tmp_path / f"{request.param}.sql"
    path.write_text(text)
    return request.param, path, line


def test_json_counts_unread_input_as_an_error_and_fails(unread_file):
    kind, path, line = unread_file
    p = consultant("--format", "json", str(path))
    d = json.loads(p.stdout)
    assert p.returncode == 1
    assert d["summary"]["unparsed"] == 1 and d["summary"]["error"] >= 1
    assert [e["line"] for e in d["errors"]] == [line]
    if kind in ("empty", "comments-only"):
        assert d["statements"] == 0 and "no SQL statements" in d["errors"][0]["message"]


@pytest.mark.parametrize("fmt", ["text", "sarif", "github"])
def test_other_formats_show_a_parse_error_result_with_its_line(unread_file, fmt):
    kind, path, line = unread_file
    p = consultant("--format", fmt, str(path))
    out = p.stdout.decode()
    assert p.returncode == 1, out
    if fmt == "text":
        assert f"parse-error  line {line}" in out and "1 error" in out
    elif fmt == "github":
        assert out.startswith(f"::error file={path},line={line},title=parse-error::")
    else:
        run = json.loads(out)["runs"][0]
        results = [r for r in run["results"] if r["ruleId"] == "parse-error"]
        assert len(results) == 1 and results[0]["level"] == "error"
        assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == line
        assert any(r["id"] == "parse-error" for r in run["tool"]["driver"]["rules"])


def test_only_fail_on_never_ignores_unread_input(tmp_path):
    path = tmp_path / "t.sql"
    path.write_text(UNREAD["truncated"][0])
    for level in ("error", "warning", "info"):
        assert consultant("--fail-on", level, str(path)).returncode == 1, level
    assert consultant("--fail-on", "never", str(path)).returncode == 0


def test_mysql_ddl_without_markers_is_reviewed_as_mysql(tmp_path):
    path = tmp_path / "my.sql"
    path.write_text(MYSQL_DDL)
    d = json.loads(consultant("--format", "json", str(path)).stdout)
    assert d["dialect"] == "mysql" and d["errors"] == []
    assert {f["rule"] for f in d["findings"]} >= {"int-primary-key", "float-money"}
    assert d["detected"] == 'detected mysql: "unsigned" on line 1 is MySQL syntax'
    forced = json.loads(consultant("--format", "json", "--dialect", "postgres", str(path)).stdout)
    assert forced["dialect"] == "postgres" and forced["summary"]["unparsed"] == 1


@pytest.mark.parametrize("token,ddl", [
    ("tinyint", "CREATE TABLE t (id bigint PRIMARY KEY, flag tinyint);"),
    ("mediumtext", "CREATE TABLE t (id bigint PRIMARY KEY, body mediumtext);"),
    ("datetime", "CREATE TABLE t (id bigint PRIMARY KEY, created datetime);"),
    ("double", "CREATE TABLE t (id bigint PRIMARY KEY, price double);"),
    ("CHARSET", "CREATE TABLE t (id bigint PRIMARY KEY) DEFAULT CHARSET=utf8mb4;"),
    ("COLLATE utf8mb4_unicode_ci", "CREATE TABLE t (id bigint PRIMARY KEY, n varchar(9) COLLATE utf8mb4_unicode_ci);"),
    ("KEY t_n", "CREATE TABLE t (id bigint PRIMARY KEY, n int, KEY t_n (n));"),
])
def test_mysql_only_tokens_select_mysql(token, ddl):
    report = review(ddl)
    assert report.dialect == "mysql", report.errors
    assert report.detected == f'detected mysql: "{token}" on line 1 is MySQL syntax'


def test_postgres_syntax_that_merely_looks_alike_stays_postgres():
    ddl = ("CREATE TABLE t (id bigint PRIMARY KEY, key text, total double precision, n varchar(9) "
           "COLLATE \"en_US.utf8\", created timestamptz);\nCREATE INDEX t_key ON t (key);")
    report = review(ddl)
    assert report.dialect == "postgres" and report.detected is None and report.errors == []


def test_a_statement_postgres_rejects_at_a_mysql_word_switches_the_file_and_says_why():
    ddl = "CREATE TABLE notes (\n  id bigint PRIMARY KEY,\n  body varchar(10) COMMENT 'text'\n);\n"
    report = review(ddl)
    assert report.dialect == "mysql" and report.errors == []
    assert report.detected == 'detected mysql: PostgreSQL cannot parse "COMMENT" on line 1'
    assert review(ddl, dialect="postgres").errors  # --dialect still overrides everything


def test_sqlite_strict_tables_are_sqlite():
    report = review("CREATE TABLE t (id integer PRIMARY KEY, price real) STRICT;")
    assert report.dialect == "sqlite" and report.errors == []
    assert [f.rule for f in report.findings] == ["float-money"]


def test_a_typo_is_not_taken_for_another_dialect():
    report = review(UNREAD["invalid"][0])
    assert report.dialect == "postgres" and report.detected is None
    assert report.errors == [(2, 'syntax error at or near ","')]
    assert report.summary["error"] == 1 and report.at_or_above("error")
