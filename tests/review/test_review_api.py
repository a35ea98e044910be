"""The public API: review(), the report shape, bad input, configuration, markdown, and the chat analyzer."""

from __future__ import annotations

import re

import pytest

from bot.analyzers import Analysis, AnalyzerRegistry
from bot.errors import ConfigError, ConsultantError
from bot.review import (
    BinaryInput, InputTooLarge, ReviewConfig, ReviewInputError, load_config, report_markdown, review,
    summary_markdown,
)
from bot.review.analyzer import SchemaReviewAnalyzer, extract_sql
from bot.review.catalog import NOTE_IDS, RULES, why
from bot.review.dialect import detect

MIGRATION = """\
ALTER TABLE orders ADD COLUMN status text NOT NULL;
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN paid_at timestamp;
"""


def test_report_to_dict_has_exactly_the_documented_shape():
    d = review(MIGRATION).to_dict()
    assert list(d) == ["dialect", "statements", "errors", "findings", "summary", "detected", "assume_in_transaction"]
    assert d["dialect"] == "postgres" and d["statements"] == 3 and d["errors"] == []
    assert list(d["summary"]) == ["error", "warning", "info", "unparsed"]
    assert d["summary"] == {"error": 1, "warning": 2, "info": 1, "unparsed": 0}
    assert d["detected"] is None and d["assume_in_transaction"] is False
    for f in d["findings"]:
        assert list(f) == ["rule", "severity", "table", "column", "object", "line", "message", "why", "fix", "note"]
    first = d["findings"][0]
    assert first["rule"] == "add-column-not-null-no-default" and first["severity"] == "error"
    assert first["table"] == "orders" and first["column"] == "status" and first["line"] == 1
    assert "ALTER TABLE orders ADD COLUMN status text;" in first["fix"]


def test_fix_sql_uses_the_real_names():
    d = review(MIGRATION).to_dict()
    fixes = {f["rule"]: f["fix"] for f in d["findings"]}
    assert "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);" in fixes["create-index-non-concurrently"]
    assert "ALTER TABLE orders ALTER COLUMN paid_at TYPE timestamptz" in fixes["timestamp-without-time-zone"]


def test_schema_is_applied_first_and_its_findings_are_not_reported():
    schema = "CREATE TABLE orders (id integer PRIMARY KEY, created_at timestamp);"
    report = review("CREATE INDEX orders_created_idx ON orders (created_at);", schema=schema)
    assert [f.rule for f in report.findings] == ["create-index-non-concurrently", "missing-lock-timeout"]
    # Without the schema, a table created in the same input is new: no locking risk.
    report = review(schema + "\nCREATE INDEX orders_created_idx ON orders (created_at);")
    assert "create-index-non-concurrently" not in {f.rule for f in report.findings}


def test_pg_version_argument_directive_and_default():
    sql = "ALTER TABLE t ADD COLUMN c integer NOT NULL DEFAULT 0;"
    assert review(sql).findings[0].rule == "missing-lock-timeout"  # 16 by default: constant default is instant
    assert review(sql, pg_version=10).findings[0].rule == "add-column-volatile-default"
    assert review("-- consultant: pg-version=10\n" + sql).findings[0].rule == "add-column-volatile-default"
    # The explicit argument wins over the directive.
    assert {f.rule for f in review("-- consultant: pg-version=10\n" + sql, pg_version=16).findings} == {
        "missing-lock-timeout"}
    assert review(sql, pg_version=10).pg_version == 10


@pytest.mark.parametrize("text,expected", [
    ("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY);", "mysql"),
    ("CREATE TABLE `t` (id int);", "mysql"),
    ("CREATE TABLE t (id int) ENGINE=InnoDB;", "mysql"),
    ("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);", "sqlite"),
    ("CREATE TABLE t (k TEXT PRIMARY KEY) WITHOUT ROWID;", "sqlite"),
    ("CREATE TABLE t (id bigint);", "postgres"),
    ("-- engine = the thing that runs AUTO_INCREMENT, said a comment\nCREATE TABLE t (id bigint);", "postgres"),
])
def test_dialect_detection(text, expected):
    assert detect(text) == expected
    assert review(text).dialect == expected


def test_unknown_dialect_is_a_clear_error():
    with pytest.raises(ReviewInputError, match="unknown dialect"):
        review("CREATE TABLE t (id int);", dialect="oracle")


def test_input_over_5_mb_is_a_clear_error():
    big = "-- " + "x" * (5 * 1024 * 1024) + "\n"
    with pytest.raises(InputTooLarge, match="5 MB"):
        review(big)
    assert issubclass(InputTooLarge, ConsultantError)


def test_binary_input_is_a_clear_error():
    with pytest.raises(BinaryInput, match="binary"):
        review("CREATE TABLE t (id int);\x00\x01\x02")


def test_nothing_crashes_on_garbage():
    for text in ("", ";;;", "hello world", "CREATE TABLE", "ALTER TABLE x ADD", "'unterminated", "$$ oops",
                 "CREATE TABLE t (a int", "/* never closed", "DROP INDEX;", "\\c db\n\\set x 1"):
        for dialect in (None, "mysql", "sqlite"):
            review(text, dialect=dialect).to_dict()


def test_unparseable_statements_report_line_and_message_and_the_rest_is_reviewed():
    text = "CREATE TABLE a (id bigint PRIMARY KEY);\n\nCREATE TABLE b (id bigint PRIMARY KEY,, x int);\n" \
           "CREATE TABLE c (price float);\n"
    report = review(text)
    assert report.errors == [(3, 'syntax error at or near ","')]
    assert {f.rule for f in report.findings} == {"float-money", "no-primary-key"}
    mysql = review("CREATE TABLE a (id BIGINT PRIMARY KEY) ENGINE=InnoDB;\nCREATE TABLE ((;\n"
                   "CREATE TABLE c (price DOUBLE) ENGINE=InnoDB;\n", dialect="mysql")
    assert [line for line, _ in mysql.errors] == [2]
    assert "float-money" in {f.rule for f in mysql.findings}


def test_pg_dump_noise_and_psql_meta_commands_are_skipped():
    text = "\\connect app\nSET search_path = public;\nSELECT pg_catalog.set_config('search_path', '', false);\n" \
           "COMMENT ON TABLE x IS 'y';\nGRANT SELECT ON x TO r;\nALTER TABLE x OWNER TO bob;\n"
    report = review(text)
    assert report.errors == [] and report.findings == []


def test_config_disables_rules_and_overrides_severity():
    cfg = ReviewConfig(disable=["missing-lock-timeout"], severity={"add-column-not-null-no-default": "warning"})
    report = review(MIGRATION, config=cfg)
    assert "missing-lock-timeout" not in {f.rule for f in report.findings}
    assert report.summary["error"] == 0
    with pytest.raises(ConfigError, match="unknown review rule"):
        ReviewConfig(disable=["no-such-rule"])
    with pytest.raises(ConfigError, match="invalid severity"):
        ReviewConfig(severity={"drop-table": "fatal"})


def test_load_config_from_consultant_toml_and_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.consultant.review]\ndisable = ["wide-table"]\n'
                                             '[tool.consultant.review.severity]\n"drop-table" = "error"\n')
    sub = tmp_path / "db" / "migrations"
    sub.mkdir(parents=True)
    cfg = load_config(str(sub))
    assert cfg.disable == {"wide-table"} and cfg.severity == {"drop-table": "error"}
    (tmp_path / "db" / ".consultant.toml").write_text('[review]\ndisable = ["drop-table"]\n')
    cfg = load_config(str(sub / "001.sql"))
    assert cfg.disable == {"drop-table"} and cfg.path.endswith(".consultant.toml")
    (tmp_path / "db" / ".consultant.toml").write_text('disable = "oops"\n')
    with pytest.raises(ConfigError):
        load_config(str(sub))


def test_why_texts_have_two_to_four_sentences_in_every_dialect_and_version():
    for rule in RULES:
        for dialect in ("postgres", "mysql", "sqlite"):
            for version in (9, 10, 11, 12, 16):
                text = why(rule, dialect, version).replace("...", "\u2026")
                n = len(re.split(r"(?<=[.!?])\s+(?=[A-Z])", text))
                assert 2 <= n <= 4, (rule, dialect, version, n)
        assert RULES[rule][1] in NOTE_IDS


def test_version_specific_why():
    assert "Since PostgreSQL 12" in why("set-not-null", "postgres", 16)
    assert "Before PostgreSQL 12" in why("set-not-null", "postgres", 11)
    assert "Before PostgreSQL 11" in why("add-column-volatile-default", "postgres", 10)


# --- markdown --------------------------------------------------------------------------------


def test_summary_markdown_has_counts_and_top_findings_with_fix_sql():
    report = review(MIGRATION)
    md = summary_markdown(report, top=2)
    assert "1 error, 2 warnings, 1 info" in md
    assert md.count("```sql") == 2
    assert "add-column-not-null-no-default" in md
    assert "2 more findings" in md
    assert "No issues found" in summary_markdown(review("CREATE TABLE t (id bigint PRIMARY KEY);"))


def test_report_markdown_groups_by_table_with_why_and_fix():
    md = report_markdown(review(MIGRATION + "CREATE TABLE logs (msg text);\n"))
    assert "### `orders`" in md and "### `logs`" in md
    assert md.count("*Why:*") == len(review(MIGRATION + "CREATE TABLE logs (msg text);\n").findings)
    assert "```sql" in md


# --- the chat analyzer -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "CREATE TABLE users (id int primary key);",
    "Can you check this?\n\nALTER TABLE users ADD COLUMN age int;",
    "```sql\ncreate unique index users_email on users (email);\n```",
    "drop table legacy;",
    "  CREATE TABLE IF NOT EXISTS public.\"Users\" (\n  id int\n);",
    "RENAME TABLE a TO b;",
])
def test_detect_recognises_ddl_at_a_statement_start(text):
    assert SchemaReviewAnalyzer().detect(text)


@pytest.mark.parametrize("text", [
    "How should I create table partitions for a time series?",
    "I want to alter table users to add a column, what is the safest way?",
    "We drop table scans by adding an index. Is CREATE INDEX slow?",
    "",
    "SELECT * FROM users WHERE id = 1;",
])
def test_detect_ignores_prose_and_queries(text):
    assert not SchemaReviewAnalyzer().detect(text)


def test_analyze_reviews_only_the_fenced_sql_and_keeps_message_line_numbers():
    text = ("Hi! Here is our migration, does it look OK?\n\n"
            "```sql\n"
            "ALTER TABLE orders ADD COLUMN status text NOT NULL;\n"
            "```\n\n"
            "Thanks a lot, we deploy on Friday.\n")
    analysis = SchemaReviewAnalyzer().analyze(text)
    assert isinstance(analysis, Analysis)
    assert analysis.analyzer == "schema-review" and analysis.problem_type == "design"
    rules = [f["rule"] for f in analysis.findings]
    assert rules == ["add-column-not-null-no-default", "missing-lock-timeout"]
    assert analysis.findings[0]["line"] == 4
    assert analysis.notes == ["backfills", "postgres-locking-migrations"]
    assert "Schema review" in analysis.summary and "```sql" in analysis.summary
    assert "### `orders`" in analysis.report


def test_analyze_takes_the_dialect_from_options_or_the_fence():
    mig = "ALTER TABLE t RENAME COLUMN a TO b;"
    assert SchemaReviewAnalyzer().analyze(f"```mysql\n{mig}\n```").findings[0]["rule"] == "rename-column"
    a = SchemaReviewAnalyzer().analyze(mig, {"dialect": "mysql"})
    assert [f["rule"] for f in a.findings] == ["rename-column"]
    a = SchemaReviewAnalyzer().analyze("ALTER TABLE t ADD COLUMN c int DEFAULT 0;", {"pg_version": "10"})
    assert "add-column-volatile-default" in [f["rule"] for f in a.findings]


def test_analyze_without_fences_drops_the_prose_around_the_sql():
    text = "Please review:\nCREATE TABLE t (id bigint PRIMARY KEY, price float);\nWhat do you think?"
    sql, hint = extract_sql(text)
    assert sql.splitlines()[1].startswith("CREATE TABLE") and "What do you think" not in sql and hint is None
    analysis = SchemaReviewAnalyzer().analyze(text)
    assert [f["rule"] for f in analysis.findings] == ["float-money"]
    assert analysis.findings[0]["line"] == 2


def test_analyze_reports_bad_input_instead_of_crashing():
    a = SchemaReviewAnalyzer().analyze("CREATE TABLE t (id int);\x00")
    assert a.findings == [] and "could not review" in a.summary
    a = SchemaReviewAnalyzer().analyze("CREATE TABLE t (id int);", {"dialect": "oracle"})
    assert "unknown dialect" in a.summary
    a = SchemaReviewAnalyzer().analyze("CREATE TABLE t (id int);", {"pg_version": "sixteen"})
    assert "pg_version" in a.summary


def test_notes_are_distinct_and_most_severe_first():
    text = "CREATE TABLE a (id int PRIMARY KEY, price float, at timestamp);\nALTER TABLE b ADD COLUMN c int NOT NULL;"
    a = SchemaReviewAnalyzer().analyze(text)
    assert a.notes[0] in ("data-types", "backfills")  # the two errors come first
    assert len(a.notes) == len(set(a.notes))
    assert set(a.notes) <= NOTE_IDS


def test_registry_routes_ddl_to_the_analyzer():
    registry = AnalyzerRegistry([SchemaReviewAnalyzer()])
    assert registry.route("CREATE TABLE t (id int);").name == "schema-review"
    assert registry.route("how do I design a table?") is None


# --- the PostgreSQL parser binding ----------------------------------------------------------


def test_native_binding_matches_pglast_and_leaves_pglast_importable(tmp_path):
    """pg_native calls libpg_query from pglast's library without importing pglast; same JSON, same errors."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    code = r'''
import sys
from bot.review import pg_native
from bot.review.pg_native import PgParseError
texts = [open(p).read() for p in sys.argv[1:]] + ["CREATE TABLE é (ü text);", "SELECT 'naïve';"]
native = [pg_native.parse_json(t) for t in texts]
assert "pglast" not in sys.modules, "the native path must not import the pglast package"
try:
    pg_native.parse_json("CREATE TABLE t (a int,, b int);")
except PgParseError as exc:
    native_err = (exc.message, exc.offset)
from pglast.parser import parse_sql_json
assert native == [parse_sql_json(t) for t in texts]
slow = pg_native._pglast_parser()
try:
    slow("CREATE TABLE t (a int,, b int);")
except PgParseError as exc:
    assert (exc.message, exc.offset) == native_err, ((exc.message, exc.offset), native_err)
print("ok", native_err)
'''
    fixtures = sorted(str(p) for p in (repo / "tests" / "review" / "fixtures").glob("pg_*.sql")
                      if "parse_errors" not in p.name and "dump_style" not in p.name)
    out = subprocess.run([sys.executable, "-c", code, *fixtures], capture_output=True, cwd=str(repo),
                         env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().startswith("ok")
