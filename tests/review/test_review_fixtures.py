"""Every fixture yields exactly its expected findings; clean fixtures yield no warning or error."""

from __future__ import annotations

import re

import pytest

from bot.review.catalog import NOTE_IDS, RULES
from bot.review.report import FINDING_FIELDS

from review_fixtures import FIXTURES, as_expected, fixture_names, load_expected, run_fixture

NAMES = fixture_names()


def test_there_are_enough_fixtures_across_the_dialects():
    assert len(NAMES) >= 30
    for prefix in ("pg_", "mysql_", "sqlite_"):
        assert sum(n.startswith(prefix) for n in NAMES) >= 5, prefix
    assert sum("clean" in n for n in NAMES) >= 6


@pytest.mark.parametrize("name", NAMES)
def test_fixture_findings_are_exactly_the_expected_ones(name):
    report = run_fixture(name)
    assert as_expected(report) == load_expected(name)


@pytest.mark.parametrize("name", [n for n in NAMES if "clean" in n])
def test_clean_fixtures_have_no_warning_or_error(name):
    report = run_fixture(name)
    assert report.summary["error"] == 0 and report.summary["warning"] == 0, [f.rule for f in report.findings]
    assert report.errors == []


def test_every_rule_id_has_fixture_coverage():
    covered = {f[0] for name in NAMES for f in load_expected(name)["findings"]}
    assert set(RULES) == covered, sorted(set(RULES) - covered)
    assert len(RULES) == 43


@pytest.mark.parametrize("name", NAMES)
def test_findings_are_well_formed(name):
    for f in run_fixture(name).findings:
        d = f.to_dict()
        assert tuple(d) == FINDING_FIELDS
        assert d["severity"] in ("error", "warning", "info")
        assert d["note"] in NOTE_IDS
        assert d["line"] >= 1
        assert "\n" not in d["message"] and d["message"].strip()
        assert d["fix"].strip()
        why = d["why"].strip().replace("...", "\u2026")  # "ADD COLUMN ... NOT NULL" is not a sentence end
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", why) if s]
        assert 2 <= len(sentences) <= 4, (d["rule"], len(sentences), d["why"])


# --- the context rules, spelled out -----------------------------------------------------------


def _rules(name):
    return {(f[0], f[1]) for f in load_expected(name)["findings"]}


def test_a_table_created_in_the_same_input_carries_no_locking_risk():
    assert load_expected("pg_new_table_same_input")["findings"] == []


def test_innodb_foreign_keys_are_never_fk_missing_index():
    for name in NAMES:
        if name.startswith("mysql_"):
            assert all(f[0] != "fk-missing-index" for f in load_expected(name)["findings"]), name


def test_validated_check_before_set_not_null_on_pg12_plus():
    # Line 5 (after the validated check) is not flagged; line 10 (NOT VALID only) is.
    assert {r for r in _rules("pg_set_not_null_check") if r[0] == "set-not-null"} == {("set-not-null", 10)}
    # pg-version=11: the check does not help before PostgreSQL 12.
    assert ("set-not-null", 5) in _rules("pg_version_11")


def test_concurrently_inside_begin_commit():
    assert {r for r in _rules("pg_concurrently_tx") if r[0] != "missing-statement-timeout"} == {
        ("concurrently-in-transaction", 3), ("concurrently-in-transaction", 4), ("concurrently-in-transaction", 9)}


def test_pg_version_directive_changes_the_rules():
    assert ("add-column-volatile-default", 3) in _rules("pg_version_10")  # a constant default rewrites before 11
    assert ("add-column-volatile-default", 6) not in _rules("pg_version_11")
    assert all(r != "serial-primary-key" for r, _ in _rules("pg_version_9"))


def test_schema_findings_are_not_reported_only_the_migrations():
    found = load_expected("pg_migration_with_schema")["findings"]
    assert all(f[2] != "legacy" for f in found)  # legacy has no primary key, but it is in --schema
    assert not any(f[0] == "timestamp-without-time-zone" for f in found)
    # Safe type changes (varchar(20)->varchar(40), varchar->text, numeric precision up) are not flagged.
    assert [f for f in found if f[0] == "change-column-type"] == [["change-column-type", 5, "orders", "total"]]


def test_inline_suppression():
    found = _rules("pg_suppress_inline")
    assert ("create-index-non-concurrently", 2) not in found  # comment on the line before
    assert ("create-index-non-concurrently", 3) not in found  # comment on the same line
    assert ("create-index-non-concurrently", 5) in found
    assert ("float-money", 6) in found  # `cost`; `price` is ignored on its own line
    assert [f for f in load_expected("pg_suppress_inline")["findings"] if f[0] == "float-money"] == [
        ["float-money", 6, "readings", "cost"]]


def test_parse_errors_are_reported_and_the_rest_reviewed():
    report = run_fixture("pg_parse_errors")
    assert [line for line, _ in report.errors] == [6, 17]
    assert "syntax error" in report.errors[0][1]
    assert [f.rule for f in report.findings] == ["float-money"]


def test_fixture_files_are_where_the_tests_say():
    assert (FIXTURES / "pg_migration_with_schema.schema.sql").exists()
