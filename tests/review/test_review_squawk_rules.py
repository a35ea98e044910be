"""Issue 11: the squawk-parity rules and --assume-in-transaction, beyond the fixture expectations."""

from __future__ import annotations

import json

from bot.review import review
from review_fixtures import FIXTURES
from test_review_cli import consultant

ASSUME = (FIXTURES / "pg_assume_tx.sql").read_text()


def rules(report) -> set[tuple[str, int]]:
    return {(f.rule, f.line) for f in report.findings}


def test_assume_in_transaction_is_what_makes_concurrently_fail():
    plain = review(ASSUME)
    assert not {r for r, _ in rules(plain)} & {"concurrently-in-transaction", "validate-in-same-transaction",
                                                "transaction-nesting"}
    assumed = review(ASSUME, assume_in_transaction=True)
    assert {("concurrently-in-transaction", 4), ("validate-in-same-transaction", 6),
            ("transaction-nesting", 7)} <= rules(assumed)
    assert assumed.to_dict()["assume_in_transaction"] is True and plain.to_dict()["assume_in_transaction"] is False


def test_assume_in_transaction_from_the_flag_and_from_the_config(tmp_path):
    migration = tmp_path / "0001.sql"
    migration.write_text(ASSUME)
    off = json.loads(consultant("--format", "json", str(migration)).stdout)
    on = json.loads(consultant("--format", "json", "--assume-in-transaction", str(migration)).stdout)
    assert off["assume_in_transaction"] is False and on["assume_in_transaction"] is True
    assert "concurrently-in-transaction" in {f["rule"] for f in on["findings"]}
    (tmp_path / ".consultant.toml").write_text("assume_in_transaction = true\n")
    configured = json.loads(consultant("--format", "json", str(migration)).stdout)
    assert configured["assume_in_transaction"] is True
    assert "concurrently-in-transaction" in {f["rule"] for f in configured["findings"]}
    (tmp_path / ".consultant.toml").write_text('assume_in_transaction = "yes"\n')
    bad = consultant(str(migration))
    assert bad.returncode == 1 and b"assume_in_transaction" in bad.stderr


def test_pyproject_section_also_sets_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.consultant.review]\nassume_in_transaction = true\n")
    migration = tmp_path / "m.sql"
    migration.write_text(ASSUME)
    assert json.loads(consultant("--format", "json", str(migration)).stdout)["assume_in_transaction"] is True


def test_unknown_functions_in_defaults_are_volatile_and_the_finding_says_why():
    report = review("SET lock_timeout = '5s';\nALTER TABLE a ADD COLUMN b uuid DEFAULT uuid_generate_v7();\n"
                    "ALTER TABLE a ADD COLUMN c timestamptz DEFAULT now();")
    [f] = report.findings
    assert f.rule == "add-column-volatile-default" and f.line == 2
    assert "uuid_generate_v7()" in f.message and "VOLATILE unless declared otherwise" in f.message
    assert "does not know counts as volatile" in f.why


def test_lock_table_names_the_mode_and_what_it_blocks():
    report = review("SET lock_timeout = '5s';\nBEGIN;\nLOCK TABLE orders IN SHARE MODE;\nCOMMIT;\nLOCK orders;")
    messages = [f.message for f in report.findings if f.rule == "lock-table"]
    assert messages[0] == "LOCK TABLE orders IN SHARE MODE blocks every INSERT, UPDATE and DELETE until the " \
                          "transaction ends."
    assert "ACCESS EXCLUSIVE MODE blocks every statement on the table" in messages[1]
    assert "outside a transaction block" in messages[1]


def test_reindex_and_lock_table_count_for_missing_lock_timeout():
    assert ("missing-lock-timeout", 1) in rules(review("REINDEX TABLE orders;"))
    assert ("missing-lock-timeout", 2) in rules(review("BEGIN;\nLOCK TABLE orders;\nCOMMIT;"))
    assert "missing-lock-timeout" not in {r for r, _ in rules(review("SET lock_timeout='1s';\nREINDEX TABLE orders;"))}


def test_reindex_concurrently_before_pg12_gets_the_manual_recipe():
    [f] = [f for f in review("-- consultant: pg-version=11\nSET lock_timeout='1s';\nREINDEX INDEX orders_idx;").findings]
    assert f.rule == "reindex-non-concurrently" and "has no REINDEX CONCURRENTLY" in f.fix


def test_new_rules_are_postgres_only_where_the_syntax_is():
    mysql = review("CREATE TABLE t (id BIGINT PRIMARY KEY) ENGINE=InnoDB;\nALTER TABLE t ADD COLUMN "
                   + "x" * 70 + " INT;", dialect="mysql")
    assert "identifier-too-long" not in {f.rule for f in mysql.findings}


def test_sarif_carries_metadata_for_the_new_rules():
    p = consultant("--format", "sarif", str(FIXTURES / "pg_transactions.sql"))
    rules = {r["id"]: r for r in json.loads(p.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {"transaction-nesting", "uncommitted-transaction"}
    for rule in rules.values():
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"].count(".") >= 2
        assert rule["defaultConfiguration"]["level"] == "warning"
        assert rule["properties"]["tags"] == ["schema-review", "postgres-locking-migrations"]


def test_a_long_name_is_reported_where_it_is_defined_not_where_it_is_used():
    long = "x" * 70
    report = review(f"CREATE TABLE t (id bigint PRIMARY KEY, {long} int);\nSET lock_timeout = '1s';\n"
                    f"CREATE INDEX t_i ON t ({long});\nCREATE INDEX {long} ON t (id);")
    assert [(f.line, f.object) for f in report.findings if f.rule == "identifier-too-long"] == [(1, long), (4, long)]
